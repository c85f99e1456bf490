//! Property tests: no single-character change to signed initData validates as
//! different data, and field order does not matter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use initdata::{Environment, InitData, Validator, sign};
use proptest::prelude::*;
use proptest::sample::Index;

const TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
const NOW: u64 = 1_750_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// Realistic fields with arbitrary text: the user JSON is built with `\/` escapes
/// as Telegram sends it; the other values are arbitrary Unicode.
fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        text(24),
        text(24),
        1u64..(1 << 52),
        text(16),
        0u64..600,
        prop::option::of(text(16)),
    )
        .prop_map(|(first_name, query_id, id, start_param, age, chat_type)| {
            let name = serde_json::to_string(&first_name).unwrap_or_default();
            let user = format!(
                r#"{{"id":{id},"first_name":{name},"photo_url":"https:\/\/t.me\/i\/userpic\/320\/a.svg"}}"#
            );
            let mut fields = vec![
                ("query_id".to_owned(), query_id),
                ("user".to_owned(), user),
                ("auth_date".to_owned(), (NOW - age).to_string()),
                ("start_param".to_owned(), start_param),
            ];
            if let Some(chat_type) = chat_type {
                fields.push(("chat_type".to_owned(), chat_type));
            }
            fields
        })
}

fn signed(fields: &[(String, String)]) -> String {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sign(TOKEN, &pairs)
}

/// Replaces the `index`-th character of `s` with `with`; `None` if that is no change.
fn replace_char(s: &str, index: &Index, with: char) -> Option<String> {
    let count = s.chars().count();
    if count == 0 {
        return None;
    }
    let i = index.index(count);
    let mut out = String::with_capacity(s.len() + 4);
    let mut changed = false;
    for (j, c) in s.chars().enumerate() {
        if j == i && c != with {
            out.push(with);
            changed = true;
        } else {
            out.push(c);
        }
    }
    changed.then_some(out)
}

fn split_hash(raw: &str) -> (&str, &str) {
    raw.rsplit_once("&hash=").unwrap_or((raw, ""))
}

/// Form-decoded `key=value` pairs of `raw`, to recognise harmless re-encodings
/// (`%7B` vs `%7b`, `%20` vs `+`).
fn decoded(raw: &str) -> Option<Vec<(String, String)>> {
    fn dec(s: &str) -> Option<String> {
        let mut out = Vec::new();
        let mut it = s.bytes();
        while let Some(b) = it.next() {
            match b {
                b'+' => out.push(b' '),
                b'%' => {
                    let h = [it.next()?, it.next()?];
                    out.push(u8::from_str_radix(std::str::from_utf8(&h).ok()?, 16).ok()?);
                }
                b => out.push(b),
            }
        }
        String::from_utf8(out).ok()
    }
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (k, v) = s.split_once('=')?;
            Some((dec(k)?, dec(v)?))
        })
        .collect::<Option<_>>()?;
    pairs.sort();
    Some(pairs)
}

/// A mutated string may validate only if it decodes to exactly the original pairs.
fn assert_rejected_or_same(v: &Validator, original: &str, mutated: &str, now: SystemTime) {
    if let Ok(data) = v.validate(mutated, now) {
        assert_eq!(
            decoded(mutated),
            decoded(original),
            "a changed initData validated: {mutated}"
        );
        assert_eq!(Ok(data), v.validate(original, now));
    }
}

// Published Ed25519 vectors, signed by Telegram's production key for bot 7342037359.
// Telegram-Mini-Apps/init-data-golang, README.md: carries a hash from the token below too.
const BOT_TOKEN_BOTH: &str = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4";
const BOTH: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73";
const BOTH_AUTH_DATE: u64 = 1_733_509_682;

fn ed25519_only() -> Validator {
    Validator::ed25519(7_342_037_359, Environment::Production)
}

fn both() -> Validator {
    Validator::both(BOT_TOKEN_BOTH, Environment::Production).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_data_roundtrips(fields in fields()) {
        let raw = signed(&fields);
        let data = Validator::hmac(TOKEN).validate(&raw, at(NOW));
        prop_assert!(data.is_ok(), "{raw}: {data:?}");
    }

    /// Change one character of one decoded value (keys and values are re-encoded),
    /// keep the original hash: never valid.
    #[test]
    fn changed_value_is_rejected(fields in fields(), field in any::<Index>(), pos in any::<Index>(), with in any::<char>()) {
        let original = signed(&fields);
        let (_, hash) = split_hash(&original);
        let mut changed = fields.clone();
        let f = field.index(changed.len());
        let Some(value) = replace_char(&changed[f].1, &pos, with) else { return Ok(()) };
        changed[f].1 = value;
        let resigned = signed(&changed);
        let (body, _) = split_hash(&resigned);
        let raw = format!("{body}&hash={hash}");
        prop_assert!(Validator::hmac(TOKEN).validate(&raw, at(NOW)).is_err(), "{raw}");
    }

    /// Change one character anywhere in the raw query string (values, keys,
    /// separators, the hash): rejected unless it is only a different spelling of the same bytes.
    #[test]
    fn changed_raw_character_is_rejected(fields in fields(), pos in any::<Index>(), with in any::<char>()) {
        let raw = signed(&fields);
        if let Some(mutated) = replace_char(&raw, &pos, with) {
            assert_rejected_or_same(&Validator::hmac(TOKEN), &raw, &mutated, at(NOW));
        }
    }

    /// Change one character of the hash: always rejected (hex must be lowercase).
    #[test]
    fn changed_hash_is_rejected(fields in fields(), pos in any::<Index>(), with in any::<char>()) {
        let raw = signed(&fields);
        let (body, hash) = split_hash(&raw);
        if let Some(hash) = replace_char(hash, &pos, with) {
            let mutated = format!("{body}&hash={hash}");
            prop_assert!(Validator::hmac(TOKEN).validate(&mutated, at(NOW)).is_err(), "{mutated}");
        }
    }

    #[test]
    fn field_order_does_not_matter(fields in fields(), order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle()) {
        let raw = signed(&fields);
        let segments: Vec<&str> = raw.split('&').collect();
        let mut shuffled: Vec<&str> = order.iter().filter(|&&i| i < segments.len()).map(|&i| segments[i]).collect();
        shuffled.extend(segments.iter().skip(order.len()));
        let shuffled = shuffled.join("&");
        let v = Validator::hmac(TOKEN);
        prop_assert_eq!(v.validate(&shuffled, at(NOW)), v.validate(&raw, at(NOW)));
        prop_assert!(v.validate(&shuffled, at(NOW)).is_ok());
    }

    /// Published Ed25519 + HMAC data: one changed character anywhere (including the
    /// signature and the hash) never validates as different data under `both`.
    #[test]
    fn published_data_changed_character_is_rejected(pos in any::<Index>(), with in any::<char>()) {
        let now = at(BOTH_AUTH_DATE);
        if let Some(mutated) = replace_char(BOTH, &pos, with) {
            assert_rejected_or_same(&both(), BOTH, &mutated, now);
            // The Ed25519 check alone does not cover the `hash` value (the end of BOTH);
            // it covers everything else.
            let hash_value_start = BOTH.len() - 64;
            if pos.index(BOTH.len()) < hash_value_start {
                assert_rejected_or_same(&ed25519_only(), BOTH, &mutated, now);
            }
        }
    }

    /// Change one character of the signature: always rejected by the Ed25519 check.
    #[test]
    fn changed_signature_is_rejected(pos in any::<Index>(), with in any::<char>()) {
        let (body, hash) = split_hash(BOTH);
        let (data, signature) = body.rsplit_once("&signature=").unwrap_or((body, ""));
        if let Some(signature) = replace_char(signature, &pos, with) {
            let mutated = format!("{data}&signature={signature}&hash={hash}");
            prop_assert!(ed25519_only().validate(&mutated, at(BOTH_AUTH_DATE)).is_err(), "{mutated}");
        }
    }

    #[test]
    fn published_data_field_order_does_not_matter(order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle()) {
        let segments: Vec<&str> = BOTH.split('&').collect();
        let shuffled: Vec<&str> = order.iter().map(|&i| segments[i]).collect();
        let shuffled = shuffled.join("&");
        let now = at(BOTH_AUTH_DATE);
        let expected: InitData = both().validate(BOTH, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(both().validate(&shuffled, now), Ok(expected));
    }
}

//! One test per rejection reason, on freshly signed data.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use initdata::{Environment, Error, Validator, sign};

const TOKEN: &str = "123456789:AAE-test_token_for_initdata";
const NOW: u64 = 1_750_000_000;
const USER: &str = r#"{"id":279058397,"first_name":"Vladislav","photo_url":"https:\/\/t.me\/i\/userpic\/320\/x.svg"}"#;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn signed(extra: &[(&str, &str)]) -> String {
    let auth_date = NOW.to_string();
    let mut pairs = vec![
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", USER),
        ("auth_date", auth_date.as_str()),
    ];
    pairs.extend_from_slice(extra);
    sign(TOKEN, &pairs)
}

fn validator() -> Validator {
    Validator::hmac(TOKEN)
}

fn hash_of(raw: &str) -> &str {
    raw.rsplit_once("hash=").unwrap().1
}

fn is_malformed(r: Result<initdata::InitData, Error>) -> bool {
    matches!(r, Err(Error::Malformed(_)))
}

// Ed25519 data signed by Telegram's production key, from Telegram-Mini-Apps/init-data-golang,
// validate_third_party_test.go.
const ED_BOT_ID: u64 = 7_342_037_359;
const ED_AUTH_DATE: u64 = 1_733_584_787;
const ED_SIGNATURE: &str =
    "zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ";
const ED_DATA: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787";

fn ed_raw(signature: &str) -> String {
    format!("{ED_DATA}&signature={signature}")
}

fn ed_validator() -> Validator {
    Validator::ed25519(ED_BOT_ID, Environment::Production)
}

#[test]
fn baseline_is_valid() {
    let data = validator().validate(&signed(&[]), at(NOW)).unwrap();
    let user = data.user.unwrap();
    assert_eq!(user.id, 279_058_397);
    assert_eq!(
        user.photo_url.as_deref(),
        Some("https://t.me/i/userpic/320/x.svg")
    );
    assert!(
        ed_validator()
            .validate(&ed_raw(ED_SIGNATURE), at(ED_AUTH_DATE))
            .is_ok()
    );
}

#[test]
fn missing_hash() {
    let raw = signed(&[]);
    let without = raw.rsplit_once("&hash=").unwrap().0;
    assert_eq!(
        validator().validate(without, at(NOW)),
        Err(Error::Missing("hash"))
    );
    assert_eq!(
        validator().validate("", at(NOW)),
        Err(Error::Missing("hash"))
    );
}

#[test]
fn missing_signature() {
    assert_eq!(
        ed_validator().validate(ED_DATA, at(ED_AUTH_DATE)),
        Err(Error::Missing("signature"))
    );
    // `both` needs a signature even when the hash is right.
    let both = Validator::both(TOKEN, Environment::Production).unwrap();
    assert_eq!(
        both.validate(&signed(&[]), at(NOW)),
        Err(Error::Missing("signature"))
    );
}

#[test]
fn missing_auth_date() {
    let raw = sign(TOKEN, &[("user", USER), ("query_id", "q")]);
    assert_eq!(
        validator().validate(&raw, at(NOW)),
        Err(Error::Missing("auth_date"))
    );
}

#[test]
fn invalid_auth_date() {
    for bad in [
        "",
        "abc",
        "-1",
        "+1750000000",
        " 1750000000",
        "1750000000.5",
        "1e9",
        "18446744073709551616",
    ] {
        let raw = sign(TOKEN, &[("auth_date", bad), ("user", USER)]);
        let result = validator().validate(&raw, at(NOW));
        assert!(is_malformed(result.clone()), "{bad:?}: {result:?}");
    }
}

#[test]
fn duplicate_key() {
    let raw = signed(&[]);
    for dup in [
        "&user=%7B%7D",
        "&auth_date=1",
        "&hash=00",
        "&query_id=AAHdF6IQAAAAAN0XohDhrOrc",
    ] {
        let with_dup = format!("{raw}{dup}");
        let key = dup[1..].split('=').next().unwrap();
        assert_eq!(
            validator().validate(&with_dup, at(NOW)),
            Err(Error::DuplicateKey(key.to_owned()))
        );
    }
    // Duplicate `signature` in third-party mode.
    let raw = format!("{}&signature={ED_SIGNATURE}", ed_raw(ED_SIGNATURE));
    assert_eq!(
        ed_validator().validate(&raw, at(ED_AUTH_DATE)),
        Err(Error::DuplicateKey("signature".into()))
    );
}

#[test]
fn bad_hex_hash() {
    let raw = signed(&[]);
    let hash = hash_of(&raw);
    let base = &raw[..raw.len() - hash.len()];
    let cases = [
        format!("{}g", &hash[..63]),
        hash.to_uppercase(),
        hash[..62].to_owned(),
        format!("{hash}0"),
        "zz".repeat(32),
        String::new(),
    ];
    for bad in cases {
        let result = validator().validate(&format!("{base}{bad}"), at(NOW));
        assert!(is_malformed(result.clone()), "{bad}: {result:?}");
    }
}

#[test]
fn non_ascii_hash() {
    let raw = signed(&[]);
    let hash = hash_of(&raw);
    let base = &raw[..raw.len() - hash.len()];
    // Two-byte characters keeping the byte length at 64, and a 64-character one.
    for bad in [
        format!("{}%C3%A9", &hash[..62]),
        "%C3%A9".repeat(32),
        "%C3%A9".repeat(64),
    ] {
        let result = validator().validate(&format!("{base}{bad}"), at(NOW));
        assert!(is_malformed(result.clone()), "{bad}: {result:?}");
    }
}

#[test]
fn wrong_token() {
    let raw = signed(&[]);
    for token in [
        "123456789:AAE-test_token_for_initdatA",
        "",
        "987654321:AAE-test_token_for_initdata",
    ] {
        assert_eq!(
            Validator::hmac(token).validate(&raw, at(NOW)),
            Err(Error::BadSignature)
        );
    }
}

#[test]
fn tampered_field() {
    let raw = signed(&[]);
    let cases = [
        raw.replace("279058397", "279058398"),
        raw.replace("query_id=AAH", "query_id=AAG"),
        raw.replace(
            &format!("auth_date={NOW}"),
            &format!("auth_date={}", NOW + 1),
        ),
        // Added and removed fields.
        format!("start_param=x&{raw}"),
        raw.replacen("query_id=AAHdF6IQAAAAAN0XohDhrOrc&", "", 1),
        // Renamed key, same value.
        raw.replace("query_id=", "query_ie="),
    ];
    for tampered in cases {
        assert_ne!(tampered, raw);
        assert_eq!(
            validator().validate(&tampered, at(NOW)),
            Err(Error::BadSignature),
            "{tampered}"
        );
    }
    // Third-party data: change the chat_type.
    let tampered = ed_raw(ED_SIGNATURE).replace("chat_type=private", "chat_type=group");
    assert_eq!(
        ed_validator().validate(&tampered, at(ED_AUTH_DATE)),
        Err(Error::BadSignature)
    );
}

#[test]
fn user_json_is_hashed_as_received_not_reserialized() {
    // Signing the escaped form and sending the unescaped one (what re-serialising would
    // produce) must not validate.
    let raw = signed(&[]);
    let reserialized = raw.replace("%5C%2F", "%2F");
    assert_ne!(raw, reserialized);
    assert_eq!(
        validator().validate(&reserialized, at(NOW)),
        Err(Error::BadSignature)
    );
}

#[test]
fn expired() {
    let raw = signed(&[]);
    let day = 86_400;
    assert!(validator().validate(&raw, at(NOW + day)).is_ok());
    assert_eq!(
        validator().validate(&raw, at(NOW + day + 1)),
        Err(Error::Expired)
    );
    let short = validator().max_age(Duration::from_secs(60));
    assert!(short.validate(&raw, at(NOW + 60)).is_ok());
    assert_eq!(short.validate(&raw, at(NOW + 61)), Err(Error::Expired));
    assert_eq!(Error::Expired.code(), "auth_expired");
}

#[test]
fn from_future() {
    let raw = signed(&[]);
    assert!(validator().validate(&raw, at(NOW - 30)).is_ok());
    assert_eq!(
        validator().validate(&raw, at(NOW - 31)),
        Err(Error::FromFuture)
    );
    let strict = validator().max_skew(Duration::ZERO);
    assert!(strict.validate(&raw, at(NOW)).is_ok());
    assert_eq!(strict.validate(&raw, at(NOW - 1)), Err(Error::FromFuture));
    // Extreme values do not overflow.
    let far = sign(TOKEN, &[("auth_date", "18446744073709551615")]);
    assert_eq!(validator().validate(&far, at(NOW)), Err(Error::FromFuture));
    assert_eq!(
        validator().validate(&raw, UNIX_EPOCH - Duration::from_secs(5)),
        Err(Error::FromFuture)
    );
    assert_eq!(Error::FromFuture.code(), "auth_expired");
}

#[test]
fn bad_signature_base64() {
    let mut bad_char = ED_SIGNATURE.to_owned();
    bad_char.replace_range(10..11, "*");
    let standard_alphabet = ED_SIGNATURE.replace('-', "%2B").replace('_', "/");
    // The last character changed so that the 4 unused bits are no longer zero.
    let mut sloppy_tail = ED_SIGNATURE.to_owned();
    sloppy_tail.replace_range(85..86, "R");
    for bad in [
        bad_char,
        standard_alphabet,
        format!("{}=", &ED_SIGNATURE[..85]),
        sloppy_tail,
    ] {
        let result = ed_validator().validate(&ed_raw(&bad), at(ED_AUTH_DATE));
        assert!(
            matches!(&result, Err(Error::Malformed(m)) if m.contains("base64url")),
            "{bad}: {result:?}"
        );
    }
}

#[test]
fn wrong_length_signature() {
    // Canonical base64url of 32, 63, 65 and 66 bytes, a truncated signature, an empty one,
    // and a very long one (refused before decoding).
    let cases = [
        "A".repeat(43),
        format!("{}A", "A".repeat(83)),
        format!("{}AA", "A".repeat(85)),
        "A".repeat(88),
        ED_SIGNATURE[..84].to_owned(),
        String::new(),
        "A".repeat(10_000),
    ];
    for bad in cases {
        let result = ed_validator().validate(&ed_raw(&bad), at(ED_AUTH_DATE));
        assert!(
            matches!(&result, Err(Error::Malformed(m)) if m.contains("64 bytes")),
            "{bad}: {result:?}"
        );
    }
}

#[test]
fn wrong_signature() {
    // Well-formed but not Telegram's signature of this data.
    let mut flipped = ED_SIGNATURE.to_owned();
    flipped.replace_range(0..1, "a");
    for bad in [flipped, "A".repeat(86)] {
        assert_eq!(
            ed_validator().validate(&ed_raw(&bad), at(ED_AUTH_DATE)),
            Err(Error::BadSignature)
        );
    }
}

#[test]
fn broken_form_encoding() {
    let raw = signed(&[]);
    for bad in [
        format!("{raw}&novalue"),
        format!("=x&{raw}"),
        raw.replacen("%7B", "%7", 1),
        raw.replacen("%7B", "%zz", 1),
        raw.replacen("%7B", "%FF", 1),
        format!("{raw}&k%=1"),
    ] {
        let result = validator().validate(&bad, at(NOW));
        assert!(is_malformed(result.clone()), "{bad}: {result:?}");
    }
}

#[test]
fn invalid_typed_fields_after_a_good_signature() {
    let auth_date = NOW.to_string();
    for (key, value) in [
        ("user", "not json"),
        ("user", r#"{"first_name":"no id"}"#),
        ("receiver", r#"{"id":"1"}"#),
        ("chat", "[]"),
        ("can_send_after", "soon"),
    ] {
        let raw = sign(TOKEN, &[("auth_date", &auth_date), (key, value)]);
        let result = validator().validate(&raw, at(NOW));
        assert!(is_malformed(result.clone()), "{key}={value}: {result:?}");
    }
}

#[test]
fn both_needs_a_numeric_bot_id() {
    for token in ["", "no-colon", "abc:def", ":x"] {
        assert!(matches!(
            Validator::both(token, Environment::Production),
            Err(Error::Malformed(_))
        ));
    }
}

#[test]
fn error_codes_and_messages_do_not_leak_secrets() {
    let raw = signed(&[]);
    let hash = hash_of(&raw).to_owned();
    let mut errors = vec![
        Validator::hmac("x:y").validate(&raw, at(NOW)).unwrap_err(),
        validator()
            .validate(&format!("{raw}&hash=1"), at(NOW))
            .unwrap_err(),
        validator()
            .validate(&raw.replace(&hash, &hash.to_uppercase()), at(NOW))
            .unwrap_err(),
        Validator::both(TOKEN, Environment::Test)
            .unwrap()
            .validate(&raw, at(NOW))
            .unwrap_err(),
        ed_validator()
            .validate(&ed_raw(&ED_SIGNATURE[..80]), at(ED_AUTH_DATE))
            .unwrap_err(),
        ed_validator()
            .validate(&ed_raw(&"A".repeat(86)), at(ED_AUTH_DATE))
            .unwrap_err(),
    ];
    errors.push(Validator::both("no-id-SECRET", Environment::Test).unwrap_err());
    for e in &errors {
        let text = format!("{e} {e:?}");
        for secret in [
            TOKEN,
            "test_token",
            &hash,
            &hash.to_uppercase(),
            ED_SIGNATURE,
            &ED_SIGNATURE[..80],
            "SECRET",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    assert_eq!(Error::Missing("hash").code(), "auth_malformed");
    assert_eq!(Error::Malformed(String::new()).code(), "auth_malformed");
    assert_eq!(Error::DuplicateKey(String::new()).code(), "auth_malformed");
    assert_eq!(Error::BadSignature.code(), "auth_bad_signature");
}

//! Test vectors published by other Telegram Mini Apps libraries. Each vector's
//! `now` is set shortly after its `auth_date`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use initdata::{Environment, Error, Validator};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

// --- HMAC ---------------------------------------------------------------------

// Telegram-Mini-Apps/init-data-golang, validate_test.go (`validateTestInitData`, `validateTestToken`).
const GOLANG_TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
const GOLANG_HMAC: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";

#[test]
fn hmac_init_data_golang() {
    let v = Validator::hmac(GOLANG_TOKEN);
    let data = v.validate(GOLANG_HMAC, at(1_662_771_648 + 10)).unwrap();
    assert_eq!(data.auth_date, 1_662_771_648);
    assert_eq!(data.query_id.as_deref(), Some("AAHdF6IQAAAAAN0XohDhrOrc"));
    let user = data.user.unwrap();
    assert_eq!(user.id, 279_058_397);
    assert_eq!(user.first_name, "Vladislav");
    assert_eq!(user.last_name.as_deref(), Some("Kibenko"));
    assert_eq!(user.username.as_deref(), Some("vdkfrost"));
    assert_eq!(user.language_code.as_deref(), Some("ru"));
    assert!(user.is_premium);

    // Same file: appending to the hash, and a day-plus later, are refused.
    let appended = format!("{GOLANG_HMAC}abc");
    assert!(matches!(
        v.validate(&appended, at(1_662_771_648)),
        Err(Error::Malformed(_))
    ));
    assert_eq!(
        v.validate(GOLANG_HMAC, at(1_662_771_648 + 86_401)),
        Err(Error::Expired)
    );
}

// aiogram/aiogram, tests/test_utils/test_web_app.py (`test_check_webapp_signature`).
const AIOGRAM_HMAC: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803";
// Same file: `+` for spaces and `\ud83c`-style escapes inside the user JSON, hashed as received.
const AIOGRAM_HMAC_PLUS: &str = "auth_date=1650385342&user=%7B%22id%22%3A+%22123456789%22%2C+%22first_name%22%3A+%22PlaceholderFirstName%22%2C+%22last_name%22%3A+%22PlaceholderLastName+%5Cud83c%5Cuddfa%5Cud83c%5Cudde6%22%2C+%22username%22%3A+%22Latand%22%2C+%22language_code%22%3A+%22en%22%2C+%22is_premium%22%3A+%22true%22%2C+%22allows_write_to_pm%22%3A+%22true%22%7D&query_id=test&hash=b3c8b293f14ad0f7f0abcf769aea1209a72295d30a87eb0e74df855d32e53bfe";

#[test]
fn hmac_aiogram() {
    let now = at(1_650_385_342 + 5);
    let data = Validator::hmac("42:TEST")
        .validate(AIOGRAM_HMAC, now)
        .unwrap();
    let user = data.user.unwrap();
    assert_eq!((user.id, user.first_name.as_str()), (42, "Test"));
    assert_eq!(data.query_id.as_deref(), Some("test"));

    assert_eq!(
        Validator::hmac("42:INVALID").validate(AIOGRAM_HMAC, now),
        Err(Error::BadSignature)
    );
}

#[test]
fn hmac_aiogram_plus_encoding_is_hashed_as_received() {
    // The hash matches (so the error is not BadSignature): `+` decoded to a space and the
    // JSON escapes kept verbatim. The vector's user has `"id": "123456789"` (a string),
    // which the typed view refuses, as Telegram always sends a number.
    let err = Validator::hmac("42:TEST")
        .validate(AIOGRAM_HMAC_PLUS, at(1_650_385_342))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Malformed(m) if m.starts_with("`user`")),
        "{err:?}"
    );
}

#[test]
fn hmac_aiogram_rejections() {
    let v = Validator::hmac("42:TEST");
    let now = at(1_650_385_342);
    // Non-ASCII hash (aiogram issue #1903) is a clean error.
    let non_ascii = "user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=%C3%A9%C3%A9%C3%A9";
    assert!(matches!(
        v.validate(&format!("auth_date=1650385342&{non_ascii}"), now),
        Err(Error::Malformed(_))
    ));
    assert_eq!(
        v.validate(
            "user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test",
            now
        ),
        Err(Error::Missing("hash"))
    );
    assert_eq!(v.validate("", now), Err(Error::Missing("hash")));
    assert!(matches!(
        v.validate("test&foo=bar=baz", now),
        Err(Error::Malformed(_))
    ));
}

// Telegram-Mini-Apps/telegram-apps, packages/init-data-node/src/entries/node.test.ts
// (`sp`, `secretToken`): every optional field, auth_date = 1.
const TMA_FULL: &str = "auth_date=1&can_send_after=10000&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22title%22%3A%22chat-title%22%2C%22photo_url%22%3A%22group%22%2C%22username%22%3A%22my-chat%22%7D&chat_instance=888&chat_type=sender&hash=47cfa22e72b887cba90c9cb833c5ea0f599975b6ce7193741844b5c4a4228b40&query_id=QUERY&receiver=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C%22first_name%22%3A%22receiver-first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C%22is_premium%22%3Atrue%2C%22language_code%22%3A%22ru%22%2C%22last_name%22%3A%22receiver-last-name%22%2C%22photo_url%22%3A%22receiver-photo%22%2C%22username%22%3A%22receiver-username%22%7D&start_param=debug&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse%2C%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A%22user-last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A%22user-username%22%7D";

const TMA_CHAT: &str =
    r#"{"id":1,"type":"group","title":"chat-title","photo_url":"group","username":"my-chat"}"#;
const TMA_RECEIVER: &str = r#"{"added_to_attachment_menu":false,"allows_write_to_pm":true,"first_name":"receiver-first-name","id":991,"is_bot":false,"is_premium":true,"language_code":"ru","last_name":"receiver-last-name","photo_url":"receiver-photo","username":"receiver-username"}"#;
const TMA_USER: &str = r#"{"added_to_attachment_menu":false,"allows_write_to_pm":false,"first_name":"user-first-name","id":222,"is_bot":true,"is_premium":false,"language_code":"en","last_name":"user-last-name","photo_url":"user-photo","username":"user-username"}"#;

#[test]
fn hmac_tma_js_all_fields() {
    let v = Validator::hmac(GOLANG_TOKEN);
    let data = v.validate(TMA_FULL, at(60)).unwrap();
    assert_eq!(data.auth_date, 1);
    assert_eq!(data.can_send_after, Some(10_000));
    assert_eq!(data.chat_instance.as_deref(), Some("888"));
    assert_eq!(data.chat_type.as_deref(), Some("sender"));
    assert_eq!(data.query_id.as_deref(), Some("QUERY"));
    assert_eq!(data.start_param.as_deref(), Some("debug"));

    let chat = data.chat.unwrap();
    assert_eq!(
        (chat.id, chat.kind.as_str(), chat.title.as_str()),
        (1, "group", "chat-title")
    );
    assert_eq!(chat.username.as_deref(), Some("my-chat"));

    let receiver = data.receiver.unwrap();
    assert_eq!(receiver.id, 991);
    assert!(receiver.allows_write_to_pm && receiver.is_premium && !receiver.is_bot);
    assert_eq!(receiver.photo_url.as_deref(), Some("receiver-photo"));

    let user = data.user.unwrap();
    assert_eq!(user.id, 222);
    assert!(user.is_bot && !user.is_premium && !user.added_to_attachment_menu);
    assert_eq!(user.language_code.as_deref(), Some("en"));

    // Same file: a different token does not validate; without a custom age it is expired.
    let other = Validator::hmac(&format!("{GOLANG_TOKEN}A"));
    assert_eq!(other.validate(TMA_FULL, at(60)), Err(Error::BadSignature));
    assert_eq!(v.validate(TMA_FULL, at(2 * 86_400)), Err(Error::Expired));
}

#[test]
fn sign_matches_tma_js() {
    // Same file, `describe('sign')`: the expected output is TMA_FULL with `hash` moved last.
    let expected = "auth_date=1&can_send_after=10000&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22title%22%3A%22chat-title%22%2C%22photo_url%22%3A%22group%22%2C%22username%22%3A%22my-chat%22%7D&chat_instance=888&chat_type=sender&query_id=QUERY&receiver=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C%22first_name%22%3A%22receiver-first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C%22is_premium%22%3Atrue%2C%22language_code%22%3A%22ru%22%2C%22last_name%22%3A%22receiver-last-name%22%2C%22photo_url%22%3A%22receiver-photo%22%2C%22username%22%3A%22receiver-username%22%7D&start_param=debug&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse%2C%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A%22user-last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A%22user-username%22%7D&hash=47cfa22e72b887cba90c9cb833c5ea0f599975b6ce7193741844b5c4a4228b40";
    let signed = initdata::sign(
        GOLANG_TOKEN,
        &[
            ("auth_date", "1"),
            ("can_send_after", "10000"),
            ("chat", TMA_CHAT),
            ("chat_instance", "888"),
            ("chat_type", "sender"),
            ("query_id", "QUERY"),
            ("receiver", TMA_RECEIVER),
            ("start_param", "debug"),
            ("user", TMA_USER),
        ],
    );
    assert_eq!(signed, expected);
}

// --- Ed25519 (production key) -------------------------------------------------

// Telegram-Mini-Apps/init-data-golang, validate_third_party_test.go
// (`_validateThirdPartyTestInitData`, `_validateThirdPartyBotID`); the same data is in
// Telegram-Mini-Apps/telegram-apps, packages/init-data-node/src/entries/shared.test.ts (`sp`).
// The photo_url has `\/` escapes, so re-serialising the JSON would break it.
const THIRD_PARTY_BOT_ID: u64 = 7_342_037_359;
const THIRD_PARTY: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ";
const THIRD_PARTY_AUTH_DATE: u64 = 1_733_584_787;

#[test]
fn ed25519_init_data_golang_production_key() {
    let v = Validator::ed25519(THIRD_PARTY_BOT_ID, Environment::Production);
    let data = v
        .validate(THIRD_PARTY, at(THIRD_PARTY_AUTH_DATE + 30))
        .unwrap();
    assert_eq!(data.chat_type.as_deref(), Some("private"));
    assert_eq!(data.chat_instance.as_deref(), Some("8134722200314281151"));
    let user = data.user.unwrap();
    // JSON `\/` is `/` once parsed; the signature was over the escaped form.
    assert_eq!(user.first_name, "Vladislav + - ? /");
    assert!(user.allows_write_to_pm);
    assert_eq!(
        user.photo_url.as_deref(),
        Some("https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg")
    );

    // Same files: another bot id, the test-environment key, an appended character.
    let now = at(THIRD_PARTY_AUTH_DATE);
    assert_eq!(
        Validator::ed25519(THIRD_PARTY_BOT_ID + 1, Environment::Production)
            .validate(THIRD_PARTY, now),
        Err(Error::BadSignature)
    );
    assert_eq!(
        Validator::ed25519(THIRD_PARTY_BOT_ID, Environment::Test).validate(THIRD_PARTY, now),
        Err(Error::BadSignature)
    );
    assert!(v.validate(&format!("{THIRD_PARTY}a"), now).is_err());
    assert_eq!(
        v.validate(THIRD_PARTY, at(THIRD_PARTY_AUTH_DATE + 86_401)),
        Err(Error::Expired)
    );
}

// Telegram-Mini-Apps/init-data-golang, README.md (also apps/docs/packages/init-data-golang.md
// in Telegram-Mini-Apps/telegram-apps): data carrying both `hash` and `signature`, and its token.
const README_TOKEN: &str = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4";
const README_BOTH: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73";
const README_AUTH_DATE: u64 = 1_733_509_682;

#[test]
fn both_checks_on_data_with_hash_and_signature() {
    let now = at(README_AUTH_DATE + 1);
    let both = Validator::both(README_TOKEN, Environment::Production).unwrap();
    let data = both.validate(README_BOTH, now).unwrap();
    assert_eq!(data.user.unwrap().id, 279_058_397);
    // Each check alone passes too; the HMAC one covers `signature`.
    assert!(
        Validator::hmac(README_TOKEN)
            .validate(README_BOTH, now)
            .is_ok()
    );
    assert!(
        Validator::ed25519(THIRD_PARTY_BOT_ID, Environment::Production)
            .validate(README_BOTH, now)
            .is_ok()
    );
    // Test-environment key: the Ed25519 half fails.
    assert_eq!(
        Validator::both(README_TOKEN, Environment::Test)
            .unwrap()
            .validate(README_BOTH, now),
        Err(Error::BadSignature)
    );
}

#[test]
fn hmac_covers_the_signature_field() {
    // Swapping in another (valid-looking) signature keeps the Ed25519-free HMAC check failing.
    let swapped = README_BOTH.replace(
        "TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg",
        "zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ",
    );
    assert_eq!(
        Validator::hmac(README_TOKEN).validate(&swapped, at(README_AUTH_DATE)),
        Err(Error::BadSignature)
    );
}

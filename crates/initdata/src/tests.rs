//! Unit tests that need crate internals (custom Ed25519 keys, the derived secret).

use super::*;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn built_in_public_keys_are_valid_points() {
    for env in [Environment::Production, Environment::Test] {
        let check = Ed25519Check::new(1, env, env.public_key_bytes());
        assert!(check.key.is_some(), "{env:?}");
        assert_eq!(hex(&env.public_key_bytes()), env.public_key_hex());
    }
}

// Secret derivation, from Telegram-Mini-Apps/telegram-apps,
// packages/init-data-node/src/entries/node.test.ts (`secretTokenHashed`).
#[test]
fn secret_key_vector_tma_js() {
    assert_eq!(
        hex(&secret_key(
            "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
        )),
        "a5c609aa52f63cb5e6d8ceb6e4138726ea82bbc36bb786d64482d445ea38ee5f"
    );
}

// HMAC over a data-check-string, from Telegram-Mini-Apps/telegram-apps,
// packages/init-data-node/src/entries/node.test.ts (`signData('abc', 'my-secret-token')`).
#[test]
fn sign_data_vector_tma_js() {
    let mut mac = keyed_hmac(&secret_key("my-secret-token"));
    mac.update(b"abc");
    assert_eq!(
        hex(&mac.finalize().into_bytes()),
        "6ecc2e9b51f30dde6877ce374ede54eb626c84e78a5d9a9dcac54d2d248f6bde"
    );
}

// Ed25519 with a published key pair of its own, from aiogram/aiogram,
// tests/test_utils/test_web_app_signature.py (PUBLIC_KEY, bot id 42).
const AIOGRAM_PUBLIC_KEY: &str = "4112765021341e5415e772cd65903f6b94e3ea1c2ab669e6d3e18ee2db00da61";
const AIOGRAM_VALID: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&signature=JQ0JR2tjC65yq_jNZV0wuJVX6J-SWPMV0mprUXG34g-NvxL4RcF1Rz5n4VVo00VRghEUBf5t___uoeb1-jU_Cw";
const AIOGRAM_INVALID: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&signature=JQ0JR2tjC65yq_jNZV0wuJVX6J-SWPMV0mprUXG34g-NvxL4RcF1Rz5n4VVo00VRghEUBf5t___uoeb1-j1U_w";
const AIOGRAM_WITH_HASH: &str = "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=123&signature=JQ0JR2tjC65yq_jNZV0wuJVX6J-SWPMV0mprUXG34g-NvxL4RcF1Rz5n4VVo00VRghEUBf5t___uoeb1-jU_Cw";

fn aiogram_validator(bot_id: u64) -> Validator {
    Validator::new(
        None,
        Some(Ed25519Check::new(
            bot_id,
            Environment::Test,
            hex32(AIOGRAM_PUBLIC_KEY),
        )),
    )
}

#[test]
fn ed25519_vector_aiogram_custom_key() {
    let now = at(1_650_385_342 + 60);
    let data = aiogram_validator(42).validate(AIOGRAM_VALID, now).unwrap();
    assert_eq!(data.auth_date, 1_650_385_342);
    assert_eq!(data.query_id.as_deref(), Some("test"));
    let user = data.user.unwrap();
    assert_eq!((user.id, user.first_name.as_str()), (42, "Test"));

    // `hash` is not part of the Ed25519 message, so its value does not matter here.
    assert!(
        aiogram_validator(42)
            .validate(AIOGRAM_WITH_HASH, now)
            .is_ok()
    );

    assert_eq!(
        aiogram_validator(42).validate(AIOGRAM_INVALID, now),
        Err(Error::BadSignature)
    );
    assert_eq!(
        aiogram_validator(43).validate(AIOGRAM_VALID, now),
        Err(Error::BadSignature)
    );
    // The same data under Telegram's real keys is not valid.
    assert_eq!(
        Validator::ed25519(42, Environment::Production).validate(AIOGRAM_VALID, now),
        Err(Error::BadSignature)
    );
}

#[test]
fn padded_signature_is_accepted() {
    let padded = AIOGRAM_VALID.replace("jU_Cw", "jU_Cw%3D%3D");
    let now = at(1_650_385_342);
    assert!(aiogram_validator(42).validate(&padded, now).is_ok());
}

#[test]
fn ed25519_roundtrip_with_generated_key() {
    use ed25519_dalek::{Signer, SigningKey};
    let signing = SigningKey::from_bytes(&[7u8; 32]);
    let v = Validator::new(
        None,
        Some(Ed25519Check::new(
            777,
            Environment::Test,
            signing.verifying_key().to_bytes(),
        )),
    );
    let message =
        "777:WebAppData\nauth_date=1000\nchat_type=sender\nuser={\"id\":5,\"first_name\":\"A B\"}";
    let sig = BASE64URL.encode(signing.sign(message.as_bytes()).to_bytes());
    let raw = format!(
        "user=%7B%22id%22%3A5%2C%22first_name%22%3A%22A+B%22%7D&chat_type=sender&hash=ignored&auth_date=1000&signature={sig}"
    );
    let data = v.validate(&raw, at(1000)).unwrap();
    assert_eq!(data.user.unwrap().first_name, "A B");
    assert_eq!(data.chat_type.as_deref(), Some("sender"));
}

#[test]
fn bot_id_from_token_parsing() {
    assert_eq!(bot_id_from_token("7342037359:AAHI25"), Some(7_342_037_359));
    assert_eq!(bot_id_from_token("42:TEST"), Some(42));
    for bad in [
        "",
        "abc",
        ":x",
        "12a:x",
        "-1:x",
        "+1:x",
        "99999999999999999999:x",
    ] {
        assert_eq!(bot_id_from_token(bad), None, "{bad}");
    }
}

#[test]
fn debug_never_shows_the_token_or_secret() {
    let token = "123456:SUPER-SECRET-TOKEN";
    let v = Validator::both(token, Environment::Production).unwrap();
    let debug = format!("{v:?}");
    assert!(!debug.contains("SUPER-SECRET"), "{debug}");
    assert!(!debug.contains(&hex(&secret_key(token))), "{debug}");
    assert!(
        debug.contains("<redacted>") && debug.contains("123456"),
        "{debug}"
    );
}

#[test]
fn hash_format_is_strict() {
    let ok = "0123456789abcdef".repeat(4);
    assert!(decode_hash(&ok).is_ok());
    for bad in [
        ok.to_uppercase(),
        ok[..62].to_owned(),
        format!("{ok}00"),
        format!("{}zz", &ok[..62]),
        format!("{}é", &ok[..62]),
        String::new(),
    ] {
        assert!(
            matches!(decode_hash(&bad), Err(Error::Malformed(_))),
            "{bad}"
        );
    }
}

#[test]
fn signature_with_nonzero_trailing_bits_is_refused() {
    // 64 zero bytes encode as 85 'A's and a final 'A'; a final 'B' differs only in the 4 unused bits.
    let canonical = "A".repeat(86);
    assert_eq!(decode_signature(&canonical), Ok([0u8; 64]));
    let sloppy = format!("{}B", "A".repeat(85));
    assert!(decode_signature(&sloppy).is_err());
}

//! Validation of Telegram Mini Apps `initData`.
//!
//! Implements both checks from Telegram's "Validating data received via the Mini
//! App" and "Validating data for Third-Party Use" (core.telegram.org/bots/webapps):
//!
//! * **HMAC-SHA256** with the bot token: `secret = HMAC_SHA256(key = "WebAppData",
//!   msg = bot_token)`, `hash = hex(HMAC_SHA256(key = secret, msg = data_check_string))`
//!   where the data-check-string is every received field except `hash` (so
//!   `signature` is included), as `key=value`, sorted by key, joined by `\n`.
//! * **Ed25519** with Telegram's public key and only the bot id: the `signature`
//!   field (base64url) signs `"<bot_id>:WebAppData\n"` followed by every field
//!   except `hash` and `signature`, sorted and joined the same way.
//!
//! Values are hashed exactly as received after form decoding (the `user` JSON is
//! never re-serialised), duplicate keys are refused, and `auth_date` must be
//! neither older than [`Validator::max_age`] nor further in the future than
//! [`Validator::max_skew`].
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! let token = "123456:TEST-TOKEN";
//! let now = SystemTime::now();
//! let auth_date = now.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs().to_string();
//! let raw = initdata::sign(token, &[("auth_date", &auth_date), ("user", r#"{"id":42,"first_name":"Ann"}"#)]);
//!
//! let validator = initdata::Validator::hmac(token).max_age(Duration::from_secs(3600));
//! let data = validator.validate(&raw, now).unwrap();
//! assert_eq!(data.user.unwrap().id, 42);
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

mod query;

use query::Pair;

type HmacSha256 = Hmac<Sha256>;

/// Telegram's Ed25519 public key for production-environment initData (hex).
pub const PRODUCTION_PUBLIC_KEY: &str =
    "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d";

/// Telegram's Ed25519 public key for test-environment initData (hex).
pub const TEST_PUBLIC_KEY: &str =
    "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec";

const PRODUCTION_PUBLIC_KEY_BYTES: [u8; 32] = hex32(PRODUCTION_PUBLIC_KEY);
const TEST_PUBLIC_KEY_BYTES: [u8; 32] = hex32(TEST_PUBLIC_KEY);

/// Default for [`Validator::max_age`]: 24 hours.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Default for [`Validator::max_skew`]: 30 seconds.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(30);

/// Base64url, padding optional, non-zero trailing bits refused (so every
/// signature has exactly one accepted unpadded spelling).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Which Telegram environment signed the data (selects the Ed25519 public key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// Production Telegram: [`PRODUCTION_PUBLIC_KEY`].
    Production,
    /// Telegram's test environment: [`TEST_PUBLIC_KEY`].
    Test,
}

impl Environment {
    /// The environment's Ed25519 public key, hex encoded.
    pub fn public_key_hex(self) -> &'static str {
        match self {
            Environment::Production => PRODUCTION_PUBLIC_KEY,
            Environment::Test => TEST_PUBLIC_KEY,
        }
    }

    fn public_key_bytes(self) -> [u8; 32] {
        match self {
            Environment::Production => PRODUCTION_PUBLIC_KEY_BYTES,
            Environment::Test => TEST_PUBLIC_KEY_BYTES,
        }
    }
}

/// Why initData was refused. Messages never contain the hash, the signature or
/// the bot token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A required field is absent (`"hash"`, `"signature"` or `"auth_date"`).
    #[error("init data has no `{0}` field")]
    Missing(&'static str),
    /// The data is not well-formed (encoding, field syntax, JSON, hash or signature format).
    #[error("init data is malformed: {0}")]
    Malformed(String),
    /// The same key occurs twice.
    #[error("init data has the key `{0}` more than once")]
    DuplicateKey(String),
    /// The hash or the signature does not match the data.
    #[error("init data signature does not match")]
    BadSignature,
    /// `auth_date` is older than the allowed age.
    #[error("init data has expired")]
    Expired,
    /// `auth_date` is further in the future than the allowed clock skew.
    #[error("init data is dated in the future")]
    FromFuture,
}

impl Error {
    /// A stable machine-readable code: `"auth_malformed"`, `"auth_bad_signature"` or `"auth_expired"`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Missing(_) | Error::Malformed(_) | Error::DuplicateKey(_) => "auth_malformed",
            Error::BadSignature => "auth_bad_signature",
            Error::Expired | Error::FromFuture => "auth_expired",
        }
    }
}

/// A user or bot, as in Telegram's `WebAppUser`. Unknown JSON fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAppUser {
    /// User or bot id (at most 52 significant bits).
    pub id: i64,
    /// First name (documented as always present; empty if Telegram ever omits it).
    #[serde(default)]
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// IETF language tag of the user's language (`user` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(default)]
    pub is_premium: bool,
    /// URL of the profile photo (.jpeg or .svg).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    #[serde(default)]
    pub allows_write_to_pm: bool,
    /// True for bots (`receiver` only).
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub added_to_attachment_menu: bool,
}

/// A chat, as in Telegram's `WebAppChat`. Unknown JSON fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAppChat {
    /// Chat id (negative for groups and channels).
    pub id: i64,
    /// `"group"`, `"supergroup"` or `"channel"` (the JSON field `type`).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
}

/// Typed view of validated initData. Unknown top-level fields are covered by the
/// signature but not surfaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitData {
    /// Unix time (seconds) when the Mini App was opened.
    pub auth_date: u64,
    pub user: Option<WebAppUser>,
    pub receiver: Option<WebAppUser>,
    pub chat: Option<WebAppChat>,
    pub query_id: Option<String>,
    pub chat_type: Option<String>,
    pub chat_instance: Option<String>,
    pub start_param: Option<String>,
    pub can_send_after: Option<u64>,
}

#[derive(Clone)]
struct Ed25519Check {
    bot_id: u64,
    env: Environment,
    /// `None` only if the built-in key failed to decompress, which a unit test
    /// rules out; validation then fails closed.
    key: Option<VerifyingKey>,
}

/// Validates initData. Build it once from configuration and share or clone it
/// (cloning copies a precomputed HMAC state and a public key; no allocation).
///
/// `Debug` shows the mode, bot id and limits, never the bot token or the secret.
#[derive(Clone)]
pub struct Validator {
    /// HMAC-SHA256 keyed with the derived secret, ready to be cloned per check.
    hmac: Option<HmacSha256>,
    ed25519: Option<Ed25519Check>,
    max_age: Duration,
    max_skew: Duration,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("hmac", &self.hmac.as_ref().map(|_| "<redacted>"))
            .field("ed25519", &self.ed25519.as_ref().map(|e| (e.bot_id, e.env)))
            .field("max_age", &self.max_age)
            .field("max_skew", &self.max_skew)
            .finish()
    }
}

impl Validator {
    /// Checks the `hash` field with HMAC-SHA256 keyed by the bot token (the
    /// first-party check). The token is used here to derive the secret and not kept.
    pub fn hmac(bot_token: &str) -> Self {
        Self::new(Some(keyed_hmac(&secret_key(bot_token))), None)
    }

    /// Checks the `signature` field with Telegram's Ed25519 key for `env` (the
    /// third-party check; no token needed).
    pub fn ed25519(bot_id: u64, env: Environment) -> Self {
        Self::new(
            None,
            Some(Ed25519Check::new(bot_id, env, env.public_key_bytes())),
        )
    }

    /// Requires both checks to pass; the bot id is the numeric part of the token
    /// before `:`. Fails with [`Error::Malformed`] if the token has no such part.
    pub fn both(bot_token: &str, env: Environment) -> Result<Self, Error> {
        let bot_id = bot_id_from_token(bot_token).ok_or_else(|| {
            Error::Malformed("bot token does not start with a numeric bot id".into())
        })?;
        Ok(Self::new(
            Some(keyed_hmac(&secret_key(bot_token))),
            Some(Ed25519Check::new(bot_id, env, env.public_key_bytes())),
        ))
    }

    /// Oldest accepted `auth_date`, relative to `now` (default 24 h).
    #[must_use]
    pub fn max_age(mut self, d: Duration) -> Self {
        self.max_age = d;
        self
    }

    /// How far `auth_date` may be ahead of `now`, for clock skew (default 30 s).
    #[must_use]
    pub fn max_skew(mut self, d: Duration) -> Self {
        self.max_skew = d;
        self
    }

    /// Validates raw initData (the `Telegram.WebApp.initData` query string) as of `now`.
    ///
    /// Checks, in order: form syntax and duplicate keys; presence of `hash` /
    /// `signature` (as configured) and `auth_date`; the formats of the hash (64
    /// lowercase hex digits), the signature (base64url of 64 bytes) and
    /// `auth_date` (decimal seconds); the signatures; freshness; the typed fields.
    pub fn validate(&self, raw: &str, now: SystemTime) -> Result<InitData, Error> {
        let pairs = query::parse_sorted(raw)?;
        let get = |key: &str| pairs.iter().find(|p| p.0 == key).map(|p| p.1.as_ref());

        let hash = match self.hmac {
            Some(_) => Some(get("hash").ok_or(Error::Missing("hash"))?),
            None => None,
        };
        let signature = match self.ed25519 {
            Some(_) => Some(get("signature").ok_or(Error::Missing("signature"))?),
            None => None,
        };
        let auth_date = get("auth_date").ok_or(Error::Missing("auth_date"))?;
        let auth_date = parse_u64(auth_date)
            .ok_or_else(|| Error::Malformed("`auth_date` is not a unix timestamp".into()))?;

        let hash = hash.map(decode_hash).transpose()?;
        let signature = signature.map(decode_signature).transpose()?;

        if let (Some(mac), Some(hash)) = (&self.hmac, hash) {
            let mut mac = mac.clone();
            feed_check_string(&pairs, |chunk| mac.update(chunk), &["hash"]);
            mac.verify_slice(&hash).map_err(|_| Error::BadSignature)?;
        }
        if let (Some(ed), Some(signature)) = (&self.ed25519, signature) {
            ed.verify(&pairs, &signature)?;
        }

        self.check_freshness(auth_date, now)?;
        typed(&pairs, auth_date)
    }

    fn new(hmac: Option<HmacSha256>, ed25519: Option<Ed25519Check>) -> Self {
        Validator {
            hmac,
            ed25519,
            max_age: DEFAULT_MAX_AGE,
            max_skew: DEFAULT_MAX_SKEW,
        }
    }

    fn check_freshness(&self, auth_date: u64, now: SystemTime) -> Result<(), Error> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if auth_date > now {
            if Duration::from_secs(auth_date - now) > self.max_skew {
                return Err(Error::FromFuture);
            }
        } else if Duration::from_secs(now - auth_date) > self.max_age {
            return Err(Error::Expired);
        }
        Ok(())
    }
}

impl Ed25519Check {
    fn new(bot_id: u64, env: Environment, key: [u8; 32]) -> Self {
        Ed25519Check {
            bot_id,
            env,
            key: VerifyingKey::from_bytes(&key).ok(),
        }
    }

    fn verify(&self, pairs: &[Pair<'_>], signature: &[u8; 64]) -> Result<(), Error> {
        let key = self.key.as_ref().ok_or(Error::BadSignature)?;
        let mut message = Vec::with_capacity(512);
        message.extend_from_slice(self.bot_id.to_string().as_bytes());
        message.extend_from_slice(b":WebAppData\n");
        feed_check_string(
            pairs,
            |chunk| message.extend_from_slice(chunk),
            &["hash", "signature"],
        );
        key.verify_strict(&message, &Signature::from_bytes(signature))
            .map_err(|_| Error::BadSignature)
    }
}

/// Builds a query string with a correct `hash` for `pairs` under `bot_token`:
/// keys and values are percent-encoded in the given order and `hash=` is
/// appended. A `hash` pair in the input is ignored. For development sign-in and
/// tests; keys must be unique for the result to validate.
pub fn sign(bot_token: &str, pairs: &[(&str, &str)]) -> String {
    let pairs: Vec<&(&str, &str)> = pairs.iter().filter(|(k, _)| *k != "hash").collect();
    let mut sorted = pairs.clone();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let mut mac = keyed_hmac(&secret_key(bot_token));
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            mac.update(b"\n");
        }
        mac.update(k.as_bytes());
        mac.update(b"=");
        mac.update(v.as_bytes());
    }
    let hash = mac.finalize().into_bytes();

    let mut out = String::with_capacity(128);
    for (k, v) in pairs {
        query::encode_into(&mut out, k);
        out.push('=');
        query::encode_into(&mut out, v);
        out.push('&');
    }
    out.push_str("hash=");
    for b in hash {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 0x0f)]));
    }
    out
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// `HMAC_SHA256(key = "WebAppData", msg = bot_token)`.
fn secret_key(bot_token: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new(&block_key(b"WebAppData").into());
    mac.update(bot_token.as_bytes());
    mac.finalize().into_bytes().into()
}

fn keyed_hmac(secret: &[u8; 32]) -> HmacSha256 {
    HmacSha256::new(&block_key(secret).into())
}

/// An HMAC key shorter than the block is zero-padded to 64 bytes by definition,
/// so this is the same key as the short one, with an infallible constructor.
fn block_key(key: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    block
}

/// Feeds the sorted `key=value` pairs, minus `skip`, joined by `\n`.
fn feed_check_string(pairs: &[Pair<'_>], mut sink: impl FnMut(&[u8]), skip: &[&str]) {
    let mut first = true;
    for (k, v) in pairs.iter().filter(|(k, _)| !skip.contains(&k.as_ref())) {
        if !first {
            sink(b"\n");
        }
        first = false;
        sink(k.as_bytes());
        sink(b"=");
        sink(v.as_bytes());
    }
}

/// Exactly 64 lowercase hex digits (Telegram's form; accepting other spellings
/// would let a changed hash string still validate).
fn decode_hash(hash: &str) -> Result<[u8; 32], Error> {
    let malformed = || Error::Malformed("`hash` is not 64 lowercase hex digits".into());
    let bytes = hash.as_bytes();
    if bytes.len() != 64 {
        return Err(malformed());
    }
    let mut out = [0u8; 32];
    for (dst, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = lower_hex_value(pair[0]).ok_or_else(malformed)?;
        let lo = lower_hex_value(pair[1]).ok_or_else(malformed)?;
        *dst = hi << 4 | lo;
    }
    Ok(out)
}

fn lower_hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Base64url (unpadded as Telegram sends it, or padded) of exactly 64 bytes.
fn decode_signature(signature: &str) -> Result<[u8; 64], Error> {
    let wrong_length = || Error::Malformed("`signature` is not 64 bytes".into());
    // 64 bytes are 86 characters unpadded, 88 padded; refuse long input before decoding.
    if signature.len() > 88 {
        return Err(wrong_length());
    }
    let bytes = BASE64URL
        .decode(signature)
        .map_err(|_| Error::Malformed("`signature` is not base64url".into()))?;
    bytes.try_into().map_err(|_| wrong_length())
}

/// Decimal digits only (no sign, no spaces), fitting in a u64.
fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn bot_id_from_token(token: &str) -> Option<u64> {
    token.split_once(':').and_then(|(id, _)| parse_u64(id))
}

fn typed(pairs: &[Pair<'_>], auth_date: u64) -> Result<InitData, Error> {
    let mut data = InitData {
        auth_date,
        user: None,
        receiver: None,
        chat: None,
        query_id: None,
        chat_type: None,
        chat_instance: None,
        start_param: None,
        can_send_after: None,
    };
    for (k, v) in pairs {
        match k.as_ref() {
            "user" => data.user = Some(json("user", v)?),
            "receiver" => data.receiver = Some(json("receiver", v)?),
            "chat" => data.chat = Some(json("chat", v)?),
            "query_id" => data.query_id = Some(v.to_string()),
            "chat_type" => data.chat_type = Some(v.to_string()),
            "chat_instance" => data.chat_instance = Some(v.to_string()),
            "start_param" => data.start_param = Some(v.to_string()),
            "can_send_after" => {
                data.can_send_after = Some(parse_u64(v).ok_or_else(|| {
                    Error::Malformed("`can_send_after` is not a number of seconds".into())
                })?)
            }
            _ => {}
        }
    }
    Ok(data)
}

fn json<T: serde::de::DeserializeOwned>(field: &str, value: &str) -> Result<T, Error> {
    serde_json::from_str(value).map_err(|e| Error::Malformed(format!("`{field}`: {e}")))
}

/// Compile-time hex decoding of the built-in public keys.
const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(b: u8) -> u8 {
        match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => panic!("not lowercase hex"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64, "not 32 bytes of hex");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests;

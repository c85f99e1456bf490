//! Who is calling: Telegram initData (HMAC with the bot token and/or Telegram's Ed25519
//! signature), short-lived session tokens, and the shop customer linked to the Telegram user.
//!
//! Never log initData, its hash or signature, or a token: they are credentials.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use initdata::{InitData, Validator};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::config::{Config, InitDataCheck};
use crate::error::ApiError;
use crate::store::{Store, StoreError};

pub mod customer;
pub mod http;
pub mod keys;

pub use customer::{Customer, CustomerId, CustomerProfile};

pub use crate::config::DEMO_BOT_TOKEN;

const TOKEN_ISSUER: &str = "vitrina";

/// Why a request is not authenticated. Each maps to a 401 with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.detail())]
pub enum AuthFailure {
    Missing,
    Malformed,
    BadSignature,
    Expired,
}

impl AuthFailure {
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::Missing => "auth_missing",
            AuthFailure::Malformed => "auth_malformed",
            AuthFailure::BadSignature => "auth_bad_signature",
            AuthFailure::Expired => "auth_expired",
        }
    }

    pub fn detail(self) -> &'static str {
        match self {
            AuthFailure::Missing => {
                "send `Authorization: tma <initData>` or `Authorization: Bearer <token>`"
            }
            AuthFailure::Malformed => "the credentials could not be parsed",
            AuthFailure::BadSignature => "the credentials are not signed by this shop's bot",
            AuthFailure::Expired => {
                "the credentials are too old (or dated in the future); reopen the shop"
            }
        }
    }
}

impl From<AuthFailure> for ApiError {
    fn from(f: AuthFailure) -> Self {
        ApiError::unauthorized(f.code(), f.detail())
    }
}

/// Why initData did not sign a customer in.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No bot token (or bot id for Ed25519) is configured: nobody can sign in.
    #[error("this shop has no Telegram bot configured")]
    NotConfigured,
    #[error(transparent)]
    Refused(#[from] AuthFailure),
    #[error("initData carries no user")]
    NoUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn failure_of(e: &initdata::Error) -> AuthFailure {
    match e.code() {
        "auth_bad_signature" => AuthFailure::BadSignature,
        "auth_expired" => AuthFailure::Expired,
        _ => AuthFailure::Malformed,
    }
}

/// Claims of a session token from `POST /api/v1/auth`.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// Customer id.
    sub: String,
    /// Telegram user id.
    tg: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lang: Option<String>,
    iss: String,
    iat: u64,
    exp: u64,
}

pub struct Auth {
    validator: Option<Validator>,
    store: Store,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    token_ttl: Duration,
    recent: customer::RecentUpserts,
}

/// A signed session token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionToken {
    pub token: String,
    /// Unix seconds.
    pub expires_at: u64,
}

impl Auth {
    pub async fn new(config: &Config, store: Store) -> Result<Arc<Self>, StoreError> {
        let t = &config.telegram;
        let env = if t.test_environment {
            initdata::Environment::Test
        } else {
            initdata::Environment::Production
        };
        let token = t.bot_token.as_ref().map(|s| s.expose().to_string());
        let bot_id = t.bot_id.or_else(|| token.as_deref().and_then(bot_id_of));
        let validator = match (t.init_data_check, token.as_deref(), bot_id) {
            (InitDataCheck::Hmac, Some(token), _) => Some(Validator::hmac(token)),
            (InitDataCheck::Ed25519, _, Some(id)) => Some(Validator::ed25519(id, env)),
            (InitDataCheck::Both, Some(token), _) => Validator::both(token, env).ok(),
            _ => None,
        }
        .map(|v| v.max_age(t.init_data_max_age));
        if validator.is_none() {
            tracing::warn!(
                "telegram.bot_token (or bot_id for ed25519) is not set: customer API calls will be refused"
            );
        }
        let key = match &config.auth.token_key {
            Some(k) => k.expose().as_bytes().to_vec(),
            None => keys::shared_key(&store, "session_token_key").await?,
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[TOKEN_ISSUER]);
        validation.leeway = 5;
        Ok(Arc::new(Self {
            validator,
            store,
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            token_ttl: config.auth.token_ttl,
            recent: customer::RecentUpserts::default(),
        }))
    }

    /// Checks initData and links its Telegram user to a customer (created on first sight).
    pub async fn sign_in(&self, raw_init_data: &str) -> Result<Customer, SignInError> {
        let validator = self.validator.as_ref().ok_or(SignInError::NotConfigured)?;
        let data: InitData = validator
            .validate(raw_init_data, SystemTime::now())
            .map_err(|e| {
                tracing::debug!(reason = %e, "initData rejected");
                failure_of(&e)
            })?;
        let Some(user) = data.user.as_ref() else {
            return Err(SignInError::NoUser);
        };
        let id = self.recent.upsert(&self.store, user).await?;
        Ok(Customer {
            id,
            telegram_id: user.id,
            language_code: user.language_code.clone(),
            start_param: data.start_param.clone(),
        })
    }

    pub fn issue_token(&self, customer: &Customer) -> Result<SessionToken, ApiError> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let exp = now + self.token_ttl.as_secs();
        let claims = Claims {
            sub: customer.id.0.to_string(),
            tg: customer.telegram_id,
            lang: customer.language_code.clone(),
            iss: TOKEN_ISSUER.into(),
            iat: now,
            exp,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)?;
        Ok(SessionToken {
            token,
            expires_at: exp,
        })
    }

    fn verify_token(&self, token: &str) -> Result<Customer, AuthFailure> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => AuthFailure::Expired,
                ErrorKind::InvalidSignature | ErrorKind::InvalidIssuer => AuthFailure::BadSignature,
                _ => AuthFailure::Malformed,
            })?;
        let id = data
            .claims
            .sub
            .parse::<i64>()
            .map_err(|_| AuthFailure::Malformed)?;
        Ok(Customer {
            id: CustomerId(id),
            telegram_id: data.claims.tg,
            language_code: data.claims.lang,
            start_param: None,
        })
    }

    /// The caller of a request, from its `Authorization` header.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Customer, ApiError> {
        let header = authorization
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(AuthFailure::Missing)?;
        let (scheme, value) = header.split_once(' ').ok_or(AuthFailure::Malformed)?;
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("tma") {
            Ok(self.sign_in(value).await?)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Ok(self.verify_token(value)?)
        } else {
            Err(AuthFailure::Malformed.into())
        }
    }

    /// Signs initData for a made-up user with the demo token (dev sign-in).
    pub fn dev_init_data(user: &DevUser, now: SystemTime) -> String {
        Self::dev_init_data_as(user, now, true)
    }

    /// As [`Auth::dev_init_data`]; without `signature` as a client before Bot API 8.0 sends it.
    pub fn dev_init_data_as(user: &DevUser, now: SystemTime, with_signature: bool) -> String {
        // Telegram leaves absent fields out rather than sending nulls; clients (the Mini Apps
        // SDK's parser) reject nulls, so the dev sign-in does the same.
        let mut user_json = serde_json::json!({
            "id": user.id,
            "first_name": user.first_name,
            "language_code": user.language_code,
            "allows_write_to_pm": true,
        });
        if let Some(v) = &user.last_name {
            user_json["last_name"] = v.clone().into();
        }
        if let Some(v) = &user.username {
            user_json["username"] = v.clone().into();
        }
        let user_json = user_json.to_string();
        let auth_date = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .to_string();
        let mut pairs = vec![
            ("auth_date", auth_date.as_str()),
            ("user", user_json.as_str()),
            ("chat_type", "sender"),
        ];
        let query_id = format!("dev-{}", user.id);
        pairs.push(("query_id", query_id.as_str()));
        // Real initData always carries Telegram's Ed25519 `signature` (clients require the
        // field); the demo has no Telegram key, so it says so. Only the HMAC check passes.
        if with_signature {
            pairs.push(("signature", "dev-sign-in-has-no-telegram-signature"));
        }
        if let Some(p) = user.start_param.as_deref() {
            pairs.push(("start_param", p));
        }
        initdata::sign(DEMO_BOT_TOKEN, &pairs)
    }
}

/// A demo user for dev sign-in.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct DevUser {
    #[serde(default = "DevUser::default_id")]
    pub id: u64,
    #[serde(default = "DevUser::default_first_name")]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default = "DevUser::default_language")]
    pub language_code: String,
    #[serde(default)]
    pub start_param: Option<String>,
}

impl DevUser {
    fn default_id() -> u64 {
        100_000_001
    }
    fn default_first_name() -> String {
        "Demo".into()
    }
    fn default_language() -> String {
        "ru".into()
    }
}

fn bot_id_of(token: &str) -> Option<u64> {
    token.split_once(':').and_then(|(id, _)| id.parse().ok())
}

/// Count of customers (for tests and the admin CLI).
pub async fn customer_count(store: &Store) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM customers")
            .fetch_one(store.pool())
            .await?
            .try_get(0)?,
    )
}

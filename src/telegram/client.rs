//! A small typed client of the Bot API: JSON in, the documented envelope out. Hand-written
//! rather than teloxide-core or frankenstein: vitrina calls about fifteen methods, needs the
//! raw `retry_after` and error codes for its outbox, and a configurable base URL; the crates
//! would add more compile time than this file has lines.

use std::time::Duration;

use serde_json::Value;

use crate::config::TelegramConfig;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// 429: wait this long (`parameters.retry_after`).
    #[error("Telegram asks to retry after {0:?}")]
    RetryAfter(Duration),
    /// 403: the user blocked the bot, or the bot was removed from the chat.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 4xx: the call itself is wrong; repeating it cannot help.
    #[error("Telegram rejected the call ({code}): {description}")]
    Rejected { code: u16, description: String },
    /// 5xx, a timeout, no connection: worth retrying later.
    #[error("Telegram unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    /// `{api_base_url}/bot{token}`: holds the token, so it is never logged.
    base: String,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotApi { .. }")
    }
}

/// rustls needs a process-wide crypto provider; the first client installs ring's.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl BotApi {
    /// A client for the configured bot, or None when there is no token.
    pub fn new(config: &TelegramConfig) -> Option<Self> {
        let token = config.bot_token.as_ref()?;
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Long polling waits up to 25 s on Telegram's side.
            .timeout(Duration::from_secs(40))
            .build()
            .ok()?;
        Some(Self {
            http,
            // The test environment's bots answer at `/bot<token>/test/<method>`.
            base: format!(
                "{}/bot{}{}",
                config.api_base_url.trim_end_matches('/'),
                token.expose(),
                if config.test_environment { "/test" } else { "" }
            ),
        })
    }

    /// Calls `method` with JSON `params`; the `result` on success.
    pub async fn call(&self, method: &str, params: &Value) -> Result<Value, BotError> {
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .json(params)
            .send()
            .await
            // without_url: the URL carries the bot token.
            .map_err(|e| BotError::Unavailable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body: Value = response
            .json()
            .await
            .map_err(|e| BotError::Unavailable(format!("HTTP {status}: {}", e.without_url())))?;
        if body.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(body.get("result").cloned().unwrap_or(Value::Null));
        }
        let code = body
            .get("error_code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(status);
        let description = body
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("no description")
            .to_string();
        let retry_after = body
            .pointer("/parameters/retry_after")
            .and_then(Value::as_u64);
        Err(match (code, retry_after) {
            (429, after) => BotError::RetryAfter(Duration::from_secs(after.unwrap_or(1))),
            (403, _) => BotError::Forbidden(description),
            (c, _) if c >= 500 => BotError::Unavailable(format!("{c}: {description}")),
            (code, _) => BotError::Rejected { code, description },
        })
    }
}

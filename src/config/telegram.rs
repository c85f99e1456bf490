//! `[telegram]`.

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub bot_token: Option<Secret>,
    /// Which initData check the API does: `hmac` (needs bot_token), `ed25519` (Telegram's
    /// signature; needs only the bot id, for hosts that must not hold the token) or `both`.
    pub init_data_check: InitDataCheck,
    /// The bot's numeric id, for `ed25519` without a bot_token.
    pub bot_id: Option<u64>,
    /// Use Telegram's test-environment public key for `ed25519`.
    pub test_environment: bool,
    #[serde(with = "humantime_serde")]
    pub init_data_max_age: Duration,
    pub webhook_secret: Option<Secret>,
    pub staff_chat_id: Option<i64>,
    pub payment_provider_token: Option<Secret>,
    /// The Bot API server (a local Bot API server, or the project's fake in tests).
    pub api_base_url: String,
    /// How updates arrive: `webhook` (Telegram POSTs to /telegram/webhook; needs HTTPS) or
    /// `polling` (this process calls getUpdates; for one instance without public HTTPS).
    pub updates: UpdatesMode,
    /// Telegram user ids allowed to press the staff buttons (Confirm / Shipped / Cancel).
    pub staff_user_ids: Vec<i64>,
    /// Telegram's broadcast limits: messages per second overall, the gap between messages to
    /// one private chat, messages per minute to one group.
    pub messages_per_second: u32,
    #[serde(with = "humantime_serde")]
    pub per_chat_interval: Duration,
    pub group_messages_per_minute: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum UpdatesMode {
    #[default]
    Webhook,
    Polling,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            bot_token: None,
            init_data_check: InitDataCheck::Hmac,
            bot_id: None,
            test_environment: false,
            init_data_max_age: Duration::from_secs(24 * 3600),
            webhook_secret: None,
            staff_chat_id: None,
            payment_provider_token: None,
            api_base_url: "https://api.telegram.org".into(),
            updates: UpdatesMode::Webhook,
            staff_user_ids: Vec::new(),
            messages_per_second: 30,
            per_chat_interval: Duration::from_secs(1),
            group_messages_per_minute: 20,
        }
    }
}

fn looks_like_bot_token(token: &str) -> bool {
    match token.split_once(':') {
        Some((id, rest)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

impl TelegramConfig {
    /// The bot's own settings: token and webhook secret in Telegram's alphabet, a positive
    /// initData age, a way to check ed25519 signatures, broadcast limits, the Bot API URL.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(token) = &self.bot_token
            && !looks_like_bot_token(token.expose())
        {
            return invalid(
                "telegram.bot_token",
                "expected a token from @BotFather such as 123456789:AA… (digits, a colon, then letters, digits, - or _)",
            );
        }
        if let Some(secret) = &self.webhook_secret {
            let s = secret.expose();
            if s.is_empty()
                || s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return invalid(
                    "telegram.webhook_secret",
                    "expected 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret_token)",
                );
            }
        }
        if self.init_data_max_age.is_zero() {
            return invalid(
                "telegram.init_data_max_age",
                "expected a positive duration such as \"24h\"",
            );
        }
        if self.init_data_check == InitDataCheck::Ed25519
            && self.bot_id.is_none()
            && self.bot_token.is_none()
        {
            return invalid(
                "telegram.bot_id",
                "required for init_data_check = \"ed25519\" when telegram.bot_token is not set",
            );
        }
        if self.messages_per_second == 0 || self.group_messages_per_minute == 0 {
            return invalid(
                "telegram.messages_per_second",
                "expected at least 1 (Telegram allows 30 per second, 20 per minute per group)",
            );
        }
        if !(self.api_base_url.starts_with("https://") || self.api_base_url.starts_with("http://"))
        {
            return invalid(
                "telegram.api_base_url",
                "expected an http(s) URL such as https://api.telegram.org",
            );
        }
        Ok(())
    }

    /// A bot token that can reach Telegram (set, and not `vitrina demo`'s).
    pub fn has_real_bot_token(&self) -> bool {
        self.bot_token
            .as_ref()
            .is_some_and(|t| t.expose() != DEMO_BOT_TOKEN)
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    fn refused(edit: impl FnOnce(&mut TelegramConfig)) -> Option<&'static str> {
        let mut t = TelegramConfig::default();
        edit(&mut t);
        refused_key(t.validate())
    }

    #[test]
    fn defaults_and_a_real_token_pass() {
        assert_eq!(refused(|_| {}), None);
        assert_eq!(
            refused(|t| {
                t.bot_token = Some(Secret::new("123456:AA-b_c"));
                t.webhook_secret = Some(Secret::new("s3cret-_x"));
                t.init_data_check = InitDataCheck::Ed25519;
                t.api_base_url = "http://127.0.0.1:9000".into();
            }),
            None
        );
        assert_eq!(
            refused(|t| {
                t.init_data_check = InitDataCheck::Ed25519;
                t.bot_id = Some(42);
            }),
            None
        );
    }

    #[test]
    fn each_broken_setting_is_named() {
        for token in ["123456", ":abc", "12a:abc", "123:", "123:a b"] {
            assert_eq!(
                refused(|t| t.bot_token = Some(Secret::new(token))),
                Some("telegram.bot_token"),
                "{token}"
            );
        }
        for secret in [String::new(), "a b".into(), "x".repeat(257)] {
            assert_eq!(
                refused(|t| t.webhook_secret = Some(Secret::new(secret))),
                Some("telegram.webhook_secret")
            );
        }
        assert_eq!(
            refused(|t| t.init_data_max_age = Duration::ZERO),
            Some("telegram.init_data_max_age")
        );
        assert_eq!(
            refused(|t| t.init_data_check = InitDataCheck::Ed25519),
            Some("telegram.bot_id")
        );
        assert_eq!(
            refused(|t| t.messages_per_second = 0),
            Some("telegram.messages_per_second")
        );
        assert_eq!(
            refused(|t| t.group_messages_per_minute = 0),
            Some("telegram.messages_per_second")
        );
        assert_eq!(
            refused(|t| t.api_base_url = "api.telegram.org".into()),
            Some("telegram.api_base_url")
        );
    }

    #[test]
    fn demo_token_is_no_real_token() {
        let mut t = TelegramConfig::default();
        assert!(!t.has_real_bot_token());
        t.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
        assert!(!t.has_real_bot_token());
        t.bot_token = Some(Secret::new("123:abc"));
        assert!(t.has_real_bot_token());
    }
}

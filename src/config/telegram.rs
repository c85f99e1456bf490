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

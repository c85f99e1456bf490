//! One typed configuration, read from a TOML file and `VITRINA_<SECTION>__<KEY>` environment
//! variables, validated once at start. Unknown keys are errors: a typo in a production config
//! must stop the process, not silently fall back to a default.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables with the `VITRINA_` prefix that belong to the CLI, not to the config.
const CLI_ENV_KEYS: &[&str] = &["config", "log", "log_format"];

/// The bot token `vitrina demo` signs its dev initData with. It can never reach Telegram:
/// config treats a bot with this token as no bot at all.
pub const DEMO_BOT_TOKEN: &str = "1000000001:vitrina-demo-token-not-for-telegram";

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub telegram: TelegramConfig,
    pub backend: BackendConfig,
    pub bitrix: BitrixConfig,
    pub exchange_1c: Exchange1cConfig,
    pub outbox: OutboxConfig,
    pub auth: AuthConfig,
    pub catalog: CatalogConfig,
    pub checkout: CheckoutConfig,
    pub orders: OrdersConfig,
    pub rate_limit: RateLimitConfig,
    pub dev: DevConfig,
    pub sync: SyncConfig,
    pub selling: SellingConfig,
    pub bot: BotConfig,
    pub shop: ShopConfig,
}

mod bitrix;
mod bot;
mod rules;
mod runtime;
mod secret;
mod server;
mod shop;
mod telegram;
#[cfg(test)]
mod tests;

pub use bitrix::*;
pub use bot::*;
pub use runtime::*;
pub use secret::*;
pub use server::*;
pub use shop::*;
pub use telegram::*;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("{0}")]
    Parse(String),
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// A broken rule: `key` is the config key to fix, `message` what it expects.
fn invalid(key: &'static str, message: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        key,
        message: message.into(),
    })
}

/// For the rules' unit tests: the key a check refused, or `None` when it passed.
#[cfg(test)]
fn refused_key(result: Result<(), ConfigError>) -> Option<&'static str> {
    match result {
        Ok(()) => None,
        Err(ConfigError::Invalid { key, .. }) => Some(key),
        Err(other) => panic!("a rule returned {other}"),
    }
}

impl Config {
    /// Defaults, then the file (if given), then `VITRINA_…` variables from the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        // Defaults come from `#[serde(default)]`, not from a serialized Config: serializing
        // would redact the secrets.
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Missing(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("VITRINA_").split("__").ignore(CLI_ENV_KEYS));
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe_figment_error(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Every rule in order, the first broken one reported. Each section checks itself beside
    /// its types; rules that read two sections are in `rules.rs`. Where one error could mask
    /// another (e.g. an empty `orders.statuses` before the statuses that must be in it), the
    /// order below is the one the checks always had.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        self.database.validate()?;
        self.telegram.validate()?;
        self.bitrix.validate(self.backend.kind)?;
        rules::bitrix_statuses_are_order_statuses(self)?;
        self.auth.validate()?;
        self.checkout.validate()?;
        rules::telegram_payments_need_provider_token(self)?;
        self.dev.validate()?;
        rules::dev_sign_in_needs_a_test_bot(self)?;
        self.exchange_1c.validate()?;
        self.orders.validate()?;
        rules::sale_statuses_are_order_statuses(self)?;
        rules::one_order_one_system(self)?;
        rules::payment_hold_can_expire(self)?;
        self.rate_limit.validate()?;
        self.outbox.validate()?;
        self.shop.validate()?;
        Ok(())
    }

    /// The effective configuration as TOML, secrets redacted (for `vitrina config check`).
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }

    pub fn is_sqlite(&self) -> bool {
        self.database.kind() == Some(DatabaseKind::Sqlite)
    }
}

/// Figment's messages already name the key and the source; make them one line each.
fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = match &e.metadata {
                Some(md) => match &md.source {
                    Some(src) => format!(" (from {src})"),
                    None => format!(" (from {})", md.name),
                },
                None => String::new(),
            };
            if key.is_empty() {
                format!("config: {}{source}", e.kind)
            } else {
                format!("config key `{key}`: {}{source}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

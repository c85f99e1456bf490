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
}

mod bitrix;
mod runtime;
mod secret;
mod server;
mod shop;
mod telegram;
#[cfg(test)]
mod tests;

pub use bitrix::*;
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

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        let url = &self.server.public_url;
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url
                .parse::<http::Uri>()
                .map(|u| u.host().is_none())
                .unwrap_or(true)
        {
            return invalid(
                "server.public_url",
                format!(
                    "expected an absolute http(s) URL such as https://shop.example.com, got {url:?}"
                ),
            );
        }
        if self.server.max_body_bytes < 1024 {
            return invalid(
                "server.max_body_bytes",
                "expected at least 1024 bytes".into(),
            );
        }
        if self.server.request_timeout.is_zero() {
            return invalid(
                "server.request_timeout",
                "expected a positive duration such as \"30s\"".into(),
            );
        }
        if self.database.kind().is_none() {
            return invalid(
                "database.url",
                "expected sqlite://path/to/file.db or postgres://user@host/db".into(),
            );
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "expected at least 1".into());
        }
        if let Some(token) = &self.telegram.bot_token
            && !looks_like_bot_token(token.expose())
        {
            return invalid(
                "telegram.bot_token",
                "expected a token from @BotFather such as 123456789:AA… (digits, a colon, then letters, digits, - or _)".into(),
            );
        }
        if let Some(secret) = &self.telegram.webhook_secret {
            let s = secret.expose();
            if s.is_empty()
                || s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return invalid(
                    "telegram.webhook_secret",
                    "expected 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret_token)".into(),
                );
            }
        }
        if self.telegram.init_data_max_age.is_zero() {
            return invalid(
                "telegram.init_data_max_age",
                "expected a positive duration such as \"24h\"".into(),
            );
        }
        if self.backend.kind == BackendKind::Bitrix && self.bitrix.webhook_url.is_none() {
            return invalid(
                "bitrix.webhook_url",
                "required when backend.kind = \"bitrix\" (https://<portal>/rest/<user>/<code>/)"
                    .into(),
            );
        }
        if self.backend.kind == BackendKind::Bitrix {
            if let Some(bad) = self
                .bitrix
                .statuses
                .values()
                .find(|s| !self.orders.statuses.contains(s))
            {
                return invalid(
                    "bitrix.statuses",
                    format!(
                        "{bad:?} is not one of orders.statuses ({})",
                        self.orders.statuses.join(", ")
                    ),
                );
            }
            if self.bitrix.burst == 0 || self.bitrix.requests_per_second <= 0.0 {
                return invalid(
                    "bitrix.requests_per_second",
                    "expected a positive burst and rate (cloud portals: 50 and 2)".into(),
                );
            }
        }
        match self.telegram.init_data_check {
            InitDataCheck::Hmac | InitDataCheck::Both => {}
            InitDataCheck::Ed25519 => {
                if self.telegram.bot_id.is_none() && self.telegram.bot_token.is_none() {
                    return invalid(
                        "telegram.bot_id",
                        "required for init_data_check = \"ed25519\" when telegram.bot_token is not set".into(),
                    );
                }
            }
        }
        if let Some(key) = &self.auth.token_key
            && key.expose().len() < 32
        {
            return invalid(
                "auth.token_key",
                "expected at least 32 characters of random text".into(),
            );
        }
        if self.auth.token_ttl < Duration::from_secs(60) {
            return invalid("auth.token_ttl", "expected at least 1m".into());
        }
        let real_token = self
            .telegram
            .bot_token
            .as_ref()
            .is_some_and(|t| t.expose() != DEMO_BOT_TOKEN);
        if self.telegram.messages_per_second == 0 || self.telegram.group_messages_per_minute == 0 {
            return invalid(
                "telegram.messages_per_second",
                "expected at least 1 (Telegram allows 30 per second, 20 per minute per group)"
                    .into(),
            );
        }
        if !(self.telegram.api_base_url.starts_with("https://")
            || self.telegram.api_base_url.starts_with("http://"))
        {
            return invalid(
                "telegram.api_base_url",
                "expected an http(s) URL such as https://api.telegram.org".into(),
            );
        }
        if self.checkout.stars_rate <= 0 {
            return invalid(
                "checkout.stars_rate",
                "expected the price of one Star in minor units, at least 1".into(),
            );
        }
        if self
            .checkout
            .payment_methods
            .contains(&PaymentMethod::Telegram)
            && self.telegram.payment_provider_token.is_none()
        {
            return invalid(
                "checkout.payment_methods",
                "`telegram` needs telegram.payment_provider_token (from @BotFather → Payments)"
                    .into(),
            );
        }
        if self.dev.payment_pause && !self.dev.enabled {
            return invalid(
                "dev.payment_pause",
                "a fault-injection point for tests; it needs dev.enabled = true".into(),
            );
        }
        if self.dev.checkout_pause.is_some() && !self.dev.enabled {
            return invalid(
                "dev.checkout_pause",
                "a fault-injection point for tests; it needs dev.enabled = true".into(),
            );
        }
        if self.dev.enabled && real_token && !self.dev.allow_with_real_bot_token {
            return invalid(
                "dev.enabled",
                "dev sign-in together with a real telegram.bot_token lets anyone sign in as any customer; \
                 turn dev.enabled off, or set dev.allow_with_real_bot_token = true if this is a private test bot"
                    .into(),
            );
        }
        if self.exchange_1c.user.is_some() != self.exchange_1c.password.is_some() {
            return invalid(
                "exchange_1c.password",
                "set both exchange_1c.user and exchange_1c.password, or neither".into(),
            );
        }
        if self.exchange_1c.file_limit < 64 * 1024 {
            return invalid(
                "exchange_1c.file_limit",
                "expected at least 65536 bytes".into(),
            );
        }
        if self.checkout.delivery.is_empty() {
            return invalid(
                "checkout.delivery",
                "expected at least one delivery method".into(),
            );
        }
        let mut ids = std::collections::HashSet::new();
        for d in &self.checkout.delivery {
            if !ids.insert(d.id.as_str()) {
                return invalid(
                    "checkout.delivery",
                    format!("delivery method id {:?} appears twice", d.id),
                );
            }
            if d.price < 0 || d.free_from.is_some_and(|f| f < 0) {
                return invalid(
                    "checkout.delivery",
                    format!("delivery method {:?}: prices cannot be negative", d.id),
                );
            }
        }
        if self.checkout.payment_methods.is_empty() {
            return invalid(
                "checkout.payment_methods",
                "expected at least one of on_receipt, telegram, stars".into(),
            );
        }
        if self.orders.statuses.is_empty() {
            return invalid("orders.statuses", "expected at least one status".into());
        }
        if let Some(bad) = self
            .exchange_1c
            .sale_statuses
            .values()
            .find(|s| !self.orders.statuses.contains(s))
        {
            return invalid(
                "exchange_1c.sale_statuses",
                format!(
                    "{bad:?} is not one of orders.statuses ({})",
                    self.orders.statuses.join(", ")
                ),
            );
        }
        for (from, tos) in &self.orders.transitions {
            for status in std::iter::once(from).chain(tos) {
                if !self.orders.statuses.contains(status) {
                    return invalid(
                        "orders.transitions",
                        format!("status {status:?} is not in orders.statuses"),
                    );
                }
            }
        }
        if self.backend.kind == BackendKind::Bitrix
            && self.exchange_1c.user.is_some()
            && self.exchange_1c.password.is_some()
            && self.exchange_1c.sale
            && !self.exchange_1c.allow_sale_with_bitrix
        {
            return invalid(
                "exchange_1c.sale",
                "backend.kind = \"bitrix\" sends every order to Bitrix, and the 1C exchange (user and password set) would also hand it to 1C with type=sale: one order in two systems. Set exchange_1c.sale = false (1C then gets orders from Bitrix's own exchange), or exchange_1c.allow_sale_with_bitrix = true if both are meant".into(),
            );
        }
        let receipt = &self.checkout.receipt;
        if receipt.enabled {
            if !matches!(receipt.vat_code, 1..=12) {
                return invalid(
                    "checkout.receipt.vat_code",
                    format!(
                        "expected one of ЮKassa's VAT codes 1-12, got {}",
                        receipt.vat_code
                    ),
                );
            }
            if let Some(code) = receipt.tax_system_code
                && !matches!(code, 1..=6)
            {
                return invalid(
                    "checkout.receipt.tax_system_code",
                    format!("expected 1-6, got {code}"),
                );
            }
            if !crate::payments::receipt::PAYMENT_SUBJECTS
                .contains(&receipt.payment_subject.as_str())
            {
                return invalid(
                    "checkout.receipt.payment_subject",
                    format!(
                        "expected one of {}, got {:?}",
                        crate::payments::receipt::PAYMENT_SUBJECTS.join(", "),
                        receipt.payment_subject
                    ),
                );
            }
            if !crate::payments::receipt::PAYMENT_MODES.contains(&receipt.payment_mode.as_str()) {
                return invalid(
                    "checkout.receipt.payment_mode",
                    format!(
                        "expected one of {}, got {:?}",
                        crate::payments::receipt::PAYMENT_MODES.join(", "),
                        receipt.payment_mode
                    ),
                );
            }
        }
        if self.checkout.max_line_quantity < 1 {
            return invalid("checkout.max_line_quantity", "expected at least 1".into());
        }
        let online = self
            .checkout
            .payment_methods
            .iter()
            .any(|m| *m != PaymentMethod::OnReceipt);
        if online && !self.checkout.payment_hold.is_zero() {
            if self.checkout.payment_hold < Duration::from_secs(1) {
                return invalid(
                    "checkout.payment_hold",
                    "expected a duration such as \"30m\" (or 0s to keep unpaid orders until staff cancel them)"
                        .into(),
                );
            }
            if self.orders.restock_on.is_empty() {
                return invalid(
                    "checkout.payment_hold",
                    "an expired hold cancels the order with a status in orders.restock_on, which is empty".into(),
                );
            }
        }
        let r = &self.rate_limit;
        for (key, burst, per_second) in [
            (
                "rate_limit.anonymous_per_second",
                r.anonymous_burst,
                r.anonymous_per_second,
            ),
            (
                "rate_limit.auth_failures_per_second",
                r.auth_failures_burst,
                r.auth_failures_per_second,
            ),
            (
                "rate_limit.customer_per_second",
                r.customer_burst,
                r.customer_per_second,
            ),
            (
                "rate_limit.sign_in_per_second",
                r.sign_in_burst,
                r.sign_in_per_second,
            ),
            (
                "rate_limit.checkout_per_second",
                r.checkout_burst,
                r.checkout_per_second,
            ),
        ] {
            if burst == 0 || !(per_second > 0.0 && per_second.is_finite()) {
                return invalid(
                    key,
                    format!("expected a positive burst and rate, got {burst} and {per_second}/s"),
                );
            }
        }
        if r.max_clients < 100 {
            return invalid("rate_limit.max_clients", "expected at least 100".into());
        }
        if self.exchange_1c.lockout_after == 0 || self.exchange_1c.lockout.is_zero() {
            return invalid(
                "exchange_1c.lockout",
                "expected lockout_after of at least 1 and a positive lockout".into(),
            );
        }
        if self.outbox.max_attempts == 0 {
            return invalid("outbox.max_attempts", "expected at least 1".into());
        }
        if self.outbox.lease < Duration::from_secs(1) {
            return invalid("outbox.lease", "expected at least 1s".into());
        }
        if self.outbox.poll_interval.is_zero() {
            return invalid(
                "outbox.poll_interval",
                "expected a positive duration such as \"1s\"".into(),
            );
        }
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

//! `[outbox]`, `[rate_limit]` and `[dev]`.

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Concurrent jobs per instance; 0 disables the worker in this process.
    pub workers: usize,
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(60),
            max_attempts: 12,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Request rates per client, counted in each instance's memory (so N instances allow N times
/// as much). Each limit is a burst, then `…_per_second` requests a second on average (GCRA).
/// See docs/DEPLOY.md for what each protects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Per client address (through server.trusted_proxies; IPv6 by /64), on the routes that
    /// need no sign-in: catalog, search, images, pages, sign-in itself. High: a mobile
    /// carrier puts many customers behind one address.
    pub anonymous_burst: u32,
    pub anonymous_per_second: f64,
    /// Per client address: requests whose initData or token is refused.
    pub auth_failures_burst: u32,
    pub auth_failures_per_second: f64,
    /// Per customer (Telegram id): every request that needs a sign-in.
    pub customer_burst: u32,
    pub customer_per_second: f64,
    /// Per customer: `POST /api/v1/auth` and `/api/telegram/auth`.
    pub sign_in_burst: u32,
    pub sign_in_per_second: f64,
    /// Per customer: placing orders and creating invoices.
    pub checkout_burst: u32,
    pub checkout_per_second: f64,
    /// Clients remembered per limit; the least used are forgotten first, so memory stays
    /// bounded whatever a flood sends.
    pub max_clients: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            anonymous_burst: 2000,
            anonymous_per_second: 200.0,
            auth_failures_burst: 60,
            auth_failures_per_second: 1.0,
            customer_burst: 120,
            customer_per_second: 10.0,
            sign_in_burst: 20,
            sign_in_per_second: 0.5,
            checkout_burst: 10,
            checkout_per_second: 0.2,
            max_clients: 50_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DevConfig {
    /// Serve the `/dev/*` helpers (dev-signed initData, a deliberately slow request).
    /// On in `vitrina demo`; never turn it on for a shop that customers use.
    pub enabled: bool,
    /// Dev sign-in mints initData that this server accepts. With a real bot token that would
    /// let anyone sign in as anyone, so it needs this explicit second switch.
    pub allow_with_real_bot_token: bool,
    /// Fault injection for the crash tests: checkout hangs at this point (`before_commit`:
    /// everything written, transaction open; `after_commit`: committed, no answer yet), so a
    /// test can SIGKILL the process there. Needs `enabled`.
    pub checkout_pause: Option<CheckoutPause>,
    /// Fault injection for the payment crash test: a successful_payment hangs before its
    /// transaction commits. Needs `enabled`.
    pub payment_pause: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutPause {
    BeforeCommit,
    AfterCommit,
}

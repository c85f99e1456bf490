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

impl OutboxConfig {
    /// Jobs get at least one attempt, a lease a worker can finish in, a positive poll.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return invalid("outbox.max_attempts", "expected at least 1");
        }
        if self.lease < Duration::from_secs(1) {
            return invalid("outbox.lease", "expected at least 1s");
        }
        if self.poll_interval.is_zero() {
            return invalid(
                "outbox.poll_interval",
                "expected a positive duration such as \"1s\"",
            );
        }
        Ok(())
    }
}

impl RateLimitConfig {
    /// Every limit a positive, finite burst and rate; room for enough clients.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (key, burst, per_second) in [
            (
                "rate_limit.anonymous_per_second",
                self.anonymous_burst,
                self.anonymous_per_second,
            ),
            (
                "rate_limit.auth_failures_per_second",
                self.auth_failures_burst,
                self.auth_failures_per_second,
            ),
            (
                "rate_limit.customer_per_second",
                self.customer_burst,
                self.customer_per_second,
            ),
            (
                "rate_limit.sign_in_per_second",
                self.sign_in_burst,
                self.sign_in_per_second,
            ),
            (
                "rate_limit.checkout_per_second",
                self.checkout_burst,
                self.checkout_per_second,
            ),
        ] {
            if burst == 0 || !(per_second > 0.0 && per_second.is_finite()) {
                return invalid(
                    key,
                    format!("expected a positive burst and rate, got {burst} and {per_second}/s"),
                );
            }
        }
        if self.max_clients < 100 {
            return invalid("rate_limit.max_clients", "expected at least 100");
        }
        Ok(())
    }
}

impl DevConfig {
    /// The fault-injection points only with the dev helpers on.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.payment_pause && !self.enabled {
            return invalid(
                "dev.payment_pause",
                "a fault-injection point for tests; it needs dev.enabled = true",
            );
        }
        if self.checkout_pause.is_some() && !self.enabled {
            return invalid(
                "dev.checkout_pause",
                "a fault-injection point for tests; it needs dev.enabled = true",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    /// An edit that breaks one setting, and the key the rule must name.
    type Case<T> = (fn(&mut T), &'static str);

    #[test]
    fn outbox_rules() {
        assert_eq!(refused_key(OutboxConfig::default().validate()), None);
        let cases: [Case<OutboxConfig>; 3] = [
            (|o| o.max_attempts = 0, "outbox.max_attempts"),
            (|o| o.lease = Duration::from_millis(999), "outbox.lease"),
            (|o| o.poll_interval = Duration::ZERO, "outbox.poll_interval"),
        ];
        for (edit, key) in cases {
            let mut o = OutboxConfig::default();
            edit(&mut o);
            assert_eq!(refused_key(o.validate()), Some(key));
        }
    }

    #[test]
    fn rate_limit_rules() {
        assert_eq!(refused_key(RateLimitConfig::default().validate()), None);
        let cases: [Case<RateLimitConfig>; 7] = [
            (|r| r.anonymous_burst = 0, "rate_limit.anonymous_per_second"),
            (
                |r| r.auth_failures_per_second = 0.0,
                "rate_limit.auth_failures_per_second",
            ),
            (
                |r| r.customer_per_second = f64::INFINITY,
                "rate_limit.customer_per_second",
            ),
            (
                |r| r.sign_in_per_second = f64::NAN,
                "rate_limit.sign_in_per_second",
            ),
            (
                |r| r.checkout_per_second = -1.0,
                "rate_limit.checkout_per_second",
            ),
            (|r| r.checkout_burst = 0, "rate_limit.checkout_per_second"),
            (|r| r.max_clients = 99, "rate_limit.max_clients"),
        ];
        for (edit, key) in cases {
            let mut r = RateLimitConfig::default();
            edit(&mut r);
            assert_eq!(refused_key(r.validate()), Some(key));
        }
    }

    #[test]
    fn pauses_need_dev_enabled() {
        assert_eq!(refused_key(DevConfig::default().validate()), None);
        let payment = DevConfig {
            payment_pause: true,
            ..Default::default()
        };
        assert_eq!(refused_key(payment.validate()), Some("dev.payment_pause"));
        let checkout = DevConfig {
            checkout_pause: Some(CheckoutPause::AfterCommit),
            ..Default::default()
        };
        assert_eq!(refused_key(checkout.validate()), Some("dev.checkout_pause"));
        for dev in [payment, checkout] {
            let on = DevConfig {
                enabled: true,
                ..dev
            };
            assert_eq!(refused_key(on.validate()), None);
        }
    }
}

//! Request rate limits shaped for Telegram's traffic.
//!
//! * **Per client address, on anonymous routes** (catalog, search, images, pages, sign-in):
//!   the address comes through `server.trusted_proxies` ([`crate::proxy`]), IPv6 by /64 (one
//!   subscriber's prefix). The default is high: a mobile carrier's NAT puts many customers
//!   behind one address, and a customer scrolling the catalog fires dozens of image requests.
//! * **Per client address, refused credentials**: every 401 spends from a small budget; once
//!   it is gone further 401s become 429. Valid requests from the same address spend nothing.
//! * **Per customer (Telegram id), on routes that need a sign-in**: checked in the `Customer`
//!   extractor once the credentials are valid, so nobody can spend another customer's budget.
//!   Placing orders and creating invoices also spend from a small `checkout` budget; sign-in
//!   from a `sign_in` budget.
//!
//! Each limit is governor's GCRA (a burst, then a steady rate). One limiter per key lives in a
//! bounded [`quick_cache`] (the least used keys go first), so a flood of new addresses cannot
//! grow memory; a forgotten key starts again with a full burst. The counts are per instance.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::{Exchange1cConfig, RateLimitConfig};
use crate::error::ApiError;
use crate::routes::{Limit, limit_of};
use crate::state::AppState;

pub mod lockout;

/// A request over a limit: when it may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{scope} rate limit reached; retry in {retry_after:?}")]
pub struct RateLimited {
    pub scope: Scope,
    pub retry_after: Duration,
}

/// Which limit refused a request (named in the problem's detail and the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Anonymous,
    AuthFailures,
    Customer,
    SignIn,
    Checkout,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scope::Anonymous => "per-address",
            Scope::AuthFailures => "failed sign-in",
            Scope::Customer => "per-customer",
            Scope::SignIn => "sign-in",
            Scope::Checkout => "checkout",
        })
    }
}

impl From<RateLimited> for ApiError {
    fn from(e: RateLimited) -> Self {
        ApiError::rate_limited(
            e.retry_after,
            format!("too many requests ({} limit); retry later", e.scope),
        )
    }
}

impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

/// One GCRA limiter per key, the keys in a bounded cache.
struct Keyed<K> {
    scope: Scope,
    quota: Quota,
    limiters: quick_cache::sync::Cache<K, Arc<DefaultDirectRateLimiter>>,
}

impl<K: Eq + std::hash::Hash + Clone> Keyed<K> {
    fn new(scope: Scope, burst: u32, per_second: f64, max_keys: usize) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        // Config validation keeps the rate positive and finite; the floor keeps Duration sane.
        let period = Duration::from_secs_f64(1.0 / per_second.max(1e-6));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            scope,
            quota,
            limiters: quick_cache::sync::Cache::new(max_keys),
        }
    }

    fn check(&self, key: &K) -> Result<(), RateLimited> {
        let limiter = self
            .limiters
            .get_or_insert_with(key, || {
                Ok::<_, std::convert::Infallible>(Arc::new(RateLimiter::direct(self.quota)))
            })
            .unwrap_or_else(|never| match never {});
        limiter.check().map_err(|not_until| RateLimited {
            scope: self.scope,
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }

    fn len(&self) -> usize {
        self.limiters.len()
    }
}

/// A client address as a limiter key: IPv4 as itself, IPv6 by its /64 (what one subscriber
/// or one machine gets; walking the low 64 bits must not yield fresh budgets).
pub fn address_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(v4.to_ipv6_mapped()),
            None => u128::from(v6) & !u128::from(u64::MAX),
        },
    }
}

/// Every limit of this instance.
pub struct Limits {
    enabled: bool,
    anonymous: Keyed<u128>,
    auth_failures: Keyed<u128>,
    customer: Keyed<i64>,
    sign_in: Keyed<i64>,
    checkout: Keyed<i64>,
    /// Wrong passwords at the 1C exchange (on whether or not `rate_limit.enabled`).
    pub exchange_1c: lockout::Lockout,
}

impl Limits {
    pub fn new(c: &RateLimitConfig, exchange: &Exchange1cConfig) -> Self {
        let n = c.max_clients;
        Self {
            enabled: c.enabled,
            exchange_1c: lockout::Lockout::for_exchange(exchange),
            anonymous: Keyed::new(
                Scope::Anonymous,
                c.anonymous_burst,
                c.anonymous_per_second,
                n,
            ),
            auth_failures: Keyed::new(
                Scope::AuthFailures,
                c.auth_failures_burst,
                c.auth_failures_per_second,
                n,
            ),
            customer: Keyed::new(Scope::Customer, c.customer_burst, c.customer_per_second, n),
            sign_in: Keyed::new(Scope::SignIn, c.sign_in_burst, c.sign_in_per_second, n),
            checkout: Keyed::new(Scope::Checkout, c.checkout_burst, c.checkout_per_second, n),
        }
    }

    /// A request by a signed-in customer to `route`: the customer's budget, and the checkout
    /// budget for placing orders and creating invoices.
    pub fn customer_request(
        &self,
        telegram_id: i64,
        method: &Method,
        route: Option<&str>,
    ) -> Result<(), RateLimited> {
        if !self.enabled {
            return Ok(());
        }
        self.customer.check(&telegram_id)?;
        if *method == Method::POST && route.and_then(limit_of) == Some(Limit::Checkout) {
            self.checkout.check(&telegram_id)?;
        }
        Ok(())
    }

    /// A successful sign-in of `telegram_id` (`POST /api/v1/auth`).
    pub fn sign_in(&self, telegram_id: i64) -> Result<(), RateLimited> {
        if !self.enabled {
            return Ok(());
        }
        self.sign_in.check(&telegram_id)
    }

    /// Keys held per limit, for tests and `/metrics`-style inspection.
    pub fn clients(&self) -> [usize; 5] {
        [
            self.anonymous.len(),
            self.auth_failures.len(),
            self.customer.len(),
            self.sign_in.len(),
            self.checkout.len(),
        ]
    }
}

/// Whether a route is limited per client address. Everything not known to be a customer's or
/// a machine's is (unknown paths, pages and the fallback included): the safe default.
pub fn is_anonymous(route: Option<&str>) -> bool {
    matches!(route.and_then(limit_of), None | Some(Limit::Address))
}

/// Machine endpoints: not limited per address, nor documented as answering 429.
fn is_machine(route: &str) -> bool {
    matches!(limit_of(route), Some(Limit::Machine | Limit::OwnLockout))
}

/// The per-address limits, as a middleware: the anonymous budget before the handler, the
/// refused-credentials budget after it.
pub async fn by_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.limits;
    if !limits.enabled {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    // No connection info (requests driven in-process, as some tests do): nothing to key on.
    let Some(client) = crate::proxy::of_request(&request, &state.config.server.trusted_proxies)
    else {
        return next.run(request).await;
    };
    let key = address_key(client.ip);
    if is_anonymous(route.as_deref())
        && let Err(limited) = limits.anonymous.check(&key)
    {
        return refuse(limited, client.ip, route.as_deref());
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED
        && !route
            .as_deref()
            .is_some_and(|r| limit_of(r) == Some(Limit::OwnLockout))
        && let Err(limited) = limits.auth_failures.check(&key)
    {
        return refuse(limited, client.ip, route.as_deref());
    }
    response
}

fn refuse(limited: RateLimited, ip: IpAddr, route: Option<&str>) -> Response {
    // Debug, not warn: under a flood this line would be the flood.
    tracing::debug!(%ip, route = route.unwrap_or("-"), scope = %limited.scope, "rate limited");
    limited.into_response()
}

/// Documents `429 rate_limited` (with `Retry-After`) on every operation the limits cover.
pub struct OpenApiResponses;

impl utoipa::Modify for OpenApiResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, header::HeaderBuilder};
        let response = ResponseBuilder::new()
            .description(
                "`rate_limited`: too many requests from this client or customer; \
                 retry after `Retry-After` seconds",
            )
            .content(
                crate::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                    .description(Some("seconds"))
                    .build(),
            )
            .build();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if is_machine(path) {
                continue;
            }
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("429".into())
                    .or_insert_with(|| response.clone().into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RateLimitConfig {
        RateLimitConfig {
            checkout_burst: 3,
            checkout_per_second: 0.5,
            ..Default::default()
        }
    }

    #[test]
    fn a_burst_then_a_rate_with_a_retry_time() {
        let limits = Limits::new(&config(), &Default::default());
        for _ in 0..3 {
            limits
                .customer_request(1, &Method::POST, Some("/api/v1/orders"))
                .unwrap();
        }
        let refused = limits
            .customer_request(1, &Method::POST, Some("/api/v1/orders"))
            .unwrap_err();
        assert_eq!(refused.scope, Scope::Checkout);
        assert!(
            refused.retry_after > Duration::from_millis(1500)
                && refused.retry_after <= Duration::from_secs(2),
            "{:?}",
            refused.retry_after
        );
        // Another customer, and the same customer's reads, are not affected.
        limits
            .customer_request(2, &Method::POST, Some("/api/v1/orders"))
            .unwrap();
        limits
            .customer_request(1, &Method::GET, Some("/api/v1/orders"))
            .unwrap();
    }

    #[test]
    fn disabled_limits_refuse_nothing() {
        let limits = Limits::new(
            &RateLimitConfig {
                enabled: false,
                ..config()
            },
            &Default::default(),
        );
        for _ in 0..100 {
            limits
                .customer_request(1, &Method::POST, Some("/api/v1/orders"))
                .unwrap();
            limits.sign_in(1).unwrap();
        }
    }

    #[test]
    fn keys_are_bounded() {
        let limits = Limits::new(
            &RateLimitConfig {
                max_clients: 1000,
                ..config()
            },
            &Default::default(),
        );
        for id in 0..100_000 {
            limits.sign_in(id).unwrap();
        }
        let held = limits.clients()[3];
        assert!(held <= 1100, "{held} keys held for a limit of 1000");
    }

    #[test]
    fn ipv6_is_keyed_by_its_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(address_key(v4), address_key(mapped));
        assert_ne!(address_key(v4), address_key("203.0.113.8".parse().unwrap()));
    }

    #[test]
    fn route_classes() {
        assert!(is_anonymous(Some("/api/v1/products")));
        assert!(is_anonymous(Some("/images/{hash}/{size}")));
        assert!(is_anonymous(Some("/api/v1/auth")));
        assert!(is_anonymous(None), "pages and unknown paths");
        assert!(!is_anonymous(Some("/api/v1/cart")));
        assert!(!is_anonymous(Some("/telegram/webhook")));
        assert!(!is_anonymous(Some("/api/v1/orders/{id}/invoice")));
        assert!(!is_anonymous(Some("/1c/exchange")));
        assert!(is_machine("/readyz") && is_machine("/bitrix/admin/1c_exchange.php"));
        assert!(!is_machine("/api/v1/orders"));
    }
}

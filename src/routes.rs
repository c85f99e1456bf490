//! Every route the server mounts, in one table: the router is built from it
//! ([`crate::server::router`]) and the tests compare it with the OpenAPI document (each
//! documented route with its methods, each documented path mounted) and probe it against the
//! live app, so a route cannot be served undocumented or documented unserved.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

use crate::config::Config;
use crate::state::AppState;
use crate::{auth, cart, catalog, desk, ops, orders, seed, selling};

/// How the request limits ([`crate::rate_limit`]) treat a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Per client address: the safe default for anything public (and for unknown paths).
    Address,
    /// Per signed-in customer (the handlers take `Customer`).
    Customer,
    /// Per customer, and a POST also spends the customer's checkout budget.
    Checkout,
    /// A machine endpoint with its own credentials, callers and protections (Telegram's and
    /// Bitrix's servers, probes).
    Machine,
    /// A machine endpoint whose 401s are protocol answers with a lockout of its own (1C).
    OwnLockout,
}

pub struct Route {
    pub path: &'static str,
    /// Upper-case HTTP methods the route answers.
    pub methods: &'static [&'static str],
    /// In `/api/openapi.json`. The rest speak other protocols (1C's exchange, Telegram's
    /// webhook, Bitrix's events) or are the spec itself.
    pub documented: bool,
    pub limit: Limit,
    pub router: MethodRouter<AppState>,
}

impl Route {
    fn limit(self, limit: Limit) -> Self {
        Self { limit, ..self }
    }
}

/// The limit class of a matched route path, read from [`table`]; `None` for a path the table
/// does not mount.
pub fn limit_of(path: &str) -> Option<Limit> {
    static LIMITS: LazyLock<HashMap<&'static str, Limit>> = LazyLock::new(|| {
        table(&Config::default())
            .into_iter()
            .map(|r| (r.path, r.limit))
            .collect()
    });
    LIMITS.get(path).copied()
}

fn api(
    path: &'static str,
    methods: &'static [&'static str],
    router: MethodRouter<AppState>,
) -> Route {
    Route {
        path,
        methods,
        documented: true,
        limit: Limit::Address,
        router,
    }
}

fn other(
    path: &'static str,
    methods: &'static [&'static str],
    router: MethodRouter<AppState>,
) -> Route {
    Route {
        path,
        methods,
        documented: false,
        limit: Limit::Address,
        router,
    }
}

pub fn table(config: &Config) -> Vec<Route> {
    let exchange = || {
        get(crate::exchange::exchange)
            .post(crate::exchange::exchange)
            .layer(DefaultBodyLimit::max(
                config.exchange_1c.file_limit + 64 * 1024,
            ))
    };
    vec![
        api("/api/v1/auth", &["POST"], post(auth::http::auth)),
        api(
            "/api/v1/me",
            &["GET", "PATCH"],
            get(auth::http::me).patch(auth::http::update_me),
        )
        .limit(Limit::Customer),
        api("/api/v1/sections", &["GET"], get(catalog::http::sections)),
        api("/api/v1/products", &["GET"], get(catalog::http::products)),
        api(
            "/api/v1/products/{id}",
            &["GET"],
            get(catalog::http::product),
        ),
        api(
            "/api/v1/search/suggest",
            &["GET"],
            get(catalog::http::suggest),
        ),
        // Images are linked from the catalog's answers, not an API of their own.
        other(
            "/images/{hash}/{size}",
            &["GET"],
            get(catalog::images::image),
        ),
        api(
            "/api/v1/cart",
            &["GET", "DELETE"],
            get(cart::get_cart).delete(cart::clear),
        )
        .limit(Limit::Customer),
        api("/api/v1/cart/items", &["POST"], post(cart::add_item)).limit(Limit::Customer),
        api(
            "/api/v1/cart/items/{offer_id}",
            &["PATCH", "DELETE"],
            patch(cart::set_item).delete(cart::remove_item),
        )
        .limit(Limit::Customer),
        api(
            "/api/v1/checkout/options",
            &["GET"],
            get(orders::http::options),
        )
        .limit(Limit::Customer),
        api(
            "/api/v1/orders",
            &["GET", "POST"],
            get(orders::http::list).post(orders::http::create),
        )
        .limit(Limit::Checkout),
        api("/api/v1/orders/{id}", &["GET"], get(orders::http::get)).limit(Limit::Customer),
        api(
            "/api/v1/orders/{id}/repeat",
            &["POST"],
            post(orders::repeat::repeat),
        ),
        api(
            "/api/v1/subscriptions",
            &["GET", "POST"],
            get(selling::alerts::get_subscriptions).post(selling::alerts::create),
        ),
        api(
            "/api/v1/subscriptions/{id}",
            &["DELETE"],
            delete(selling::alerts::delete_subscription),
        ),
        api(
            "/api/v1/favorites",
            &["GET"],
            get(selling::favorites::get_favorites),
        ),
        api(
            "/api/v1/favorites/{product_id}",
            &["PUT", "DELETE"],
            put(selling::favorites::put_favorite).delete(selling::favorites::delete_favorite),
        ),
        api(
            "/api/v1/orders/{id}/invoice",
            &["POST"],
            post(crate::payments::invoice),
        )
        .limit(Limit::Checkout),
        // The staff desk (crate::desk): staff only, each route checks the role.
        api("/api/v1/staff/me", &["GET"], get(desk::http::me)).limit(Limit::Customer),
        api("/api/v1/staff/orders", &["GET"], get(desk::http::orders)).limit(Limit::Customer),
        api(
            "/api/v1/staff/orders/{id}",
            &["GET"],
            get(desk::http::order),
        )
        .limit(Limit::Customer),
        api(
            "/api/v1/staff/orders/{id}/status",
            &["POST"],
            post(desk::http::set_status),
        )
        .limit(Limit::Customer),
        api(
            "/api/v1/staff/orders/{id}/message",
            &["POST"],
            post(desk::http::message),
        )
        .limit(Limit::Customer),
        api("/api/v1/staff/summary", &["GET"], get(desk::http::summary)).limit(Limit::Customer),
        api(
            "/api/v1/staff/orders.csv",
            &["GET"],
            get(desk::http::orders_csv),
        )
        .limit(Limit::Customer),
        api("/api/v1/events", &["POST"], post(desk::http::event)).limit(Limit::Customer),
        // The 1C-Bitrix article's routes (crate::seed).
        api("/api/telegram/auth", &["POST"], post(seed::auth)),
        api("/api/telegram/catalog", &["GET"], get(seed::catalog)),
        api("/api/telegram/catalog/{id}", &["GET"], get(seed::product)),
        api("/api/telegram/cart", &["GET"], get(seed::cart)).limit(Limit::Customer),
        api("/api/telegram/cart/add", &["POST"], post(seed::cart_add)).limit(Limit::Customer),
        api("/api/telegram/order", &["POST"], post(seed::order)).limit(Limit::Checkout),
        api(
            "/api/telegram/payment/invoice",
            &["POST"],
            post(seed::invoice),
        )
        .limit(Limit::Checkout),
        other("/1c/exchange", &["GET", "POST"], exchange()).limit(Limit::OwnLockout),
        // Where 1C looks on a 1C-Bitrix site: a 1C set up for one works with vitrina unchanged.
        other(
            "/bitrix/admin/1c_exchange.php",
            &["GET", "POST"],
            exchange(),
        )
        .limit(Limit::OwnLockout),
        other(
            "/telegram/webhook",
            &["POST"],
            post(crate::telegram::updates::webhook),
        )
        .limit(Limit::Machine),
        other(
            "/bitrix/events",
            &["POST"],
            post(crate::bitrix::events::receive),
        )
        .limit(Limit::Machine),
        api("/healthz", &["GET"], get(ops::healthz)).limit(Limit::Machine),
        api("/readyz", &["GET"], get(ops::readyz)).limit(Limit::Machine),
        api("/metrics", &["GET"], get(ops::metrics)),
        other("/api/openapi.json", &["GET"], get(ops::openapi_json)),
        other("/api/docs", &["GET"], get(ops::docs)),
    ]
}

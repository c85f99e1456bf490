//! Every route the server mounts, in one table: the router is built from it
//! ([`crate::server::router`]) and the tests compare it with the OpenAPI document (each
//! documented route with its methods, each documented path mounted) and probe it against the
//! live app, so a route cannot be served undocumented or documented unserved.

use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

use crate::config::Config;
use crate::state::AppState;
use crate::{auth, cart, catalog, ops, orders, seed, selling};

pub struct Route {
    pub path: &'static str,
    /// Upper-case HTTP methods the route answers.
    pub methods: &'static [&'static str],
    /// In `/api/openapi.json`. The rest speak other protocols (1C's exchange, Telegram's
    /// webhook, Bitrix's events) or are the spec itself.
    pub documented: bool,
    pub router: MethodRouter<AppState>,
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
        ),
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
        ),
        api("/api/v1/cart/items", &["POST"], post(cart::add_item)),
        api(
            "/api/v1/cart/items/{offer_id}",
            &["PATCH", "DELETE"],
            patch(cart::set_item).delete(cart::remove_item),
        ),
        api(
            "/api/v1/checkout/options",
            &["GET"],
            get(orders::http::options),
        ),
        api(
            "/api/v1/orders",
            &["GET", "POST"],
            get(orders::http::list).post(orders::http::create),
        ),
        api("/api/v1/orders/{id}", &["GET"], get(orders::http::get)),
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
        ),
        // The 1C-Bitrix article's routes (crate::seed).
        api("/api/telegram/auth", &["POST"], post(seed::auth)),
        api("/api/telegram/catalog", &["GET"], get(seed::catalog)),
        api("/api/telegram/catalog/{id}", &["GET"], get(seed::product)),
        api("/api/telegram/cart", &["GET"], get(seed::cart)),
        api("/api/telegram/cart/add", &["POST"], post(seed::cart_add)),
        api("/api/telegram/order", &["POST"], post(seed::order)),
        api(
            "/api/telegram/payment/invoice",
            &["POST"],
            post(seed::invoice),
        ),
        other("/1c/exchange", &["GET", "POST"], exchange()),
        // Where 1C looks on a 1C-Bitrix site: a 1C set up for one works with vitrina unchanged.
        other(
            "/bitrix/admin/1c_exchange.php",
            &["GET", "POST"],
            exchange(),
        ),
        other(
            "/telegram/webhook",
            &["POST"],
            post(crate::telegram::updates::webhook),
        ),
        other(
            "/bitrix/events",
            &["POST"],
            post(crate::bitrix::events::receive),
        ),
        api("/healthz", &["GET"], get(ops::healthz)),
        api("/readyz", &["GET"], get(ops::readyz)),
        api("/metrics", &["GET"], get(ops::metrics)),
        other("/api/openapi.json", &["GET"], get(ops::openapi_json)),
        other("/api/docs", &["GET"], get(ops::docs)),
    ]
}

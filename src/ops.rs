//! Endpoints for operators and load balancers: liveness, readiness, metrics, the API spec.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::error::{ApiError, FieldError, Problem};
// `429 rate_limited` on the operations the rate limits cover.
use crate::rate_limit::OpenApiResponses as RateLimits;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "vitrina",
        description = "Telegram Mini App storefront for shops on 1C-Bitrix and 1C. \
            Every error is application/problem+json with a stable `code`."
    ),
    paths(
        healthz, readyz, metrics,
        crate::auth::http::auth, crate::auth::http::me, crate::auth::http::update_me,
        crate::catalog::http::sections, crate::catalog::http::products, crate::catalog::http::product,
        crate::catalog::http::suggest,
        crate::cart::get_cart, crate::cart::add_item, crate::cart::set_item, crate::cart::remove_item, crate::cart::clear,
        crate::orders::http::options, crate::orders::http::create, crate::orders::http::list, crate::orders::http::get,
        crate::payments::invoice, crate::orders::repeat::repeat,
        crate::selling::favorites::get_favorites, crate::selling::favorites::put_favorite,
        crate::selling::favorites::delete_favorite,
        crate::selling::alerts::create, crate::selling::alerts::get_subscriptions,
        crate::selling::alerts::delete_subscription,
        crate::seed::auth, crate::seed::catalog, crate::seed::product, crate::seed::cart,
        crate::seed::cart_add, crate::seed::order, crate::seed::invoice,
        crate::desk::http::me, crate::desk::http::orders, crate::desk::http::order,
        crate::desk::http::set_status, crate::desk::http::message, crate::desk::http::summary,
        crate::desk::http::orders_csv, crate::desk::http::event,
    ),
    components(schemas(Problem, FieldError, Health, Readiness, crate::sync_health::SyncState)),
    modifiers(&SecuritySchemes, &RateLimits)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "tma",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`tma <initData>`: Telegram.WebApp.initData as received",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("a session token from POST /api/v1/auth"))
                    .build(),
            ),
        );
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
    pub version: &'static str,
    /// This process's id among several instances.
    pub instance: String,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub database: &'static str,
    /// The catalog sources' last success and last error (informational: a failing sync does
    /// not make an instance unready, it still serves the catalog it has).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sync: Vec<crate::sync_health::SyncState>,
}

/// Liveness: the process is up and serving HTTP. Does not touch the database.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        instance: state.instance.clone(),
    })
}

/// Readiness: the database answers and its schema is current. A load balancer sends traffic
/// only to ready instances.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, body = Readiness),
    (status = 503, description = "database unreachable or not migrated", body = Problem, content_type = "application/problem+json")
))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    match tokio::time::timeout(std::time::Duration::from_secs(3), state.store.ready()).await {
        Ok(Ok(())) => Ok(Json(Readiness {
            status: "ok",
            database: state.store.backend().name(),
            sync: crate::sync_health::states(&state.store)
                .await
                .unwrap_or_default(),
        })),
        Ok(Err(e)) => Err(ApiError::unavailable("not_ready", e.to_string())),
        Err(_) => Err(ApiError::unavailable(
            "not_ready",
            "database did not answer within 3s",
        )),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")
))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    state
        .metrics
        .set_db_pool(state.store.pool_size(), state.store.pool_idle());
    // Depth is read from the database: with several instances it is the cluster's queue.
    if let Ok(depth) = state.outbox.depth().await {
        state.metrics.set_outbox_depth(depth.pending, depth.dead);
    }
    if let Ok(sync) = crate::sync_health::states(&state.store).await {
        state.metrics.set_sync_health(&sync);
    }
    state.metrics.set_public_memory(
        state.images.held(),
        state.images.renders(),
        state.limits.clients().iter().sum(),
    );
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn openapi_json() -> Response {
    match openapi().to_pretty_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A readable page rendered from the same spec, with no external scripts (works offline).
pub async fn docs() -> Response {
    let spec = serde_json::to_value(openapi()).unwrap_or_default();
    (StatusCode::OK, Html(render_docs(&spec))).into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render_docs(spec: &serde_json::Value) -> String {
    let title = spec["info"]["title"].as_str().unwrap_or("API");
    let mut html = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width'>\
         <title>{t} API</title><style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         code,pre{{background:#8881;padding:.1em .3em;border-radius:4px}}h3{{margin-bottom:.2em}}\
         .m{{display:inline-block;min-width:4.5em;font-weight:600}}table{{border-collapse:collapse}}td{{padding:2px 8px;vertical-align:top}}</style></head><body>\
         <h1>{t} API <small>{v}</small></h1><p>{d}</p><p>Machine-readable: <a href=/api/openapi.json>/api/openapi.json</a></p>",
        t = esc(title),
        v = esc(spec["info"]["version"].as_str().unwrap_or("")),
        d = esc(spec["info"]["description"].as_str().unwrap_or("")),
    );
    if let Some(paths) = spec["paths"].as_object() {
        for (path, item) in paths {
            let Some(ops) = item.as_object() else {
                continue;
            };
            for (method, op) in ops {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                html += &format!(
                    "<h3><span class=m>{}</span><code>{}</code></h3><p>{}</p>",
                    method.to_uppercase(),
                    esc(path),
                    esc(op["description"]
                        .as_str()
                        .or(op["summary"].as_str())
                        .unwrap_or(""))
                );
                if let Some(params) = op["parameters"].as_array() {
                    html += "<table>";
                    for p in params {
                        html += &format!(
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                            esc(p["name"].as_str().unwrap_or("")),
                            esc(p["in"].as_str().unwrap_or("")),
                            esc(p["description"].as_str().unwrap_or(""))
                        );
                    }
                    html += "</table>";
                }
                if let Some(responses) = op["responses"].as_object() {
                    let list: Vec<String> = responses
                        .iter()
                        .map(|(code, r)| {
                            format!(
                                "<b>{}</b> {}",
                                esc(code),
                                esc(r["description"].as_str().unwrap_or(""))
                            )
                        })
                        .collect();
                    html += &format!("<p>Responses: {}</p>", list.join(" · "));
                }
            }
        }
    }
    html += "<h2 id=problems>Errors</h2><p>Every error is <code>application/problem+json</code>: \
             <code>{type, title, status, detail, code, request_id, errors[]}</code>. Switch on <code>code</code>; \
             quote <code>request_id</code> when reporting a problem.</p></body></html>";
    html
}

#[cfg(test)]
mod tests {
    /// The Mini App's types are generated from `web/src/openapi.json` (`npm run gen:api`), so
    /// that copy must be this server's document. `UPDATE_OPENAPI=1 cargo test --lib
    /// committed_openapi` rewrites it; then run `npm run gen:api` in web/.
    #[test]
    fn committed_openapi_is_the_servers() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/src/openapi.json");
        let live = serde_json::to_value(super::openapi()).expect("the spec serialises");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            use serde::Serialize;
            let mut text = Vec::new();
            let format = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            super::openapi()
                .serialize(&mut serde_json::Serializer::with_formatter(
                    &mut text, format,
                ))
                .expect("the spec serialises");
            text.push(b'\n');
            std::fs::write(&path, text).expect("web/src/openapi.json is writable");
        }
        let committed: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&path).expect("web/src/openapi.json exists"),
        )
        .expect("web/src/openapi.json is JSON");
        assert!(
            committed == live,
            "web/src/openapi.json differs from the server's /api/openapi.json; refresh it with \
             UPDATE_OPENAPI=1 cargo test --lib committed_openapi, then npm run gen:api in web/"
        );
    }

    /// Generated clients name functions after operationIds: two operations with one id make
    /// the web types fail to compile (or silently merge) far from the route that caused it.
    #[test]
    fn operation_ids_are_unique() {
        let spec = serde_json::to_value(super::openapi()).expect("the spec serialises");
        let mut seen = std::collections::HashMap::new();
        for (path, methods) in spec["paths"].as_object().expect("paths") {
            for (method, op) in methods.as_object().expect("methods") {
                let Some(id) = op["operationId"].as_str() else {
                    continue;
                };
                if let Some(first) = seen.insert(id.to_string(), format!("{method} {path}")) {
                    panic!("operationId {id} is used by {first} and by {method} {path}");
                }
            }
        }
    }
}

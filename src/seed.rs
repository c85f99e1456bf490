//! The routes of the 1C-Bitrix article's Mini App (`/api/telegram/*`), in the shapes its
//! client reads, so a Mini App written after the article works against vitrina unchanged:
//!
//! - `POST /api/telegram/auth` `{init_data}` → `{token}` (a bearer token for the rest);
//! - `GET /api/telegram/catalog?page=N` → `{"items": [{id, name, text, image, price}]}` as the
//!   article's `CatalogController::index` answers: 20 a page, `id` a number where the shop's
//!   product ids are numbers (Bitrix) and a string otherwise (1C's GUIDs), `image` a URL path,
//!   `price` in rubles as a number;
//! - `GET /api/telegram/catalog/{id}` → one such item;
//! - `GET /api/telegram/cart`, `POST /api/telegram/cart/add` `{product_id|offer_id, quantity}`;
//! - `POST /api/telegram/order` `{name, phone, address?, comment?, delivery?}` →
//!   `{order_id, number, total}`;
//! - `POST /api/telegram/payment/invoice` `{order_id}` → `{invoice_url}`.
//!
//! Each maps onto the same code as `/api/v1`; this module only speaks the article's shapes.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Customer;
use crate::auth::http::AuthRequest;
use crate::catalog::http::{LARGE, cached, image_url, invalid};
use crate::catalog::snapshot::Product;
use crate::catalog::snapshot::SortKey;
use crate::config::PaymentMethod;
use crate::error::{ApiError, AuthErrors, BodyErrors, Problem};
use crate::extract::ApiJson;
use crate::orders::{CheckoutRequest, Contact, DeliveryChoice};
use crate::state::AppState;

/// A product id as the article's client has it: a number for numeric ids.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SeedId {
    Number(i64),
    Text(String),
}

impl SeedId {
    pub fn of(id: &str) -> Self {
        match id.parse::<i64>() {
            Ok(n) if n.to_string() == id => SeedId::Number(n),
            _ => SeedId::Text(id.to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedItem {
    pub id: SeedId,
    pub name: String,
    pub text: String,
    /// A URL path on this server (`/images/<hash>/1080x1080`), or null.
    pub image: Option<String>,
    /// In rubles, as the article's API has it.
    pub price: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedCatalog {
    pub items: Vec<SeedItem>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query for the OpenAPI spec; parsed by hand
pub struct SeedPage {
    /// 1-based page of 20 products.
    #[param(minimum = 1)]
    page: Option<usize>,
}

/// Seed-compatible catalog page (20 per page), as the 1C-Bitrix article's
/// `CatalogController::index` answers it.
#[utoipa::path(get, path = "/api/telegram/catalog", tag = "seed", params(SeedPage), responses(
    (status = 200, body = SeedCatalog),
    (status = 400, description = "invalid_parameter", body = Problem, content_type = "application/problem+json"),
))]
pub async fn catalog(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.catalog.snapshot();
    let page = match form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "page")
    {
        None => 1,
        Some((_, v)) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return invalid("page", "expected a page number from 1").into_response(),
        },
    };
    cached(&snapshot, &headers, &format!("seed/catalog/{page}"), || {
        Ok(SeedCatalog {
            items: snapshot
                .order(SortKey::Popular)
                .iter()
                .skip((page - 1).saturating_mul(20))
                .take(20)
                .map(|&i| item(&snapshot.products[i as usize]))
                .collect(),
        })
    })
}

fn item(p: &Product) -> SeedItem {
    SeedItem {
        id: SeedId::of(&p.id),
        name: p.name.clone(),
        text: p.description.clone().unwrap_or_default(),
        image: p.images.first().map(|h| image_url(h, LARGE)),
        price: p.min_price as f64 / 100.0,
    }
}

/// Seed-compatible product (`/api/telegram/catalog/{id}`).
#[utoipa::path(get, path = "/api/telegram/catalog/{id}", operation_id = "seed_product", tag = "seed", params(("id" = String, Path)), responses(
    (status = 200, body = SeedItem),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
pub async fn product(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.catalog.snapshot();
    cached(&snapshot, &headers, &format!("seed/product/{id}"), || {
        snapshot
            .product(&id)
            .map(item)
            .ok_or_else(|| ApiError::not_found("product"))
    })
}

/// Seed-compatible cart (`/api/telegram/cart`): the same cart as `GET /api/v1/cart`.
#[utoipa::path(get, path = "/api/telegram/cart", tag = "seed", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = crate::cart::Cart), AuthErrors))]
pub async fn cart(state: State<AppState>, customer: Customer) -> Response {
    crate::cart::get_cart(state, customer).await.into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedAuthResponse {
    pub token: String,
}

/// Seed-compatible sign-in (`/api/telegram/auth` from the 1C-Bitrix article): `{token}`.
#[utoipa::path(post, path = "/api/telegram/auth", operation_id = "seed_auth", tag = "seed", request_body = AuthRequest, responses(
    (status = 200, body = SeedAuthResponse), AuthErrors, BodyErrors,
))]
pub async fn auth(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AuthRequest>,
) -> Result<Json<SeedAuthResponse>, ApiError> {
    let customer = state.auth.sign_in(&body.init_data).await?;
    state.limits.sign_in(customer.telegram_id)?;
    Ok(Json(SeedAuthResponse {
        token: state.auth.issue_token(&customer)?.token,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedAdd {
    /// An offer id, or a product id (its first offer in stock).
    #[serde(alias = "product_id")]
    pub offer_id: String,
    #[serde(default = "one")]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

/// Seed-compatible add to cart (`/api/telegram/cart/add`).
#[utoipa::path(post, path = "/api/telegram/cart/add", tag = "seed", security(("tma" = []), ("bearer" = [])), request_body = SeedAdd,
    responses((status = 200, body = crate::cart::Cart), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), AuthErrors, BodyErrors))]
pub async fn cart_add(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<SeedAdd>,
) -> Result<Response, ApiError> {
    // A product id stands for its first offer that can be bought.
    let offer: Option<String> = sqlx::query(
        "SELECT id FROM offers WHERE product_id = $1 AND price IS NOT NULL \
         ORDER BY CASE WHEN COALESCE(stock_milli, 0) >= 1000 THEN 0 ELSE 1 END, id LIMIT 1",
    )
    .bind(&body.offer_id)
    .fetch_optional(state.store.pool())
    .await?
    .map(|r| sqlx::Row::try_get(&r, 0))
    .transpose()?;
    let offer = offer.unwrap_or(body.offer_id);
    crate::cart::add_item(
        State(state),
        customer,
        ApiJson(crate::cart::AddItem {
            offer_id: offer,
            quantity: body.quantity,
        }),
    )
    .await
    .map(IntoResponse::into_response)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedOrder {
    pub name: String,
    pub phone: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// A delivery method id; the first configured one when absent.
    #[serde(default)]
    pub delivery: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedOrderResponse {
    pub order_id: i64,
    pub number: String,
    pub total: f64,
}

/// Seed-compatible checkout (`/api/telegram/order`). Without an `Idempotency-Key` the key is
/// derived from the form and the minute, so a double tap places one order.
#[utoipa::path(post, path = "/api/telegram/order", tag = "seed", security(("tma" = []), ("bearer" = [])), request_body = SeedOrder,
    responses((status = 200, body = SeedOrderResponse), (status = 409, body = Problem, content_type = "application/problem+json"), AuthErrors, BodyErrors))]
pub async fn order(
    State(state): State<AppState>,
    customer: Customer,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SeedOrder>,
) -> Result<Json<SeedOrderResponse>, ApiError> {
    let method = body
        .delivery
        .clone()
        .or_else(|| state.config.checkout.delivery.first().map(|d| d.id.clone()))
        .unwrap_or_default();
    let req = CheckoutRequest {
        contact: Contact {
            name: body.name.clone(),
            phone: body.phone.clone(),
            email: None,
        },
        delivery: DeliveryChoice {
            pickup_point: state
                .config
                .checkout
                .delivery
                .iter()
                .find(|d| d.id == method)
                .and_then(|d| d.pickup_points.first().cloned()),
            method,
            address: body.address.clone(),
        },
        payment_method: state
            .config
            .checkout
            .payment_methods
            .first()
            .copied()
            .unwrap_or(PaymentMethod::OnReceipt),
        comment: body.comment.clone(),
        coupon: None,
    };
    let key = match crate::orders::http::idempotency_key(&headers) {
        Ok(k) => k,
        Err(_) => {
            // The same form within the same minute is the same order: a double tap (or a
            // retry after a lost answer) gets that order back instead of a second one.
            use sha2::Digest;
            let minute = crate::store::now_ms() / 60_000;
            let digest =
                sha2::Sha256::digest(serde_json::to_vec(&(minute, &req)).unwrap_or_default());
            format!(
                "seed-{}",
                digest
                    .iter()
                    .take(16)
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )
        }
    };
    crate::orders::http::recheck_stock(&state, customer.id).await?;
    let (order, _) = crate::orders::place(
        &state.config,
        &state.store,
        &state.outbox,
        customer.id,
        &key,
        &req,
        state.checkout_hooks.as_ref(),
    )
    .await?;
    Ok(Json(SeedOrderResponse {
        order_id: order.id,
        number: order.number,
        total: order.total.amount as f64 / 100.0,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedInvoice {
    pub order_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedInvoiceUrl {
    pub invoice_url: String,
}

/// Seed-compatible invoice (`/api/telegram/payment/invoice`).
#[utoipa::path(post, path = "/api/telegram/payment/invoice", operation_id = "seed_invoice", tag = "seed", security(("tma" = []), ("bearer" = [])), request_body = SeedInvoice,
    responses(
        (status = 200, body = SeedInvoiceUrl),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors,
        AuthErrors,
    ))]
pub async fn invoice(
    State(state): State<AppState>,
    customer: Customer,
    crate::extract::ApiJson(body): crate::extract::ApiJson<SeedInvoice>,
) -> Result<Json<SeedInvoiceUrl>, ApiError> {
    let link = crate::payments::create_invoice(&state, customer, body.order_id).await?;
    Ok(Json(SeedInvoiceUrl {
        invoice_url: link.invoice_link,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_numbers_where_the_shop_numbers_them() {
        let json = |id: &str| serde_json::to_value(SeedId::of(id)).unwrap();
        assert_eq!(json("42"), serde_json::json!(42));
        // Not a number as written: leading zeros, GUIDs, variations.
        assert_eq!(json("007"), serde_json::json!("007"));
        assert_eq!(
            json("bd72d8f9-1c2a-11e0-9a1d-001a4d5e6f7a"),
            serde_json::json!("bd72d8f9-1c2a-11e0-9a1d-001a4d5e6f7a")
        );
        assert_eq!(json("1#10001"), serde_json::json!("1#10001"));
    }
}

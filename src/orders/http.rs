//! Checkout and order endpoints.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CheckoutRequest, Contact, DeliveryChoice, Order};
use crate::auth::Customer;
use crate::config::PaymentMethod;
use crate::error::{ApiError, AuthErrors, BodyErrors, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOption {
    pub id: String,
    /// In the customer's language (ru, en).
    pub name: String,
    pub price: i64,
    pub free_from: Option<i64>,
    pub needs_address: bool,
    pub pickup_points: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutOptions {
    pub currency: String,
    pub delivery: Vec<DeliveryOption>,
    pub payment_methods: Vec<PaymentMethod>,
    /// Seconds an order paid online (`telegram`, `stars`) waits for its payment before it is
    /// cancelled; 0: it waits until staff cancel it.
    pub payment_hold_seconds: u64,
    /// The most units of one item an order line may hold (or the stock, if lower).
    pub max_line_quantity: i64,
}

/// Delivery and payment methods this shop offers.
#[utoipa::path(get, path = "/api/v1/checkout/options", tag = "orders", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = CheckoutOptions), AuthErrors))]
pub async fn options(State(state): State<AppState>, customer: Customer) -> Json<CheckoutOptions> {
    let english = customer
        .language_code
        .as_deref()
        .is_some_and(|l| !l.starts_with("ru"));
    let c = &state.config.checkout;
    Json(CheckoutOptions {
        currency: c.currency.clone(),
        delivery: c
            .delivery
            .iter()
            .map(|d| DeliveryOption {
                id: d.id.clone(),
                name: if english {
                    d.name_en.clone().unwrap_or_else(|| d.name.clone())
                } else {
                    d.name.clone()
                },
                price: d.price,
                free_from: d.free_from,
                needs_address: d.needs_address,
                pickup_points: d.pickup_points.clone(),
            })
            .collect(),
        payment_methods: c.payment_methods.clone(),
        payment_hold_seconds: c.payment_hold.as_secs(),
        max_line_quantity: c.max_line_quantity,
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "idempotency_key_required",
                "send an Idempotency-Key header (a new UUID per checkout)",
            )
        })?;
    if key.len() > 200 {
        return Err(ApiError::bad_request(
            "idempotency_key_invalid",
            "Idempotency-Key is longer than 200 characters",
        ));
    }
    Ok(key.to_string())
}

/// Places an order from the cart. The same `Idempotency-Key` with the same body returns the
/// same order (200); with a different body, 409.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", security(("tma" = []), ("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "A new random key per checkout attempt; repeat it when retrying")),
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "placed", body = Order),
        (status = 200, description = "placed before with this key", body = Order),
        (status = 400, description = "idempotency_key_required", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "cart_empty, cart_unavailable (per-item errors: insufficient_stock, not_for_sale, line_quantity_limit), idempotency_key_reused, too_many_unpaid_orders", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn create(
    State(state): State<AppState>,
    customer: Customer,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CheckoutRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let (order, created) = super::place(
        &state.config,
        &state.store,
        &state.outbox,
        customer.id,
        &key,
        &req,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(order)).into_response())
}

/// The customer's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = Vec<Order>), AuthErrors))]
pub async fn list(
    State(state): State<AppState>,
    customer: Customer,
) -> Result<Json<Vec<Order>>, ApiError> {
    let mut orders = Vec::new();
    for id in super::list_ids(&state.store, Some(customer.id), None, 50).await? {
        if let Some(order) = super::load(&state.store, customer.id, id).await? {
            orders.push(order);
        }
    }
    Ok(Json(orders))
}

/// One of the customer's orders with its status timeline; another customer's is a 404.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("tma" = []), ("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Order),
        (status = 400, description = "the id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn get(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<i64>,
) -> Result<Json<Order>, ApiError> {
    super::load(&state.store, customer.id, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("order"))
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
pub async fn seed_cart_add(
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
pub async fn seed_order(
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
    };
    let key = match idempotency_key(&headers) {
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
    let (order, _) = super::place(
        &state.config,
        &state.store,
        &state.outbox,
        customer.id,
        &key,
        &req,
    )
    .await?;
    Ok(Json(SeedOrderResponse {
        order_id: order.id,
        number: order.number,
        total: order.total.amount as f64 / 100.0,
    }))
}

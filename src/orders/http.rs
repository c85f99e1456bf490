//! Checkout and order endpoints.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::{CheckoutRequest, Order, PlaceOrderError, SetStatusError, ValidateError};
use crate::auth::Customer;
use crate::config::PaymentMethod;
use crate::error::{ApiError, AuthErrors, BodyErrors, FieldError, Problem};
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
    /// Whether checkout takes a coupon (shops on Bitrix).
    pub coupons: bool,
    /// The shop bot's username, for links that open the Mini App from any chat
    /// (`https://t.me/<bot>?startapp=product_<id>`); absent without a bot, or until Telegram
    /// has answered `getMe`.
    pub bot_username: Option<String>,
}

/// Delivery and payment methods this shop offers.
#[utoipa::path(get, path = "/api/v1/checkout/options", tag = "orders", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = CheckoutOptions), AuthErrors))]
pub async fn options(State(state): State<AppState>, customer: Customer) -> Json<CheckoutOptions> {
    // Checkout opened: the funnel's checkout step (once a day per customer).
    state
        .funnel
        .note(
            &state.store,
            crate::desk::funnel::Kind::Checkout,
            customer.id,
            "",
        )
        .await;
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
        coupons: state.config.backend.kind == crate::config::BackendKind::Bitrix,
        bot_username: state.bot_username.get().cloned(),
    })
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
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
        (status = 400, description = "idempotency_key_required, coupons_unsupported", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "cart_empty, cart_unavailable (per-item errors: insufficient_stock, not_for_sale, line_quantity_limit; also when the shop's own stock is gone), idempotency_key_reused, too_many_unpaid_orders", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn create(
    State(state): State<AppState>,
    customer: Customer,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CheckoutRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    state
        .funnel
        .note(
            &state.store,
            crate::desk::funnel::Kind::Checkout,
            customer.id,
            "",
        )
        .await;
    recheck_stock(&state, customer.id).await?;
    let (order, created) = super::place(
        &state.config,
        &state.store,
        &state.outbox,
        customer.id,
        &key,
        &req,
        state.checkout_hooks.as_ref(),
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
    Ok(Json(
        super::list(&state.store, Some(customer.id), None, 50).await?,
    ))
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

/// In Bitrix mode, the cart's lines against Bitrix's own stock before anything is taken or
/// charged: per-line `insufficient_stock` / `not_for_sale`, as the cart's own check answers.
pub(crate) async fn recheck_stock(
    state: &AppState,
    customer: crate::auth::CustomerId,
) -> Result<(), ApiError> {
    let Some(bx) = state
        .bitrix
        .as_ref()
        .filter(|b| !b.config.bitrix.checkout_stock_timeout.is_zero())
    else {
        return Ok(());
    };
    let mut conn = state
        .store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    let lines: Vec<(String, i64)> = crate::cart::live_lines(&mut conn, customer)
        .await?
        .into_iter()
        .map(|l| (l.offer_id, l.quantity))
        .collect();
    drop(conn);
    match crate::bitrix::checkout_stock::check(bx, &lines).await {
        Ok(short) if short.is_empty() => Ok(()),
        Ok(short) => {
            let mut e = ApiError::conflict(
                "cart_unavailable",
                "some items cannot be ordered as they are",
            );
            e.errors = short
                .iter()
                .map(|s| crate::error::FieldError {
                    field: format!("cart.{}", s.offer_id),
                    code: if s.sold {
                        "insufficient_stock"
                    } else {
                        "not_for_sale"
                    }
                    .into(),
                    message: if s.sold {
                        format!("only {} left in stock", s.available)
                    } else {
                        "no longer sold; remove it from the cart".into()
                    },
                })
                .collect();
            Err(e)
        }
        Err(e) => {
            tracing::warn!(error = %e, "checkout: Bitrix stock not checked; vitrina's own stock decides");
            Ok(())
        }
    }
}

impl From<ValidateError> for ApiError {
    fn from(e: ValidateError) -> Self {
        match e {
            ValidateError::Fields(errors) => ApiError::validation(errors),
            ValidateError::CouponsUnsupported => {
                let mut api = ApiError::bad_request("coupons_unsupported", e.to_string());
                api.errors = vec![FieldError {
                    field: "coupon".into(),
                    code: "coupons_unsupported".into(),
                    message: "this shop takes no coupons".into(),
                }];
                api
            }
        }
    }
}

impl From<PlaceOrderError> for ApiError {
    fn from(e: PlaceOrderError) -> Self {
        match e {
            PlaceOrderError::Invalid(e) => e.into(),
            PlaceOrderError::IdempotencyKeyReused => {
                ApiError::conflict("idempotency_key_reused", e.to_string())
            }
            PlaceOrderError::CartEmpty => ApiError::conflict("cart_empty", e.to_string()),
            PlaceOrderError::CartUnavailable(errors) => {
                let mut api = ApiError::conflict(
                    "cart_unavailable",
                    "some items cannot be ordered as they are",
                );
                api.errors = errors;
                api
            }
            PlaceOrderError::Limit(e) => e.into(),
            PlaceOrderError::Vanished(_) => ApiError::not_found("order"),
            PlaceOrderError::Store(e) => e.into(),
        }
    }
}

impl From<SetStatusError> for ApiError {
    fn from(e: SetStatusError) -> Self {
        match e {
            SetStatusError::UnknownStatus { .. } => {
                ApiError::bad_request("unknown_status", e.to_string())
            }
            SetStatusError::NotFound(_) => ApiError::not_found("order"),
            SetStatusError::TransitionNotAllowed { .. } => {
                ApiError::conflict("transition_not_allowed", e.to_string())
            }
            SetStatusError::StatusChanged => ApiError::conflict("status_changed", e.to_string()),
            SetStatusError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn field(code: &str) -> FieldError {
        FieldError {
            field: "cart.o1".into(),
            code: code.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn checkout_errors_keep_their_codes_and_statuses() {
        let cases: Vec<(PlaceOrderError, StatusCode, &str)> = vec![
            (
                ValidateError::Fields(vec![field("required")]).into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                ValidateError::CouponsUnsupported.into(),
                StatusCode::BAD_REQUEST,
                "coupons_unsupported",
            ),
            (
                PlaceOrderError::IdempotencyKeyReused,
                StatusCode::CONFLICT,
                "idempotency_key_reused",
            ),
            (
                PlaceOrderError::CartEmpty,
                StatusCode::CONFLICT,
                "cart_empty",
            ),
            (
                PlaceOrderError::CartUnavailable(vec![field("insufficient_stock")]),
                StatusCode::CONFLICT,
                "cart_unavailable",
            ),
            (
                super::super::limits::LimitError::TooManyUnpaid { open: 3, max: 3 }.into(),
                StatusCode::CONFLICT,
                "too_many_unpaid_orders",
            ),
            (
                PlaceOrderError::Vanished(1),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                sqlx::Error::PoolTimedOut.into(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status, api.code), (status, code));
        }
        let api = ApiError::from(PlaceOrderError::CartUnavailable(vec![field(
            "not_for_sale",
        )]));
        assert_eq!(api.errors.len(), 1);
        assert_eq!(api.errors[0].code, "not_for_sale");
        let api = ApiError::from(PlaceOrderError::from(ValidateError::CouponsUnsupported));
        assert_eq!(api.errors[0].field, "coupon");
    }

    #[test]
    fn status_errors_keep_their_codes_and_statuses() {
        let cases: Vec<(SetStatusError, StatusCode, &str)> = vec![
            (
                SetStatusError::UnknownStatus {
                    to: "x".into(),
                    known: "new".into(),
                },
                StatusCode::BAD_REQUEST,
                "unknown_status",
            ),
            (
                SetStatusError::NotFound(1),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (
                SetStatusError::TransitionNotAllowed {
                    from: "new".into(),
                    to: "shipped".into(),
                },
                StatusCode::CONFLICT,
                "transition_not_allowed",
            ),
            (
                SetStatusError::StatusChanged,
                StatusCode::CONFLICT,
                "status_changed",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status, api.code), (status, code));
        }
    }
}

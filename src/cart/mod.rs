//! The customer's cart, kept on the server. Every answer carries current prices and stock
//! and says what changed since a line was added; the client never sends a price.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::auth::{Customer, CustomerId};
use crate::catalog::http::{THUMB, image_url};
use crate::error::{ApiError, AuthErrors, BodyErrors, Problem};
use crate::extract::ApiJson;
use crate::money::Money;
use crate::state::AppState;
use crate::store::{StoreError, now_ms};

pub const MAX_QUANTITY: i64 = 999;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CartLine {
    pub offer_id: String,
    pub product_id: Option<String>,
    pub name: String,
    /// The variant's characteristics, e.g. `Размер: M`.
    pub variant: Option<String>,
    pub image: Option<String>,
    pub quantity: i64,
    /// Current price; absent when the offer is gone or not for sale.
    pub price: Option<Money>,
    pub line_total: i64,
    /// Units in stock now.
    pub stock: i64,
    /// The most this line may hold: `checkout.max_line_quantity` or the stock, if lower.
    pub max_quantity: i64,
    /// The price when the line was added, if it has changed since.
    pub price_was: Option<i64>,
    /// The offer is no longer sold: the line is kept so the customer sees what happened.
    pub removed: bool,
    /// Fewer in stock than the quantity asked for.
    pub insufficient_stock: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    /// Sum of the lines that can be bought.
    pub total: Money,
    pub items: i64,
    /// True when any line changed (price, stock, removed) since it was added.
    pub has_changes: bool,
}

/// A cart line as read from the database, with the live offer.
pub struct LiveLine {
    pub offer_id: String,
    pub product_id: Option<String>,
    pub name: String,
    pub variant: Option<String>,
    pub image: Option<String>,
    pub quantity: i64,
    pub price_seen: Option<i64>,
    pub price: Option<i64>,
    pub currency: String,
    pub stock_units: i64,
}

pub fn variant_text(characteristics: Option<&str>) -> Option<String> {
    let list: Vec<serde_json::Value> = serde_json::from_str(characteristics?).ok()?;
    let parts: Vec<String> = list
        .iter()
        .filter_map(|c| Some(format!("{}: {}", c["name"].as_str()?, c["value"].as_str()?)))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The cart's lines with current offer data. Runs on a connection so checkout can read it
/// inside its transaction.
pub async fn live_lines(
    conn: &mut AnyConnection,
    customer: CustomerId,
) -> Result<Vec<LiveLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.offer_id, c.quantity, c.price_seen, o.price, o.currency, o.stock_milli, o.name AS offer_name, \
             o.characteristics, o.product_id, p.name AS product_name, p.images \
         FROM cart_lines c LEFT JOIN offers o ON o.id = c.offer_id LEFT JOIN products p ON p.id = o.product_id \
         WHERE c.customer_id = $1 ORDER BY c.added_at, c.offer_id",
    )
    .bind(customer.0)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let images: Option<String> = r.try_get("images")?;
            let image = images
                .and_then(|i| serde_json::from_str::<Vec<String>>(&i).ok())
                .and_then(|i| i.into_iter().next())
                .map(|h| image_url(&h, THUMB));
            let offer_id: String = r.try_get("offer_id")?;
            let name = r
                .try_get::<Option<String>, _>("product_name")?
                .or(r.try_get::<Option<String>, _>("offer_name")?)
                .unwrap_or_else(|| offer_id.clone());
            let characteristics: Option<String> = r.try_get("characteristics")?;
            Ok(LiveLine {
                product_id: r.try_get("product_id")?,
                name,
                variant: variant_text(characteristics.as_deref()),
                image,
                quantity: r.try_get("quantity")?,
                price_seen: r.try_get("price_seen")?,
                price: r.try_get("price")?,
                currency: r
                    .try_get::<Option<String>, _>("currency")?
                    .unwrap_or_else(|| "RUB".into()),
                stock_units: r
                    .try_get::<Option<i64>, _>("stock_milli")?
                    .unwrap_or(0)
                    .max(0)
                    / 1000,
                offer_id,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

pub fn view(lines: Vec<LiveLine>, currency: &str, max_line_quantity: i64) -> Cart {
    let mut total = 0;
    let mut items = 0;
    let mut has_changes = false;
    let lines = lines
        .into_iter()
        .map(|l| {
            let removed = l.price.is_none();
            let insufficient_stock = !removed && l.stock_units < l.quantity;
            let price_was = l
                .price_seen
                .filter(|seen| Some(*seen) != l.price && !removed);
            let line_total = if removed {
                0
            } else {
                l.price.unwrap_or(0) * l.quantity
            };
            if !removed && !insufficient_stock {
                total += line_total;
                items += l.quantity;
            }
            has_changes |= removed || insufficient_stock || price_was.is_some();
            CartLine {
                offer_id: l.offer_id,
                product_id: l.product_id,
                name: l.name,
                variant: l.variant,
                image: l.image,
                quantity: l.quantity,
                price: l.price.map(|amount| Money {
                    amount,
                    currency: l.currency.clone(),
                }),
                line_total,
                stock: l.stock_units,
                max_quantity: max_line_quantity.min(l.stock_units),
                price_was,
                removed,
                insufficient_stock,
            }
        })
        .collect();
    Cart {
        lines,
        total: Money {
            amount: total,
            currency: currency.to_string(),
        },
        items,
        has_changes,
    }
}

async fn load(state: &AppState, customer: CustomerId) -> Result<Cart, ApiError> {
    let mut conn = state.store.pool().acquire().await?;
    let lines = live_lines(&mut conn, customer).await?;
    Ok(view(
        lines,
        &state.config.checkout.currency,
        state.config.checkout.max_line_quantity,
    ))
}

/// The signed-in customer's cart.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = Cart), AuthErrors))]
pub async fn get_cart(
    State(state): State<AppState>,
    customer: Customer,
) -> Result<Json<Cart>, ApiError> {
    Ok(Json(load(&state, customer.id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    pub offer_id: String,
    /// Added to what is already in the cart.
    #[schema(minimum = 1, maximum = 999)]
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuantity {
    #[schema(minimum = 1, maximum = 999)]
    pub quantity: i64,
}

fn check_quantity(quantity: i64) -> Result<(), ApiError> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        let mut e = ApiError::validation(Vec::new());
        e.errors.push(crate::error::FieldError {
            field: "quantity".into(),
            code: "out_of_range".into(),
            message: format!("expected 1 to {MAX_QUANTITY}"),
        });
        return Err(e);
    }
    Ok(())
}

/// Adds an offer (a product variant) to the cart.
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", security(("tma" = []), ("bearer" = [])), request_body = AddItem,
    responses(
        (status = 200, body = Cart),
        (status = 404, description = "offer_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not_for_sale, insufficient_stock or line_quantity_limit (more of one item than a line may hold)", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn add_item(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(item): ApiJson<AddItem>,
) -> Result<Json<Cart>, ApiError> {
    check_quantity(item.quantity)?;
    add(&state, &customer, &item.offer_id, item.quantity).await?;
    // A cart started (counted once a day per customer).
    state
        .funnel
        .note(
            &state.store,
            crate::desk::funnel::Kind::Cart,
            customer.id,
            "",
        )
        .await;
    crate::selling::reminder::cart_changed(&state, customer.id).await?;
    Ok(Json(load(&state, customer.id).await?))
}

pub async fn add(
    state: &AppState,
    customer: &Customer,
    offer_id: &str,
    quantity: i64,
) -> Result<(), ApiError> {
    let offer = sqlx::query("SELECT price, stock_milli FROM offers WHERE id = $1")
        .bind(offer_id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "offer_not_found",
                "no such offer in the catalog",
            )
        })?;
    let price: Option<i64> = offer.try_get("price")?;
    let stock = offer
        .try_get::<Option<i64>, _>("stock_milli")?
        .unwrap_or(0)
        .max(0)
        / 1000;
    let Some(price) = price else {
        return Err(ApiError::conflict(
            "not_for_sale",
            "this offer has no price and cannot be bought",
        ));
    };
    let in_cart: i64 =
        sqlx::query("SELECT quantity FROM cart_lines WHERE customer_id = $1 AND offer_id = $2")
            .bind(customer.id.0)
            .bind(offer_id)
            .fetch_optional(state.store.pool())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
    let wanted = in_cart + quantity;
    if wanted > stock {
        return Err(ApiError::conflict(
            "insufficient_stock",
            format!("only {stock} in stock"),
        ));
    }
    if wanted > MAX_QUANTITY {
        return check_quantity(wanted);
    }
    crate::orders::limits::check_line(&state.config, wanted)?;
    sqlx::query(
        "INSERT INTO cart_lines (customer_id, offer_id, quantity, price_seen, added_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (customer_id, offer_id) DO UPDATE SET quantity = cart_lines.quantity + excluded.quantity",
    )
    .bind(customer.id.0)
    .bind(offer_id)
    .bind(quantity)
    .bind(price)
    .bind(now_ms())
    .execute(state.store.pool())
    .await?;
    Ok(())
}

/// Sets a line's quantity.
#[utoipa::path(patch, path = "/api/v1/cart/items/{offer_id}", tag = "cart", security(("tma" = []), ("bearer" = [])),
    params(("offer_id" = String, Path, description = "URL-encoded: offer ids contain #")), request_body = SetQuantity,
    responses(
        (status = 200, body = Cart),
        (status = 404, description = "not_in_cart", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "line_quantity_limit: more of one item than a line may hold", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn set_item(
    State(state): State<AppState>,
    customer: Customer,
    Path(offer_id): Path<String>,
    ApiJson(body): ApiJson<SetQuantity>,
) -> Result<Json<Cart>, ApiError> {
    check_quantity(body.quantity)?;
    crate::orders::limits::check_line(&state.config, body.quantity)?;
    let updated =
        sqlx::query("UPDATE cart_lines SET quantity = $1 WHERE customer_id = $2 AND offer_id = $3")
            .bind(body.quantity)
            .bind(customer.id.0)
            .bind(&offer_id)
            .execute(state.store.pool())
            .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_in_cart",
            "this offer is not in the cart",
        ));
    }
    crate::selling::reminder::cart_changed(&state, customer.id).await?;
    Ok(Json(load(&state, customer.id).await?))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/v1/cart/items/{offer_id}", tag = "cart", security(("tma" = []), ("bearer" = [])),
    params(("offer_id" = String, Path)), responses((status = 200, body = Cart), AuthErrors))]
pub async fn remove_item(
    State(state): State<AppState>,
    customer: Customer,
    Path(offer_id): Path<String>,
) -> Result<Json<Cart>, ApiError> {
    sqlx::query("DELETE FROM cart_lines WHERE customer_id = $1 AND offer_id = $2")
        .bind(customer.id.0)
        .bind(&offer_id)
        .execute(state.store.pool())
        .await?;
    crate::selling::reminder::cart_changed(&state, customer.id).await?;
    Ok(Json(load(&state, customer.id).await?))
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "cart", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = Cart), AuthErrors))]
pub async fn clear(
    State(state): State<AppState>,
    customer: Customer,
) -> Result<Json<Cart>, ApiError> {
    sqlx::query("DELETE FROM cart_lines WHERE customer_id = $1")
        .bind(customer.id.0)
        .execute(state.store.pool())
        .await?;
    crate::selling::reminder::cart_changed(&state, customer.id).await?;
    Ok(Json(load(&state, customer.id).await?))
}

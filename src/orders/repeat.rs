//! Repeat an order: its items that are still sold go into the cart at today's prices, as much
//! of each as stock and the line limit allow; the answer says what could not be added and why.
//! It only reads the order ([`super::load`]) and adds through the cart ([`crate::cart::add`]).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::auth::Customer;
use crate::cart::{Cart, MAX_QUANTITY};
use crate::error::{ApiError, AuthErrors, Problem};
use crate::state::AppState;

/// Why an item of the order did not go into the cart, or not all of it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NotAddedReason {
    /// The offer is no longer in the catalog.
    Gone,
    /// It is in the catalog without a price.
    NotForSale,
    /// None in stock beyond what the cart already holds.
    OutOfStock,
    /// Fewer in stock than ordered: what there is was added.
    PartlyInStock,
    /// The cart line is already at `checkout.max_line_quantity`, or would exceed it.
    LineQuantityLimit,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotAdded {
    pub offer_id: String,
    pub product_id: String,
    pub name: String,
    pub variant: Option<String>,
    /// Units in the order.
    pub ordered: i64,
    /// Units put into the cart (less than ordered).
    pub added: i64,
    pub reason: NotAddedReason,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceChange {
    pub offer_id: String,
    pub name: String,
    /// The price paid in the order, minor units.
    pub was: i64,
    /// Today's price, the one in the cart.
    pub now: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Repeated {
    /// The cart after adding, with today's prices.
    pub cart: Cart,
    /// Items added in full.
    pub added: Vec<String>,
    /// Items not added, or not all of them, and why.
    pub not_added: Vec<NotAdded>,
    /// Added items whose price is not what the order paid.
    pub price_changes: Vec<PriceChange>,
}

/// Puts the still-available items of one of the customer's orders into the cart at today's
/// prices, and says what could not be added and why.
#[utoipa::path(post, path = "/api/v1/orders/{id}/repeat", tag = "orders", security(("tma" = []), ("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Repeated),
        (status = 400, description = "the id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not_found: no such order of this customer", body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn repeat(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<i64>,
) -> Result<Json<Repeated>, ApiError> {
    let order = super::load(&state.store, customer.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    // One entry per offer, in order: an order may list one offer on several lines.
    let mut items: Vec<super::OrderItem> = Vec::new();
    for item in order.items {
        match items.iter_mut().find(|i| i.offer_id == item.offer_id) {
            Some(i) => i.quantity += item.quantity,
            None => items.push(item),
        }
    }
    let line_cap = state.config.checkout.max_line_quantity.min(MAX_QUANTITY);
    let mut added = Vec::new();
    let mut not_added = Vec::new();
    let mut price_changes = Vec::new();
    for item in items {
        let live = sqlx::query("SELECT price, stock_milli FROM offers WHERE id = $1")
            .bind(&item.offer_id)
            .fetch_optional(state.store.pool())
            .await?;
        let in_cart: i64 =
            sqlx::query("SELECT quantity FROM cart_lines WHERE customer_id = $1 AND offer_id = $2")
                .bind(customer.id.0)
                .bind(&item.offer_id)
                .fetch_optional(state.store.pool())
                .await?
                .map(|r| r.try_get(0))
                .transpose()?
                .unwrap_or(0);
        let mut skip = |added: i64, reason| {
            not_added.push(NotAdded {
                offer_id: item.offer_id.clone(),
                product_id: item.product_id.clone(),
                name: item.name.clone(),
                variant: item.variant.clone(),
                ordered: item.quantity,
                added,
                reason,
            })
        };
        let Some(live) = live else {
            skip(0, NotAddedReason::Gone);
            continue;
        };
        let Some(price) = live.try_get::<Option<i64>, _>("price")? else {
            skip(0, NotAddedReason::NotForSale);
            continue;
        };
        let stock = live
            .try_get::<Option<i64>, _>("stock_milli")?
            .unwrap_or(0)
            .max(0)
            / 1000;
        let by_stock = (stock - in_cart).max(0);
        let by_line = (line_cap - in_cart).max(0);
        let quantity = item.quantity.min(by_stock).min(by_line);
        if quantity > 0 {
            match crate::cart::add(&state, &customer, &item.offer_id, quantity).await {
                Ok(()) => {}
                // Stock taken by someone else between the read and the add.
                Err(e) if e.code == "insufficient_stock" => {
                    skip(0, NotAddedReason::OutOfStock);
                    continue;
                }
                Err(e) => return Err(e),
            }
            if price != item.price {
                price_changes.push(PriceChange {
                    offer_id: item.offer_id.clone(),
                    name: item.name.clone(),
                    was: item.price,
                    now: price,
                });
            }
        }
        if quantity == item.quantity {
            added.push(item.offer_id.clone());
        } else if by_stock < item.quantity && by_stock <= by_line {
            skip(
                quantity,
                if quantity == 0 {
                    NotAddedReason::OutOfStock
                } else {
                    NotAddedReason::PartlyInStock
                },
            );
        } else {
            skip(quantity, NotAddedReason::LineQuantityLimit);
        }
    }
    if !added.is_empty() || not_added.iter().any(|n| n.added > 0) {
        crate::selling::reminder::cart_changed(&state, customer.id).await?;
    }
    let mut conn = state.store.pool().acquire().await?;
    let lines = crate::cart::live_lines(&mut conn, customer.id).await?;
    let cart = crate::cart::view(
        lines,
        &state.config.checkout.currency,
        state.config.checkout.max_line_quantity,
    );
    Ok(Json(Repeated {
        cart,
        added,
        not_added,
        price_changes,
    }))
}

//! What one customer can hold: a cap on units per cart or order line, and on open unpaid
//! online-payment orders.
//!
//! An order counts as **open and unpaid** when it is to be paid online (`telegram`, `stars`),
//! its `payment_state` is `unpaid`, its status is not one of `orders.restock_on` (cancelled:
//! its goods went back) and still waits for a payment (the flow lets it become `paid`: not
//! moved on by staff or the master system), and its payment hold has not run out (it is about
//! to be cancelled).
//! Orders paid on receipt do not count, and an `on_receipt` checkout is never refused for
//! this: the limit is there so that nobody keeps goods out of stock by not paying.

use axum::http::StatusCode;
use sqlx::{AnyConnection, Row};

use crate::auth::CustomerId;
use crate::config::{Config, PaymentMethod};
use crate::error::{ApiError, FieldError};
use crate::store::{Backend, StoreError, duration_ms, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error(
        "{open} unpaid orders are waiting for payment (at most {max}); pay for one of them or let its payment time run out"
    )]
    TooManyUnpaid { open: i64, max: u32 },
    #[error("at most {max} of one item per order")]
    LineQuantity { max: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LimitError {
    fn from(e: sqlx::Error) -> Self {
        LimitError::Store(e.into())
    }
}

impl From<LimitError> for ApiError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::TooManyUnpaid { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "too_many_unpaid_orders",
                e.to_string(),
            ),
            LimitError::LineQuantity { .. } => {
                ApiError::new(StatusCode::CONFLICT, "line_quantity_limit", e.to_string())
            }
            LimitError::Store(e) => e.into(),
        }
    }
}

/// The most units of one offer a line may hold: the configured cap or the stock, if lower.
pub fn line_max(config: &Config, stock_units: i64) -> i64 {
    config.checkout.max_line_quantity.min(stock_units.max(0))
}

/// Refuses a line of more than `checkout.max_line_quantity` units (stock is checked apart).
pub fn check_line(config: &Config, quantity: i64) -> Result<(), LimitError> {
    let max = config.checkout.max_line_quantity;
    if quantity > max {
        return Err(LimitError::LineQuantity { max });
    }
    Ok(())
}

/// The per-line error a checkout reports for a line over the cap.
pub fn line_field_error(config: &Config, offer_id: &str, quantity: i64) -> Option<FieldError> {
    check_line(config, quantity).err().map(|e| FieldError {
        field: format!("cart.{offer_id}"),
        code: "line_quantity_limit".into(),
        message: e.to_string(),
    })
}

/// Inside the checkout's transaction: refuses a new online-payment order when the customer
/// already has `checkout.max_unpaid_orders` open unpaid ones. On PostgreSQL the customer's
/// row is locked first, so two checkouts at once cannot both pass at the limit (SQLite's
/// checkout already holds the write lock).
pub async fn check_unpaid(
    conn: &mut AnyConnection,
    backend: Backend,
    config: &Config,
    customer: CustomerId,
    method: PaymentMethod,
) -> Result<(), LimitError> {
    let max = config.checkout.max_unpaid_orders;
    if max == 0 || method == PaymentMethod::OnReceipt {
        return Ok(());
    }
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM customers WHERE id = $1 FOR UPDATE")
            .bind(customer.0)
            .fetch_optional(&mut *conn)
            .await?;
    }
    let open = open_unpaid(conn, config, customer).await?;
    if open >= i64::from(max) {
        return Err(LimitError::TooManyUnpaid { open, max });
    }
    Ok(())
}

/// Open unpaid online-payment orders of a customer (see the module's definition).
pub async fn open_unpaid(
    conn: &mut AnyConnection,
    config: &Config,
    customer: CustomerId,
) -> Result<i64, StoreError> {
    // Orders placed before this moment have run out of time (with no hold: none has).
    let hold = config.checkout.payment_hold;
    let placed_after = if hold.is_zero() {
        i64::MIN
    } else {
        now_ms() - duration_ms(hold)
    };
    let rows = sqlx::query(
        "SELECT status FROM orders WHERE customer_id = $1 AND payment_state = 'unpaid' \
             AND payment_method IN ('telegram', 'stars') AND created_at > $2",
    )
    .bind(customer.0)
    .bind(placed_after)
    .fetch_all(&mut *conn)
    .await?;
    let mut open = 0;
    for row in rows {
        let status: String = row.try_get(0)?;
        if !config.orders.restock_on.contains(&status)
            && super::holds::awaits_payment(config, &status)
        {
            open += 1;
        }
    }
    Ok(open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_holds_the_cap_or_the_stock() {
        let config = Config::default();
        assert_eq!(line_max(&config, 1000), 50);
        assert_eq!(line_max(&config, 7), 7);
        assert_eq!(line_max(&config, -3), 0);
        assert!(check_line(&config, 50).is_ok());
        let e = line_field_error(&config, "a#b", 51).unwrap();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("cart.a#b", "line_quantity_limit")
        );
    }
}

//! Payment holds. An order to be paid online (`telegram`, `stars`) keeps its goods out of
//! stock for `checkout.payment_hold`; still unpaid then, vitrina cancels it itself: the goods
//! return to stock, the timeline says why (actor `system`, note [`NOTE_EXPIRED`]), and the
//! customer hears it from the bot through the usual status-change message.
//!
//! The expiry is an outbox job written with the order, due at `placed_at + hold`: it runs once
//! across instances and survives restarts, and running it again does nothing. From the
//! deadline on, `POST …/invoice` answers `payment_hold_expired` and pre-checkout refuses, even
//! before the job has run. A payment that still arrives later is kept (see
//! `payments::late`).

use std::time::Duration;

use axum::http::StatusCode;
use sqlx::{AnyConnection, Row};

use super::{JOB_STATUS_CHANGED, Order, add_event, write_tx};
use crate::config::{Config, PaymentMethod};
use crate::error::ApiError;
use crate::outbox::{Handlers, JobError, NewJob, Outbox};
use crate::state::AppState;
use crate::store::{Backend, Store, StoreError, duration_ms, now_ms};

/// The outbox job that ends an order's hold.
pub const JOB_PAYMENT_HOLD: &str = "order.payment_hold";

/// The payload of [`JOB_PAYMENT_HOLD`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaymentHold {
    pub order_id: i64,
}
/// Timeline note of an order cancelled because its hold ran out. A stable code: the bot and
/// the Mini App show it in the customer's language.
pub const NOTE_EXPIRED: &str = "payment_hold_expired";
/// Who the timeline says cancelled it.
pub const ACTOR: &str = "system";

#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("the time to pay for order {number} ran out; it is cancelled or about to be")]
    Expired { number: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for HoldError {
    fn from(e: sqlx::Error) -> Self {
        HoldError::Store(e.into())
    }
}

impl From<HoldError> for ApiError {
    fn from(e: HoldError) -> Self {
        match e {
            HoldError::Expired { .. } => {
                ApiError::new(StatusCode::CONFLICT, "payment_hold_expired", e.to_string())
            }
            HoldError::Store(e) => e.into(),
        }
    }
}

/// Paid online, so held for payment (`on_receipt` orders are paid on delivery).
pub fn is_online(payment_method: &str) -> bool {
    matches!(payment_method, "telegram" | "stars")
}

/// When an order placed at `created_at` (unix ms) must be paid by, if a hold applies.
pub fn deadline(config: &Config, created_at: i64, payment_method: &str) -> Option<i64> {
    let hold = config.checkout.payment_hold;
    (is_online(payment_method) && !hold.is_zero()).then(|| created_at + duration_ms(hold))
}

/// Whether an order in `status` still waits for its payment: the flow lets it become `paid`
/// (without a `paid` status: it is still in the first status). An order staff or the master
/// system moved on (paid by other means, shipped) is no longer held.
pub fn awaits_payment(config: &Config, status: &str) -> bool {
    let orders = &config.orders;
    if orders.statuses.iter().any(|s| s == "paid") {
        super::can_move(config, status, "paid")
    } else {
        orders.statuses.first().is_some_and(|s| s == status)
    }
}

/// Whether `order` can no longer be paid because its time ran out (whether or not the hold's
/// job has cancelled it yet).
pub fn has_expired(config: &Config, order: &Order, now: i64) -> bool {
    let cancelled_by_hold = order
        .timeline
        .iter()
        .any(|e| e.actor == ACTOR && e.note.as_deref() == Some(NOTE_EXPIRED));
    order.payment_state == "unpaid"
        && (cancelled_by_hold || awaits_payment(config, &order.status))
        && deadline(config, order.created_at, &order.payment_method).is_some_and(|d| d <= now)
}

/// Refuses an invoice for an order whose hold ran out.
pub fn check_payable(config: &Config, order: &Order) -> Result<(), HoldError> {
    if has_expired(config, order, now_ms()) {
        return Err(HoldError::Expired {
            number: order.number.clone(),
        });
    }
    Ok(())
}

/// The status an expired hold cancels with: `cancelled` when it returns goods to stock, else
/// the first status of `orders.restock_on` (the statuses that give the goods back). Config
/// validation refuses a hold without one.
pub fn cancel_status(config: &Config) -> Option<&str> {
    let restock = &config.orders.restock_on;
    restock
        .iter()
        .find(|s| *s == "cancelled")
        .or_else(|| restock.first())
        .map(String::as_str)
}

/// Why pre-checkout must refuse `order` (`Some("expired")`), if its hold ran out.
pub async fn refusal(
    config: &Config,
    store: &Store,
    order: i64,
) -> Result<Option<&'static str>, StoreError> {
    let row = sqlx::query(
        "SELECT status, payment_state, payment_method, created_at, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM order_events e \
              WHERE e.order_id = o.id AND e.actor = $2 AND e.note = $3) AS cancelled_by_hold \
         FROM orders o WHERE id = $1",
    )
    .bind(order)
    .bind(ACTOR)
    .bind(NOTE_EXPIRED)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let status: String = r.try_get("status")?;
    let state: String = r.try_get("payment_state")?;
    let method: String = r.try_get("payment_method")?;
    let created: i64 = r.try_get("created_at")?;
    let cancelled_by_hold = r.try_get::<i64, _>("cancelled_by_hold")? > 0;
    let expired = state == "unpaid"
        && (cancelled_by_hold || awaits_payment(config, &status))
        && deadline(config, created, &method).is_some_and(|d| d <= now_ms());
    Ok(expired.then_some("expired"))
}

/// Writes the hold's expiry job in the checkout's transaction.
pub async fn schedule(
    conn: &mut AnyConnection,
    outbox: &Outbox,
    config: &Config,
    order: i64,
    method: PaymentMethod,
) -> Result<(), StoreError> {
    let online = matches!(method, PaymentMethod::Telegram | PaymentMethod::Stars);
    let hold = config.checkout.payment_hold;
    if !online || hold.is_zero() {
        return Ok(());
    }
    let mut job = NewJob::typed(JOB_PAYMENT_HOLD, &PaymentHold { order_id: order })?
        .dedupe(format!("order:{order}:payment_hold"));
    job.delay = hold;
    outbox.enqueue(conn, job).await?;
    Ok(())
}

/// The outbox handler that ends holds.
pub fn handlers(state: &AppState) -> Handlers {
    let (config, store, outbox) = (
        state.config.clone(),
        state.store.clone(),
        state.outbox.clone(),
    );
    Handlers::new().on(JOB_PAYMENT_HOLD, move |job| {
        let (config, store, outbox) = (config.clone(), store.clone(), outbox.clone());
        async move {
            let PaymentHold { order_id: order } = job.parse()?;
            match expire(&config, &store, &outbox, order).await {
                Ok(outcome) => {
                    tracing::info!(order, ?outcome, "payment hold ended");
                    Ok(())
                }
                Err(ExpireError::Early(left)) => Err(JobError::Retry {
                    after: Some(left),
                    message: format!("the hold ends in {left:?}"),
                }),
                Err(ExpireError::Store(e)) => Err(JobError::retry(e.to_string())),
            }
        }
    })
}

/// What ending a hold did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Unpaid: cancelled with this status, goods back in stock.
    Cancelled(String),
    /// Paid (or refunded) in time, already cancelled, gone, or not held: nothing to do.
    NothingToDo,
    /// The order's status may not become the cancel status (staff moved it on): left alone.
    NotAllowed { from: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ExpireError {
    /// The hold was lengthened after the job was written: run again then.
    #[error("the hold ends in {0:?}")]
    Early(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ExpireError {
    fn from(e: sqlx::Error) -> Self {
        ExpireError::Store(e.into())
    }
}

/// Cancels `order` if it is still unpaid past its deadline. The check and the cancel are one
/// transaction with the order row locked, so a payment recorded at the same moment either
/// comes first (nothing is cancelled) or finds the order cancelled (and is handled as a late
/// payment). This is `orders::set_status` plus that precondition on `payment_state`, which
/// `set_status` cannot express; its effects (timeline, restock, `order.status_changed`) are
/// the same and must stay so.
pub async fn expire(
    config: &Config,
    store: &Store,
    outbox: &Outbox,
    order: i64,
) -> Result<Outcome, ExpireError> {
    let Some(to) = cancel_status(config) else {
        return Ok(Outcome::NothingToDo);
    };
    let mut tx = write_tx(store).await?;
    let lock = match store.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "", // BEGIN IMMEDIATE already holds the write lock
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT status, payment_state, payment_method, created_at FROM orders WHERE id = $1{lock}"
    )))
    .bind(order)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(r) = row else {
        return Ok(Outcome::NothingToDo);
    };
    let from: String = r.try_get("status")?;
    let state: String = r.try_get("payment_state")?;
    let method: String = r.try_get("payment_method")?;
    let created: i64 = r.try_get("created_at")?;
    let Some(deadline) = deadline(config, created, &method) else {
        return Ok(Outcome::NothingToDo);
    };
    if state != "unpaid"
        || config.orders.restock_on.contains(&from)
        || from == to
        || !awaits_payment(config, &from)
    {
        return Ok(Outcome::NothingToDo);
    }
    let now = now_ms();
    if now < deadline {
        return Err(ExpireError::Early(Duration::from_millis(
            u64::try_from(deadline - now).unwrap_or(0),
        )));
    }
    if !super::can_move(config, &from, to) {
        tracing::warn!(order, from = %from, to, "payment hold ran out, but the order's status may not become the cancel status; left as it is");
        return Ok(Outcome::NotAllowed { from });
    }
    sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to)
        .bind(now)
        .bind(order)
        .execute(&mut *tx)
        .await?;
    if config.orders.restock_on.iter().any(|s| s == to) {
        super::restock(&mut tx, order).await?;
    }
    let event = add_event(&mut tx, order, to, Some(NOTE_EXPIRED), ACTOR).await?;
    outbox
        .enqueue(
            &mut tx,
            NewJob::typed(
                JOB_STATUS_CHANGED,
                &super::events::StatusChanged {
                    order_id: order,
                    from: from.clone(),
                    to: to.to_string(),
                    actor: None,
                    changes: None,
                },
            )?
            .dedupe(format!("order:{order}:event:{event}")),
        )
        .await?;
    tx.commit().await?;
    outbox.notify();
    Ok(Outcome::Cancelled(to.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hold_payload_parses_from_what_schedule_writes() {
        use crate::outbox::testing::{assert_refused, claimed};
        let hold = PaymentHold { order_id: 9 };
        let new = NewJob::typed(JOB_PAYMENT_HOLD, &hold).expect("serializes");
        assert_eq!(claimed(new).parse::<PaymentHold>().expect("parses"), hold);
        assert_refused::<PaymentHold>(
            JOB_PAYMENT_HOLD,
            serde_json::json!({"order": 9}),
            "order_id",
        );
    }

    #[test]
    fn deadlines_apply_to_online_payment_only() {
        let mut config = Config::default();
        assert_eq!(deadline(&config, 1_000, "stars"), Some(1_000 + 30 * 60_000));
        assert_eq!(
            deadline(&config, 1_000, "telegram"),
            Some(1_000 + 30 * 60_000)
        );
        assert_eq!(deadline(&config, 1_000, "on_receipt"), None);
        config.checkout.payment_hold = Duration::ZERO;
        assert_eq!(
            deadline(&config, 1_000, "stars"),
            None,
            "0s turns holds off"
        );
    }

    #[test]
    fn only_orders_awaiting_payment_are_held() {
        let mut config = Config::default();
        assert!(awaits_payment(&config, "new"));
        assert!(awaits_payment(&config, "confirmed"));
        assert!(!awaits_payment(&config, "paid"), "paid by other means");
        assert!(!awaits_payment(&config, "shipped"));
        config.orders.statuses = vec!["open".into(), "done".into(), "cancelled".into()];
        assert!(awaits_payment(&config, "open"));
        assert!(!awaits_payment(&config, "done"));
    }

    #[test]
    fn cancels_with_a_status_that_returns_goods() {
        let mut config = Config::default();
        assert_eq!(cancel_status(&config), Some("cancelled"));
        config.orders.restock_on = vec!["annulled".into(), "returned".into()];
        assert_eq!(cancel_status(&config), Some("annulled"));
        config.orders.restock_on = vec!["returned".into(), "cancelled".into()];
        assert_eq!(cancel_status(&config), Some("cancelled"));
    }
}

//! A payment for an order that can no longer be fulfilled: its payment hold ran out and it
//! was cancelled, or staff cancelled it, while the customer was paying. The payment is kept
//! (recorded like any other), the order is marked for staff attention (`orders.attention`,
//! a timeline note), and the staff chat is told what to do: refund (`vitrina payments
//! refund` for Stars, the provider's dashboard for cards) or contact the customer. The
//! customer hears that the shop knows.

use std::sync::Arc;

use serde_json::json;
use sqlx::Row;

use crate::orders::{add_event, write_tx};
use crate::outbox::JobError;
use crate::store::{StoreError, now_ms};
use crate::telegram::Bot;
use crate::telegram::texts;

/// `orders.attention` of such an order.
pub const ATTENTION: &str = "paid_after_cancel";
/// Its timeline note (a stable code the bot and the Mini App put in words).
pub const NOTE: &str = crate::orders::NOTE_PAYMENT_AFTER_CANCEL;

#[derive(Debug, thiserror::Error)]
pub enum LateError {
    #[error("order {0} not found")]
    Gone(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LateError {
    fn from(e: sqlx::Error) -> Self {
        LateError::Store(e.into())
    }
}

impl From<LateError> for JobError {
    fn from(e: LateError) -> Self {
        match e {
            LateError::Gone(_) => JobError::Permanent(e.to_string()),
            LateError::Store(e) => JobError::retry(e.to_string()),
        }
    }
}

/// After a payment for `order` is recorded: if the order is cancelled (in a status that gave
/// its goods back), flag it and alert. Idempotent: the flag and the timeline note are written
/// once per order, the messages once per charge.
pub async fn after_payment(
    bot: &Arc<Bot>,
    order: i64,
    charge: &str,
    currency: &str,
    amount: i64,
) -> Result<(), JobError> {
    let flagged = flag(bot, order).await?;
    let Some(flagged_now) = flagged else {
        return Ok(());
    };
    if flagged_now {
        tracing::warn!(
            order,
            charge,
            currency,
            amount,
            "payment for a cancelled order: kept and flagged for staff"
        );
    }
    let Some(o) = crate::orders::load_any(&bot.store, order)
        .await
        .map_err(LateError::from)?
    else {
        return Err(LateError::Gone(order).into());
    };
    if let Some(staff) = bot.config.telegram.staff_chat_id {
        bot.enqueue_send(
            "sendMessage",
            json!({"chat_id": staff, "text": texts::late_payment_alert(&o, currency, amount)}),
            None,
            None,
            format!("tg:staff:{order}:late:{charge}"),
        )
        .await?;
    }
    let to = crate::telegram::notify::recipient(bot, order)
        .await
        .map_err(LateError::from)?;
    if let Some(to) = to {
        bot.enqueue_send(
            "sendMessage",
            json!({
                "chat_id": to.chat_id,
                "text": texts::order_status_message(to.lang, &o),
                "reply_markup": {"inline_keyboard": [[{
                    "text": texts::open_order(to.lang),
                    "web_app": {"url": bot.url(&format!("/orders/{order}"))}
                }]]},
            }),
            Some(to.customer_id),
            None,
            format!("tg:customer:{order}:late:{charge}"),
        )
        .await?;
    }
    Ok(())
}

/// `None` when the order can still be fulfilled; `Some(true)` when flagged now,
/// `Some(false)` when it was flagged before.
async fn flag(bot: &Bot, order: i64) -> Result<Option<bool>, LateError> {
    let mut tx = write_tx(&bot.store).await?;
    let status: String = sqlx::query("SELECT status FROM orders WHERE id = $1")
        .bind(order)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(LateError::Gone(order))?
        .try_get(0)?;
    if !bot.config.orders.restock_on.contains(&status) {
        return Ok(None);
    }
    let flagged = sqlx::query(
        "UPDATE orders SET attention = $1, attention_at = $2 WHERE id = $3 AND attention IS NULL",
    )
    .bind(ATTENTION)
    .bind(now_ms())
    .bind(order)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if flagged {
        add_event(
            &mut tx,
            order,
            &status,
            Some(NOTE),
            crate::orders::holds::ACTOR,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(flagged))
}

/// Orders flagged for staff, oldest first: `(id, number, attention, since)`.
pub async fn flagged(
    store: &crate::store::Store,
) -> Result<Vec<(i64, String, String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, number, attention, attention_at FROM orders WHERE attention IS NOT NULL ORDER BY attention_at, id",
    )
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("number")?,
                r.try_get("attention")?,
                r.try_get::<Option<i64>, _>("attention_at")?.unwrap_or(0),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

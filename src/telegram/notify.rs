//! Order events → messages. `telegram.order_created` and `telegram.status_changed` (from the
//! order event fan-out) become one `telegram.send` job per message, so a failed message is
//! retried alone; `telegram.send` waits for the rate limiter, calls the Bot API, and turns its
//! answer into the outbox's terms (429 → retry after `retry_after`, 403 → the customer is
//! unreachable and the job is done, 4xx → dead letter, 5xx/timeouts → backoff).

use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::Row;

use super::client::BotError;
use super::texts::{self, Lang};
use super::{Bot, JOB_SEND};
use crate::orders::events::{OrderCreated, StatusChanged};
use crate::outbox::{Job, JobError, NewJob};
use crate::store::{StoreError, now_ms};

fn store_err(e: StoreError) -> JobError {
    JobError::retry(e.to_string())
}

/// Who gets an order's customer messages, if anyone.
pub struct Recipient {
    pub customer_id: i64,
    pub chat_id: i64,
    pub lang: Lang,
}

pub(crate) async fn recipient(bot: &Bot, order: i64) -> Result<Option<Recipient>, StoreError> {
    let row = sqlx::query(
        "SELECT c.id, c.telegram_id, c.language_code, c.allows_write_to_pm, c.bot_started_at, c.bot_blocked_at \
         FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
    )
    .bind(order)
    .fetch_optional(bot.store.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let allowed: i64 = r.try_get("allows_write_to_pm")?;
    let started: Option<i64> = r.try_get("bot_started_at")?;
    let blocked: Option<i64> = r.try_get("bot_blocked_at")?;
    // Only customers who let the bot write (the Mini App's allows_write_to_pm, or /start), and
    // never one who blocked it.
    if blocked.is_some() || (allowed == 0 && started.is_none()) {
        return Ok(None);
    }
    let lang: Option<String> = r.try_get("language_code")?;
    Ok(Some(Recipient {
        customer_id: r.try_get("id")?,
        chat_id: r.try_get("telegram_id")?,
        lang: Lang::of(lang.as_deref()),
    }))
}

/// The buttons under a customer's order message: open the order, and once it is delivered,
/// «Повторить» (the Mini App on `/orders/<id>?repeat` puts its items back into the cart).
fn order_buttons(bot: &Bot, lang: Lang, order: &crate::orders::Order) -> Value {
    let open = json!({"text": texts::open_order(lang), "web_app": {"url": bot.url(&format!("/orders/{}", order.id))}});
    if order.status == "delivered" {
        let repeat = json!({"text": texts::repeat_order(lang), "web_app": {"url": bot.url(&format!("/orders/{}?repeat", order.id))}});
        json!({"inline_keyboard": [[open, repeat]]})
    } else {
        json!({"inline_keyboard": [[open]]})
    }
}

/// Staff buttons: the next statuses an order can take, as callback data `st:<order>:<status>`,
/// and a row with «Открыть в пульте», a t.me link opening the order on the desk (a URL
/// button: the staff chat is a group, where `web_app` buttons are refused).
async fn staff_buttons(bot: &Bot, order: i64, status: &str) -> Result<Value, JobError> {
    let next = crate::orders::next_statuses(&bot.config, status);
    let row: Vec<Value> = next
        .iter()
        .map(|to| {
            json!({"text": texts::status(Lang::Ru, to), "callback_data": format!("st:{order}:{to}")})
        })
        .collect();
    let desk = json!([{"text": texts::OPEN_IN_DESK, "url": bot.start_link(&format!("desk_order_{order}")).await?}]);
    Ok(if row.is_empty() {
        json!({"inline_keyboard": [desk]})
    } else {
        json!({"inline_keyboard": [row, desk]})
    })
}

/// A message to a customer about their order's current status, or about everything the
/// shop's master system changed at once (`changes`).
async fn customer_message(
    bot: &Bot,
    order_id: i64,
    changes: Option<&crate::orders::master::Changes>,
    dedupe: String,
) -> Result<(), JobError> {
    let Some(to) = recipient(bot, order_id).await.map_err(store_err)? else {
        return Ok(());
    };
    let Some(order) = crate::orders::load_any(&bot.store, order_id)
        .await
        .map_err(store_err)?
    else {
        return Err(JobError::Permanent(format!("order {order_id} not found")));
    };
    let params = json!({
        "chat_id": to.chat_id,
        "text": match changes {
            Some(c) => texts::master_change_message(to.lang, &order, c),
            None => texts::order_status_message(to.lang, &order),
        },
        "reply_markup": order_buttons(bot, to.lang, &order),
    });
    bot.enqueue_send("sendMessage", params, Some(to.customer_id), None, dedupe)
        .await
}

pub async fn order_created(bot: Arc<Bot>, job: Job) -> Result<(), JobError> {
    let OrderCreated { order_id: id } = job.parse()?;
    if let Some(staff) = bot.config.telegram.staff_chat_id {
        let Some(order) = crate::orders::load_any(&bot.store, id)
            .await
            .map_err(store_err)?
        else {
            return Err(JobError::Permanent(format!("order {id} not found")));
        };
        let params = json!({
            "chat_id": staff,
            "text": texts::staff_alert(&order),
            "reply_markup": staff_buttons(&bot, id, &order.status).await?,
        });
        bot.enqueue_send(
            "sendMessage",
            params,
            None,
            Some(id),
            format!("tg:staff:{id}:created"),
        )
        .await?;
    }
    customer_message(&bot, id, None, format!("tg:customer:{id}:created")).await
}

pub async fn status_changed(bot: Arc<Bot>, job: Job) -> Result<(), JobError> {
    // A change from the master says what it changed; one that cannot be read is a bug to
    // see in the dead letters, not a message to guess.
    let StatusChanged {
        order_id: id,
        changes,
        ..
    } = job.parse()?;
    let job_id = job.id;
    customer_message(
        &bot,
        id,
        changes.as_ref(),
        format!("tg:customer:{id}:job:{job_id}"),
    )
    .await?;
    if let (Some(c), Some(staff)) = (&changes, bot.config.telegram.staff_chat_id)
        && c.refund_due.is_some()
        && let Some(order) = crate::orders::load_any(&bot.store, id)
            .await
            .map_err(store_err)?
    {
        bot.enqueue_send(
            "sendMessage",
            json!({"chat_id": staff, "text": texts::staff_refund_alert(&order, c)}),
            None,
            None,
            format!("tg:staff:{id}:refund:{job_id}"),
        )
        .await?;
    }
    // The staff chat's message shows the new status and the buttons that still apply.
    let row =
        sqlx::query("SELECT chat_id, message_id FROM telegram_staff_messages WHERE order_id = $1")
            .bind(id)
            .fetch_optional(bot.store.pool())
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
    if let Some(r) = row {
        let Some(order) = crate::orders::load_any(&bot.store, id)
            .await
            .map_err(store_err)?
        else {
            return Ok(());
        };
        let chat: i64 = r
            .try_get("chat_id")
            .map_err(|e| JobError::retry(e.to_string()))?;
        let message: i64 = r
            .try_get("message_id")
            .map_err(|e| JobError::retry(e.to_string()))?;
        let params = json!({
            "chat_id": chat,
            "message_id": message,
            "text": texts::staff_alert(&order),
            "reply_markup": staff_buttons(&bot, id, &order.status).await?,
        });
        bot.enqueue_send(
            "editMessageText",
            params,
            None,
            None,
            format!("tg:staff:{id}:job:{job_id}"),
        )
        .await?;
    }
    Ok(())
}

/// The payload of `telegram.send`: one Bot API call.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BotCall {
    pub method: String,
    /// The call's parameters as the Bot API takes them (`chat_id`, `text`, ...).
    pub params: Value,
    /// The customer it goes to: a 403 marks them as having blocked the bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
    /// The order whose staff message this is: its id is kept to edit it later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_order: Option<i64>,
}

impl BotCall {
    pub fn message(chat_id: i64, text: &str) -> Self {
        Self {
            method: "sendMessage".into(),
            params: json!({"chat_id": chat_id, "text": text}),
            customer_id: None,
            staff_order: None,
        }
    }

    pub fn job(&self) -> Result<NewJob, StoreError> {
        NewJob::typed(JOB_SEND, self)
    }
}

/// `telegram.send`: one Bot API call, rate-limited.
pub async fn send(bot: Arc<Bot>, job: Job) -> Result<(), JobError> {
    let payload: BotCall = job.parse()?;
    let params = &payload.params;
    // Calls without a chat (none today) share the limiter's bucket 0.
    let chat = params.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    bot.limiter.acquire(chat).await;
    let answer = bot.api.call(&payload.method, params).await;
    bot.limiter.sent(chat);
    match answer {
        Ok(result) => {
            if let Some(order) = payload.staff_order
                && let Some(message) = result.get("message_id").and_then(Value::as_i64)
            {
                sqlx::query(
                    "INSERT INTO telegram_staff_messages (order_id, chat_id, message_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (order_id) DO UPDATE SET chat_id = excluded.chat_id, message_id = excluded.message_id",
                )
                .bind(order)
                .bind(chat)
                .bind(message)
                .execute(bot.store.pool())
                .await
                .map_err(|e| JobError::retry(e.to_string()))?;
            }
            Ok(())
        }
        Err(BotError::Forbidden(description)) => {
            if let Some(customer) = payload.customer_id {
                sqlx::query("UPDATE customers SET bot_blocked_at = $1 WHERE id = $2")
                    .bind(now_ms())
                    .bind(customer)
                    .execute(bot.store.pool())
                    .await
                    .map_err(|e| JobError::retry(e.to_string()))?;
                crate::selling::alerts::unsubscribe_blocked(&bot.store, customer)
                    .await
                    .map_err(store_err)?;
                tracing::info!(customer, %description, "customer blocked the bot: no more messages to them");
                return Ok(());
            }
            Err(JobError::Permanent(format!("forbidden: {description}")))
        }
        Err(BotError::RetryAfter(after)) => Err(JobError::Retry {
            after: Some(after),
            message: "Telegram: 429 Too Many Requests".into(),
        }),
        Err(e @ BotError::Unavailable(_)) => Err(JobError::retry(e.to_string())),
        // "message is not modified" when an edit repeats: the message already says it.
        Err(BotError::Rejected { description, .. })
            if description.contains("message is not modified") =>
        {
            Ok(())
        }
        Err(e @ BotError::Rejected { .. }) => Err(JobError::Permanent(e.to_string())),
    }
}

impl Bot {
    /// Queues one Bot API call as a `telegram.send` job.
    pub async fn enqueue_send(
        &self,
        method: &str,
        params: Value,
        customer_id: Option<i64>,
        staff_order: Option<i64>,
        dedupe: String,
    ) -> Result<(), JobError> {
        let payload = BotCall {
            method: method.to_string(),
            params,
            customer_id,
            staff_order,
        };
        self.outbox
            .enqueue_now(payload.job().map_err(store_err)?.dedupe(dedupe))
            .await
            .map(|_| ())
            .map_err(store_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::testing::{assert_refused, claimed};

    #[test]
    fn send_parses_from_what_is_enqueued() {
        let plain = BotCall::message(5, "hi");
        let new = plain.job().expect("serializes");
        assert_eq!(new.kind, JOB_SEND);
        // The wire format of existing rows: no optional keys when absent.
        assert_eq!(
            new.payload,
            json!({"method": "sendMessage", "params": {"chat_id": 5, "text": "hi"}})
        );
        assert_eq!(claimed(new).parse::<BotCall>().expect("parses"), plain);
        let full = BotCall {
            customer_id: Some(3),
            staff_order: Some(4),
            ..plain
        };
        let new = full.job().expect("serializes");
        assert_eq!(new.payload["customer_id"], 3);
        assert_eq!(claimed(new).parse::<BotCall>().expect("parses"), full);
    }

    #[test]
    fn send_without_method_or_params_is_refused() {
        assert_refused::<BotCall>(JOB_SEND, json!({"params": {"chat_id": 5}}), "method");
        assert_refused::<BotCall>(JOB_SEND, json!({"method": "sendMessage"}), "params");
    }
}

//! The cart reminder. A cart left with goods for `bot.cart_reminder_after` gets one message
//! from the bot listing what is in it, with a button to the cart.
//!
//! Every cart change notes its time in `cart_reminders.changed_at` and writes an outbox job
//! ([`JOB_CART_REMINDER`]) due `cart_reminder_after` later, carrying that time: only the job of
//! the latest change may send, so the reminder comes that long after the cart was last
//! touched, once across instances (the outbox's lease), and survives restarts. When it runs it
//! sends nothing if the customer has placed an order since, if the cart is empty, if the same
//! contents were reminded of before (`sent_contents`), or if the customer has not let the bot
//! write (`allows_write_to_pm` false in initData and no `/start`) or blocked it. During the
//! quiet hours (`bot.quiet_hours` in `shop.time_zone`) it writes itself again for their end.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sqlx::Row;

use crate::auth::CustomerId;
use crate::config::{Config, QuietHours};
use crate::outbox::{Job, JobError, NewJob};
use crate::state::AppState;
use crate::store::{StoreError, now_ms};
use crate::telegram::Bot;
use crate::telegram::notify::BotCall;
use crate::telegram::texts::{Lang, money};

/// The outbox job of one cart change.
pub const JOB_CART_REMINDER: &str = "cart.reminder";

/// The payload of [`JOB_CART_REMINDER`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CartReminder {
    pub customer_id: i64,
    /// When the cart changed (unix ms): the job is stale once the cart changes again.
    pub changed_at: i64,
}

fn reminder_job(r: &CartReminder, delay: Duration, tag: &str) -> Result<NewJob, StoreError> {
    let mut job = NewJob::typed(JOB_CART_REMINDER, r)?.dedupe(format!(
        "cart.reminder:{}:{}{tag}",
        r.customer_id, r.changed_at
    ));
    job.delay = delay;
    Ok(job)
}

/// Whether this shop sends cart reminders at all (a bot that can reach Telegram, and
/// `bot.cart_reminder_after` not `0s`).
pub fn enabled(config: &Config) -> bool {
    !config.bot.cart_reminder_after.is_zero() && config.telegram.has_real_bot_token()
}

/// Notes a change of `customer`'s cart: the reminder counts from now.
pub async fn cart_changed(state: &AppState, customer: CustomerId) -> Result<(), StoreError> {
    if !enabled(&state.config) {
        return Ok(());
    }
    let r = CartReminder {
        customer_id: customer.0,
        changed_at: now_ms(),
    };
    let mut tx = state.store.pool().begin().await?;
    sqlx::query(
        "INSERT INTO cart_reminders (customer_id, changed_at) VALUES ($1, $2) \
         ON CONFLICT (customer_id) DO UPDATE SET changed_at = excluded.changed_at",
    )
    .bind(r.customer_id)
    .bind(r.changed_at)
    .execute(&mut *tx)
    .await?;
    let job = reminder_job(&r, state.config.bot.cart_reminder_after, "")?;
    state.outbox.enqueue(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}

/// When the quiet hours that `now` (unix ms) falls in end, or None when `now` is not quiet.
pub fn quiet_until(quiet: QuietHours, tz: &jiff::tz::TimeZone, now: i64) -> Option<i64> {
    let zoned = jiff::Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned_datetime(tz.clone());
    let minute = u16::try_from(zoned.hour()).ok()? * 60 + u16::try_from(zoned.minute()).ok()?;
    if !quiet.contains(minute) {
        return None;
    }
    // Quiet from the evening on: they end tomorrow morning.
    let day = if minute >= quiet.end {
        zoned.date().tomorrow().ok()?
    } else {
        zoned.date()
    };
    let hour = i8::try_from(quiet.end / 60).ok()?;
    let min = i8::try_from(quiet.end % 60).ok()?;
    let end = day.at(hour, min, 0, 0).to_zoned_datetime(tz.clone()).ok()?;
    Some(end.timestamp().as_millisecond())
}

/// The cart's contents as compared between reminders: each offer and its quantity.
fn contents(lines: &[crate::cart::CartLine]) -> String {
    let mut parts: Vec<String> = lines
        .iter()
        .map(|l| format!("{}\u{1f}{}", l.offer_id, l.quantity))
        .collect();
    parts.sort();
    parts.join("\u{1e}")
}

/// The message: what is in the cart and its total.
pub fn text(lang: Lang, cart: &crate::cart::Cart) -> String {
    let mut text = match lang {
        Lang::Ru => "В вашей корзине остались товары:".to_string(),
        Lang::En => "You left these in your cart:".to_string(),
    };
    for l in &cart.lines {
        text.push_str("\n• ");
        text.push_str(&l.name);
        if let Some(v) = &l.variant {
            text.push_str(&format!(" ({v})"));
        }
        text.push_str(&format!(" × {}", l.quantity));
        if let Some(p) = &l.price {
            text.push_str(&format!(" — {}", money(l.line_total, &p.currency)));
        }
    }
    let total = money(cart.total.amount, &cart.total.currency);
    text.push_str(&match lang {
        Lang::Ru => format!("\nИтого: {total}"),
        Lang::En => format!("\nTotal: {total}"),
    });
    text
}

fn store_err(e: impl std::fmt::Display) -> JobError {
    JobError::retry(e.to_string())
}

/// `cart.reminder`: sends the reminder if this job is still the one to.
pub async fn remind(bot: Arc<Bot>, job: Job) -> Result<(), JobError> {
    let r: CartReminder = job.parse()?;
    let config = &bot.config;
    if config.bot.cart_reminder_after.is_zero() {
        return Ok(());
    }
    let pool = bot.store.pool();
    let Some(row) =
        sqlx::query("SELECT changed_at, sent_contents FROM cart_reminders WHERE customer_id = $1")
            .bind(r.customer_id)
            .fetch_optional(pool)
            .await
            .map_err(store_err)?
    else {
        return Ok(());
    };
    let changed_at: i64 = row.try_get("changed_at").map_err(store_err)?;
    let sent: Option<String> = row.try_get("sent_contents").map_err(store_err)?;
    if changed_at != r.changed_at {
        return Ok(()); // a later change has its own job
    }
    let ordered =
        sqlx::query("SELECT 1 FROM orders WHERE customer_id = $1 AND created_at >= $2 LIMIT 1")
            .bind(r.customer_id)
            .bind(r.changed_at)
            .fetch_optional(pool)
            .await
            .map_err(store_err)?;
    if ordered.is_some() {
        return Ok(());
    }
    let mut conn = pool.acquire().await.map_err(store_err)?;
    let lines = crate::cart::live_lines(&mut conn, CustomerId(r.customer_id))
        .await
        .map_err(store_err)?;
    drop(conn);
    let mut cart = crate::cart::view(
        lines,
        &config.checkout.currency,
        config.checkout.max_line_quantity,
    );
    cart.lines.retain(|l| !l.removed);
    if cart.lines.is_empty() {
        return Ok(());
    }
    let now_contents = contents(&cart.lines);
    if sent.as_deref() == Some(now_contents.as_str()) {
        return Ok(()); // reminded of exactly this cart before
    }
    let Some(c) = sqlx::query(
        "SELECT telegram_id, language_code, allows_write_to_pm, bot_started_at, bot_blocked_at FROM customers WHERE id = $1",
    )
    .bind(r.customer_id)
    .fetch_optional(pool)
    .await
    .map_err(store_err)?
    else {
        return Ok(());
    };
    let allowed: i64 = c.try_get("allows_write_to_pm").map_err(store_err)?;
    let started: Option<i64> = c.try_get("bot_started_at").map_err(store_err)?;
    let blocked: Option<i64> = c.try_get("bot_blocked_at").map_err(store_err)?;
    if blocked.is_some() || (allowed == 0 && started.is_none()) {
        return Ok(());
    }
    let now = now_ms();
    if let Some(end) = quiet_until(config.bot.quiet_hours, &config.shop.tz(), now) {
        // Not at night: the same reminder again when the quiet hours end.
        let delay = Duration::from_millis(u64::try_from(end - now).unwrap_or(0));
        let again = reminder_job(&r, delay, &format!(":quiet:{end}")).map_err(store_err)?;
        bot.outbox.enqueue_now(again).await.map_err(store_err)?;
        return Ok(());
    }
    let chat: i64 = c.try_get("telegram_id").map_err(store_err)?;
    let lang = Lang::of(
        c.try_get::<Option<String>, _>("language_code")
            .map_err(store_err)?
            .as_deref(),
    );
    let button = match lang {
        Lang::Ru => "Открыть корзину",
        Lang::En => "Open the cart",
    };
    let call = BotCall {
        method: "sendMessage".into(),
        params: json!({
            "chat_id": chat,
            "text": text(lang, &cart),
            "reply_markup": {"inline_keyboard": [[{"text": button, "web_app": {"url": bot.url("/cart")}}]]},
        }),
        customer_id: Some(r.customer_id),
        staff_order: None,
    };
    // Marking the contents as reminded and queueing the message in one transaction: a second
    // run of this job (a lost lease) finds them marked and sends nothing.
    let mut tx = pool.begin().await.map_err(store_err)?;
    let marked = sqlx::query(
        "UPDATE cart_reminders SET sent_contents = $1, sent_at = $2 \
         WHERE customer_id = $3 AND changed_at = $4 AND (sent_contents IS NULL OR sent_contents <> $1)",
    )
    .bind(&now_contents)
    .bind(now)
    .bind(r.customer_id)
    .bind(r.changed_at)
    .execute(&mut *tx)
    .await
    .map_err(store_err)?;
    if marked.rows_affected() == 0 {
        return Ok(());
    }
    let send = call.job().map_err(store_err)?.dedupe(format!(
        "tg:cart-reminder:{}:{}",
        r.customer_id, r.changed_at
    ));
    bot.outbox.enqueue(&mut tx, send).await.map_err(store_err)?;
    tx.commit().await.map_err(store_err)?;
    bot.outbox.notify();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> QuietHours {
        QuietHours::try_from(s.to_string()).expect("parses")
    }

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>()
            .expect("a timestamp")
            .as_millisecond()
    }

    #[test]
    fn quiet_hours_in_the_shops_time_zone() {
        let msk = jiff::tz::TimeZone::get("Europe/Moscow").expect("bundled");
        let night = q("22:00-09:00");
        // 23:30 in Moscow (20:30 UTC): quiet until 09:00 Moscow tomorrow (06:00 UTC).
        assert_eq!(
            quiet_until(night, &msk, ms("2026-12-01T20:30:00Z")),
            Some(ms("2026-12-02T06:00:00Z"))
        );
        // 03:00 in Moscow: until 09:00 the same day.
        assert_eq!(
            quiet_until(night, &msk, ms("2026-12-01T00:00:00Z")),
            Some(ms("2026-12-01T06:00:00Z"))
        );
        // 12:00 and 21:59 in Moscow: not quiet; 09:00 itself is not either.
        assert_eq!(quiet_until(night, &msk, ms("2026-12-01T09:00:00Z")), None);
        assert_eq!(quiet_until(night, &msk, ms("2026-12-01T18:59:00Z")), None);
        assert_eq!(quiet_until(night, &msk, ms("2026-12-01T06:00:00Z")), None);
        // Hours that do not wrap midnight, and none at all.
        assert_eq!(
            quiet_until(q("13:00-14:30"), &msk, ms("2026-12-01T10:10:00Z")),
            Some(ms("2026-12-01T11:30:00Z"))
        );
        assert_eq!(quiet_until(q(""), &msk, ms("2026-12-01T20:30:00Z")), None);
    }

    #[test]
    fn quiet_hours_parse_and_print() {
        assert_eq!(
            q("22-9"),
            QuietHours {
                start: 22 * 60,
                end: 9 * 60
            }
        );
        assert_eq!(String::from(q("22:00-09:00")), "22:00-09:00");
        assert_eq!(String::from(q("")), "");
        for bad in ["22", "25:00-09:00", "22:60-09:00", "x-y"] {
            assert!(QuietHours::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }
}

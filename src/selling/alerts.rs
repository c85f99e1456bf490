//! Back-in-stock and price-drop alerts. A customer subscribes to an offer; the catalog
//! version that brings it back in stock or makes it cheaper than when they subscribed
//! ([`on_publish`], inside the importer's transaction: every source publishes through it)
//! makes the subscription due and queues one `selling.alerts` job; the bot's handler
//! ([`deliver`]) turns each due subscription into one message through `telegram.send` (the
//! bot's rate limits, retries, and 403 → the customer is unsubscribed) and closes it.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::auth::{Customer, CustomerId};
use crate::error::{ApiError, AuthErrors, BodyErrors, Problem};
use crate::extract::ApiJson;
use crate::money::Money;
use crate::outbox::{JobError, NewJob};
use crate::state::AppState;
use crate::store::{Store, StoreError, now_ms};
use crate::telegram::Bot;
use crate::telegram::texts::{Lang, money};

/// Sends the messages of the subscriptions a catalog version made due.
pub const JOB_ALERTS: &str = "selling.alerts";

/// The payload of [`JOB_ALERTS`]: the catalog version that made subscriptions due (the
/// handler sends every due one, whichever version made it so).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Alerts {
    pub version: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    BackInStock,
    PriceDrop,
}

impl AlertKind {
    fn as_str(self) -> &'static str {
        match self {
            AlertKind::BackInStock => "back_in_stock",
            AlertKind::PriceDrop => "price_drop",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "back_in_stock" => Some(AlertKind::BackInStock),
            "price_drop" => Some(AlertKind::PriceDrop),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub offer_id: String,
    pub kind: AlertKind,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscription {
    pub id: i64,
    pub offer_id: String,
    pub product_id: String,
    pub kind: AlertKind,
    /// The price when subscribing; a price-drop alert comes when the price falls below it.
    pub price_then: Option<Money>,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscriptions {
    /// Open subscriptions, newest first.
    pub items: Vec<Subscription>,
    /// The most open subscriptions one customer may have (`selling.max_subscriptions`).
    pub limit: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("no such offer in the catalog")]
    UnknownOffer,
    #[error("at most {0} open subscriptions")]
    Limit(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SubscribeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<SubscribeError> for ApiError {
    fn from(e: SubscribeError) -> Self {
        match e {
            SubscribeError::UnknownOffer => {
                ApiError::new(StatusCode::NOT_FOUND, "offer_not_found", e.to_string())
            }
            SubscribeError::Limit(_) => ApiError::conflict("subscriptions_limit", e.to_string()),
            SubscribeError::Store(e) => e.into(),
        }
    }
}

const COLUMNS: &str =
    "s.id, s.offer_id, s.product_id, s.kind, s.base_price, s.created_at, o.currency";

fn row_to_subscription(r: &sqlx::any::AnyRow) -> Result<Subscription, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let currency = r
        .try_get::<Option<String>, _>("currency")?
        .unwrap_or_else(|| "RUB".into());
    Ok(Subscription {
        id: r.try_get("id")?,
        offer_id: r.try_get("offer_id")?,
        product_id: r.try_get("product_id")?,
        kind: AlertKind::parse(&kind).unwrap_or(AlertKind::BackInStock),
        price_then: r
            .try_get::<Option<i64>, _>("base_price")?
            .map(|amount| Money { amount, currency }),
        created_at: r.try_get("created_at")?,
    })
}

async fn one(store: &Store, customer: CustomerId, id: i64) -> Result<Subscription, StoreError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions s LEFT JOIN offers o ON o.id = s.offer_id \
         WHERE s.id = $1 AND s.customer_id = $2"
    )))
    .bind(id)
    .bind(customer.0)
    .fetch_one(store.pool())
    .await?;
    Ok(row_to_subscription(&r)?)
}

/// Subscribes the customer; an open subscription to the same offer and kind is returned as it
/// is. The offer's price and stock now are what a later version is compared with.
pub async fn subscribe(
    store: &Store,
    customer: CustomerId,
    offer_id: &str,
    kind: AlertKind,
    limit: u32,
) -> Result<Subscription, SubscribeError> {
    let offer = sqlx::query("SELECT product_id, price, stock_milli FROM offers WHERE id = $1")
        .bind(offer_id)
        .fetch_optional(store.pool())
        .await?
        .ok_or(SubscribeError::UnknownOffer)?;
    let product_id: String = offer.try_get("product_id")?;
    let price: Option<i64> = offer.try_get("price")?;
    let in_stock =
        price.is_some() && offer.try_get::<Option<i64>, _>("stock_milli")?.unwrap_or(0) > 0;
    let mut tx = crate::orders::write_tx(store).await?;
    let existing = sqlx::query(
        "SELECT id FROM subscriptions WHERE customer_id = $1 AND offer_id = $2 AND kind = $3 AND state = 'open'",
    )
    .bind(customer.0)
    .bind(offer_id)
    .bind(kind.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let id: i64 = match existing {
        Some(r) => r.try_get(0)?,
        None => {
            let open: i64 = sqlx::query(
                "SELECT COUNT(*) FROM subscriptions WHERE customer_id = $1 AND state = 'open'",
            )
            .bind(customer.0)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if open >= i64::from(limit) {
                return Err(SubscribeError::Limit(limit));
            }
            // A concurrent identical request may have inserted it since: then that one is
            // returned.
            sqlx::query(
                "INSERT INTO subscriptions (customer_id, offer_id, product_id, kind, base_price, base_in_stock, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (customer_id, offer_id, kind) WHERE state = 'open' DO NOTHING RETURNING id",
            )
            .bind(customer.0)
            .bind(offer_id)
            .bind(product_id)
            .bind(kind.as_str())
            .bind(price)
            .bind(i64::from(in_stock))
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0)
        }
    };
    tx.commit().await?;
    let id = if id == 0 {
        sqlx::query(
            "SELECT id FROM subscriptions WHERE customer_id = $1 AND offer_id = $2 AND kind = $3 AND state = 'open'",
        )
        .bind(customer.0)
        .bind(offer_id)
        .bind(kind.as_str())
        .fetch_one(store.pool())
        .await?
        .try_get(0)?
    } else {
        id
    };
    Ok(one(store, customer, id).await?)
}

pub async fn list(store: &Store, customer: CustomerId) -> Result<Vec<Subscription>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM subscriptions s LEFT JOIN offers o ON o.id = s.offer_id \
         WHERE s.customer_id = $1 AND s.state = 'open' ORDER BY s.created_at DESC, s.id DESC"
    )))
    .bind(customer.0)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(row_to_subscription)
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)
}

/// Cancels one of the customer's open subscriptions; false when there is none with this id.
pub async fn cancel(store: &Store, customer: CustomerId, id: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE subscriptions SET state = 'cancelled', closed_at = $1 \
         WHERE id = $2 AND customer_id = $3 AND state = 'open'",
    )
    .bind(now_ms())
    .bind(id)
    .bind(customer.0)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Runs in the transaction that publishes a catalog version, after its rows are written:
/// subscriptions to offers that left the catalog close without a message; those whose offer
/// is back in stock or cheaper become due, and one `selling.alerts` job is queued for them.
/// A back-in-stock subscription made while the offer was in stock waits for it to sell out
/// first.
pub async fn on_publish(
    conn: &mut AnyConnection,
    version: i64,
    max_attempts: u32,
) -> Result<u64, StoreError> {
    let now = now_ms();
    sqlx::query(
        "UPDATE subscriptions SET state = 'gone', closed_at = $1 WHERE state = 'open' \
         AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.id = subscriptions.offer_id)",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE subscriptions SET base_in_stock = 0 WHERE state = 'open' AND kind = 'back_in_stock' \
         AND base_in_stock = 1 AND EXISTS (SELECT 1 FROM offers o WHERE o.id = subscriptions.offer_id \
             AND (o.price IS NULL OR o.stock_milli IS NULL OR o.stock_milli <= 0))",
    )
    .execute(&mut *conn)
    .await?;
    let restocked = sqlx::query(
        "UPDATE subscriptions SET state = 'due' WHERE state = 'open' AND kind = 'back_in_stock' \
         AND base_in_stock = 0 AND EXISTS (SELECT 1 FROM offers o WHERE o.id = subscriptions.offer_id \
             AND o.price IS NOT NULL AND o.stock_milli > 0)",
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let cheaper = sqlx::query(
        "UPDATE subscriptions SET state = 'due' WHERE state = 'open' AND kind = 'price_drop' \
         AND EXISTS (SELECT 1 FROM offers o WHERE o.id = subscriptions.offer_id \
             AND o.price IS NOT NULL AND (subscriptions.base_price IS NULL OR o.price < subscriptions.base_price))",
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let due = restocked + cheaper;
    if due > 0 {
        crate::outbox::enqueue_on(
            conn,
            NewJob::typed(JOB_ALERTS, &Alerts { version })?
                .dedupe(format!("selling:alerts:{version}")),
            max_attempts,
        )
        .await?;
    }
    Ok(due)
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::retry(e.to_string())
}

fn message(lang: Lang, kind: AlertKind, name: &str, price: &str, was: Option<&str>) -> String {
    match (lang, kind) {
        (Lang::Ru, AlertKind::BackInStock) => format!("Снова в наличии: «{name}», {price}."),
        (Lang::En, AlertKind::BackInStock) => format!("Back in stock: “{name}”, {price}."),
        (Lang::Ru, AlertKind::PriceDrop) => match was {
            Some(was) => format!("Цена снизилась: «{name}», {price} вместо {was}."),
            None => format!("«{name}» снова продаётся: {price}."),
        },
        (Lang::En, AlertKind::PriceDrop) => match was {
            Some(was) => format!("Price drop: “{name}”, {price} instead of {was}."),
            None => format!("“{name}” is for sale again: {price}."),
        },
    }
}

fn open_product(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Открыть товар",
        Lang::En => "Open the product",
    }
}

/// `selling.alerts`: one message per due subscription, then the subscription is closed.
/// Each message is its own `telegram.send` job, queued in the transaction that closes the
/// subscription, so a retry of this job never sends twice.
pub async fn deliver(bot: Arc<Bot>) -> Result<(), JobError> {
    loop {
        let rows = sqlx::query(
            "SELECT s.id, s.kind, s.base_price, s.customer_id, s.product_id, \
                 c.telegram_id, c.language_code, c.allows_write_to_pm, c.bot_started_at, c.bot_blocked_at, \
                 o.price, o.currency, o.stock_milli, o.name AS offer_name, p.name AS product_name \
             FROM subscriptions s JOIN customers c ON c.id = s.customer_id \
                 LEFT JOIN offers o ON o.id = s.offer_id LEFT JOIN products p ON p.id = s.product_id \
             WHERE s.state = 'due' ORDER BY s.id LIMIT 200",
        )
        .fetch_all(bot.store.pool())
        .await
        .map_err(retry)?;
        if rows.is_empty() {
            return Ok(());
        }
        for r in rows {
            deliver_one(&bot, &r).await?;
        }
        bot.outbox.notify();
    }
}

async fn deliver_one(bot: &Bot, r: &sqlx::any::AnyRow) -> Result<(), JobError> {
    let get_err = |e: sqlx::Error| retry(e);
    let id: i64 = r.try_get("id").map_err(get_err)?;
    let customer: i64 = r.try_get("customer_id").map_err(get_err)?;
    let price: Option<i64> = r.try_get("price").map_err(get_err)?;
    let product_name: Option<String> = r.try_get("product_name").map_err(get_err)?;
    let blocked: Option<i64> = r.try_get("bot_blocked_at").map_err(get_err)?;
    let allowed: i64 = r.try_get("allows_write_to_pm").map_err(get_err)?;
    let started: Option<i64> = r.try_get("bot_started_at").map_err(get_err)?;
    let mut tx = bot.store.pool().begin().await.map_err(retry)?;
    let close = |state: &'static str| {
        sqlx::query(
            "UPDATE subscriptions SET state = $1, closed_at = $2 WHERE id = $3 AND state = 'due'",
        )
        .bind(state)
        .bind(now_ms())
        .bind(id)
    };
    // The offer or product left the catalog since: nothing to offer.
    let (Some(price), Some(name)) = (price, product_name) else {
        close("gone").execute(&mut *tx).await.map_err(retry)?;
        return tx.commit().await.map_err(retry);
    };
    // A customer who blocked the bot, or never let it write, is not written to.
    if blocked.is_some() || (allowed == 0 && started.is_none()) {
        close("blocked").execute(&mut *tx).await.map_err(retry)?;
        return tx.commit().await.map_err(retry);
    }
    let kind = AlertKind::parse(&r.try_get::<String, _>("kind").map_err(get_err)?)
        .unwrap_or(AlertKind::BackInStock);
    let currency = r
        .try_get::<Option<String>, _>("currency")
        .map_err(get_err)?
        .unwrap_or_else(|| bot.config.checkout.currency.clone());
    let base: Option<i64> = r.try_get("base_price").map_err(get_err)?;
    let lang = Lang::of(
        r.try_get::<Option<String>, _>("language_code")
            .map_err(get_err)?
            .as_deref(),
    );
    let offer_name: Option<String> = r.try_get("offer_name").map_err(get_err)?;
    let shown = offer_name.unwrap_or(name);
    let product_id: String = r.try_get("product_id").map_err(get_err)?;
    let was = base.filter(|b| *b > price).map(|b| money(b, &currency));
    let text = message(lang, kind, &shown, &money(price, &currency), was.as_deref());
    let chat: i64 = r.try_get("telegram_id").map_err(get_err)?;
    let params = json!({
        "chat_id": chat,
        "text": text,
        "reply_markup": {"inline_keyboard": [[{
            "text": open_product(lang),
            "web_app": {"url": bot.url(&format!("/product/{}", percent_encoding::utf8_percent_encode(&product_id, percent_encoding::NON_ALPHANUMERIC)))}
        }]]},
    });
    let payload = crate::telegram::notify::BotCall {
        method: "sendMessage".into(),
        params,
        customer_id: Some(customer),
        staff_order: None,
    };
    bot.outbox
        .enqueue(
            &mut tx,
            payload
                .job()
                .map_err(retry)?
                .dedupe(format!("tg:alert:{id}")),
        )
        .await
        .map_err(retry)?;
    close("notified").execute(&mut *tx).await.map_err(retry)?;
    tx.commit().await.map_err(retry)
}

/// A customer blocked the bot: their open alerts are closed (called by `telegram.send` on 403).
pub async fn unsubscribe_blocked(store: &Store, customer: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE subscriptions SET state = 'blocked', closed_at = $1 \
         WHERE customer_id = $2 AND state IN ('open', 'due')",
    )
    .bind(now_ms())
    .bind(customer)
    .execute(store.pool())
    .await?
    .rows_affected())
}

/// Subscribes to a back-in-stock (`back_in_stock`) or price-drop (`price_drop`) alert for an
/// offer. Idempotent: an open subscription to the same offer and kind is returned again.
#[utoipa::path(post, path = "/api/v1/subscriptions", operation_id = "subscribe", tag = "subscriptions", security(("tma" = []), ("bearer" = [])),
    request_body = NewSubscription,
    responses(
        (status = 201, body = Subscription),
        (status = 404, description = "offer_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "subscriptions_limit: as many open subscriptions as `selling.max_subscriptions` allows", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn create(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<NewSubscription>,
) -> Result<(StatusCode, Json<Subscription>), ApiError> {
    let s = subscribe(
        &state.store,
        customer.id,
        &body.offer_id,
        body.kind,
        state.config.selling.max_subscriptions,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// The customer's open alert subscriptions.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "subscriptions", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = Subscriptions), AuthErrors))]
pub async fn get_subscriptions(
    State(state): State<AppState>,
    customer: Customer,
) -> Result<Json<Subscriptions>, ApiError> {
    Ok(Json(Subscriptions {
        items: list(&state.store, customer.id).await?,
        limit: state.config.selling.max_subscriptions,
    }))
}

/// Cancels an open subscription.
#[utoipa::path(delete, path = "/api/v1/subscriptions/{id}", tag = "subscriptions", security(("tma" = []), ("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 204, description = "cancelled"),
        (status = 400, description = "the id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "not_found: no open subscription of this customer with this id", body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn delete_subscription(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if cancel(&state.store, customer.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("subscription"))
    }
}

#[cfg(test)]
mod payload_tests {
    use super::*;
    use crate::outbox::testing::{assert_refused, claimed};

    #[test]
    fn the_alerts_payload_parses_from_what_on_publish_writes() {
        let new = NewJob::typed(JOB_ALERTS, &Alerts { version: 12 }).expect("serializes");
        assert_eq!(new.payload, json!({"version": 12}));
        assert_eq!(
            claimed(new).parse::<Alerts>().expect("parses"),
            Alerts { version: 12 }
        );
        assert_refused::<Alerts>(JOB_ALERTS, json!({}), "version");
    }
}

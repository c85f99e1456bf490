//! Telegram Payments, with a provider (cards, in the order's currency) or with Telegram Stars
//! (XTR). A payment counts only when Telegram's own `successful_payment` update says so: the
//! Mini App's `openInvoice` callback merely makes it refetch the order.
//!
//! The invoice payload is an opaque reference, `v1.<order id>.<HMAC>`, signed with a key every
//! instance shares; a forged or altered payload is refused at pre-checkout and ignored in a
//! payment. `pre_checkout_query` is approved only if the order exists, belongs to the payer, is
//! still payable, and currency and amount are the invoice's.

pub mod receipt;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::Row;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::auth::Customer;
use crate::config::Config;
use crate::error::ApiError;
use crate::orders::PaymentState;
use crate::outbox::JobError;
use crate::state::AppState;
use crate::store::{Store, StoreError, now_ms};
use crate::telegram::texts::Lang;
use crate::telegram::update::{PreCheckoutQuery, SuccessfulPayment, User};
use crate::telegram::{Bot, BotApi, Dispatcher};

pub mod late;

const PAYLOAD_KEY: &str = "payment_payload";

async fn payload_key(store: &Store) -> Result<Vec<u8>, StoreError> {
    crate::auth::keys::shared_key(store, PAYLOAD_KEY).await
}

fn mac(key: &[u8], order: i64) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| {
        <Hmac<Sha256> as Mac>::new_from_slice(b"x").expect("HMAC takes any key")
    });
    m.update(format!("vitrina-invoice:{order}").as_bytes());
    m.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The invoice payload of an order.
pub fn sign_payload(key: &[u8], order: i64) -> String {
    format!("v1.{order}.{}", mac(key, order))
}

/// The order a payload refers to, if its signature is ours.
pub fn verify_payload(key: &[u8], payload: &str) -> Option<i64> {
    let mut parts = payload.split('.');
    let (Some("v1"), Some(order), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let order: i64 = order.parse().ok()?;
    bool::from(mac(key, order).as_bytes().ct_eq(sig.as_bytes())).then_some(order)
}

/// What an invoice asks for: Stars are the order's total at `checkout.stars_rate`, rounded up.
pub fn invoice_amount(config: &Config, method: &str, total: i64, currency: &str) -> (String, i64) {
    if method == "stars" {
        let rate = config.checkout.stars_rate.max(1);
        ("XTR".into(), (total + rate - 1) / rate)
    } else {
        (currency.to_string(), total)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLink {
    /// Open with the Mini App SDK's `invoice.openUrl`; the result of that call is not proof of
    /// payment — refetch the order.
    pub invoice_link: String,
}

/// Creates a Telegram invoice link for the customer's order (payment method `telegram` or
/// `stars`).
#[utoipa::path(post, path = "/api/v1/orders/{id}/invoice", tag = "orders", security(("tma" = []), ("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = InvoiceLink),
        (status = 400, description = "the id is not a number", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "not payable online: cancelled, paid, paid on receipt, or payments not configured (`not_payable`, `payments_not_configured`), or the time to pay ran out (`payment_hold_expired`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Telegram unavailable; try again", body = crate::error::Problem, content_type = "application/problem+json"),
        crate::error::AuthErrors,
    ))]
pub async fn invoice(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<i64>,
) -> Result<Json<InvoiceLink>, ApiError> {
    Ok(Json(create_invoice(&state, customer, id).await?))
}

pub(crate) async fn create_invoice(
    state: &AppState,
    customer: Customer,
    id: i64,
) -> Result<InvoiceLink, ApiError> {
    let order = crate::orders::load(&state.store, customer.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    crate::orders::holds::check_payable(&state.config, &order)?;
    if crate::orders::is_cancelled(&state.config, &order.status)
        || PaymentState::parse(&order.payment_state) != Some(PaymentState::Unpaid)
    {
        return Err(ApiError::conflict(
            "not_payable",
            format!(
                "order {} is {} and {}",
                order.number, order.status, order.payment_state
            ),
        ));
    }
    let provider_token = match order.payment_method.as_str() {
        "stars" => String::new(),
        "telegram" => state
            .config
            .telegram
            .payment_provider_token
            .as_ref()
            .map(|t| t.expose().to_string())
            .ok_or_else(|| {
                ApiError::conflict(
                    "payments_not_configured",
                    "telegram.payment_provider_token is not set",
                )
            })?,
        _ => {
            return Err(ApiError::conflict(
                "not_payable",
                "this order is paid on receipt",
            ));
        }
    };
    let api = BotApi::new(&state.config.telegram)
        .filter(|_| {
            state.config.telegram.bot_token.as_ref().map(|t| t.expose())
                != Some(crate::auth::DEMO_BOT_TOKEN)
        })
        .ok_or_else(|| {
            ApiError::conflict(
                "payments_not_configured",
                "online payment needs the shop's bot (telegram.bot_token)",
            )
        })?;
    let (currency, amount) = invoice_amount(
        &state.config,
        &order.payment_method,
        order.total.amount,
        &order.total.currency,
    );
    let key = payload_key(&state.store).await?;
    let prices = if currency == "XTR" {
        json!([{"label": format!("Заказ {}", order.number), "amount": amount}])
    } else {
        let mut lines: Vec<Value> = order
            .items
            .iter()
            .map(|i| json!({"label": truncate(&format!("{} × {}", i.name, i.quantity), 64), "amount": i.total}))
            .collect();
        if order.delivery.price > 0 {
            lines.push(json!({"label": "Доставка", "amount": order.delivery.price}));
        }
        // Telegram charges the sum of these lines: a total that differs from them (a discount
        // the backend applied to the order) is one more line, so the charge is the total.
        let listed: i64 = order.items.iter().map(|i| i.total).sum::<i64>() + order.delivery.price;
        if listed != amount {
            let label = if amount < listed {
                "Скидка"
            } else {
                "Корректировка"
            };
            lines.push(json!({"label": label, "amount": amount - listed}));
        }
        Value::Array(lines)
    };
    let description = truncate(
        &order
            .items
            .iter()
            .map(|i| format!("{} × {}", i.name, i.quantity))
            .collect::<Vec<_>>()
            .join(", "),
        255,
    );
    let mut params = json!({
        "title": truncate(&format!("Заказ {}", order.number), 32),
        "description": if description.is_empty() { order.number.clone() } else { description },
        "payload": sign_payload(&key, order.id),
        "currency": currency,
        "prices": prices,
    });
    if !provider_token.is_empty() {
        params["provider_token"] = provider_token.into();
        if state.config.checkout.receipt.enabled {
            receipt_for(state, &order, amount, &currency, &mut params).await?;
        }
    }
    let link = api.call("createInvoiceLink", &params).await.map_err(|e| {
        tracing::warn!(error = %e, order = order.id, "createInvoiceLink failed");
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "telegram_unavailable",
            "could not create the invoice; try again",
        )
    })?;
    sqlx::query("UPDATE orders SET invoice_currency = $1, invoice_amount = $2 WHERE id = $3")
        .bind(&currency)
        .bind(amount)
        .bind(order.id)
        .execute(state.store.pool())
        .await?;
    Ok(InvoiceLink {
        invoice_link: link.as_str().unwrap_or_default().to_string(),
    })
}

/// Puts the 54-FZ receipt in the invoice; an order whose receipt cannot match is not offered
/// for payment (a wrong receipt is a fine for the shop and a refused payment for the customer).
async fn receipt_for(
    state: &AppState,
    order: &crate::orders::Order,
    amount: i64,
    currency: &str,
    params: &mut Value,
) -> Result<(), ApiError> {
    let config = &state.config.checkout.receipt;
    let ids: Vec<&str> = order.items.iter().map(|i| i.offer_id.as_str()).collect();
    let vats = receipt::vat_rates(&state.store, &ids).await?;
    let lines: Vec<receipt::Line> = order
        .items
        .iter()
        .map(|i| receipt::Line {
            description: match &i.variant {
                Some(v) if !v.is_empty() => format!("{} ({v})", i.name),
                _ => i.name.clone(),
            },
            unit_price: i.price,
            quantity: i.quantity,
            vat_code: vats
                .get(&i.offer_id)
                .and_then(|r| receipt::vat_code_of(r))
                .unwrap_or(config.vat_code),
        })
        .collect();
    let delivery = (order.delivery.price > 0).then(|| {
        let name = state
            .config
            .checkout
            .delivery
            .iter()
            .find(|d| d.id == order.delivery.method)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| "Доставка".into());
        (name, order.delivery.price, config.vat_code)
    });
    let items = receipt::items(&lines, delivery, amount).map_err(|e| {
        tracing::error!(order = order.id, error = %e, "no invoice: its receipt cannot match");
        ApiError::conflict("receipt_mismatch", e.to_string())
    })?;
    receipt::attach(params, config, &items, currency);
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn refuse_text(lang: Lang, why: &str) -> String {
    match (lang, why) {
        (Lang::Ru, "gone") => "Заказ не найден.".into(),
        (Lang::En, "gone") => "Order not found.".into(),
        (Lang::Ru, "cancelled") => "Заказ отменён, оплатить его нельзя.".into(),
        (Lang::En, "cancelled") => "The order was cancelled and cannot be paid.".into(),
        (Lang::Ru, "expired") => {
            "Время на оплату истекло, заказ отменён. Оформите его заново.".into()
        }
        (Lang::En, "expired") => {
            "The time to pay ran out and the order was cancelled. Please order again.".into()
        }
        (Lang::Ru, "paid") => "Заказ уже оплачен.".into(),
        (Lang::En, "paid") => "The order is already paid.".into(),
        (Lang::Ru, _) => "Сумма заказа изменилась. Откройте заказ и оплатите снова.".into(),
        (Lang::En, _) => "The order's amount changed. Open the order and pay again.".into(),
    }
}

/// Why a payment for `order` by `payer` of `amount` `currency` must be refused, if it must.
async fn check(
    config: &Config,
    store: &Store,
    order: i64,
    payer: i64,
    currency: &str,
    amount: i64,
) -> Result<Option<&'static str>, StoreError> {
    let row = sqlx::query(
        "SELECT o.status, o.payment_state, o.invoice_currency, o.invoice_amount, c.telegram_id \
         FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
    )
    .bind(order)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else {
        return Ok(Some("gone"));
    };
    let owner: i64 = r.try_get("telegram_id")?;
    if owner != payer {
        return Ok(Some("gone"));
    }
    let status: String = r.try_get("status")?;
    if crate::orders::is_cancelled(config, &status) {
        return Ok(Some("cancelled"));
    }
    let state: String = r.try_get("payment_state")?;
    if PaymentState::parse(&state) != Some(PaymentState::Unpaid) {
        return Ok(Some("paid"));
    }
    let inv_currency: Option<String> = r.try_get("invoice_currency")?;
    let inv_amount: Option<i64> = r.try_get("invoice_amount")?;
    if inv_currency.as_deref() != Some(currency) || inv_amount != Some(amount) {
        return Ok(Some("amount"));
    }
    Ok(None)
}

/// Registers the payment handlers with the bot's dispatcher.
pub fn register(dispatcher: Dispatcher) -> Dispatcher {
    dispatcher
        .on_pre_checkout(|bot, query| async move { pre_checkout(&bot, &query).await })
        .on_successful_payment(|bot, from, payment| async move {
            successful(&bot, &from, &payment).await
        })
}

/// `pre_checkout_query`: Telegram waits up to 10 s for the answer; this is a few reads.
pub async fn pre_checkout(bot: &Arc<Bot>, query: &PreCheckoutQuery) -> Result<(), JobError> {
    let retry = |e: StoreError| JobError::retry(e.to_string());
    let id = &query.id;
    let payer = query.from.id;
    let lang = Lang::of(query.from.language_code.as_deref());
    let currency = query.currency.as_str();
    let amount = query.total_amount;
    let payload = query.invoice_payload.as_str();
    let key = payload_key(&bot.store).await.map_err(retry)?;
    let refusal = match verify_payload(&key, payload) {
        None => {
            tracing::warn!(payer, "pre_checkout_query with a payload that is not ours");
            Some("gone")
        }
        Some(order) => match crate::orders::holds::refusal(&bot.config, &bot.store, order)
            .await
            .map_err(retry)?
        {
            Some(expired) => Some(expired),
            None => check(&bot.config, &bot.store, order, payer, currency, amount)
                .await
                .map_err(retry)?,
        },
    };
    let answer = match refusal {
        None => json!({"pre_checkout_query_id": id, "ok": true}),
        Some(why) => {
            json!({"pre_checkout_query_id": id, "ok": false, "error_message": refuse_text(lang, why)})
        }
    };
    match bot.api.call("answerPreCheckoutQuery", &answer).await {
        Ok(_) => Ok(()),
        // Past Telegram's deadline the query is gone; the customer simply tries again.
        Err(crate::telegram::BotError::Rejected { description, .. }) => {
            tracing::warn!(%description, "answerPreCheckoutQuery refused");
            Ok(())
        }
        Err(e) => Err(JobError::retry(e.to_string())),
    }
}

/// `successful_payment`: recorded once per charge id; the order becomes paid.
pub async fn successful(
    bot: &Arc<Bot>,
    from: &User,
    p: &SuccessfulPayment,
) -> Result<(), JobError> {
    let retry = |e: StoreError| JobError::retry(e.to_string());
    let payer = from.id;
    let charge = p.telegram_payment_charge_id.as_str();
    let currency = p.currency.as_str();
    let amount = p.total_amount;
    let key = payload_key(&bot.store).await.map_err(retry)?;
    let Some(order) = verify_payload(&key, &p.invoice_payload) else {
        tracing::error!(
            charge,
            payer,
            "successful_payment with a payload that is not ours: not recorded"
        );
        return Ok(());
    };
    if charge.is_empty() {
        return Err(JobError::Permanent(
            "successful_payment without telegram_payment_charge_id".into(),
        ));
    }
    let mut tx = bot
        .store
        .pool()
        .begin()
        .await
        .map_err(|e| JobError::retry(e.to_string()))?;
    let inserted = sqlx::query(
        "INSERT INTO payments (telegram_payment_charge_id, provider_payment_charge_id, order_id, payer_telegram_id, currency, amount, state, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (telegram_payment_charge_id) DO NOTHING",
    )
    .bind(charge)
    .bind(p.provider_payment_charge_id.as_deref())
    .bind(order)
    .bind(payer)
    .bind(currency)
    .bind(amount)
    .bind(PaymentState::Paid.as_str())
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .map_err(|e| JobError::retry(e.to_string()))?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query("UPDATE orders SET payment_state = $1, updated_at = $2 WHERE id = $3")
            .bind(PaymentState::Paid.as_str())
            .bind(now_ms())
            .bind(order)
            .execute(&mut *tx)
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
    }
    if bot.config.dev.enabled && bot.config.dev.payment_pause {
        tracing::warn!(
            order,
            "dev pause point reached: payment is waiting to be killed"
        );
        std::future::pending::<()>().await;
    }
    tx.commit()
        .await
        .map_err(|e| JobError::retry(e.to_string()))?;
    if inserted {
        tracing::info!(order, charge, currency, amount, "payment received");
    }
    // Idempotent: after a crash right after the commit, the retried job still moves the status.
    ensure_paid_status(bot, order).await?;
    late::after_payment(bot, order, charge, currency, amount).await
}

async fn ensure_paid_status(bot: &Arc<Bot>, order: i64) -> Result<(), JobError> {
    use crate::orders::SetStatusError;
    match crate::orders::set_status(
        &bot.config,
        &bot.store,
        &bot.outbox,
        order,
        "paid",
        Some("Telegram"),
        "telegram",
    )
    .await
    {
        Ok(_) => Ok(()),
        // The payment is recorded; the flow does not lead to «paid» from where the order is
        // (staff moved it on, or the shop has no such status): nothing to move, nothing to retry.
        Err(
            e @ (SetStatusError::TransitionNotAllowed { .. }
            | SetStatusError::UnknownStatus { .. }
            | SetStatusError::NotFound(_)),
        ) => {
            tracing::debug!(order, reason = %e, "paid order keeps its status");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("order {0} has no Telegram payment")]
    NoPayment(i64),
    #[error("order {0} was paid with a provider ({1}); refund it in the provider's dashboard")]
    NotStars(i64, String),
    #[error("order {0} is already refunded")]
    AlreadyRefunded(i64),
    #[error("telegram.bot_token is not set")]
    NoBot,
    #[error(transparent)]
    Telegram(#[from] crate::telegram::BotError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RefundError {
    fn from(e: sqlx::Error) -> Self {
        RefundError::Store(e.into())
    }
}

/// `vitrina payments refund <order>`: refunds a Stars payment through refundStarPayment.
pub async fn refund(config: &Config, store: &Store, order: i64) -> Result<(), RefundError> {
    let row = sqlx::query(
        "SELECT telegram_payment_charge_id, payer_telegram_id, currency, state FROM payments WHERE order_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(order)
    .fetch_optional(store.pool())
    .await?
    .ok_or(RefundError::NoPayment(order))?;
    let charge: String = row.try_get("telegram_payment_charge_id")?;
    let payer: i64 = row.try_get("payer_telegram_id")?;
    let currency: String = row.try_get("currency")?;
    let state: String = row.try_get("state")?;
    if PaymentState::parse(&state) == Some(PaymentState::Refunded) {
        return Err(RefundError::AlreadyRefunded(order));
    }
    if currency != "XTR" {
        return Err(RefundError::NotStars(order, currency));
    }
    let api = BotApi::new(&config.telegram).ok_or(RefundError::NoBot)?;
    api.call(
        "refundStarPayment",
        &json!({"user_id": payer, "telegram_payment_charge_id": charge}),
    )
    .await?;
    let mut tx = store.pool().begin().await?;
    let now = now_ms();
    sqlx::query(
        "UPDATE payments SET state = $1, refunded_at = $2 WHERE telegram_payment_charge_id = $3",
    )
    .bind(PaymentState::Refunded.as_str())
    .bind(now)
    .bind(&charge)
    .execute(&mut *tx)
    .await?;
    // A refund settles what a late payment flagged.
    sqlx::query(
        "UPDATE orders SET payment_state = $1, attention = NULL, updated_at = $2 WHERE id = $3",
    )
    .bind(PaymentState::Refunded.as_str())
    .bind(now)
    .bind(order)
    .execute(&mut *tx)
    .await?;
    let status: String = sqlx::query("SELECT status FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    crate::orders::add_event(&mut tx, order, &status, Some("Stars refunded"), "cli").await?;
    tx.commit().await?;
    tracing::info!(order, charge, "Stars payment refunded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_signed_and_opaque() {
        let key = b"0123456789abcdef0123456789abcdef";
        let p = sign_payload(key, 42);
        assert!(p.starts_with("v1.42."));
        assert_eq!(verify_payload(key, &p), Some(42));
        assert_eq!(verify_payload(key, &p.replace("v1.42.", "v1.43.")), None);
        assert_eq!(verify_payload(b"another key", &p), None);
        assert_eq!(verify_payload(key, "{\"order_id\":42}"), None);
        assert_eq!(verify_payload(key, &format!("{p}.x")), None);
    }

    #[test]
    fn stars_round_up() {
        let config = Config::default();
        assert_eq!(
            invoice_amount(&config, "stars", 1800, "RUB"),
            ("XTR".into(), 10)
        );
        assert_eq!(
            invoice_amount(&config, "stars", 1801, "RUB"),
            ("XTR".into(), 11)
        );
        assert_eq!(
            invoice_amount(&config, "telegram", 1801, "RUB"),
            ("RUB".into(), 1801)
        );
    }
}

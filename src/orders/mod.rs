//! Orders: checkout from the cart with server-side prices and an atomic stock decrement,
//! idempotent by `Idempotency-Key`, a configurable status flow with a timeline, and an outbox
//! job for every change (notifications and Bitrix consume them).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyConnection, Row, Transaction};
use utoipa::ToSchema;

use crate::auth::CustomerId;
use crate::money::Money;
use std::future::Future;
use std::pin::Pin;

use crate::config::{CheckoutPause, Config, DeliveryMethod, PaymentMethod};
use crate::error::FieldError;
use crate::outbox::{NewJob, Outbox};
use crate::store::{Backend, Store, StoreError, now_ms};

pub mod error;
pub mod events;
pub mod holds;
pub mod http;
pub mod limits;
pub mod master;
pub mod repeat;
mod store;

pub use error::{PlaceOrderError, SetStatusError, ValidateError};

/// Outbox job kinds written by orders.
pub const JOB_ORDER_CREATED: &str = "order.created";
pub const JOB_STATUS_CHANGED: &str = "order.status_changed";

/// The timeline note of a payment that arrived after the order was cancelled (written by
/// payments, shown by the bot and the Mini App).
pub const NOTE_PAYMENT_AFTER_CANCEL: &str = "payment_after_cancel";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_states_read_back_what_they_write() {
        for p in [
            PaymentState::Unpaid,
            PaymentState::Paid,
            PaymentState::Refunded,
        ] {
            assert_eq!(PaymentState::parse(p.as_str()), Some(p));
        }
        assert_eq!(PaymentState::parse("PAID"), None);
        assert_eq!(PaymentState::parse(""), None);
    }

    #[test]
    fn cancelled_is_whatever_returns_the_goods() {
        let mut config = Config::default();
        assert!(is_cancelled(&config, "cancelled"));
        assert!(!is_cancelled(&config, "new"));
        config.orders.restock_on = vec!["annulled".into()];
        assert!(is_cancelled(&config, "annulled"));
        assert!(!is_cancelled(&config, "cancelled"));
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    /// With country code; `8…` is read as `+7…`.
    pub phone: String,
    /// Optional; passed to the shop (Bitrix's e-mail order property) when given.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryChoice {
    /// One of `GET /api/v1/checkout/options` → `delivery[].id`.
    pub method: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub pickup_point: Option<String>,
}

/// What the customer submits at checkout. No prices: the server computes them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub contact: Contact,
    pub delivery: DeliveryChoice,
    pub payment_method: PaymentMethod,
    #[serde(default)]
    pub comment: Option<String>,
    /// A discount coupon, for shops on Bitrix (`GET /api/v1/checkout/options` → `coupons`);
    /// other shops refuse it with `coupons_unsupported`.
    #[serde(default)]
    pub coupon: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderItem {
    pub offer_id: String,
    pub product_id: String,
    pub name: String,
    pub variant: Option<String>,
    /// Price at order time, minor units.
    pub price: i64,
    pub quantity: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// `status`: the order became `status`; `message`: the shop wrote to the customer (the
    /// text in `note`; `status` is the order's status then).
    pub kind: String,
    pub status: String,
    pub note: Option<String>,
    /// `customer`, `staff:<name>`, `cli`, `bitrix`…
    pub actor: String,
    /// Unix milliseconds.
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub method: String,
    pub price: i64,
    pub address: Option<String>,
    pub pickup_point: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Order {
    pub id: i64,
    /// Human-friendly: `V-000042`.
    pub number: String,
    pub status: String,
    /// `unpaid`, `paid`, `refunded`.
    pub payment_state: String,
    pub payment_method: String,
    pub items: Vec<OrderItem>,
    pub items_total: i64,
    pub delivery: DeliveryView,
    pub total: Money,
    pub contact: Contact,
    pub comment: Option<String>,
    pub created_at: i64,
    pub timeline: Vec<TimelineEntry>,
    /// The shop's own name for the current status when it has no mapping in vitrina (the
    /// Bitrix status name, 1C's value), shown instead of `status`; null otherwise.
    pub status_name: Option<String>,
    /// Why the shop cancelled the order, as the shop wrote it.
    pub cancel_reason: Option<String>,
    /// The shipment's tracking number, once the shop has one.
    pub tracking_number: Option<String>,
    /// Minor units owed back to the customer after the shop lowered a paid order's total.
    pub refund_due: i64,
    /// The coupon given at checkout, if any.
    pub coupon: Option<String>,
}

fn field(field: &str, code: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// Checks a checkout request against the shop's configuration; per-field errors.
pub fn validate(
    config: &Config,
    req: &CheckoutRequest,
) -> Result<(CheckoutRequest, DeliveryMethod), ValidateError> {
    let mut errors = Vec::new();
    let mut clean = req.clone();
    clean.contact.name = req.contact.name.trim().to_string();
    if clean.contact.name.is_empty() || clean.contact.name.chars().count() > 100 {
        errors.push(field(
            "contact.name",
            "required",
            "enter a name (up to 100 characters)",
        ));
    }
    match crate::phone::Phone::parse(&req.contact.phone) {
        Ok(p) => clean.contact.phone = p.into_string(),
        Err(_) => errors.push(field(
            "contact.phone",
            "invalid_phone",
            "expected a phone number with country code",
        )),
    }
    let method = config
        .checkout
        .delivery
        .iter()
        .find(|d| d.id == req.delivery.method)
        .cloned();
    match &method {
        None => errors.push(field(
            "delivery.method",
            "unknown",
            "choose one of the offered delivery methods",
        )),
        Some(m) => {
            let address = req.delivery.address.as_deref().map(str::trim).unwrap_or("");
            if m.needs_address && !(5..=500).contains(&address.chars().count()) {
                errors.push(field(
                    "delivery.address",
                    "required",
                    "enter the delivery address",
                ));
            }
            clean.delivery.address =
                (m.needs_address && !address.is_empty()).then(|| address.to_string());
            if m.pickup_points.is_empty() {
                clean.delivery.pickup_point = None;
            } else if !req
                .delivery
                .pickup_point
                .as_ref()
                .is_some_and(|p| m.pickup_points.contains(p))
            {
                errors.push(field(
                    "delivery.pickup_point",
                    "unknown",
                    "choose one of the pickup points",
                ));
            }
        }
    }
    if !config
        .checkout
        .payment_methods
        .contains(&req.payment_method)
    {
        errors.push(field(
            "payment_method",
            "unavailable",
            "this shop does not offer this payment method",
        ));
    }
    clean.contact.email = req
        .contact
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    if let Some(e) = &clean.contact.email {
        let valid = e.len() <= 254
            && !e.chars().any(char::is_whitespace)
            && e.split_once('@')
                .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
        if !valid {
            errors.push(field(
                "contact.email",
                "invalid_email",
                "expected an e-mail address",
            ));
        }
    }
    clean.coupon = req
        .coupon
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if let Some(c) = &clean.coupon {
        if config.backend.kind != crate::config::BackendKind::Bitrix {
            return Err(ValidateError::CouponsUnsupported);
        }
        if c.chars().count() > 50
            || !c
                .chars()
                .all(|ch| ch.is_alphanumeric() || "-_".contains(ch))
        {
            errors.push(field(
                "coupon",
                "invalid_coupon",
                "letters, digits, - and _, up to 50",
            ));
        }
    }
    clean.comment = req
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if clean
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 1000)
    {
        errors.push(field("comment", "too_long", "up to 1000 characters"));
    }
    match (errors.is_empty(), method) {
        (true, Some(m)) => Ok((clean, m)),
        _ => Err(ValidateError::Fields(errors)),
    }
}

fn payment_method_name(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::OnReceipt => "on_receipt",
        PaymentMethod::Telegram => "telegram",
        PaymentMethod::Stars => "stars",
    }
}

/// A transaction that takes SQLite's write lock at once: checkout reads then writes, and a
/// read transaction upgraded to a write loses to a concurrent writer in WAL mode.
pub async fn write_tx(store: &Store) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match store.backend() {
        Backend::Sqlite => store.pool().begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => store.pool().begin().await,
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// Points in [`place`] where a crash test may stop the process. Production passes
/// [`NoCheckoutHooks`]; `dev.checkout_pause` installs the dev server's pause
/// ([`crate::dev::CheckoutPauser`]).
pub trait CheckoutHooks: Send + Sync {
    fn reached(&self, point: CheckoutPause) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// No hooks: checkout runs straight through.
pub struct NoCheckoutHooks;

impl CheckoutHooks for NoCheckoutHooks {
    fn reached(&self, _: CheckoutPause) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }
}

/// Places an order from the customer's cart. `Ok((order, true))` when created now,
/// `Ok((order, false))` when this key already placed it (a retry).
pub async fn place(
    config: &Config,
    store: &Store,
    outbox: &Outbox,
    customer: CustomerId,
    key: &str,
    req: &CheckoutRequest,
    hooks: &dyn CheckoutHooks,
) -> Result<(Order, bool), PlaceOrderError> {
    let (req, delivery) = validate(config, req)?;
    let hash: String = Sha256::digest(serde_json::to_vec(&req).unwrap_or_default())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    loop {
        let placed = try_place(
            config, store, outbox, customer, key, &hash, &req, &delivery, hooks,
        );
        match placed.await {
            Err(PlaceError::SameKeyRace) => continue, // the other request committed: replay it
            Err(PlaceError::Failed(e)) => return Err(e),
            Ok(done) => return Ok(done),
        }
    }
}

enum PlaceError {
    Failed(PlaceOrderError),
    SameKeyRace,
}

macro_rules! place_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for PlaceError {
            fn from(e: $t) -> Self {
                PlaceError::Failed(e.into())
            }
        }
    )*};
}
place_error_from!(PlaceOrderError, sqlx::Error, StoreError, limits::LimitError);

#[allow(clippy::too_many_arguments)]
async fn try_place(
    config: &Config,
    store: &Store,
    outbox: &Outbox,
    customer: CustomerId,
    key: &str,
    hash: &str,
    req: &CheckoutRequest,
    delivery: &DeliveryMethod,
    hooks: &dyn CheckoutHooks,
) -> Result<(Order, bool), PlaceError> {
    let mut tx = write_tx(store).await?;
    if let Some(row) = sqlx::query(
        "SELECT id, request_hash FROM orders WHERE customer_id = $1 AND idempotency_key = $2",
    )
    .bind(customer.0)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?
    {
        let (id, stored): (i64, String) = (row.try_get("id")?, row.try_get("request_hash")?);
        tx.rollback().await?;
        if stored != hash {
            return Err(PlaceOrderError::IdempotencyKeyReused.into());
        }
        let order = load(store, customer, id)
            .await?
            .ok_or(PlaceOrderError::Vanished(id))?;
        return Ok((order, false));
    }
    limits::check_unpaid(
        &mut tx,
        store.backend(),
        config,
        customer,
        req.payment_method,
    )
    .await?;
    let now = now_ms();
    let status = config
        .orders
        .statuses
        .first()
        .cloned()
        .unwrap_or_else(|| "new".into());
    // The order row first: its unique (customer, key) makes a concurrent retry with the same
    // key wait here for this transaction, then replay its result.
    let inserted = sqlx::query(
        "INSERT INTO orders (number, customer_id, status, payment_method, delivery_method, delivery_price, pickup_point, \
             address, contact_name, contact_phone, comment, items_total, total, currency, idempotency_key, request_hash, \
             created_at, updated_at, contact_email, coupon) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, 0, 0, $11, $12, $13, $14, $14, $15, $16) RETURNING id",
    )
    .bind(format!("pending-{}", uuid::Uuid::new_v4().simple()))
    .bind(customer.0)
    .bind(&status)
    .bind(payment_method_name(req.payment_method))
    .bind(&delivery.id)
    .bind(req.delivery.pickup_point.as_deref())
    .bind(req.delivery.address.as_deref())
    .bind(&req.contact.name)
    .bind(&req.contact.phone)
    .bind(req.comment.as_deref())
    .bind(&config.checkout.currency)
    .bind(key)
    .bind(hash)
    .bind(now)
    .bind(req.contact.email.as_deref())
    .bind(req.coupon.as_deref())
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match inserted {
        Ok(row) => row.try_get(0)?,
        Err(e) if is_unique_violation(&e) => return Err(PlaceError::SameKeyRace),
        Err(e) => return Err(e.into()),
    };
    let lines = crate::cart::live_lines(&mut tx, customer).await?;
    if lines.is_empty() {
        return Err(PlaceOrderError::CartEmpty.into());
    }
    let mut errors = Vec::new();
    let mut items_total = 0i64;
    for (position, line) in lines.iter().enumerate() {
        let (Some(price), Some(product_id)) = (line.price, line.product_id.as_ref()) else {
            errors.push(field(
                &format!("cart.{}", line.offer_id),
                "not_for_sale",
                "no longer sold; remove it from the cart",
            ));
            continue;
        };
        if let Some(e) = limits::line_field_error(config, &line.offer_id, line.quantity) {
            errors.push(e);
            continue;
        }
        // Atomic check-and-decrement: the row lock (PostgreSQL) or the write lock (SQLite)
        // makes concurrent checkouts take turns, so stock never goes below zero.
        let taken = sqlx::query(
            "UPDATE offers SET stock_milli = stock_milli - $1 WHERE id = $2 AND stock_milli >= $1",
        )
        .bind(line.quantity * 1000)
        .bind(&line.offer_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            errors.push(field(
                &format!("cart.{}", line.offer_id),
                "insufficient_stock",
                "not enough in stock",
            ));
            continue;
        }
        let total = price * line.quantity;
        items_total += total;
        sqlx::query(
            "INSERT INTO order_items (order_id, position, offer_id, product_id, name, variant, price, quantity, total) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(&line.offer_id)
        .bind(product_id)
        .bind(&line.name)
        .bind(line.variant.as_deref())
        .bind(price)
        .bind(line.quantity)
        .bind(total)
        .execute(&mut *tx)
        .await?;
    }
    if !errors.is_empty() {
        tx.rollback().await?;
        return Err(PlaceOrderError::CartUnavailable(errors).into());
    }
    let delivery_price = if delivery.free_from.is_some_and(|f| items_total >= f) {
        0
    } else {
        delivery.price
    };
    let number = format!("{}{id:06}", config.orders.number_prefix);
    sqlx::query("UPDATE orders SET number = $1, items_total = $2, delivery_price = $3, total = $4 WHERE id = $5")
        .bind(&number)
        .bind(items_total)
        .bind(delivery_price)
        .bind(items_total + delivery_price)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    add_event(&mut tx, id, &status, None, "customer").await?;
    holds::schedule(&mut tx, outbox, config, id, req.payment_method).await?;
    outbox
        .enqueue(
            &mut tx,
            NewJob::typed(JOB_ORDER_CREATED, &events::OrderCreated { order_id: id })?
                .dedupe(format!("order:{id}:created")),
        )
        .await?;
    sqlx::query("DELETE FROM cart_lines WHERE customer_id = $1")
        .bind(customer.0)
        .execute(&mut *tx)
        .await?;
    hooks.reached(CheckoutPause::BeforeCommit).await;
    tx.commit().await?;
    hooks.reached(CheckoutPause::AfterCommit).await;
    outbox.notify();
    tracing::info!(order = %number, total = items_total + delivery_price, "order placed");
    let order = load(store, customer, id)
        .await?
        .ok_or(PlaceOrderError::Vanished(id))?;
    Ok((order, true))
}

pub(crate) async fn add_event(
    conn: &mut AnyConnection,
    order: i64,
    status: &str,
    note: Option<&str>,
    actor: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO order_events (order_id, status, note, actor, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(order)
        .bind(status)
        .bind(note)
        .bind(actor)
        .bind(now_ms())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)
}

/// One order of one customer (`None` for another customer's: it does not exist for them).
pub async fn load(
    store: &Store,
    customer: CustomerId,
    id: i64,
) -> Result<Option<Order>, StoreError> {
    store::load(store, Some(customer), id).await
}

/// An order for staff tools (CLI, bot buttons): no customer check.
pub async fn load_any(store: &Store, id: i64) -> Result<Option<Order>, StoreError> {
    store::load(store, None, id).await
}

/// Orders of a customer (or of everyone), optionally in one status, newest first, in a
/// constant number of queries.
pub async fn list(
    store: &Store,
    customer: Option<CustomerId>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Order>, StoreError> {
    store::list(store, customer, status, limit).await
}

/// Where an order's money is (`orders.payment_state`; the API shows it as this string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    Unpaid,
    Paid,
    Refunded,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Unpaid => "unpaid",
            PaymentState::Paid => "paid",
            PaymentState::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PaymentState::Unpaid,
            PaymentState::Paid,
            PaymentState::Refunded,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// Whether an order in `status` is cancelled: its status is one that gave the goods back
/// (`orders.restock_on`), whatever the shop calls it.
pub fn is_cancelled(config: &Config, status: &str) -> bool {
    config.orders.restock_on.iter().any(|s| s == status)
}

/// The one rule for vitrina's own tools (bot buttons, the CLI, payments, a staff screen):
/// may an order in `from` become `to`? `orders.transitions` says. The shop's master system
/// (Bitrix, 1C) is not asked: what it decided is applied by [`master::apply_master_state`].
pub fn can_move(config: &Config, from: &str, to: &str) -> bool {
    config
        .orders
        .transitions
        .get(from)
        .is_some_and(|to_list| to_list.iter().any(|s| s == to))
}

/// The statuses vitrina's own tools may move an order in `from` to, in the configured order.
pub fn next_statuses(config: &Config, from: &str) -> Vec<String> {
    config
        .orders
        .transitions
        .get(from)
        .cloned()
        .unwrap_or_default()
}

/// Returns an order's goods to stock (a cancellation).
pub(crate) async fn restock(conn: &mut AnyConnection, order: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE offers SET stock_milli = COALESCE(stock_milli, 0) + \
             (SELECT CAST(SUM(quantity) AS BIGINT) * 1000 FROM order_items i WHERE i.order_id = $1 AND i.offer_id = offers.id) \
         WHERE id IN (SELECT offer_id FROM order_items WHERE order_id = $1)",
    )
    .bind(order)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves an order to `to` if the configured flow allows it ([`can_move`]): timeline entry, restock when the
/// status returns goods, and an outbox job, all in one transaction.
pub async fn set_status(
    config: &Config,
    store: &Store,
    outbox: &Outbox,
    id: i64,
    to: &str,
    note: Option<&str>,
    actor: &str,
) -> Result<Order, SetStatusError> {
    if !config.orders.statuses.iter().any(|s| s == to) {
        return Err(SetStatusError::UnknownStatus {
            to: to.to_string(),
            known: config.orders.statuses.join(", "),
        });
    }
    let mut tx = write_tx(store).await?;
    let from: String = sqlx::query("SELECT status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(SetStatusError::NotFound(id))?
        .try_get(0)?;
    if !can_move(config, &from, to) {
        return Err(SetStatusError::TransitionNotAllowed {
            from,
            to: to.to_string(),
        });
    }
    let changed =
        sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to)
            .bind(now_ms())
            .bind(id)
            .bind(&from)
            .execute(&mut *tx)
            .await?;
    if changed.rows_affected() != 1 {
        return Err(SetStatusError::StatusChanged);
    }
    if config.orders.restock_on.iter().any(|s| s == to) && !config.orders.restock_on.contains(&from)
    {
        restock(&mut tx, id).await?;
    }
    let event = add_event(&mut tx, id, to, note, actor).await?;
    outbox
        .enqueue(
            &mut tx,
            NewJob::typed(
                JOB_STATUS_CHANGED,
                &events::StatusChanged {
                    order_id: id,
                    from: from.clone(),
                    to: to.to_string(),
                    actor: None,
                    changes: None,
                },
            )?
            .dedupe(format!("order:{id}:event:{event}")),
        )
        .await?;
    tx.commit().await?;
    outbox.notify();
    tracing::info!(order = id, from = %from, to = %to, actor, "order status changed");
    load_any(store, id)
        .await?
        .ok_or(SetStatusError::NotFound(id))
}

//! Orders' SQL for reading: rows as `FromRow` types, and one order or a page of orders in a
//! constant number of queries (the order rows, then all their items, then all their events).

use std::collections::HashMap;

use sqlx::AnyPool;

use super::{Contact, DeliveryView, Order, OrderItem, TimelineEntry};
use crate::auth::CustomerId;
use crate::money::Money;
use crate::store::{Store, StoreError};

/// Ids bound in one `IN (…)` list: far below SQLite's and PostgreSQL's parameter limits.
const IDS_PER_QUERY: usize = 500;

const ORDER_COLUMNS: &str = "id, number, status, payment_state, payment_method, delivery_method, \
     delivery_price, pickup_point, address, contact_name, contact_phone, comment, items_total, total, \
     currency, created_at, master_status_name, cancel_reason, tracking_number, refund_due, coupon, \
     contact_email";

#[derive(Debug, sqlx::FromRow)]
struct OrderRow {
    id: i64,
    number: String,
    status: String,
    payment_state: String,
    payment_method: String,
    delivery_method: String,
    delivery_price: i64,
    pickup_point: Option<String>,
    address: Option<String>,
    contact_name: String,
    contact_phone: String,
    comment: Option<String>,
    items_total: i64,
    total: i64,
    currency: String,
    created_at: i64,
    master_status_name: Option<String>,
    cancel_reason: Option<String>,
    tracking_number: Option<String>,
    refund_due: i64,
    coupon: Option<String>,
    contact_email: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct ItemRow {
    order_id: i64,
    offer_id: String,
    product_id: String,
    name: String,
    variant: Option<String>,
    price: i64,
    quantity: i64,
    total: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    order_id: i64,
    kind: String,
    status: String,
    note: Option<String>,
    actor: String,
    created_at: i64,
}

impl OrderRow {
    fn into_order(self, items: Vec<OrderItem>, timeline: Vec<TimelineEntry>) -> Order {
        Order {
            id: self.id,
            number: self.number,
            status: self.status,
            payment_state: self.payment_state,
            payment_method: self.payment_method,
            items,
            items_total: self.items_total,
            delivery: DeliveryView {
                method: self.delivery_method,
                price: self.delivery_price,
                address: self.address,
                pickup_point: self.pickup_point,
            },
            total: Money {
                amount: self.total,
                currency: self.currency,
            },
            contact: Contact {
                name: self.contact_name,
                phone: self.contact_phone,
                email: self.contact_email,
            },
            comment: self.comment,
            created_at: self.created_at,
            timeline,
            status_name: self.master_status_name,
            cancel_reason: self.cancel_reason,
            tracking_number: self.tracking_number,
            refund_due: self.refund_due,
            coupon: self.coupon,
        }
    }
}

/// One order (of `customer`, when given: another customer's does not exist for them).
pub(crate) async fn load(
    store: &Store,
    customer: Option<CustomerId>,
    id: i64,
) -> Result<Option<Order>, StoreError> {
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND ($2 IS NULL OR customer_id = $2)"
    )))
    .bind(id)
    .bind(customer.map(|c| c.0))
    .fetch_optional(store.pool())
    .await?;
    Ok(with_details(store.pool(), row.into_iter().collect())
        .await?
        .pop())
}

/// Orders of a customer (or of everyone), optionally in one status, newest first: three
/// queries for up to [`IDS_PER_QUERY`] orders, whatever their number of lines and events.
pub(crate) async fn list(
    store: &Store,
    customer: Option<CustomerId>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Order>, StoreError> {
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE ($1 IS NULL OR customer_id = $1) \
         AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3"
    )))
    .bind(customer.map(|c| c.0))
    .bind(status)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    with_details(store.pool(), rows).await
}

/// `$1, $2, …, $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The orders with their items and timelines, in the order of `rows`.
async fn with_details(pool: &AnyPool, rows: Vec<OrderRow>) -> Result<Vec<Order>, StoreError> {
    let mut items: HashMap<i64, Vec<OrderItem>> = HashMap::new();
    let mut events: HashMap<i64, Vec<TimelineEntry>> = HashMap::new();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let list = placeholders(chunk.len());
        let mut query = sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(format!(
            "SELECT order_id, offer_id, product_id, name, variant, price, quantity, total \
             FROM order_items WHERE order_id IN ({list}) ORDER BY order_id, position"
        )));
        for id in chunk {
            query = query.bind(*id);
        }
        for i in query.fetch_all(pool).await? {
            items.entry(i.order_id).or_default().push(OrderItem {
                offer_id: i.offer_id,
                product_id: i.product_id,
                name: i.name,
                variant: i.variant,
                price: i.price,
                quantity: i.quantity,
                total: i.total,
            });
        }
        let mut query = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(format!(
            "SELECT order_id, kind, status, note, actor, created_at FROM order_events \
             WHERE order_id IN ({list}) ORDER BY id"
        )));
        for id in chunk {
            query = query.bind(*id);
        }
        for e in query.fetch_all(pool).await? {
            events.entry(e.order_id).or_default().push(TimelineEntry {
                kind: e.kind,
                status: e.status,
                note: e.note,
                actor: e.actor,
                at: e.created_at,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.id;
            r.into_order(
                items.remove(&id).unwrap_or_default(),
                events.remove(&id).unwrap_or_default(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_from_one() {
        assert_eq!(placeholders(1), "$1");
        assert_eq!(placeholders(3), "$1, $2, $3");
    }
}

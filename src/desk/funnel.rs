//! The funnel vitrina counts itself: Mini App opens (sign-ins), product views, carts started,
//! checkouts started, per day of the shop. No third-party analytics and no personal data: a
//! count per day and kind (`funnel_days`), and, for the current and the previous day only,
//! who was counted already (`funnel_seen`, by customer id), so each customer counts once per
//! day and kind (and per product for views). Orders and payments are not events here: the
//! summary counts them from the orders themselves.
//!
//! Cheap on the hot path: a customer counted already is found in a bounded in-memory cache
//! and costs nothing; a new one costs one small transaction (two upserts). Product views
//! are bounded per customer and day ([`MAX_VIEWS_PER_DAY`]) and only for products in the
//! catalog, so a hostile client cannot grow the tables.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::Deserialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::Day;
use crate::auth::CustomerId;
use crate::store::{Store, StoreError, now_ms};

/// Distinct products one customer's views count for in one day.
pub const MAX_VIEWS_PER_DAY: i64 = 300;
/// Keys the in-memory cache of counted (day, kind, customer, subject) holds.
const CACHE_KEYS: usize = 200_000;

/// What the funnel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The Mini App signed in (`POST /api/v1/auth`).
    AppOpen,
    /// A product's page (`POST /api/v1/events`).
    ProductView,
    /// The first item put in the cart that day.
    Cart,
    /// Checkout opened (`GET /api/v1/checkout/options`) or an order placed.
    Checkout,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AppOpen => "app_open",
            Kind::ProductView => "product_view",
            Kind::Cart => "cart",
            Kind::Checkout => "checkout",
        }
    }
}

pub struct Funnel {
    offset_ms: i64,
    counted: quick_cache::sync::Cache<(i64, Kind, i64, String), ()>,
    /// The last day old `funnel_seen` rows were removed on.
    pruned: AtomicI64,
}

impl Funnel {
    pub fn new(offset_ms: i64) -> Self {
        Self {
            offset_ms,
            counted: quick_cache::sync::Cache::new(CACHE_KEYS),
            pruned: AtomicI64::new(i64::MIN),
        }
    }

    /// Counts `kind` for `customer` (and `subject`, the product of a view) once per day.
    /// `Ok(true)` when it was counted now.
    pub async fn record(
        &self,
        store: &Store,
        kind: Kind,
        customer: CustomerId,
        subject: &str,
    ) -> Result<bool, StoreError> {
        let day = Day::of(now_ms(), self.offset_ms).0;
        let key = (day, kind, customer.0, subject.to_string());
        if self.counted.get(&key).is_some() {
            return Ok(false);
        }
        if self.pruned.swap(day, Ordering::Relaxed) != day {
            sqlx::query("DELETE FROM funnel_seen WHERE day < $1")
                .bind(day - 1)
                .execute(store.pool())
                .await?;
        }
        if kind == Kind::ProductView {
            let seen: i64 = sqlx::query(
                "SELECT COUNT(*) FROM funnel_seen WHERE day = $1 AND kind = $2 AND customer_id = $3",
            )
            .bind(day)
            .bind(kind.as_str())
            .bind(customer.0)
            .fetch_one(store.pool())
            .await?
            .try_get(0)?;
            if seen >= MAX_VIEWS_PER_DAY {
                return Ok(false);
            }
        }
        let mut tx = store.pool().begin().await?;
        let new = sqlx::query(
            "INSERT INTO funnel_seen (day, kind, customer_id, subject) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (day, kind, customer_id, subject) DO NOTHING",
        )
        .bind(day)
        .bind(kind.as_str())
        .bind(customer.0)
        .bind(subject)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if new {
            sqlx::query(
                "INSERT INTO funnel_days (day, kind, count) VALUES ($1, $2, 1) \
                 ON CONFLICT (day, kind) DO UPDATE SET count = funnel_days.count + 1",
            )
            .bind(day)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.counted.insert(key, ());
        Ok(new)
    }

    /// Records and logs a failure instead of failing the customer's request: the funnel is
    /// a statistic, never a reason to refuse a sign-in or a cart.
    pub async fn note(&self, store: &Store, kind: Kind, customer: CustomerId, subject: &str) {
        if let Err(e) = self.record(store, kind, customer, subject).await {
            tracing::warn!(error = %e, kind = kind.as_str(), "funnel event not counted");
        }
    }
}

/// Counts per kind over days `from..=to`.
pub async fn counts(
    store: &Store,
    from: Day,
    to: Day,
) -> Result<std::collections::HashMap<String, i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, CAST(SUM(count) AS BIGINT) FROM funnel_days WHERE day >= $1 AND day <= $2 GROUP BY kind",
    )
    .bind(from.0)
    .bind(to.0)
    .fetch_all(store.pool())
    .await?;
    let mut out = std::collections::HashMap::new();
    for r in rows {
        out.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
    }
    Ok(out)
}

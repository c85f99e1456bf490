//! The day at a glance: orders and revenue per day, average order, paid share, top products
//! and the funnel, over a range of the shop's days.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::{Day, funnel};
use crate::config::Config;
use crate::store::{Store, StoreError};

/// The longest range the summary and the export take, in days.
pub const MAX_DAYS: i64 = 366;
/// Products in `top_products`.
const TOP: i64 = 10;

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Orders placed that day (cancelled ones included).
    pub orders: i64,
    /// Totals of that day's orders that are not cancelled, minor units.
    pub revenue: i64,
    /// That day's orders that are paid.
    pub paid: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopProduct {
    pub product_id: String,
    pub name: String,
    pub quantity: i64,
    /// Minor units.
    pub revenue: i64,
}

/// Each step counts customers once per day (product views once per customer, product and
/// day); `orders` and `paid` are the orders placed in the range and those of them paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelCounts {
    pub app_opens: i64,
    pub product_views: i64,
    pub carts: i64,
    pub checkouts: i64,
    pub orders: i64,
    pub paid: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub from: String,
    pub to: String,
    pub currency: String,
    /// Every day of the range, in order, days without orders included.
    pub days: Vec<SummaryDay>,
    pub orders: i64,
    /// Minor units, cancelled orders left out.
    pub revenue: i64,
    /// Revenue per order that is not cancelled, minor units (0 without orders).
    pub average_order: i64,
    /// Paid orders / orders, 0 to 1 (0 without orders).
    pub paid_share: f64,
    /// Best sellers by revenue (cancelled orders left out), at most 10.
    pub top_products: Vec<TopProduct>,
    pub funnel: FunnelCounts,
}

/// ` AND <column> NOT IN ($n, …)` for the statuses that cancel an order, and their binds.
fn not_cancelled(config: &Config, column: &str, first: usize) -> String {
    let n = config.orders.restock_on.len();
    if n == 0 {
        return String::new();
    }
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!(" AND {column} NOT IN ({})", list.join(", "))
}

pub async fn summary(
    config: &Config,
    store: &Store,
    from: Day,
    to: Day,
) -> Result<Summary, StoreError> {
    let offset = config.shop.utc_offset_ms();
    let (start, end) = (from.start_ms(offset), to.next().start_ms(offset));
    let cancelled = &config.orders.restock_on;
    let in_list: Vec<String> = (4..4 + cancelled.len()).map(|i| format!("${i}")).collect();
    let is_cancelled = if cancelled.is_empty() {
        "0 = 1".to_string()
    } else {
        format!("status IN ({})", in_list.join(", "))
    };
    let sql = format!(
        "SELECT CAST((created_at + $1) / 86400000 AS BIGINT) AS day, COUNT(*) AS orders, \
             CAST(COALESCE(SUM(CASE WHEN {is_cancelled} THEN 0 ELSE total END), 0) AS BIGINT) AS revenue, \
             CAST(COALESCE(SUM(CASE WHEN {is_cancelled} THEN 0 ELSE 1 END), 0) AS BIGINT) AS kept, \
             CAST(COALESCE(SUM(CASE WHEN payment_state = 'paid' THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid \
         FROM orders WHERE created_at >= $2 AND created_at < $3 \
         GROUP BY CAST((created_at + $1) / 86400000 AS BIGINT)"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(offset)
        .bind(start)
        .bind(end);
    for s in cancelled {
        q = q.bind(s);
    }
    let mut per_day = std::collections::HashMap::new();
    let mut kept_total = 0i64;
    for r in q.fetch_all(store.pool()).await? {
        let day: i64 = r.try_get("day")?;
        let orders: i64 = r.try_get("orders")?;
        let revenue: i64 = r.try_get("revenue")?;
        let kept: i64 = r.try_get("kept")?;
        let paid: i64 = r.try_get("paid")?;
        kept_total += kept;
        per_day.insert(day, (orders, revenue, paid));
    }
    let mut days = Vec::new();
    let mut d = from;
    while d <= to {
        let (orders, revenue, paid) = per_day.get(&d.0).copied().unwrap_or_default();
        days.push(SummaryDay {
            date: d.to_string(),
            orders,
            revenue,
            paid,
        });
        d = d.next();
    }
    let orders: i64 = days.iter().map(|d| d.orders).sum();
    let revenue: i64 = days.iter().map(|d| d.revenue).sum();
    let paid: i64 = days.iter().map(|d| d.paid).sum();

    let sql = format!(
        "SELECT i.product_id, MAX(i.name) AS name, CAST(SUM(i.quantity) AS BIGINT) AS quantity, \
             CAST(SUM(i.total) AS BIGINT) AS revenue \
         FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.created_at >= $1 AND o.created_at < $2{} \
         GROUP BY i.product_id ORDER BY revenue DESC, i.product_id LIMIT {TOP}",
        not_cancelled(config, "o.status", 3)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(start).bind(end);
    for s in cancelled {
        q = q.bind(s);
    }
    let top_products = q
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .map(|r| {
            Ok(TopProduct {
                product_id: r.try_get("product_id")?,
                name: r.try_get("name")?,
                quantity: r.try_get("quantity")?,
                revenue: r.try_get("revenue")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let counts = funnel::counts(store, from, to).await?;
    let count = |k: funnel::Kind| counts.get(k.as_str()).copied().unwrap_or(0);
    Ok(Summary {
        from: from.to_string(),
        to: to.to_string(),
        currency: config.checkout.currency.clone(),
        days,
        orders,
        revenue,
        average_order: if kept_total > 0 {
            (revenue + kept_total / 2) / kept_total
        } else {
            0
        },
        paid_share: if orders > 0 {
            paid as f64 / orders as f64
        } else {
            0.0
        },
        top_products,
        funnel: FunnelCounts {
            app_opens: count(funnel::Kind::AppOpen),
            product_views: count(funnel::Kind::ProductView),
            carts: count(funnel::Kind::Cart),
            checkouts: count(funnel::Kind::Checkout),
            orders,
            paid,
        },
    })
}

//! The desk's SQL: the order list with its filters, the customer and master system of one
//! order, a staff message in the timeline.

use sqlx::Row;

use crate::store::{Store, StoreError, now_ms};

/// What the list is filtered by, parsed.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<String>,
    pub q: Option<String>,
    /// Unix ms, inclusive.
    pub from_ms: Option<i64>,
    /// Unix ms, exclusive.
    pub until_ms: Option<i64>,
    /// Orders with a smaller id than this (the cursor).
    pub before_id: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub master_status_name: Option<String>,
    pub payment_state: String,
    pub total: i64,
    pub currency: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub items_count: i64,
    pub created_at: i64,
}

/// `%…%` for LIKE with `\` escaping the wildcards.
fn like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Each word with its first letter upper-case: «анна петрова» → «Анна Петрова».
fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// LIKE patterns for `q` typed like a phone (3+ digits and only phone punctuation): its
/// digits anywhere, and a Russian trunk `8…` as the `+7…` checkout stores.
fn phone_patterns(q: &str) -> Vec<String> {
    if !q
        .chars()
        .all(|c| c.is_ascii_digit() || " +()-.".contains(c))
    {
        return Vec::new();
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 {
        return Vec::new();
    }
    let mut out = vec![format!("%{digits}%")];
    if let Some(rest) = digits
        .strip_prefix('8')
        .filter(|_| !q.trim_start().starts_with('+'))
    {
        out.push(format!("+7{rest}%"));
    }
    out
}

/// One page of orders, newest first. `q` matches the number, the contact phone (by digits)
/// and the contact name: as typed, lower-case, Title Case and upper-case (SQLite's LOWER
/// folds only ASCII, so Cyrillic names are matched by these spellings).
pub async fn list(store: &Store, f: &ListFilter) -> Result<Vec<ListRow>, StoreError> {
    let mut sql = String::from(
        "SELECT o.id, o.number, o.status, o.master_status_name, o.payment_state, o.total, o.currency, \
             o.contact_name, o.contact_phone, o.created_at, \
             (SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM order_items i WHERE i.order_id = o.id) AS items_count \
         FROM orders o WHERE ($1 IS NULL OR o.status = $1) AND ($2 IS NULL OR o.created_at >= $2) \
             AND ($3 IS NULL OR o.created_at < $3) AND ($4 IS NULL OR o.id < $4)",
    );
    let mut binds: Vec<String> = Vec::new();
    if let Some(q) = f.q.as_deref() {
        let mut any: Vec<String> = Vec::new();
        let mut add = |column: &str, pattern: String, binds: &mut Vec<String>| {
            binds.push(pattern);
            any.push(format!("{column} LIKE ${} ESCAPE '\\'", 5 + binds.len()));
        };
        add("LOWER(o.number)", like(&q.to_lowercase()), &mut binds);
        let mut names = vec![
            q.to_string(),
            q.to_lowercase(),
            title_case(q),
            q.to_uppercase(),
        ];
        names.dedup();
        for n in names {
            add("o.contact_name", like(&n), &mut binds);
        }
        add("LOWER(o.contact_name)", like(&q.to_lowercase()), &mut binds);
        for p in phone_patterns(q) {
            add("o.contact_phone", p, &mut binds);
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    sql.push_str(" ORDER BY o.id DESC LIMIT $5");
    let mut query = sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql))
        .bind(f.status.as_deref())
        .bind(f.from_ms)
        .bind(f.until_ms)
        .bind(f.before_id)
        .bind(f.limit);
    for b in binds {
        query = query.bind(b);
    }
    Ok(query.fetch_all(store.pool()).await?)
}

/// The Telegram user behind an order.
#[derive(Debug, sqlx::FromRow)]
pub struct CustomerRow {
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone_verified: Option<String>,
    pub phone: Option<String>,
}

pub async fn customer_of(store: &Store, order: i64) -> Result<Option<CustomerRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT c.telegram_id, c.first_name, c.last_name, c.username, c.phone_verified, c.phone \
         FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
    )
    .bind(order)
    .fetch_optional(store.pool())
    .await?)
}

/// The order's id in Bitrix, and whether 1C has loaded it.
pub async fn master_of(store: &Store, order: i64) -> Result<(Option<i64>, bool), StoreError> {
    let row = sqlx::query(
        "SELECT b.bitrix_id, o.exported_1c_at FROM orders o LEFT JOIN bitrix_orders b ON b.order_id = o.id \
         WHERE o.id = $1",
    )
    .bind(order)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else {
        return Ok((None, false));
    };
    let bitrix: Option<i64> = r.try_get(0)?;
    let exported: Option<i64> = r.try_get(1)?;
    Ok((bitrix, exported.is_some()))
}

/// A staff member's Telegram username, for the timeline's actor.
pub async fn username(
    store: &Store,
    customer: crate::auth::CustomerId,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query("SELECT username FROM customers WHERE id = $1")
        .bind(customer.0)
        .fetch_optional(store.pool())
        .await?
        .map(|r| r.try_get::<Option<String>, _>(0))
        .transpose()?
        .flatten())
}

/// A staff message in the order's timeline, with the message job, in one transaction.
pub async fn add_message(
    store: &Store,
    outbox: &crate::outbox::Outbox,
    order: i64,
    status: &str,
    text: &str,
    actor: &str,
    job: crate::outbox::NewJob,
) -> Result<(), StoreError> {
    let mut tx = store.pool().begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO order_events (order_id, kind, status, note, actor, created_at) \
         VALUES ($1, 'message', $2, $3, $4, $5) RETURNING id",
    )
    .bind(order)
    .bind(status)
    .bind(text)
    .bind(actor)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    outbox
        .enqueue(&mut tx, job.dedupe(format!("desk:message:{id}")))
        .await?;
    tx.commit().await?;
    outbox.notify();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_spellings() {
        assert_eq!(like("50%_a\\"), "%50\\%\\_a\\\\%");
        assert_eq!(title_case("анна ПЕТРОВА"), "Анна Петрова");
        assert_eq!(phone_patterns("8 (903) 555"), ["%8903555%", "+7903555%"]);
        assert_eq!(phone_patterns("+7 903"), ["%7903%"]);
        assert_eq!(phone_patterns("123"), ["%123%"]);
        assert!(phone_patterns("12").is_empty());
        assert!(phone_patterns("V-42").is_empty());
    }
}

//! The shop customer behind a Telegram user.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use initdata::WebAppUser;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::rate_limit::Limits;
use crate::store::{Store, StoreError, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(transparent)]
pub struct CustomerId(pub i64);

/// The authenticated caller. Every customer endpoint takes this extractor; a handler that
/// loads a cart or an order filters by `id`, so another customer's data answers 404.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: CustomerId,
    pub telegram_id: i64,
    pub language_code: Option<String>,
    /// `startapp` deep-link parameter, when the Mini App was opened with one.
    pub start_param: Option<String>,
}

/// What the extractor needs of the app's state: the sign-in checks and the request limits
/// (the state provides both; `auth` does not depend on the state that holds it).
impl<S> FromRequestParts<S> for Customer
where
    S: Send + Sync,
    Arc<super::Auth>: FromRef<S>,
    Arc<Limits>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let auth = Arc::<super::Auth>::from_ref(state);
        let customer = auth.authenticate(header).await?;
        // Only now, with the credentials checked: nobody can spend another customer's budget.
        let route = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str());
        Arc::<Limits>::from_ref(state).customer_request(
            customer.telegram_id,
            &parts.method,
            route,
        )?;
        Ok(customer)
    }
}

/// The customer as `GET /api/v1/me` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerProfile {
    pub id: CustomerId,
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub is_premium: bool,
    pub photo_url: Option<String>,
    pub allows_write_to_pm: bool,
    pub phone: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl CustomerProfile {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: CustomerId(row.try_get("id")?),
            telegram_id: row.try_get("telegram_id")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            username: row.try_get("username")?,
            language_code: row.try_get("language_code")?,
            is_premium: row.try_get::<i64, _>("is_premium")? != 0,
            photo_url: row.try_get("photo_url")?,
            allows_write_to_pm: row.try_get::<i64, _>("allows_write_to_pm")? != 0,
            phone: row.try_get("phone")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

const PROFILE_COLUMNS: &str = "id, telegram_id, first_name, last_name, username, language_code, is_premium, \
     photo_url, allows_write_to_pm, phone, created_at";

pub async fn profile(store: &Store, id: CustomerId) -> Result<Option<CustomerProfile>, StoreError> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM customers WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(CustomerProfile::from_row).transpose()?)
}

pub async fn set_phone(
    store: &Store,
    id: CustomerId,
    phone: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE customers SET phone = $1, updated_at = $2 WHERE id = $3")
        .bind(phone)
        .bind(now_ms())
        .bind(id.0)
        .execute(store.pool())
        .await?;
    Ok(())
}

pub async fn set_language(store: &Store, id: CustomerId, language: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE customers SET language_code = $1, updated_at = $2 WHERE id = $3")
        .bind(language)
        .bind(now_ms())
        .bind(id.0)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Inserts or refreshes the customer for a Telegram user; returns its id.
pub async fn upsert(store: &Store, user: &WebAppUser) -> Result<CustomerId, StoreError> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO customers (telegram_id, first_name, last_name, username, language_code, is_premium, \
             photo_url, allows_write_to_pm, created_at, updated_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9) \
         ON CONFLICT (telegram_id) DO UPDATE SET first_name = excluded.first_name, \
             last_name = excluded.last_name, username = excluded.username, \
             language_code = excluded.language_code, is_premium = excluded.is_premium, \
             photo_url = excluded.photo_url, allows_write_to_pm = excluded.allows_write_to_pm, \
             updated_at = excluded.updated_at, last_seen_at = excluded.last_seen_at \
         RETURNING id",
    )
    .bind(user.id)
    .bind(user.first_name.as_str())
    .bind(user.last_name.as_deref())
    .bind(user.username.as_deref())
    .bind(user.language_code.as_deref())
    .bind(i64::from(user.is_premium))
    .bind(user.photo_url.as_deref())
    .bind(i64::from(user.allows_write_to_pm))
    .bind(now)
    .fetch_one(store.pool())
    .await?;
    Ok(CustomerId(row.try_get(0)?))
}

/// Skips the database write when the same Telegram user with the same profile signed in
/// within the last few minutes: every API call carries initData, and rewriting an unchanged
/// row on each catalog page would make reads cost writes. Only ids are cached; they never
/// change, so another instance's cache can never be wrong about them.
#[derive(Default)]
pub struct RecentUpserts {
    seen: Mutex<HashMap<i64, (u64, CustomerId, Instant)>>,
}

const FRESH_FOR: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 100_000;

impl RecentUpserts {
    pub async fn upsert(&self, store: &Store, user: &WebAppUser) -> Result<CustomerId, StoreError> {
        let fingerprint = fingerprint(user);
        if let Ok(seen) = self.seen.lock()
            && let Some((fp, id, at)) = seen.get(&user.id)
            && *fp == fingerprint
            && at.elapsed() < FRESH_FOR
        {
            return Ok(*id);
        }
        let id = upsert(store, user).await?;
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() >= MAX_ENTRIES {
                seen.clear();
            }
            seen.insert(user.id, (fingerprint, id, Instant::now()));
        }
        Ok(id)
    }
}

fn fingerprint(user: &WebAppUser) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        &user.first_name,
        &user.last_name,
        &user.username,
        &user.language_code,
        user.is_premium,
        &user.photo_url,
        user.allows_write_to_pm,
    )
        .hash(&mut h);
    h.finish()
}

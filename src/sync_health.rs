//! The health of the catalog's sources: the Bitrix sync and the 1C catalog exchange. Every
//! run records its outcome in `sync_health` (one row a source, shared by all instances), so
//! `/metrics`, `/readyz` and `vitrina bitrix check` tell an operator when the catalog last
//! came in and why it did not since. A source failing for longer than `sync.alert_after`
//! gets one staff-chat message, and one more when it recovers: an operator hears of an
//! outage once, not every fifteen minutes.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::config::Config;
use crate::outbox::Outbox;
use crate::store::{Store, StoreError, now_ms};

/// Where a catalog comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Bitrix,
    /// The 1C catalog import through the exchange (`type=catalog`).
    OneC,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Bitrix, Source::OneC];

    /// The `source` label of the metrics and the key of the row.
    pub fn label(self) -> &'static str {
        match self {
            Source::Bitrix => "bitrix",
            Source::OneC => "1c",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Source::Bitrix => "Bitrix",
            Source::OneC => "1C",
        }
    }
}

/// One source's state, as `/readyz` shows it.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct SyncState {
    pub source: String,
    /// Unix milliseconds.
    pub last_success_at: Option<i64>,
    pub last_failure_at: Option<i64>,
    pub last_error: Option<String>,
    /// Failing since (the first failure after the last success); None when healthy.
    pub failing_since: Option<i64>,
    /// Failed runs recorded, ever.
    pub failures: i64,
}

impl SyncState {
    fn from_row(r: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            source: r.try_get("source")?,
            last_success_at: r.try_get("last_success_at")?,
            last_failure_at: r.try_get("last_failure_at")?,
            last_error: r.try_get("last_error")?,
            failing_since: r.try_get("failing_since")?,
            failures: r.try_get("failures")?,
        })
    }
}

/// Errors are kept this long (a REST answer can be long; the first part says what failed).
const MAX_ERROR_CHARS: usize = 500;

/// Every source that has run at least once.
pub async fn states(store: &Store) -> Result<Vec<SyncState>, StoreError> {
    let rows = sqlx::query(
        "SELECT source, last_success_at, last_failure_at, last_error, failing_since, failures \
         FROM sync_health ORDER BY source",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(SyncState::from_row)
        .collect::<Result<_, _>>()?)
}

pub async fn state(store: &Store, source: Source) -> Result<Option<SyncState>, StoreError> {
    let row = sqlx::query(
        "SELECT source, last_success_at, last_failure_at, last_error, failing_since, failures \
         FROM sync_health WHERE source = $1",
    )
    .bind(source.label())
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(SyncState::from_row).transpose()?)
}

/// A run succeeded. A source that had been alerted about gets its recovery note.
pub async fn success(
    store: &Store,
    outbox: &Outbox,
    config: &Config,
    source: Source,
) -> Result<(), StoreError> {
    let now = now_ms();
    // Claims the recovery note (one instance sends it), then records the success.
    let was_alerted = sqlx::query(
        "UPDATE sync_health SET alerted = 0 WHERE source = $1 AND alerted = 1 RETURNING source",
    )
    .bind(source.label())
    .fetch_optional(store.pool())
    .await?
    .is_some();
    sqlx::query(
        "INSERT INTO sync_health (source, last_success_at, failures, alerted) VALUES ($1, $2, 0, 0) \
         ON CONFLICT (source) DO UPDATE SET last_success_at = excluded.last_success_at, \
         failing_since = NULL",
    )
    .bind(source.label())
    .bind(now)
    .execute(store.pool())
    .await?;
    if was_alerted {
        alert(
            outbox,
            config,
            source,
            now,
            format!(
                "✅ Синхронизация каталога ({}) снова работает.",
                source.title()
            ),
        )
        .await?;
    }
    Ok(())
}

/// A run failed: recorded, and past `sync.alert_after` of failing the staff chat hears of it
/// once (the row's `alerted` flag is claimed by one instance).
pub async fn failure(
    store: &Store,
    outbox: &Outbox,
    config: &Config,
    source: Source,
    error: &str,
) -> Result<(), StoreError> {
    let now = now_ms();
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    sqlx::query(
        "INSERT INTO sync_health (source, last_failure_at, last_error, failing_since, failures, alerted) \
         VALUES ($1, $2, $3, $2, 1, 0) \
         ON CONFLICT (source) DO UPDATE SET last_failure_at = excluded.last_failure_at, \
         last_error = excluded.last_error, failures = sync_health.failures + 1, \
         failing_since = COALESCE(sync_health.failing_since, excluded.failing_since)",
    )
    .bind(source.label())
    .bind(now)
    .bind(&error)
    .execute(store.pool())
    .await?;
    let after = config.sync.alert_after;
    if after.is_zero() {
        return Ok(());
    }
    let claimed = sqlx::query(
        "UPDATE sync_health SET alerted = 1 WHERE source = $1 AND alerted = 0 \
         AND failing_since IS NOT NULL AND failing_since <= $2 RETURNING failing_since",
    )
    .bind(source.label())
    .bind(now - crate::store::duration_ms(after))
    .fetch_optional(store.pool())
    .await?;
    if let Some(row) = claimed {
        let since: i64 = row.try_get(0)?;
        let minutes = (now - since) / 60_000;
        alert(
            outbox,
            config,
            source,
            since,
            format!(
                "⚠️ Каталог из {} не обновляется {minutes} мин.\nПоследняя ошибка: {error}",
                source.title()
            ),
        )
        .await?;
    }
    Ok(())
}

/// A staff-chat message through the bot's outbox job (nothing without a bot or staff chat).
async fn alert(
    outbox: &Outbox,
    config: &Config,
    source: Source,
    at: i64,
    text: String,
) -> Result<(), StoreError> {
    let Some(chat) = config.telegram.staff_chat_id else {
        tracing::warn!(source = source.label(), "{text}");
        return Ok(());
    };
    if config.telegram.bot_token.is_none() {
        tracing::warn!(source = source.label(), "{text}");
        return Ok(());
    }
    let payload = crate::telegram::notify::BotCall::message(chat, &text);
    // One message per failing spell (and one per recovery), whichever instance gets here.
    let dedupe = format!(
        "sync:{}:{}:{at}",
        source.label(),
        if text.starts_with('✅') {
            "ok"
        } else {
            "alert"
        }
    );
    outbox.enqueue_now(payload.job()?.dedupe(dedupe)).await?;
    Ok(())
}

/// How a state reads in `vitrina bitrix check` and logs.
pub fn describe(state: Option<&SyncState>) -> String {
    let Some(s) = state else {
        return "never ran".into();
    };
    let at = |ms: i64| {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
        humantime::format_rfc3339_seconds(t).to_string()
    };
    let mut out = match s.last_success_at {
        Some(t) => format!("last success {}", at(t)),
        None => "no success yet".into(),
    };
    if let (Some(since), Some(t)) = (s.failing_since, s.last_failure_at) {
        out.push_str(&format!(
            "; FAILING since {}, last failure {}: {}",
            at(since),
            at(t),
            s.last_error.as_deref().unwrap_or("")
        ));
    } else if let (Some(t), Some(e)) = (s.last_failure_at, &s.last_error) {
        out.push_str(&format!("; last failure {} (recovered since): {e}", at(t)));
    }
    out
}

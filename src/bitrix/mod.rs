//! The Bitrix backend (`backend.kind = "bitrix"`): the shop's 1C-Bitrix site or Bitrix24
//! portal is the source of truth. Its catalog is mirrored into vitrina's catalog versions
//! ([`sync`]), customers are linked to Bitrix users by `UF_TELEGRAM_ID` ([`customers`]), every
//! order is created there exactly once through the outbox ([`orders`]), and status changes come
//! back by events and by a reconciliation poll ([`events`]). `vitrina bitrix check|setup|sync`
//! live in [`setup`] and [`sync`].

pub mod checkout_stock;
pub mod cli;
pub mod customers;
pub mod events;
pub mod master;
mod offers;
pub mod orders;
mod pictures;
pub mod setup;
pub mod stock;
pub mod sync;

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;
use tokio::sync::watch;

use crate::config::{BackendKind, Config};
use crate::orders::events::{OrderCreated, StatusChanged};
use crate::outbox::{Handlers, Job, JobError, NewJob, Outbox};
use crate::store::{Store, StoreError, now_ms};

/// Outbox job kinds handled here.
pub const JOB_ORDER_CREATED: &str = "bitrix.order_created";
pub const JOB_STATUS_CHANGED: &str = "bitrix.status_changed";
/// An order changed in Bitrix (from an event): read it and apply its status here.
pub const JOB_ORDER_CHANGED: &str = "bitrix.order_changed";

/// The payload of [`JOB_ORDER_CHANGED`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderChanged {
    pub bitrix_id: i64,
}

impl OrderChanged {
    /// The job that reads this Bitrix order and applies it here.
    pub fn job(bitrix_id: i64) -> Result<NewJob, StoreError> {
        NewJob::typed(JOB_ORDER_CHANGED, &OrderChanged { bitrix_id })
    }
}

pub struct Bitrix {
    pub client: bitrix::Client,
    pub config: Arc<Config>,
    pub store: Store,
    pub outbox: Outbox,
    /// Order property ids by code (`sale.property.list`), read once when a code is mapped.
    pub property_ids: tokio::sync::OnceCell<std::collections::HashMap<String, i64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum BitrixError {
    #[error("bitrix.webhook_url is not set (backend.kind = \"bitrix\" needs it)")]
    NoWebhook,
    #[error(transparent)]
    Rest(#[from] bitrix::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl From<sqlx::Error> for BitrixError {
    fn from(e: sqlx::Error) -> Self {
        BitrixError::Store(StoreError::Query(e))
    }
}

impl From<BitrixError> for JobError {
    fn from(e: BitrixError) -> Self {
        match e {
            BitrixError::Rest(e) => rest_job_error(e),
            BitrixError::Store(e) => JobError::retry(e.to_string()),
            other => JobError::Permanent(other.to_string()),
        }
    }
}

/// A REST failure in the outbox's terms: outages and limits retry, refusals dead-letter.
pub fn rest_job_error(e: bitrix::Error) -> JobError {
    match &e {
        bitrix::Error::Limited { code, .. } if code == bitrix::OPERATION_TIME_LIMIT => {
            // A method blocked for its operating time stays blocked up to 10 minutes.
            JobError::Retry {
                after: Some(Duration::from_secs(60)),
                message: e.to_string(),
            }
        }
        _ if e.is_transient() => JobError::retry(e.to_string()),
        _ => JobError::Permanent(e.to_string()),
    }
}

pub fn settings(config: &Config) -> bitrix::Settings {
    bitrix::Settings {
        burst: config.bitrix.burst,
        per_second: config.bitrix.requests_per_second,
        ..bitrix::Settings::default()
    }
}

impl Bitrix {
    /// The backend of a shop with `backend.kind = "bitrix"`; None for other shops.
    pub fn new(
        config: Arc<Config>,
        store: Store,
        outbox: Outbox,
    ) -> Result<Option<Arc<Self>>, BitrixError> {
        if config.backend.kind != BackendKind::Bitrix {
            return Ok(None);
        }
        let client = client(&config)?;
        Ok(Some(Arc::new(Self {
            client,
            config,
            store,
            outbox,
            property_ids: tokio::sync::OnceCell::new(),
        })))
    }
}

/// A REST client for the configured webhook.
pub fn client(config: &Config) -> Result<bitrix::Client, BitrixError> {
    let url = config
        .bitrix
        .webhook_url
        .as_ref()
        .ok_or(BitrixError::NoWebhook)?;
    Ok(bitrix::Client::new(url.expose(), settings(config))?)
}

/// The outbox handlers of the Bitrix jobs.
pub fn handlers(bx: &Arc<Bitrix>) -> Handlers {
    let b = bx.clone();
    let created = move |job: Job| {
        let b = b.clone();
        async move {
            let OrderCreated { order_id } = job.parse()?;
            orders::push_order(&b, order_id).await
        }
    };
    let b = bx.clone();
    let changed = move |job: Job| {
        let b = b.clone();
        async move {
            let change: StatusChanged = job.parse()?;
            // What Bitrix itself decided is not sent back to it.
            if change.actor.as_deref() == Some("bitrix") {
                return Ok(());
            }
            orders::push_status(&b, change.order_id, &change.to).await
        }
    };
    let b = bx.clone();
    let pulled = move |job: Job| {
        let b = b.clone();
        async move {
            let OrderChanged { bitrix_id } = job.parse()?;
            events::pull_order(&b, bitrix_id)
                .await
                .map_err(JobError::from)
        }
    };
    Handlers::new()
        .on(JOB_ORDER_CREATED, created)
        .on(JOB_STATUS_CHANGED, changed)
        .on(JOB_ORDER_CHANGED, pulled)
}

/// The periodic work of `serve`: the reconciliation poll and the catalog sync, each on its
/// own interval, until `stop`.
pub async fn run_schedules(bx: Arc<Bitrix>, mut stop: watch::Receiver<bool>) {
    let cfg = &bx.config.bitrix;
    let tick = [
        cfg.reconcile_interval,
        cfg.sync_interval,
        cfg.full_sync_interval,
    ]
    .into_iter()
    .filter(|d| !d.is_zero())
    .min()
    .unwrap_or(Duration::from_secs(60))
    // Catalog events are acted on within this.
    .min(Duration::from_secs(5));
    // With several instances, one runs the schedules at a time (the lease moves on if it dies).
    let owner = uuid::Uuid::new_v4().simple().to_string();
    let lease = Duration::from_secs(300);
    let started = tokio::time::Instant::now();
    let (mut last_reconcile, mut last_sync, mut last_full) = (started, started, started);
    let mut last_stock = started;
    let mut first_sync = true;
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(tick) => {}
        }
        match take_lease(&bx.store, "lease:schedules", &owner, lease).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "Bitrix schedules: cannot take the lease");
                continue;
            }
        }
        if reconcile_due(&bx, &mut last_reconcile) {
            reconcile(&bx).await;
        }
        let now = tokio::time::Instant::now();
        if cfg.catalog_iblock_id > 0 && (!first_sync || cfg.full_sync_interval.is_zero()) {
            stock_round(&bx, &mut last_stock).await;
        }
        if cfg.catalog_iblock_id > 0 {
            let full_due = !cfg.full_sync_interval.is_zero()
                && (first_sync || now - last_full >= cfg.full_sync_interval);
            // A catalog event asked for the changes now (a price, a product added).
            let requested = matches!(state_get(&bx.store, stock::SYNC_REQUESTED).await, Ok(Some(v)) if v == "1");
            if requested {
                let _ = state_set(&bx.store, stock::SYNC_REQUESTED, "0").await;
            }
            let changes_due =
                requested || (!cfg.sync_interval.is_zero() && now - last_sync >= cfg.sync_interval);
            if full_due || changes_due {
                last_sync = now;
                if full_due {
                    last_full = now;
                }
                first_sync = false;
                // A first sync with pictures can take many minutes: meanwhile the lease is
                // kept (lost, the sync is dropped: nothing is published half) and orders are
                // still reconciled, alongside.
                let syncing = sync::sync(&bx.client, &bx.config, &bx.store, full_due, |_| {});
                tokio::pin!(syncing);
                let result = loop {
                    tokio::select! {
                        r = &mut syncing => break r,
                        _ = tokio::time::sleep(tick) => {
                            match take_lease(&bx.store, "lease:schedules", &owner, lease).await {
                                Ok(true) => {}
                                Ok(false) => break Err(BitrixError::Other(
                                    "another instance took the schedules over; sync dropped".into(),
                                )),
                                Err(e) => tracing::warn!(error = %e, "Bitrix schedules: cannot renew the lease"),
                            }
                            if reconcile_due(&bx, &mut last_reconcile) {
                                let bx = bx.clone();
                                tokio::spawn(async move { reconcile(&bx).await });
                            }
                        }
                    }
                };
                match &result {
                    Ok(report) => tracing::info!(
                        full = full_due,
                        products = report.products,
                        pictures_listed = report.pictures_listed,
                        pictures_downloaded = report.pictures_downloaded,
                        pictures_retry = report.pictures_retry,
                        requests = report.requests,
                        version = report.version,
                        "Bitrix catalog synced"
                    ),
                    Err(e) => tracing::warn!(error = %e, "Bitrix catalog sync failed"),
                }
                let health = match &result {
                    Ok(_) => {
                        crate::sync_health::success(
                            &bx.store,
                            &bx.outbox,
                            &bx.config,
                            crate::sync_health::Source::Bitrix,
                        )
                        .await
                    }
                    Err(e) => {
                        crate::sync_health::failure(
                            &bx.store,
                            &bx.outbox,
                            &bx.config,
                            crate::sync_health::Source::Bitrix,
                            &e.to_string(),
                        )
                        .await
                    }
                };
                if let Err(e) = health {
                    tracing::warn!(error = %e, "cannot record the Bitrix sync's outcome");
                }
            }
        }
    }
}

/// Elements marked by events, and every element's stock when the poll is due.
async fn stock_round(bx: &Bitrix, last_poll: &mut tokio::time::Instant) {
    match stock::refresh_marked(bx).await {
        Ok(r) if r.read > 0 || r.removed > 0 => tracing::info!(
            read = r.read, changed = r.changed, removed = r.removed, requests = r.requests,
            version = ?r.version, "Bitrix stock from events"
        ),
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "Bitrix stock from events failed; the poll catches up")
        }
    }
    let every = bx.config.bitrix.stock_poll_interval;
    let now = tokio::time::Instant::now();
    if every.is_zero() || now - *last_poll < every {
        return;
    }
    *last_poll = now;
    match stock::poll(bx).await {
        Ok(r) => tracing::debug!(
            read = r.read, changed = r.changed, removed = r.removed, requests = r.requests,
            version = ?r.version, "Bitrix stock polled"
        ),
        Err(e) => tracing::warn!(error = %e, "Bitrix stock poll failed; next try on schedule"),
    }
}

fn reconcile_due(bx: &Bitrix, last: &mut tokio::time::Instant) -> bool {
    let every = bx.config.bitrix.reconcile_interval;
    let now = tokio::time::Instant::now();
    if every.is_zero() || now - *last < every {
        return false;
    }
    *last = now;
    true
}

async fn reconcile(bx: &Bitrix) {
    if let Err(e) = events::reconcile(bx).await {
        tracing::warn!(error = %e, "Bitrix reconciliation failed; next try on schedule");
    }
}

/// Takes (or keeps) the lease `name` for `owner` when it is free, expired or already `owner`'s.
pub async fn take_lease(
    store: &Store,
    name: &str,
    owner: &str,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let taken = sqlx::query(
        "INSERT INTO bitrix_state (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
         WHERE bitrix_state.value = excluded.value OR bitrix_state.updated_at < $4",
    )
    .bind(name)
    .bind(owner)
    .bind(now)
    .bind(now - crate::store::duration_ms(ttl))
    .execute(store.pool())
    .await?;
    Ok(taken.rows_affected() == 1)
}

pub(crate) async fn state_get(store: &Store, name: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM bitrix_state WHERE name = $1")
        .bind(name)
        .fetch_optional(store.pool())
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

pub(crate) async fn state_set(store: &Store, name: &str, value: &str) -> Result<(), StoreError> {
    let mut conn = store.pool().acquire().await?;
    state_set_in(&mut conn, name, value).await
}

/// [`state_set`] inside a transaction.
pub(crate) async fn state_set_in(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO bitrix_state (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod payload_tests {
    use super::*;
    use crate::outbox::testing::{assert_refused, claimed};

    #[test]
    fn order_changed_parses_from_what_is_enqueued() {
        let new = OrderChanged::job(31).expect("serializes");
        assert_eq!(new.kind, JOB_ORDER_CHANGED);
        assert_eq!(
            claimed(new).parse::<OrderChanged>().expect("parses"),
            OrderChanged { bitrix_id: 31 }
        );
        assert_refused::<OrderChanged>(
            JOB_ORDER_CHANGED,
            serde_json::json!({"id": 31}),
            "bitrix_id",
        );
    }
}

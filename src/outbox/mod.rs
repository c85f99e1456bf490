//! The outbox: every external side effect is a job row written in the same transaction as the
//! state change that causes it, then run at least once by a worker on any instance.
//!
//! A claim takes a lease (owner + expiry); a worker that dies mid-job loses the lease when it
//! expires and another worker retries the job. Handlers must therefore be idempotent; the
//! outbox guarantees that a job is marked done once and that two live workers never hold it
//! at the same time.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{AnyConnection, Row};
use tokio::sync::Notify;

use crate::config::OutboxConfig;
use crate::store::{Backend, Store, StoreError, duration_ms, now_ms};

mod worker;
pub use worker::{HandlerFn, Handlers, JobError, Worker, spawn_workers};

fn backoff_for(config: &OutboxConfig, attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(30);
    let full = config
        .backoff_base
        .saturating_mul(1u32 << exp)
        .min(config.backoff_max);
    let half = full / 2;
    half + full.saturating_sub(half).mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests;

/// Test helpers for job payloads: what the enqueuing side writes, read back as the handler
/// reads it.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Job, JobError, NewJob};

    pub fn job(kind: &str, payload: serde_json::Value) -> Job {
        Job {
            id: 7,
            kind: kind.into(),
            payload,
            attempt: 1,
            max_attempts: 5,
        }
    }

    /// The claimed job an enqueued one becomes (id 7).
    pub fn claimed(new: NewJob) -> Job {
        job(&new.kind, new.payload)
    }

    /// Asserts that the payload is refused as a dead letter naming the job and `field`.
    pub fn assert_refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(
        kind: &str,
        payload: serde_json::Value,
        field: &str,
    ) {
        match job(kind, payload).parse::<T>() {
            Err(JobError::Permanent(m)) => {
                assert!(m.contains("job 7") && m.contains(kind), "{m}");
                assert!(m.contains(&format!("`{field}`")), "{m}");
            }
            other => panic!("{kind}: expected a dead letter naming {field}, got {other:?}"),
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    /// Jobs with the same key are enqueued once (e.g. `notify:order:42:shipped`).
    pub dedupe_key: Option<String>,
    pub delay: Duration,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            payload,
            dedupe_key: None,
            delay: Duration::ZERO,
        }
    }
    /// A job whose payload is a typed value: the handler parses the same type back with
    /// [`Job::parse`], so what is written and what is read cannot drift apart.
    pub fn typed<P: Serialize>(kind: impl Into<String>, payload: &P) -> Result<Self, StoreError> {
        let payload = serde_json::to_value(payload).map_err(StoreError::Payload)?;
        Ok(Self::new(kind, payload))
    }
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// A claimed job, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// 1 on the first run.
    pub attempt: i64,
    pub max_attempts: i64,
}

impl Job {
    /// The job's payload as its kind's type, parsed once at the start of the handler. A
    /// payload that does not parse (a missing field, a wrong type) can never succeed: the job
    /// is dead at once, and the dead letter names the job and what is wrong with it.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.payload.clone()).map_err(|e| {
            JobError::Permanent(format!(
                "job {} ({}): unreadable payload: {e}",
                self.id, self.kind
            ))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Pending,
    Done,
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(JobState::Pending),
            "done" => Some(JobState::Done),
            "dead" => Some(JobState::Dead),
            _ => None,
        }
    }
}

/// A job row for operators (`vitrina outbox list`).
#[derive(Debug, Clone, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub payload: String,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Depth {
    pub pending: i64,
    pub dead: i64,
}

/// [`Outbox::enqueue`] for code that holds a transaction but no [`Outbox`] (the catalog
/// importer, which also runs from the CLI): the caller gives the attempt budget.
pub async fn enqueue_on(
    conn: &mut AnyConnection,
    job: NewJob,
    max_attempts: u32,
) -> Result<Option<i64>, StoreError> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO outbox (kind, payload, dedupe_key, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(job.kind)
    .bind(job.payload.to_string())
    .bind(job.dedupe_key)
    .bind(i64::from(max_attempts))
    .bind(now + duration_ms(job.delay))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

#[derive(Clone)]
pub struct Outbox {
    store: Store,
    config: OutboxConfig,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(store: Store, config: OutboxConfig) -> Self {
        Self {
            store,
            config,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &OutboxConfig {
        &self.config
    }

    /// Writes a job inside the caller's transaction. Returns `None` when a job with the same
    /// dedupe key exists already. Call [`Outbox::notify`] after the commit to skip the poll wait.
    pub async fn enqueue(
        &self,
        conn: &mut AnyConnection,
        job: NewJob,
    ) -> Result<Option<i64>, StoreError> {
        enqueue_on(conn, job, self.config.max_attempts).await
    }

    /// Enqueue in a transaction of its own (for jobs not tied to another state change).
    pub async fn enqueue_now(&self, job: NewJob) -> Result<Option<i64>, StoreError> {
        let mut tx = self.store.pool().begin().await?;
        let id = self.enqueue(&mut tx, job).await?;
        tx.commit().await?;
        self.notify();
        Ok(id)
    }

    pub fn notify(&self) {
        self.wake.notify_waiters();
    }

    pub(crate) async fn wait_for_work(&self, poll: Duration) {
        let _ = tokio::time::timeout(poll, self.wake.notified()).await;
    }

    /// Claims up to `limit` due jobs of the given kinds for `owner`, leasing them for the
    /// configured lease. Kinds this process cannot handle stay queued for one that can (a
    /// newer instance during a rolling upgrade, or a feature not enabled here).
    pub async fn claim(
        &self,
        owner: &str,
        limit: i64,
        kinds: &[&str],
    ) -> Result<Vec<Job>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        self.bury_expired(now).await?;
        // PostgreSQL: concurrent claimers skip each other's rows instead of waiting on them.
        // SQLite: one writer at a time, so the statement is already exclusive.
        let lock = match self.store.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let kind_params: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
        let sql = format!(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND run_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) AND attempts < max_attempts \
                 AND kind IN ({}) ORDER BY run_at, id LIMIT $4 {lock}) \
             RETURNING id, kind, payload, attempts, max_attempts",
            kind_params.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(now + duration_ms(self.config.lease))
            .bind(now)
            .bind(limit);
        for kind in kinds {
            query = query.bind(*kind);
        }
        let rows = query.fetch_all(self.store.pool()).await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let payload: String = row.try_get("payload")?;
            jobs.push(Job {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                // Rows are only written by `enqueue` from a serde_json::Value.
                payload: serde_json::from_str(&payload)
                    .unwrap_or(serde_json::Value::String(payload)),
                attempt: row.try_get("attempts")?,
                max_attempts: row.try_get("max_attempts")?,
            });
        }
        Ok(jobs)
    }

    /// Jobs whose worker died on their last allowed attempt go to the dead letters.
    async fn bury_expired(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = $1, \
                 last_error = 'lease expired on the last attempt (worker died or timed out)' \
             WHERE state = 'pending' AND attempts >= max_attempts AND lease_until IS NOT NULL AND lease_until < $1",
        )
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Marks a job done. `false` when the lease was lost (the job ran past its lease and
    /// another worker owns it now).
    pub async fn complete(&self, job: &Job, owner: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE outbox SET state = 'done', done_at = $1, updated_at = $1, lease_owner = NULL, \
                 lease_until = NULL, last_error = NULL \
             WHERE id = $2 AND lease_owner = $3 AND state = 'pending'",
        )
        .bind(now)
        .bind(job.id)
        .bind(owner)
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failure: back off and retry, or dead-letter. Returns the new state.
    pub async fn fail(
        &self,
        job: &Job,
        owner: &str,
        error: &JobError,
    ) -> Result<JobState, StoreError> {
        let now = now_ms();
        let (state, run_at) = match error {
            JobError::Permanent(_) => (JobState::Dead, now),
            _ if job.attempt >= job.max_attempts => (JobState::Dead, now),
            JobError::Retry { after, .. } => {
                let delay = after.unwrap_or_else(|| self.backoff(job.attempt));
                (JobState::Pending, now + duration_ms(delay))
            }
        };
        let message: String = error.message().chars().take(2000).collect();
        sqlx::query(
            "UPDATE outbox SET state = $1, run_at = $2, last_error = $3, updated_at = $4, \
                 lease_owner = NULL, lease_until = NULL \
             WHERE id = $5 AND lease_owner = $6 AND state = 'pending'",
        )
        .bind(state.as_str())
        .bind(run_at)
        .bind(message)
        .bind(now)
        .bind(job.id)
        .bind(owner)
        .execute(self.store.pool())
        .await?;
        Ok(state)
    }

    /// Exponential backoff with jitter: base·2^(attempt-1), capped, then a random point in its
    /// upper half so that jobs failing together do not retry together.
    pub fn backoff(&self, attempt: i64) -> Duration {
        backoff_for(&self.config, attempt)
    }

    pub async fn depth(&self) -> Result<Depth, StoreError> {
        let rows = sqlx::query(
            "SELECT state, CAST(COUNT(*) AS BIGINT) AS n FROM outbox WHERE state IN ('pending', 'dead') GROUP BY state",
        )
        .fetch_all(self.store.pool())
        .await?;
        let mut depth = Depth::default();
        for row in rows {
            let state: String = row.try_get("state")?;
            let n: i64 = row.try_get("n")?;
            match state.as_str() {
                "pending" => depth.pending = n,
                _ => depth.dead = n,
            }
        }
        Ok(depth)
    }

    pub async fn list(
        &self,
        state: Option<JobState>,
        limit: i64,
    ) -> Result<Vec<JobRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, state, attempts, max_attempts, run_at, last_error, created_at, payload FROM outbox \
             WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(state.map(JobState::as_str))
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(JobRow {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    state: row.try_get("state")?,
                    attempts: row.try_get("attempts")?,
                    max_attempts: row.try_get("max_attempts")?,
                    run_at: row.try_get("run_at")?,
                    last_error: row.try_get("last_error")?,
                    created_at: row.try_get("created_at")?,
                    payload: row.try_get("payload")?,
                })
            })
            .collect()
    }

    /// Puts a dead (or stuck pending) job back in the queue with a fresh attempt budget.
    /// `None` retries every dead job. Returns how many were requeued.
    pub async fn retry(&self, id: Option<i64>) -> Result<u64, StoreError> {
        let now = now_ms();
        let result = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, run_at = $1, updated_at = $1, \
                 lease_owner = NULL, lease_until = NULL \
             WHERE (($2 IS NULL AND state = 'dead') OR (id = $2 AND state <> 'done'))",
        )
        .bind(now)
        .bind(id)
        .execute(self.store.pool())
        .await?;
        if result.rows_affected() > 0 {
            self.notify();
        }
        Ok(result.rows_affected())
    }

    /// Removes a job that is not done (an operator's decision that it must never run).
    pub async fn drop_job(&self, id: i64) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM outbox WHERE id = $1 AND state <> 'done'")
            .bind(id)
            .execute(self.store.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }
}

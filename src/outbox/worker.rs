//! The job loop: claim, run the handler for the job's kind, record the outcome.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{Instrument, error, info, warn};

use super::{Job, JobState, Outbox};
use crate::metrics::Metrics;

/// How a handler says a job did not succeed.
#[derive(Debug, Clone)]
pub enum JobError {
    /// Try again: after `after` when the remote side said so (Telegram's `retry_after`,
    /// Bitrix's QUERY_LIMIT_EXCEEDED), else after the outbox's backoff.
    Retry {
        after: Option<Duration>,
        message: String,
    },
    /// Retrying cannot help (bad payload, a 400 from the remote side): dead-letter now.
    Permanent(String),
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError::Retry {
            after: None,
            message: message.into(),
        }
    }
    pub fn message(&self) -> &str {
        match self {
            JobError::Retry { message, .. } | JobError::Permanent(message) => message,
        }
    }
}

pub type HandlerFn =
    Arc<dyn Fn(Job) -> Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>> + Send + Sync>;

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct Handlers(HashMap<String, HandlerFn>);

impl Handlers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn on<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.0.insert(
            kind.to_string(),
            Arc::new(move |job| Box::pin(handler(job))),
        );
        self
    }

    /// Adds `other`'s handlers; a kind registered on both sides keeps `other`'s.
    pub fn merge(mut self, other: Handlers) -> Self {
        self.0.extend(other.0);
        self
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

pub struct Worker {
    outbox: Outbox,
    handlers: Handlers,
    owner: String,
    metrics: Option<Arc<Metrics>>,
}

impl Worker {
    pub fn new(outbox: Outbox, handlers: Handlers, owner: impl Into<String>) -> Self {
        Self {
            outbox,
            handlers,
            owner: owner.into(),
            metrics: None,
        }
    }

    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims and runs at most one job. `Ok(false)` when nothing was due.
    pub async fn run_once(&self) -> Result<bool, crate::store::StoreError> {
        let kinds: Vec<&str> = self.handlers.kinds().collect();
        let Some(job) = self
            .outbox
            .claim(&self.owner, 1, &kinds)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempt);
        self.run_job(job).instrument(span).await?;
        Ok(true)
    }

    async fn run_job(&self, job: Job) -> Result<(), crate::store::StoreError> {
        let started = std::time::Instant::now();
        let outcome = match self.handlers.0.get(&job.kind) {
            // A newer instance may know this kind; back off rather than drop it.
            None => Err(JobError::retry(format!(
                "no handler for job kind {:?} in this version",
                job.kind
            ))),
            Some(handler) => {
                // Past the lease another worker may take the job: stop before that.
                let budget = self
                    .outbox
                    .config()
                    .lease
                    .saturating_sub(Duration::from_millis(500));
                match tokio::time::timeout(budget, handler(job.clone())).await {
                    Ok(result) => result,
                    Err(_) => Err(JobError::retry(format!(
                        "handler timed out after {budget:?}"
                    ))),
                }
            }
        };
        let kind = job.kind.clone();
        let result = match &outcome {
            Ok(()) => {
                if self.outbox.complete(&job, &self.owner).await? {
                    info!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "job done"
                    );
                    "done"
                } else {
                    warn!("job finished after its lease was lost; another worker owns it now");
                    "lease_lost"
                }
            }
            Err(err) => match self.outbox.fail(&job, &self.owner, err).await? {
                JobState::Dead => {
                    error!(error = err.message(), "job dead-lettered");
                    "dead"
                }
                _ => {
                    warn!(error = err.message(), "job failed, will retry");
                    "retry"
                }
            },
        };
        if let Some(metrics) = &self.metrics {
            metrics.job_finished(&kind, result, started.elapsed());
        }
        Ok(())
    }

    /// Runs until `shutdown` turns true; the job in hand is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let poll = self.outbox.config().poll_interval;
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_once().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    warn!(error = %e, worker = %self.owner, "outbox claim failed");
                }
            }
            tokio::select! {
                _ = self.outbox.wait_for_work(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Starts `count` workers for this instance, each with its own lease owner id.
pub fn spawn_workers(
    outbox: &Outbox,
    handlers: &Handlers,
    instance: &str,
    count: usize,
    metrics: Arc<Metrics>,
    shutdown: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count)
        .map(|n| {
            let worker = Worker::new(outbox.clone(), handlers.clone(), format!("{instance}/{n}"))
                .with_metrics(metrics.clone());
            tokio::spawn(worker.run(shutdown.clone()))
        })
        .collect()
}

//! Prometheus metrics: HTTP requests by route and status, DB pool, outbox depth and job outcomes.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of an HTTP request. Every value comes from a closed set, so the series stay bounded
/// whatever clients send: `method` from [`method_label`], `route` from the route table (or
/// `web` for everything the fallback serves), `status` from the responses vitrina makes.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: &'static str,
    pub route: String,
    pub status: u16,
}

/// The method as a label: the standard ones by name, anything else `other` (any token is a
/// valid HTTP method, and each new label value would be a new series kept forever).
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub kind: String,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<HttpLabels, Histogram, fn() -> Histogram>,
    jobs: Family<JobLabels, Counter>,
    job_duration: Family<JobLabels, Histogram, fn() -> Histogram>,
    db_connections: Gauge,
    db_idle: Gauge,
    outbox_jobs: Family<StateLabels, Gauge>,
    sync_last_success: Family<SourceLabels, Gauge>,
    sync_failures: Family<SourceLabels, Counter>,
    bounded: Family<BoundedLabels, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BoundedLabels {
    what: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vitrina");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration =
            Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram as fn() -> Histogram,
            );
        let jobs = Family::<JobLabels, Counter>::default();
        let job_duration = Family::<JobLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let db_connections = Gauge::default();
        let db_idle = Gauge::default();
        let outbox_jobs = Family::<StateLabels, Gauge>::default();
        let bounded = Family::<BoundedLabels, Gauge>::default();
        registry.register(
            "public_memory",
            "What public requests keep in memory, each bounded by config: image_cache_bytes, \
             image_cache_entries, rate_limit_clients; and image_renders since start",
            bounded.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        registry.register(
            "outbox_jobs_finished",
            "Outbox job runs by kind and result",
            jobs.clone(),
        );
        registry.register(
            "outbox_job_duration_seconds",
            "Outbox job run time",
            job_duration.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            db_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            db_idle.clone(),
        );
        registry.register(
            "outbox_depth",
            "Outbox jobs waiting (pending) or dead-lettered",
            outbox_jobs.clone(),
        );
        let sync_last_success = Family::<SourceLabels, Gauge>::default();
        let sync_failures = Family::<SourceLabels, Counter>::default();
        registry.register(
            "sync_last_success_timestamp_seconds",
            "When each catalog source (bitrix, 1c) last synced successfully (Unix seconds)",
            sync_last_success.clone(),
        );
        registry.register(
            "sync_failures",
            "Failed catalog syncs by source (bitrix, 1c)",
            sync_failures.clone(),
        );
        Self {
            sync_last_success,
            sync_failures,
            registry,
            http_requests,
            http_duration,
            jobs,
            job_duration,
            db_connections,
            db_idle,
            outbox_jobs,
            bounded,
        }
    }

    /// The rendered-image cache (entries, bytes), renders since start, and the clients the
    /// rate limits remember.
    pub fn set_public_memory(&self, images: (usize, u64), renders: u64, clients: usize) {
        let set = |what, v: i64| self.bounded.get_or_create(&BoundedLabels { what }).set(v);
        set(
            "image_cache_entries",
            i64::try_from(images.0).unwrap_or(i64::MAX),
        );
        set(
            "image_cache_bytes",
            i64::try_from(images.1).unwrap_or(i64::MAX),
        );
        set("image_renders", i64::try_from(renders).unwrap_or(i64::MAX));
        set(
            "rate_limit_clients",
            i64::try_from(clients).unwrap_or(i64::MAX),
        );
    }

    pub fn http_request(&self, labels: HttpLabels, elapsed: Duration) {
        self.http_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.http_requests.get_or_create(&labels).inc();
    }

    pub fn job_finished(&self, kind: &str, result: &'static str, elapsed: Duration) {
        let labels = JobLabels {
            kind: kind.to_string(),
            result,
        };
        self.jobs.get_or_create(&labels).inc();
        self.job_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    pub fn set_db_pool(&self, size: u32, idle: usize) {
        self.db_connections.set(i64::from(size));
        self.db_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
    }

    /// The sources' health as the database has it (every instance reports the cluster's).
    pub fn set_sync_health(&self, states: &[crate::sync_health::SyncState]) {
        for s in states {
            let labels = SourceLabels {
                source: s.source.clone(),
            };
            if let Some(at) = s.last_success_at {
                self.sync_last_success.get_or_create(&labels).set(at / 1000);
            }
            let counter = self.sync_failures.get_or_create(&labels);
            let seen = counter.get();
            let total = u64::try_from(s.failures).unwrap_or(0);
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
    }

    pub fn set_outbox_depth(&self, pending: i64, dead: i64) {
        self.outbox_jobs
            .get_or_create(&StateLabels { state: "pending" })
            .set(pending);
        self.outbox_jobs
            .get_or_create(&StateLabels { state: "dead" })
            .set(dead);
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            out = format!("# encoding failed: {e}\n");
        }
        out
    }
}

//! A client of the 1C-Bitrix / Bitrix24 REST API through an inbound webhook
//! (`https://<portal>/rest/<user>/<code>/`), written against Bitrix's REST docs:
//!
//! - `POST <webhook>/<method>.json` with a JSON body; success is
//!   `{"result": …, "next": N, "total": N, "time": {…}}`, failure
//!   `{"error": "CODE", "error_description": "…"}` (with an HTTP 4xx/5xx status);
//! - list methods return 50 items a page; the next page is asked for with `start = next`.
//!   [`Client::list_all`] fetches up to 50 pages in one `batch` call once the first page told
//!   the total; [`Client::list_by_id`] is the docs' fast way for big or open-ended lists
//!   (`order: {ID: ASC}`, `filter: {">ID": last}`, `start: -1`, so Bitrix skips the count);
//! - `batch` runs up to 50 commands (`cmd: {key: "method?php-query"}`) and answers
//!   `result: {result, result_error, result_total, result_next, result_time}`;
//! - the portal's leaky bucket (cloud: 50 requests of burst, 2 per second drain) is respected
//!   on this side, and `QUERY_LIMIT_EXCEEDED` (503) or a method's `OPERATION_TIME_LIMIT` (429)
//!   back the client off and try again: a rejected request was not executed, so this is safe
//!   for every method;
//! - 5xx answers and timeouts are retried only for [`Safety::Safe`] calls (reads, updates
//!   that set a value); a create that timed out may have happened, so it is the caller's to
//!   look up before trying again.
//!
//! The webhook URL carries the access code: it is kept out of `Debug`, errors and logs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

mod batch;
mod lists;
pub mod query;
pub mod time;
mod value;

pub use batch::{BatchAnswer, Command};
pub use value::{as_i64, as_text, as_u64, items, minor_units, property_values};

/// Commands in one `batch` call, as Bitrix allows.
pub const BATCH_LIMIT: usize = 50;
/// Items in one page of a list method.
pub const PAGE_SIZE: usize = 50;

pub const QUERY_LIMIT_EXCEEDED: &str = "QUERY_LIMIT_EXCEEDED";
pub const OPERATION_TIME_LIMIT: &str = "OPERATION_TIME_LIMIT";

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Bitrix answered with an error envelope: the call was understood and refused.
    #[error("Bitrix error {code} (HTTP {status}): {description}")]
    Api {
        status: u16,
        code: String,
        description: String,
    },
    /// Rate limited beyond the retry budget.
    #[error("Bitrix rate limit ({code}) persisted after {attempts} attempts")]
    Limited { code: String, attempts: u32 },
    /// No answer, a 5xx without an envelope, a timeout: the portal may be down.
    #[error("Bitrix unavailable: {0}")]
    Unavailable(String),
    /// A call that may have been executed failed without an answer; not retried.
    #[error("Bitrix did not answer a call that may have been executed: {0}")]
    Uncertain(String),
    #[error("Bitrix answer not understood: {0}")]
    Decode(String),
    #[error("bad webhook URL: expected https://<portal>/rest/<user>/<code>/")]
    Url,
    #[error("batch of {0} commands; Bitrix allows at most 50")]
    BatchTooLarge(usize),
    /// A file the portal serves (a picture) could not be had; `transient`: an outage or a
    /// timeout, which may pass, rather than a 404 or a file over the limit.
    #[error("file {url}: {reason}")]
    File {
        url: String,
        reason: String,
        transient: bool,
    },
}

impl Error {
    /// Worth trying again later (an outage or a limit), as opposed to a refused call.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Limited { .. } | Error::Unavailable(_) | Error::Uncertain(_) => true,
            Error::Api { status, code, .. } => {
                *status >= 500 || code == QUERY_LIMIT_EXCEEDED || code == OPERATION_TIME_LIMIT
            }
            _ => false,
        }
    }
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } | Error::Limited { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Whether a call may be sent again when its answer is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Reads, and writes that set a value (repeating changes nothing).
    Safe,
    /// Creates: repeating could make a second one.
    Unsafe,
}

/// One successful answer.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub result: Value,
    pub next: Option<u64>,
    pub total: Option<u64>,
    pub time: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The portal's bucket: requests allowed in a burst…
    pub burst: u32,
    /// …and drained per second (cloud: 50 and 2; Enterprise: 250 and 5).
    pub per_second: f64,
    pub timeout: Duration,
    /// Attempts per call for limits and (safe calls) outages.
    pub attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            burst: 50,
            per_second: 2.0,
            timeout: Duration::from_secs(30),
            attempts: 6,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// Requests sent, for benchmarks and tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub limited: AtomicU64,
    pub retries: AtomicU64,
}

/// A leaky bucket mirroring the portal's: each request adds one, `per_second` drain.
struct Bucket {
    level: f64,
    at: Instant,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `https://<portal>/rest/<user>/<code>`: secret.
    base: Arc<String>,
    settings: Settings,
    bucket: Arc<Mutex<Bucket>>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bitrix::Client { .. }")
    }
}

impl Client {
    pub fn new(webhook_url: &str, settings: Settings) -> Result<Self, Error> {
        let base = webhook_url.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://"))
            || !base.contains("/rest/")
        {
            return Err(Error::Url);
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(settings.timeout)
            .build()
            .map_err(|e| Error::Unavailable(e.without_url().to_string()))?;
        Ok(Self {
            http,
            base: Arc::new(base.to_string()),
            bucket: Arc::new(Mutex::new(Bucket {
                level: 0.0,
                at: Instant::now(),
            })),
            settings,
            stats: Arc::new(Stats::default()),
        })
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// HTTP requests sent so far (batches count once, as the portal counts them).
    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// Waits until the portal's bucket has room for one more request.
    async fn take_slot(&self) {
        let mut bucket = self.bucket.lock().await;
        loop {
            let now = Instant::now();
            let drained = now.duration_since(bucket.at).as_secs_f64() * self.settings.per_second;
            bucket.level = (bucket.level - drained).max(0.0);
            bucket.at = now;
            // One slot of margin: requests sent in order may arrive closer together.
            let capacity = f64::from(self.settings.burst.saturating_sub(1).max(1));
            if bucket.level + 1.0 <= capacity {
                bucket.level += 1.0;
                return;
            }
            let wait = (bucket.level + 1.0 - capacity) / self.settings.per_second;
            tokio::time::sleep(Duration::from_secs_f64(wait.max(0.001))).await;
        }
    }

    /// After the portal said it is over its limit: our bucket is full, whatever we thought.
    async fn fill_bucket(&self) {
        let mut bucket = self.bucket.lock().await;
        bucket.level = f64::from(self.settings.burst);
        bucket.at = Instant::now();
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .settings
            .backoff_base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.settings.backoff_max);
        exp / 2 + exp.mul_f64(fastrand_f64() / 2.0)
    }

    /// Calls `method` with `params`; limits and (for safe calls) outages retried.
    pub async fn call(
        &self,
        method: &str,
        params: &Value,
        safety: Safety,
    ) -> Result<Answer, Error> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.send(method, params).await {
                Ok(answer) => return Ok(answer),
                Err(Sent::Limited(code)) => {
                    self.stats.limited.fetch_add(1, Ordering::Relaxed);
                    if attempt >= self.settings.attempts {
                        return Err(Error::Limited {
                            code,
                            attempts: attempt,
                        });
                    }
                    tracing::debug!(method, code, attempt, "Bitrix rate limit; backing off");
                    self.fill_bucket().await;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Err(Sent::Unsent(message)) => {
                    // The request never reached the portal: safe to repeat for any call.
                    if attempt >= self.settings.attempts {
                        return Err(Error::Unavailable(message));
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Err(Sent::Failed(message)) => {
                    if safety == Safety::Unsafe {
                        return Err(Error::Uncertain(message));
                    }
                    if attempt >= self.settings.attempts {
                        return Err(Error::Unavailable(message));
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Err(Sent::Refused(e)) => return Err(e),
            }
        }
    }

    /// A file the portal serves, such as a picture's `detailUrl` (`/upload/iblock/…`, relative
    /// to the portal, or absolute where the portal keeps files elsewhere). Plain `GET`s of
    /// static files are outside the REST request budget; outages and 5xx are retried, and at
    /// most `max_bytes` are read. Errors name the path, never the webhook.
    pub async fn download(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, Error> {
        let fail = |reason: String, transient: bool| Error::File {
            url: url.to_string(),
            reason,
            transient,
        };
        let base = reqwest::Url::parse(&self.base).map_err(|_| Error::Url)?;
        let target = base
            .join(url)
            .map_err(|e| fail(format!("not a URL: {e}"), false))?;
        if !matches!(target.scheme(), "http" | "https") {
            return Err(fail("not an http(s) URL".into(), false));
        }
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let retry = match self.fetch(target.clone(), max_bytes).await {
                Ok(bytes) => return Ok(bytes),
                Err((retry, reason)) if !retry || attempt >= self.settings.attempts.min(3) => {
                    return Err(fail(reason, retry));
                }
                Err((_, reason)) => reason,
            };
            tracing::debug!(
                url,
                attempt,
                reason = retry,
                "picture download failed; retrying"
            );
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    /// One GET: the bytes, or whether trying again may help and why not.
    async fn fetch(&self, url: reqwest::Url, max_bytes: u64) -> Result<Vec<u8>, (bool, String)> {
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| (true, e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err((status >= 500 || status == 429, format!("HTTP {status}")));
        }
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err((false, format!("over the {max_bytes}-byte limit")));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| (true, e.without_url().to_string()))?
        {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err((false, format!("over the {max_bytes}-byte limit")));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    async fn send(&self, method: &str, params: &Value) -> Result<Answer, Sent> {
        self.take_slot().await;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .post(format!("{}/{method}.json", self.base))
            .json(params)
            .send()
            .await
            .map_err(|e| {
                // without_url: the URL carries the webhook's access code.
                let connect = e.is_connect();
                let message = e.without_url().to_string();
                if connect {
                    Sent::Unsent(message)
                } else {
                    Sent::Failed(message)
                }
            })?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Sent::Failed(e.without_url().to_string()))?;
        let body: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) if status >= 500 => {
                return Err(Sent::Failed(format!("HTTP {status} without a REST answer")));
            }
            Err(e) => {
                return Err(Sent::Refused(Error::Decode(format!("HTTP {status}: {e}"))));
            }
        };
        if let Some(code) = body.get("error").and_then(as_text) {
            let code = code.as_str();
            let description = body
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if code == QUERY_LIMIT_EXCEEDED || code == OPERATION_TIME_LIMIT {
                return Err(Sent::Limited(code.to_string()));
            }
            if status >= 500 && code == "INTERNAL_SERVER_ERROR" {
                return Err(Sent::Failed(format!("{code}: {description}")));
            }
            return Err(Sent::Refused(Error::Api {
                status,
                code: code.to_string(),
                description,
            }));
        }
        if status >= 500 {
            return Err(Sent::Failed(format!("HTTP {status}")));
        }
        let Some(result) = body.get("result") else {
            return Err(Sent::Refused(Error::Decode(format!(
                "HTTP {status}: neither result nor error"
            ))));
        };
        Ok(Answer {
            result: result.clone(),
            next: body.get("next").and_then(as_u64),
            total: body.get("total").and_then(as_u64),
            time: body.get("time").cloned(),
        })
    }
}

/// The outcome of one HTTP request.
enum Sent {
    /// QUERY_LIMIT_EXCEEDED / OPERATION_TIME_LIMIT: rejected before running.
    Limited(String),
    /// Never reached the portal.
    Unsent(String),
    /// No usable answer: may or may not have run.
    Failed(String),
    /// A REST error envelope or an unusable body: retrying will not help.
    Refused(Error),
}

fn fastrand_f64() -> f64 {
    // Jitter only; the low bits of the clock are random enough.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}

//! A fake of a 1C-Bitrix / Bitrix24 portal's REST API behind an inbound webhook, as its docs
//! describe it, for vitrina's tests and benchmarks:
//!
//! - `POST /rest/<user>/<code>/<method>[.json]` with a JSON body (or a form/query string);
//!   success `{"result":…,"next":N,"total":N,"time":{…}}`, failure
//!   `{"error":"CODE","error_description":"…"}`; a wrong code answers 401
//!   `INVALID_CREDENTIALS`, an unknown method 404 `ERROR_METHOD_NOT_FOUND`;
//! - list methods: 50 a page, `start`/`next`/`total`, `start=-1` without the count, filters
//!   with the documented prefixes (`>`, `>=`, `<`, `<=`, `!`, `=`, arrays as IN), `order`;
//! - `batch` of at most 50 `method?query` commands with `halt`, answering
//!   `result_error`/`result_total`/`result_next` per command (and `[]` when empty, as PHP does);
//! - the cloud's leaky bucket (burst 50, 2 per second): a request over it is refused with 503
//!   `QUERY_LIMIT_EXCEEDED` and not executed;
//! - failures on demand: rate-limit and operating-time errors (`OPERATION_TIME_LIMIT`, 429),
//!   outages (502 with an HTML page), slow answers, per-command errors inside a batch;
//! - the methods vitrina needs: `scope`, `methods`, `catalog.section.list`,
//!   `catalog.product.list`, `catalog.product.offer.list`, `catalog.productProperty.list`,
//!   `catalog.productPropertyEnum.list`, `catalog.price.list`, `catalog.productImage.list`
//!   (one product per call, as the portal answers it), `user.get`, `user.add`,
//!   `user.userfield.list`, `user.userfield.add`, `sale.order.list/get/add/update`,
//!   `sale.basketitem.add/list`, `sale.shipment.add/list`, `sale.payment.add/list/update`, `sale.propertyvalue.modify`,
//!   `event.bind`, `event.get`, `crm.deal.add/list/get`, `crm.contact.add/list`,
//!   `crm.deal.productrows.set`;
//! - outbound events: `OnSaleOrderSaved` posted form-encoded to the handlers `event.bind`
//!   registered, with `auth[application_token]`;
//! - the pictures' files under `/upload/iblock/…` as the portal's web server serves them
//!   (plain `GET`, outside the REST budget), with injected 5xx on demand.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

mod batch;
mod catalog;
mod events;
mod http;
mod lists;
mod methods;
mod sale;
mod tables;

pub use bitrix::time::format as format_time;
pub use catalog::picture;
pub use events::event_body;
pub use sale::{DEFAULT_DEAL_STAGES, DEFAULT_ORDER_PROPERTIES, DEFAULT_STATUSES};

use batch::*;
use http::*;
use lists::*;
use methods::*;

/// The cloud's leaky bucket; tests may scale it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub burst: u32,
    pub per_second: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            burst: 50,
            per_second: 2.0,
        }
    }
}

/// A request the fake received (batches once, with their commands' methods listed).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
    /// Refused by the bucket or an injected failure: not executed.
    pub refused: bool,
}

type Failure = (u16, String, String);

struct Inner {
    calls: Vec<Call>,
    level: f64,
    at: Instant,
    /// Failures for the next requests (status, code, description).
    failures: VecDeque<Failure>,
    /// Failures for the next batch commands of a method.
    command_failures: HashMap<String, VecDeque<Failure>>,
    /// Failures for the next requests that call a method (alone or inside a batch).
    method_failures: HashMap<String, VecDeque<Failure>>,
    down: bool,
    /// Requests (by method) that run but whose answer is lost (a 502 after the work is done).
    lose: HashMap<String, usize>,
    delay: Duration,
    /// Items by entity ("sections", "products", ...), each keyed by id.
    tables: HashMap<&'static str, BTreeMap<i64, Value>>,
    next_id: HashMap<&'static str, i64>,
    /// Logical clock (unix seconds): every change moves it one second on.
    clock: i64,
    scopes: Vec<String>,
    handlers: Vec<(i64, String, String)>,
    application_token: String,
    executed: HashMap<String, u64>,
    /// Filtered and ordered ids of recent list queries (params without `start`), so paging
    /// through a big list does not filter the whole table for every page. Cleared on writes.
    lists: HashMap<String, Vec<i64>>,
    /// `http://127.0.0.1:<port>`: pictures' `downloadUrl`s are absolute.
    origin: String,
    /// Picture ids by product (the portal's own index: a listing must not scan every picture).
    pictures: HashMap<i64, Vec<i64>>,
    /// Files under `/upload/` by path, and how many GETs they had.
    files: HashMap<String, Vec<u8>>,
    downloads: u64,
    /// The next file GETs that answer with this status instead.
    file_failures: VecDeque<u16>,
    /// The shop's cart rule: a discount every catalog-priced basket line gets (percent).
    discount_percent: f64,
    /// `sale.status.list` and `sale.statusLang.list` (string ids: kept apart from `tables`).
    status_rows: Vec<Value>,
    status_langs: Vec<Value>,
    /// `crm.status.list`: the deal stages of the default pipeline.
    crm_statuses: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeBitrix {
    /// The webhook URL to configure: `http://127.0.0.1:<port>/rest/1/<code>/`.
    pub webhook_url: String,
    pub code: String,
    limits: Limits,
    inner: Arc<Mutex<Inner>>,
}

pub const CATALOG_IBLOCK: i64 = 25;
pub const OFFERS_IBLOCK: i64 = 27;
/// The base price type's id (`catalogGroupId`).
pub const BASE_PRICE: i64 = 1;
/// The sale price type [`FakeBitrix::seed_sale`] adds.
pub const SALE_PRICE: i64 = 2;

/// `available` as the catalog module computes it: in stock, or sellable without stock.
fn refresh_available(row: &mut Value) {
    let q = row["quantity"].as_f64().unwrap_or(0.0);
    let untraced = row["quantityTrace"] == json!("N");
    let zero_ok = row["canBuyZero"] == json!("Y");
    row["available"] = json!(if q > 0.0 || untraced || zero_ok {
        "Y"
    } else {
        "N"
    });
}

pub const ALL_SCOPES: &[&str] = &["catalog", "sale", "user", "crm", "user.userfield"];

impl FakeBitrix {
    pub async fn start(code: &str, limits: Limits) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let local = listener.local_addr()?;
        let fake = FakeBitrix {
            webhook_url: format!("http://{local}/rest/1/{code}/"),
            code: code.to_string(),
            limits,
            inner: Arc::new(Mutex::new(Inner {
                calls: Vec::new(),
                level: 0.0,
                at: Instant::now(),
                failures: VecDeque::new(),
                command_failures: HashMap::new(),
                method_failures: HashMap::new(),
                down: false,
                lose: HashMap::new(),
                delay: Duration::ZERO,
                tables: HashMap::new(),
                next_id: HashMap::new(),
                clock: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(1_764_115_200),
                scopes: ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
                handlers: Vec::new(),
                application_token: "fake-application-token-0123456789".into(),
                executed: HashMap::new(),
                lists: HashMap::new(),
                origin: format!("http://{local}"),
                pictures: HashMap::new(),
                files: HashMap::new(),
                downloads: 0,
                file_failures: VecDeque::new(),
                discount_percent: 0.0,
                status_rows: Vec::new(),
                status_langs: Vec::new(),
                crm_statuses: Vec::new(),
            })),
        };
        fake.lock().seed_store_defaults();
        let app = Router::new()
            .route("/rest/{user}/{code}/{method}", post(handle).get(handle))
            .route("/upload/{*path}", get(file))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(fake)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    // --- test controls -------------------------------------------------------------------

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }
    /// HTTP requests received (refused ones included).
    pub fn requests(&self) -> usize {
        self.lock().calls.len()
    }
    /// Requests refused by the bucket or by injected failures.
    pub fn refused(&self) -> usize {
        self.lock().calls.iter().filter(|c| c.refused).count()
    }
    /// How many times `method` ran (inside batches too).
    pub fn executed(&self, method: &str) -> u64 {
        self.lock().executed.get(method).copied().unwrap_or(0)
    }
    pub fn reset_calls(&self) {
        let mut inner = self.lock();
        inner.calls.clear();
        inner.executed.clear();
    }
    /// The next `n` requests fail with `code` (QUERY_LIMIT_EXCEEDED → 503,
    /// OPERATION_TIME_LIMIT → 429, anything else → 400) without running.
    pub fn fail_next(&self, n: usize, code: &str) {
        let mut inner = self.lock();
        for _ in 0..n {
            inner.failures.push_back(injected(code));
        }
    }
    /// The next `n` commands of `method` inside batches fail with `code`.
    pub fn fail_next_commands(&self, method: &str, n: usize, code: &str) {
        let mut inner = self.lock();
        let queue = inner
            .command_failures
            .entry(method.to_string())
            .or_default();
        for _ in 0..n {
            queue.push_back((400, code.to_string(), format!("injected {code}")));
        }
    }
    /// The next `n` requests calling `method`, alone or in a batch, fail whole with `code`
    /// (as [`FakeBitrix::fail_next`] maps it) without running.
    pub fn fail_next_requests_of(&self, method: &str, n: usize, code: &str) {
        let mut inner = self.lock();
        let queue = inner
            .method_failures
            .entry(method.to_lowercase())
            .or_default();
        for _ in 0..n {
            queue.push_back(injected(code));
        }
    }
    /// An outage: every request answers 502 with an HTML page, nothing runs.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }
    /// The next `n` requests of `method` (`batch` for batches) run, but their answers are
    /// lost: the caller sees a 502 and cannot know the work was done.
    pub fn lose_answers(&self, method: &str, n: usize) {
        *self.lock().lose.entry(method.to_lowercase()).or_default() += n;
    }
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }
    pub fn set_scopes(&self, scopes: &[&str]) {
        self.lock().scopes = scopes.iter().map(|s| s.to_string()).collect();
    }
    pub fn application_token(&self) -> String {
        self.lock().application_token.clone()
    }
    /// A user field made in the admin (no REST prefix), as on a 1C-Bitrix site.
    pub fn add_user_field(&self, name: &str) {
        let mut inner = self.lock();
        inner.lists.clear();
        let id = inner.id("userfields");
        inner.insert_with_id(
            "userfields",
            id,
            json!({"ID": id.to_string(), "ENTITY_ID": "USER", "FIELD_NAME": name, "USER_TYPE_ID": "string"}),
        );
    }
    pub fn handlers(&self) -> Vec<(String, String)> {
        self.lock()
            .handlers
            .iter()
            .map(|(_, e, h)| (e.clone(), h.clone()))
            .collect()
    }
    pub fn now(&self) -> i64 {
        self.lock().clock
    }

    pub fn rows(&self, table: &'static str) -> Vec<Value> {
        self.lock()
            .tables
            .get(table)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }
    pub fn get(&self, table: &'static str, id: i64) -> Option<Value> {
        self.lock()
            .tables
            .get(table)
            .and_then(|t| t.get(&id).cloned())
    }
}

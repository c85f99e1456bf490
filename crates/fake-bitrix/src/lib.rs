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

pub use bitrix::time::format as format_time;

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

    /// A catalog of `sections` sections and `n` products (ids 1..), with base prices and stock.
    pub fn seed_catalog(&self, sections: usize, n: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        // Two product properties: a brand from a list, a material as text.
        inner.insert(
            "properties",
            json!({"id": 1, "iblockId": CATALOG_IBLOCK, "name": "Бренд",
            "code": "BRAND", "propertyType": "L", "multiple": "N", "active": "Y"}),
        );
        inner.insert(
            "properties",
            json!({"id": 2, "iblockId": CATALOG_IBLOCK, "name": "Материал",
            "code": "MATERIAL", "propertyType": "S", "multiple": "N", "active": "Y"}),
        );
        inner.insert(
            "properties",
            json!({"id": 3, "iblockId": CATALOG_IBLOCK, "name": "Картинки",
            "code": "MORE_PHOTO", "propertyType": "F", "multiple": "Y", "active": "Y"}),
        );
        inner.insert(
            "enums",
            json!({"id": 1, "propertyId": 1, "value": "Acme", "xmlId": "acme"}),
        );
        inner.insert(
            "enums",
            json!({"id": 2, "propertyId": 1, "value": "Globex", "xmlId": "globex"}),
        );
        // The base price type, bought at by everyone (group 2), and the VAT rates of a fresh
        // install (`rate` null: без НДС).
        inner.insert(
            "price_types",
            json!({"id": BASE_PRICE, "name": "BASE", "base": "Y", "sort": 100, "xmlId": "BASE"}),
        );
        inner.insert(
            "price_type_groups",
            json!({"id": 1, "catalogGroupId": BASE_PRICE, "groupId": 2, "access": "Y"}),
        );
        for (id, name, rate) in [
            (1, "Без НДС", Value::Null),
            (2, "НДС 0%", json!(0)),
            (3, "НДС 20%", json!(20)),
        ] {
            inner.insert(
                "vats",
                json!({"id": id, "name": name, "rate": rate, "active": "Y"}),
            );
        }
        for s in 1..=sections as i64 {
            let row = json!({"id": s, "iblockId": CATALOG_IBLOCK, "name": format!("Раздел {s}"),
                "iblockSectionId": null, "xmlId": format!("sec-{s}"), "sort": s * 10});
            inner.insert("sections", row);
        }
        let base = inner.clock;
        for i in 0..n {
            // Imports write about a hundred products a second.
            inner.clock = base + (i / 100) as i64;
            let id = inner.id("products");
            let section = if sections == 0 {
                Value::Null
            } else {
                json!((id - 1) % sections as i64 + 1)
            };
            let ts = inner.clock;
            let row = json!({"id": id, "iblockId": CATALOG_IBLOCK, "name": format!("Товар {id}"),
                "code": format!("tovar-{id}"), "xmlId": format!("xml-{id}"), "active": "Y",
                "iblockSectionId": section, "detailText": format!("Описание {id}"),
                "quantity": (id % 17) as f64, "type": 1, "timestampX": format_time(ts), "dateCreate": format_time(ts),
                "quantityTrace": "Y", "canBuyZero": "N", "available": if id % 17 > 0 { "Y" } else { "N" },
                "vatId": if id % 2 == 0 { json!(3) } else { Value::Null },
                "detailPicture": null, "previewPicture": null,
                "property1": {"valueId": id, "value": (id % 2 + 1).to_string()},
                "property2": {"valueId": id, "value": if id % 3 == 0 { "лён" } else { "хлопок" }},
                "property3": null});
            inner.insert_with_id("products", id, row);
            let price_id = inner.id("prices");
            let price = json!({"id": price_id, "productId": id, "catalogGroupId": BASE_PRICE,
                "price": (100 + id % 900) as f64 + 0.5, "currency": "RUB",
                "timestampX": format_time(ts)});
            inner.insert_with_id("prices", price_id, price);
        }
        inner.clock += 1;
    }

    /// Variations (SKUs) for `products`: `per` each, in the offers block, with their own
    /// prices and stock; the parents become products with SKUs (`type` 3).
    pub fn seed_offers(&self, products: &[i64], per: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        // Variations share the element id space with products.
        let mut next = inner.next_id.get("products").copied().unwrap_or(1);
        for &parent in products {
            if let Some(p) = inner.product_mut(parent) {
                p["type"] = json!(3);
            }
            for k in 0..per {
                let id = next;
                next += 1;
                let row = json!({"id": id, "iblockId": OFFERS_IBLOCK, "name": format!("Товар {parent}, размер {}", 40 + k),
                    "parentId": {"value": parent.to_string(), "valueId": (id * 10).to_string()}, "active": "Y", "quantity": (k + 1) as f64,
                    "quantityTrace": "Y", "canBuyZero": "N", "available": "Y", "vatId": 3,
                    "type": 4, "xmlId": format!("sku-{id}"), "timestampX": ts.clone(), "dateCreate": ts.clone(),
                    "detailPicture": null, "previewPicture": null, "property14": null});
                inner.insert_with_id("offers", id, row);
                let price_id = inner.id("prices");
                let price = json!({"id": price_id, "productId": id, "catalogGroupId": BASE_PRICE,
                    "price": 1000.0 + k as f64, "currency": "RUB", "timestampX": ts.clone()});
                inner.insert_with_id("prices", price_id, price);
            }
        }
        inner.next_id.insert("products", next);
    }

    /// Pictures for products as they were when the catalog was seeded (timestamps unmoved):
    /// each gets a detail picture and `more` more photos, every file different.
    pub fn seed_pictures(&self, products: impl IntoIterator<Item = i64>, more: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        for product in products {
            inner.add_picture(product, "DETAIL_PICTURE");
            for _ in 0..more {
                inner.add_picture(product, "MORE_PHOTO");
            }
        }
    }

    /// Pictures of variations (trade offers), as a clothing catalog keeps its colours'
    /// photos: the offers block gets its `MORE_PHOTO` file property (id 14), and each
    /// variation a detail picture and `more` more photos (timestamps unmoved).
    pub fn seed_offer_pictures(&self, variations: impl IntoIterator<Item = i64>, more: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.insert(
            "properties",
            json!({"id": 14, "iblockId": OFFERS_IBLOCK, "name": "Картинки", "code": "MORE_PHOTO",
                "propertyType": "F", "userType": null, "multiple": "Y", "active": "Y", "sort": 500}),
        );
        for v in variations {
            inner.add_picture(v, "DETAIL_PICTURE");
            for _ in 0..more {
                inner.add_picture(v, "MORE_PHOTO");
            }
        }
    }

    /// A manager replaces a product's (or a variation's) pictures in the admin (`DETAIL_PICTURE`,
    /// `PREVIEW_PICTURE`, `MORE_PHOTO`, in this order): new files, timestampX moves on.
    pub fn set_pictures(&self, product: i64, types: &[&str]) {
        self.replace_pictures(product, types, true);
    }

    /// The same by a script that leaves the change date alone (`SetPropertyValuesEx` does):
    /// only the file ids in the product list tell.
    pub fn set_pictures_quietly(&self, product: i64, types: &[&str]) {
        self.replace_pictures(product, types, false);
    }

    fn replace_pictures(&self, product: i64, types: &[&str], touch: bool) {
        let mut inner = self.lock();
        inner.lists.clear();
        let gone = inner.pictures.remove(&product).unwrap_or_default();
        if let Some(images) = inner.tables.get_mut("images") {
            for id in gone {
                images.remove(&id);
            }
        }
        if let Some((p, more)) = inner.element_mut(product) {
            p["detailPicture"] = Value::Null;
            p["previewPicture"] = Value::Null;
            p[more] = Value::Null;
        }
        for t in types {
            inner.add_picture(product, t);
        }
        if !touch {
            return;
        }
        inner.clock += 1;
        let ts = format_time(inner.clock);
        if let Some((p, _)) = inner.element_mut(product) {
            p["timestampX"] = json!(ts);
        }
    }

    /// The file a picture row points at (its `detailUrl`), as served.
    pub fn picture_file(&self, detail_url: &str) -> Option<Vec<u8>> {
        self.lock().files.get(detail_url).cloned()
    }
    /// File GETs served (not REST requests).
    pub fn downloads(&self) -> u64 {
        self.lock().downloads
    }
    /// The next `n` file GETs answer `status` (a 5xx: the web server's trouble).
    pub fn fail_next_downloads(&self, n: usize, status: u16) {
        let mut inner = self.lock();
        for _ in 0..n {
            inner.file_failures.push_back(status);
        }
    }

    /// A sale price type bought at by everyone (`SALE`, id 2) with prices `percent` below the
    /// base price for `products`: how a shop with one price type for customers usually shows a
    /// sale over REST. Catalog discounts proper are not readable over REST (see
    /// [`FakeBitrix::set_catalog_discount`]).
    pub fn seed_sale(&self, products: &[i64], percent: u32) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        inner.insert(
            "price_types",
            json!({"id": SALE_PRICE, "name": "SALE", "base": "N", "sort": 200, "xmlId": "SALE"}),
        );
        inner.insert(
            "price_type_groups",
            json!({"id": 2, "catalogGroupId": SALE_PRICE, "groupId": 2, "access": "Y"}),
        );
        for &product in products {
            let base = inner
                .rows_of("prices")
                .into_iter()
                .find(|p| {
                    p["productId"] == json!(product) && p["catalogGroupId"] == json!(BASE_PRICE)
                })
                .and_then(|p| p["price"].as_f64());
            let Some(base) = base else { continue };
            let sale = (base * f64::from(100 - percent.min(100))).round() / 100.0;
            let id = inner.id("prices");
            inner.insert_with_id(
                "prices",
                id,
                json!({"id": id, "productId": product, "catalogGroupId": SALE_PRICE,
                    "price": sale, "currency": "RUB", "timestampX": ts.clone()}),
            );
        }
    }

    /// A catalog discount (Маркетинг → Скидки) of `percent` on a product. Bitrix applies it
    /// when it prices a basket; no REST method lists or computes it, so it is kept here where
    /// no catalog list shows it, as on a real portal.
    pub fn set_catalog_discount(&self, product: i64, percent: u32) {
        let mut inner = self.lock();
        inner.insert_with_id(
            "discounts",
            product,
            json!({"productId": product, "percent": percent}),
        );
    }

    /// SKU properties in the offers block, as a clothing catalog has them: `Размер` (a list,
    /// id 10, values S, M, L), `Длина` (a number, id 12), `Цвет` (a highload directory
    /// reference, id 11: REST gives its values' external codes only) and `CML2_LINK` (the
    /// link to the parent, id 13). Every variation gets a size, a length and a colour.
    pub fn seed_offer_properties(&self) {
        let mut inner = self.lock();
        inner.lists.clear();
        for row in [
            json!({"id": 10, "iblockId": OFFERS_IBLOCK, "name": "Размер", "code": "SIZE",
                "propertyType": "L", "userType": null, "multiple": "N", "active": "Y", "sort": 100}),
            json!({"id": 11, "iblockId": OFFERS_IBLOCK, "name": "Цвет", "code": "COLOR_REF",
                "propertyType": "S", "userType": "directory", "multiple": "N", "active": "Y", "sort": 200,
                "userTypeSettings": {"size": 1, "width": 0, "group": "N", "multiple": "N", "TABLE_NAME": "b_hlbd_color"}}),
            json!({"id": 12, "iblockId": OFFERS_IBLOCK, "name": "Длина", "code": "LENGTH",
                "propertyType": "N", "userType": null, "multiple": "N", "active": "Y", "sort": 300}),
            json!({"id": 13, "iblockId": OFFERS_IBLOCK, "name": "Элемент каталога", "code": "CML2_LINK",
                "propertyType": "E", "userType": "SKU", "multiple": "N", "active": "Y", "sort": 400,
                "linkIblockId": CATALOG_IBLOCK}),
        ] {
            inner.insert("properties", row);
        }
        for (id, value) in [(10, "S"), (11, "M"), (12, "L")] {
            inner.insert(
                "enums",
                json!({"id": id, "propertyId": 10, "value": value, "xmlId": value.to_lowercase(), "sort": id * 10}),
            );
        }
        let ids: Vec<i64> = inner
            .tables
            .get("offers")
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        for (k, id) in ids.into_iter().enumerate() {
            if let Some(o) = inner.tables.get_mut("offers").and_then(|t| t.get_mut(&id)) {
                let parent = o["parentId"]["value"].clone();
                o["property10"] =
                    json!({"valueId": id * 100 + 10, "value": (10 + k % 3).to_string()});
                o["property11"] = json!({"valueId": id * 100 + 11, "value": if k % 2 == 0 { "red" } else { "blue" }});
                o["property12"] =
                    json!({"valueId": id * 100 + 12, "value": format!("{}.5", 60 + k % 3)});
                o["property13"] = json!({"valueId": id * 100 + 13, "value": parent});
            }
        }
    }

    /// Stock moves without the element changing (an order reserves or ships it, a store
    /// document posts): `quantity` and `available` change, `timestampX` does not. With
    /// `notify`, the bound `CATALOG.PRODUCT.ON.UPDATE` handlers are called.
    pub async fn set_quantity(&self, id: i64, quantity: f64, notify: bool) {
        let kind = {
            let mut inner = self.lock();
            inner.lists.clear();
            let mut kind = None;
            for (table, default) in [("products", 1), ("offers", 4)] {
                if let Some(r) = inner.tables.get_mut(table).and_then(|t| t.get_mut(&id)) {
                    r["quantity"] = json!(quantity);
                    refresh_available(r);
                    kind = Some(r["type"].as_i64().unwrap_or(default));
                }
            }
            match kind {
                Some(k) => k,
                None => return,
            }
        };
        if notify {
            self.fire_catalog("CATALOG.PRODUCT.ON.UPDATE", id, kind)
                .await;
        }
    }

    /// A product's or variation's "can buy at zero" and quantity tracing (`Y`, `N`, `D`).
    pub fn set_stock_rules(&self, id: i64, can_buy_zero: &str, quantity_trace: &str) {
        let mut inner = self.lock();
        inner.lists.clear();
        for table in ["products", "offers"] {
            if let Some(r) = inner.tables.get_mut(table).and_then(|t| t.get_mut(&id)) {
                r["canBuyZero"] = json!(can_buy_zero);
                r["quantityTrace"] = json!(quantity_trace);
                refresh_available(r);
            }
        }
    }

    /// Deletes a product (with its prices and variations), as the admin's «Удалить» does;
    /// with `notify`, the bound `CATALOG.PRODUCT.ON.DELETE` handlers are called.
    pub async fn delete_product(&self, id: i64, notify: bool) {
        {
            let mut inner = self.lock();
            inner.lists.clear();
            let skus: Vec<i64> = inner
                .rows_of("offers")
                .into_iter()
                .filter(|o| bitrix::as_i64(&o["parentId"]["value"]) == Some(id))
                .filter_map(|o| o["id"].as_i64())
                .collect();
            for table in ["products", "offers"] {
                if let Some(t) = inner.tables.get_mut(table) {
                    t.remove(&id);
                    for s in &skus {
                        t.remove(s);
                    }
                }
            }
            if let Some(prices) = inner.tables.get_mut("prices") {
                prices.retain(|_, p| {
                    let owner = p["productId"].as_i64();
                    owner != Some(id) && !skus.iter().any(|s| owner == Some(*s))
                });
            }
        }
        if notify {
            self.fire_catalog("CATALOG.PRODUCT.ON.DELETE", id, 1).await;
        }
    }

    /// Posts a catalog event (`CATALOG.PRODUCT.ON.UPDATE`…) with `data[FIELDS][ID]` and
    /// `data[FIELDS][TYPE]` (1 product, 3 product with SKUs, 4 variation) to its handlers.
    pub async fn fire_catalog(&self, event: &str, id: i64, kind: i64) -> Vec<u16> {
        let kind = form_urlencoded::Serializer::new(String::new())
            .append_pair("data[FIELDS][TYPE]", &kind.to_string())
            .finish();
        self.post_event(event, id, Some(&kind)).await
    }

    /// Deactivates or activates a product or a variation, moving its timestampX to now.
    pub fn set_active(&self, id: i64, active: bool) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        if let Some((p, _)) = inner.element_mut(id) {
            p["active"] = json!(if active { "Y" } else { "N" });
            p["timestampX"] = json!(ts);
        }
    }

    /// Changes a product (name and price), moving its timestampX to now.
    pub fn touch_product(&self, id: i64, name: &str, price: f64) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        if let Some(p) = inner.product_mut(id) {
            p["name"] = json!(name);
            p["timestampX"] = json!(ts.clone());
        }
        if let Some(prices) = inner.tables.get_mut("prices") {
            for row in prices.values_mut() {
                if row["productId"] == json!(id) {
                    row["price"] = json!(price);
                    row["timestampX"] = json!(ts.clone());
                }
            }
        }
    }

    /// A manager changes an order's status in Bitrix: `dateUpdate` moves on and, when
    /// `notify`, the bound `OnSaleOrderSaved` handlers are called.
    pub async fn set_order_status(&self, id: i64, status: &str, notify: bool) {
        {
            let mut inner = self.lock();
            inner.lists.clear();
            inner.clock += 1;
            let ts = format_time(inner.clock);
            if let Some(o) = inner.tables.get_mut("orders").and_then(|t| t.get_mut(&id)) {
                o["statusId"] = json!(status);
                o["dateUpdate"] = json!(ts);
                if status == "CANCELED" {
                    o["canceled"] = json!("Y");
                }
            }
            inner.recompute(id);
        }
        if notify {
            self.fire("ONSALEORDERSAVED", id).await;
        }
    }

    /// The shop's cart rules give every catalog-priced basket line `percent` off.
    pub fn set_discount_percent(&self, percent: f64) {
        self.lock().discount_percent = percent;
    }

    /// A status a manager created (Магазин → Настройки → Статусы), named in Russian only.
    pub fn add_status(&self, id: &str, name: &str) {
        let mut inner = self.lock();
        let sort = inner.status_rows.len() as i64 * 10 + 10;
        inner.add_status(id, "O", name, None, sort);
    }

    async fn managed(&self, order: i64, notify: bool, edit: impl FnOnce(&mut Inner)) {
        {
            let mut inner = self.lock();
            edit(&mut inner);
            inner.touch_order(order);
        }
        if notify {
            self.fire("ONSALEORDERSAVED", order).await;
        }
    }

    /// A manager cancels the order with a reason.
    pub async fn manager_cancel(&self, order: i64, reason: &str, notify: bool) {
        let reason = reason.to_string();
        self.managed(order, notify, |inner| {
            if let Some(o) = inner
                .tables
                .get_mut("orders")
                .and_then(|t| t.get_mut(&order))
            {
                o["canceled"] = json!("Y");
                o["reasonCanceled"] = json!(reason);
            }
        })
        .await;
    }

    /// A manager marks the order's payments paid.
    pub async fn manager_set_paid(&self, order: i64, notify: bool) {
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("payments") {
                for p in t.values_mut() {
                    if bitrix::as_i64(field(p, "orderId")) == Some(order) {
                        p["paid"] = json!("Y");
                    }
                }
            }
            if let Some(o) = inner
                .tables
                .get_mut("orders")
                .and_then(|t| t.get_mut(&order))
            {
                o["payed"] = json!("Y");
            }
        })
        .await;
    }

    /// A manager ships the order: its shipments deducted, with a tracking number.
    pub async fn manager_ship(&self, order: i64, tracking: &str, notify: bool) {
        let tracking = tracking.to_string();
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("shipments") {
                for s in t.values_mut() {
                    if bitrix::as_i64(field(s, "orderId")) == Some(order) {
                        s["deducted"] = json!("Y");
                        s["allowDelivery"] = json!("Y");
                        s["statusId"] = json!("DF");
                        s["trackingNumber"] = json!(tracking);
                    }
                }
            }
        })
        .await;
    }

    /// A manager removes a basket line (out of stock).
    pub async fn manager_remove_item(&self, order: i64, basket_id: i64, notify: bool) {
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("basket") {
                t.remove(&basket_id);
            }
        })
        .await;
    }

    /// A manager changes a basket line's quantity and/or price (a price typed by hand makes
    /// it a custom price).
    pub async fn manager_set_item(
        &self,
        order: i64,
        basket_id: i64,
        quantity: Option<f64>,
        price: Option<f64>,
        notify: bool,
    ) {
        self.managed(order, notify, |inner| {
            if let Some(b) = inner
                .tables
                .get_mut("basket")
                .and_then(|t| t.get_mut(&basket_id))
            {
                if let Some(q) = quantity {
                    b["quantity"] = json!(q);
                }
                if let Some(p) = price {
                    b["price"] = json!(p);
                    b["basePrice"] = json!(p);
                    b["discountPrice"] = json!(0);
                    b["customPrice"] = json!("Y");
                }
            }
        })
        .await;
    }

    /// A manager changes the delivery price of the order's shipments.
    pub async fn manager_set_delivery_price(&self, order: i64, price: f64, notify: bool) {
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("shipments") {
                for s in t.values_mut() {
                    if bitrix::as_i64(field(s, "orderId")) == Some(order) {
                        s["priceDelivery"] = json!(price);
                        s["basePriceDelivery"] = json!(price);
                        s["customPriceDelivery"] = json!("Y");
                    }
                }
            }
        })
        .await;
    }

    /// Posts an event to every handler bound for it, as the portal's event queue does:
    /// form-encoded `event`, `event_handler_id`, `data[FIELDS][ID]`, `ts`, `auth[…]`.
    pub async fn fire(&self, event: &str, id: i64) -> Vec<u16> {
        self.post_event(event, id, None).await
    }

    /// Posts `event` for element `id` to each handler bound for it, with `extra` form fields
    /// after the common ones; the HTTP status each handler answered (0: unreachable).
    async fn post_event(&self, event: &str, id: i64, extra: Option<&str>) -> Vec<u16> {
        let (handlers, token, ts) = {
            let inner = self.lock();
            (
                inner
                    .handlers
                    .iter()
                    .filter(|(_, e, _)| e.eq_ignore_ascii_case(event))
                    .cloned()
                    .collect::<Vec<_>>(),
                inner.application_token.clone(),
                inner.clock,
            )
        };
        let mut statuses = Vec::new();
        let client = reqwest::Client::new();
        for (hid, _, url) in handlers {
            let mut body = event_body(event, hid, id, ts, &token);
            if let Some(extra) = extra {
                body.push('&');
                body.push_str(extra);
            }
            let status = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            statuses.push(status);
        }
        statuses
    }
}

/// An event as the portal posts it.
pub fn event_body(event: &str, handler_id: i64, id: i64, ts: i64, token: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("event", event)
        .append_pair("event_handler_id", &handler_id.to_string())
        .append_pair("data[FIELDS][ID]", &id.to_string())
        .append_pair("ts", &ts.to_string())
        .append_pair("auth[domain]", "shop.example.ru")
        .append_pair("auth[client_endpoint]", "https://shop.example.ru/rest/")
        .append_pair("auth[member_id]", "fake-member")
        .append_pair("auth[application_token]", token)
        .finish()
}

/// The statuses a fresh online store has (the REST docs' default status table), with their
/// Russian and English names: order statuses (type `O`) and shipment statuses (type `D`).
pub const DEFAULT_STATUSES: &[(&str, &str, &str, &str)] = &[
    (
        "N",
        "O",
        "Принят, ожидается оплата",
        "Accepted, awaiting payment",
    ),
    (
        "P",
        "O",
        "Оплачен, формируется к отправке",
        "Paid, preparing for shipment",
    ),
    ("S", "O", "Отправлен", "Shipped"),
    ("F", "O", "Выполнен", "Completed"),
    ("D", "O", "Отменён", "Canceled"),
    ("DN", "D", "Ожидает обработки", "Awaiting processing"),
    ("DD", "D", "Отменена", "Canceled"),
    ("DF", "D", "Отгружена", "Dispatched"),
];

/// The deal stages of a fresh Bitrix24's default pipeline (`crm.status.list`, `DEAL_STAGE`).
pub const DEFAULT_DEAL_STAGES: &[(&str, &str)] = &[
    ("NEW", "Новая"),
    ("PREPARATION", "Подготовка документов"),
    ("PREPAYMENT_INVOICE", "Счёт на предоплату"),
    ("EXECUTING", "В работе"),
    ("FINAL_INVOICE", "Финальный счёт"),
    ("WON", "Сделка успешна"),
    ("LOSE", "Сделка провалена"),
    ("APOLOGY", "Анализ причины провала"),
];

/// Order properties of the payer type «Физическое лицо» (1) on a fresh store.
pub const DEFAULT_ORDER_PROPERTIES: &[(i64, &str, &str, &str)] = &[
    (1, "FIO", "Ф.И.О.", "STRING"),
    (2, "EMAIL", "E-Mail", "STRING"),
    (3, "PHONE", "Телефон", "STRING"),
    (4, "ZIP", "Индекс", "STRING"),
    (5, "CITY", "Город", "STRING"),
    (6, "LOCATION", "Местоположение", "LOCATION"),
    (7, "ADDRESS", "Адрес доставки", "STRING"),
];

impl Inner {
    fn seed_store_defaults(&mut self) {
        for (i, (id, name)) in DEFAULT_DEAL_STAGES.iter().enumerate() {
            self.crm_statuses
                .push(json!({"ID": (i + 1).to_string(), "ENTITY_ID": "DEAL_STAGE",
                "STATUS_ID": id, "NAME": name, "SORT": ((i + 1) * 10).to_string()}));
        }
        for (i, (id, kind, ru, en)) in DEFAULT_STATUSES.iter().enumerate() {
            self.add_status(id, kind, ru, Some(en), (i as i64 + 1) * 10);
        }
        for (id, code, name, kind) in DEFAULT_ORDER_PROPERTIES {
            self.insert(
                "orderprops",
                json!({"id": id, "personTypeId": 1, "code": code, "name": name, "type": kind,
                    "active": "Y", "isEmail": if *code == "EMAIL" { "Y" } else { "N" },
                    "isPhone": if *code == "PHONE" { "Y" } else { "N" }}),
            );
        }
    }

    fn add_status(&mut self, id: &str, kind: &str, ru: &str, en: Option<&str>, sort: i64) {
        self.status_rows.retain(|r| r["id"] != json!(id));
        self.status_langs.retain(|r| r["statusId"] != json!(id));
        self.status_rows.push(
            json!({"id": id, "type": kind, "sort": sort, "notify": "Y", "color": null, "xmlId": null}),
        );
        self.status_langs
            .push(json!({"statusId": id, "lid": "ru", "name": ru, "description": ""}));
        if let Some(en) = en {
            self.status_langs
                .push(json!({"statusId": id, "lid": "en", "name": en, "description": ""}));
        }
    }

    /// The base price of a product or variation, in major units.
    fn base_price(&self, product: i64) -> Option<f64> {
        self.tables.get("prices")?.values().find_map(|p| {
            (bitrix::as_i64(field(p, "productId")) == Some(product)
                && bitrix::as_i64(field(p, "catalogGroupId")) == Some(BASE_PRICE))
            .then(|| num(field(p, "price")))
            .flatten()
        })
    }

    fn rows_where(&self, table: &'static str, key: &str, id: i64) -> Vec<Value> {
        self.tables
            .get(table)
            .map(|t| {
                t.values()
                    .filter(|r| bitrix::as_i64(field(r, key)) == Some(id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The order's price as the store computes it: its lines and the delivery of its
    /// shipments that are not cancelled.
    fn recompute(&mut self, order: i64) {
        let lines: f64 = self
            .rows_where("basket", "orderId", order)
            .iter()
            .map(|b| {
                num(field(b, "price")).unwrap_or(0.0) * num(field(b, "quantity")).unwrap_or(0.0)
            })
            .sum();
        let delivery: f64 = self
            .rows_where("shipments", "orderId", order)
            .iter()
            .filter(|s| text(field(s, "canceled")) != "Y")
            .map(|s| num(field(s, "priceDelivery")).unwrap_or(0.0))
            .sum();
        if let Some(o) = self
            .tables
            .get_mut("orders")
            .and_then(|t| t.get_mut(&order))
        {
            o["price"] = json!(((lines + delivery) * 100.0).round() / 100.0);
        }
    }

    /// `sale.order.get`'s order: the row with its basket, payments and shipments.
    fn order_view(&self, id: i64) -> Option<Value> {
        let mut order = self.tables.get("orders")?.get(&id)?.clone();
        order["basketItems"] = json!(self.rows_where("basket", "orderId", id));
        order["payments"] = json!(self.rows_where("payments", "orderId", id));
        order["shipments"] = json!(self.rows_where("shipments", "orderId", id));
        Some(order)
    }

    /// A change a manager saved: the price is recomputed and `dateUpdate` moves on.
    fn touch_order(&mut self, order: i64) {
        self.lists.clear();
        self.recompute(order);
        self.clock += 1;
        let ts = format_time(self.clock);
        if let Some(o) = self
            .tables
            .get_mut("orders")
            .and_then(|t| t.get_mut(&order))
        {
            o["dateUpdate"] = json!(ts);
        }
    }

    fn id(&mut self, table: &'static str) -> i64 {
        let next = self.next_id.entry(table).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }
    fn insert(&mut self, table: &'static str, row: Value) -> i64 {
        let id = row.get("id").and_then(bitrix::as_i64).unwrap_or(0);
        let next = self.next_id.entry(table).or_insert(1);
        *next = (*next).max(id + 1);
        self.insert_with_id(table, id, row);
        id
    }
    fn insert_with_id(&mut self, table: &'static str, id: i64, row: Value) {
        self.tables.entry(table).or_default().insert(id, row);
    }
    fn rows_of(&self, table: &'static str) -> Vec<&Value> {
        self.tables
            .get(table)
            .map(|t| t.values().collect())
            .unwrap_or_default()
    }
    fn table(&self, table: &'static str) -> Vec<Value> {
        self.tables
            .get(table)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }
    fn product_mut(&mut self, id: i64) -> Option<&mut Value> {
        self.tables.get_mut("products").and_then(|t| t.get_mut(&id))
    }
    /// A product's or a variation's row (they share the id space), and the field of its
    /// block's `MORE_PHOTO` property (3 in the catalog, 14 in the offers block).
    fn element_mut(&mut self, id: i64) -> Option<(&mut Value, &'static str)> {
        if self
            .tables
            .get("products")
            .is_some_and(|t| t.contains_key(&id))
        {
            return self.product_mut(id).map(|p| (p, "property3"));
        }
        self.tables
            .get_mut("offers")
            .and_then(|t| t.get_mut(&id))
            .map(|o| (o, "property14"))
    }

    /// A picture row and its file: a 1×1 GIF whose colour is the picture's id, so every file
    /// differs (content-addressed storage must not fold them together). The product row shows
    /// the file as the product list does: `detailPicture`/`previewPicture` as
    /// `{id, url, urlMachine}`, a `MORE_PHOTO` value (property 3) as `{valueId, value}`.
    fn add_picture(&mut self, product: i64, kind: &str) {
        let id = self.id("images");
        let dir = format!("{:03x}", id % 4096);
        let name = format!("{}_{id}.gif", kind.to_lowercase());
        let detail_url = format!("/upload/iblock/{dir}/p{id}x{product}/{name}");
        self.files.insert(detail_url.clone(), picture(id as u32));
        let row = json!({"id": id, "productId": product, "name": name, "type": kind,
            "detailUrl": detail_url, "createTime": format_time(self.clock),
            "downloadUrl": format!("{}/rest/download.json?token=catalog%7C{id}", self.origin)});
        self.insert_with_id("images", id, row);
        self.pictures.entry(product).or_default().push(id);
        let Some((p, more)) = self.element_mut(product) else {
            return;
        };
        let field = |name: &str| {
            let url = format!(
                "/rest/catalog.product.download?fields%5BfieldName%5D={name}&fields%5BfileId%5D={id}&fields%5BproductId%5D={product}"
            );
            json!({"id": id.to_string(), "url": url, "urlMachine": url})
        };
        match kind {
            "DETAIL_PICTURE" => p["detailPicture"] = field("detailPicture"),
            "PREVIEW_PICTURE" => p["previewPicture"] = field("previewPicture"),
            _ => {
                let value = json!({"valueId": (id * 10).to_string(), "value": id.to_string()});
                match p.get_mut(more) {
                    Some(Value::Array(a)) => a.push(value),
                    _ => p[more] = json!([value]),
                }
            }
        }
    }

    fn new_row(&mut self, table: &'static str, mut row: Value) -> i64 {
        let id = self.id(table);
        self.clock += 1;
        if let Value::Object(m) = &mut row {
            m.insert("id".into(), json!(id));
        }
        self.insert_with_id(table, id, row);
        id
    }
}

/// A failure as the portal answers `code`: the rate limit 503, an operating-time limit 429,
/// an internal error 500, anything else 400.
fn injected(code: &str) -> Failure {
    let status = match code {
        bitrix::QUERY_LIMIT_EXCEEDED => 503,
        bitrix::OPERATION_TIME_LIMIT => 429,
        "INTERNAL_SERVER_ERROR" => 500,
        _ => 400,
    };
    (status, code.to_string(), format!("injected {code}"))
}

/// A valid 1×1 GIF whose one colour is `seed`.
pub fn picture(seed: u32) -> Vec<u8> {
    let [_, r, g, b] = seed.to_be_bytes();
    let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    gif.extend_from_slice(&[r, g, b, 0, 0, 0]);
    gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b");
    gif
}

// --- HTTP ------------------------------------------------------------------------------------

/// `GET /upload/…`: the web server, not REST (no bucket, no envelope).
async fn file(State(fake): State<FakeBitrix>, Path(path): Path<String>) -> Response {
    let mut inner = fake.lock();
    if inner.down {
        return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response();
    }
    if let Some(status) = inner.file_failures.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "<html>error</html>").into_response();
    }
    match inner.files.get(&format!("/upload/{path}")).cloned() {
        Some(bytes) => {
            inner.downloads += 1;
            ([("content-type", "image/gif")], bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "<html>404 Not Found</html>").into_response(),
    }
}

struct Reply {
    result: Value,
    next: Option<u64>,
    total: Option<u64>,
}

impl Reply {
    fn of(result: Value) -> Self {
        Self {
            result,
            next: None,
            total: None,
        }
    }
}

fn err(status: u16, code: &str, description: &str) -> Failure {
    (status, code.to_string(), description.to_string())
}

fn envelope(reply: Reply) -> Value {
    let mut body = json!({"result": reply.result, "time": {"start": 0.0, "finish": 0.01,
        "duration": 0.01, "processing": 0.005, "operating": 0.0}});
    if let Some(n) = reply.next {
        body["next"] = json!(n);
    }
    if let Some(t) = reply.total {
        body["total"] = json!(t);
    }
    body
}

/// The catalog module's codes are numbers in the envelope; the older modules' are strings.
fn error_code(code: &str) -> Value {
    match code.parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(code),
    }
}

fn error_response(f: Failure) -> Response {
    let status = StatusCode::from_u16(f.0).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        axum::Json(json!({"error": error_code(&f.1), "error_description": f.2})),
    )
        .into_response()
}

async fn handle(
    State(fake): State<FakeBitrix>,
    Path((_user, code, method)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = method.trim_end_matches(".json").to_lowercase();
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let params = if json_body {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    } else if !body.is_empty() {
        bitrix::query::decode(&String::from_utf8_lossy(&body))
    } else {
        bitrix::query::decode(query.as_deref().unwrap_or(""))
    };
    let delay = fake.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut inner = fake.lock();
    let refused = |inner: &mut Inner, method: &str, params: &Value| {
        inner.calls.push(Call {
            method: method.to_string(),
            params: params.clone(),
            refused: true,
        });
    };
    if inner.down {
        refused(&mut inner, &method, &params);
        return (
            StatusCode::BAD_GATEWAY,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response();
    }
    if code != fake.code {
        refused(&mut inner, &method, &params);
        return error_response(err(
            401,
            "INVALID_CREDENTIALS",
            "Invalid request credentials",
        ));
    }
    // The leaky bucket.
    let now = Instant::now();
    let drained = now.duration_since(inner.at).as_secs_f64() * fake.limits.per_second;
    inner.level = (inner.level - drained).max(0.0);
    inner.at = now;
    if inner.level + 1.0 > f64::from(fake.limits.burst) {
        refused(&mut inner, &method, &params);
        return error_response(err(503, bitrix::QUERY_LIMIT_EXCEEDED, "Too many requests"));
    }
    inner.level += 1.0;
    if let Some(f) = inner.failures.pop_front() {
        refused(&mut inner, &method, &params);
        return error_response(f);
    }
    let called: Vec<String> = if method == "batch" {
        match params.get("cmd") {
            Some(Value::Object(m)) => m
                .values()
                .filter_map(Value::as_str)
                .map(|c| c.split('?').next().unwrap_or("").to_lowercase())
                .collect(),
            _ => Vec::new(),
        }
    } else {
        vec![method.clone()]
    };
    let injected = called.iter().find_map(|m| {
        inner
            .method_failures
            .get_mut(m)
            .and_then(VecDeque::pop_front)
    });
    if let Some(f) = injected {
        refused(&mut inner, &method, &params);
        return error_response(f);
    }
    inner.calls.push(Call {
        method: method.clone(),
        params: params.clone(),
        refused: false,
    });
    let outcome = if method == "batch" {
        batch(&mut inner, &params)
    } else {
        dispatch(&mut inner, &method, &params)
    };
    if let Some(n) = inner.lose.get_mut(&method).filter(|n| **n > 0) {
        *n -= 1;
        return (
            StatusCode::BAD_GATEWAY,
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response();
    }
    match outcome {
        Ok(reply) => axum::Json(envelope(reply)).into_response(),
        Err(f) => error_response(f),
    }
}

fn batch(inner: &mut Inner, params: &Value) -> Result<Reply, Failure> {
    let halt = params
        .get("halt")
        .and_then(bitrix::as_i64)
        .is_some_and(|h| h != 0);
    let commands: Vec<(String, String)> = match params.get("cmd") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.as_str().unwrap_or("").to_string()))
            .collect(),
        _ => {
            return Err(err(
                400,
                "ERROR_BATCH_METHOD_NOT_ALLOWED",
                "cmd is required",
            ));
        }
    };
    if commands.len() > bitrix::BATCH_LIMIT {
        return Err(err(
            400,
            "ERROR_BATCH_LENGTH_EXCEEDED",
            "Max batch length exceeded",
        ));
    }
    let (mut results, mut errors, mut totals, mut nexts) =
        (Map::new(), Map::new(), Map::new(), Map::new());
    for (key, cmd) in commands {
        let (method, query) = cmd.split_once('?').unwrap_or((cmd.as_str(), ""));
        let method = method.to_lowercase();
        if method == "batch" {
            errors.insert(
                key,
                json!({"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Method is not allowed for batch usage"}),
            );
            if halt {
                break;
            }
            continue;
        }
        let injected = inner
            .command_failures
            .get_mut(&method)
            .and_then(VecDeque::pop_front);
        let outcome = match injected {
            Some(f) => Err(f),
            None => dispatch(inner, &method, &bitrix::query::decode(query)),
        };
        match outcome {
            Ok(reply) => {
                results.insert(key.clone(), reply.result);
                if let Some(t) = reply.total {
                    totals.insert(key.clone(), json!(t));
                }
                if let Some(n) = reply.next {
                    nexts.insert(key, json!(n));
                }
            }
            Err(f) => {
                errors.insert(
                    key,
                    json!({"error": error_code(&f.1), "error_description": f.2}),
                );
                if halt {
                    break;
                }
            }
        }
    }
    // PHP's json_encode writes an empty array as [].
    let php = |m: Map<String, Value>| {
        if m.is_empty() {
            json!([])
        } else {
            Value::Object(m)
        }
    };
    Ok(Reply::of(json!({
        "result": php(results), "result_error": php(errors), "result_total": php(totals),
        "result_next": php(nexts), "result_time": []
    })))
}

// --- lists -----------------------------------------------------------------------------------

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
    }
    // Dates: compare as instants when both parse.
    if let (Some(x), Some(y)) = (
        bitrix::time::parse(&text(a)).filter(|_| text(a).len() >= 19),
        bitrix::time::parse(&text(b)).filter(|_| text(b).len() >= 19),
    ) {
        return x.cmp(&y);
    }
    text(a).cmp(&text(b))
}

fn field<'a>(row: &'a Value, name: &str) -> &'a Value {
    // Bitrix filters are case-insensitive on field names.
    if let Value::Object(m) = row {
        if let Some(v) = m.get(name) {
            return v;
        }
        if let Some((_, v)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            return v;
        }
    }
    &Value::Null
}

fn matches(row: &Value, filter: &Value) -> bool {
    let Value::Object(f) = filter else {
        return true;
    };
    f.iter().all(|(key, want)| {
        let (op, name) = ["!@", "!=", ">=", "<=", ">", "<", "=", "!", "@"]
            .iter()
            .find_map(|op| key.strip_prefix(op).map(|rest| (*op, rest)))
            .unwrap_or(("", key.as_str()));
        let have = field(row, name);
        let eq = |w: &Value| cmp(have, w) == std::cmp::Ordering::Equal;
        match op {
            ">" => cmp(have, want).is_gt(),
            ">=" => cmp(have, want).is_ge(),
            "<" => cmp(have, want).is_lt(),
            "<=" => cmp(have, want).is_le(),
            "!" | "!=" | "!@" => match want {
                Value::Array(a) => !a.iter().any(eq),
                w => !eq(w),
            },
            _ => match want {
                Value::Array(a) => a.iter().any(eq),
                w => eq(w),
            },
        }
    })
}

fn select(row: &Value, select: Option<&Value>) -> Value {
    let Some(Value::Array(fields)) = select else {
        return row.clone();
    };
    if fields.is_empty() || fields.iter().any(|f| f == "*") {
        return row.clone();
    }
    let mut out = Map::new();
    for f in fields {
        let name = text(f);
        if let Value::Object(m) = row
            && let Some((k, v)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name))
        {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn list_cached(
    inner: &mut Inner,
    table: &'static str,
    params: &Value,
    wrap: Option<&str>,
) -> Reply {
    let mut key_params = params.clone();
    if let Value::Object(m) = &mut key_params {
        m.remove("start");
        m.remove("select");
        m.remove("SELECT");
    }
    let key = format!("{table}:{key_params}");
    if !inner.lists.contains_key(&key) {
        let ids: Vec<i64> = {
            let mut all = params.clone();
            if let Value::Object(m) = &mut all {
                m.insert("start".into(), json!(-1));
                m.insert("select".into(), json!(["*"]));
            }
            let rows = inner.rows_of(table);
            let filter = all.get("filter").or_else(|| all.get("FILTER"));
            let mut rows: Vec<&Value> = rows
                .into_iter()
                .filter(|r| filter.is_none_or(|f| matches(r, f)))
                .collect();
            sort_rows(&mut rows, &all);
            rows.iter()
                .filter_map(|r| bitrix::as_i64(field(r, "id")))
                .collect()
        };
        if inner.lists.len() > 64 {
            inner.lists.clear();
        }
        inner.lists.insert(key.clone(), ids);
    }
    let ids = inner.lists.get(&key).cloned().unwrap_or_default();
    let table_rows = inner.tables.get(table);
    let rows = ids
        .iter()
        .filter_map(|id| table_rows.and_then(|t| t.get(id)));
    let mut unfiltered = params.clone();
    if let Value::Object(m) = &mut unfiltered {
        m.remove("filter");
        m.remove("FILTER");
        m.remove("order");
        m.remove("ORDER");
    }
    list(rows, &unfiltered, wrap)
}

fn sort_rows(rows: &mut [&Value], params: &Value) {
    if let Some(Value::Object(order)) = params.get("order").or_else(|| params.get("ORDER")) {
        let keys: Vec<(String, bool)> = order
            .iter()
            .map(|(k, v)| (k.clone(), text(v).eq_ignore_ascii_case("desc")))
            .collect();
        rows.sort_by(|a, b| {
            for (k, desc) in &keys {
                let o = cmp(field(a, k), field(b, k));
                let o = if *desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
}

/// Filter, order, page and select `rows` as a list method does. `wrap`: the key the newer
/// methods put the list under (`products`), or None for a bare array.
fn list<'a>(
    rows: impl IntoIterator<Item = &'a Value>,
    params: &Value,
    wrap: Option<&str>,
) -> Reply {
    let filter = params.get("filter").or_else(|| params.get("FILTER"));
    let mut rows: Vec<&Value> = rows
        .into_iter()
        .filter(|r| filter.is_none_or(|f| matches(r, f)))
        .collect();
    sort_rows(&mut rows, params);
    let start = params.get("start").and_then(bitrix::as_i64).unwrap_or(0);
    let total = rows.len();
    let (from, counted) = if start < 0 {
        (0, false)
    } else {
        (start as usize, true)
    };
    let page: Vec<Value> = rows
        .iter()
        .skip(from)
        .take(bitrix::PAGE_SIZE)
        .map(|r| select(r, params.get("select").or_else(|| params.get("SELECT"))))
        .collect();
    let next =
        (counted && from + bitrix::PAGE_SIZE < total).then(|| (from + bitrix::PAGE_SIZE) as u64);
    let result = match wrap {
        Some(key) => json!({ key: page }),
        None => Value::Array(page),
    };
    Reply {
        result,
        next,
        total: counted.then_some(total as u64),
    }
}

fn required_id(params: &Value) -> Result<i64, Failure> {
    params
        .get("id")
        .or_else(|| params.get("ID"))
        .and_then(bitrix::as_i64)
        .ok_or_else(|| err(400, "ERROR_CORE", "Required parameter id is missing"))
}

fn fields(params: &Value) -> Value {
    params
        .get("fields")
        .or_else(|| params.get("FIELDS"))
        .cloned()
        .unwrap_or_else(|| json!({}))
}

fn scope_check(inner: &Inner, scope: &str) -> Result<(), Failure> {
    if inner.scopes.iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(err(
            401,
            "insufficient_scope",
            "The request requires higher privileges than provided by the webhook token",
        ))
    }
}

const METHODS: &[(&str, &str)] = &[
    ("catalog.section.list", "catalog"),
    ("catalog.product.list", "catalog"),
    ("catalog.price.list", "catalog"),
    ("catalog.pricetype.list", "catalog"),
    ("catalog.pricetypegroup.list", "catalog"),
    ("catalog.vat.list", "catalog"),
    ("catalog.product.offer.list", "catalog"),
    ("catalog.productproperty.list", "catalog"),
    ("catalog.productpropertyenum.list", "catalog"),
    ("catalog.productimage.list", "catalog"),
    ("user.get", "user"),
    ("user.add", "user"),
    ("user.userfield.list", "user.userfield"),
    ("user.userfield.add", "user.userfield"),
    ("sale.order.list", "sale"),
    ("sale.order.get", "sale"),
    ("sale.order.add", "sale"),
    ("sale.order.update", "sale"),
    ("sale.basketitem.add", "sale"),
    ("sale.basketitem.list", "sale"),
    ("sale.shipment.add", "sale"),
    ("sale.shipment.list", "sale"),
    ("sale.payment.add", "sale"),
    ("sale.payment.list", "sale"),
    ("sale.payment.update", "sale"),
    ("sale.propertyvalue.modify", "sale"),
    ("sale.status.list", "sale"),
    ("sale.statuslang.list", "sale"),
    ("sale.property.list", "sale"),
    ("user.update", "user"),
    ("crm.status.list", "crm"),
    ("crm.deal.add", "crm"),
    ("crm.deal.list", "crm"),
    ("crm.deal.get", "crm"),
    ("crm.deal.update", "crm"),
    ("crm.deal.productrows.set", "crm"),
    ("crm.contact.add", "crm"),
    ("crm.contact.list", "crm"),
];

fn dispatch(inner: &mut Inner, method: &str, params: &Value) -> Result<Reply, Failure> {
    *inner.executed.entry(method.to_string()).or_default() += 1;
    let read_only = method.ends_with(".list")
        || method.ends_with(".get")
        || matches!(method, "scope" | "methods" | "user.get");
    if !read_only {
        inner.lists.clear();
    }
    if let Some((_, scope)) = METHODS.iter().find(|(m, _)| *m == method) {
        scope_check(inner, scope)?;
    }
    match method {
        "scope" => Ok(Reply::of(json!(inner.scopes))),
        "methods" => {
            let names: Vec<&str> = METHODS
                .iter()
                .filter(|(_, s)| inner.scopes.iter().any(|x| x == s))
                .map(|(m, _)| *m)
                .chain([
                    "batch",
                    "scope",
                    "methods",
                    "event.bind",
                    "event.get",
                    "event.unbind",
                ])
                .collect();
            Ok(Reply::of(json!(names)))
        }
        "catalog.section.list" => Ok(list_cached(inner, "sections", params, Some("sections"))),
        // Both catalog element lists require the infoblock in the filter.
        "catalog.product.list" | "catalog.product.offer.list" => {
            let has_iblock = params
                .get("filter")
                .is_some_and(|f| !field(f, "iblockId").is_null());
            if !has_iblock {
                return Err(err(
                    400,
                    "ERROR_CORE",
                    "Required filter field iblockId is missing",
                ));
            }
            let table = if method == "catalog.product.list" {
                "products"
            } else {
                "offers"
            };
            Ok(list_cached(inner, table, params, Some(table)))
        }
        "catalog.price.list" => Ok(list_cached(inner, "prices", params, Some("prices"))),
        "catalog.pricetype.list" => Ok(list_cached(
            inner,
            "price_types",
            params,
            Some("priceTypes"),
        )),
        "catalog.pricetypegroup.list" => Ok(list_cached(
            inner,
            "price_type_groups",
            params,
            Some("priceTypeGroups"),
        )),
        "catalog.vat.list" => Ok(list_cached(inner, "vats", params, Some("vats"))),
        "catalog.productproperty.list" => Ok(list_cached(
            inner,
            "properties",
            params,
            Some("productProperties"),
        )),
        "catalog.productpropertyenum.list" => Ok(list_cached(
            inner,
            "enums",
            params,
            Some("productPropertyEnums"),
        )),
        // One product's pictures; numeric error codes, as the catalog module answers.
        "catalog.productimage.list" => {
            let Some(product) = params.get("productId").and_then(bitrix::as_i64) else {
                return Err(err(400, "100", "Required parameter productId is missing"));
            };
            let exists = ["products", "offers"].iter().any(|t| {
                inner
                    .tables
                    .get(t)
                    .is_some_and(|t| t.contains_key(&product))
            });
            if !exists {
                return Err(err(400, "0", "Product is not exists"));
            }
            let wanted = params.get("select");
            let ids = inner.pictures.get(&product).cloned().unwrap_or_default();
            let table = inner.tables.get("images");
            let images: Vec<Value> = ids
                .iter()
                .filter_map(|id| table.and_then(|t| t.get(id)))
                .map(|i| select(i, wanted))
                .collect();
            let total = images.len() as u64;
            let mut reply = Reply::of(json!({ "productImages": images }));
            reply.total = Some(total);
            Ok(reply)
        }
        "user.get" => Ok(list_cached(inner, "users", params, None)),
        "user.add" => {
            let f = if params.get("fields").is_some() {
                fields(params)
            } else {
                params.clone()
            };
            if text(field(&f, "EMAIL")).is_empty() && text(field(&f, "LOGIN")).is_empty() {
                return Err(err(400, "ERROR_CORE", "Email is required"));
            }
            let mut row = f.clone();
            let id = inner.id("users");
            row["ID"] = json!(id.to_string());
            inner.insert_with_id("users", id, row);
            Ok(Reply::of(json!(id)))
        }
        "user.userfield.list" => Ok(list_cached(inner, "userfields", params, None)),
        "user.userfield.add" => {
            let mut f = fields(params);
            // Bitrix24 prefixes the code of a field made over REST.
            let name = format!(
                "UF_USR_{}",
                text(field(&f, "FIELD_NAME")).trim_start_matches("UF_USR_")
            );
            f["FIELD_NAME"] = json!(name.clone());
            if inner
                .table("userfields")
                .iter()
                .any(|u| text(field(u, "FIELD_NAME")) == name)
            {
                return Err(err(400, "ERROR_CORE", "The field already exists"));
            }
            let mut row = f.clone();
            let id = inner.id("userfields");
            row["ID"] = json!(id.to_string());
            row["ENTITY_ID"] = json!("USER");
            inner.insert_with_id("userfields", id, row);
            Ok(Reply::of(json!(id)))
        }
        "sale.order.list" => Ok(list_cached(inner, "orders", params, Some("orders"))),
        "sale.order.get" => {
            let id = required_id(params)?;
            let order = inner
                .order_view(id)
                .ok_or_else(|| err(400, "201240400001", "order does not exist"))?;
            Ok(Reply::of(json!({ "order": order })))
        }
        // Statuses have string ids: listed as they are, not through the id-keyed cache.
        "sale.status.list" => {
            let rows = inner.status_rows.clone();
            Ok(list(rows.iter(), params, Some("statuses")))
        }
        "sale.statuslang.list" => {
            let rows = inner.status_langs.clone();
            Ok(list(rows.iter(), params, Some("statusLangs")))
        }
        "sale.property.list" => Ok(list_cached(inner, "orderprops", params, Some("properties"))),
        "crm.status.list" => {
            let rows = inner.crm_statuses.clone();
            Ok(list(rows.iter(), params, None))
        }
        "user.update" => {
            let id = required_id(params)?;
            let user = inner
                .tables
                .get_mut("users")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "ERROR_CORE", "User not found"))?;
            if let (Value::Object(u), Value::Object(p)) = (user, params) {
                for (k, v) in p {
                    if !k.eq_ignore_ascii_case("id") {
                        u.insert(k.clone(), v.clone());
                    }
                }
            }
            Ok(Reply::of(json!(true)))
        }
        "sale.order.add" => {
            let f = fields(params);
            for required in ["lid", "personTypeId", "currency"] {
                if field(&f, required).is_null() {
                    return Err(err(
                        400,
                        "ERROR_CORE",
                        &format!("Required fields: {required}"),
                    ));
                }
            }
            let now = format_time(inner.clock + 1);
            let mut row = f.clone();
            let status = text(field(&f, "statusId"));
            row["statusId"] = json!(if status.is_empty() {
                "N".to_string()
            } else {
                status
            });
            row["canceled"] = json!("N");
            row["payed"] = json!("N");
            row["dateInsert"] = json!(now.clone());
            row["dateUpdate"] = json!(now);
            let id = inner.new_row("orders", row);
            let order = inner.tables.get("orders").and_then(|t| t.get(&id)).cloned();
            Ok(Reply::of(json!({ "order": order })))
        }
        "sale.order.update" => {
            let id = required_id(params)?;
            let f = fields(params);
            inner.clock += 1;
            let now = format_time(inner.clock);
            let order = inner
                .tables
                .get_mut("orders")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "ERROR_CORE", "order does not exist"))?;
            if let (Value::Object(o), Value::Object(f)) = (&mut *order, f) {
                for (k, v) in f {
                    o.insert(k, v);
                }
                o.insert("dateUpdate".into(), json!(now));
            }
            Ok(Reply::of(json!({ "order": order.clone() })))
        }
        "sale.basketitem.add" => {
            let f = fields(params);
            let order = field(&f, "orderId").clone();
            let order_id = bitrix::as_i64(&order)
                .ok_or_else(|| err(400, "ERROR_CORE", "Required fields: orderId"))?;
            if !inner
                .tables
                .get("orders")
                .is_some_and(|t| t.contains_key(&order_id))
            {
                return Err(err(400, "ERROR_CORE", "order does not exist"));
            }
            let mut f = f;
            if text(field(&f, "customPrice")) != "Y" {
                // The catalog prices the line, and the shop's rules discount it.
                let product = bitrix::as_i64(field(&f, "productId")).unwrap_or(0);
                let Some(base) = inner.base_price(product) else {
                    return Err(err(
                        400,
                        "200140400007",
                        "basket item is not saved - bad data",
                    ));
                };
                let discount = (base * inner.discount_percent).round() / 100.0;
                f["basePrice"] = json!(base);
                f["discountPrice"] = json!(discount);
                f["price"] = json!(base - discount);
                f["customPrice"] = json!("N");
                if text(field(&f, "name")).is_empty() {
                    let name = ["products", "offers"]
                        .iter()
                        .find_map(|t| inner.tables.get(t).and_then(|t| t.get(&product)))
                        .map(|p| text(field(p, "name")))
                        .unwrap_or_default();
                    f["name"] = json!(name);
                }
            }
            let id = inner.new_row("basket", f);
            inner.recompute(order_id);
            Ok(Reply::of(
                json!({ "basketItem": inner.tables.get("basket").and_then(|t| t.get(&id)).cloned() }),
            ))
        }
        "sale.basketitem.list" => Ok(list_cached(inner, "basket", params, Some("basketItems"))),
        "sale.shipment.add" => {
            let mut f = fields(params);
            if ["orderId", "allowDelivery", "deducted", "deliveryId"]
                .iter()
                .any(|k| field(&f, k).is_null())
            {
                return Err(err(400, "0", "Required fields are missing"));
            }
            let Some(order) = bitrix::as_i64(field(&f, "orderId"))
                .and_then(|id| inner.tables.get("orders").and_then(|t| t.get(&id)))
            else {
                return Err(err(400, "0", "Не удается загрузить заказ"));
            };
            // A base price given is the delivery price too; the currency is the order's.
            f["currency"] = order.get("currency").cloned().unwrap_or(json!("RUB"));
            f["priceDelivery"] = field(&f, "basePriceDelivery").clone();
            f["customPriceDelivery"] = json!("N");
            f["system"] = json!("N");
            f["canceled"] = json!("N");
            f["trackingNumber"] = json!("");
            let order_id = bitrix::as_i64(field(&f, "orderId")).unwrap_or(0);
            let id = inner.new_row("shipments", f);
            inner.recompute(order_id);
            Ok(Reply::of(
                json!({ "shipment": inner.tables.get("shipments").and_then(|t| t.get(&id)).cloned() }),
            ))
        }
        "sale.shipment.list" => Ok(list_cached(inner, "shipments", params, Some("shipments"))),
        "sale.payment.add" => {
            let f = fields(params);
            let paid = text(field(&f, "paid")) == "Y";
            let order = bitrix::as_i64(field(&f, "orderId"));
            let id = inner.new_row("payments", f);
            if paid
                && let Some(o) =
                    order.and_then(|o| inner.tables.get_mut("orders").and_then(|t| t.get_mut(&o)))
            {
                o["payed"] = json!("Y");
            }
            Ok(Reply::of(
                json!({ "payment": inner.tables.get("payments").and_then(|t| t.get(&id)).cloned() }),
            ))
        }
        "sale.payment.list" => Ok(list_cached(inner, "payments", params, Some("payments"))),
        "sale.payment.update" => {
            let id = required_id(params)?;
            let f = fields(params);
            let paid = text(field(&f, "paid")) == "Y";
            let payment = inner
                .tables
                .get_mut("payments")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "ERROR_CORE", "payment does not exist"))?;
            if let (Value::Object(p), Value::Object(f)) = (&mut *payment, f) {
                for (k, v) in f {
                    p.insert(k, v);
                }
            }
            let payment = payment.clone();
            if paid && let Some(order) = bitrix::as_i64(field(&payment, "orderId")) {
                inner.clock += 1;
                let now = format_time(inner.clock);
                if let Some(o) = inner
                    .tables
                    .get_mut("orders")
                    .and_then(|t| t.get_mut(&order))
                {
                    o["payed"] = json!("Y");
                    o["dateUpdate"] = json!(now);
                }
            }
            Ok(Reply::of(json!({ "payment": payment })))
        }
        "sale.propertyvalue.modify" => {
            let f = fields(params);
            inner.new_row("propertyvalues", f);
            Ok(Reply::of(json!({ "propertyValues": [] })))
        }
        "crm.contact.add" | "crm.deal.add" => {
            let table = if method == "crm.deal.add" {
                "deals"
            } else {
                "contacts"
            };
            let mut f = fields(params);
            if table == "deals" {
                if f.get("STAGE_ID").is_none() {
                    f["STAGE_ID"] = json!("NEW");
                }
                f["DATE_MODIFY"] = json!(format_time(inner.clock + 1));
            }
            let id = inner.new_row(table, f);
            if let Some(row) = inner.tables.get_mut(table).and_then(|t| t.get_mut(&id)) {
                row["ID"] = json!(id.to_string());
                if let Value::Object(m) = row {
                    m.remove("id");
                }
            }
            Ok(Reply::of(json!(id)))
        }
        "crm.contact.list" => Ok(list_cached(inner, "contacts", params, None)),
        "crm.deal.list" => Ok(list_cached(inner, "deals", params, None)),
        "crm.deal.get" => {
            let id = required_id(params)?;
            inner
                .tables
                .get("deals")
                .and_then(|t| t.get(&id))
                .cloned()
                .map(Reply::of)
                .ok_or_else(|| err(400, "NOT_FOUND", "Not found"))
        }
        "crm.deal.update" => {
            let id = required_id(params)?;
            let f = fields(params);
            inner.clock += 1;
            let now = format_time(inner.clock);
            let deal = inner
                .tables
                .get_mut("deals")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "NOT_FOUND", "Not found"))?;
            if let (Value::Object(d), Value::Object(f)) = (deal, f) {
                for (k, v) in f {
                    d.insert(k, v);
                }
                d.insert("DATE_MODIFY".into(), json!(now));
            }
            Ok(Reply::of(json!(true)))
        }
        "crm.deal.productrows.set" => {
            let id = required_id(params)?;
            let rows = params.get("rows").cloned().unwrap_or(json!([]));
            let deal = inner
                .tables
                .get_mut("deals")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "NOT_FOUND", "Not found"))?;
            deal["PRODUCT_ROWS"] = rows;
            Ok(Reply::of(json!(true)))
        }
        "event.bind" => {
            let event = text(params.get("event").unwrap_or(&Value::Null));
            let handler = text(params.get("handler").unwrap_or(&Value::Null));
            if event.is_empty() || handler.is_empty() {
                return Err(err(400, "ERROR_CORE", "event and handler are required"));
            }
            if inner
                .handlers
                .iter()
                .any(|(_, e, h)| e.eq_ignore_ascii_case(&event) && *h == handler)
            {
                return Err(err(
                    400,
                    "ERROR_EVENT_HANDLER_EXISTS",
                    "Handler already binded",
                ));
            }
            let id = inner.handlers.len() as i64 + 1;
            inner.handlers.push((id, event.to_uppercase(), handler));
            Ok(Reply::of(json!(true)))
        }
        "event.get" => Ok(Reply::of(json!(
            inner
                .handlers
                .iter()
                .map(|(_, e, h)| json!({"event": e, "handler": h, "auth_type": "0", "offline": 0}))
                .collect::<Vec<_>>()
        ))),
        _ => Err(err(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")),
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        axum::Json(envelope(self)).into_response()
    }
}

//! CommerceML import: stream the files, upsert in batches inside one transaction, publish a
//! catalog version. A failed import rolls back and leaves the served catalog as it was.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use commerceml::{DocumentKind, Item, Reader};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::media::MediaStore;
use super::package::Package;
use crate::config::CatalogConfig;
use crate::store::{Store, StoreError, now_ms};

/// Rows per INSERT statement: large enough to amortise round trips, small enough for
/// SQLite's and PostgreSQL's bound-parameter limits.
const BATCH_ROWS: usize = 200;
/// Warnings kept in the report; the rest are counted.
const MAX_WARNINGS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}:{line}: {message}")]
    Read {
        file: String,
        line: u64,
        message: String,
    },
    #[error(transparent)]
    Package(#[from] super::package::PackageError),
    #[error("catalog database: {0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(StoreError::Query(e))
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    /// The catalog version this import published.
    pub version: i64,
    /// `full` when at least one document replaced a whole part of the catalog.
    pub kind: &'static str,
    pub files: Vec<String>,
    pub sections: u64,
    pub properties: u64,
    pub price_types: u64,
    pub warehouses: u64,
    pub products: u64,
    pub offers: u64,
    pub prices: u64,
    pub images_added: u64,
    pub images_linked: u64,
    pub removed_sections: u64,
    pub removed_products: u64,
    pub removed_offers: u64,
    pub warnings: Vec<String>,
    pub warnings_total: u64,
    pub items: u64,
    pub elapsed_ms: u64,
}

impl ImportReport {
    fn warn(&mut self, message: String) {
        self.warnings_total += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        }
    }
}

/// A value bound into a batch insert.
#[derive(Debug, Clone)]
enum Val {
    Text(Option<String>),
    Int(Option<i64>),
}

/// Rows for one multi-row `INSERT … ON CONFLICT … DO UPDATE`, deduplicated by key (the last
/// row for a key wins: PostgreSQL refuses to update one row twice in a statement).
struct Batch {
    table: &'static str,
    columns: &'static [&'static str],
    key_len: usize,
    on_conflict: &'static str,
    /// Two rows for one key merge field by field (the later row's non-NULL values win),
    /// matching an `ON CONFLICT` that COALESCEs: offers arrive in parts from split files.
    merge: bool,
    /// On SQLite, rows go to this temporary table in arrival order and reach `table` in
    /// key order at the end ([`Batch::publish`]): random GUID keys inserted one by one scatter
    /// every index insert over the whole B-tree, key order appends.
    stage: Option<&'static str>,
    rows: Vec<Vec<Val>>,
    index: HashMap<String, usize>,
}

impl Batch {
    fn new(
        table: &'static str,
        columns: &'static [&'static str],
        key_len: usize,
        on_conflict: &'static str,
    ) -> Self {
        Self {
            table,
            columns,
            key_len,
            on_conflict,
            merge: false,
            stage: None,
            rows: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn merging(mut self) -> Self {
        self.merge = true;
        self
    }

    /// Stages rows in `temp.{stage}` (SQLite only: its `INSERT … SELECT … ON CONFLICT` applies
    /// rows one by one, so two staged rows for one key end as two upserts in arrival order would).
    async fn staged(
        mut self,
        stage: &'static str,
        conn: &mut AnyConnection,
    ) -> Result<Self, sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS temp.{stage}"
        )))
        .execute(&mut *conn)
        .await?;
        // Untyped columns: SQLite keeps each value as bound, the final INSERT converts.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TEMP TABLE {stage} (seq INTEGER PRIMARY KEY, {})",
            self.columns.join(", ")
        )))
        .execute(&mut *conn)
        .await?;
        self.stage = Some(stage);
        Ok(self)
    }

    /// Moves staged rows into the table in key order (arrival order within a key).
    async fn publish(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        self.flush(conn).await?;
        let Some(stage) = self.stage else {
            return Ok(());
        };
        let columns = self.columns.join(", ");
        let key = self.columns[..self.key_len].join(", ");
        // `WHERE true`: SQLite's parser needs it before an upsert clause after a SELECT.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM temp.{stage} WHERE true \
             ORDER BY {key}, seq {conflict}",
            table = self.table,
            conflict = self.on_conflict
        )))
        .execute(&mut *conn)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE temp.{stage}")))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    fn key(row: &[Val], len: usize) -> String {
        row[..len]
            .iter()
            .map(|v| match v {
                Val::Text(t) => t.clone().unwrap_or_default(),
                Val::Int(i) => i.map(|i| i.to_string()).unwrap_or_default(),
            })
            .collect::<Vec<_>>()
            .join("\u{1}")
    }

    fn push(&mut self, row: Vec<Val>) {
        let key = Self::key(&row, self.key_len);
        match self.index.get(&key) {
            Some(&i) if self.merge => {
                for (old, new) in self.rows[i].iter_mut().zip(row) {
                    let present = matches!(&new, Val::Text(Some(_)) | Val::Int(Some(_)));
                    if present {
                        *old = new;
                    }
                }
            }
            Some(&i) => self.rows[i] = row,
            None => {
                self.index.insert(key, self.rows.len());
                self.rows.push(row);
            }
        }
    }

    fn is_full(&self) -> bool {
        self.rows.len() >= BATCH_ROWS
    }

    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let width = self.columns.len();
        // Plain `?` on SQLite: sqlx maps each `$N` to its slot through
        // sqlite3_bind_parameter_name, which walks the statement's list of names, so a
        // statement with P `$N` parameters costs O(P²) to bind (31 % of a 10k import).
        let positional = conn.backend_name() == "SQLite";
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.stage
                .map(|s| format!("temp.{s}"))
                .unwrap_or_else(|| self.table.to_string()),
            self.columns.join(", ")
        );
        for (r, _) in self.rows.iter().enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                if positional {
                    sql.push('?');
                } else {
                    sql.push_str(&format!("${}", r * width + c + 1));
                }
            }
            sql.push(')');
        }
        if self.stage.is_none() {
            sql.push(' ');
            sql.push_str(self.on_conflict);
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in self.rows.drain(..) {
            for v in row {
                query = match v {
                    Val::Text(t) => query.bind(t),
                    Val::Int(i) => query.bind(i),
                };
            }
        }
        self.index.clear();
        query.execute(&mut *conn).await?;
        Ok(())
    }
}

const SECTION_COLUMNS: &[&str] = &["id", "parent_id", "name", "description", "sort", "version"];
const SECTION_CONFLICT: &str = "ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name, \
     description = excluded.description, sort = excluded.sort, version = excluded.version";
const PROPERTY_COLUMNS: &[&str] = &["id", "name", "value_type", "variants", "version"];
const PROPERTY_CONFLICT: &str = "ON CONFLICT (id) DO UPDATE SET name = excluded.name, value_type = excluded.value_type, \
     variants = excluded.variants, version = excluded.version";
const PRICE_TYPE_COLUMNS: &[&str] = &["id", "name", "currency", "version"];
const PRICE_TYPE_CONFLICT: &str = "ON CONFLICT (id) DO UPDATE SET name = excluded.name, currency = excluded.currency, version = excluded.version";
const WAREHOUSE_COLUMNS: &[&str] = &["id", "name", "version"];
const WAREHOUSE_CONFLICT: &str =
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version";
const IMAGE_COLUMNS: &[&str] = &["hash", "mime", "bytes", "source_name", "created_at"];
const IMAGE_CONFLICT: &str = "ON CONFLICT (hash) DO NOTHING";

fn image_row(hash: &str, mime: &str, bytes: u64, source: &str) -> Vec<Val> {
    vec![
        Val::Text(Some(hash.to_string())),
        Val::Text(Some(mime.to_string())),
        Val::Int(Some(bytes as i64)),
        Val::Text(Some(source.to_string())),
        Val::Int(Some(now_ms())),
    ]
}

const PRODUCT_COLUMNS: &[&str] = &[
    "id",
    "article",
    "barcode",
    "name",
    "description",
    "section_id",
    "unit",
    "properties",
    "images",
    "created_at",
    "version",
];
const PRODUCT_CONFLICT: &str = "ON CONFLICT (id) DO UPDATE SET article = excluded.article, barcode = excluded.barcode, \
     name = excluded.name, description = excluded.description, section_id = excluded.section_id, unit = excluded.unit, \
     properties = excluded.properties, images = excluded.images, version = excluded.version";
const OFFER_COLUMNS: &[&str] = &[
    "id",
    "product_id",
    "name",
    "article",
    "barcode",
    "characteristics",
    "price",
    "currency",
    "stock_milli",
    "version",
    "old_price",
];
// Split files (prices*.xml, rests*.xml) carry only some fields: keep what they do not mention.
const OFFER_CONFLICT: &str = "ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, \
     name = COALESCE(excluded.name, offers.name), article = COALESCE(excluded.article, offers.article), \
     barcode = COALESCE(excluded.barcode, offers.barcode), \
     characteristics = COALESCE(excluded.characteristics, offers.characteristics), \
     price = COALESCE(excluded.price, offers.price), currency = COALESCE(excluded.currency, offers.currency), \
     stock_milli = COALESCE(excluded.stock_milli, offers.stock_milli), version = excluded.version, \
     old_price = CASE WHEN excluded.price IS NULL THEN offers.old_price ELSE excluded.old_price END";
const OFFER_PRICE_COLUMNS: &[&str] = &["offer_id", "price_type_id", "amount", "currency"];
const OFFER_PRICE_CONFLICT: &str = "ON CONFLICT (offer_id, price_type_id) DO UPDATE SET amount = excluded.amount, currency = excluded.currency";

/// Which parts of the catalog a file replaced wholesale (so rows it did not write go).
#[derive(Default)]
struct Replaced {
    classifier: bool,
    catalog: bool,
    offers: bool,
}

pub struct Importer<'a> {
    store: &'a Store,
    media: MediaStore,
    config: CatalogConfig,
    progress: Option<Box<dyn Fn(u64) + Send + Sync + 'a>>,
    known: HashMap<String, KnownPicture>,
}

/// A picture the caller already put in the media store (the Bitrix sync downloads its own),
/// linked by the reference a package's `Картинка` uses instead of a file in the package.
#[derive(Debug, Clone)]
pub struct KnownPicture {
    pub hash: String,
    /// Type and size, for a picture not yet in the `images` table; `None` when it is.
    pub record: Option<(&'static str, u64)>,
}

struct Run {
    version: i64,
    report: ImportReport,
    replaced: Replaced,
    sections: Batch,
    properties: Batch,
    price_types_batch: Batch,
    warehouses: Batch,
    products: Batch,
    offers: Batch,
    offer_prices: Batch,
    deleted_sections: Vec<String>,
    deleted_products: Vec<String>,
    deleted_offers: Vec<String>,
    /// Property id → (name, value id → text), to store products' values as text.
    property_names: HashMap<String, (String, HashMap<String, String>)>,
    price_types: HashMap<String, (String, Option<String>)>,
    retail_type: Option<String>,
    /// `catalog.old_price_type`, once the package or the database declares it.
    old_type: Option<String>,
    /// Hashes of product ids known to exist (offers for others are warned about).
    known_products: HashSet<u64>,
    seen_products: HashSet<u64>,
    seen_offers: HashSet<u64>,
    images: HashMap<String, String>,
    pending_images: Batch,
    unknown_price_types: HashSet<String>,
}

fn id_hash(id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl<'a> Importer<'a> {
    pub fn new(store: &'a Store, config: &CatalogConfig) -> Self {
        Self {
            store,
            media: MediaStore::new(&config.media_dir, config.max_image_bytes),
            config: config.clone(),
            progress: None,
            known: HashMap::new(),
        }
    }

    /// Pictures the package refers to by these keys are these stored ones.
    pub fn with_known_pictures(mut self, known: HashMap<String, KnownPicture>) -> Self {
        self.known = known;
        self
    }

    /// Called with the number of items read so far, every few thousand items.
    pub fn on_progress(mut self, f: impl Fn(u64) + Send + Sync + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    pub fn limits(config: &CatalogConfig) -> super::package::ZipLimits {
        super::package::ZipLimits {
            max_unpacked_bytes: config.max_unpacked_bytes,
            max_ratio: config.max_zip_ratio,
        }
    }

    /// Imports files, directories or zip packages given on the command line, as one version.
    pub async fn import_paths(
        &self,
        inputs: &[PathBuf],
        source: &str,
    ) -> Result<ImportReport, ImportError> {
        let package = Package::open(inputs, Self::limits(&self.config))?;
        self.import_files(&package.files, &package.base_dir, source)
            .await
    }

    /// Imports XML files (already in import order); `Картинка` paths resolve against `base_dir`.
    pub async fn import_files(
        &self,
        files: &[PathBuf],
        base_dir: &Path,
        source: &str,
    ) -> Result<ImportReport, ImportError> {
        let started = std::time::Instant::now();
        let mut tx = self.store.pool().begin().await?;
        let version: i64 = sqlx::query(
            "INSERT INTO catalog_versions (kind, source, stats, created_at) VALUES ('changes', $1, '{}', $2) RETURNING id",
        )
        .bind(source)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let mut run = Run::new(version, &mut tx, &self.config, self.store.backend()).await?;
        for (key, known) in &self.known {
            run.images.insert(key.clone(), known.hash.clone());
            if let Some((mime, bytes)) = known.record {
                run.pending_images
                    .push(image_row(&known.hash, mime, bytes, key));
                if run.pending_images.is_full() {
                    run.pending_images.flush(&mut tx).await?;
                }
            }
        }
        for file in files {
            run.report.files.push(file.display().to_string());
            self.read_file(&mut run, &mut tx, file, base_dir).await?;
        }
        run.flush_all(&mut tx).await?;
        run.remove_replaced(&mut tx).await?;
        let mut report = std::mem::take(&mut run.report);
        report.version = version;
        report.kind = if run.replaced.catalog || run.replaced.offers || run.replaced.classifier {
            "full"
        } else {
            "changes"
        };
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        sqlx::query("UPDATE catalog_versions SET kind = $1, stats = $2 WHERE id = $3")
            .bind(report.kind)
            .bind(serde_json::to_string(&report).unwrap_or_default())
            .bind(version)
            .execute(&mut *tx)
            .await?;
        // Every source (CLI, 1C exchange, Bitrix sync) publishes here: alerts follow the
        // version they came with, or neither happens.
        crate::selling::alerts::on_publish(
            &mut tx,
            version,
            crate::config::OutboxConfig::default().max_attempts,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn read_file(
        &self,
        run: &mut Run,
        conn: &mut AnyConnection,
        path: &Path,
        base_dir: &Path,
    ) -> Result<(), ImportError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lower = name.to_lowercase();
        let file = std::fs::File::open(path).map_err(|e| ImportError::Read {
            file: name.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        let mut reader = Reader::new(std::io::BufReader::with_capacity(256 * 1024, file));
        // Bitrix decides by file name too: only offers*.xml define the set of offers;
        // prices*.xml and rests*.xml refine offers defined elsewhere.
        let defines_offers = lower.starts_with("offers");
        // 1C writes the classifier without СодержитТолькоИзменения even in a changes-only
        // package: the catalog's flag in the same file decides whether groups it lacks go.
        let (mut classifier_full, mut catalog_changes) = (false, false);
        loop {
            let item = match reader.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(e) => {
                    return Err(ImportError::Read {
                        file: name,
                        line: e.line(),
                        message: e.to_string(),
                    });
                }
            };
            let line = reader.line();
            run.report.items += 1;
            if run.report.items.is_multiple_of(5000)
                && let Some(progress) = &self.progress
            {
                progress(run.report.items);
            }
            match item {
                Item::Document(doc) => {
                    if doc.only_changes && doc.kind == DocumentKind::Catalog {
                        catalog_changes = true;
                    }
                    if !doc.only_changes {
                        match doc.kind {
                            DocumentKind::Classifier => classifier_full = true,
                            DocumentKind::Catalog => run.replaced.catalog = true,
                            DocumentKind::OffersPackage if defines_offers => {
                                run.replaced.offers = true
                            }
                            _ => {}
                        }
                    }
                }
                Item::Group(g) => {
                    if g.deleted {
                        run.deleted_sections.push(g.id);
                    } else {
                        run.report.sections += 1;
                        let sort = run.report.sections as i64;
                        run.sections.push(vec![
                            Val::Text(Some(g.id)),
                            Val::Text(g.parent_id),
                            Val::Text(Some(g.name.unwrap_or_default())),
                            Val::Text(g.description),
                            Val::Int(Some(sort)),
                            Val::Int(Some(run.version)),
                        ]);
                    }
                }
                Item::Property(p) => {
                    run.report.properties += 1;
                    let variants: HashMap<String, String> = p
                        .variants
                        .iter()
                        .filter_map(|v| Some((v.value_id.clone()?, v.value.clone())))
                        .collect();
                    let kind = match &p.value_type {
                        Some(commerceml::ValueType::Reference) => "reference",
                        Some(commerceml::ValueType::Number) => "number",
                        _ => "string",
                    };
                    let name = p.name.clone().unwrap_or_else(|| p.id.clone());
                    run.properties.push(vec![
                        Val::Text(Some(p.id.clone())),
                        Val::Text(Some(name.clone())),
                        Val::Text(Some(kind.into())),
                        Val::Text(Some(
                            serde_json::to_string(&variants).unwrap_or_else(|_| "{}".into()),
                        )),
                        Val::Int(Some(run.version)),
                    ]);
                    run.property_names.insert(p.id, (name, variants));
                }
                Item::PriceType(t) => {
                    run.report.price_types += 1;
                    let name = t.name.clone().unwrap_or_else(|| t.id.clone());
                    run.price_types
                        .insert(t.id.clone(), (name.clone(), t.currency.clone()));
                    run.choose_retail(&self.config);
                    run.price_types_batch.push(vec![
                        Val::Text(Some(t.id)),
                        Val::Text(Some(name)),
                        Val::Text(t.currency),
                        Val::Int(Some(run.version)),
                    ]);
                }
                Item::Warehouse(w) => {
                    run.report.warehouses += 1;
                    run.warehouses.push(vec![
                        Val::Text(Some(w.id.clone())),
                        Val::Text(Some(w.name.unwrap_or(w.id))),
                        Val::Int(Some(run.version)),
                    ]);
                }
                Item::Product(p) => self.product(run, p, &name, line, base_dir),
                Item::Offer(o) => run.offer(o, &name, line),
            }
            run.flush_full(conn).await?;
        }
        if classifier_full && !catalog_changes {
            run.replaced.classifier = true;
        }
        Ok(())
    }

    fn product(
        &self,
        run: &mut Run,
        p: commerceml::Product,
        file: &str,
        line: u64,
        base_dir: &Path,
    ) {
        let h = id_hash(&p.id);
        if p.deleted {
            run.known_products.remove(&h);
            run.deleted_products.push(p.id);
            return;
        }
        if !run.seen_products.insert(h) {
            run.report.warn(format!(
                "{file}:{line}: product {} appears twice; the last one is kept",
                p.id
            ));
        }
        run.known_products.insert(h);
        run.report.products += 1;
        let mut images = Vec::new();
        for picture in &p.pictures {
            if let Some(hash) = run.images.get(picture) {
                images.push(hash.clone());
                continue;
            }
            let Some(path) = safe_join(base_dir, picture) else {
                run.report.warn(format!(
                    "{file}:{line}: picture path {picture:?} points outside the package"
                ));
                continue;
            };
            match self.media.put_file(&path) {
                Ok(stored) => {
                    if stored.new {
                        run.report.images_added += 1;
                    }
                    run.report.images_linked += 1;
                    run.images.insert(picture.clone(), stored.hash.clone());
                    run.pending_images.push(image_row(
                        &stored.hash,
                        stored.mime,
                        stored.bytes,
                        picture,
                    ));
                    images.push(stored.hash);
                }
                Err(e) => run
                    .report
                    .warn(format!("{file}:{line}: picture skipped: {e}")),
            }
        }
        let properties: Vec<serde_json::Value> = p
            .property_values
            .iter()
            .filter(|v| !v.values.is_empty())
            .map(|v| {
                let (name, variants) = match run.property_names.get(&v.property_id) {
                    Some((name, variants)) => (name.clone(), Some(variants)),
                    None => (
                        v.name.clone().unwrap_or_else(|| v.property_id.clone()),
                        None,
                    ),
                };
                let values: Vec<String> = v
                    .values
                    .iter()
                    .map(|value| {
                        variants
                            .and_then(|m| m.get(value))
                            .cloned()
                            .unwrap_or_else(|| value.clone())
                    })
                    .collect();
                serde_json::json!({ "id": v.property_id, "name": name, "values": values })
            })
            .collect();
        let unit = p
            .base_unit
            .as_ref()
            .and_then(|u| u.text.clone().or_else(|| u.full_name.clone()));
        run.products.push(vec![
            Val::Text(Some(p.id.clone())),
            Val::Text(p.article),
            Val::Text(p.barcode),
            Val::Text(Some(p.name.unwrap_or_else(|| p.id.clone()))),
            Val::Text(p.description),
            Val::Text(p.group_ids.into_iter().next()),
            Val::Text(unit),
            Val::Text(Some(serde_json::Value::Array(properties).to_string())),
            Val::Text(Some(
                serde_json::to_string(&images).unwrap_or_else(|_| "[]".into()),
            )),
            Val::Int(Some(now_ms())),
            Val::Int(Some(run.version)),
        ]);
    }
}

/// `import_files/ab/x.jpg` under `base`, refusing absolute paths and `..`.
fn safe_join(base: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    Some(base.join(rel))
}

/// Quantity in thousandths, rounding toward zero beyond three decimals.
fn milli(q: &commerceml::Decimal) -> i64 {
    let (m, s) = (q.mantissa(), q.scale());
    if s <= 3 {
        m.saturating_mul(10i64.pow(3 - s))
    } else {
        m / 10i64.pow((s - 3).min(18))
    }
}

impl Run {
    async fn new(
        version: i64,
        conn: &mut AnyConnection,
        config: &CatalogConfig,
        backend: crate::store::Backend,
    ) -> Result<Self, ImportError> {
        let mut run = Run {
            version,
            report: ImportReport::default(),
            replaced: Replaced::default(),
            sections: Batch::new("sections", SECTION_COLUMNS, 1, SECTION_CONFLICT),
            properties: Batch::new("properties", PROPERTY_COLUMNS, 1, PROPERTY_CONFLICT),
            price_types_batch: Batch::new(
                "price_types",
                PRICE_TYPE_COLUMNS,
                1,
                PRICE_TYPE_CONFLICT,
            ),
            warehouses: Batch::new("warehouses", WAREHOUSE_COLUMNS, 1, WAREHOUSE_CONFLICT),
            products: Batch::new("products", PRODUCT_COLUMNS, 1, PRODUCT_CONFLICT),
            offers: Batch::new("offers", OFFER_COLUMNS, 1, OFFER_CONFLICT).merging(),
            offer_prices: Batch::new("offer_prices", OFFER_PRICE_COLUMNS, 2, OFFER_PRICE_CONFLICT),
            deleted_sections: Vec::new(),
            deleted_products: Vec::new(),
            deleted_offers: Vec::new(),
            property_names: HashMap::new(),
            price_types: HashMap::new(),
            retail_type: None,
            old_type: None,
            known_products: HashSet::new(),
            seen_products: HashSet::new(),
            seen_offers: HashSet::new(),
            images: HashMap::new(),
            unknown_price_types: HashSet::new(),
            pending_images: Batch::new("images", IMAGE_COLUMNS, 1, IMAGE_CONFLICT),
        };
        if backend == crate::store::Backend::Sqlite {
            run.products = run.products.staged("import_products", conn).await?;
            run.offers = run.offers.staged("import_offers", conn).await?;
            run.offer_prices = run.offer_prices.staged("import_offer_prices", conn).await?;
        }
        // What earlier imports left: changes-only packages build on it.
        for row in sqlx::query("SELECT id, name, variants FROM properties")
            .fetch_all(&mut *conn)
            .await?
        {
            let variants: String = row.try_get("variants")?;
            run.property_names.insert(
                row.try_get("id")?,
                (
                    row.try_get("name")?,
                    serde_json::from_str(&variants).unwrap_or_default(),
                ),
            );
        }
        for row in sqlx::query("SELECT id, name, currency FROM price_types")
            .fetch_all(&mut *conn)
            .await?
        {
            run.price_types.insert(
                row.try_get("id")?,
                (row.try_get("name")?, row.try_get("currency")?),
            );
        }
        run.choose_retail(config);
        for row in sqlx::query("SELECT id FROM products")
            .fetch_all(&mut *conn)
            .await?
        {
            let id: String = row.try_get(0)?;
            run.known_products.insert(id_hash(&id));
        }
        Ok(run)
    }

    /// The price type customers pay: the configured one, else one named «Розничная»/retail.
    fn choose_retail(&mut self, config: &CatalogConfig) {
        let old = config.old_price_type.trim().to_lowercase();
        if !old.is_empty() {
            self.old_type = self
                .price_types
                .iter()
                .find(|(id, (name, _))| id.to_lowercase() == old || name.to_lowercase() == old)
                .map(|(id, _)| id.clone());
        }
        let wanted = config.retail_price_type.trim().to_lowercase();
        let found = self.price_types.iter().find(|(id, (name, _))| {
            if wanted.is_empty() {
                let n = name.to_lowercase();
                n.contains("розн") || n.contains("retail")
            } else {
                id.to_lowercase() == wanted || name.to_lowercase() == wanted
            }
        });
        if let Some((id, _)) = found {
            self.retail_type = Some(id.clone());
        }
    }

    fn offer(&mut self, o: commerceml::Offer, file: &str, line: u64) {
        if o.deleted {
            self.deleted_offers.push(o.id);
            return;
        }
        if !self.known_products.contains(&id_hash(&o.product_id)) {
            self.report.warn(format!(
                "{file}:{line}: offer {} is for unknown product {}; skipped",
                o.id, o.product_id
            ));
            return;
        }
        if !self.seen_offers.insert(id_hash(&o.id)) && o.prices.is_some() && o.quantity.is_some() {
            self.report.warn(format!(
                "{file}:{line}: offer {} appears twice; the last one is kept",
                o.id
            ));
        }
        self.report.offers += 1;
        let mut retail: Option<(i64, String)> = None;
        let mut old: Option<i64> = None;
        if let Some(prices) = &o.prices {
            for price in prices {
                let Some(amount) = price.minor_units(2) else {
                    self.report.warn(format!(
                        "{file}:{line}: offer {}: price {} has more than 2 decimals; skipped",
                        o.id, price.price_per_unit
                    ));
                    continue;
                };
                let known = self.price_types.get(&price.price_type_id);
                if known.is_none() && self.unknown_price_types.insert(price.price_type_id.clone()) {
                    self.report.warn(format!(
                        "{file}:{line}: price type {} is not declared in the package (stored, not used as retail)",
                        price.price_type_id
                    ));
                }
                let currency = price
                    .currency
                    .clone()
                    .or_else(|| known.and_then(|(_, c)| c.clone()))
                    .unwrap_or_else(|| "RUB".into());
                self.report.prices += 1;
                let is_retail = match &self.retail_type {
                    Some(t) => *t == price.price_type_id,
                    None => known.is_some() && retail.is_none(),
                };
                if is_retail {
                    retail = Some((amount, currency.clone()));
                }
                if self.old_type.as_deref() == Some(price.price_type_id.as_str()) {
                    old = Some(amount);
                }
                self.offer_prices.push(vec![
                    Val::Text(Some(o.id.clone())),
                    Val::Text(Some(price.price_type_id.clone())),
                    Val::Int(Some(amount)),
                    Val::Text(Some(currency)),
                ]);
            }
        }
        let stock = o.quantity.as_ref().map(milli).or_else(|| {
            o.stock.as_ref().map(|list| {
                list.iter()
                    .filter_map(|s| s.quantity.as_ref())
                    .map(milli)
                    .sum()
            })
        });
        let characteristics = (!o.characteristics.is_empty()).then(|| {
            let list: Vec<serde_json::Value> = o
                .characteristics
                .iter()
                .filter_map(|c| {
                    Some(serde_json::json!({ "name": c.name.clone()?, "value": c.value.clone()? }))
                })
                .collect();
            serde_json::Value::Array(list).to_string()
        });
        // Shown struck through only above the price paid.
        let old_price = old.filter(|o| retail.as_ref().is_some_and(|r| *o > r.0));
        self.offers.push(vec![
            Val::Text(Some(o.id)),
            Val::Text(Some(o.product_id)),
            Val::Text(o.name),
            Val::Text(o.article),
            Val::Text(o.barcode),
            Val::Text(characteristics),
            Val::Int(retail.as_ref().map(|r| r.0)),
            Val::Text(retail.map(|r| r.1)),
            Val::Int(stock),
            Val::Int(Some(self.version)),
            Val::Int(old_price),
        ]);
    }

    async fn flush_full(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        // Parents before children: sections and properties before the products using them.
        if self.sections.is_full() {
            self.sections.flush(conn).await?;
        }
        if self.properties.is_full() {
            self.properties.flush(conn).await?;
        }
        if self.products.is_full() || self.pending_images.is_full() {
            self.pending_images.flush(conn).await?;
            self.products.flush(conn).await?;
        }
        if self.offers.is_full() || self.offer_prices.is_full() {
            self.offers.flush(conn).await?;
            self.offer_prices.flush(conn).await?;
        }
        Ok(())
    }

    async fn flush_all(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        self.sections.flush(conn).await?;
        self.properties.flush(conn).await?;
        self.price_types_batch.flush(conn).await?;
        self.warehouses.flush(conn).await?;
        self.pending_images.flush(conn).await?;
        self.products.publish(conn).await?;
        self.offers.publish(conn).await?;
        self.offer_prices.publish(conn).await?;
        Ok(())
    }

    async fn remove_replaced(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let v = self.version;
        self.report.removed_sections +=
            delete_ids(conn, "sections", "id", &self.deleted_sections).await?;
        self.report.removed_products +=
            delete_ids(conn, "products", "id", &self.deleted_products).await?;
        self.report.removed_offers +=
            delete_ids(conn, "offers", "product_id", &self.deleted_products).await?;
        self.report.removed_offers +=
            delete_ids(conn, "offers", "id", &self.deleted_offers).await?;
        if self.replaced.classifier {
            let r = sqlx::query("DELETE FROM sections WHERE version < $1")
                .bind(v)
                .execute(&mut *conn)
                .await?;
            self.report.removed_sections += r.rows_affected();
            sqlx::query("DELETE FROM properties WHERE version < $1")
                .bind(v)
                .execute(&mut *conn)
                .await?;
        }
        if self.replaced.catalog {
            let r = sqlx::query("DELETE FROM products WHERE version < $1")
                .bind(v)
                .execute(&mut *conn)
                .await?;
            self.report.removed_products += r.rows_affected();
            // NOT EXISTS, never NOT IN: PostgreSQL cannot hash a NOT IN whose subquery
            // outgrows work_mem and then compares every offer with every product.
            let r = sqlx::query(
                "DELETE FROM offers WHERE NOT EXISTS \
                 (SELECT 1 FROM products p WHERE p.id = offers.product_id)",
            )
            .execute(&mut *conn)
            .await?;
            self.report.removed_offers += r.rows_affected();
        }
        if self.replaced.offers {
            let r = sqlx::query("DELETE FROM offers WHERE version < $1")
                .bind(v)
                .execute(&mut *conn)
                .await?;
            self.report.removed_offers += r.rows_affected();
        }
        // An anti-join through the offers' primary key: linear in offer_prices.
        sqlx::query(
            "DELETE FROM offer_prices WHERE NOT EXISTS \
             (SELECT 1 FROM offers o WHERE o.id = offer_prices.offer_id)",
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

async fn delete_ids(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    ids: &[String],
) -> Result<u64, sqlx::Error> {
    let mut removed = 0;
    for chunk in ids.chunks(BATCH_ROWS) {
        // `?` on SQLite: see Batch::flush.
        let positional = conn.backend_name() == "SQLite";
        let placeholders: Vec<String> = (1..=chunk.len())
            .map(|i| {
                if positional {
                    "?".to_string()
                } else {
                    format!("${i}")
                }
            })
            .collect();
        let sql = format!(
            "DELETE FROM {table} WHERE {column} IN ({})",
            placeholders.join(",")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        removed += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(removed)
}

//! The catalog read model: an immutable in-memory snapshot of one catalog version, built
//! once per publish and swapped atomically. Every catalog request reads it without touching
//! the database; each instance refreshes its own when the version in the database changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use futures_util::TryStreamExt;
use sqlx::Row;
use tokio::sync::Notify;

use crate::store::{Backend, Store, StoreError};

/// Properties with more distinct values than this are shown but not offered as filters.
const MAX_FACET_VALUES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Popular,
    PriceAsc,
    PriceDesc,
    New,
    Name,
}

impl SortKey {
    pub const ALL: [SortKey; 5] = [
        SortKey::Popular,
        SortKey::PriceAsc,
        SortKey::PriceDesc,
        SortKey::New,
        SortKey::Name,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "popular" => SortKey::Popular,
            "price_asc" => SortKey::PriceAsc,
            "price_desc" => SortKey::PriceDesc,
            "new" => SortKey::New,
            "name" => SortKey::Name,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Popular => "popular",
            SortKey::PriceAsc => "price_asc",
            SortKey::PriceDesc => "price_desc",
            SortKey::New => "new",
            SortKey::Name => "name",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug)]
pub struct Section {
    pub id: String,
    pub parent: Option<u32>,
    pub name: String,
    pub sort: i64,
    pub children: Vec<u32>,
    /// Visible products in this section and its descendants.
    pub product_count: u32,
    /// Those products' indexes, ascending: filters within a section scan only these.
    pub products: Vec<u32>,
}

#[derive(Debug)]
pub struct Offer {
    pub id: String,
    pub name: Option<String>,
    /// (name, value), interned: a catalog repeats «Размер»/«M» hundreds of thousands of times.
    pub characteristics: Vec<(Arc<str>, Arc<str>)>,
    pub price: Option<i64>,
    pub currency: String,
    /// Thousandths of the unit; 0 when unknown.
    pub stock_milli: i64,
    /// The price before a discount, shown struck through (always above `price`).
    pub old_price: Option<i64>,
}

impl Offer {
    pub fn in_stock(&self) -> bool {
        self.stock_milli > 0 && self.price.is_some()
    }
}

impl Product {
    /// The struck-through price beside `min_price`: the old price of the cheapest offer.
    pub fn old_price(&self) -> Option<i64> {
        self.offers
            .iter()
            .filter(|o| o.price == Some(self.min_price))
            .filter_map(|o| o.old_price)
            .max()
    }
}

#[derive(Debug)]
pub struct Product {
    pub id: String,
    pub name: String,
    /// Lowercased name, the key of the `name` sort.
    pub name_key: String,
    pub article: Option<String>,
    pub barcode: Option<String>,
    pub description: Option<String>,
    pub section: Option<u32>,
    /// The section and its ancestors: a product belongs to each of them.
    pub section_path: Vec<u32>,
    pub unit: Option<String>,
    /// (property index, value indexes), in catalog order: for filters, facets and display.
    pub facet_values: Vec<(u32, Vec<u32>)>,
    pub images: Vec<Arc<str>>,
    pub popularity: i64,
    pub created_at: i64,
    pub min_price: i64,
    pub max_price: i64,
    pub currency: String,
    pub in_stock: bool,
    pub offers: Vec<Offer>,
}

#[derive(Debug)]
pub struct Property {
    pub id: String,
    pub name: String,
    pub values: Vec<String>,
    value_index: HashMap<String, u32>,
    pub filterable: bool,
}

impl Property {
    pub fn value(&self, text: &str) -> Option<u32> {
        self.value_index.get(text).copied()
    }
}

#[derive(Debug)]
pub struct Snapshot {
    pub version: i64,
    pub sections: Vec<Section>,
    section_index: HashMap<String, u32>,
    /// Sections without a parent, in catalog order.
    pub roots: Vec<u32>,
    /// Only products that can be sold: with at least one priced offer.
    pub products: Vec<Product>,
    product_index: HashMap<String, u32>,
    pub properties: Vec<Property>,
    property_index: HashMap<String, u32>,
    /// Product indexes in each sort order (ties broken by id, so the order is total).
    orders: Vec<Vec<u32>>,
    pub search: super::search::Index,
    /// Rendered JSON answers of this version by request: a catalog is read far more often
    /// than it changes, and a new version brings a new, empty cache.
    /// Bounded by entries and bytes (answer_cache.rs): endless distinct URLs cost CPU only.
    responses: super::answer_cache::AnswerCache,
    /// This version's ready answers (ready.rs), set before the snapshot is served.
    pub(crate) ready: std::sync::OnceLock<super::ready::Ready>,
}

impl Snapshot {
    pub fn empty() -> Self {
        Self::build(0, Vec::new(), Vec::new())
    }

    pub fn section(&self, id: &str) -> Option<u32> {
        self.section_index.get(id).copied()
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.product_index
            .get(id)
            .map(|&i| &self.products[i as usize])
    }

    pub fn product_index(&self, id: &str) -> Option<u32> {
        self.product_index.get(id).copied()
    }

    pub fn property(&self, id: &str) -> Option<u32> {
        self.property_index.get(id).copied()
    }

    pub fn cached_response(&self, key: &str) -> Option<bytes::Bytes> {
        self.responses.get(key)
    }

    pub fn cache_response(&self, key: String, body: bytes::Bytes) {
        self.responses.insert(key, body);
    }

    /// The answers kept for this version (entries and their weight), and their bounds.
    pub fn answer_cache(&self) -> &super::answer_cache::AnswerCache {
        &self.responses
    }

    pub fn order(&self, key: SortKey) -> &[u32] {
        &self.orders[key.index()]
    }

    /// Compares two products in a sort order; total (ids break ties).
    pub fn compare(&self, key: SortKey, a: u32, b: u32) -> std::cmp::Ordering {
        let (pa, pb) = (&self.products[a as usize], &self.products[b as usize]);
        let primary = match key {
            SortKey::Popular => pb.popularity.cmp(&pa.popularity),
            SortKey::PriceAsc => pa.min_price.cmp(&pb.min_price),
            SortKey::PriceDesc => pb.min_price.cmp(&pa.min_price),
            SortKey::New => pb.created_at.cmp(&pa.created_at),
            SortKey::Name => pa.name_key.cmp(&pb.name_key),
        };
        primary.then_with(|| pa.id.cmp(&pb.id))
    }

    /// Reads the published catalog in one consistent read.
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let mut tx = store.pool().begin().await?;
        if store.backend() == Backend::Postgres {
            // One snapshot for all the statements below: never half of two versions.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let version: i64 =
            sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM catalog_versions")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let sections =
            sqlx::query("SELECT id, parent_id, name, sort FROM sections ORDER BY sort, id")
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|r| -> Result<RawSection, sqlx::Error> {
                    Ok(RawSection {
                        id: r.try_get("id")?,
                        parent: r.try_get("parent_id")?,
                        name: r.try_get("name")?,
                        sort: r.try_get("sort")?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
        let mut offers: HashMap<String, Vec<Offer>> = HashMap::new();
        let mut strings = Interner::default();
        // Row by row: materialising 300k rows at once would double the memory of the model.
        let mut rows = sqlx::query("SELECT id, product_id, name, characteristics, price, currency, stock_milli, old_price FROM offers ORDER BY id")
            .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let characteristics: Option<String> = r.try_get("characteristics")?;
            let characteristics = characteristics
                .and_then(|c| serde_json::from_str::<Vec<serde_json::Value>>(&c).ok())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| {
                    Some((
                        strings.get(v["name"].as_str()?),
                        strings.get(v["value"].as_str()?),
                    ))
                })
                .collect();
            let product_id: String = r.try_get("product_id")?;
            offers.entry(product_id).or_default().push(Offer {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                characteristics,
                price: r.try_get("price")?,
                currency: r
                    .try_get::<Option<String>, _>("currency")?
                    .unwrap_or_else(|| "RUB".into()),
                stock_milli: r.try_get::<Option<i64>, _>("stock_milli")?.unwrap_or(0),
                old_price: r.try_get("old_price")?,
            });
        }
        drop(rows);
        let mut products = Vec::new();
        let mut rows = sqlx::query(
            "SELECT id, article, barcode, name, description, section_id, unit, properties, images, popularity, created_at \
             FROM products ORDER BY id",
        )
        .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let id: String = r.try_get("id")?;
            let Some(product_offers) = offers.remove(&id) else {
                continue;
            };
            let properties: String = r.try_get("properties")?;
            let images: String = r.try_get("images")?;
            let images: Vec<String> = serde_json::from_str(&images).unwrap_or_default();
            products.push((
                RawProduct {
                    id,
                    article: r.try_get("article")?,
                    barcode: r.try_get("barcode")?,
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    section: r.try_get("section_id")?,
                    unit: r.try_get("unit")?,
                    properties: serde_json::from_str(&properties).unwrap_or_default(),
                    images: images.iter().map(|h| strings.get(h)).collect(),
                    popularity: r.try_get("popularity")?,
                    created_at: r.try_get("created_at")?,
                },
                product_offers,
            ));
        }
        drop(rows);
        tx.commit().await?;
        // The build is CPU work (sorting, the search index): off the async workers.
        let snapshot =
            tokio::task::spawn_blocking(move || Self::build(version, sections, products))
                .await
                .map_err(|e| {
                    StoreError::Query(sqlx::Error::Protocol(format!(
                        "catalog snapshot build failed: {e}"
                    )))
                })?;
        Ok(snapshot)
    }

    fn build(
        version: i64,
        raw_sections: Vec<RawSection>,
        raw_products: Vec<(RawProduct, Vec<Offer>)>,
    ) -> Self {
        let section_index: HashMap<String, u32> = raw_sections
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i as u32))
            .collect();
        let parent_of: Vec<Option<u32>> = raw_sections
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parent
                    .as_ref()
                    .and_then(|p| section_index.get(p).copied())
                    .filter(|&p| p != i as u32)
            })
            .collect();
        let mut sections: Vec<Section> = raw_sections
            .into_iter()
            .zip(&parent_of)
            .map(|(s, &parent)| Section {
                id: s.id,
                parent,
                name: s.name,
                sort: s.sort,
                children: Vec::new(),
                product_count: 0,
                products: Vec::new(),
            })
            .collect();
        let mut roots = Vec::new();
        for (i, parent) in parent_of.iter().enumerate() {
            match parent {
                Some(p) => sections[*p as usize].children.push(i as u32),
                None => roots.push(i as u32),
            }
        }
        // A section and its ancestors; a cycle in bad data stops at the section count.
        let path_of = |start: u32| {
            let mut path = vec![start];
            let mut at = start;
            while let Some(p) = parent_of[at as usize] {
                if path.len() > parent_of.len() || path.contains(&p) {
                    break;
                }
                path.push(p);
                at = p;
            }
            path
        };

        let mut properties: Vec<Property> = Vec::new();
        let mut property_index: HashMap<String, u32> = HashMap::new();
        let mut products = Vec::with_capacity(raw_products.len());
        for (raw, offers) in raw_products {
            let priced: Vec<&Offer> = offers.iter().filter(|o| o.price.is_some()).collect();
            let (Some(min_price), Some(max_price)) = (
                priced.iter().filter_map(|o| o.price).min(),
                priced.iter().filter_map(|o| o.price).max(),
            ) else {
                continue; // nothing to sell
            };
            let currency = priced
                .first()
                .map(|o| o.currency.clone())
                .unwrap_or_else(|| "RUB".into());
            let section = raw
                .section
                .as_ref()
                .and_then(|s| section_index.get(s).copied());
            let mut facet_values = Vec::new();
            for p in &raw.properties {
                let (Some(id), Some(name)) = (p["id"].as_str(), p["name"].as_str()) else {
                    continue;
                };
                let values: Vec<String> = p["values"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                if values.is_empty() {
                    continue;
                }
                let pi = *property_index.entry(id.to_string()).or_insert_with(|| {
                    properties.push(Property {
                        id: id.to_string(),
                        name: name.to_string(),
                        values: Vec::new(),
                        value_index: HashMap::new(),
                        filterable: true,
                    });
                    (properties.len() - 1) as u32
                });
                let prop = &mut properties[pi as usize];
                let vis: Vec<u32> = values
                    .iter()
                    .map(|v| {
                        *prop.value_index.entry(v.clone()).or_insert_with(|| {
                            prop.values.push(v.clone());
                            (prop.values.len() - 1) as u32
                        })
                    })
                    .collect();
                facet_values.push((pi, vis));
            }
            let in_stock = offers.iter().any(Offer::in_stock);
            products.push(Product {
                name_key: raw.name.to_lowercase(),
                id: raw.id,
                name: raw.name,
                article: raw.article,
                barcode: raw.barcode,
                description: raw.description,
                section,
                section_path: section.map(path_of).unwrap_or_default(),
                unit: raw.unit,
                facet_values,
                images: raw.images,
                popularity: raw.popularity,
                created_at: raw.created_at,
                min_price,
                max_price,
                currency,
                in_stock,
                offers,
            });
        }
        for p in &mut properties {
            p.filterable = p.values.len() <= MAX_FACET_VALUES;
        }
        for (i, product) in products.iter().enumerate() {
            for &s in &product.section_path {
                sections[s as usize].product_count += 1;
                sections[s as usize].products.push(i as u32);
            }
        }
        let product_index = products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i as u32))
            .collect();
        let search = super::search::Index::build(products.iter().map(|p| {
            super::search::Doc {
                name: p.name.clone(),
                article: p.article.clone(),
                barcode: p.barcode.clone(),
                properties: p
                    .facet_values
                    .iter()
                    .flat_map(|(pi, vs)| {
                        vs.iter()
                            .map(|&v| properties[*pi as usize].values[v as usize].clone())
                    })
                    .collect(),
                description: p.description.clone(),
                popularity: p.popularity,
            }
        }));
        let mut snapshot = Snapshot {
            version,
            sections,
            section_index,
            roots,
            products,
            product_index,
            properties,
            property_index,
            orders: Vec::new(),
            search,
            responses: super::answer_cache::AnswerCache::default(),
            ready: std::sync::OnceLock::new(),
        };
        let n = snapshot.products.len() as u32;
        snapshot.orders = SortKey::ALL
            .iter()
            .map(|&key| {
                let mut order: Vec<u32> = (0..n).collect();
                order.sort_by(|&a, &b| snapshot.compare(key, a, b));
                order
            })
            .collect();
        snapshot
    }
}

/// The current snapshot, shared by all requests of this process, and its refresh.
pub struct CatalogReader {
    current: ArcSwap<Snapshot>,
    store: Store,
    wake: Notify,
}

impl CatalogReader {
    pub async fn load(store: Store) -> Result<Arc<Self>, StoreError> {
        let snapshot = match Snapshot::load(&store).await {
            Ok(s) => s,
            Err(e) => {
                // Serve (health, readiness) without a catalog; the refresh loop keeps trying.
                tracing::warn!(error = %e, "catalog not loaded yet; serving an empty one until it is");
                let mut empty = Snapshot::empty();
                empty.version = -1;
                empty
            }
        };
        tracing::info!(
            version = snapshot.version,
            products = snapshot.products.len(),
            "catalog loaded"
        );
        let snapshot = Arc::new(snapshot);
        super::ready::prepare(&snapshot).await;
        release_freed_memory();
        Ok(Arc::new(Self {
            current: ArcSwap::new(snapshot),
            store,
            wake: Notify::new(),
        }))
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Ask for a reload now (after an import published by this process).
    pub fn published(&self) {
        self.wake.notify_one();
    }

    /// Reloads when the published version changes: every `interval`, or at once after
    /// [`CatalogReader::published`]. Other instances' publishes are seen by the poll.
    pub async fn refresh_loop(
        self: Arc<Self>,
        interval: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "catalog refresh failed; serving the previous version");
            }
        }
    }

    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let published = super::current_version(&self.store).await?;
        if published == self.current.load().version {
            return Ok(false);
        }
        let started = std::time::Instant::now();
        let snapshot = Snapshot::load(&self.store).await?;
        tracing::info!(
            version = snapshot.version,
            products = snapshot.products.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "catalog snapshot swapped"
        );
        // The new version's ready answers come with it, in the same swap.
        let snapshot = Arc::new(snapshot);
        super::ready::prepare(&snapshot).await;
        self.current.store(snapshot);
        release_freed_memory();
        Ok(true)
    }
}

/// Building a snapshot allocates far more temporarily (rows, JSON) than it keeps; glibc holds
/// on to freed memory in per-thread arenas unless asked to give it back.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// One shared copy of each repeated string.
#[derive(Default)]
struct Interner(std::collections::HashSet<Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(existing) = self.0.get(s) {
            return existing.clone();
        }
        let new: Arc<str> = Arc::from(s);
        self.0.insert(new.clone());
        new
    }
}

struct RawSection {
    id: String,
    parent: Option<String>,
    name: String,
    sort: i64,
}

struct RawProduct {
    id: String,
    article: Option<String>,
    barcode: Option<String>,
    name: String,
    description: Option<String>,
    section: Option<String>,
    unit: Option<String>,
    properties: Vec<serde_json::Value>,
    images: Vec<Arc<str>>,
    popularity: i64,
    created_at: i64,
}

//! The catalog from Bitrix: sections, product properties, products (name, description,
//! section, property values, stock), variations (SKUs) and the configured price type, read over
//! REST and published as one catalog version through the same importer as a CommerceML package
//! from 1C — the sync writes the package (an `import.xml` and an `offers.xml`) and hands it to
//! [`crate::catalog::import::Importer`], so both sources share the atomic publish, the search
//! index and the served snapshot.
//!
//! Both kinds first read the classifier (sections, properties, list values) in one batch: the
//! product list must name the property fields it selects. A full sync then reads everything
//! with the fewest requests offset paging allows ([`bitrix::Client::list_many`]: first pages
//! of all lists in one batch, then 50 pages a request) and replaces the catalog: what Bitrix no
//! longer has goes. An incremental sync reads only what changed since the last one, by ID
//! cursor ([`bitrix::Client::list_by_id_many`]), and publishes it as changes. Its cursor per
//! list is the latest `timestampX` seen plus the ids seen at that second: it asks for rows
//! stamped after that second and for rows of that second other than those ids (`!@id`), so a
//! change in the same second as the last sync is neither missed nor read twice.
//!
//! Pictures ([`super::pictures`]) cost a call per product, so they are listed only for
//! products whose picture files changed, and for those whose pictures failed last time (read
//! again whole, by id, in an incremental sync); the others keep theirs.

mod cursor;
mod package;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::{Value, json};

use self::cursor::{Cursor, MAX_BOUNDARY_IDS, load_cursor, save_cursor};
use self::package::{Lists, id_text, parent_of, write_package};
use super::BitrixError;
use crate::config::Config;
use crate::store::Store;

const PRODUCTS_CURSOR: &str = "sync_products_since";
const PRICES_CURSOR: &str = "sync_prices_since";
const VARIATIONS_CURSOR: &str = "sync_variations_since";

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncReport {
    pub full: bool,
    pub version: i64,
    pub sections: u64,
    pub products: u64,
    /// Variations (SKUs) read, with `bitrix.offers_iblock_id`.
    pub variations: u64,
    pub prices: u64,
    pub properties: u64,
    /// Products whose pictures were listed, picture files fetched, products whose pictures
    /// are to be tried again next time, and what went wrong (the first few).
    pub pictures_listed: u64,
    pub pictures_downloaded: u64,
    pub pictures_retry: u64,
    pub warnings: Vec<String>,
    /// HTTP requests to Bitrix (a batch counts once), and the fewest possible for a full sync.
    pub requests: u64,
    pub minimum_requests: u64,
    pub elapsed_ms: u64,
}

/// Product properties synced (their values are selected with the products).
const MAX_PROPERTIES: usize = 60;

const PRODUCT_FIELDS: &[&str] = &[
    "id",
    "iblockId",
    "name",
    "code",
    "xmlId",
    "active",
    "iblockSectionId",
    "detailText",
    "previewText",
    "quantity",
    "timestampX",
    "type",
    "available",
    "canBuyZero",
    "quantityTrace",
    "vatId",
    "dateCreate",
];

/// How a sync pass ended.
enum Pass {
    Done(SyncReport),
    /// Elements came back (reactivated, or active again after being left out) that the
    /// changes cannot bring whole: their prices and variations did not change, so they were
    /// not read. A full sync reads them with everything they have.
    Returned(usize),
}

/// Syncs the catalog; `full` replaces it, else only changes since the last sync are read (a
/// first sync is always full). `progress` gets the number of items read so far.
///
/// A product or variation deactivated in Bitrix leaves the catalog at the next changes
/// sync (with its offers). Activated again, only its own row is among the changes, so the
/// changes sync turns into a full one, which brings it back whole: offers, prices, properties
/// and pictures. It is told from a product created since the last sync by `dateCreate`.
pub async fn sync(
    client: &bitrix::Client,
    config: &Config,
    store: &Store,
    full: bool,
    mut progress: impl FnMut(u64) + Send,
) -> Result<SyncReport, BitrixError> {
    match sync_pass(client, config, store, full, &mut progress).await? {
        Pass::Done(report) => Ok(report),
        Pass::Returned(n) => {
            tracing::info!(
                elements = n,
                "Bitrix: elements active again; a full sync brings them back whole"
            );
            match sync_pass(client, config, store, true, &mut progress).await? {
                Pass::Done(report) => Ok(report),
                Pass::Returned(_) => Err(BitrixError::Other(
                    "a full sync asked for a full sync".into(),
                )),
            }
        }
    }
}

/// The catalog module's photos property of a block (`MORE_PHOTO`, a file property): its
/// values name an element's more photos.
fn more_photo_field(properties: &[Value]) -> Option<String> {
    properties
        .iter()
        .find(|p| {
            p.get("code").and_then(Value::as_str) == Some("MORE_PHOTO")
                && p.get("propertyType").and_then(Value::as_str) == Some("F")
        })
        .and_then(|p| id_text(p.get("id")))
        .map(|id| format!("property{id}"))
}

const PRODUCT_KNOWN: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM products WHERE id = $1";
const OFFER_KNOWN: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM offers WHERE id = $1";

/// Active elements read in the changes, created before the last sync, that the catalog does
/// not have: they came back, and the changes alone cannot publish them whole.
async fn returned(
    store: &Store,
    products: &[Value],
    variations: &[Value],
    products_since: i64,
    variations_since: i64,
) -> Result<usize, BitrixError> {
    let old = |row: &Value, since: i64| {
        row.get("dateCreate")
            .and_then(Value::as_str)
            .and_then(bitrix::time::parse)
            .is_some_and(|created| created <= since)
    };
    let mut candidates: Vec<(String, &str)> = Vec::new();
    for p in products {
        if super::offers::is_active(p)
            && old(p, products_since)
            && let Some(id) = id_text(p.get("id"))
        {
            candidates.push((id, PRODUCT_KNOWN));
        }
    }
    for v in variations {
        if super::offers::is_active(v)
            && old(v, variations_since)
            && let (Some(id), Some(parent)) = (id_text(v.get("id")), parent_of(v))
        {
            // Only under a product the catalog has: a variation of a product left out stays out.
            let parent_known: i64 = sqlx::query_scalar(PRODUCT_KNOWN)
                .bind(&parent)
                .fetch_one(store.pool())
                .await?;
            if parent_known > 0 {
                candidates.push((format!("{parent}#{id}"), OFFER_KNOWN));
            }
        }
    }
    let mut back = 0;
    for (id, sql) in candidates {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(&id)
            .fetch_one(store.pool())
            .await?;
        if n == 0 {
            back += 1;
        }
    }
    Ok(back)
}

async fn sync_pass(
    client: &bitrix::Client,
    config: &Config,
    store: &Store,
    full: bool,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Pass, BitrixError> {
    let cfg = &config.bitrix;
    if cfg.catalog_iblock_id <= 0 {
        return Err(BitrixError::Other(
            "bitrix.catalog_iblock_id is not set (the catalog's information block id)".into(),
        ));
    }
    let started = Instant::now();
    let requests_before = client.requests();
    let products_cursor = load_cursor(store, PRODUCTS_CURSOR).await?;
    let prices_cursor = load_cursor(store, PRICES_CURSOR).await?;
    let variations_cursor = load_cursor(store, VARIATIONS_CURSOR).await?;
    let pictures_on = cfg.pictures;
    let (pictures_synced, retry) = if pictures_on {
        super::pictures::pending(store).await?
    } else {
        (true, Vec::new())
    };
    // Pictures just turned on: every product's must be looked at once.
    let full = full
        || products_cursor.is_none()
        || prices_cursor.is_none()
        || (cfg.offers_iblock_id.is_some() && variations_cursor.is_none())
        || !pictures_synced
        || retry.len() > MAX_BOUNDARY_IDS;
    let sections_params = json!({
        "select": ["id", "name", "iblockSectionId", "xmlId", "sort"],
        "filter": {"iblockId": cfg.catalog_iblock_id},
        "order": {"id": "ASC"},
    });
    let products_filter = json!({"iblockId": cfg.catalog_iblock_id, "active": "Y"});
    // Changes include deactivated elements: they leave the catalog at once.
    let changed_filter = json!({"iblockId": cfg.catalog_iblock_id});
    let price_types = super::offers::PriceTypes::of(config);
    let prices_filter = json!({"@catalogGroupId": price_types.all()});
    let (mut sections, mut products, mut prices) = (Vec::new(), Vec::new(), Vec::new());
    let mut variations = Vec::new();
    let mut variation_fields: Vec<String> = [
        "id",
        "iblockId",
        "name",
        "xmlId",
        "active",
        "parentId",
        "quantity",
        "timestampX",
        "available",
        "canBuyZero",
        "quantityTrace",
        "vatId",
        "dateCreate",
    ]
    .iter()
    .map(|f| f.to_string())
    .collect();
    let mut read = 0u64;
    // First the classifier: sections, and the product properties whose values the product
    // list must select (few: one request, whatever the catalog's size).
    let (mut properties, mut enums) = (Vec::new(), Vec::new());
    let (mut offer_properties, mut vats) = (Vec::new(), Vec::new());
    let mut classifier = vec![
        ("catalog.section.list", sections_params),
        (
            "catalog.productProperty.list",
            json!({"select": ["id", "name", "code", "propertyType", "multiple", "active"],
                "filter": {"iblockId": cfg.catalog_iblock_id, "active": "Y"}, "order": {"id": "ASC"}}),
        ),
        (
            "catalog.productPropertyEnum.list",
            json!({"select": ["id", "propertyId", "value"], "order": {"id": "ASC"}}),
        ),
        (
            "catalog.vat.list",
            json!({"select": ["id", "name", "rate"], "order": {"id": "ASC"}}),
        ),
    ];
    if let Some(offers) = cfg.offers_iblock_id {
        classifier.push((
            "catalog.productProperty.list",
            json!({"select": ["id", "name", "code", "propertyType", "userType", "multiple", "active"],
                "filter": {"iblockId": offers, "active": "Y"}, "order": {"id": "ASC"}}),
        ));
    }
    let sizes = client
        .list_many(&classifier, |i, page| match i {
            0 => sections.extend(page),
            1 => properties.extend(page),
            2 => enums.extend(page),
            3 => vats.extend(page),
            _ => offer_properties.extend(page),
        })
        .await?;
    let (sku_properties, _) = super::offers::sku_properties(&offer_properties);
    variation_fields.extend(sku_properties.iter().map(|p| format!("property{}", p.id)));
    // The offers block's photos property, as the catalog's (variations' pictures).
    let offer_more_photo = more_photo_field(&offer_properties);
    if pictures_on {
        variation_fields.extend(super::pictures::fields(offer_more_photo.as_deref()));
    }
    let variations_params = |filter: Value| json!({"select": variation_fields, "filter": filter});
    let vat_rates = super::offers::vat_rates(&vats);
    let mut minimum = bitrix::Client::minimum_requests(&sizes);
    // The catalog module's photos property: its values name the product's more photos.
    let more_photo = more_photo_field(&properties);
    // Files and links to other blocks are not shown as text.
    properties.retain(|p| {
        matches!(
            p.get("propertyType").and_then(Value::as_str),
            Some("S" | "N" | "L")
        )
    });
    properties.truncate(MAX_PROPERTIES);
    let mut product_fields: Vec<String> = PRODUCT_FIELDS.iter().map(|f| f.to_string()).collect();
    product_fields.extend(
        properties
            .iter()
            .filter_map(|p| id_text(p.get("id")))
            .map(|id| format!("property{id}")),
    );
    if pictures_on {
        product_fields.extend(super::pictures::fields(more_photo.as_deref()));
    }
    if full {
        let mut lists = vec![
            (
                "catalog.product.list",
                json!({"select": product_fields, "filter": products_filter, "order": {"id": "ASC"}}),
            ),
            (
                "catalog.price.list",
                json!({"select": ["id", "productId", "catalogGroupId", "price", "currency", "timestampX"],
                    "filter": prices_filter, "order": {"id": "ASC"}}),
            ),
        ];
        if let Some(offers) = cfg.offers_iblock_id {
            let mut p = variations_params(json!({"iblockId": offers, "active": "Y"}));
            p["order"] = json!({"id": "ASC"});
            lists.push(("catalog.product.offer.list", p));
        }
        let sizes = client
            .list_many(&lists, |i, page| {
                read += page.len() as u64;
                progress(read);
                match i {
                    0 => products.extend(page),
                    1 => prices.extend(page),
                    _ => variations.extend(page),
                }
            })
            .await?;
        minimum += bitrix::Client::minimum_requests(&sizes);
    } else {
        minimum = 0;
        // Each list: rows stamped after the cursor's second, and rows of that second it has
        // not seen (`!@id`): exactly what changed, first pages of all in one batch.
        let pc = products_cursor.clone().unwrap_or_default();
        let rc = prices_cursor.clone().unwrap_or_default();
        let vc = variations_cursor.clone().unwrap_or_default();
        let mut lists: Vec<(&str, Value, &str)> = Vec::new();
        let mut kinds: Vec<u8> = Vec::new();
        let mut add = |kind: u8, method: &'static str, base: Value, cursor: &Cursor| {
            let at = bitrix::time::format(cursor.ts);
            let with = |extra: Value| {
                let mut p = base.clone();
                if let (Some(Value::Object(f)), Value::Object(e)) = (p.get_mut("filter"), extra) {
                    f.extend(e);
                }
                p
            };
            if cursor.ids.len() > MAX_BOUNDARY_IDS {
                lists.push((method, with(json!({">=timestampX": at})), "id"));
                kinds.push(kind);
                return;
            }
            lists.push((method, with(json!({">timestampX": at})), "id"));
            kinds.push(kind);
            let boundary = if cursor.ids.is_empty() {
                json!({"=timestampX": at})
            } else {
                json!({"=timestampX": at, "!@id": cursor.ids})
            };
            lists.push((method, with(boundary), "id"));
            kinds.push(kind);
        };
        add(
            0,
            "catalog.product.list",
            json!({"select": product_fields, "filter": changed_filter}),
            &pc,
        );
        if let Some(offers) = cfg.offers_iblock_id {
            add(
                1,
                "catalog.product.offer.list",
                variations_params(json!({"iblockId": offers})),
                &vc,
            );
        }
        add(
            2,
            "catalog.price.list",
            json!({"select": ["id", "productId", "catalogGroupId", "price", "currency", "timestampX"], "filter": prices_filter}),
            &rc,
        );
        if pictures_on && !retry.is_empty() {
            // Products whose pictures failed last time, read again whole (the package
            // rewrites a product with everything it has).
            let mut filter = products_filter.clone();
            filter["@id"] = json!(retry);
            lists.push((
                "catalog.product.list",
                json!({"select": product_fields, "filter": filter}),
                "id",
            ));
            kinds.push(3);
        }
        client
            .list_by_id_many(&lists, |i, page| {
                read += page.len() as u64;
                progress(read);
                match kinds[i] {
                    0 => products.extend(page.into_iter().filter(|p| !pc.seen(p))),
                    1 => variations.extend(page.into_iter().filter(|p| !vc.seen(p))),
                    2 => prices.extend(page.into_iter().filter(|p| !rc.seen(p))),
                    _ => products.extend(page),
                }
            })
            .await?;
        // A product both changed and retried was read twice.
        let mut once = HashSet::new();
        products.retain(|p| once.insert(id_text(p.get("id"))));
        let back = returned(
            store,
            &products,
            &variations,
            products_cursor.as_ref().map_or(0, |c| c.ts),
            variations_cursor.as_ref().map_or(0, |c| c.ts),
        )
        .await?;
        if back > 0 {
            return Ok(Pass::Returned(back));
        }
        if pictures_on {
            // A variation's photo changed: its product's gallery is read again whole.
            let parents = super::pictures::parents_to_read(
                store,
                &products,
                &variations,
                offer_more_photo.as_deref(),
            )
            .await?;
            if !parents.is_empty() {
                let lists: Vec<(&str, Value, &str)> = parents
                    .chunks(MAX_BOUNDARY_IDS)
                    .map(|ids| {
                        let mut filter = products_filter.clone();
                        filter["@id"] = json!(ids);
                        (
                            "catalog.product.list",
                            json!({"select": product_fields, "filter": filter}),
                            "id",
                        )
                    })
                    .collect();
                let mut again = Vec::new();
                client
                    .list_by_id_many(&lists, |_, page| again.extend(page))
                    .await?;
                read += again.len() as u64;
                products.extend(again);
            }
        }
        if price_types.several() {
            // The lowest price needs every type's price of an element whose price changed.
            let touched: Vec<i64> = prices
                .iter()
                .filter_map(|p| p.get("productId").and_then(bitrix::as_i64))
                .chain(
                    products
                        .iter()
                        .chain(&variations)
                        .filter_map(|p| p.get("id").and_then(bitrix::as_i64)),
                )
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if !touched.is_empty() {
                let lists: Vec<(&str, Value, &str)> = touched
                    .chunks(MAX_BOUNDARY_IDS)
                    .map(|ids| {
                        let mut filter = prices_filter.clone();
                        filter["@productId"] = json!(ids);
                        (
                            "catalog.price.list",
                            json!({"select": ["id", "productId", "catalogGroupId", "price", "currency", "timestampX"],
                                "filter": filter}),
                            "id",
                        )
                    })
                    .collect();
                let mut siblings = Vec::new();
                client
                    .list_by_id_many(&lists, |_, page| siblings.extend(page))
                    .await?;
                let mut once = HashSet::new();
                prices.extend(siblings);
                prices.retain(|p| once.insert(id_text(p.get("id"))));
            }
        }
    }
    let mut pc = if full {
        Cursor::default()
    } else {
        products_cursor.unwrap_or_default()
    };
    pc.advance(&products);
    let mut rc = if full {
        Cursor::default()
    } else {
        prices_cursor.unwrap_or_default()
    };
    rc.advance(&prices);
    let mut vc = if full {
        Cursor::default()
    } else {
        variations_cursor.unwrap_or_default()
    };
    vc.advance(&variations);

    // Prices that changed alone, for variations not read now: their offer ids as stored.
    let mut stored_offer: HashMap<String, String> = HashMap::new();
    if !full {
        let read_ids: HashSet<String> = products
            .iter()
            .chain(&variations)
            .filter_map(|p| id_text(p.get("id")))
            .collect();
        for p in &prices {
            let Some(id) = id_text(p.get("productId")) else {
                continue;
            };
            if read_ids.contains(&id) {
                continue;
            }
            let row = sqlx::query("SELECT id FROM offers WHERE id = $1 OR id LIKE $2 LIMIT 1")
                .bind(&id)
                .bind(format!("%#{id}"))
                .fetch_optional(store.pool())
                .await?;
            if let Some(r) = row {
                stored_offer.insert(id, sqlx::Row::try_get(&r, 0)?);
            }
        }
    }

    // Deactivated products leave the catalog; their pictures are not read.
    let active: Vec<Value> = products
        .iter()
        .filter(|p| super::offers::is_active(p))
        .cloned()
        .collect();
    let mut pictures = if pictures_on {
        let pictures = super::pictures::sync(
            client,
            store,
            config,
            &active,
            &variations,
            more_photo.as_deref(),
            offer_more_photo.as_deref(),
            full,
            &retry,
            &mut |n| progress(read + n),
        )
        .await?;
        if full {
            minimum += pictures.minimum_requests;
        }
        pictures
    } else {
        super::pictures::forget(store).await?;
        super::pictures::Pictures::default()
    };

    let dir = tempfile::tempdir().map_err(|e| BitrixError::Other(e.to_string()))?;
    write_package(
        dir.path(),
        config,
        full,
        &Lists {
            sections: &sections,
            properties: &properties,
            enums: &enums,
            products: &products,
            variations: &variations,
            prices: &prices,
            stored_offer: &stored_offer,
            pictures: &pictures.by_product,
            price_types: &price_types,
            sku_properties: &sku_properties,
        },
    )?;
    // The package names its own price types: the one paid, and the struck-through one.
    let mut catalog_config = config.catalog.clone();
    catalog_config.retail_price_type = super::offers::SITE_PRICE.into();
    catalog_config.old_price_type = super::offers::OLD_PRICE.into();
    let importer = crate::catalog::import::Importer::new(store, &catalog_config)
        .with_known_pictures(std::mem::take(&mut pictures.known));
    let files = vec![dir.path().join("import.xml"), dir.path().join("offers.xml")];
    let source = if full {
        "bitrix:full"
    } else {
        "bitrix:changes"
    };
    let report = importer
        .import_files(&files, dir.path(), source)
        .await
        .map_err(|e| BitrixError::Other(format!("publishing the catalog: {e}")))?;
    save_vat(store, &products, &variations, &vat_rates).await?;
    save_cursor(store, PRODUCTS_CURSOR, &pc).await?;
    save_cursor(store, PRICES_CURSOR, &rc).await?;
    save_cursor(store, VARIATIONS_CURSOR, &vc).await?;
    if pictures_on {
        super::pictures::save(store, &pictures).await?;
    }
    Ok(Pass::Done(SyncReport {
        full,
        version: report.version,
        sections: sections.len() as u64,
        products: products.len() as u64,
        variations: variations.len() as u64,
        prices: prices.len() as u64,
        properties: properties.len() as u64,
        pictures_listed: pictures.listed,
        pictures_downloaded: pictures.downloaded,
        pictures_retry: pictures.retry.len() as u64,
        warnings: pictures.warnings,
        requests: client.requests() - requests_before,
        minimum_requests: minimum,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }))
}

/// The VAT each offer read now has (`offer_vat`), for receipts.
async fn save_vat(
    store: &Store,
    products: &[Value],
    variations: &[Value],
    rates: &HashMap<i64, String>,
) -> Result<(), BitrixError> {
    let mut conn = store.pool().acquire().await?;
    let rows = products
        .iter()
        .filter_map(|p| Some((id_text(p.get("id"))?, p)))
        .chain(
            variations
                .iter()
                .filter_map(|v| Some((format!("{}#{}", parent_of(v)?, id_text(v.get("id"))?), v))),
        );
    for (offer, row) in rows {
        match row
            .get("vatId")
            .and_then(bitrix::as_i64)
            .and_then(|v| rates.get(&v))
        {
            Some(rate) => {
                sqlx::query(
                    "INSERT INTO offer_vat (offer_id, vat) VALUES ($1, $2) \
                     ON CONFLICT (offer_id) DO UPDATE SET vat = excluded.vat",
                )
                .bind(&offer)
                .bind(rate)
                .execute(&mut *conn)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM offer_vat WHERE offer_id = $1")
                    .bind(&offer)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(())
}

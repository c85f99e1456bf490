//! Fresh stock and activity from Bitrix, between catalog syncs.
//!
//! Bitrix's REST events for the catalog are `CATALOG.PRODUCT.ON.ADD|UPDATE|DELETE` (products,
//! variations, services; `data[FIELDS][ID]` and `TYPE`) and `CATALOG.PRICE.ON.ADD|UPDATE|DELETE`
//! (`data[FIELDS][ID]`: the price's id). There is no REST event for warehouse stock
//! (`OnStoreProductUpdate` is a PHP event only). `vitrina bitrix setup` binds them to
//! `/bitrix/events`; an event only marks its element (`bitrix_dirty`) or asks for a changes
//! sync (prices, new products), and the schedules read the marked elements' stock and
//! activity within seconds, one request for up to 2,500 of them, and publish only what
//! changed. Events can be lost and stock moved by orders may not raise one, so the schedules
//! also poll every element's stock and activity (`bitrix.stock_poll_interval`, quantities and
//! flags only: 20k products are 400 list pages, 9 requests), which also finds deleted ones.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sqlx::Row;

use super::offers::{STOCK_FIELDS, is_active, stock};
use super::{Bitrix, BitrixError, state_set};
use crate::state::AppState;
use crate::store::now_ms;

/// Catalog events vitrina binds and handles.
pub const EVENTS: &[&str] = &[
    "CATALOG.PRODUCT.ON.ADD",
    "CATALOG.PRODUCT.ON.UPDATE",
    "CATALOG.PRODUCT.ON.DELETE",
    "CATALOG.PRICE.ON.ADD",
    "CATALOG.PRICE.ON.UPDATE",
    "CATALOG.PRICE.ON.DELETE",
];

/// Set when an event asks for a changes sync (a price, a new product).
pub(super) const SYNC_REQUESTED: &str = "sync_requested";

/// Elements read a round: 50 commands of 50.
const IDS_PER_ROUND: usize = 2_500;

pub fn is_catalog_event(event: &str) -> bool {
    EVENTS.iter().any(|e| e.eq_ignore_ascii_case(event))
}

fn reply(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(json!({ "status": code }))).into_response()
}

/// A catalog event at `/bitrix/events` (token already checked): marked for the schedules.
pub async fn receive(state: &AppState, event: &str, fields: &HashMap<String, String>) -> Response {
    let (Some(id), Some(ts)) = (
        fields
            .get("data[FIELDS][ID]")
            .and_then(|v| v.parse::<i64>().ok()),
        fields.get("ts").and_then(|v| v.parse::<i64>().ok()),
    ) else {
        return reply(StatusCode::BAD_REQUEST, "malformed");
    };
    let now = now_ms() / 1000;
    let max_age = state.config.bitrix.event_max_age.as_secs() as i64;
    if ts < now - max_age || ts > now + 300 {
        tracing::warn!(
            event,
            id,
            ts,
            "Bitrix event refused: outside the accepted time window"
        );
        return reply(StatusCode::FORBIDDEN, "stale");
    }
    let event = event.to_uppercase();
    let store = &state.store;
    let result = if event.starts_with("CATALOG.PRICE.") || event == "CATALOG.PRODUCT.ON.ADD" {
        // A price event names the price, not the element: the changes sync reads it (by its
        // change date), as it reads a new product with everything it has.
        state_set(store, SYNC_REQUESTED, "1").await
    } else {
        let deleted = i64::from(event == "CATALOG.PRODUCT.ON.DELETE");
        sqlx::query(
            "INSERT INTO bitrix_dirty (element_id, deleted, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (element_id) DO UPDATE SET deleted = excluded.deleted, received_at = excluded.received_at",
        )
        .bind(id)
        .bind(deleted)
        .bind(now_ms())
        .execute(store.pool())
        .await
        .map(|_| ())
        .map_err(Into::into)
    };
    match result {
        Ok(()) => reply(StatusCode::OK, "accepted"),
        Err(e) => {
            tracing::error!(error = %e, "cannot record a Bitrix catalog event");
            reply(StatusCode::SERVICE_UNAVAILABLE, "retry")
        }
    }
}

/// What a stock round did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct StockReport {
    pub read: u64,
    pub changed: u64,
    pub removed: u64,
    pub requests: u64,
    /// The catalog version published, if anything changed.
    pub version: Option<i64>,
}

/// The elements events marked: read, and what changed published.
pub async fn refresh_marked(bx: &Bitrix) -> Result<StockReport, BitrixError> {
    let rows = sqlx::query(
        "SELECT element_id, received_at FROM bitrix_dirty ORDER BY received_at LIMIT $1",
    )
    .bind(IDS_PER_ROUND as i64)
    .fetch_all(bx.store.pool())
    .await?;
    if rows.is_empty() {
        return Ok(StockReport::default());
    }
    let marked: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let ids: Vec<i64> = marked.iter().map(|m| m.0).collect();
    let report = read_and_publish(bx, Some(&ids)).await?;
    // Only the marks read: one that came again meanwhile stays for the next round.
    for (id, at) in marked {
        sqlx::query("DELETE FROM bitrix_dirty WHERE element_id = $1 AND received_at = $2")
            .bind(id)
            .bind(at)
            .execute(bx.store.pool())
            .await?;
    }
    Ok(report)
}

/// Every element's stock and activity; deleted ones found by their absence.
pub async fn poll(bx: &Bitrix) -> Result<StockReport, BitrixError> {
    read_and_publish(bx, None).await
}

async fn read_and_publish(bx: &Bitrix, ids: Option<&[i64]>) -> Result<StockReport, BitrixError> {
    let cfg = &bx.config.bitrix;
    let before = bx.client.requests();
    let mut select: Vec<&str> = STOCK_FIELDS.to_vec();
    let mut lists: Vec<(&str, Value)> = Vec::new();
    let filter = |iblock: i64| {
        let mut f = json!({"iblockId": iblock});
        if let Some(ids) = ids {
            f["@id"] = json!(ids);
        }
        f
    };
    lists.push((
        "catalog.product.list",
        json!({"select": select.clone(), "filter": filter(cfg.catalog_iblock_id), "order": {"id": "ASC"}}),
    ));
    if let Some(offers) = cfg.offers_iblock_id {
        select.push("parentId");
        lists.push((
            "catalog.product.offer.list",
            json!({"select": select, "filter": filter(offers), "order": {"id": "ASC"}}),
        ));
    }
    let (mut products, mut variations) = (Vec::new(), Vec::new());
    bx.client
        .list_many(&lists, |i, page| {
            if i == 0 {
                products.extend(page)
            } else {
                variations.extend(page)
            }
        })
        .await?;
    let mut report = StockReport {
        read: (products.len() + variations.len()) as u64,
        ..StockReport::default()
    };

    // What the catalog has now: offer id → stock, product id → has it.
    let stored: HashMap<String, (String, Option<i64>)> =
        sqlx::query("SELECT id, product_id, stock_milli FROM offers")
            .fetch_all(bx.store.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
            .collect::<Result<_, sqlx::Error>>()?;
    let stored_products: HashSet<String> = stored.values().map(|(p, _)| p.clone()).collect();
    let milli = |q: &str| -> i64 {
        let v: f64 = q.parse().unwrap_or(0.0);
        (v * 1000.0).round() as i64
    };
    let (mut gone_products, mut gone_offers, mut quantities) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen: HashSet<String> = HashSet::new();
    let mut want_sync = false;
    for p in &products {
        let Some(id) = p.get("id").and_then(bitrix::as_i64).map(|i| i.to_string()) else {
            continue;
        };
        seen.insert(id.clone());
        if !is_active(p) {
            if stored_products.contains(&id) {
                gone_products.push(id);
            }
            continue;
        }
        match stored.get(&id) {
            // A simple product: its one offer.
            Some((_, q)) => {
                let now = stock(p);
                if q.unwrap_or(0) != milli(&now) {
                    quantities.push((id, now));
                }
            }
            // Active again, or new: only a sync reads it whole.
            None if !stored_products.contains(&id) => want_sync = true,
            None => {}
        }
    }
    for v in &variations {
        let (Some(id), Some(parent)) = (
            v.get("id").and_then(bitrix::as_i64).map(|i| i.to_string()),
            parent_of(v),
        ) else {
            continue;
        };
        seen.insert(id.clone());
        let offer = format!("{parent}#{id}");
        match stored.get(&offer) {
            Some(_) if !is_active(v) => gone_offers.push(offer),
            Some((_, q)) => {
                let now = stock(v);
                if q.unwrap_or(0) != milli(&now) {
                    quantities.push((offer, now));
                }
            }
            None if is_active(v) => want_sync = true,
            None => {}
        }
    }
    // Absent from the lists: deleted in Bitrix (every element was asked for, or this one).
    let asked: Option<HashSet<String>> = ids.map(|i| i.iter().map(|x| x.to_string()).collect());
    for product in &stored_products {
        let asked_for = asked.as_ref().is_none_or(|a| a.contains(product));
        if asked_for && !seen.contains(product) && product.parse::<i64>().is_ok() {
            gone_products.push(product.clone());
        }
    }
    for offer in stored.keys() {
        let Some((_, element)) = offer.split_once('#') else {
            continue;
        };
        let asked_for = asked.as_ref().is_none_or(|a| a.contains(element));
        if asked_for
            && !seen.contains(element)
            && !gone_products
                .iter()
                .any(|g| offer.starts_with(&format!("{g}#")))
        {
            gone_offers.push(offer.clone());
        }
    }
    if want_sync {
        state_set(&bx.store, SYNC_REQUESTED, "1").await?;
    }
    report.changed = quantities.len() as u64;
    report.removed = (gone_products.len() + gone_offers.len()) as u64;
    report.requests = bx.client.requests() - before;
    if quantities.is_empty() && gone_products.is_empty() && gone_offers.is_empty() {
        return Ok(report);
    }
    report.version = Some(publish(bx, &gone_products, &gone_offers, &quantities).await?);
    Ok(report)
}

fn parent_of(v: &Value) -> Option<String> {
    let p = v.get("parentId")?;
    bitrix::as_i64(p)
        .or_else(|| p.get("value").and_then(bitrix::as_i64))
        .map(|i| i.to_string())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A changes-only package of removals and quantities, through the importer (the same
/// atomic publish as every catalog version).
async fn publish(
    bx: &Bitrix,
    gone_products: &[String],
    gone_offers: &[String],
    quantities: &[(String, String)],
) -> Result<i64, BitrixError> {
    let io = |e: std::io::Error| BitrixError::Other(format!("writing the stock package: {e}"));
    let classifier = format!("bitrix-{}", bx.config.bitrix.catalog_iblock_id);
    let dir = tempfile::tempdir().map_err(io)?;
    let mut import = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.08\">\
         <Каталог СодержитТолькоИзменения=\"true\"><Ид>{classifier}</Ид><ИдКлассификатора>{classifier}</ИдКлассификатора>\
         <Наименование>Bitrix</Наименование><Товары>"
    );
    for id in gone_products {
        let _ = write!(
            import,
            "<Товар><Ид>{}</Ид><ПометкаУдаления>true</ПометкаУдаления></Товар>",
            esc(id)
        );
    }
    import.push_str("</Товары></Каталог></КоммерческаяИнформация>\n");
    let mut offers = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.08\">\
         <ПакетПредложений СодержитТолькоИзменения=\"true\"><Ид>{classifier}#</Ид><Наименование>Bitrix</Наименование>\
         <ИдКаталога>{classifier}</ИдКаталога><ИдКлассификатора>{classifier}</ИдКлассификатора><Предложения>"
    );
    for id in gone_offers {
        let _ = write!(
            offers,
            "<Предложение><Ид>{}</Ид><ПометкаУдаления>true</ПометкаУдаления></Предложение>",
            esc(id)
        );
    }
    for (id, q) in quantities {
        let _ = write!(
            offers,
            "<Предложение><Ид>{}</Ид><Количество>{}</Количество></Предложение>",
            esc(id),
            esc(q)
        );
    }
    offers.push_str("</Предложения></ПакетПредложений></КоммерческаяИнформация>\n");
    std::fs::write(dir.path().join("import.xml"), import).map_err(io)?;
    std::fs::write(dir.path().join("offers.xml"), offers).map_err(io)?;
    let mut catalog = bx.config.catalog.clone();
    catalog.retail_price_type = super::offers::SITE_PRICE.into();
    catalog.old_price_type = super::offers::OLD_PRICE.into();
    let files = vec![dir.path().join("import.xml"), dir.path().join("offers.xml")];
    let report = crate::catalog::import::Importer::new(&bx.store, &catalog)
        .import_files(&files, dir.path(), "bitrix:stock")
        .await
        .map_err(|e| BitrixError::Other(format!("publishing stock changes: {e}")))?;
    Ok(report.version)
}

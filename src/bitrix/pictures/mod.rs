//! Product pictures from Bitrix. The REST API lists them one product per call
//! (`catalog.productImage.list {productId}`), so they are read 50 products to a `batch`, and
//! only for products whose picture files changed: the product list shows the file ids
//! (`detailPicture`, `previewPicture` as `{id, url}`, `MORE_PHOTO` values), and their
//! signature is kept in `bitrix_pictures`. A 1C exchange that rewrites every product, or a
//! price change, costs no picture request; every other product keeps the pictures it has.
//! Products whose pictures failed for a reason that may pass are read again next sync.
//! Files are fetched from the portal's web server by their `detailUrl` (plain GETs,
//! outside the REST budget), once per file: a file already stored is known by its URL, which
//! Bitrix never reuses for other content (a replaced picture is a new file at a new path).
//! They are stored content-addressed by [`MediaStore`] and handed to the importer as
//! [`KnownPicture`]s, so the package refers to them by key instead of by file.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use serde_json::{Value, json};
use sqlx::Row;

mod fetch;

pub(super) use self::fetch::sync;
use super::{BitrixError, state_get, state_set_in};
use crate::catalog::import::KnownPicture;
use crate::catalog::media::{MediaError, MediaStore};
use crate::store::Store;

/// Files fetched at once: a portal's web server takes this without noticing.
const PARALLEL_DOWNLOADS: usize = 8;
/// Warnings kept in the report (all are logged).
const MAX_WARNINGS: usize = 20;
/// `images.source_name` of a file from Bitrix: this prefix and its `detailUrl`.
const SOURCE_PREFIX: &str = "bitrix:";
/// Products whose pictures are to be read again (JSON list of ids).
const RETRY: &str = "sync_pictures_retry";
/// Set once a sync with pictures has run (until one runs without): the signatures are good.
const SYNCED: &str = "sync_pictures";

#[derive(Debug, Default)]
pub(super) struct Pictures {
    /// Product id → keys of its pictures in order (detail first), for every product whose
    /// pictures are known: listed now, or kept from the catalog.
    pub by_product: HashMap<String, Vec<String>>,
    pub known: HashMap<String, KnownPicture>,
    /// Products whose pictures could not all be had for a reason that may pass (an outage
    /// of the web server, a command error): the next sync lists them again.
    pub retry: Vec<i64>,
    /// Products whose pictures were listed, and the requests that took at best.
    pub listed: u64,
    pub minimum_requests: u64,
    pub downloaded: u64,
    pub warnings: Vec<String>,
    /// Products whose pictures are not all had (not to be taken as read).
    incomplete: HashSet<String>,
    /// Signatures to keep once the catalog is published (`None`: to forget).
    signatures: Vec<(String, Option<String>)>,
}

impl Pictures {
    /// `may_pass`: worth trying at the next sync (else at the next full one).
    fn failed(&mut self, id: &str, may_pass: bool) {
        if self.incomplete.insert(id.to_string())
            && may_pass
            && let Ok(n) = id.parse()
        {
            self.retry.push(n);
        }
    }

    fn warn(&mut self, message: String) {
        tracing::warn!("{message}");
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        }
    }
}

/// The product list's fields that name picture files (with the `MORE_PHOTO` property's).
pub(super) fn fields(more_photo: Option<&str>) -> Vec<String> {
    let mut f = vec!["detailPicture".to_string(), "previewPicture".to_string()];
    f.extend(more_photo.map(str::to_string));
    f
}

/// The files a product row names, as one string (`""`: no pictures); `None` when the portal
/// does not show the picture fields at all, so every product read must be listed.
pub(super) fn signature(product: &Value, more_photo: Option<&str>) -> Option<String> {
    let shown = |f: &str| product.get(f).is_some();
    if !shown("detailPicture") && !shown("previewPicture") {
        return None;
    }
    // A file field is `{id, url, urlMachine}`, or a bare file id.
    let file = |f: &str| {
        let v = product.get(f)?;
        bitrix::as_text(v.get("id").unwrap_or(v)).filter(|id| !id.is_empty())
    };
    let mut parts = Vec::new();
    for (tag, f) in [("d", "detailPicture"), ("p", "previewPicture")] {
        if let Some(id) = file(f) {
            parts.push(format!("{tag}{id}"));
        }
    }
    let more = more_photo.and_then(|f| product.get(f));
    parts.extend(
        bitrix::property_values(more)
            .into_iter()
            .map(|id| format!("m{id}")),
    );
    Some(parts.join(","))
}

/// Whether the signatures can be trusted (a sync with pictures ran since the last without),
/// and the products whose pictures are to be read again.
pub(super) async fn pending(store: &Store) -> Result<(bool, Vec<i64>), BitrixError> {
    let synced = state_get(store, SYNCED).await?.is_some();
    let retry = state_get(store, RETRY)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    Ok((synced, retry))
}

/// Products not read now whose gallery must be read again because a variation read now
/// shows other picture files than last time (or is new with pictures): a manager changed a
/// variation's photo, which moves the variation's change date, not the product's. The sync
/// reads these products again whole, so the package rewrites their gallery.
pub(super) async fn parents_to_read(
    store: &Store,
    products: &[Value],
    variations: &[Value],
    offer_more_photo: Option<&str>,
) -> Result<Vec<i64>, BitrixError> {
    if variations.is_empty() {
        return Ok(Vec::new());
    }
    let read: HashSet<String> = products
        .iter()
        .filter_map(|p| p.get("id").and_then(bitrix::as_i64).map(|i| i.to_string()))
        .collect();
    let stored = stored_signatures(store).await?;
    let mut parents = HashSet::new();
    for v in variations {
        let (Some(id), Some(parent)) = (
            v.get("id").and_then(bitrix::as_i64).map(|i| i.to_string()),
            parent_of(v),
        ) else {
            continue;
        };
        if read.contains(&parent) {
            continue;
        }
        // Deactivated: its photos leave the gallery, if it had any there.
        let changed = if !super::offers::is_active(v) {
            stored.get(&id).is_some_and(|sig| !sig.is_empty())
        } else {
            match signature(v, offer_more_photo) {
                Some(sig) => match stored.get(&id) {
                    Some(old) => *old != sig,
                    None => !sig.is_empty(),
                },
                None => true,
            }
        };
        if changed && let Ok(p) = parent.parse::<i64>() {
            parents.insert(p);
        }
    }
    let mut parents: Vec<i64> = parents.into_iter().collect();
    parents.sort_unstable();
    Ok(parents)
}

async fn stored_signatures(store: &Store) -> Result<HashMap<String, String>, BitrixError> {
    let mut stored = HashMap::new();
    for r in sqlx::query("SELECT product_id, signature FROM bitrix_pictures")
        .fetch_all(store.pool())
        .await?
    {
        stored.insert(r.try_get(0)?, r.try_get(1)?);
    }
    Ok(stored)
}

/// A variation's parent product id (`parentId` as `{value, valueId}` or a number).
fn parent_of(v: &Value) -> Option<String> {
    let p = v.get("parentId")?;
    bitrix::as_i64(p)
        .or_else(|| p.get("value").and_then(bitrix::as_i64))
        .map(|i| i.to_string())
}

/// After the catalog is published, in one transaction: the signatures of what was read,
/// what to read again, and that the signatures hold.
pub(super) async fn save(store: &Store, pictures: &Pictures) -> Result<(), BitrixError> {
    let mut tx = store.pool().begin().await?;
    let (done, forgotten): (Vec<_>, Vec<_>) =
        pictures.signatures.iter().partition(|(_, s)| s.is_some());
    for chunk in done.chunks(500) {
        let mut sql = String::from("INSERT INTO bitrix_pictures (product_id, signature) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
        }
        sql.push_str(" ON CONFLICT (product_id) DO UPDATE SET signature = excluded.signature");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, sig) in chunk {
            q = q.bind(id.as_str()).bind(sig.as_deref().unwrap_or_default());
        }
        q.execute(&mut *tx).await?;
    }
    for (id, _) in forgotten {
        sqlx::query("DELETE FROM bitrix_pictures WHERE product_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let retry = serde_json::to_string(&pictures.retry).unwrap_or_default();
    state_set_in(&mut tx, RETRY, &retry).await?;
    state_set_in(&mut tx, SYNCED, "1").await?;
    tx.commit().await?;
    Ok(())
}

/// Before a sync without pictures publishes products without them: the signatures no
/// longer hold (cleared first, so a failure later cannot leave them standing).
pub(super) async fn forget(store: &Store) -> Result<(), BitrixError> {
    let mut tx = store.pool().begin().await?;
    sqlx::query("DELETE FROM bitrix_state WHERE name = $1 OR name = $2")
        .bind(SYNCED)
        .bind(RETRY)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM bitrix_pictures")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// One product's pictures as the catalog shows them: the detail picture, then the more
/// photos; the preview picture only when there is no detail one (it is usually the detail
/// picture made smaller), in its place.
pub(super) fn ordered(mut images: Vec<Value>) -> Vec<String> {
    let kind = |i: &Value| match i.get("type").and_then(Value::as_str) {
        Some("DETAIL_PICTURE") => 0,
        Some("MORE_PHOTO") => 1,
        Some("PREVIEW_PICTURE") => 2,
        _ => 3,
    };
    let has_detail = images.iter().any(|i| kind(i) == 0);
    images.retain(|i| kind(i) < 2 || (kind(i) == 2 && !has_detail));
    // The preview kept stands in for the detail picture: first.
    images.sort_by_key(|i| (kind(i) == 1, i.get("id").and_then(bitrix::as_i64)));
    images
        .iter()
        .filter_map(|i| i.get("detailUrl").and_then(Value::as_str))
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_names_the_files() {
        let more = Some("property3");
        // As the catalog answers: file objects, MORE_PHOTO as {valueId, value}.
        let p = json!({"detailPicture": {"id": "6538", "url": "/rest/…"}, "previewPicture": null,
            "property3": [{"valueId": "1", "value": "70"}, {"valueId": "2", "value": "71"}]});
        assert_eq!(signature(&p, more).as_deref(), Some("d6538,m70,m71"));
        // A bare file id, one photo not in a list.
        let p = json!({"detailPicture": 5, "previewPicture": 6, "property3": {"value": 9}});
        assert_eq!(signature(&p, more).as_deref(), Some("d5,p6,m9"));
        let none = json!({"detailPicture": null, "previewPicture": null, "property3": null});
        assert_eq!(signature(&none, more).as_deref(), Some(""));
        // The portal does not show the fields: unknown, so the product is listed.
        assert_eq!(signature(&json!({"id": 1}), more), None);
    }

    #[test]
    fn detail_first_then_more_photos_and_preview_only_without_detail() {
        let img = |id: i64, t: &str| json!({"id": id, "type": t, "detailUrl": format!("/u/{id}")});
        assert_eq!(
            ordered(vec![
                img(3, "MORE_PHOTO"),
                img(9, "PREVIEW_PICTURE"),
                img(1, "MORE_PHOTO"),
                img(7, "DETAIL_PICTURE"),
            ]),
            ["/u/7", "/u/1", "/u/3"]
        );
        assert_eq!(
            ordered(vec![img(4, "MORE_PHOTO"), img(2, "PREVIEW_PICTURE")]),
            ["/u/2", "/u/4"]
        );
        assert!(ordered(vec![]).is_empty());
    }
}

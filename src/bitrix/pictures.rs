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

/// The pictures of the products read: listed where their files changed (or failed last
/// time), kept where not. A product's gallery is its own pictures, then its variations'
/// (trade offers' detail, preview and more photos), in variation order: a clothing catalog
/// whose photos are on the colours shows them on the product card. `variations`: those read
/// now (the others are known from the catalog, by the signatures kept).
/// `progress` gets elements listed plus files fetched so far.
#[allow(clippy::too_many_arguments)]
pub(super) async fn sync(
    client: &bitrix::Client,
    store: &Store,
    config: &crate::config::Config,
    products: &[Value],
    variations: &[Value],
    more_photo: Option<&str>,
    offer_more_photo: Option<&str>,
    full: bool,
    retry: &[i64],
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Pictures, BitrixError> {
    // Nothing read (the usual incremental sync): nothing to compare, nothing to load.
    if products.is_empty() {
        return Ok(Pictures::default());
    }
    let stored = stored_signatures(store).await?;
    // The pictures the catalog shows now, by product.
    let mut shown: HashMap<String, Vec<String>> = HashMap::new();
    for r in sqlx::query("SELECT id, images FROM products WHERE images <> '[]'")
        .fetch_all(store.pool())
        .await?
    {
        let images: String = r.try_get(1)?;
        shown.insert(
            r.try_get(0)?,
            serde_json::from_str(&images).unwrap_or_default(),
        );
    }
    // Each product's variations: those read now (active), and, unless every variation was
    // read (a full sync), those the catalog has that were not read now.
    let mut read_variations: HashMap<String, Option<String>> = HashMap::new();
    let mut inactive: HashSet<String> = HashSet::new();
    let mut lost: HashSet<String> = HashSet::new();
    let mut by_parent: HashMap<String, Vec<i64>> = HashMap::new();
    for v in variations {
        let (Some(id), Some(parent)) = (v.get("id").and_then(bitrix::as_i64), parent_of(v)) else {
            continue;
        };
        if !super::offers::is_active(v) {
            // Its photos leave its product's gallery.
            if stored
                .get(&id.to_string())
                .is_some_and(|sig| !sig.is_empty())
            {
                lost.insert(parent);
            }
            inactive.insert(id.to_string());
            continue;
        }
        read_variations.insert(id.to_string(), signature(v, offer_more_photo));
        by_parent.entry(parent).or_default().push(id);
    }
    if !full && config.bitrix.offers_iblock_id.is_some() {
        for r in sqlx::query("SELECT id, product_id FROM offers WHERE id LIKE '%#%'")
            .fetch_all(store.pool())
            .await?
        {
            let (id, parent): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            let Some(element) = id.split_once('#').and_then(|(_, e)| e.parse::<i64>().ok()) else {
                continue;
            };
            let key = element.to_string();
            if read_variations.contains_key(&key) || inactive.contains(&key) {
                continue;
            }
            by_parent.entry(parent).or_default().push(element);
        }
    }
    for ids in by_parent.values_mut() {
        ids.sort_unstable();
        ids.dedup();
    }
    let retry: HashSet<String> = retry.iter().map(i64::to_string).collect();
    let (mut list, mut keep, mut signatures) = (Vec::new(), Vec::new(), HashMap::new());
    // Elements listed for a product (itself first, then its variations).
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for p in products {
        let Some(id) = p.get("id").and_then(bitrix::as_i64).map(|i| i.to_string()) else {
            continue;
        };
        // Its variations: the signature read now, or the one kept (`None`: unknown).
        let vars: Vec<(String, Option<String>)> = by_parent
            .get(&id)
            .into_iter()
            .flatten()
            .map(|v| {
                let v = v.to_string();
                let sig = match read_variations.get(&v) {
                    Some(read) => read.clone(),
                    None => stored.get(&v).cloned(),
                };
                (v, sig)
            })
            .collect();
        let own = signature(p, more_photo);
        let vars_unchanged = vars
            .iter()
            .all(|(v, sig)| sig.is_some() && stored.get(v) == sig.as_ref());
        let empty =
            own.as_deref() == Some("") && vars.iter().all(|(_, sig)| sig.as_deref() == Some(""));
        if let Some(sig) = &own {
            // Kept only while the catalog still shows them: a product a full sync removed
            // (it was deactivated) comes back without its pictures.
            let unchanged = stored.get(&id) == Some(sig)
                && vars_unchanged
                && !lost.contains(&id)
                && !retry.contains(&id);
            if unchanged && (empty || shown.contains_key(&id)) {
                keep.push(id);
                continue;
            }
        }
        for (v, sig) in &vars {
            if let Some(sig) = sig {
                signatures.insert(v.clone(), sig.clone());
            }
        }
        if let Some(sig) = own.clone() {
            signatures.insert(id.clone(), sig);
        }
        if empty {
            continue;
        }
        let mut elements = Vec::new();
        if own.as_deref() != Some("") {
            elements.push(id.clone());
        }
        // A variation that names no file is not asked for its pictures.
        elements.extend(
            vars.iter()
                .filter(|(_, sig)| sig.as_deref() != Some(""))
                .map(|(v, _)| v.clone()),
        );
        list.extend(elements.iter().cloned());
        groups.push((id, elements));
    }
    let media = MediaStore::new(&config.catalog.media_dir, config.catalog.max_image_bytes);
    let mut raw = read(client, store, &media, &list, progress).await?;
    // Per element → per product: a product is complete when all its elements are.
    let element_incomplete = std::mem::take(&mut raw.incomplete);
    let element_retry: HashSet<String> = raw.retry.drain(..).map(|i| i.to_string()).collect();
    let element_pictures = std::mem::take(&mut raw.by_product);
    let mut out = raw;
    for (product, elements) in &groups {
        if elements.iter().any(|e| element_incomplete.contains(e)) {
            let may_pass = elements.iter().any(|e| element_retry.contains(e));
            out.failed(product, may_pass);
        }
        // Listed only if every element was: else it keeps what it shows (below).
        if !elements.iter().all(|e| element_pictures.contains_key(e)) {
            continue;
        }
        let mut keys: Vec<String> = Vec::new();
        for e in elements {
            for k in element_pictures.get(e).into_iter().flatten() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        out.by_product.insert(product.clone(), keys);
    }
    // Products whose listing failed keep what they show until the next try.
    let unlisted: Vec<String> = out
        .incomplete
        .iter()
        .filter(|id| !out.by_product.contains_key(*id))
        .cloned()
        .collect();
    keep.extend(unlisted);
    for id in keep {
        let Some(hashes) = shown.get(&id) else {
            continue;
        };
        let keys = hashes
            .iter()
            .map(|hash| {
                let key = format!("stored:{hash}");
                out.known.entry(key.clone()).or_insert(KnownPicture {
                    hash: hash.clone(),
                    record: None,
                });
                key
            })
            .collect();
        out.by_product.insert(id, keys);
    }
    // An element with a picture missing is looked at again: by the next sync when the cause
    // may pass, else by the next full sync (its signature is forgotten). A variation
    // deactivated is forgotten too: active again, its photos are read again.
    out.signatures = signatures
        .into_iter()
        .map(|(id, sig)| {
            let complete = !element_incomplete.contains(&id);
            (id, complete.then_some(sig))
        })
        .chain(
            inactive
                .into_iter()
                .filter(|v| stored.contains_key(v))
                .map(|v| (v, None)),
        )
        .collect();
    Ok(out)
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

/// Lists the pictures of `list` (product ids) and fetches the files not stored yet.
async fn read(
    client: &bitrix::Client,
    store: &Store,
    media: &MediaStore,
    list: &[String],
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Pictures, BitrixError> {
    if !list.is_empty() {
        // A first sync lists every product's pictures: minutes on a cloud portal.
        tracing::info!(
            products = list.len(),
            requests = list.len().div_ceil(bitrix::BATCH_LIMIT),
            "Bitrix: listing product pictures"
        );
    }
    let mut done = 0u64;
    let mut out = Pictures {
        listed: list.len() as u64,
        minimum_requests: list.len().div_ceil(bitrix::BATCH_LIMIT) as u64,
        ..Pictures::default()
    };
    let mut urls: HashMap<String, Vec<String>> = HashMap::new();
    let mut chunks = list.chunks(bitrix::BATCH_LIMIT);
    while let Some(chunk) = chunks.next() {
        let commands: Vec<bitrix::Command> = chunk
            .iter()
            .map(|id| {
                bitrix::Command::new(
                    format!("p{id}"),
                    "catalog.productImage.list",
                    json!({"productId": id, "select": ["id", "productId", "type", "detailUrl"]}),
                )
            })
            .collect();
        let answer = match client.batch(&commands, false, bitrix::Safety::Safe).await {
            Ok(answer) => answer,
            // The portal is out of reach even after the client's retries: the catalog is
            // still published; these products keep their pictures and are tried next time.
            Err(e) => {
                let rest: Vec<&String> = chunk.iter().chain(chunks.flatten()).collect();
                out.warn(format!(
                    "pictures of {} products not listed, tried next sync: {e}",
                    rest.len()
                ));
                for id in rest {
                    out.failed(id, true);
                }
                break;
            }
        };
        done += chunk.len() as u64;
        progress(done);
        for (id, command) in chunk.iter().zip(&commands) {
            match answer.get(&command.key) {
                Ok(result) => {
                    urls.insert(id.clone(), ordered(bitrix::items(result)));
                }
                // Whatever it is (the catalog says «0» for a product gone and for much else),
                // the product keeps its pictures and is asked again; a product gone is not
                // read again, so it drops out.
                Err(e) => {
                    out.warn(format!("pictures of product {id}: {e}"));
                    out.failed(id, true);
                }
            }
        }
    }

    // Files stored before, by URL (none to look up when nothing was listed).
    let mut stored: HashMap<String, String> = HashMap::new();
    if !urls.is_empty() {
        let rows = sqlx::query("SELECT source_name, hash FROM images WHERE source_name LIKE $1")
            .bind(format!("{SOURCE_PREFIX}%"))
            .fetch_all(store.pool())
            .await?;
        for r in rows {
            stored.insert(r.try_get(0)?, r.try_get(1)?);
        }
    }
    let missing: Vec<String> = urls
        .values()
        .flatten()
        .map(|u| format!("{SOURCE_PREFIX}{u}"))
        .filter(|k| !stored.contains_key(k))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        tracing::info!(files = missing.len(), "Bitrix: fetching picture files");
    }
    let mut fetched = futures_util::stream::iter(missing)
        .map(|key| async move {
            let url = &key[SOURCE_PREFIX.len()..];
            let result = match client.download(url, media.max_bytes()).await {
                Ok(bytes) => {
                    let media = media.clone();
                    let name = url.to_string();
                    match tokio::task::spawn_blocking(move || media.put_bytes(&bytes, &name)).await
                    {
                        Ok(Ok(image)) => Ok(image),
                        // A disk that is full or not writable may be mended; a file that is
                        // not a picture or too big stays so.
                        Ok(Err(e)) => Err((matches!(e, MediaError::Io { .. }), e.to_string())),
                        Err(e) => Err((true, e.to_string())),
                    }
                }
                Err(e) => Err((
                    matches!(
                        e,
                        bitrix::Error::File {
                            transient: true,
                            ..
                        }
                    ),
                    e.to_string(),
                )),
            };
            (key, result)
        })
        .buffer_unordered(PARALLEL_DOWNLOADS);
    let mut failed: HashMap<String, bool> = HashMap::new();
    while let Some((key, result)) = fetched.next().await {
        match result {
            Ok(image) => {
                out.downloaded += 1;
                progress(done + out.downloaded);
                out.known.insert(
                    key,
                    KnownPicture {
                        hash: image.hash,
                        record: Some((image.mime, image.bytes)),
                    },
                );
            }
            Err((may_pass, message)) => {
                out.warn(format!("picture skipped: {message}"));
                failed.insert(key, may_pass);
            }
        }
    }
    drop(fetched);
    for (id, list) in urls {
        let keys: Vec<String> = list
            .into_iter()
            .map(|u| format!("{SOURCE_PREFIX}{u}"))
            .collect();
        for k in &keys {
            if let Some(hash) = stored.get(k) {
                out.known.entry(k.clone()).or_insert(KnownPicture {
                    hash: hash.clone(),
                    record: None,
                });
            }
            if let Some(may_pass) = failed.get(k) {
                out.failed(&id, *may_pass);
            }
        }
        // Published with what could be had.
        let keys = keys
            .into_iter()
            .filter(|k| out.known.contains_key(k))
            .collect();
        out.by_product.insert(id, keys);
    }
    Ok(out)
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

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

/// The pictures of the products read: listed where their files changed (or failed last
/// time), kept where not. `progress` gets products listed plus files fetched so far.
pub(super) async fn sync(
    client: &bitrix::Client,
    store: &Store,
    config: &crate::config::Config,
    products: &[Value],
    more_photo: Option<&str>,
    retry: &[i64],
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Pictures, BitrixError> {
    // Nothing read (the usual incremental sync): nothing to compare, nothing to load.
    if products.is_empty() {
        return Ok(Pictures::default());
    }
    let mut stored: HashMap<String, String> = HashMap::new();
    for r in sqlx::query("SELECT product_id, signature FROM bitrix_pictures")
        .fetch_all(store.pool())
        .await?
    {
        stored.insert(r.try_get(0)?, r.try_get(1)?);
    }
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
    let retry: HashSet<String> = retry.iter().map(i64::to_string).collect();
    let (mut list, mut keep, mut signatures) = (Vec::new(), Vec::new(), HashMap::new());
    for p in products {
        let Some(id) = p.get("id").and_then(bitrix::as_i64).map(|i| i.to_string()) else {
            continue;
        };
        let Some(sig) = signature(p, more_photo) else {
            list.push(id);
            continue;
        };
        // Kept only while the catalog still shows them: a product a full sync removed (it was
        // deactivated) comes back without its pictures.
        let unchanged = stored.get(&id) == Some(&sig) && !retry.contains(&id);
        if unchanged && (sig.is_empty() || shown.contains_key(&id)) {
            keep.push(id);
            continue;
        }
        if !sig.is_empty() {
            list.push(id.clone());
        }
        signatures.insert(id, sig);
    }
    let media = MediaStore::new(&config.catalog.media_dir, config.catalog.max_image_bytes);
    let mut out = read(client, store, &media, &list, progress).await?;
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
    // A product with a picture missing is looked at again: by the next sync when the cause
    // may pass, else by the next full sync (its signature is forgotten).
    out.signatures = signatures
        .into_iter()
        .map(|(id, sig)| {
            let complete = !out.incomplete.contains(&id);
            (id, complete.then_some(sig))
        })
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

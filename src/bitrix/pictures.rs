//! Product pictures from Bitrix. The REST API lists them one product per call
//! (`catalog.productImage.list {productId}`), so they are read 50 products to a `batch`, and
//! only for the products the sync decides need it; every other product keeps the pictures it
//! has. Files are fetched from the portal's web server by their `detailUrl` (plain GETs,
//! outside the REST budget), once per file: a file already stored is known by its URL, which
//! Bitrix never reuses for other content (a replaced picture is a new file at a new path).
//! They are stored content-addressed by [`MediaStore`] and handed to the importer as
//! [`KnownPicture`]s, so the package refers to them by key instead of by file.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use serde_json::{Value, json};
use sqlx::Row;

use super::BitrixError;
use crate::catalog::import::KnownPicture;
use crate::catalog::media::MediaStore;
use crate::store::Store;

/// Files fetched at once: a portal's web server takes this without noticing.
const PARALLEL_DOWNLOADS: usize = 8;
/// Warnings kept in the report (all are logged).
const MAX_WARNINGS: usize = 20;
/// `images.source_name` of a file from Bitrix: this prefix and its `detailUrl`.
const SOURCE_PREFIX: &str = "bitrix:";

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
}

impl Pictures {
    fn warn(&mut self, message: String) {
        tracing::warn!("{message}");
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        }
    }
}

/// One product's pictures as the catalog shows them: the detail picture, then the more
/// photos; the preview picture only when there is no detail one (it is usually the detail
/// picture made smaller), in its place.
fn ordered(mut images: Vec<Value>) -> Vec<String> {
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

/// Lists the pictures of `list` (product ids), fetches the files not stored yet, and keeps
/// the stored pictures of `keep`.
pub(super) async fn read(
    client: &bitrix::Client,
    store: &Store,
    media: &MediaStore,
    max_bytes: u64,
    list: &[String],
    keep: &[String],
) -> Result<Pictures, BitrixError> {
    let mut out = Pictures {
        listed: list.len() as u64,
        minimum_requests: list.len().div_ceil(bitrix::BATCH_LIMIT) as u64,
        ..Pictures::default()
    };
    let mut urls: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in list.chunks(bitrix::BATCH_LIMIT) {
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
        let answer = client.batch(&commands, false, bitrix::Safety::Safe).await?;
        for (id, command) in chunk.iter().zip(&commands) {
            match answer.get(&command.key) {
                Ok(result) => {
                    urls.insert(id.clone(), ordered(bitrix::items(result)));
                }
                // «Товар с указанным идентификатором не найден»: deleted since it was read.
                Err(bitrix::Error::Api { code, .. }) if code == "0" => {
                    urls.insert(id.clone(), Vec::new());
                }
                Err(e) => {
                    out.warn(format!("pictures of product {id}: {e}"));
                    if let Ok(n) = id.parse() {
                        out.retry.push(n);
                    }
                }
            }
        }
    }

    // Files stored before, by URL.
    let mut stored: HashMap<String, String> = HashMap::new();
    let rows = sqlx::query("SELECT source_name, hash FROM images WHERE source_name LIKE $1")
        .bind(format!("{SOURCE_PREFIX}%"))
        .fetch_all(store.pool())
        .await?;
    for r in rows {
        stored.insert(r.try_get(0)?, r.try_get(1)?);
    }
    let missing: Vec<String> = urls
        .values()
        .flatten()
        .map(|u| format!("{SOURCE_PREFIX}{u}"))
        .filter(|k| !stored.contains_key(k))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut fetched = futures_util::stream::iter(missing)
        .map(|key| async move {
            let url = &key[SOURCE_PREFIX.len()..];
            let result = match client.download(url, max_bytes).await {
                Ok(bytes) => {
                    let media = media.clone();
                    let name = url.to_string();
                    tokio::task::spawn_blocking(move || media.put_bytes(&bytes, &name))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()))
                        .map_err(|e| (false, e))
                }
                // A 404 stays a 404; an outage or a timeout may pass.
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
        }
        if keys.iter().any(|k| failed.get(k) == Some(&true))
            && let Ok(n) = id.parse()
        {
            out.retry.push(n);
        }
        let keys = keys
            .into_iter()
            .filter(|k| out.known.contains_key(k))
            .collect();
        out.by_product.insert(id, keys);
    }

    // The others keep what they have.
    if !keep.is_empty() {
        let keep: HashSet<&str> = keep.iter().map(String::as_str).collect();
        let rows = sqlx::query("SELECT id, images FROM products WHERE images <> '[]'")
            .fetch_all(store.pool())
            .await?;
        for r in rows {
            let id: String = r.try_get(0)?;
            if !keep.contains(id.as_str()) {
                continue;
            }
            let images: String = r.try_get(1)?;
            let hashes: Vec<String> = serde_json::from_str(&images).unwrap_or_default();
            let keys = hashes
                .into_iter()
                .map(|hash| {
                    let key = format!("stored:{hash}");
                    out.known
                        .entry(key.clone())
                        .or_insert(KnownPicture { hash, record: None });
                    key
                })
                .collect();
            out.by_product.insert(id, keys);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

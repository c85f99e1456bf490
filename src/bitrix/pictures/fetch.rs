//! Getting the pictures: listing them 50 products to a `batch` and fetching the files not
//! stored yet from the portal's web server, a few at a time.

use super::*;

/// The pictures of the products read: listed where their files changed (or failed last
/// time), kept where not. A product's gallery is its own pictures, then its variations'
/// (trade offers' detail, preview and more photos), in variation order: a clothing catalog
/// whose photos are on the colours shows them on the product card. `variations`: those read
/// now (the others are known from the catalog, by the signatures kept).
/// `progress` gets elements listed plus files fetched so far.
#[allow(clippy::too_many_arguments)]
pub(in crate::bitrix) async fn sync(
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
        if !crate::bitrix::offers::is_active(v) {
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

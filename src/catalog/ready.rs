//! Ready answers: what every customer asks first, rendered once per catalog version when the
//! version is loaded, before it is served. Page one of the default listing and of every
//! section (with facets and the price range, as `GET /api/v1/products` gives it) and the
//! section tree, each as bytes with its ETag and a gzip variant, so the hottest requests cost
//! a map lookup and no JSON, hashing or compression.
//!
//! The keys are the query strings the Mini App sends (web/src/api.ts `productsQuery`:
//! URLSearchParams order, `section`, `sort`, `limit`); the bodies come from the same functions
//! the computed path uses, so both give the same bytes (tests/catalog.rs checks every first
//! page). They live in the snapshot: a new catalog version arrives with its own ready answers
//! and replaces the old ones in the same atomic swap.
//!
//! Product cards are not precomputed: at 100k products they would cost ~200 MB per version
//! for answers that the bounded response cache serves as well once asked.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::http::{CACHE_CONTROL, etag, list, section_tree};
use super::snapshot::Snapshot;

/// The page size the Mini App asks for.
pub const APP_PAGE: &str = "20";
/// Answers smaller than this are not worth a gzip variant (tower-http's threshold too).
const MIN_GZIP: usize = 32;

pub struct ReadyAnswer {
    body: Bytes,
    gzip: Option<Bytes>,
    etag: HeaderValue,
}

/// The ready answers of one catalog version, by response-cache key.
#[derive(Default)]
pub struct Ready {
    answers: HashMap<String, ReadyAnswer>,
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ready")
            .field("answers", &self.answers.len())
            .field("bytes", &self.bytes())
            .finish()
    }
}

/// `products?section=…&sort=popular&limit=20` as the Mini App's URLSearchParams writes it.
pub fn first_page_key(section: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(s) = section {
        q.append_pair("section", s);
    }
    q.append_pair("sort", "popular");
    q.append_pair("limit", APP_PAGE);
    format!("products?{}", q.finish())
}

impl Ready {
    /// Renders this version's first answers. CPU work: call it off the async workers.
    pub fn build(snapshot: &Arc<Snapshot>) -> Self {
        let mut ready = Ready::default();
        if let Ok(body) = serde_json::to_vec(&section_tree(snapshot)) {
            ready.put(snapshot, "sections".into(), body);
        }
        let keys = std::iter::once(None)
            .chain(snapshot.sections.iter().map(|s| Some(s.id.as_str())))
            .map(first_page_key);
        for key in keys {
            let query = key.strip_prefix("products?").unwrap_or_default();
            let Ok(answer) = list(snapshot, Some(query)) else {
                continue;
            };
            if let Ok(body) = serde_json::to_vec(&answer) {
                ready.put(snapshot, key, body);
            }
        }
        ready
    }

    fn put(&mut self, snapshot: &Snapshot, key: String, body: Vec<u8>) {
        let Ok(tag) = HeaderValue::from_str(&etag(snapshot.version, &key)) else {
            return;
        };
        let gzip = (body.len() >= MIN_GZIP).then(|| gzip(&body)).flatten();
        self.answers.insert(
            key,
            ReadyAnswer {
                body: Bytes::from(body),
                gzip,
                etag: tag,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.answers.keys().map(String::as_str)
    }

    /// Bytes held (plain and gzip).
    pub fn bytes(&self) -> usize {
        self.answers
            .values()
            .map(|a| a.body.len() + a.gzip.as_ref().map_or(0, Bytes::len))
            .sum()
    }

    /// The ready answer for `key`, or `None` when the computed path must answer (no such
    /// answer, or a client that takes only an encoding we did not prepare).
    pub fn respond(&self, key: &str, headers: &HeaderMap) -> Option<Response> {
        let answer = self.answers.get(key)?;
        let tag_matches = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let tag = answer.etag.as_bytes();
                v.split(',')
                    .any(|t| t.trim().as_bytes() == tag || t.trim() == "*")
            });
        let mut response = if tag_matches {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let (body, gzipped) = match accepts(headers) {
                Accepts::Identity => (answer.body.clone(), false),
                Accepts::Gzip => match &answer.gzip {
                    Some(gz) => (gz.clone(), true),
                    None => (answer.body.clone(), false),
                },
                Accepts::Other => return None,
            };
            let mut r = Response::new(axum::body::Body::from(body));
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if gzipped {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            r
        };
        let h = response.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
        h.insert(header::ETAG, answer.etag.clone());
        Some(response)
    }
}

enum Accepts {
    /// No `Accept-Encoding` (or only identity): plain bytes.
    Identity,
    Gzip,
    /// Compression we did not prepare (br, zstd, deflate only): the computed path answers.
    Other,
}

fn accepts(headers: &HeaderMap) -> Accepts {
    let mut any = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else {
            return Accepts::Other;
        };
        for part in value.split(',') {
            let mut params = part.split(';');
            let coding = params.next().unwrap_or_default().trim();
            let refused = params.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if coding.is_empty() || coding.eq_ignore_ascii_case("identity") || refused {
                continue;
            }
            if coding.eq_ignore_ascii_case("gzip") || coding == "*" {
                return Accepts::Gzip;
            }
            any = true;
        }
    }
    if any {
        Accepts::Other
    } else {
        Accepts::Identity
    }
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::default(),
    );
    enc.write_all(body).ok()?;
    enc.finish().ok().map(Bytes::from)
}

/// Builds the ready answers of a freshly loaded snapshot, before it is served.
pub async fn prepare(snapshot: &Arc<Snapshot>) {
    let s = snapshot.clone();
    let started = std::time::Instant::now();
    let built = tokio::task::spawn_blocking(move || {
        let ready = Ready::build(&s);
        let (n, bytes) = (ready.len(), ready.bytes());
        let _ = s.ready.set(ready);
        (n, bytes)
    })
    .await;
    match built {
        Ok((answers, bytes)) => tracing::info!(
            version = snapshot.version,
            answers,
            bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ready answers built"
        ),
        Err(e) => tracing::warn!(error = %e, "ready answers not built; the computed path serves"),
    }
}

/// The hook for `http::cached`: a ready answer of this snapshot, if there is one.
pub fn respond(snapshot: &Snapshot, key: &str, headers: &HeaderMap) -> Option<Response> {
    snapshot.ready.get()?.respond(key, headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn negotiates_encodings() {
        assert!(matches!(accepts(&HeaderMap::new()), Accepts::Identity));
        assert!(matches!(accepts(&with("gzip, deflate, br")), Accepts::Gzip));
        assert!(matches!(
            accepts(&with("br;q=1.0, gzip;q=0.5")),
            Accepts::Gzip
        ));
        assert!(matches!(accepts(&with("gzip;q=0, br")), Accepts::Other));
        assert!(matches!(accepts(&with("br")), Accepts::Other));
        assert!(matches!(accepts(&with("identity")), Accepts::Identity));
    }

    #[test]
    fn first_page_keys_are_the_apps_query_strings() {
        assert_eq!(first_page_key(None), "products?sort=popular&limit=20");
        assert_eq!(
            first_page_key(Some("a b&c")),
            "products?section=a+b%26c&sort=popular&limit=20"
        );
    }
}

//! The Mini App's files, embedded in the binary at build time.
//!
//! Vite names built assets by content hash, so `/assets/*` are cached forever; `index.html`
//! must be revalidated on every open so a new release is picked up at once.
//!
//! `index.html` is served with its stylesheet inlined and, on the home page, with the home
//! screen's first API answers in it (`window.__initial`): on a phone with a slow network the
//! catalog paints from the HTML alone, before the app's script has downloaded (index.html
//! draws it, the app takes over). Measured by `bench/paint.sh`.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Embed)]
#[folder = "$WEB_ASSETS_DIR"]
struct Assets;

/// Path prefixes that belong to the server, never to the single-page app.
const SERVER_PREFIXES: &[&str] = &["api/", "dev/", "images/", "telegram/", "1c/", "bitrix/"];

pub async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "only GET here",
        )
        .into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if path.is_empty() || path == "index.html" {
        return index(&state, true, &headers);
    }
    if let Some(response) = asset(path, &headers) {
        return response;
    }
    let is_server_path = SERVER_PREFIXES.iter().any(|p| path.starts_with(p));
    // Client-side routes (/product/42, /cart) have no extension; a missing file does.
    let looks_like_file = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    if is_server_path || looks_like_file {
        return ApiError::not_found(&format!("/{path}")).into_response();
    }
    index(&state, false, &headers)
}

/// index.html cut where the server's data goes, with the stylesheet inlined.
struct IndexPage {
    /// Up to the first `<script>` of the head: the first screen's data must be set before the
    /// page's own scripts read it.
    before: String,
    after: String,
    /// The page without data, for every other client-side route.
    plain: bytes::Bytes,
    hash: String,
}

impl IndexPage {
    fn load() -> Option<Self> {
        let file = Assets::get("index.html")?;
        let html = inline_stylesheets(&String::from_utf8_lossy(&file.data));
        let cut = html.find("<script").unwrap_or(html.len());
        Some(Self {
            before: html[..cut].to_string(),
            after: html[cut..].to_string(),
            plain: bytes::Bytes::from(html.clone()),
            hash: hex_prefix(&file.metadata.sha256_hash()),
        })
    }
}

/// Replaces each `<link rel="stylesheet" … href="/assets/…">` with a `<style>` of that file:
/// one round trip less before the first paint, for about 3 KB (gzipped) of CSS.
fn inline_stylesheets(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 16 * 1024);
    let mut rest = html;
    while let Some(start) = rest.find("<link rel=\"stylesheet\"") {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + len + 1];
        let css = tag
            .split("href=\"/")
            .nth(1)
            .and_then(|h| h.split('"').next())
            .and_then(Assets::get);
        out.push_str(&rest[..start]);
        match css {
            Some(css) => {
                out.push_str("<style>");
                out.push_str(&String::from_utf8_lossy(&css.data));
                out.push_str("</style>");
            }
            None => out.push_str(tag),
        }
        rest = &rest[start + tag.len()..];
    }
    out.push_str(rest);
    out
}

fn index(state: &AppState, home: bool, headers: &HeaderMap) -> Response {
    static PAGE: OnceLock<Option<IndexPage>> = OnceLock::new();
    let Some(page) = PAGE.get_or_init(IndexPage::load) else {
        return ApiError::not_found("index.html").into_response();
    };
    const HTML: &str = "text/html; charset=utf-8";
    if !home {
        let etag = format!("\"{}\"", page.hash);
        return revalidated(headers, &etag, "no-cache", HTML, || Ok(page.plain.clone()));
    }
    let snapshot = state.catalog.snapshot();
    let etag = format!("\"{}-{}\"", page.hash, snapshot.version);
    revalidated(headers, &etag, "no-cache", HTML, || {
        home_page(page, &snapshot)
    })
}

/// The home page for this catalog version, rendered once and kept with the snapshot.
fn home_page(
    page: &IndexPage,
    snapshot: &std::sync::Arc<crate::catalog::snapshot::Snapshot>,
) -> Result<bytes::Bytes, ApiError> {
    const KEY: &str = "web:index.html";
    if let Some(body) = snapshot.cached_response(KEY) {
        return Ok(body);
    }
    let answers = crate::catalog::http::first_screen(snapshot)?;
    let mut html = String::with_capacity(
        page.before.len()
            + page.after.len()
            + answers.iter().map(|(_, b)| b.len()).sum::<usize>()
            + 64,
    );
    html.push_str(&page.before);
    html.push_str("<script>window.__initial={");
    for (i, (path, body)) in answers.iter().enumerate() {
        if i > 0 {
            html.push(',');
        }
        html.push_str(&format!("{path:?}:"));
        // JSON is a JavaScript expression; only `</` could end the script element early.
        html.push_str(&String::from_utf8_lossy(body).replace("</", "<\\/"));
    }
    html.push_str("}</script>");
    html.push_str(&page.after);
    let body = bytes::Bytes::from(html);
    snapshot.cache_response(KEY.to_string(), body.clone());
    Ok(body)
}

fn asset(path: &str, headers: &HeaderMap) -> Option<Response> {
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mime = file.metadata.mimetype().to_string();
    Some(revalidated(headers, &etag, cache, &mime, || {
        Ok(bytes::Bytes::from(file.data.into_owned()))
    }))
}

/// A response with its ETag and Cache-Control, or 304 when the client already has this ETag;
/// the body is only made when it is sent.
fn revalidated(
    headers: &HeaderMap,
    etag: &str,
    cache: &'static str,
    content_type: &str,
    body: impl FnOnce() -> Result<bytes::Bytes, ApiError>,
) -> Response {
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = match body() {
            Ok(body) => Response::new(Body::from(body)),
            Err(e) => return e.into_response(),
        };
        if let Ok(v) = HeaderValue::from_str(content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    response
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash[..12].iter().map(|b| format!("{b:02x}")).collect()
}

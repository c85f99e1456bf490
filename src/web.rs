//! The Mini App's files, embedded in the binary at build time.
//!
//! Vite names built assets by content hash, so `/assets/*` are cached forever; `index.html`
//! must be revalidated on every open so a new release is picked up at once.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::error::ApiError;

#[derive(Embed)]
#[folder = "$WEB_ASSETS_DIR"]
struct Assets;

/// Path prefixes that belong to the server, never to the single-page app.
const SERVER_PREFIXES: &[&str] = &["api/", "dev/", "images/", "telegram/", "1c/", "bitrix/"];

pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "only GET here",
        )
        .into_response();
    }
    let path = uri.path().trim_start_matches('/');
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
    asset("index.html", &headers)
        .unwrap_or_else(|| ApiError::not_found("index.html").into_response())
}

fn asset(path: &str, headers: &HeaderMap) -> Option<Response> {
    let path = if path.is_empty() { "index.html" } else { path };
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else if path == "index.html" {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(file.data.into_owned()));
        let mime = file.metadata.mimetype();
        if let Ok(v) = HeaderValue::from_str(mime) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Some(response)
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash[..12].iter().map(|b| format!("{b:02x}")).collect()
}

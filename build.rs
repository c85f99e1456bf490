//! Picks the web assets to embed: the built Mini App (`web/dist`) when it exists, otherwise a
//! small fallback page, so the server builds before `npm run build` has ever run.
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dist = Path::new(&root).join("web/dist");
    let dir = if dist.join("index.html").exists() {
        dist
    } else {
        Path::new(&root).join("web/fallback")
    };
    println!("cargo:rustc-env=WEB_ASSETS_DIR={}", dir.display());
    println!("cargo:rerun-if-changed=web/dist");
    println!("cargo:rerun-if-changed=web/fallback");
    println!("cargo:rerun-if-changed=migrations");
}

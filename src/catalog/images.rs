//! `GET /images/{hash}/{w}x{h}.{jpg|webp}`: product images resized on first request, cached
//! on disk, served with immutable URLs (the hash names the content, the size is fixed).
//!
//! Public requests cannot make the process work or grow without bound: the answers are kept
//! in a memory cache bounded by bytes (each entry also weighs [`ENTRY_OVERHEAD`], which bounds
//! the entries); concurrent requests for one image size wait for a single render
//! (single-flight), and at most `catalog.image_resizes` renders run at once.

use std::io::Cursor;
use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::error::ApiError;
use crate::state::AppState;

/// The only sizes served: a small fixed set keeps the disk cache bounded and URLs shareable.
pub const SIZES: [(u32, u32); 4] = [(160, 160), (320, 320), (640, 640), (1080, 1080)];
const MAX_PIXELS_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
const JPEG_QUALITY: u8 = 82;
/// What an entry of the memory cache weighs beyond its bytes (key, bookkeeping).
pub const ENTRY_OVERHEAD: u64 = 1024;

#[derive(Clone)]
struct ByteWeighter;

impl quick_cache::Weighter<String, Bytes> for ByteWeighter {
    fn weight(&self, _key: &String, value: &Bytes) -> u64 {
        value.len() as u64 + ENTRY_OVERHEAD
    }
}

/// Rendered images in memory, and the gate in front of the decoder.
pub struct Renderer {
    cache: quick_cache::sync::Cache<String, Bytes, ByteWeighter>,
    resizes: tokio::sync::Semaphore,
    renders: std::sync::atomic::AtomicU64,
}

impl Renderer {
    /// `bytes`: the memory cache's size; `resizes`: decodes allowed at once (at least 1).
    pub fn new(bytes: u64, resizes: usize) -> Self {
        let bytes = bytes.max(ENTRY_OVERHEAD);
        Self {
            cache: quick_cache::sync::Cache::with_weighter(
                usize::try_from(bytes / (16 * 1024))
                    .unwrap_or(usize::MAX)
                    .max(16),
                bytes,
                ByteWeighter,
            ),
            resizes: tokio::sync::Semaphore::new(resizes.max(1)),
            renders: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Images decoded and resized since start (not answered from a cache).
    pub fn renders(&self) -> u64 {
        self.renders.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Entries and bytes (with overhead) held in memory.
    pub fn held(&self) -> (usize, u64) {
        (self.cache.len(), self.cache.weight())
    }

    /// The image at `key`: from memory, else from the disk cache, else rendered, with one
    /// caller doing the work for everyone asking for the same key at the same time.
    async fn get(
        &self,
        key: &str,
        source: PathBuf,
        cached: PathBuf,
        (w, h, format): (u32, u32, Format),
    ) -> Result<Bytes, Rendering> {
        let guard = match self.cache.get_value_or_guard_async(key).await {
            Ok(bytes) => return Ok(bytes),
            Err(guard) => guard,
        };
        let bytes = match tokio::fs::read(&cached).await {
            Ok(bytes) => Bytes::from(bytes),
            Err(_) => {
                let _permit = self
                    .resizes
                    .acquire()
                    .await
                    .map_err(|e| Rendering::Join(e.to_string()))?;
                self.renders
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::task::spawn_blocking(move || render(&source, &cached, w, h, format))
                    .await
                    .map_err(|e| Rendering::Join(e.to_string()))?
                    .map_err(Rendering::Failed)
                    .map(Bytes::from)?
            }
        };
        // A failed render drops the guard instead: the next caller tries again.
        let _ = guard.insert(bytes.clone());
        Ok(bytes)
    }
}

enum Rendering {
    Failed(RenderError),
    Join(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Jpeg,
    Webp,
}

fn parse_size(spec: &str) -> Option<(u32, u32, Format)> {
    let (size, ext) = spec.rsplit_once('.')?;
    let format = match ext {
        "jpg" | "jpeg" => Format::Jpeg,
        "webp" => Format::Webp,
        _ => return None,
    };
    let (w, h) = size.split_once('x')?;
    let (w, h) = (w.parse().ok()?, h.parse().ok()?);
    SIZES.contains(&(w, h)).then_some((w, h, format))
}

pub async fn image(
    State(state): State<AppState>,
    Path((hash, spec)): Path<(String, String)>,
) -> Response {
    if hash.len() != 64
        || !hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return ApiError::not_found("image").into_response();
    }
    let Some((w, h, format)) = parse_size(&spec) else {
        let sizes: Vec<String> = SIZES.iter().map(|(w, h)| format!("{w}x{h}")).collect();
        return ApiError::bad_request(
            "invalid_image_size",
            format!("sizes are {} as .jpg or .webp", sizes.join(", ")),
        )
        .into_response();
    };
    let media = state.config.catalog.media_dir.clone();
    let source = media.join(&hash[..2]).join(&hash);
    let ext = if format == Format::Jpeg {
        "jpg"
    } else {
        "webp"
    };
    let cached = media
        .join("cache")
        .join(&hash[..2])
        .join(format!("{hash}-{w}x{h}.{ext}"));
    let key = format!("{hash}-{w}x{h}.{ext}");
    let result = state.images.get(&key, source, cached, (w, h, format)).await;
    match result {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(if format == Format::Jpeg {
                    "image/jpeg"
                } else {
                    "image/webp"
                }),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            response
        }
        Err(Rendering::Failed(RenderError::Missing)) => {
            ApiError::not_found("image").into_response()
        }
        Err(Rendering::Failed(RenderError::Failed(message))) => {
            tracing::warn!(%hash, %message, "image cannot be rendered");
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "image_unreadable",
                "the stored image cannot be decoded",
            )
            .into_response()
        }
        Err(Rendering::Join(e)) => ApiError::internal(e).into_response(),
    }
}

enum RenderError {
    Missing,
    Failed(String),
}

fn render(
    source: &std::path::Path,
    cached: &PathBuf,
    w: u32,
    h: u32,
    format: Format,
) -> Result<Vec<u8>, RenderError> {
    if let Ok(bytes) = std::fs::read(cached) {
        return Ok(bytes);
    }
    let data = std::fs::read(source).map_err(|_| RenderError::Missing)?;
    let mut reader = ImageReader::new(Cursor::new(&data))
        .with_guessed_format()
        .map_err(|e| RenderError::Failed(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PIXELS_SIDE);
    limits.max_image_height = Some(MAX_PIXELS_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| RenderError::Failed(e.to_string()))?;
    // Fit inside the box; never enlarge a small original.
    let img = if img.width() > w || img.height() > h {
        img.thumbnail(w, h)
    } else {
        img
    };
    let mut out = Cursor::new(Vec::new());
    match format {
        Format::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
            let encoder =
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            rgb.write_with_encoder(encoder)
                .map_err(|e| RenderError::Failed(e.to_string()))?;
        }
        Format::Webp => {
            DynamicImage::ImageRgba8(img.to_rgba8())
                .write_to(&mut out, ImageFormat::WebP)
                .map_err(|e| RenderError::Failed(e.to_string()))?;
        }
    }
    let bytes = out.into_inner();
    if let Some(dir) = cached.parent()
        && std::fs::create_dir_all(dir).is_ok()
    {
        let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), fastrand::u64(..)));
        if std::fs::write(&tmp, &bytes).is_ok() {
            let _ = std::fs::rename(&tmp, cached);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many requests for one uncached size: one decode, everyone gets its bytes; the memory
    /// cache stays within its bytes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_render_per_size_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.png");
        image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        })
        .save(&src)
        .unwrap();
        let renderer = std::sync::Arc::new(Renderer::new(64 * 1024, 2));
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let (r, src, dir) = (renderer.clone(), src.clone(), dir.path().to_path_buf());
                tokio::spawn(async move {
                    r.get(
                        "k-640",
                        src,
                        dir.join("c-640.jpg"),
                        (640, 640, Format::Jpeg),
                    )
                    .await
                    .ok()
                    .unwrap()
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        assert_eq!(renderer.renders(), 1, "one decode for 24 requests");
        assert!(answers.windows(2).all(|w| w[0] == w[1]));
        // Other sizes fill the cache past its bytes: it keeps within them.
        for (i, size) in [160u32, 320, 1080].into_iter().enumerate() {
            renderer
                .get(
                    &format!("k-{size}"),
                    src.clone(),
                    dir.path().join(format!("c{i}.jpg")),
                    (size, size, Format::Webp),
                )
                .await
                .ok()
                .unwrap();
        }
        let (_, bytes) = renderer.held();
        assert!(bytes <= 64 * 1024, "{bytes} bytes held for a 64 KiB cache");
    }

    #[test]
    fn only_listed_sizes() {
        assert_eq!(parse_size("320x320.jpg"), Some((320, 320, Format::Jpeg)));
        assert_eq!(
            parse_size("1080x1080.webp"),
            Some((1080, 1080, Format::Webp))
        );
        assert_eq!(parse_size("321x320.jpg"), None);
        assert_eq!(parse_size("320x320.png"), None);
        assert_eq!(parse_size("99999x99999.jpg"), None);
    }

    /// Bitrix sites serve GIFs too (the fake portal's pictures are 1×1 GIFs).
    #[test]
    fn renders_a_gif() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::write(&src, fake_bitrix::picture(0x20_80_c0)).unwrap();
        let bytes = render(&src, &dir.path().join("c.jpg"), 160, 160, Format::Jpeg)
            .ok()
            .unwrap();
        let out = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(out.dimensions(), (1, 1), "never enlarged");
        let image::Rgb([r, g, b]) = *out.get_pixel(0, 0);
        assert!(
            r.abs_diff(0x20) < 8 && g.abs_diff(0x80) < 8 && b.abs_diff(0xc0) < 8,
            "{r} {g} {b}"
        );
    }

    #[test]
    fn resizes_and_caches() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.png");
        image::RgbImage::from_fn(800, 400, |x, _| image::Rgb([(x % 256) as u8, 80, 160]))
            .save(&src)
            .unwrap();
        let cached = dir.path().join("cache/x-320x320.jpg");
        let bytes = render(&src, &cached, 320, 320, Format::Jpeg).ok().unwrap();
        let out = image::load_from_memory(&bytes).unwrap();
        assert_eq!(
            (out.width(), out.height()),
            (320, 160),
            "fits the box, keeps the aspect ratio"
        );
        assert!(cached.exists());
        std::fs::remove_file(&src).unwrap();
        assert!(
            render(&src, &cached, 320, 320, Format::Jpeg).is_ok(),
            "served from the cache"
        );
    }
}

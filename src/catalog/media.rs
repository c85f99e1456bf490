//! Content-addressed image store: a file's SHA-256 is its name, so an image imported twice is
//! stored once and its URL never changes meaning (it can be cached forever).

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {bytes} bytes is over the {limit}-byte limit for images")]
    TooLarge {
        path: String,
        bytes: u64,
        limit: u64,
    },
    #[error("{path}: not a JPEG, PNG, WebP or GIF image")]
    NotAnImage { path: String },
}

#[derive(Debug, Clone)]
pub struct MediaStore {
    dir: PathBuf,
    max_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub hash: String,
    pub mime: &'static str,
    pub bytes: u64,
    /// `false` when the same content was stored before.
    pub new: bool,
}

impl MediaStore {
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        Self {
            dir: dir.into(),
            max_bytes,
        }
    }

    /// The largest image it takes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn path_of(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2.min(hash.len())]).join(hash)
    }

    /// Copies an image file into the store.
    pub fn put_file(&self, source: &Path) -> Result<StoredImage, MediaError> {
        let shown = source.display().to_string();
        let io = |e| MediaError::Io {
            path: shown.clone(),
            source: e,
        };
        let meta = std::fs::metadata(source).map_err(io)?;
        if meta.len() > self.max_bytes {
            return Err(MediaError::TooLarge {
                path: shown,
                bytes: meta.len(),
                limit: self.max_bytes,
            });
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        std::fs::File::open(source)
            .map_err(io)?
            .take(self.max_bytes + 1)
            .read_to_end(&mut data)
            .map_err(io)?;
        self.put_bytes(&data, &shown)
    }

    pub fn put_bytes(&self, data: &[u8], name: &str) -> Result<StoredImage, MediaError> {
        let mime = sniff_mime(data).ok_or_else(|| MediaError::NotAnImage {
            path: name.to_string(),
        })?;
        let hash: String = Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = self.path_of(&hash);
        let io = |e| MediaError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let new = !path.exists();
        if new {
            let dir = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(dir).map_err(io)?;
            // Write then rename: a reader never sees half an image. The temporary name is
            // unique per call: the same content may be stored by two tasks at once.
            let tmp = dir.join(format!(
                ".{hash}.{}.{}.tmp",
                std::process::id(),
                fastrand::u64(..)
            ));
            std::fs::write(&tmp, data).map_err(io)?;
            if let Err(e) = std::fs::rename(&tmp, &path) {
                let _ = std::fs::remove_file(&tmp);
                if !path.exists() {
                    return Err(io(e));
                }
            }
        }
        Ok(StoredImage {
            hash,
            mime,
            bytes: data.len() as u64,
            new,
        })
    }
}

/// The type by content, not by file name: 1C exports name files by GUID with any extension.
pub fn sniff_mime(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    /// Two products may carry the same picture, fetched at the same time.
    #[test]
    fn the_same_content_stored_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path(), 1 << 20);
        let data: Vec<u8> = PNG
            .iter()
            .copied()
            .chain((0..200_000).map(|i| i as u8))
            .collect();
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (store, data) = (&store, &data);
                    s.spawn(move || store.put_bytes(data, &format!("copy {i}")))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let hashes: std::collections::HashSet<String> = results
            .into_iter()
            .map(|r| r.expect("every copy stored").hash)
            .collect();
        assert_eq!(hashes.len(), 1);
        let hash = hashes.into_iter().next().unwrap();
        assert_eq!(std::fs::read(store.path_of(&hash)).unwrap(), data);
        let leftovers = std::fs::read_dir(store.path_of(&hash).parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(leftovers, 1, "no temporary files left");
    }

    #[test]
    fn stores_by_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path(), 1024);
        let a = store.put_bytes(PNG, "a.png").unwrap();
        let b = store.put_bytes(PNG, "copy.jpg").unwrap();
        assert!(a.new && !b.new);
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.mime, "image/png");
        assert_eq!(std::fs::read(store.path_of(&a.hash)).unwrap(), PNG);
    }

    #[test]
    fn refuses_non_images_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path(), 8);
        assert!(matches!(
            store.put_bytes(b"<html>", "x.jpg"),
            Err(MediaError::NotAnImage { .. })
        ));
        let big = dir.path().join("big.png");
        std::fs::write(&big, PNG).unwrap();
        assert!(matches!(
            store.put_file(&big),
            Err(MediaError::TooLarge { .. })
        ));
    }
}

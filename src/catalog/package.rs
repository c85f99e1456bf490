//! What an import reads: XML files in the order 1C means them, found in files, a directory or
//! a zip package as 1C sends it, with the folder that holds the package's images.

use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a zip archive: {message}")]
    Zip { path: String, message: String },
    #[error("{path}: entry {entry:?} points outside the package (absolute path or ..)")]
    UnsafeEntry { path: String, entry: String },
    #[error(
        "{path}: entry {entry:?} expands {ratio}x (limit {limit}x): refusing a possible zip bomb"
    )]
    Ratio {
        path: String,
        entry: String,
        ratio: u64,
        limit: u64,
    },
    #[error("{path}: unpacks to more than {limit} bytes: refusing a possible zip bomb")]
    TooBig { path: String, limit: u64 },
    #[error("{0}: no CommerceML .xml files found")]
    Empty(String),
}

#[derive(Debug, Clone, Copy)]
pub struct ZipLimits {
    pub max_unpacked_bytes: u64,
    pub max_ratio: u64,
}

/// XML files to read, in order, and the folder relative to which `Картинка` paths resolve.
#[derive(Debug)]
pub struct Package {
    pub files: Vec<PathBuf>,
    pub base_dir: PathBuf,
    _unpacked: Option<tempfile::TempDir>,
}

impl Package {
    /// From command-line arguments: XML files, directories holding them, or .zip packages.
    pub fn open(inputs: &[PathBuf], limits: ZipLimits) -> Result<Self, PackageError> {
        let mut files = Vec::new();
        let mut base_dir = None;
        let mut unpacked = None;
        for input in inputs {
            let shown = input.display().to_string();
            let meta = std::fs::metadata(input).map_err(|e| PackageError::Io {
                path: shown.clone(),
                source: e,
            })?;
            if meta.is_dir() {
                files.extend(xml_files_in(input)?);
                base_dir.get_or_insert_with(|| input.clone());
            } else if is_zip(input) {
                let dir = tempfile::tempdir().map_err(|e| PackageError::Io {
                    path: shown.clone(),
                    source: e,
                })?;
                unzip(input, dir.path(), limits)?;
                files.extend(xml_files_in(dir.path())?);
                base_dir.get_or_insert_with(|| dir.path().to_path_buf());
                unpacked = Some(dir);
            } else {
                files.push(input.clone());
                base_dir.get_or_insert_with(|| {
                    input.parent().map(Path::to_path_buf).unwrap_or_default()
                });
            }
        }
        if files.is_empty() {
            return Err(PackageError::Empty(
                inputs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        sort_for_import(&mut files);
        Ok(Self {
            files,
            base_dir: base_dir.unwrap_or_default(),
            _unpacked: unpacked,
        })
    }
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"PK\x03\x04"
}

/// The .xml files directly in `dir` (1C puts images in subfolders, XML at the top).
fn xml_files_in(dir: &Path) -> Result<Vec<PathBuf>, PackageError> {
    let io = |e| PackageError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file()
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        {
            files.push(path);
        }
    }
    Ok(files)
}

/// Classifier and catalog before offers, offers before the prices and stock that refine them:
/// the order in which 1C itself asks a site to import a package.
pub fn sort_for_import(files: &mut [PathBuf]) {
    files.sort_by_key(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        (file_rank(&name), natural_key(&name))
    });
}

pub fn file_rank(name: &str) -> u8 {
    const ORDER: [&str; 6] = [
        "groups",
        "properties",
        "import",
        "offers",
        "prices",
        "rests",
    ];
    ORDER
        .iter()
        .position(|p| name.starts_with(p))
        .map_or(ORDER.len() as u8, |i| i as u8)
}

/// `import10_1.xml` after `import2_1.xml`.
fn natural_key(name: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((
                    digits.parse().unwrap_or(u64::MAX),
                    std::mem::take(&mut text),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    key.push((digits.parse().unwrap_or(0), text));
    key
}

/// Unpacks a zip with the limits a public upload endpoint needs.
pub fn unzip(archive: &Path, into: &Path, limits: ZipLimits) -> Result<u64, PackageError> {
    let shown = archive.display().to_string();
    let io = |e| PackageError::Io {
        path: shown.clone(),
        source: e,
    };
    let file = std::fs::File::open(archive).map_err(io)?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| PackageError::Zip {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| PackageError::Zip {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let Some(relative) = entry.enclosed_name() else {
            return Err(PackageError::UnsafeEntry {
                path: shown,
                entry: name,
            });
        };
        let target = into.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(io)?;
            continue;
        }
        let packed = entry.compressed_size().max(1);
        let ratio = entry.size() / packed;
        if ratio > limits.max_ratio {
            return Err(PackageError::Ratio {
                path: shown,
                entry: name,
                ratio,
                limit: limits.max_ratio,
            });
        }
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut out = std::fs::File::create(&target).map_err(io)?;
        // Declared sizes can lie: count what actually comes out.
        let budget = limits.max_unpacked_bytes.saturating_sub(total);
        let written = std::io::copy(&mut (&mut entry).take(budget + 1), &mut out).map_err(io)?;
        total += written;
        if written > budget {
            return Err(PackageError::TooBig {
                path: shown,
                limit: limits.max_unpacked_bytes,
            });
        }
        if written / packed > limits.max_ratio {
            return Err(PackageError::Ratio {
                path: shown,
                entry: name,
                ratio: written / packed,
                limit: limits.max_ratio,
            });
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn orders_files_as_1c_does() {
        let mut files: Vec<PathBuf> = [
            "rests0_1.xml",
            "offers0_1.xml",
            "import10_1.xml",
            "prices0_1.xml",
            "import2_1.xml",
            "import.xml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        sort_for_import(&mut files);
        assert_eq!(
            names(&files),
            [
                "import.xml",
                "import2_1.xml",
                "import10_1.xml",
                "offers0_1.xml",
                "prices0_1.xml",
                "rests0_1.xml"
            ]
        );
    }

    fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
    }

    const LIMITS: ZipLimits = ZipLimits {
        max_unpacked_bytes: 1 << 20,
        max_ratio: 100,
    };

    #[test]
    fn refuses_entries_outside_the_package() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("evil.zip");
        write_zip(&zip, &[("../../etc/evil.xml", b"<x/>")]);
        let out = dir.path().join("out");
        let err = unzip(&zip, &out, LIMITS).unwrap_err();
        assert!(matches!(err, PackageError::UnsafeEntry { .. }), "{err}");
        assert!(!dir.path().join("etc").exists());
    }

    #[test]
    fn refuses_zip_bombs() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("bomb.zip");
        write_zip(&zip, &[("import.xml", &vec![b' '; 4 << 20])]);
        let err = unzip(&zip, &dir.path().join("out"), LIMITS).unwrap_err();
        assert!(matches!(err, PackageError::Ratio { .. }), "{err}");
        let err = unzip(
            &zip,
            &dir.path().join("out2"),
            ZipLimits {
                max_unpacked_bytes: 1 << 20,
                max_ratio: u64::MAX,
            },
        )
        .unwrap_err();
        assert!(matches!(err, PackageError::TooBig { .. }), "{err}");
    }

    #[test]
    fn opens_a_zip_package_with_images() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("package.zip");
        write_zip(
            &zip,
            &[
                ("offers.xml", b"<a/>"),
                ("import.xml", b"<b/>"),
                ("import_files/ab/abc.jpg", b"\xff\xd8\xff"),
            ],
        );
        let package = Package::open(&[zip], LIMITS).unwrap();
        assert_eq!(names(&package.files), ["import.xml", "offers.xml"]);
        assert!(package.base_dir.join("import_files/ab/abc.jpg").exists());
    }
}

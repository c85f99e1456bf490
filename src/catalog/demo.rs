//! The demo shop's catalog: a small CommerceML package shipped in the binary and imported
//! through the same importer as a real 1C package, the first time `vitrina demo` starts.

use super::import::{ImportError, ImportReport, Importer};
use crate::config::CatalogConfig;
use crate::store::Store;

const IMPORT_XML: &str = include_str!("../../demo/catalog/import.xml");
const OFFERS_XML: &str = include_str!("../../demo/catalog/offers.xml");

/// Imports the demo catalog unless a catalog was published already.
pub async fn seed_if_empty(
    store: &Store,
    config: &CatalogConfig,
) -> Result<Option<ImportReport>, ImportError> {
    if super::current_version(store).await? > 0 {
        return Ok(None);
    }
    let dir = tempfile::tempdir().map_err(|e| ImportError::Read {
        file: "demo".into(),
        line: 0,
        message: e.to_string(),
    })?;
    let mut files = Vec::new();
    for (name, text) in [("import.xml", IMPORT_XML), ("offers.xml", OFFERS_XML)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).map_err(|e| ImportError::Read {
            file: name.into(),
            line: 0,
            message: e.to_string(),
        })?;
        files.push(path);
    }
    Importer::new(store, config)
        .import_files(&files, dir.path(), "demo")
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    use crate::store::testing::TestDb;
    use crate::store_test;

    store_test!(demo_catalog_imports_once, |db: TestDb| async move {
        let media = tempfile::tempdir().unwrap();
        let config = crate::config::CatalogConfig {
            media_dir: media.path().to_path_buf(),
            ..Default::default()
        };
        let report = crate::catalog::demo::seed_if_empty(&db.store, &config)
            .await
            .unwrap()
            .expect("imported");
        assert_eq!((report.products, report.offers), (18, 42));
        assert_eq!(report.warnings_total, 0, "{:?}", report.warnings);
        assert!(
            crate::catalog::demo::seed_if_empty(&db.store, &config)
                .await
                .unwrap()
                .is_none(),
            "not twice"
        );
    });
}

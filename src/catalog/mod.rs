//! The catalog: sections, products, offers (variants) with prices and stock, images.
//!
//! Imports (CommerceML files, the 1C exchange, later Bitrix) write a new catalog version in one
//! transaction; readers see the old catalog or the new one, never half.

use sqlx::Row;

use crate::store::{Store, StoreError};

pub mod answer_cache;
pub mod demo;
pub mod http;
pub mod images;
pub mod import;
pub mod media;
pub mod package;
pub mod query;
pub mod ready;
pub mod search;
pub mod snapshot;

/// The newest published catalog version, 0 before the first import.
pub async fn current_version(store: &Store) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM catalog_versions")
        .fetch_one(store.pool())
        .await?;
    Ok(row.try_get(0)?)
}

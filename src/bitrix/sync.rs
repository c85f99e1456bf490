//! Catalog sync (filled in by the next step).

use super::BitrixError;
use crate::config::Config;
use crate::store::Store;

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncReport {
    pub full: bool,
    pub version: i64,
    pub sections: u64,
    pub products: u64,
    pub prices: u64,
    pub requests: u64,
    pub elapsed_ms: u64,
}

pub async fn sync(
    _client: &bitrix::Client,
    _config: &Config,
    _store: &Store,
    _full: bool,
    _progress: impl FnMut(u64),
) -> Result<SyncReport, BitrixError> {
    Err(BitrixError::Other(
        "catalog sync is not implemented yet".into(),
    ))
}

//! Where an incremental sync resumes, per list: the latest `timestampX` seen and the ids seen at
//! that second, kept in `bitrix_state` between syncs.

use serde_json::Value;

use crate::bitrix::{BitrixError, state_get, state_set};
use crate::store::Store;

/// `(latest timestampX, ids seen at that second)`.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Cursor {
    pub(super) ts: i64,
    pub(super) ids: Vec<i64>,
}

impl Cursor {
    pub(super) fn advance(&mut self, rows: &[Value]) {
        for r in rows {
            let (Some(ts), Some(id)) = (
                r.get("timestampX")
                    .and_then(Value::as_str)
                    .and_then(bitrix::time::parse),
                r.get("id").and_then(bitrix::as_i64),
            ) else {
                continue;
            };
            if ts > self.ts {
                self.ts = ts;
                self.ids.clear();
            }
            if ts == self.ts && !self.ids.contains(&id) {
                self.ids.push(id);
            }
        }
    }
    /// Rows read again only because they sit at the cursor's second.
    pub(super) fn seen(&self, row: &Value) -> bool {
        row.get("timestampX")
            .and_then(Value::as_str)
            .and_then(bitrix::time::parse)
            == Some(self.ts)
            && row
                .get("id")
                .and_then(bitrix::as_i64)
                .is_some_and(|id| self.ids.contains(&id))
    }
}

pub(super) async fn load_cursor(store: &Store, name: &str) -> Result<Option<Cursor>, BitrixError> {
    Ok(state_get(store, name)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok()))
}

pub(super) async fn save_cursor(
    store: &Store,
    name: &str,
    cursor: &Cursor,
) -> Result<(), BitrixError> {
    state_set(
        store,
        name,
        &serde_json::to_string(cursor).unwrap_or_default(),
    )
    .await?;
    Ok(())
}

/// Above this many ids seen in the cursor's second, the boundary is re-read with `>=` and
/// filtered here instead of being excluded with `!@id` (the query string would be too long).
pub(super) const MAX_BOUNDARY_IDS: usize = 1000;

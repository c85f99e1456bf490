//! Stock at checkout: the lines being bought are checked against Bitrix's own stock in one
//! `batch` request (the catalog's products and the offers' variations), so a unit sold on the
//! site since the last sync is not sold twice. Quantity tracing off or «можно купить при
//! нулевом остатке» (`canBuyZero = Y`) means no limit; an inactive or deleted product cannot
//! be bought.
//!
//! When Bitrix does not answer within `bitrix.checkout_stock_timeout` (or refuses), checkout
//! goes ahead on vitrina's own stock, which the sync keeps: a shop keeps selling through a
//! portal outage, and the order reaches Bitrix through the outbox when it is back, where a
//! manager sees any shortage (and the customer hears of it through the master's changes).

use serde_json::{Value, json};

use super::Bitrix;
use super::orders::bitrix_product;
use bitrix::{Command, Safety};

/// A line Bitrix cannot supply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub offer_id: String,
    /// Units Bitrix has (0 for a product no longer sold).
    pub available: i64,
    pub sold: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StockCheckError {
    #[error("Bitrix did not answer the stock check within {0:?}")]
    Timeout(std::time::Duration),
    #[error("Bitrix stock check: {0}")]
    Rest(#[from] bitrix::Error),
}

fn yes(row: &Value, key: &str) -> Option<bool> {
    match row.get(key).and_then(bitrix::as_text).as_deref() {
        Some("Y") => Some(true),
        Some("N") => Some(false),
        _ => None,
    }
}

/// What Bitrix says of `lines` (offer id, quantity wanted): the lines it cannot supply.
pub async fn check(bx: &Bitrix, lines: &[(String, i64)]) -> Result<Vec<Shortage>, StockCheckError> {
    let wanted: Vec<(String, i64, i64)> = lines
        .iter()
        .map(|(offer, q)| (offer.clone(), *q, bitrix_product(offer)))
        .filter(|(_, _, id)| *id > 0)
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = wanted.iter().map(|w| w.2).collect();
    let select = json!([
        "id",
        "iblockId",
        "active",
        "quantity",
        "quantityTrace",
        "canBuyZero"
    ]);
    let cfg = &bx.config.bitrix;
    let mut commands = vec![Command::new(
        "products",
        "catalog.product.list",
        json!({"select": select, "filter": {"iblockId": cfg.catalog_iblock_id, "id": ids}}),
    )];
    if let Some(offers) = cfg.offers_iblock_id {
        commands.push(Command::new(
            "offers",
            "catalog.product.offer.list",
            json!({"select": select, "filter": {"iblockId": offers, "id": ids}}),
        ));
    }
    let timeout = cfg.checkout_stock_timeout;
    let answer = tokio::time::timeout(timeout, bx.client.batch(&commands, false, Safety::Safe))
        .await
        .map_err(|_| StockCheckError::Timeout(timeout))??;
    let mut rows = Vec::new();
    for c in &commands {
        rows.extend(bitrix::items(answer.get(&c.key)?));
    }
    let mut short = Vec::new();
    for (offer, quantity, id) in wanted {
        let row = rows
            .iter()
            .find(|r| r.get("id").and_then(bitrix::as_i64) == Some(id));
        let Some(row) = row.filter(|r| yes(r, "active") != Some(false)) else {
            short.push(Shortage {
                offer_id: offer,
                available: 0,
                sold: false,
            });
            continue;
        };
        let unlimited =
            yes(row, "canBuyZero") == Some(true) || yes(row, "quantityTrace") == Some(false);
        let available = row
            .get("quantity")
            .and_then(bitrix::minor_units)
            .map(|m| m / 100)
            .unwrap_or(0);
        if !unlimited && available < quantity {
            short.push(Shortage {
                offer_id: offer,
                available,
                sold: true,
            });
        }
    }
    Ok(short)
}

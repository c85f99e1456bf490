//! What the site sells an element at and whether: its price (the lowest of the price types
//! customers may buy at, and the price before a discount), its stock as Bitrix counts it
//! (`available`, `canBuyZero`, `quantityTrace`), its VAT, and the SKU properties of offers
//! (size, colour) that the variant picker shows.
//!
//! What REST does not expose is not guessed: catalog discounts and cart rules (Маркетинг →
//! Скидки) have no REST method, so the catalog shows price-type prices, and Bitrix's own total
//! arrives once an order is created there; a highload directory property gives only its
//! values' external codes, so it is listed by `vitrina bitrix check` and left out.

use std::collections::HashMap;

use serde_json::Value;

use crate::config::Config;

/// The package's price type for the price customers pay, and for the struck-through one.
pub(super) const SITE_PRICE: &str = "site";
pub(super) const OLD_PRICE: &str = "old";

/// What the site sells at without counting stock: more than anyone orders at once.
pub(super) const UNLIMITED_STOCK: &str = "1000000";

/// Element fields the stock needs (the catalog's `catalog_product` fields).
pub(super) const STOCK_FIELDS: &[&str] = &[
    "id",
    "iblockId",
    "active",
    "available",
    "quantity",
    "canBuyZero",
    "quantityTrace",
];

/// The price types the sync reads: customers buy at the lowest of `buy`; `old` is shown.
#[derive(Debug, Clone)]
pub(super) struct PriceTypes {
    pub buy: Vec<i64>,
    pub old: Option<i64>,
}

impl PriceTypes {
    pub fn of(config: &Config) -> Self {
        let b = &config.bitrix;
        let mut buy = vec![b.price_type_id];
        for t in &b.price_type_ids {
            if !buy.contains(t) {
                buy.push(*t);
            }
        }
        Self {
            buy,
            old: b.old_price_type_id.filter(|o| *o > 0),
        }
    }

    /// Every type to read.
    pub fn all(&self) -> Vec<i64> {
        let mut all = self.buy.clone();
        if let Some(o) = self.old
            && !all.contains(&o)
        {
            all.push(o);
        }
        all
    }

    /// More than one type: a changed price needs its siblings to know the lowest.
    pub fn several(&self) -> bool {
        self.all().len() > 1
    }
}

/// A price as the package writes it: the decimal text and its currency.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Price {
    pub amount: String,
    pub currency: String,
}

fn amount_of(row: &Value) -> Option<(f64, String)> {
    match row.get("price") {
        Some(Value::Number(n)) => Some((n.as_f64()?, n.to_string())),
        Some(Value::String(s)) => Some((s.trim().parse().ok()?, s.trim().to_string())),
        _ => None,
    }
}

/// Per element id: the price customers pay (the lowest buyable type's) and the old price
/// when it is above that.
pub(super) fn site_prices(
    rows: &[Value],
    types: &PriceTypes,
) -> HashMap<String, (Price, Option<Price>)> {
    let mut buy: HashMap<String, (f64, Price)> = HashMap::new();
    let mut old: HashMap<String, (f64, Price)> = HashMap::new();
    for r in rows {
        let (Some(product), Some(kind), Some((value, amount))) = (
            r.get("productId").and_then(bitrix::as_i64),
            r.get("catalogGroupId").and_then(bitrix::as_i64),
            amount_of(r),
        ) else {
            continue;
        };
        let currency = r
            .get("currency")
            .and_then(bitrix::as_text)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "RUB".into());
        let price = Price { amount, currency };
        let key = product.to_string();
        if types.buy.contains(&kind) {
            let better = buy.get(&key).is_none_or(|(v, _)| value < *v);
            if better {
                buy.insert(key.clone(), (value, price.clone()));
            }
        }
        if types.old == Some(kind) {
            old.insert(key, (value, price));
        }
    }
    buy.into_iter()
        .map(|(k, (value, price))| {
            let was = old
                .remove(&k)
                .filter(|(o, p)| *o > value && p.currency == price.currency)
                .map(|(_, p)| p);
            (k, (price, was))
        })
        .collect()
}

/// Units the site sells of an element, as the package's `Количество`: the quantity when
/// Bitrix counts it; unlimited when it sells without stock (`canBuyZero`, no quantity
/// tracing, or `available` with nothing in stock: the site's defaults said so); none when
/// Bitrix says it is not available.
pub(super) fn stock(row: &Value) -> String {
    let flag = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or("");
    let quantity = match row.get("quantity") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    };
    if flag("available") == "N" {
        return "0".into();
    }
    if flag("canBuyZero") == "Y"
        || flag("quantityTrace") == "N"
        || (flag("available") == "Y" && quantity <= 0.0)
    {
        return UNLIMITED_STOCK.into();
    }
    if quantity <= 0.0 {
        return "0".into();
    }
    // Quantity is what is left after reservations: Bitrix moves reserved units out of it.
    let text = format!("{quantity:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub(super) fn is_active(row: &Value) -> bool {
    row.get("active").and_then(Value::as_str) != Some("N")
}

/// VAT rates by `vatId` from `catalog.vat.list`: `none` (rate null) or the percent.
pub(super) fn vat_rates(rows: &[Value]) -> HashMap<i64, String> {
    rows.iter()
        .filter_map(|r| {
            let id = r.get("id").and_then(bitrix::as_i64)?;
            let rate = match r.get("rate") {
                None | Some(Value::Null) => "none".to_string(),
                Some(v) => {
                    let t = bitrix::as_text(v)?;
                    let n: f64 = t.trim().parse().ok()?;
                    format!("{}", n.round() as i64)
                }
            };
            Some((id, rate))
        })
        .collect()
}

/// How an offer property's values become a characteristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    List,
}

/// An offer property shown as a characteristic.
#[derive(Debug, Clone)]
pub(super) struct SkuProperty {
    pub id: String,
    pub name: String,
    pub kind: Kind,
}

/// The offers block's properties: those shown as characteristics, and those REST cannot
/// give in a readable form (for `vitrina bitrix check`): a highload directory (only its
/// values' external codes), links to elements or sections.
pub(super) fn sku_properties(rows: &[Value]) -> (Vec<SkuProperty>, Vec<String>) {
    let (mut shown, mut unreadable) = (Vec::new(), Vec::new());
    for p in rows {
        if p.get("active").and_then(Value::as_str) == Some("N") {
            continue;
        }
        let (Some(id), Some(kind)) = (
            p.get("id").and_then(bitrix::as_i64),
            p.get("propertyType").and_then(Value::as_str),
        ) else {
            continue;
        };
        let user_type = p.get("userType").and_then(Value::as_str).unwrap_or("");
        let name = p
            .get("name")
            .and_then(bitrix::as_text)
            .unwrap_or_else(|| id.to_string());
        let code = p.get("code").and_then(Value::as_str).unwrap_or("");
        match (kind, user_type) {
            // The link to the parent product, and files (pictures): not characteristics.
            ("E", "SKU") | ("F", _) => {}
            _ if code == "CML2_LINK" => {}
            ("S", "directory") => unreadable.push(format!(
                "{name} (id {id}, {code}): a highload directory; REST gives only its values' external codes"
            )),
            ("L", _) => shown.push(SkuProperty {
                id: id.to_string(),
                name,
                kind: Kind::List,
            }),
            ("S" | "N", _) => shown.push(SkuProperty {
                id: id.to_string(),
                name,
                kind: Kind::Text,
            }),
            (other, _) => unreadable.push(format!(
                "{name} (id {id}, {code}): type {other}{}: a link REST gives as an id only",
                if user_type.is_empty() {
                    String::new()
                } else {
                    format!("/{user_type}")
                }
            )),
        }
    }
    (shown, unreadable)
}

/// An offer's characteristics: `(name, value)` for each shown property it has a value of,
/// list values by their text.
pub(super) fn characteristics(
    row: &Value,
    properties: &[SkuProperty],
    enums: &HashMap<String, String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in properties {
        let values = bitrix::property_values(row.get(format!("property{}", p.id).as_str()));
        let values: Vec<String> = values
            .into_iter()
            .map(|v| match p.kind {
                Kind::List => enums.get(&v).cloned().unwrap_or(v),
                Kind::Text => v,
            })
            .filter(|v| !v.is_empty())
            .collect();
        if !values.is_empty() {
            out.push((p.name.clone(), values.join(", ")));
        }
    }
    out
}

/// `vitrina bitrix check`: which price types the site's visitors buy at against the ones
/// vitrina reads, what REST cannot give (discounts), and offer properties not shown.
pub(super) async fn check(
    client: &bitrix::Client,
    config: &Config,
    report: &mut super::setup::Report,
) {
    use bitrix::Safety;
    let types = PriceTypes::of(config);
    let lists = [
        (
            "catalog.priceType.list",
            serde_json::json!({"select": ["id", "name", "base"], "order": {"id": "ASC"}}),
        ),
        (
            "catalog.priceTypeGroup.list",
            serde_json::json!({"select": ["id", "catalogGroupId", "groupId", "access"],
                "filter": {"groupId": EVERYONE, "access": "Y"}, "order": {"id": "ASC"}}),
        ),
    ];
    let (mut price_types, mut groups) = (Vec::new(), Vec::new());
    match client
        .list_many(&lists, |i, page| {
            if i == 0 {
                price_types.extend(page)
            } else {
                groups.extend(page)
            }
        })
        .await
    {
        Ok(_) => {
            let name = |id: i64| {
                price_types
                    .iter()
                    .find(|t| t.get("id").and_then(bitrix::as_i64) == Some(id))
                    .and_then(|t| t.get("name").and_then(bitrix::as_text))
                    .map(|n| format!("{id} ({n})"))
                    .unwrap_or_else(|| id.to_string())
            };
            let buyable: Vec<i64> = groups
                .iter()
                .filter_map(|g| g.get("catalogGroupId").and_then(bitrix::as_i64))
                .collect();
            let missing: Vec<i64> = buyable
                .iter()
                .copied()
                .filter(|t| !types.buy.contains(t))
                .collect();
            let names = |ids: &[i64]| ids.iter().map(|i| name(*i)).collect::<Vec<_>>().join(", ");
            if !buyable.is_empty() && !missing.is_empty() {
                report.bad(
                    format!(
                        "the site's visitors buy at the lowest of {}, vitrina reads {}",
                        names(&buyable),
                        names(&types.buy)
                    ),
                    format!(
                        "set bitrix.price_type_ids = [{}] (and bitrix.old_price_type_id to the type shown struck through, if any)",
                        missing.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                );
            } else {
                report.ok(format!(
                    "customers pay the lowest of price types {}{}",
                    names(&types.buy),
                    types
                        .old
                        .map(|o| format!("; {} is shown struck through when higher", name(o)))
                        .unwrap_or_default()
                ));
            }
        }
        Err(e) => report.bad(
            format!("cannot list price types: {e}"),
            "grant the catalog scope to the webhook",
        ),
    }
    report.ok(
        "catalog discounts and cart rules (Маркетинг → Скидки) are not readable over REST: the \
         catalog shows price-type prices; Bitrix's final price comes back with the order",
    );
    let Some(offers) = config.bitrix.offers_iblock_id else {
        return;
    };
    let answer = client
        .call(
            "catalog.productProperty.list",
            &serde_json::json!({"select": ["id", "name", "code", "propertyType", "userType", "active"],
                "filter": {"iblockId": offers, "active": "Y"}, "order": {"id": "ASC"}}),
            Safety::Safe,
        )
        .await;
    match answer {
        Ok(a) => {
            let (shown, unreadable) = sku_properties(&bitrix::items(&a.result));
            report.ok(format!(
                "offer properties shown in the variant picker: {}",
                if shown.is_empty() {
                    "none".to_string()
                } else {
                    shown.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(", ")
                }
            ));
            if !unreadable.is_empty() {
                report.ok(format!(
                    "offer properties NOT shown (REST does not give their values): {}; \
                     a list property (type L) with the same values is shown",
                    unreadable.join("; ")
                ));
            }
        }
        Err(e) => report.bad(
            format!("cannot list the offers block's properties: {e}"),
            "check bitrix.offers_iblock_id (catalog.catalog.list shows the SKU block as skuPropertyId's block)",
        ),
    }
}

/// The user group every visitor is in (`Все пользователи`).
const EVERYONE: i64 = 2;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stock_as_bitrix_sells() {
        assert_eq!(stock(&json!({"quantity": 5.0, "available": "Y"})), "5");
        assert_eq!(stock(&json!({"quantity": 2.5, "available": "Y"})), "2.5");
        assert_eq!(stock(&json!({"quantity": 0, "available": "N"})), "0");
        assert_eq!(
            stock(&json!({"quantity": 0, "available": "Y", "canBuyZero": "Y"})),
            UNLIMITED_STOCK
        );
        assert_eq!(
            stock(&json!({"quantity": 3, "quantityTrace": "N"})),
            UNLIMITED_STOCK
        );
        // `D`: the site's default decides, and `available` tells what it decided.
        assert_eq!(
            stock(
                &json!({"quantity": 0, "quantityTrace": "D", "canBuyZero": "D", "available": "Y"})
            ),
            UNLIMITED_STOCK
        );
    }

    #[test]
    fn the_lowest_buyable_price_and_the_old_one_above_it() {
        let types = PriceTypes {
            buy: vec![1, 2],
            old: Some(1),
        };
        let rows = vec![
            json!({"productId": 7, "catalogGroupId": 1, "price": 1000.0, "currency": "RUB"}),
            json!({"productId": 7, "catalogGroupId": 2, "price": "799.50", "currency": "RUB"}),
            json!({"productId": 8, "catalogGroupId": 1, "price": 500, "currency": "RUB"}),
        ];
        let p = site_prices(&rows, &types);
        assert_eq!(p["7"].0.amount, "799.50");
        assert_eq!(p["7"].1.as_ref().unwrap().amount, "1000.0");
        assert_eq!(p["8"].0.amount, "500");
        assert!(p["8"].1.is_none(), "no old price equal to the price paid");
    }

    #[test]
    fn sku_properties_readable_and_not() {
        let rows = vec![
            json!({"id": 10, "name": "Размер", "propertyType": "L", "active": "Y"}),
            json!({"id": 11, "name": "Цвет", "propertyType": "S", "userType": "directory", "code": "COLOR_REF"}),
            json!({"id": 12, "name": "Длина", "propertyType": "N"}),
            json!({"id": 13, "name": "Элемент", "propertyType": "E", "userType": "SKU", "code": "CML2_LINK"}),
            json!({"id": 14, "name": "Бренд", "propertyType": "E", "code": "BRAND"}),
        ];
        let (shown, unreadable) = sku_properties(&rows);
        assert_eq!(
            shown.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["Размер", "Длина"]
        );
        assert_eq!(unreadable.len(), 2);
        assert!(unreadable[0].contains("Цвет"));
        let enums: HashMap<String, String> = [("10".to_string(), "S".to_string())].into();
        let row = json!({"property10": {"valueId": 1, "value": "10"}, "property12": {"valueId": 2, "value": "60.5"}});
        assert_eq!(
            characteristics(&row, &shown, &enums),
            [
                ("Размер".to_string(), "S".to_string()),
                ("Длина".to_string(), "60.5".to_string())
            ]
        );
    }
}

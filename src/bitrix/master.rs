//! A Bitrix order (or deal) read as the master's word: `sale.order.get`'s answer parsed once
//! into a [`MasterUpdate`] (status with its Bitrix name, cancellation and its reason, the paid
//! flag, shipments' deducted flag, tracking number and delivery price, the basket as the
//! managers left it, the total). Anything of a shape the docs do not describe is refused
//! with the raw value, never guessed.

use serde_json::{Value, json};
use sqlx::Row;

use super::Bitrix;
use super::events::PullError;
use crate::orders::master::{Master, MasterLine, MasterStatus, MasterUpdate};
use bitrix::Safety;

fn shape(bitrix_id: i64, what: impl Into<String>, raw: &Value) -> PullError {
    let mut raw = raw.to_string();
    if raw.len() > 500 {
        let mut cut = 500;
        while !raw.is_char_boundary(cut) {
            cut -= 1;
        }
        raw.truncate(cut);
        raw.push('…');
    }
    PullError::Shape {
        bitrix_id,
        what: what.into(),
        raw,
    }
}

/// A Bitrix `Y`/`N` flag (absent: not said).
fn flag(bitrix_id: i64, row: &Value, key: &str) -> Result<Option<bool>, PullError> {
    match row.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match bitrix::as_text(v).as_deref() {
            Some("Y") => Ok(Some(true)),
            Some("N") => Ok(Some(false)),
            _ => Err(shape(bitrix_id, format!("{key} is not Y or N"), v)),
        },
    }
}

fn text(row: &Value, key: &str) -> Option<String> {
    row.get(key)
        .and_then(bitrix::as_text)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The Bitrix names of the order statuses (`sale.statusLang.list`, Russian and English),
/// remembered in `master_statuses`.
pub async fn load_status_names(
    bx: &Bitrix,
) -> Result<Vec<(String, String, Option<String>)>, PullError> {
    let mut rows = Vec::new();
    bx.client
        .list_by_id(
            "sale.statusLang.list",
            &json!({"select": ["statusId", "lid", "name"], "filter": {"lid": ["ru", "en"]}}),
            "statusId",
            |page| rows.extend(page),
        )
        .await?;
    let names = status_names(&rows);
    crate::orders::master::remember_status_names(&bx.store, Master::Bitrix, &names).await?;
    Ok(names)
}

/// (code, Russian name or the only one, English name) from `sale.statusLang.list` rows.
pub fn status_names(rows: &[Value]) -> Vec<(String, String, Option<String>)> {
    let mut out: Vec<(String, String, Option<String>)> = Vec::new();
    for r in rows {
        let (Some(code), Some(lid), Some(name)) =
            (text(r, "statusId"), text(r, "lid"), text(r, "name"))
        else {
            continue;
        };
        let entry = match out.iter_mut().find(|e| e.0 == code) {
            Some(e) => e,
            None => {
                out.push((code.clone(), name.clone(), None));
                out.last_mut().expect("just pushed")
            }
        };
        match lid.as_str() {
            "ru" => entry.1 = name,
            "en" => entry.2 = Some(name),
            _ => {}
        }
    }
    out
}

async fn status(bx: &Bitrix, code: &str) -> Result<MasterStatus, PullError> {
    let mapped = bx.config.bitrix.statuses.get(code).cloned();
    let mut name = crate::orders::master::status_name(&bx.store, Master::Bitrix, code).await?;
    if name.is_none() && mapped.is_none() {
        // A status not seen before (a manager made a new one): one request for the names.
        name = load_status_names(bx)
            .await?
            .into_iter()
            .find(|n| n.0 == code)
            .map(|n| n.1);
    }
    Ok(MasterStatus {
        code: code.to_string(),
        name: name.unwrap_or_else(|| code.to_string()),
        mapped,
    })
}

/// The vitrina offer a Bitrix product id stands for (synced offers carry the Bitrix id, a
/// variation as `<product>#<variation>`).
async fn offer_of_product(bx: &Bitrix, product: i64) -> Result<String, PullError> {
    let id = product.to_string();
    let found: Option<String> =
        sqlx::query("SELECT id FROM offers WHERE id = $1 OR id LIKE $2 ORDER BY id LIMIT 1")
            .bind(&id)
            .bind(format!("%#{id}"))
            .fetch_optional(bx.store.pool())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
    Ok(found.unwrap_or_else(|| format!("bitrix-{id}")))
}

/// `sale.order.get`'s `order` → what the master says.
pub async fn sale_order(
    bx: &Bitrix,
    bitrix_id: i64,
    order: i64,
    row: &Value,
) -> Result<MasterUpdate, PullError> {
    if !row.is_object() {
        return Err(shape(bitrix_id, "no order object", row));
    }
    let code = row
        .get("statusId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| shape(bitrix_id, "no statusId", row))?;
    let mut update = MasterUpdate {
        status: Some(status(bx, code).await?),
        cancelled: flag(bitrix_id, row, "canceled")?,
        cancel_reason: text(row, "reasonCanceled"),
        paid: flag(bitrix_id, row, "payed")?,
        ..MasterUpdate::default()
    };
    if let Some(price) = row.get("price") {
        update.total = Some(
            bitrix::minor_units(price)
                .ok_or_else(|| shape(bitrix_id, "price is no number", price))?,
        );
    }
    if let Some(items) = row.get("basketItems") {
        let Value::Array(items) = items else {
            return Err(shape(bitrix_id, "basketItems is no list", items));
        };
        let ours: Vec<String> =
            sqlx::query("SELECT offer_id FROM order_items WHERE order_id = $1 ORDER BY position")
                .bind(order)
                .fetch_all(bx.store.pool())
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
        let key = super::orders::external_key(order);
        let mut lines = Vec::new();
        for item in items {
            let name = text(item, "name")
                .ok_or_else(|| shape(bitrix_id, "basket item without a name", item))?;
            let price = item
                .get("price")
                .and_then(bitrix::minor_units)
                .ok_or_else(|| shape(bitrix_id, "basket item price", item))?;
            let quantity = item
                .get("quantity")
                .and_then(|q| match q {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .filter(|q| q.fract() == 0.0 && *q >= 0.0)
                .ok_or_else(|| {
                    shape(
                        bitrix_id,
                        "basket item quantity is not a whole number",
                        item,
                    )
                })? as i64;
            // vitrina's own lines carry `vitrina-<order>-<position>`; a manager's line is
            // known by its product.
            let position = text(item, "xmlId")
                .and_then(|x| x.strip_prefix(&format!("{key}-"))?.parse::<usize>().ok());
            let offer_id = match position.and_then(|p| ours.get(p)) {
                Some(offer) => offer.clone(),
                None => match item.get("productId").and_then(bitrix::as_i64) {
                    Some(p) if p > 0 => offer_of_product(bx, p).await?,
                    _ => format!("bitrix-line-{}", text(item, "id").unwrap_or_default()),
                },
            };
            lines.push(MasterLine {
                offer_id,
                name,
                price,
                quantity,
            });
        }
        update.lines = Some(lines);
    }
    if let Some(shipments) = row.get("shipments") {
        let Value::Array(shipments) = shipments else {
            return Err(shape(bitrix_id, "shipments is no list", shipments));
        };
        // The system shipment holds what is not shipped yet; the real ones are the rest.
        let real: Vec<&Value> = shipments
            .iter()
            .filter(|s| text(s, "system").as_deref() != Some("Y"))
            .collect();
        if !real.is_empty() {
            let mut delivery = 0;
            let mut deducted = true;
            for s in &real {
                delivery += s
                    .get("priceDelivery")
                    .map(|p| {
                        bitrix::minor_units(p)
                            .ok_or_else(|| shape(bitrix_id, "shipment priceDelivery", s))
                    })
                    .transpose()?
                    .unwrap_or(0);
                if flag(bitrix_id, s, "canceled")? == Some(true) {
                    continue;
                }
                deducted &= flag(bitrix_id, s, "deducted")? == Some(true);
                if let Some(t) = text(s, "trackingNumber") {
                    update.tracking_number = Some(t);
                }
            }
            update.delivery_price = Some(delivery);
            update.shipped = Some(deducted);
        }
    }
    Ok(update)
}

/// The names of a pipeline's deal stages (`crm.status.list`), remembered in `master_statuses`.
async fn load_stage_names(
    bx: &Bitrix,
    entity: &str,
) -> Result<Vec<(String, String, Option<String>)>, PullError> {
    let answer = bx
        .client
        .call(
            "crm.status.list",
            &json!({"filter": {"ENTITY_ID": entity}, "order": {"SORT": "ASC"}}),
            Safety::Safe,
        )
        .await?;
    let names: Vec<(String, String, Option<String>)> = bitrix::items(&answer.result)
        .iter()
        .filter_map(|r| Some((text(r, "STATUS_ID")?, text(r, "NAME")?, None)))
        .collect();
    crate::orders::master::remember_status_names(&bx.store, Master::Bitrix, &names).await?;
    Ok(names)
}

/// `crm.deal.get`'s answer → what the master says (stage with its name; `LOSE` is a
/// cancellation; the deal's amount is the total).
pub async fn deal(bx: &Bitrix, bitrix_id: i64, row: &Value) -> Result<MasterUpdate, PullError> {
    let stage = row
        .get("STAGE_ID")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| shape(bitrix_id, "no STAGE_ID", row))?;
    // Deals in a pipeline other than the default prefix the stage: `C3:WON`.
    let (pipeline, bare) = match stage.split_once(':') {
        Some((c, bare)) => (c.strip_prefix('C'), bare),
        None => (None, stage),
    };
    let mapped = bx.config.bitrix.statuses.get(stage).cloned();
    let mut name = crate::orders::master::status_name(&bx.store, Master::Bitrix, stage).await?;
    if name.is_none() && mapped.is_none() {
        let entity = match pipeline {
            Some(n) => format!("DEAL_STAGE_{n}"),
            None => "DEAL_STAGE".to_string(),
        };
        name = load_stage_names(bx, &entity)
            .await?
            .into_iter()
            .find(|n| n.0 == stage)
            .map(|n| n.1);
    }
    let mut update = MasterUpdate {
        cancelled: Some(bare == "LOSE"),
        status: Some(MasterStatus {
            code: stage.to_string(),
            name: name.unwrap_or_else(|| stage.to_string()),
            mapped,
        }),
        ..MasterUpdate::default()
    };
    if let Some(amount) = row.get("OPPORTUNITY").filter(|v| !v.is_null()) {
        update.total = Some(
            bitrix::minor_units(amount)
                .ok_or_else(|| shape(bitrix_id, "OPPORTUNITY is no number", amount))?,
        );
    }
    Ok(update)
}

/// What `vitrina bitrix check` says of the order statuses: every Bitrix order status
/// without a mapping (the customer sees its Bitrix name) with a suggested one, and every
/// mapped code the portal does not have.
pub async fn check_statuses(
    client: &bitrix::Client,
    config: &crate::config::Config,
) -> Vec<(bool, String, Option<String>)> {
    let mut out = Vec::new();
    let statuses = client
        .call(
            "sale.status.list",
            &json!({"select": ["id", "type"], "filter": {"type": "O"}}),
            Safety::Safe,
        )
        .await;
    let names = client
        .call(
            "sale.statusLang.list",
            &json!({"select": ["statusId", "lid", "name"], "filter": {"lid": ["ru", "en"]}}),
            Safety::Safe,
        )
        .await;
    let (statuses, names) = match (statuses, names) {
        (Ok(s), Ok(n)) => (
            bitrix::items(&s.result),
            status_names(&bitrix::items(&n.result)),
        ),
        (Err(e), _) | (_, Err(e)) => {
            out.push((
                false,
                format!("cannot read the order statuses: {e}"),
                Some("grant the sale scope".to_string()),
            ));
            return out;
        }
    };
    let codes: Vec<String> = statuses.iter().filter_map(|s| text(s, "id")).collect();
    let name_of = |code: &str| {
        names
            .iter()
            .find(|n| n.0 == code)
            .map(|n| n.1.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let mut unmapped = Vec::new();
    for code in &codes {
        if !config.bitrix.statuses.contains_key(code) {
            let name = name_of(code);
            unmapped.push(format!(
                "bitrix.statuses.{code} = \"{}\"  # «{name}»",
                suggest(&name)
            ));
        }
    }
    if unmapped.is_empty() {
        out.push((
            true,
            format!("every Bitrix order status is mapped ({})", codes.join(", ")),
            None,
        ));
    } else {
        out.push((
            false,
            format!(
                "{} Bitrix order statuses have no mapping: customers see Bitrix's name for them",
                unmapped.len()
            ),
            Some(format!(
                "map them (suggested):\n      {}",
                unmapped.join("\n      ")
            )),
        ));
    }
    for code in config.bitrix.statuses.keys() {
        if !codes.contains(code) {
            out.push((
                false,
                format!("bitrix.statuses maps {code}, a status the portal does not have"),
                Some(format!(
                    "create the status {code} in Bitrix (Магазин → Настройки → Статусы, type «Заказ») or remove it from bitrix.statuses"
                )),
            ));
        }
    }
    out
}

/// A vitrina status for a Bitrix status name, by the words shops use.
pub fn suggest(name: &str) -> &'static str {
    let n = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["отмен", "cancel"]) {
        "cancelled"
    } else if has(&["выполн", "достав", "заверш", "получ", "complet", "deliver"])
    {
        "delivered"
    } else if has(&["оплач", "paid"]) {
        "paid"
    } else if has(&["отправ", "отгруж", "в пути", "ship", "sent"]) {
        "shipped"
    } else if has(&["принят", "нов", "accept", "new"]) {
        "new"
    } else {
        "confirmed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_for_default_statuses() {
        assert_eq!(suggest("Принят, ожидается оплата"), "new");
        assert_eq!(suggest("Оплачен, формируется к отправке"), "paid");
        assert_eq!(suggest("Отправлен"), "shipped");
        assert_eq!(suggest("Отменён"), "cancelled");
        assert_eq!(suggest("Выполнен"), "delivered");
        assert_eq!(suggest("Собирается на складе"), "confirmed");
    }

    #[test]
    fn names_prefer_russian_and_keep_english() {
        let rows = vec![
            json!({"statusId": "N", "lid": "en", "name": "Accepted"}),
            json!({"statusId": "N", "lid": "ru", "name": "Принят"}),
            json!({"statusId": "X", "lid": "en", "name": "Only English"}),
        ];
        assert_eq!(
            status_names(&rows),
            vec![
                ("N".into(), "Принят".into(), Some("Accepted".into())),
                (
                    "X".into(),
                    "Only English".into(),
                    Some("Only English".into())
                ),
            ]
        );
    }
}

//! 1C's own order document (`mode=file`), read into [`Document`]s and turned into what the
//! master says about each order.

use std::collections::BTreeMap;

use quick_xml::events::Event;

use super::DocumentError;
use crate::orders;

/// One line of 1C's document.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DocumentItem {
    pub id: String,
    pub name: String,
    pub price: String,
    pub quantity: String,
}

/// What 1C says of one order.
#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Document {
    pub id: String,
    pub number: String,
    /// ЗначенияРеквизитов: Наименование → Значение.
    pub requisites: BTreeMap<String, String>,
    /// Товары, as 1C has them now (the delivery as `ORDER_DELIVERY`).
    #[serde(default)]
    pub items: Vec<DocumentItem>,
    /// Сумма.
    #[serde(default)]
    pub sum: Option<String>,
}

/// 1C's decimal (`1234.50`, `1 234,5`) as minor units.
pub(super) fn minor(s: &str) -> Option<i64> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let f: f64 = clean.parse().ok()?;
    f.is_finite().then(|| (f * 100.0).round() as i64)
}

/// What 1C's document says, as the master's word: «Отменен», «Проведен», the payment and
/// shipment documents, «Статус заказа» (mapped by `exchange_1c.sale_statuses`, or shown by its
/// own name), and the lines, delivery and sum as 1C has them.
pub fn update_from_1c(
    doc: &Document,
    config: &crate::config::Config,
) -> Result<orders::master::MasterUpdate, DocumentError> {
    let value = |what: &'static str, raw: &str| DocumentError::Value {
        id: doc.id.clone(),
        number: doc.number.clone(),
        what,
        raw: raw.to_string(),
    };
    let flag = |name: &str| -> Result<Option<bool>, DocumentError> {
        match doc.requisites.get(name).map(|v| v.trim().to_lowercase()) {
            None => Ok(None),
            Some(v) if v == "true" || v == "да" => Ok(Some(true)),
            Some(v) if v == "false" || v == "нет" || v.is_empty() => Ok(Some(false)),
            Some(v) => Err(value("not true or false", &v)),
        }
    };
    let filled = |name: &str| {
        doc.requisites
            .get(name)
            .map(|v| !v.trim().is_empty() && !v.starts_with("0001-01-01"))
    };
    let either = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
    };
    let mapped = &config.exchange_1c.sale_statuses;
    // vitrina sends its own status in «Статус заказа»; 1C echoing it back says nothing new.
    let status = doc
        .requisites
        .get("Статус заказа")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .filter(|v| mapped.contains_key(*v) || !config.orders.statuses.iter().any(|s| s == v))
        .map(|v| orders::master::MasterStatus {
            code: v.to_string(),
            name: v.to_string(),
            mapped: mapped.get(v).cloned(),
        });
    let mut update = orders::master::MasterUpdate {
        status,
        cancelled: flag("Отменен")?,
        cancel_reason: doc
            .requisites
            .get("Причина отмены")
            .map(|r| r.trim().to_string()),
        confirmed: flag("Проведен")?,
        paid: either(filled("Дата оплаты по 1С"), filled("Номер оплаты по 1С")),
        shipped: either(
            filled("Дата отгрузки по 1С"),
            filled("Номер отгрузки по 1С"),
        ),
        ..Default::default()
    };
    if update.paid != Some(true) {
        update.paid = None; // 1C not saying "paid" is not 1C saying "unpaid"
    }
    if !doc.items.is_empty() {
        let mut lines = Vec::new();
        let mut delivery = 0;
        for item in &doc.items {
            let price = minor(&item.price).ok_or_else(|| value("ЦенаЗаЕдиницу", &item.price))?;
            if item.id == "ORDER_DELIVERY" {
                delivery += price;
                continue;
            }
            let q = minor(&item.quantity)
                .filter(|q| q % 100 == 0 && *q >= 0)
                .ok_or_else(|| value("Количество is not a whole number", &item.quantity))?;
            lines.push(orders::master::MasterLine {
                offer_id: item.id.clone(),
                name: item.name.clone(),
                price,
                quantity: q / 100,
            });
        }
        update.lines = Some(lines);
        update.delivery_price = Some(delivery);
    }
    if let Some(sum) = &doc.sum {
        update.total = Some(minor(sum).ok_or_else(|| value("Сумма", sum))?);
    }
    Ok(update)
}

/// Reads the Документ elements of a CommerceML orders document (any encoding 1C declares).
pub fn parse(bytes: &[u8]) -> Result<Vec<Document>, String> {
    let text = decode(bytes);
    let mut reader = quick_xml::Reader::from_str(&text);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut docs = Vec::new();
    let mut current: Option<Document> = None;
    let mut item: Option<DocumentItem> = None;
    let mut value = String::new();
    let (mut req_name, mut req_value) = (String::new(), String::new());
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("строка {}: {e}", line_of(&text, reader.buffer_position())))?;
        let (opened, closed) = match &event {
            Event::Eof => break,
            Event::Start(e) => (Some(e.local_name().into_inner().to_string()), false),
            Event::Empty(e) => (Some(e.local_name().into_inner().to_string()), true),
            Event::End(_) => (None, true),
            Event::Text(t) => {
                value.push_str(&t.xml10_content());
                (None, false)
            }
            Event::CData(c) => {
                value.push_str(&c.xml10_content());
                (None, false)
            }
            Event::GeneralRef(r) => {
                match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(ch) => value.push(ch),
                    None => value.push_str(
                        quick_xml::escape::resolve_predefined_entity(r)
                            .ok_or_else(|| format!("неизвестная сущность &{};", &**r))?,
                    ),
                }
                (None, false)
            }
            _ => (None, false),
        };
        if let Some(name) = opened {
            match name.as_str() {
                "Документ" => current = Some(Document::default()),
                "Товар" => item = Some(DocumentItem::default()),
                "ЗначениеРеквизита" => {
                    req_name.clear();
                    req_value.clear();
                }
                _ => {}
            }
            path.push(name);
            value.clear();
        }
        if !closed {
            continue;
        }
        let name = path.pop().unwrap_or_default();
        let parent = path.last().map(String::as_str);
        let grandparent = path.iter().rev().nth(1).map(String::as_str);
        let Some(doc) = current.as_mut() else {
            continue;
        };
        let text = std::mem::take(&mut value).trim().to_string();
        match (parent, name.as_str()) {
            (Some("Документ"), "Ид") => doc.id = text,
            (Some("Документ"), "Номер") => doc.number = text,
            (Some("Документ"), "Сумма") => doc.sum = Some(text),
            (Some("Товар"), field) => {
                if let Some(i) = item.as_mut() {
                    match field {
                        "Ид" => i.id = text,
                        "Наименование" => i.name = text,
                        "ЦенаЗаЕдиницу" => i.price = text,
                        "Количество" => i.quantity = text,
                        _ => {}
                    }
                }
            }
            (Some("Товары"), "Товар") => doc.items.extend(item.take()),
            (Some("ЗначениеРеквизита"), "Наименование") => {
                req_name = text
            }
            (Some("ЗначениеРеквизита"), "Значение") => req_value = text,
            // Only the order's own requisites, not those of its items.
            (Some("ЗначенияРеквизитов"), "ЗначениеРеквизита")
                if grandparent == Some("Документ") =>
            {
                doc.requisites.insert(req_name.clone(), req_value.clone());
            }
            (_, "Документ") => docs.extend(current.take()),
            _ => {}
        }
    }
    Ok(docs)
}

pub(super) fn line_of(text: &str, pos: u64) -> usize {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// UTF-8 (with or without BOM) or the windows-1251 1C usually declares.
pub(super) fn decode(bytes: &[u8]) -> String {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    if head.contains("windows-1251") {
        let (text, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
        return text.replacen("windows-1251", "UTF-8", 1);
    }
    let (text, _) = encoding_rs::UTF_8.decode_with_bom_removal(bytes);
    text.into_owned()
}

//! `type=sale`: orders to 1C and their state back, as 1C-Bitrix does it, so a shop with 1C
//! and no Bitrix is served.
//!
//! `query` answers a CommerceML document with every order that is new or changed since 1C
//! last confirmed it, and remembers which versions it sent; `success` marks exactly those as
//! exported (an order changed in between is sent again next time); `file` takes 1C's own
//! document back and applies what it says about each order (cancelled, posted, paid,
//! shipped, "Статус заказа" mapped or shown by 1C's own name, lines, delivery and sum) as
//! the master's word ([`crate::orders::master`], actor `1c`), whatever `orders.transitions`
//! says.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::events::Event;
use sqlx::Row;

use super::{answer, failure};
use crate::orders::{self, Order};
use crate::outbox::NewJob;
use crate::state::AppState;
use crate::store::{StoreError, now_ms};

/// Orders in one `query` answer at most; the rest follow in the next exchange.
const QUERY_LIMIT: i64 = 500;

/// `mode=query`: the orders 1C has not seen in their current version.
pub async fn query(state: &AppState, session: &str) -> Result<Response, StoreError> {
    let pool = state.store.pool();
    let rows = sqlx::query(
        "SELECT id, customer_id, updated_at FROM orders \
         WHERE exported_1c_at IS NULL OR updated_at > exported_1c_at ORDER BY id LIMIT $1",
    )
    .bind(QUERY_LIMIT)
    .fetch_all(pool)
    .await?;
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM exchange_sale_queries WHERE session_id = $1")
        .bind(session)
        .execute(&mut *tx)
        .await?;
    let mut documents = String::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let customer: i64 = row.try_get("customer_id")?;
        let version: i64 = row.try_get("updated_at")?;
        let Some(order) = orders::load_any(&state.store, id).await? else {
            continue;
        };
        document(
            &mut documents,
            &order,
            customer,
            &state.config.checkout.currency,
        );
        sqlx::query(
            "INSERT INTO exchange_sale_queries (session_id, order_id, version) VALUES ($1, $2, $3)",
        )
        .bind(session)
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    tracing::info!(orders = rows.len(), "1C exchange: orders sent to 1C");
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n\
         <КоммерческаяИнформация ВерсияСхемы=\"2.05\" ДатаФормирования=\"{}\">\n{documents}</КоммерческаяИнформация>\n",
        datetime(now_ms())
    );
    // 1C's own exchange reads windows-1251; characters outside it become &#N; references.
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&xml);
    let mut response = (StatusCode::OK, Body::from(bytes.into_owned())).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=windows-1251"),
    );
    response.extensions_mut().insert(crate::error::Verbatim);
    Ok(response)
}

/// `mode=success`: 1C has loaded what the last `query` of this session sent.
pub async fn success(state: &AppState, session: &str) -> Result<Response, StoreError> {
    let mut tx = state.store.pool().begin().await?;
    let marked = sqlx::query(
        "UPDATE orders SET exported_1c_at = \
             (SELECT q.version FROM exchange_sale_queries q WHERE q.session_id = $1 AND q.order_id = orders.id) \
         WHERE id IN (SELECT order_id FROM exchange_sale_queries WHERE session_id = $1)",
    )
    .bind(session)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM exchange_sale_queries WHERE session_id = $1")
        .bind(session)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(orders = marked, "1C exchange: 1C confirmed the orders");
    Ok(answer(StatusCode::OK, &["success"]))
}

/// `mode=file` for `type=sale`: 1C's document with the orders' state on its side. Each
/// order's state is applied as 1C has it (the master wins); a document that cannot be applied
/// now (an unknown order, the database) becomes an outbox job, so it is retried or ends in
/// the dead letters with its raw values (`vitrina outbox list --state dead`).
pub async fn file(state: &AppState, body: &Bytes) -> Result<Response, StoreError> {
    let documents = match parse(body) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "1C exchange: unreadable orders document");
            return Ok(failure(
                StatusCode::OK,
                &format!("Не удалось прочитать документ заказов: {e}"),
            ));
        }
    };
    let (mut changed, mut deferred) = (0, 0);
    for doc in &documents {
        match apply_document(&state.config, &state.store, &state.outbox, doc).await {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(id = %doc.id, number = %doc.number, error = %e,
                    requisites = ?doc.requisites, "1C exchange: order state not applied now");
                deferred += 1;
                state
                    .outbox
                    .enqueue_now(
                        NewJob::typed(JOB_ORDER_STATE, &OrderStateRef { document: doc })?
                            .dedupe(format!("1c:document:{}:{}", doc.id, now_ms())),
                    )
                    .await?;
            }
        }
    }
    tracing::info!(
        documents = documents.len(),
        changed,
        deferred,
        "1C exchange: orders document from 1C applied"
    );
    Ok(answer(StatusCode::OK, &["success"]))
}

/// An order's state from 1C that could not be applied when it came (outbox job).
pub const JOB_ORDER_STATE: &str = "1c.order_state";

/// The payload of [`JOB_ORDER_STATE`] as the handler reads it.
#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct OrderState {
    pub document: Document,
}

/// [`OrderState`] as it is written, borrowing the document.
#[derive(Debug, serde::Serialize)]
pub struct OrderStateRef<'a> {
    pub document: &'a Document,
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("1C document {id} / {number}: no such order in vitrina (requisites {requisites:?})")]
    UnknownOrder {
        id: String,
        number: String,
        requisites: BTreeMap<String, String>,
    },
    #[error("1C document {id} / {number}: {what}: {raw:?}")]
    Value {
        id: String,
        number: String,
        what: &'static str,
        raw: String,
    },
    #[error(transparent)]
    Master(#[from] orders::master::MasterError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DocumentError> for crate::outbox::JobError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Store(e) => crate::outbox::JobError::retry(e.to_string()),
            DocumentError::Master(e) => e.into(),
            other => crate::outbox::JobError::Permanent(other.to_string()),
        }
    }
}

/// The outbox handler of [`JOB_ORDER_STATE`].
pub fn handlers(state: &AppState) -> crate::outbox::Handlers {
    let state = state.clone();
    crate::outbox::Handlers::new().on(JOB_ORDER_STATE, move |job: crate::outbox::Job| {
        let state = state.clone();
        async move {
            let OrderState { document } = job.parse()?;
            apply_document(&state.config, &state.store, &state.outbox, &document)
                .await
                .map(|_| ())
                .map_err(Into::into)
        }
    })
}

/// Applies one 1C document's state to its order. `Ok(true)` when something changed.
pub async fn apply_document(
    config: &crate::config::Config,
    store: &crate::store::Store,
    outbox: &crate::outbox::Outbox,
    doc: &Document,
) -> Result<bool, DocumentError> {
    let Some(id) = find_order(store, doc).await? else {
        return Err(DocumentError::UnknownOrder {
            id: doc.id.clone(),
            number: doc.number.clone(),
            requisites: doc.requisites.clone(),
        });
    };
    let update = update_from_1c(doc, config)?;
    let changes = orders::master::apply_master_state(
        config,
        store,
        outbox,
        orders::master::Master::OneC,
        id,
        &update,
    )
    .await?;
    Ok(!changes.is_empty())
}

async fn find_order(
    store: &crate::store::Store,
    doc: &Document,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT id FROM orders WHERE CAST(id AS TEXT) = $1 OR number = $2")
        .bind(&doc.id)
        .bind(&doc.number)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

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
fn minor(s: &str) -> Option<i64> {
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

fn line_of(text: &str, pos: u64) -> usize {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// UTF-8 (with or without BOM) or the windows-1251 1C usually declares.
fn decode(bytes: &[u8]) -> String {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    if head.contains("windows-1251") {
        let (text, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
        return text.replacen("windows-1251", "UTF-8", 1);
    }
    let (text, _) = encoding_rs::UTF_8.decode_with_bom_removal(bytes);
    text.into_owned()
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// Minor units as 1C writes sums: `1234.50`.
fn amount(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

fn datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn requisite(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!(
        "      <ЗначениеРеквизита><Наименование>{}</Наименование><Значение>{}</Значение></ЗначениеРеквизита>\n",
        esc(name),
        esc(value)
    ));
}

fn item(out: &mut String, id: &str, name: &str, price: i64, quantity: i64, kind: &str) {
    out.push_str(&format!(
        "      <Товар>\n        <Ид>{}</Ид>\n        <Наименование>{}</Наименование>\n\
         \x20       <БазоваяЕдиница Код=\"796\" НаименованиеПолное=\"Штука\" МеждународноеСокращение=\"PCE\">шт</БазоваяЕдиница>\n\
         \x20       <ЦенаЗаЕдиницу>{}</ЦенаЗаЕдиницу>\n        <Количество>{quantity}</Количество>\n        <Сумма>{}</Сумма>\n\
         \x20       <ЗначенияРеквизитов>\n\
         \x20         <ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>{kind}</Значение></ЗначениеРеквизита>\n\
         \x20         <ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>{kind}</Значение></ЗначениеРеквизита>\n\
         \x20       </ЗначенияРеквизитов>\n      </Товар>\n",
        esc(id),
        esc(name),
        amount(price),
        amount(price * quantity),
    ));
}

/// One order as the Документ 1C's standard exchange loads (the shape 1C-Bitrix sends).
fn document(out: &mut String, order: &Order, customer: i64, currency: &str) {
    let created = datetime(order.created_at);
    let (date, time) = created.split_once('T').unwrap_or((&created, "00:00:00"));
    let currency_1c = if currency == "RUB" {
        "руб"
    } else {
        currency
    };
    out.push_str(&format!(
        "  <Документ>\n    <Ид>{}</Ид>\n    <Номер>{}</Номер>\n    <Дата>{date}</Дата>\n    <Время>{time}</Время>\n\
         \x20   <ХозОперация>Заказ товара</ХозОперация>\n    <Роль>Продавец</Роль>\n    <Валюта>{}</Валюта>\n    <Курс>1</Курс>\n\
         \x20   <Сумма>{}</Сумма>\n",
        order.id,
        esc(&order.number),
        esc(currency_1c),
        amount(order.total.amount),
    ));
    out.push_str(&format!(
        "    <Контрагенты>\n      <Контрагент>\n        <Ид>vitrina-customer-{customer}</Ид>\n        <Наименование>{name}</Наименование>\n\
         \x20       <ПолноеНаименование>{name}</ПолноеНаименование>\n        <Роль>Покупатель</Роль>\n\
         \x20       <Контакты><Контакт><Тип>Телефон рабочий</Тип><Значение>{}</Значение></Контакт></Контакты>\n\
         \x20     </Контрагент>\n    </Контрагенты>\n",
        esc(&order.contact.phone),
        name = esc(&order.contact.name),
    ));
    if let Some(comment) = &order.comment {
        out.push_str(&format!(
            "    <Комментарий>{}</Комментарий>\n",
            esc(comment)
        ));
    }
    out.push_str("    <Товары>\n");
    for line in &order.items {
        let name = match &line.variant {
            Some(v) => format!("{} ({v})", line.name),
            None => line.name.clone(),
        };
        item(
            out,
            &line.offer_id,
            &name,
            line.price,
            line.quantity,
            "Товар",
        );
    }
    if order.delivery.price > 0 {
        item(
            out,
            "ORDER_DELIVERY",
            "Доставка заказа",
            order.delivery.price,
            1,
            "Услуга",
        );
    }
    out.push_str("    </Товары>\n    <ЗначенияРеквизитов>\n");
    let mut address = order.delivery.address.clone().unwrap_or_default();
    if let Some(point) = &order.delivery.pickup_point {
        address = format!("Пункт выдачи: {point}");
    }
    requisite(out, "Метод оплаты", &order.payment_method);
    requisite(out, "Способ доставки", &order.delivery.method);
    requisite(out, "Адрес доставки", &address);
    requisite(
        out,
        "Заказ оплачен",
        if order.payment_state == "paid" {
            "true"
        } else {
            "false"
        },
    );
    requisite(
        out,
        "Отменен",
        if order.status == "cancelled" {
            "true"
        } else {
            "false"
        },
    );
    requisite(out, "Статус заказа", &order.status);
    if let Some(last) = order.timeline.iter().rfind(|e| e.kind == "status") {
        requisite(
            out,
            "Дата изменения статуса",
            &datetime(last.at).replace('T', " "),
        );
    }
    requisite(out, "Сайт", "vitrina");
    out.push_str("    </ЗначенияРеквизитов>\n  </Документ>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(datetime(0), "1970-01-01T00:00:00");
        assert_eq!(datetime(1_764_067_200_000), "2025-11-25T10:40:00");
        assert_eq!(datetime(951_782_400_000), "2000-02-29T00:00:00");
    }

    #[test]
    fn amounts() {
        assert_eq!(amount(123_450), "1234.50");
        assert_eq!(amount(5), "0.05");
    }

    #[test]
    fn reads_1c_document_in_windows_1251() {
        let xml = "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\
            <КоммерческаяИнформация ВерсияСхемы=\"2.05\"><Документ><Ид>42</Ид><Номер>V-000042</Номер>\
            <Товары><Товар><Ид>x</Ид><ЦенаЗаЕдиницу>10.50</ЦенаЗаЕдиницу><Количество>3</Количество><ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование>\
            <Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Товар></Товары>\
            <ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Проведен</Наименование><Значение>true</Значение></ЗначениеРеквизита>\
            <ЗначениеРеквизита><Наименование>Дата оплаты по 1С</Наименование><Значение>2026-11-25T10:00:00</Значение></ЗначениеРеквизита>\
            </ЗначенияРеквизитов></Документ></КоммерческаяИнформация>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(xml);
        let docs = parse(&bytes).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].id, "42");
        assert_eq!(docs[0].number, "V-000042");
        // The item's requisites are not the order's.
        assert!(!docs[0].requisites.contains_key("ВидНоменклатуры"));
        assert_eq!(docs[0].items.len(), 1);
        assert_eq!(docs[0].items[0].id, "x");
        let u = update_from_1c(&docs[0], &crate::config::Config::default()).unwrap();
        assert_eq!(
            (u.confirmed, u.paid, u.shipped),
            (Some(true), Some(true), None)
        );
        assert_eq!(u.status, None);
    }

    #[test]
    fn statuses_mapped_unmapped_and_echoed() {
        let mut config = crate::config::Config::default();
        config.exchange_1c.sale_statuses =
            BTreeMap::from([("[F] Выполнен".to_string(), "delivered".to_string())]);
        let mut doc = Document::default();
        doc.requisites
            .insert("Статус заказа".into(), "[F] Выполнен".into());
        let u = update_from_1c(&doc, &config).unwrap();
        assert_eq!(u.status.unwrap().mapped.as_deref(), Some("delivered"));
        doc.requisites
            .insert("Статус заказа".into(), "[S] Собирается".into());
        let u = update_from_1c(&doc, &config).unwrap();
        let s = u.status.unwrap();
        assert_eq!((s.name.as_str(), s.mapped), ("[S] Собирается", None));
        // Our own status sent back unchanged says nothing.
        doc.requisites.insert("Статус заказа".into(), "new".into());
        assert_eq!(update_from_1c(&doc, &config).unwrap().status, None);
        doc.requisites.insert("Отменен".into(), "maybe".into());
        assert!(matches!(
            update_from_1c(&doc, &config),
            Err(DocumentError::Value { .. })
        ));
        doc.requisites.insert("Отменен".into(), "true".into());
        doc.requisites
            .insert("Дата отгрузки по 1С".into(), "0001-01-01T00:00:00".into());
        let u = update_from_1c(&doc, &config).unwrap();
        assert_eq!((u.cancelled, u.shipped), (Some(true), Some(false)));
    }

    #[test]
    fn the_deferred_document_parses_from_what_is_enqueued() {
        use crate::outbox::{NewJob, testing};
        let mut doc = Document {
            id: "d1".into(),
            number: "A-1".into(),
            sum: Some("10.00".into()),
            ..Default::default()
        };
        doc.requisites.insert("Отменен".into(), "true".into());
        let new = NewJob::typed(JOB_ORDER_STATE, &OrderStateRef { document: &doc }).unwrap();
        let OrderState { document } = testing::claimed(new).parse().unwrap();
        assert_eq!(document, doc);
        testing::assert_refused::<OrderState>(
            JOB_ORDER_STATE,
            serde_json::json!({"doc": {}}),
            "document",
        );
        testing::assert_refused::<OrderState>(
            JOB_ORDER_STATE,
            serde_json::json!({"document": {"id": "d1", "requisites": {}}}),
            "number",
        );
    }

    #[test]
    fn lines_delivery_and_sum() {
        let doc = Document {
            items: vec![
                DocumentItem {
                    id: "a".into(),
                    name: "Чайник".into(),
                    price: "1 200,50".into(),
                    quantity: "2.000".into(),
                },
                DocumentItem {
                    id: "ORDER_DELIVERY".into(),
                    name: "Доставка заказа".into(),
                    price: "300".into(),
                    quantity: "1".into(),
                },
            ],
            sum: Some("2701.00".into()),
            ..Default::default()
        };
        let u = update_from_1c(&doc, &crate::config::Config::default()).unwrap();
        let lines = u.lines.unwrap();
        assert_eq!((lines[0].price, lines[0].quantity), (120_050, 2));
        assert_eq!((u.delivery_price, u.total), (Some(30_000), Some(270_100)));
    }

    #[test]
    fn broken_document_names_the_line() {
        let err = parse("<a>\n<b>\n</a>".as_bytes()).unwrap_err();
        assert!(err.contains("строка"), "{err}");
    }
}

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
use sqlx::Row;

mod read;
mod write;

pub use self::read::{Document, DocumentItem, parse, update_from_1c};
use self::write::{datetime, document};
use super::{answer, failure};
use crate::orders;
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

#[cfg(test)]
mod tests {
    use super::write::amount;
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

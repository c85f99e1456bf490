//! Statuses back from Bitrix: events and a reconciliation poll.
//!
//! `vitrina bitrix setup` binds `OnSaleOrderSaved` (or `ONCRMDEALUPDATE` for deals) to
//! `POST /bitrix/events`. Bitrix posts the event form-encoded (`event`, `data[FIELDS][ID]`,
//! `ts`, `auth[application_token]`); the handler checks the token in constant time, refuses
//! events older than `bitrix.event_max_age` and any it has seen already (event, id, ts), and
//! queues a `bitrix.order_changed` job, which reads the whole order (`sale.order.get`: status,
//! flags, basket, shipments) and applies it as the master's word
//! ([`crate::orders::master::apply_master_state`], actor `bitrix`), so the customer hears of
//! every change from the bot in one message.
//!
//! Events can be lost (the portal's queue gives up on a slow or unreachable handler), so
//! `serve` also polls orders changed since its last poll (`sale.order.list` by `dateUpdate`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sqlx::Row;
use subtle::ConstantTimeEq;

use super::{Bitrix, BitrixError, state_get, state_set};
use crate::config::{BackendKind, OrderTarget};
use crate::state::AppState;
use crate::store::now_ms;
use bitrix::Safety;

const RECONCILE_CURSOR: &str = "reconcile_since";

fn reply(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(json!({ "status": code }))).into_response()
}

/// `POST /bitrix/events`.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let config = &state.config;
    let Some(expected) = config
        .bitrix
        .application_token
        .as_ref()
        .filter(|_| config.backend.kind == BackendKind::Bitrix)
    else {
        return reply(StatusCode::NOT_FOUND, "not_configured");
    };
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let fields: HashMap<String, String> = if is_json {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let get = |p: &str| {
            v.pointer(p).map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        [
            ("event", get("/event")),
            ("data[FIELDS][ID]", get("/data/FIELDS/ID")),
            ("ts", get("/ts")),
            ("auth[application_token]", get("/auth/application_token")),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
    } else {
        form_urlencoded::parse(&body).into_owned().collect()
    };
    let token = fields
        .get("auth[application_token]")
        .map(String::as_str)
        .unwrap_or("");
    if token.is_empty() || !bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes())) {
        tracing::warn!("Bitrix event refused: wrong or missing application_token");
        return reply(StatusCode::FORBIDDEN, "forbidden");
    }
    let event = fields
        .get("event")
        .map(|e| e.to_uppercase())
        .unwrap_or_default();
    if super::stock::is_catalog_event(&event) {
        return super::stock::receive(&state, &event, &fields).await;
    }
    let wanted = match config.bitrix.order_target {
        OrderTarget::SaleOrder => ["ONSALEORDERSAVED", "ONSALEORDERENTITYSAVED"].as_slice(),
        OrderTarget::CrmDeal => ["ONCRMDEALUPDATE"].as_slice(),
    };
    if !wanted.contains(&event.as_str()) {
        return reply(StatusCode::OK, "ignored");
    }
    let (Some(id), Some(ts)) = (
        fields
            .get("data[FIELDS][ID]")
            .and_then(|v| v.parse::<i64>().ok()),
        fields.get("ts").and_then(|v| v.parse::<i64>().ok()),
    ) else {
        return reply(StatusCode::BAD_REQUEST, "malformed");
    };
    let now = now_ms() / 1000;
    let max_age = config.bitrix.event_max_age.as_secs() as i64;
    if ts < now - max_age || ts > now + 300 {
        tracing::warn!(
            event,
            id,
            ts,
            "Bitrix event refused: outside the accepted time window"
        );
        return reply(StatusCode::FORBIDDEN, "stale");
    }
    let key = format!("{event}:{id}:{ts}");
    let inserted = sqlx::query(
        "INSERT INTO bitrix_events (event_key, received_at) VALUES ($1, $2) ON CONFLICT (event_key) DO NOTHING",
    )
    .bind(&key)
    .bind(now_ms())
    .execute(state.store.pool())
    .await;
    match inserted {
        Ok(r) if r.rows_affected() == 0 => return reply(StatusCode::CONFLICT, "duplicate"),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot record a Bitrix event");
            return reply(StatusCode::SERVICE_UNAVAILABLE, "retry");
        }
    }
    let job = super::OrderChanged::job(id).map(|j| j.dedupe(format!("bitrix:event:{key}")));
    let queued = match job {
        Ok(job) => state.outbox.enqueue_now(job).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = queued {
        tracing::error!(error = %e, "cannot queue a Bitrix event");
        return reply(StatusCode::SERVICE_UNAVAILABLE, "retry");
    }
    reply(StatusCode::OK, "accepted")
}

/// Why a Bitrix order could not be read and applied here. The database and outages retry;
/// an answer of a shape vitrina does not expect, or an order that claims to be vitrina's but
/// is unknown here, is a dead letter (`vitrina outbox list --state dead`) logged with the
/// order and the raw value; an order that is simply not vitrina's is logged and left alone.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Rest(#[from] bitrix::Error),
    #[error("Bitrix order {bitrix_id}: unexpected answer ({what}): {raw}")]
    Shape {
        bitrix_id: i64,
        what: String,
        raw: String,
    },
    #[error("Bitrix order {bitrix_id} carries vitrina's key {key}, but vitrina has no such order")]
    UnknownOrder { bitrix_id: i64, key: String },
    #[error("Bitrix order {bitrix_id} is still being created from vitrina's order {order}")]
    NotLinkedYet { bitrix_id: i64, order: i64 },
    #[error("Bitrix order {bitrix_id} is being read by another worker; read again after it")]
    Busy { bitrix_id: i64 },
    #[error(transparent)]
    Master(#[from] crate::orders::master::MasterError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<sqlx::Error> for PullError {
    fn from(e: sqlx::Error) -> Self {
        PullError::Store(crate::store::StoreError::Query(e))
    }
}

impl From<PullError> for crate::outbox::JobError {
    fn from(e: PullError) -> Self {
        use crate::outbox::JobError;
        match e {
            PullError::Rest(e) => super::rest_job_error(e),
            PullError::Store(e) => JobError::retry(e.to_string()),
            PullError::Master(e) => e.into(),
            e @ PullError::NotLinkedYet { .. } => JobError::Retry {
                after: Some(std::time::Duration::from_secs(5)),
                message: e.to_string(),
            },
            e @ PullError::Busy { .. } => JobError::Retry {
                after: Some(std::time::Duration::from_secs(1)),
                message: e.to_string(),
            },
            e @ (PullError::Shape { .. } | PullError::UnknownOrder { .. }) => {
                tracing::warn!(error = %e, "Bitrix order not applied");
                JobError::Permanent(e.to_string())
            }
        }
    }
}

/// The vitrina order linked to a Bitrix order or deal, and whether its creation finished.
async fn order_of(bx: &Bitrix, bitrix_id: i64) -> Result<Option<(i64, bool)>, PullError> {
    let row = sqlx::query("SELECT order_id, complete FROM bitrix_orders WHERE bitrix_id = $1")
        .bind(bitrix_id)
        .fetch_optional(bx.store.pool())
        .await?;
    Ok(match row {
        Some(r) => Some((
            r.try_get("order_id")?,
            r.try_get::<i64, _>("complete")? != 0,
        )),
        None => None,
    })
}

/// vitrina's order id in an external key `vitrina-<id>`.
fn own_key(key: &str) -> Option<i64> {
    key.strip_prefix("vitrina-")?.parse().ok()
}

/// How long one read of an order may hold it (a worker that dies frees it after this).
const PULL_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads one Bitrix order (or deal) and applies what it says here: the master wins.
///
/// Reads of one order take turns (a lease in `bitrix_orders`, across instances): two reads
/// running at once could apply their answers in the other order, and a stale answer (the
/// read-back after creation, say) would step the order back behind a manager's newer change.
/// Taking turns, a read that starts later also sees Bitrix later.
pub async fn pull_order(bx: &Bitrix, bitrix_id: i64) -> Result<(), PullError> {
    let owner = uuid::Uuid::new_v4().simple().to_string();
    let now = now_ms();
    let claimed = sqlx::query(
        "UPDATE bitrix_orders SET pull_owner = $1, pull_until = $2 \
         WHERE bitrix_id = $3 AND (pull_until IS NULL OR pull_until < $4)",
    )
    .bind(&owner)
    .bind(now + crate::store::duration_ms(PULL_LEASE))
    .bind(bitrix_id)
    .bind(now)
    .execute(bx.store.pool())
    .await?
    .rows_affected();
    // No row: not linked (yet), or not vitrina's; `pull_unleased` sorts that out.
    let linked_row = sqlx::query("SELECT 1 FROM bitrix_orders WHERE bitrix_id = $1")
        .bind(bitrix_id)
        .fetch_optional(bx.store.pool())
        .await?
        .is_some();
    if linked_row && claimed == 0 {
        return Err(PullError::Busy { bitrix_id });
    }
    let result = pull_unleased(bx, bitrix_id).await;
    if claimed > 0 {
        sqlx::query(
            "UPDATE bitrix_orders SET pull_owner = NULL, pull_until = NULL \
             WHERE bitrix_id = $1 AND pull_owner = $2",
        )
        .bind(bitrix_id)
        .bind(&owner)
        .execute(bx.store.pool())
        .await?;
    }
    result
}

async fn pull_unleased(bx: &Bitrix, bitrix_id: i64) -> Result<(), PullError> {
    let linked = order_of(bx, bitrix_id).await?;
    let row = match bx.config.bitrix.order_target {
        OrderTarget::SaleOrder => {
            if linked.is_none() {
                // Most orders on a site are the site's own; only vitrina's key makes it ours.
                return unknown_sale_order(bx, bitrix_id).await;
            }
            let answer = bx
                .client
                .call("sale.order.get", &json!({"id": bitrix_id}), Safety::Safe)
                .await?;
            answer.result.get("order").cloned().unwrap_or(Value::Null)
        }
        OrderTarget::CrmDeal => {
            if linked.is_none() {
                tracing::info!(
                    bitrix_id,
                    "Bitrix deal is not one of vitrina's orders; ignored"
                );
                return Ok(());
            }
            bx.client
                .call("crm.deal.get", &json!({"id": bitrix_id}), Safety::Safe)
                .await?
                .result
        }
    };
    let Some((order, complete)) = linked else {
        return Ok(());
    };
    if !complete {
        return Err(PullError::NotLinkedYet { bitrix_id, order });
    }
    apply(bx, bitrix_id, order, &row).await
}

async fn unknown_sale_order(bx: &Bitrix, bitrix_id: i64) -> Result<(), PullError> {
    let answer = bx
        .client
        .call("sale.order.get", &json!({"id": bitrix_id}), Safety::Safe)
        .await?;
    let key = answer
        .result
        .pointer("/order/xmlId")
        .and_then(bitrix::as_text)
        .unwrap_or_default();
    let Some(order) = own_key(&key) else {
        tracing::info!(bitrix_id, xml_id = %key, "Bitrix order is not one of vitrina's; ignored");
        return Ok(());
    };
    let exists = sqlx::query("SELECT id FROM orders WHERE id = $1")
        .bind(order)
        .fetch_optional(bx.store.pool())
        .await?
        .is_some();
    if exists {
        // Created, but its id not stored yet (a lost answer): the order job links it.
        Err(PullError::NotLinkedYet { bitrix_id, order })
    } else {
        Err(PullError::UnknownOrder { bitrix_id, key })
    }
}

async fn apply(bx: &Bitrix, bitrix_id: i64, order: i64, row: &Value) -> Result<(), PullError> {
    let update = match bx.config.bitrix.order_target {
        OrderTarget::SaleOrder => super::master::sale_order(bx, bitrix_id, order, row).await?,
        OrderTarget::CrmDeal => super::master::deal(bx, bitrix_id, row).await?,
    };
    let changes = crate::orders::master::apply_master_state(
        &bx.config,
        &bx.store,
        &bx.outbox,
        crate::orders::master::Master::Bitrix,
        order,
        &update,
    )
    .await?;
    let code = update.status.as_ref().map(|s| s.code.clone());
    sqlx::query("UPDATE bitrix_orders SET bitrix_status = $1, updated_at = $2 WHERE order_id = $3")
        .bind(code)
        .bind(now_ms())
        .bind(order)
        .execute(bx.store.pool())
        .await?;
    if let Some(s) = update.status.as_ref().filter(|s| s.mapped.is_none()) {
        tracing::info!(order, bitrix_id, status = %s.code, name = %s.name,
            "Bitrix status has no mapping in bitrix.statuses: the customer sees Bitrix's name");
    }
    if !changes.is_empty() {
        tracing::debug!(order, bitrix_id, "Bitrix order applied");
    }
    Ok(())
}

/// Queues every vitrina order changed in Bitrix since the last poll for reading (the same
/// job as an event). Returns how many were listed.
pub async fn reconcile(bx: &Bitrix) -> Result<u64, BitrixError> {
    let since = match state_get(&bx.store, RECONCILE_CURSOR).await? {
        Some(s) => s,
        None => bitrix::time::format(now_ms() / 1000 - 24 * 3600),
    };
    let (method, filter, select, date_field, id_field) = match bx.config.bitrix.order_target {
        OrderTarget::SaleOrder => (
            "sale.order.list",
            json!({">=dateUpdate": since}),
            json!(["id", "statusId", "canceled", "payed", "dateUpdate", "xmlId"]),
            "dateUpdate",
            "id",
        ),
        OrderTarget::CrmDeal => (
            "crm.deal.list",
            json!({">=DATE_MODIFY": since, "ORIGINATOR_ID": super::orders::ORIGINATOR}),
            json!(["ID", "STAGE_ID", "DATE_MODIFY"]),
            "DATE_MODIFY",
            "ID",
        ),
    };
    let mut rows = Vec::new();
    let read = bx
        .client
        .list_by_id(
            method,
            &json!({"filter": filter, "select": select}),
            id_field,
            |page| rows.extend(page),
        )
        .await?;
    let mut latest = bitrix::time::parse(&since).unwrap_or(0);
    for row in &rows {
        if let Some(t) = row
            .get(date_field)
            .and_then(Value::as_str)
            .and_then(bitrix::time::parse)
        {
            latest = latest.max(t);
        }
        let Some(id) = row.get(id_field).and_then(bitrix::as_i64) else {
            tracing::warn!(row = %row, "Bitrix reconciliation: a row without an id; skipped");
            continue;
        };
        // Only vitrina's orders: linked here, or carrying vitrina's key (its link was lost).
        let ours = order_of(bx, id)
            .await
            .map_err(|e| BitrixError::Other(e.to_string()))?
            .is_some()
            || row
                .get("xmlId")
                .and_then(bitrix::as_text)
                .is_some_and(|k| own_key(&k).is_some());
        if !ours {
            continue;
        }
        // Read and applied by the same job an event queues, so a bad answer ends in the
        // dead letters with the order and its raw value, and one order never stops the rest.
        let changed = row
            .get(date_field)
            .and_then(bitrix::as_text)
            .unwrap_or_default();
        bx.outbox
            .enqueue_now(
                super::OrderChanged::job(id)?.dedupe(format!("bitrix:reconcile:{id}:{changed}")),
            )
            .await?;
    }
    // `>=`: the boundary second is read again next time (applying is idempotent), so a
    // change in the same second as the last one seen is not missed.
    state_set(&bx.store, RECONCILE_CURSOR, &bitrix::time::format(latest)).await?;
    let cutoff = now_ms() - 2 * bx.config.bitrix.event_max_age.as_millis() as i64;
    sqlx::query("DELETE FROM bitrix_events WHERE received_at < $1")
        .bind(cutoff)
        .execute(bx.store.pool())
        .await?;
    Ok(read)
}

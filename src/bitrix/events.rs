//! Statuses back from Bitrix: events and a reconciliation poll.
//!
//! `vitrina bitrix setup` binds `OnSaleOrderSaved` (or `ONCRMDEALUPDATE` for deals) to
//! `POST /bitrix/events`. Bitrix posts the event form-encoded (`event`, `data[FIELDS][ID]`,
//! `ts`, `auth[application_token]`); the handler checks the token in constant time, refuses
//! events older than `bitrix.event_max_age` and any it has seen already (event, id, ts), and
//! queues a `bitrix.order_changed` job, which reads the order and applies its status through
//! the order flow (`actor = "bitrix"`), so the customer hears of it from the bot.
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

use super::{Bitrix, BitrixError, JOB_ORDER_CHANGED, state_get, state_set};
use crate::config::{BackendKind, OrderTarget};
use crate::outbox::NewJob;
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
    let job = NewJob::new(JOB_ORDER_CHANGED, json!({ "bitrix_id": id }))
        .dedupe(format!("bitrix:event:{key}"));
    if let Err(e) = state.outbox.enqueue_now(job).await {
        tracing::error!(error = %e, "cannot queue a Bitrix event");
        return reply(StatusCode::SERVICE_UNAVAILABLE, "retry");
    }
    reply(StatusCode::OK, "accepted")
}

/// The vitrina order linked to a Bitrix order or deal.
async fn order_of(
    bx: &Bitrix,
    bitrix_id: i64,
) -> Result<Option<(i64, Option<String>)>, BitrixError> {
    let row = sqlx::query(
        "SELECT order_id, bitrix_status FROM bitrix_orders WHERE bitrix_id = $1 AND complete = 1",
    )
    .bind(bitrix_id)
    .fetch_optional(bx.store.pool())
    .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("order_id")?, r.try_get("bitrix_status")?)),
        None => None,
    })
}

/// Reads one Bitrix order (or deal) and applies its status here.
pub async fn pull_order(bx: &Bitrix, bitrix_id: i64) -> Result<(), BitrixError> {
    if order_of(bx, bitrix_id).await?.is_none() {
        return Ok(()); // not one of vitrina's
    }
    let row = match bx.config.bitrix.order_target {
        OrderTarget::SaleOrder => {
            let answer = bx
                .client
                .call("sale.order.get", &json!({"id": bitrix_id}), Safety::Safe)
                .await?;
            answer.result.get("order").cloned().unwrap_or(Value::Null)
        }
        OrderTarget::CrmDeal => {
            bx.client
                .call("crm.deal.get", &json!({"id": bitrix_id}), Safety::Safe)
                .await?
                .result
        }
    };
    apply(bx, bitrix_id, &row).await
}

/// The state of a Bitrix order as one comparable string, and the vitrina statuses it means,
/// in the order they happened.
fn read_state(bx: &Bitrix, row: &Value) -> (String, Vec<String>) {
    let text = |k: &str| {
        row.get(k)
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let map = &bx.config.bitrix.statuses;
    match bx.config.bitrix.order_target {
        OrderTarget::SaleOrder => {
            let (status, canceled, payed) = (text("statusId"), text("canceled"), text("payed"));
            let mut targets = Vec::new();
            if canceled == "Y" {
                targets.push("cancelled".to_string());
            } else {
                if payed == "Y" {
                    targets.push("paid".to_string());
                }
                if let Some(s) = map.get(&status) {
                    targets.push(s.clone());
                }
            }
            (format!("{status}|{canceled}|{payed}"), targets)
        }
        OrderTarget::CrmDeal => {
            let stage = text("STAGE_ID");
            let mut targets = Vec::new();
            if stage == "LOSE" {
                targets.push("cancelled".to_string());
            } else if let Some(s) = map.get(&stage) {
                targets.push(s.clone());
            }
            (stage, targets)
        }
    }
}

async fn apply(bx: &Bitrix, bitrix_id: i64, row: &Value) -> Result<(), BitrixError> {
    let Some((order, seen)) = order_of(bx, bitrix_id).await? else {
        return Ok(());
    };
    let (state, targets) = read_state(bx, row);
    if seen.as_deref() == Some(state.as_str()) {
        return Ok(());
    }
    for target in targets {
        let current: String = sqlx::query("SELECT status FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(bx.store.pool())
            .await?
            .try_get(0)?;
        if current == target {
            continue;
        }
        let allowed = bx
            .config
            .orders
            .transitions
            .get(&current)
            .is_some_and(|to| to.contains(&target));
        if !allowed {
            tracing::info!(order, from = %current, to = %target, "Bitrix status not applicable here; skipped");
            continue;
        }
        crate::orders::set_status(
            &bx.config,
            &bx.store,
            &bx.outbox,
            order,
            &target,
            Some("Bitrix"),
            "bitrix",
        )
        .await
        .map_err(|e| BitrixError::Other(e.detail))?;
    }
    sqlx::query("UPDATE bitrix_orders SET bitrix_status = $1, updated_at = $2 WHERE order_id = $3")
        .bind(&state)
        .bind(now_ms())
        .bind(order)
        .execute(bx.store.pool())
        .await?;
    Ok(())
}

/// Applies every order changed in Bitrix since the last poll. Returns how many were read.
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
        if let Some(id) = row.get(id_field).and_then(bitrix::as_i64) {
            apply(bx, id, row).await?;
        }
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

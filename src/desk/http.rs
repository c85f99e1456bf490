//! The staff desk's endpoints (`/api/v1/staff/*`) and the funnel's `POST /api/v1/events`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use super::funnel::Kind;
use super::store::{self, ListFilter};
use super::summary::{MAX_DAYS, Summary};
use super::{Day, Staff};
use crate::auth::Customer;
use crate::catalog::http::invalid;
use crate::config::{BackendKind, OrderTarget, StaffRole};
use crate::error::{ApiError, AuthErrors, BodyErrors, FieldError, Problem};
use crate::extract::ApiJson;
use crate::orders::{Order, SetStatusError};
use crate::state::AppState;
use crate::telegram::texts::{self, Lang};

/// Telegram's limit on a message's text, in characters.
pub const MESSAGE_LIMIT: usize = 4096;
/// The most orders one list page holds.
const MAX_LIMIT: i64 = 100;

fn lang_of(customer: &Customer) -> Lang {
    Lang::of(customer.language_code.as_deref())
}

/// A status in the staff member's language, capitalised for a list: «Подтверждён».
fn status_name(lang: Lang, status: &str) -> String {
    let name = texts::status(lang, status);
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => name,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusInfo {
    pub code: String,
    /// In the staff member's language (ru, en).
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMe {
    /// `manager` acts (statuses, messages); `viewer` reads only.
    pub role: StaffRole,
    /// Every order status, in the configured order.
    pub statuses: Vec<StatusInfo>,
    /// `orders.transitions`: status → the statuses it may become.
    pub transitions: BTreeMap<String, Vec<String>>,
}

/// Who the caller is on the desk, and the shop's order statuses.
#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff", operation_id = "staff_me",
    security(("tma" = []), ("bearer" = [])),
    responses(
        (status = 200, body = StaffMe),
        (status = 403, description = "`forbidden`: not on the shop's staff", body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn me(State(state): State<AppState>, staff: Staff) -> Json<StaffMe> {
    let lang = lang_of(&staff.customer);
    let o = &state.config.orders;
    Json(StaffMe {
        role: staff.role,
        statuses: o
            .statuses
            .iter()
            .map(|s| StatusInfo {
                code: s.clone(),
                name: status_name(lang, s),
            })
            .collect(),
        transitions: o
            .statuses
            .iter()
            .map(|s| (s.clone(), crate::orders::next_statuses(&state.config, s)))
            .collect(),
    })
}

/// The order list's query (parsed by hand, for `400 invalid_parameter` naming the parameter).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrderListParams {
    /// One of `orders.statuses`.
    status: Option<String>,
    /// Matches the order number, the contact phone (by digits) and the contact name.
    q: Option<String>,
    /// First day, `YYYY-MM-DD` in the shop's time zone (`shop.time_zone`), inclusive.
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive.
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    to: Option<String>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOrderItem {
    pub id: i64,
    pub number: String,
    pub status: String,
    /// The status in the staff member's language, or the master system's own name for it.
    pub status_name: String,
    /// `unpaid`, `paid`, `refunded`.
    pub payment_state: String,
    /// Minor units.
    pub total: i64,
    pub currency: String,
    pub customer_name: String,
    pub phone: String,
    /// Units ordered, all lines together.
    pub items_count: i64,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOrderList {
    pub items: Vec<StaffOrderItem>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

fn parse_day(name: &str, value: &str) -> Result<Day, ApiError> {
    Day::parse(value).ok_or_else(|| invalid(name, "expected a date YYYY-MM-DD"))
}

fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn list_filter(state: &AppState, raw: Option<&str>) -> Result<ListFilter, ApiError> {
    let offset = state.config.shop.utc_offset_ms();
    let mut f = ListFilter {
        limit: 50,
        ..Default::default()
    };
    let (mut from, mut to) = (None, None);
    for (k, v) in pairs(raw) {
        let v = v.trim();
        match k.as_str() {
            _ if v.is_empty() => {}
            "status" => {
                if !state.config.orders.statuses.iter().any(|s| s == v) {
                    return Err(invalid(
                        "status",
                        format!("one of {}", state.config.orders.statuses.join(", ")),
                    ));
                }
                f.status = Some(v.to_string());
            }
            "q" => {
                if v.chars().count() > 100 {
                    return Err(invalid("q", "up to 100 characters"));
                }
                if v.chars().any(char::is_control) {
                    return Err(invalid("q", "no control characters"));
                }
                f.q = Some(v.to_string());
            }
            "from" => from = Some(parse_day("from", v)?),
            "to" => to = Some(parse_day("to", v)?),
            "cursor" => {
                f.before_id = Some(
                    v.parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| invalid("cursor", "not a cursor from this API"))?,
                )
            }
            "limit" => {
                f.limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| invalid("limit", format!("expected 1 to {MAX_LIMIT}")))?
            }
            "_" => {}
            other => return Err(invalid(other, "unknown parameter")),
        }
    }
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        return Err(invalid("from", "after `to`"));
    }
    f.from_ms = from.map(|d| d.start_ms(offset));
    f.until_ms = to.map(|d| d.next().start_ms(offset));
    Ok(f)
}

/// Orders, newest first, filtered by status, text and days, a page at a time.
#[utoipa::path(get, path = "/api/v1/staff/orders", tag = "staff", operation_id = "staff_orders",
    security(("tma" = []), ("bearer" = [])), params(OrderListParams),
    responses(
        (status = 200, body = StaffOrderList),
        (status = 400, description = "`invalid_parameter`, naming the parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not on the shop's staff", body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn orders(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Json<StaffOrderList>, ApiError> {
    let mut f = list_filter(&state, raw.as_deref())?;
    let lang = lang_of(&staff.customer);
    let limit = f.limit;
    f.limit = limit + 1;
    let mut rows = store::list(&state.store, &f).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(StaffOrderList {
        items: rows
            .into_iter()
            .map(|r| StaffOrderItem {
                status_name: r
                    .master_status_name
                    .unwrap_or_else(|| status_name(lang, &r.status)),
                id: r.id,
                number: r.number,
                status: r.status,
                payment_state: r.payment_state,
                total: r.total,
                currency: r.currency,
                customer_name: r.contact_name,
                phone: r.contact_phone,
                items_count: r.items_count,
                created_at: r.created_at,
            })
            .collect(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffCustomer {
    pub telegram_user_id: i64,
    /// The Telegram name.
    pub name: String,
    /// The phone Telegram vouched for, else the profile's, else the order's contact phone.
    pub phone: String,
    pub username: Option<String>,
}

/// Where the order lives in the shop's master system, when it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct MasterRef {
    /// `bitrix` or `1c`; null when the order is only vitrina's (or not exported yet).
    pub system: Option<String>,
    /// The order's id there.
    pub id: Option<String>,
    /// A link to the order in the master's admin (Bitrix); null for 1C.
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOrder {
    /// The order as the customer sees it (items, contact, delivery, payment, timeline).
    pub order: Order,
    pub customer: StaffCustomer,
    pub master: MasterRef,
    /// The statuses the order may move to now (`orders.transitions`).
    pub allowed_next: Vec<String>,
}

/// `https://portal.example` of `https://portal.example/rest/1/code/`.
fn origin(url: &str) -> Option<&str> {
    let scheme = url.find("://")? + 3;
    let end = url[scheme..].find('/').map_or(url.len(), |i| scheme + i);
    Some(&url[..end])
}

async fn detail(state: &AppState, id: i64) -> Result<StaffOrder, ApiError> {
    let order = crate::orders::load_any(&state.store, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let c = store::customer_of(&state.store, id).await?;
    let customer = match c {
        Some(c) => StaffCustomer {
            telegram_user_id: c.telegram_id,
            name: match c.last_name.filter(|l| !l.is_empty()) {
                Some(l) => format!("{} {l}", c.first_name),
                None => c.first_name,
            },
            phone: c
                .phone_verified
                .or(c.phone)
                .unwrap_or_else(|| order.contact.phone.clone()),
            username: c.username,
        },
        None => StaffCustomer {
            telegram_user_id: 0,
            name: order.contact.name.clone(),
            phone: order.contact.phone.clone(),
            username: None,
        },
    };
    let (bitrix_id, in_1c) = store::master_of(&state.store, id).await?;
    let config = &state.config;
    let master = match bitrix_id {
        Some(bx) if config.backend.kind == BackendKind::Bitrix => {
            let base = config
                .bitrix
                .webhook_url
                .as_ref()
                .and_then(|u| origin(u.expose()).map(str::to_string));
            MasterRef {
                system: Some("bitrix".into()),
                id: Some(bx.to_string()),
                url: base.map(|b| match config.bitrix.order_target {
                    OrderTarget::SaleOrder => {
                        format!("{b}/bitrix/admin/sale_order_view.php?ID={bx}&lang=ru")
                    }
                    OrderTarget::CrmDeal => format!("{b}/crm/deal/details/{bx}/"),
                }),
            }
        }
        // 1C keeps the site's id of the order (the document's Ид).
        _ if in_1c => MasterRef {
            system: Some("1c".into()),
            id: Some(id.to_string()),
            url: None,
        },
        _ => MasterRef {
            system: None,
            id: None,
            url: None,
        },
    };
    let allowed_next = crate::orders::next_statuses(config, &order.status);
    Ok(StaffOrder {
        order,
        customer,
        master,
        allowed_next,
    })
}

/// One order with its customer, its master system's id and link, and the next statuses.
#[utoipa::path(get, path = "/api/v1/staff/orders/{id}", tag = "staff", operation_id = "staff_order",
    security(("tma" = []), ("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, body = StaffOrder),
        (status = 400, description = "the id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not on the shop's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn order(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<i64>,
) -> Result<Json<StaffOrder>, ApiError> {
    Ok(Json(detail(&state, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// One of `allowed_next`.
    pub status: String,
    /// Shown in the timeline (up to 1000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

async fn actor(state: &AppState, staff: &Staff) -> Result<String, ApiError> {
    let username = store::username(&state.store, staff.customer.id).await?;
    Ok(super::actor(
        username.as_deref(),
        staff.customer.telegram_id,
    ))
}

/// Moves an order to another status as `orders.transitions` allow (managers only). The
/// customer is told as for any change; in Bitrix mode the change goes to Bitrix.
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/status", tag = "staff", operation_id = "staff_set_status",
    security(("tma" = []), ("bearer" = [])), params(("id" = i64, Path)), request_body = StatusChange,
    responses(
        (status = 200, body = StaffOrder),
        (status = 400, description = "`unknown_status`; or the id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not staff, or a viewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`transition_not_allowed` (with `allowed`: the possible next statuses), `status_changed`", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn set_status(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<StaffOrder>, ApiError> {
    staff.manager()?;
    let note = change
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.contains('\0')) {
        return Err(ApiError::validation(vec![FieldError {
            field: "note".into(),
            code: "invalid_characters".into(),
            message: "no NUL characters".into(),
        }]));
    }
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::validation(vec![FieldError {
            field: "note".into(),
            code: "too_long".into(),
            message: "up to 1000 characters".into(),
        }]));
    }
    let actor = actor(&state, &staff).await?;
    match crate::orders::set_status(
        &state.config,
        &state.store,
        &state.outbox,
        id,
        change.status.trim(),
        note,
        &actor,
    )
    .await
    {
        Ok(_) => {}
        Err(SetStatusError::TransitionNotAllowed { from, to }) => {
            let allowed = crate::orders::next_statuses(&state.config, &from);
            let mut e = ApiError::conflict(
                "transition_not_allowed",
                format!("an order in status {from:?} cannot become {to:?}"),
            );
            e.allowed = Some(allowed);
            return Err(e);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(detail(&state, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMessage {
    /// 1 to 4096 characters (Telegram's limit), sent to the customer as it is.
    pub text: String,
}

fn message_error(code: &str, message: String) -> ApiError {
    ApiError::validation(vec![FieldError {
        field: "text".into(),
        code: code.into(),
        message,
    }])
}

/// Writes to the order's customer through the bot (managers only); the message is kept in
/// the order's timeline (`kind: message`).
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/message", tag = "staff", operation_id = "staff_message",
    security(("tma" = []), ("bearer" = [])), params(("id" = i64, Path)), request_body = StaffMessage,
    responses(
        (status = 200, body = StaffOrder),
        (status = 400, description = "the id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not staff, or a viewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`customer_unreachable`: the customer has not let the bot write, or blocked it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `text` empty (`required`), over 4096 characters (`too_long`) or with a NUL (`invalid_characters`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`bot_not_configured`", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn message(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<StaffMessage>,
) -> Result<Json<StaffOrder>, ApiError> {
    staff.manager()?;
    let text = body.text.trim();
    if text.is_empty() {
        return Err(message_error("required", "write a message".into()));
    }
    if text.contains('\0') {
        return Err(message_error(
            "invalid_characters",
            "no NUL characters".into(),
        ));
    }
    let chars = text.chars().count();
    if chars > MESSAGE_LIMIT {
        return Err(message_error(
            "too_long",
            format!("up to {MESSAGE_LIMIT} characters (Telegram's limit); this one has {chars}"),
        ));
    }
    if !state.config.telegram.has_real_bot_token() {
        return Err(ApiError::unavailable(
            "bot_not_configured",
            "the shop has no bot to send messages (telegram.bot_token)",
        ));
    }
    let row = sqlx::query(
        "SELECT o.status, c.id, c.telegram_id, c.language_code, c.allows_write_to_pm, c.bot_started_at, c.bot_blocked_at \
         FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::not_found("order"))?;
    let status: String = row.try_get(0)?;
    let customer_id: i64 = row.try_get(1)?;
    let chat: i64 = row.try_get(2)?;
    let lang = Lang::of(row.try_get::<Option<String>, _>(3)?.as_deref());
    let allowed: i64 = row.try_get(4)?;
    let started: Option<i64> = row.try_get(5)?;
    let blocked: Option<i64> = row.try_get(6)?;
    if blocked.is_some() || (allowed == 0 && started.is_none()) {
        return Err(ApiError::conflict(
            "customer_unreachable",
            "the customer has not let the bot write to them, or has blocked it: call them instead",
        ));
    }
    let url = format!(
        "{}/orders/{id}",
        state.config.server.public_url.trim_end_matches('/')
    );
    let call = crate::telegram::notify::BotCall {
        method: "sendMessage".into(),
        params: json!({
            "chat_id": chat,
            "text": text,
            "reply_markup": {"inline_keyboard": [[{"text": texts::open_order(lang), "web_app": {"url": url}}]]},
        }),
        customer_id: Some(customer_id),
        staff_order: None,
    };
    let job = call.job()?;
    let actor = actor(&state, &staff).await?;
    store::add_message(&state.store, &state.outbox, id, &status, text, &actor, job).await?;
    Ok(Json(detail(&state, id).await?))
}

/// A range of days from the query (`from`, `to`, both required, at most a year).
fn range(raw: Option<&str>) -> Result<(Day, Day), ApiError> {
    let (mut from, mut to) = (None, None);
    for (k, v) in pairs(raw) {
        match k.as_str() {
            "from" => from = Some(parse_day("from", v.trim())?),
            "to" => to = Some(parse_day("to", v.trim())?),
            "_" => {}
            other => return Err(invalid(other, "unknown parameter")),
        }
    }
    let from = from.ok_or_else(|| invalid("from", "required: a date YYYY-MM-DD"))?;
    let to = to.ok_or_else(|| invalid("to", "required: a date YYYY-MM-DD"))?;
    if from > to {
        return Err(invalid("from", "after `to`"));
    }
    if to.0 - from.0 + 1 > MAX_DAYS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "range_too_long",
            format!("a range of at most {MAX_DAYS} days (a year); ask for less"),
        ));
    }
    Ok((from, to))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RangeParams {
    /// First day, `YYYY-MM-DD` in the shop's time zone (`shop.time_zone`).
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    from: String,
    /// Last day, inclusive; at most 366 days after `from`.
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    to: String,
}

/// Orders and revenue per day, average order, paid share, top products and the funnel.
#[utoipa::path(get, path = "/api/v1/staff/summary", tag = "staff", operation_id = "staff_summary",
    security(("tma" = []), ("bearer" = [])), params(RangeParams),
    responses(
        (status = 200, body = Summary),
        (status = 400, description = "`invalid_parameter`, naming the parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not on the shop's staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`range_too_long`: more than a year", body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn summary(
    State(state): State<AppState>,
    _staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Json<Summary>, ApiError> {
    let (from, to) = range(raw.as_deref())?;
    Ok(Json(
        super::summary::summary(&state.config, &state.store, from, to).await?,
    ))
}

/// The orders placed on the days `from..=to` as CSV for Excel (UTF-8 with BOM, `;`).
#[utoipa::path(get, path = "/api/v1/staff/orders.csv", tag = "staff", operation_id = "staff_orders_csv",
    security(("tma" = []), ("bearer" = [])), params(RangeParams),
    responses(
        (status = 200, description = "UTF-8 with a BOM, `;`-separated, CRLF", body = String, content_type = "text/csv"),
        (status = 400, description = "`invalid_parameter`, naming the parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not on the shop's staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`range_too_long`: more than a year", body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn orders_csv(
    State(state): State<AppState>,
    _staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (from, to) = range(raw.as_deref())?;
    let bytes = super::csv::export(&state.config, &state.store, from, to).await?;
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"orders-{from}-{to}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Event {
    /// `product_view`.
    pub kind: String,
    /// The product viewed (with `product_view`).
    #[serde(default)]
    pub product_id: Option<String>,
}

/// Counts a step of the funnel the server cannot see (a product page shown). Once per
/// customer, product and day; nothing personal is kept.
#[utoipa::path(post, path = "/api/v1/events", tag = "staff", operation_id = "record_event",
    security(("tma" = []), ("bearer" = [])), request_body = Event,
    responses(
        (status = 204, description = "counted (or counted already today)"),
        (status = 422, description = "`validation_failed`: an unknown `kind`, or a `product_id` not in the catalog", body = Problem, content_type = "application/problem+json"),
        AuthErrors, BodyErrors,
    ))]
pub async fn event(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(event): ApiJson<Event>,
) -> Result<StatusCode, ApiError> {
    let field = |field: &str, code: &str, message: &str| {
        ApiError::validation(vec![FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }])
    };
    match event.kind.as_str() {
        "product_view" => {
            let id = event.product_id.as_deref().unwrap_or("");
            if state.catalog.snapshot().product(id).is_none() {
                return Err(field(
                    "product_id",
                    "unknown",
                    "no such product in the catalog",
                ));
            }
            state
                .funnel
                .note(&state.store, Kind::ProductView, customer.id, id)
                .await;
            Ok(StatusCode::NO_CONTENT)
        }
        _ => Err(field("kind", "unknown", "expected product_view")),
    }
}

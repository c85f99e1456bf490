//! A fake of the Telegram Bot API (<https://core.telegram.org/bots/api>), small and honest:
//!
//! - `POST /bot<token>/<method>` with a JSON (or form) body; answers the documented envelopes
//!   `{"ok":true,"result":…}` and `{"ok":false,"error_code":N,"description":"…","parameters":{…}}`;
//!   a wrong token answers 401 "Unauthorized", an unknown method 404 "Not Found";
//! - Telegram's broadcast limits for messages (30 per second overall, 1 per second per private
//!   chat, 20 per minute per group): a call over a limit gets 429 "Too Many Requests: retry
//!   after N" with `parameters.retry_after`, and is counted as a violation;
//! - failures on demand: 429, 5xx, a chat that blocked the bot (403 "Forbidden: bot was blocked
//!   by the user"), slow answers;
//! - every accepted call recorded; updates queued for `getUpdates` (long polling);
//! - `answerInlineQuery`, refused as Telegram refuses a malformed answer;
//! - `createInvoiceLink`, `answerPreCheckoutQuery`, `refundStarPayment` for payments; a 54-FZ
//!   receipt in `provider_data` is checked as the provider would (sums to the kopeck);
//! - the test environment's path `/bot<token>/test/<method>`, counted apart;
//! - `setMyCommands` / `getMyCommands` / `deleteMyCommands` per scope and language, refusing
//!   what Telegram refuses (a command outside 1-32 of `a-z0-9_`, a description outside 1-256
//!   characters, more than 100 commands, an unknown scope or one without its `chat_id`);
//! - messages: a text outside 1-4096 characters, and a `web_app` button outside a private
//!   chat (Telegram allows those "only in private chats between a user and the bot"), are
//!   refused as Telegram refuses them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// Message limits, as Telegram documents them for bots; tests may scale them.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_second: usize,
    pub per_chat: Duration,
    pub per_group_minute: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_second: 30,
            per_chat: Duration::from_secs(1),
            per_group_minute: 20,
        }
    }
}

/// A call the fake accepted.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    /// Recent message sends: overall and per chat, for the limits.
    recent: VecDeque<Instant>,
    per_chat: HashMap<String, VecDeque<Instant>>,
    violations: usize,
    blocked: HashSet<String>,
    /// Queued failures for the next message sends: (status, retry_after).
    failures: VecDeque<(u16, Option<u64>)>,
    injected: usize,
    delay: Duration,
    updates: VecDeque<Value>,
    next_message_id: i64,
    invoices: usize,
    /// Calls that came to the test environment's path.
    test_calls: usize,
    /// Command lists by (scope as JSON text, language code).
    commands: HashMap<(String, String), Value>,
}

#[derive(Clone)]
pub struct FakeBot {
    pub token: String,
    pub url: String,
    limits: Limits,
    inner: Arc<Mutex<Inner>>,
}

const MESSAGE_METHODS: &[&str] = &["sendMessage", "sendPhoto", "editMessageText", "copyMessage"];

impl FakeBot {
    /// Serves on a free loopback port until the runtime stops.
    pub async fn start(token: &str, limits: Limits) -> std::io::Result<Self> {
        Self::start_on(
            "127.0.0.1:0"
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
            token,
            limits,
        )
        .await
    }

    pub async fn start_on(addr: SocketAddr, token: &str, limits: Limits) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let bot = FakeBot {
            token: token.to_string(),
            url: format!("http://{local}"),
            limits,
            inner: Arc::new(Mutex::new(Inner {
                next_message_id: 1,
                ..Inner::default()
            })),
        };
        let app = Router::new()
            .route("/{bot}/{method}", post(handle).get(handle))
            .route("/{bot}/test/{method}", post(handle_test).get(handle_test))
            .with_state(bot.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(bot)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Accepted calls, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Value> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .map(|c| c.params.clone())
            .collect()
    }

    /// Message sends refused for going over a limit (not counting injected 429s).
    pub fn violations(&self) -> usize {
        self.lock().violations
    }

    /// Injected failures that were served.
    pub fn injected(&self) -> usize {
        self.lock().injected
    }

    /// The chat has blocked the bot: sends to it get 403.
    pub fn block(&self, chat_id: i64) {
        self.lock().blocked.insert(chat_id.to_string());
    }

    /// The next message send fails with `status` (429 carries `retry_after` seconds).
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.lock().failures.push_back((status, retry_after));
    }

    /// Calls made at `/bot<token>/test/<method>` (Telegram's test environment).
    pub fn test_environment_calls(&self) -> usize {
        self.lock().test_calls
    }

    /// Every call waits this long before answering (a slow network).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// The commands set for a scope (`{"type": "default"}` when none was given) and a
    /// language code ("" for all languages), as `getMyCommands` would answer.
    pub fn commands(&self, scope: &Value, language_code: &str) -> Option<Value> {
        self.lock()
            .commands
            .get(&(scope_key(Some(scope)), language_code.to_string()))
            .cloned()
    }

    /// Queues an update for `getUpdates`; `update_id` is the caller's.
    pub fn push_update(&self, update: Value) {
        self.lock().updates.push_back(update);
    }

    fn respond(&self, method: &str, params: Value) -> (StatusCode, Value) {
        let mut s = self.lock();
        let now = Instant::now();
        let is_message = MESSAGE_METHODS.contains(&method);
        if let Err(why) = check_message(method, &params) {
            return error(400, None, &why);
        }
        if is_message {
            if let Some((status, retry_after)) = s.failures.pop_front() {
                s.injected += 1;
                return error(status, retry_after, "injected");
            }
            let chat = chat_key(&params);
            if s.blocked.contains(&chat) {
                return error(403, None, "Forbidden: bot was blocked by the user");
            }
            // The limits, over sliding windows of what was accepted.
            while s
                .recent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                s.recent.pop_front();
            }
            let group = chat.starts_with('-');
            let window = if group {
                Duration::from_secs(60)
            } else {
                self.limits.per_chat
            };
            let cap = if group {
                self.limits.per_group_minute
            } else {
                1
            };
            let chat_sends = s.per_chat.entry(chat.clone()).or_default();
            while chat_sends
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                chat_sends.pop_front();
            }
            let over_chat = chat_sends.len() >= cap;
            let over_all = s.recent.len() >= self.limits.per_second;
            if over_chat || over_all {
                s.violations += 1;
                return error(429, Some(1), "Too Many Requests: retry after 1");
            }
            s.recent.push_back(now);
            s.per_chat.entry(chat).or_default().push_back(now);
        }
        s.calls.push(Call {
            method: method.to_string(),
            params: params.clone(),
            at: now,
        });
        let result = match method {
            "getMe" => {
                json!({"id": 1000000001u64, "is_bot": true, "first_name": "Vitrina Test Shop", "username": "vitrina_test_bot", "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false})
            }
            "sendMessage" | "sendPhoto" | "copyMessage" => {
                let id = s.next_message_id;
                s.next_message_id += 1;
                json!({"message_id": id, "date": 1_700_000_000, "chat": {"id": params.get("chat_id").cloned().unwrap_or(Value::Null), "type": "private"}, "text": params.get("text").cloned().unwrap_or(Value::Null)})
            }
            "editMessageText" => {
                json!({"message_id": params.get("message_id").cloned().unwrap_or(Value::Null), "date": 1_700_000_000, "chat": {"id": params.get("chat_id").cloned().unwrap_or(Value::Null), "type": "private"}, "text": params.get("text").cloned().unwrap_or(Value::Null)})
            }
            "getUpdates" => {
                let offset = params.get("offset").and_then(Value::as_i64).unwrap_or(0);
                s.updates
                    .retain(|u| u.get("update_id").and_then(Value::as_i64).unwrap_or(0) >= offset);
                Value::Array(s.updates.iter().take(100).cloned().collect())
            }
            "createInvoiceLink" => {
                if let Err(why) = check_receipt(&params) {
                    return error(400, None, &why);
                }
                s.invoices += 1;
                json!(format!("https://t.me/$fakeinvoice{}", s.invoices))
            }
            "answerInlineQuery" => {
                if let Err(why) = check_inline_answer(&params) {
                    return error(400, None, &why);
                }
                json!(true)
            }
            "getWebhookInfo" => {
                json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0})
            }
            "setMyCommands" => {
                let key = match check_commands(&params) {
                    Ok(key) => key,
                    Err(why) => return error(400, None, &why),
                };
                s.commands.insert(key, params["commands"].clone());
                json!(true)
            }
            "deleteMyCommands" | "getMyCommands" => {
                let key = match command_key(&params) {
                    Ok(key) => key,
                    Err(why) => return error(400, None, &why),
                };
                if method == "deleteMyCommands" {
                    s.commands.remove(&key);
                    json!(true)
                } else {
                    s.commands.get(&key).cloned().unwrap_or(json!([]))
                }
            }
            "setWebhook"
            | "deleteWebhook"
            | "setChatMenuButton"
            | "setMyDescription"
            | "setMyShortDescription"
            | "answerCallbackQuery"
            | "answerPreCheckoutQuery"
            | "refundStarPayment" => json!(true),
            _ => return error(404, None, "Not Found: method not found"),
        };
        (StatusCode::OK, json!({"ok": true, "result": result}))
    }
}

/// A scope as a map key: `{"type": "default"}` when absent.
fn scope_key(scope: Option<&Value>) -> String {
    match scope {
        None | Some(Value::Null) => json!({"type": "default"}).to_string(),
        Some(s) => {
            // Keys in a fixed order, chat ids as numbers or strings as given.
            let mut m = serde_json::Map::new();
            for k in ["type", "chat_id", "user_id"] {
                if let Some(v) = s.get(k) {
                    m.insert(k.to_string(), v.clone());
                }
            }
            Value::Object(m).to_string()
        }
    }
}

/// The (scope, language) of `setMyCommands`, `getMyCommands`, `deleteMyCommands`
/// (core.telegram.org/bots/api#botcommandscope): a known scope type with the ids it needs,
/// and a language code that is empty or two letters (ISO 639-1).
fn command_key(params: &Value) -> Result<(String, String), String> {
    let scope = params.get("scope").filter(|s| !s.is_null());
    if let Some(s) = scope {
        let has = |k: &str| {
            s.get(k)
                .is_some_and(|v| v.is_i64() || v.as_str().is_some_and(|t| !t.is_empty()))
        };
        match s.get("type").and_then(Value::as_str) {
            Some(
                "default" | "all_private_chats" | "all_group_chats" | "all_chat_administrators",
            ) => {}
            Some("chat" | "chat_administrators") if has("chat_id") => {}
            Some("chat_member") if has("chat_id") && has("user_id") => {}
            Some("chat" | "chat_administrators" | "chat_member") => {
                return Err("Bad Request: chat_id is empty".into());
            }
            _ => return Err("Bad Request: unsupported scope type".into()),
        }
    }
    let lang = params
        .get("language_code")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !(lang.is_empty() || (lang.len() == 2 && lang.bytes().all(|b| b.is_ascii_lowercase()))) {
        return Err("Bad Request: LANG_CODE_INVALID".into());
    }
    Ok((scope_key(scope), lang.to_string()))
}

/// `setMyCommands`: at most 100 commands, each 1-32 characters of lower-case English
/// letters, digits and underscores, with a description of 1-256 characters.
fn check_commands(params: &Value) -> Result<(String, String), String> {
    let key = command_key(params)?;
    let commands = params
        .get("commands")
        .and_then(Value::as_array)
        .ok_or("Bad Request: commands must be an array")?;
    if commands.len() > 100 {
        return Err("Bad Request: too many commands".into());
    }
    for c in commands {
        let command = c.get("command").and_then(Value::as_str).unwrap_or("");
        if command.is_empty()
            || command.len() > 32
            || !command
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err("Bad Request: BOT_COMMAND_INVALID".into());
        }
        let description = c.get("description").and_then(Value::as_str).unwrap_or("");
        let n = description.chars().count();
        if n == 0 || n > 256 {
            return Err("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID".into());
        }
    }
    Ok(key)
}

/// What Telegram refuses in a message: `sendMessage` / `editMessageText` text outside 1-4096
/// characters, and an inline keyboard `web_app` button in a chat that is not private (ids of
/// groups and channels are negative).
fn check_message(method: &str, params: &Value) -> Result<(), String> {
    if matches!(method, "sendMessage" | "editMessageText") {
        let n = params
            .get("text")
            .and_then(Value::as_str)
            .map_or(0, |t| t.trim().chars().count());
        if n == 0 {
            return Err("Bad Request: message text is empty".into());
        }
        if n > 4096 {
            return Err("Bad Request: message is too long".into());
        }
    }
    if !MESSAGE_METHODS.contains(&method) {
        return Ok(());
    }
    let group = chat_key(params).starts_with('-');
    let web_app = params
        .pointer("/reply_markup/inline_keyboard")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .any(|b| b.get("web_app").is_some());
    if group && web_app {
        return Err("Bad Request: BUTTON_TYPE_INVALID".into());
    }
    Ok(())
}

/// What the Bot API refuses in `answerInlineQuery` (core.telegram.org/bots/api#answerinlinequery):
/// no query id, more than 50 results, a result without a type or with an id that is empty,
/// over 64 bytes or repeated, a `next_offset` over 64 bytes, a photo without `photo_url` and
/// `thumbnail_url`, an article without `title` and `input_message_content`, and an inline
/// keyboard button without exactly one action.
fn check_inline_answer(params: &Value) -> Result<(), String> {
    if params
        .get("inline_query_id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("Bad Request: inline_query_id is empty".into());
    }
    let results = params
        .get("results")
        .and_then(Value::as_array)
        .ok_or("Bad Request: results must be an array")?;
    if results.len() > 50 {
        return Err("Bad Request: RESULTS_TOO_MUCH".into());
    }
    if params
        .get("next_offset")
        .and_then(Value::as_str)
        .is_some_and(|o| o.len() > 64)
    {
        return Err("Bad Request: NEXT_OFFSET_INVALID".into());
    }
    let mut ids = std::collections::HashSet::new();
    for r in results {
        let id = r.get("id").and_then(Value::as_str).unwrap_or("");
        if id.is_empty() || id.len() > 64 {
            return Err("Bad Request: RESULT_ID_INVALID".into());
        }
        if !ids.insert(id.to_string()) {
            return Err("Bad Request: RESULT_ID_DUPLICATE".into());
        }
        let has = |k: &str| {
            r.get(k)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
        };
        match r.get("type").and_then(Value::as_str) {
            Some("photo") if has("photo_url") && has("thumbnail_url") => {}
            Some("article") if has("title") && r.get("input_message_content").is_some() => {}
            Some(t) => return Err(format!("Bad Request: invalid {t} result")),
            None => return Err("Bad Request: result type is missing".into()),
        }
        for row in r
            .pointer("/reply_markup/inline_keyboard")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for button in row.as_array().into_iter().flatten() {
                let actions = [
                    "url",
                    "callback_data",
                    "web_app",
                    "switch_inline_query",
                    "login_url",
                ]
                .iter()
                .filter(|k| button.get(**k).is_some())
                .count();
                if actions != 1 || button.get("text").and_then(Value::as_str).is_none() {
                    return Err("Bad Request: BUTTON_TYPE_INVALID".into());
                }
            }
        }
    }
    Ok(())
}

/// Stands in for the payment provider, which refuses a payment whose 54-FZ receipt
/// (`provider_data.receipt`, ЮKassa's format) does not add up to the invoice to the kopeck,
/// or whose customer contact it is not given. Telegram itself passes `provider_data` on
/// unread; the check is here so that tests see what the provider would refuse.
fn check_receipt(params: &Value) -> Result<(), String> {
    let Some(data) = params.get("provider_data") else {
        return Ok(());
    };
    let data: Value = match data {
        Value::String(s) => serde_json::from_str(s)
            .map_err(|_| "Bad Request: provider_data is not JSON".to_string())?,
        other => other.clone(),
    };
    let Some(receipt) = data.get("receipt") else {
        return Ok(());
    };
    let minor = |v: &str| -> Option<i64> {
        let (whole, frac) = v.split_once('.').unwrap_or((v, "0"));
        if frac.len() > 2 {
            return None;
        }
        Some(whole.parse::<i64>().ok()? * 100 + format!("{frac:0<2}").parse::<i64>().ok()?)
    };
    let items = receipt
        .get("items")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("Bad Request: receipt without items")?;
    let currency = params.get("currency").and_then(Value::as_str).unwrap_or("");
    let mut sum = 0i64;
    for item in items {
        let amount = item
            .pointer("/amount/value")
            .and_then(Value::as_str)
            .and_then(minor)
            .ok_or("Bad Request: receipt item amount.value is not a sum with 2 decimals")?;
        if item.pointer("/amount/currency").and_then(Value::as_str) != Some(currency) {
            return Err("Bad Request: receipt item currency differs from the invoice's".into());
        }
        let quantity = item
            .get("quantity")
            .and_then(Value::as_str)
            .and_then(|q| q.strip_suffix(".00").unwrap_or(q).parse::<i64>().ok())
            .filter(|q| *q > 0)
            .ok_or("Bad Request: receipt item quantity must be a whole positive number")?;
        for key in ["description", "vat_code"] {
            if item.get(key).is_none() {
                return Err(format!("Bad Request: receipt item without {key}"));
            }
        }
        sum += amount * quantity;
    }
    let total: i64 = params
        .get("prices")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .filter_map(|x| x.get("amount").and_then(Value::as_i64))
                .sum()
        })
        .unwrap_or(0);
    if sum != total {
        return Err(format!(
            "Bad Request: receipt items total {sum} differs from the invoice amount {total}"
        ));
    }
    let flag = |k: &str| params.get(k).and_then(Value::as_bool).unwrap_or(false);
    if !(flag("need_email") && flag("send_email_to_provider")
        || flag("need_phone_number") && flag("send_phone_number_to_provider"))
    {
        return Err(
            "Bad Request: a receipt needs the customer's e-mail or phone sent to the provider"
                .into(),
        );
    }
    Ok(())
}

fn chat_key(params: &Value) -> String {
    match params.get("chat_id") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

fn error(status: u16, retry_after: Option<u64>, description: &str) -> (StatusCode, Value) {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(after) = retry_after {
        body["parameters"] = json!({"retry_after": after});
        body["description"] = json!(format!("Too Many Requests: retry after {after}"));
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
}

/// The test environment (`/bot<token>/test/<method>`): the same API, its calls marked.
async fn handle_test(
    State(bot): State<FakeBot>,
    Path((prefix, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    bot.lock().test_calls += 1;
    handle(State(bot), Path((prefix, method)), headers, body).await
}

async fn handle(
    State(bot): State<FakeBot>,
    Path((prefix, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = bot.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if prefix.strip_prefix("bot") != Some(bot.token.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        )
            .into_response();
    }
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let params: Value = if body.is_empty() {
        json!({})
    } else if is_json {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return (StatusCode::BAD_REQUEST, axum::Json(json!({"ok": false, "error_code": 400, "description": "Bad Request: can't parse JSON"}))).into_response(),
        }
    } else {
        let pairs: Vec<(String, String)> = form_pairs(&body);
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, serde_json::from_str(&v).unwrap_or(Value::String(v))))
                .collect(),
        )
    };
    let (status, body) = bot.respond(&method, params);
    (status, axum::Json(body)).into_response()
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

//! The 1C exchange endpoint: the HTTP protocol 1C:Enterprise speaks to 1C-Bitrix sites
//! (`/bitrix/admin/1c_exchange.php`), so 1C can be pointed at vitrina unchanged.
//!
//! `type=sale` (orders to 1C and their state back) lives in [`sale`].
//!
//! `type=catalog`: `checkauth` (Basic auth → session cookie), `init` (zip, file_limit),
//! `file` (uploads, appended chunk by chunk), `import` (answers `progress` until `success`, so
//! a long import never times 1C out), `complete`/`deactivate`. Answers are plain text lines in
//! windows-1251, as 1C expects. Session, uploads and import state are rows in the database:
//! 1C's requests may reach any instance.
//!
//! Who is asking is settled before a body is read: `checkauth` by Basic auth, everything else
//! by the session cookie. Wrong passwords from one address lock it out for a growing time
//! ([`crate::rate_limit::lockout`]); the log names the address and the login, never the
//! password.

use std::net::SocketAddr;
use std::path::{Component, Path};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::catalog::import::Importer;
use crate::catalog::package::{self, ZipLimits};
use crate::state::AppState;
use crate::store::{Store, StoreError, now_ms};

pub mod sale;

pub const COOKIE: &str = "vitrina_1c";
const SESSION_TTL: Duration = Duration::from_secs(24 * 3600);
/// An import whose owner has not reported for this long is taken over by the next poll.
const STALE_AFTER: Duration = Duration::from_secs(60);
const HEARTBEAT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
pub struct ExchangeQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    mode: Option<String>,
    filename: Option<String>,
}

/// A protocol answer: lines of text in windows-1251.
fn answer(status: StatusCode, lines: &[&str]) -> Response {
    let text = lines.join("\n") + "\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
    let mut response = (status, Body::from(bytes.into_owned())).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=windows-1251"),
    );
    response.extensions_mut().insert(crate::error::Verbatim);
    response
}

fn failure(status: StatusCode, message: &str) -> Response {
    answer(status, &["failure", message])
}

pub async fn exchange(
    State(state): State<AppState>,
    Query(q): Query<ExchangeQuery>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| {
        crate::proxy::client_info(c.0.ip(), headers, &state.config.server.trusted_proxies).ip
    });
    let lockout = &state.limits.exchange_1c;
    if let Some(ip) = client
        && let Err(left) = lockout.check(ip, Instant::now())
    {
        return locked_out(left);
    }
    let config = &state.config.exchange_1c;
    let (Some(user), Some(password)) = (&config.user, &config.password) else {
        return failure(
            StatusCode::NOT_FOUND,
            "Обмен с 1С не настроен (exchange_1c.user, exchange_1c.password)",
        );
    };
    let sale = match q.kind.as_deref() {
        Some("catalog") => false,
        Some("sale") if !config.sale => {
            return failure(
                StatusCode::NOT_FOUND,
                "Обмен заказами выключен (exchange_1c.sale = false)",
            );
        }
        Some("sale") => true,
        _ => {
            return failure(
                StatusCode::BAD_REQUEST,
                "Неизвестный тип обмена: ожидается type=catalog или type=sale",
            );
        }
    };
    let mode = q.mode.as_deref().unwrap_or("");
    if mode == "checkauth" {
        if !basic_auth_matches(headers, user, password.expose()) {
            let login = basic_login(headers);
            let outcome = client.map(|ip| lockout.failure(ip, Instant::now()));
            let ip = client.map(|ip| ip.to_string()).unwrap_or_default();
            match outcome {
                Some(crate::rate_limit::lockout::Failure::LockedOut(lock)) => tracing::warn!(
                    client = %ip, login = %login, lockout_s = lock.as_secs(),
                    "1C exchange: wrong user or password; address locked out"
                ),
                Some(crate::rate_limit::lockout::Failure::Counted { left }) => tracing::warn!(
                    client = %ip, login = %login, attempts_left = left,
                    "1C exchange: wrong user or password"
                ),
                None => tracing::warn!(login = %login, "1C exchange: wrong user or password"),
            }
            return failure(StatusCode::UNAUTHORIZED, "Неверный логин или пароль");
        }
        if let Some(ip) = client {
            lockout.success(ip);
        }
        return match open_session(&state.store).await {
            Ok(id) => {
                let timestamp = (now_ms() / 1000).to_string();
                answer(
                    StatusCode::OK,
                    &[
                        "success",
                        COOKIE,
                        &id,
                        &format!("sessid={id}"),
                        &format!("timestamp={timestamp}"),
                    ],
                )
            }
            Err(e) => internal(e),
        };
    }
    let session = match session_of(&state.store, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return failure(
                StatusCode::UNAUTHORIZED,
                "Сессия обмена не найдена или истекла: выполните checkauth",
            );
        }
        Err(e) => return internal(e),
    };
    // Only now, with the caller known, is a body read (up to a file part and some slack).
    let body = if mode == "file" {
        match axum::body::to_bytes(body, config.file_limit + 64 * 1024).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return failure(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Часть файла больше file_limit",
                );
            }
        }
    } else {
        Bytes::new()
    };
    let result = match mode {
        "init" => Ok(answer(
            StatusCode::OK,
            &[
                if config.zip { "zip=yes" } else { "zip=no" },
                &format!("file_limit={}", config.file_limit),
                &format!("sessid={session}"),
            ],
        )),
        "query" if sale => sale::query(&state, &session).await,
        "success" if sale => sale::success(&state, &session).await,
        "file" if sale => sale::file(&state, &body).await,
        "file" => upload(&state, &session, q.filename.as_deref(), body).await,
        "import" => import(&state, &session, q.filename.as_deref()).await,
        "complete" | "deactivate" => Ok(answer(StatusCode::OK, &["success"])),
        other => Ok(failure(
            StatusCode::BAD_REQUEST,
            &format!("Неизвестный режим обмена: {other}"),
        )),
    };
    result.unwrap_or_else(internal)
}

fn internal(e: StoreError) -> Response {
    tracing::error!(error = %e, "1C exchange failed");
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Внутренняя ошибка сервера, подробности в журнале vitrina",
    )
}

/// `429` for an address locked out after wrong passwords, as a protocol answer 1C shows.
fn locked_out(left: Duration) -> Response {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let mut response = failure(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Слишком много неверных паролей с этого адреса; повторите через {secs} с"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

/// The login of a Basic `Authorization` header, for the log (never the password).
fn basic_login(headers: &HeaderMap) -> String {
    let decoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..6)
                .filter(|p| p.eq_ignore_ascii_case("basic "))
                .map(|_| &v[6..])
        })
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        });
    let Some(decoded) = decoded else {
        return "(none)".into();
    };
    let login = decoded.split(|b| *b == b':').next().unwrap_or_default();
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(login);
    let text: String = match std::str::from_utf8(login) {
        Ok(utf8) => utf8.chars().take(64).collect(),
        Err(_) => text.chars().take(64).collect(),
    };
    text.escape_debug().to_string()
}

fn basic_auth_matches(headers: &HeaderMap, user: &str, password: &str) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{user}:{password}");
    // 1C sends the credentials in its own code page; compare bytes as sent.
    let utf8_ok: bool = decoded.ct_eq(expected.as_bytes()).into();
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&expected);
    let cp1251_ok: bool = decoded.ct_eq(&cp1251).into();
    utf8_ok | cp1251_ok
}

async fn open_session(store: &Store) -> Result<String, StoreError> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw)
        .map_err(|e| StoreError::Query(sqlx::Error::Protocol(e.to_string())))?;
    let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let now = now_ms();
    // Old sessions and what they uploaded go when a new one starts.
    sqlx::query("DELETE FROM exchange_chunks WHERE session_id IN (SELECT id FROM exchange_sessions WHERE expires_at < $1)")
        .bind(now)
        .execute(store.pool())
        .await?;
    sqlx::query("DELETE FROM exchange_imports WHERE session_id IN (SELECT id FROM exchange_sessions WHERE expires_at < $1)")
        .bind(now)
        .execute(store.pool())
        .await?;
    sqlx::query("DELETE FROM exchange_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(store.pool())
        .await?;
    sqlx::query("INSERT INTO exchange_sessions (id, kind, created_at, expires_at) VALUES ($1, 'catalog', $2, $3)")
        .bind(&id)
        .bind(now)
        .bind(now + SESSION_TTL.as_millis() as i64)
        .execute(store.pool())
        .await?;
    Ok(id)
}

async fn session_of(store: &Store, headers: &HeaderMap) -> Result<Option<String>, StoreError> {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string());
    let Some(id) = cookie else { return Ok(None) };
    let row = sqlx::query("SELECT id FROM exchange_sessions WHERE id = $1 AND expires_at > $2")
        .bind(&id)
        .bind(now_ms())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|_| id))
}

/// A relative path of plain names: `import.xml`, `import_files/ab/abc.jpg`.
fn valid_filename(name: &str) -> bool {
    let path = Path::new(name);
    !name.is_empty()
        && name.len() <= 512
        && !path.is_absolute()
        && !name.contains('\\')
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}

async fn upload(
    state: &AppState,
    session: &str,
    filename: Option<&str>,
    body: Bytes,
) -> Result<Response, StoreError> {
    let Some(name) = filename.filter(|n| valid_filename(n)) else {
        return Ok(failure(StatusCode::BAD_REQUEST, "Недопустимое имя файла"));
    };
    if body.len() > state.config.exchange_1c.file_limit {
        return Ok(failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Часть файла больше file_limit",
        ));
    }
    let mut tx = state.store.pool().begin().await?;
    let seq: i64 = sqlx::query(
        "SELECT CAST(COALESCE(MAX(seq), -1) + 1 AS BIGINT) FROM exchange_chunks WHERE session_id = $1 AND filename = $2",
    )
    .bind(session)
    .bind(name)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    // A file uploaded again after its import starts over.
    sqlx::query("DELETE FROM exchange_imports WHERE session_id = $1 AND filename = $2")
        .bind(session)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO exchange_chunks (session_id, filename, seq, data) VALUES ($1, $2, $3, $4)",
    )
    .bind(session)
    .bind(name)
    .bind(seq)
    .bind(body.to_vec())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        file = name,
        part = seq + 1,
        bytes = body.len(),
        "1C exchange: file part received"
    );
    Ok(answer(StatusCode::OK, &["success"]))
}

async fn import(
    state: &AppState,
    session: &str,
    filename: Option<&str>,
) -> Result<Response, StoreError> {
    let Some(name) = filename.filter(|n| valid_filename(n)) else {
        return Ok(failure(StatusCode::BAD_REQUEST, "Недопустимое имя файла"));
    };
    let store = &state.store;
    let now = now_ms();
    let claimed = sqlx::query(
        "INSERT INTO exchange_imports (session_id, filename, state, message, owner, updated_at) \
         VALUES ($1, $2, 'running', '', $3, $4) ON CONFLICT (session_id, filename) DO NOTHING",
    )
    .bind(session)
    .bind(name)
    .bind(&state.instance)
    .bind(now)
    .execute(store.pool())
    .await?
    .rows_affected()
        == 1;
    // An import whose instance died is taken over.
    let taken_over = !claimed
        && sqlx::query(
            "UPDATE exchange_imports SET owner = $1, updated_at = $2 \
             WHERE session_id = $3 AND filename = $4 AND state = 'running' AND updated_at < $5",
        )
        .bind(&state.instance)
        .bind(now)
        .bind(session)
        .bind(name)
        .bind(now - STALE_AFTER.as_millis() as i64)
        .execute(store.pool())
        .await?
        .rows_affected()
            == 1;
    if claimed || taken_over {
        tokio::spawn(run_import(
            state.clone(),
            session.to_string(),
            name.to_string(),
        ));
        return Ok(answer(
            StatusCode::OK,
            &["progress", &format!("Импорт {name} начат")],
        ));
    }
    let row = sqlx::query(
        "SELECT state, message FROM exchange_imports WHERE session_id = $1 AND filename = $2",
    )
    .bind(session)
    .bind(name)
    .fetch_one(store.pool())
    .await?;
    let state_text: String = row.try_get("state")?;
    let message: String = row.try_get("message")?;
    Ok(match state_text.as_str() {
        "done" => answer(StatusCode::OK, &["success", &message]),
        "failed" => failure(StatusCode::OK, &message),
        _ => answer(
            StatusCode::OK,
            &["progress", &format!("Импорт {name} выполняется")],
        ),
    })
}

async fn run_import(state: AppState, session: String, name: String) {
    let heartbeat = {
        let (store, session, name) = (state.store.clone(), session.clone(), name.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let _ = sqlx::query(
                    "UPDATE exchange_imports SET updated_at = $1 WHERE session_id = $2 AND filename = $3 AND state = 'running'",
                )
                .bind(now_ms())
                .bind(&session)
                .bind(&name)
                .execute(store.pool())
                .await;
            }
        })
    };
    let outcome = import_file(&state, &session, &name).await;
    heartbeat.abort();
    if outcome.is_ok() {
        state.catalog.published();
    }
    let health = match &outcome {
        Ok(_) => {
            crate::sync_health::success(
                &state.store,
                &state.outbox,
                &state.config,
                crate::sync_health::Source::OneC,
            )
            .await
        }
        Err(e) => {
            crate::sync_health::failure(
                &state.store,
                &state.outbox,
                &state.config,
                crate::sync_health::Source::OneC,
                &format!("{name}: {e}"),
            )
            .await
        }
    };
    if let Err(e) = health {
        tracing::warn!(error = %e, "cannot record the 1C import's outcome");
    }
    let (state_text, message) = match &outcome {
        Ok(report) => {
            tracing::info!(file = %name, version = report.version, products = report.products, offers = report.offers,
                warnings = report.warnings_total, "1C exchange: catalog published");
            let mut text = format!(
                "Каталог опубликован (версия {}): товаров {}, предложений {}",
                report.version, report.products, report.offers
            );
            if report.warnings_total > 0 {
                text += &format!(
                    ", предупреждений {}: {}",
                    report.warnings_total,
                    report.warnings.join("; ")
                );
            }
            ("done", text)
        }
        Err(e) => {
            tracing::error!(file = %name, error = %e, "1C exchange: import failed; the previous catalog stays");
            ("failed", e.clone())
        }
    };
    let _ = sqlx::query("UPDATE exchange_imports SET state = $1, message = $2, updated_at = $3 WHERE session_id = $4 AND filename = $5")
        .bind(state_text)
        .bind(message.chars().take(4000).collect::<String>())
        .bind(now_ms())
        .bind(&session)
        .bind(&name)
        .execute(state.store.pool())
        .await;
}

/// Rebuilds the session's uploads on this instance (unpacking zips) and imports one file.
async fn import_file(
    state: &AppState,
    session: &str,
    name: &str,
) -> Result<crate::catalog::import::ImportReport, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a working folder: {e}"))?;
    let rows = sqlx::query(
        "SELECT filename, data FROM exchange_chunks WHERE session_id = $1 ORDER BY filename, seq",
    )
    .bind(session)
    .fetch_all(state.store.pool())
    .await
    .map_err(|e| format!("database: {e}"))?;
    let mut zips = Vec::new();
    for row in rows {
        let filename: String = row.try_get("filename").map_err(|e| e.to_string())?;
        let data: Vec<u8> = row.try_get("data").map_err(|e| e.to_string())?;
        let path = dir.path().join(&filename);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{filename}: {e}"))?;
        }
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&data))
            .map_err(|e| format!("{filename}: {e}"))?;
        if filename.to_lowercase().ends_with(".zip") && !zips.contains(&path) {
            zips.push(path);
        }
    }
    let catalog = &state.config.catalog;
    let limits = ZipLimits {
        max_unpacked_bytes: catalog.max_unpacked_bytes,
        max_ratio: catalog.max_zip_ratio,
    };
    for zip in &zips {
        package::unzip(zip, dir.path(), limits).map_err(|e| e.to_string())?;
    }
    let file = dir.path().join(name);
    if !file.is_file() {
        return Err(format!(
            "Файл {name} не был загружен (mode=file) в этой сессии"
        ));
    }
    let importer = Importer::new(&state.store, catalog);
    importer
        .import_files(&[file], dir.path(), "1c-exchange")
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::valid_filename;

    #[test]
    fn filenames() {
        assert!(valid_filename("import.xml"));
        assert!(valid_filename("import_files/ab/abc.jpg"));
        for bad in ["", "../x.xml", "/etc/passwd", "a/../../b", "a\\b", "./x"] {
            assert!(!valid_filename(bad), "{bad}");
        }
    }
}

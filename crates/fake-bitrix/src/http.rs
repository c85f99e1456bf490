//! The HTTP face: the webhook route with its credentials, leaky bucket, injected failures and
//! envelopes, and the files under `/upload/`.

use super::*;

/// A failure as the portal answers `code`: the rate limit 503, an operating-time limit 429,
/// an internal error 500, anything else 400.
pub(crate) fn injected(code: &str) -> Failure {
    let status = match code {
        bitrix::QUERY_LIMIT_EXCEEDED => 503,
        bitrix::OPERATION_TIME_LIMIT => 429,
        "INTERNAL_SERVER_ERROR" => 500,
        _ => 400,
    };
    (status, code.to_string(), format!("injected {code}"))
}

/// `GET /upload/…`: the web server, not REST (no bucket, no envelope).
pub(crate) async fn file(State(fake): State<FakeBitrix>, Path(path): Path<String>) -> Response {
    let mut inner = fake.lock();
    if inner.down {
        return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response();
    }
    if let Some(status) = inner.file_failures.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "<html>error</html>").into_response();
    }
    match inner.files.get(&format!("/upload/{path}")).cloned() {
        Some(bytes) => {
            inner.downloads += 1;
            ([("content-type", "image/gif")], bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "<html>404 Not Found</html>").into_response(),
    }
}

pub(crate) struct Reply {
    pub(crate) result: Value,
    pub(crate) next: Option<u64>,
    pub(crate) total: Option<u64>,
}

impl Reply {
    pub(crate) fn of(result: Value) -> Self {
        Self {
            result,
            next: None,
            total: None,
        }
    }
}

pub(crate) fn err(status: u16, code: &str, description: &str) -> Failure {
    (status, code.to_string(), description.to_string())
}

pub(crate) fn envelope(reply: Reply) -> Value {
    let mut body = json!({"result": reply.result, "time": {"start": 0.0, "finish": 0.01,
        "duration": 0.01, "processing": 0.005, "operating": 0.0}});
    if let Some(n) = reply.next {
        body["next"] = json!(n);
    }
    if let Some(t) = reply.total {
        body["total"] = json!(t);
    }
    body
}

/// The catalog module's codes are numbers in the envelope; the older modules' are strings.
pub(crate) fn error_code(code: &str) -> Value {
    match code.parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(code),
    }
}

pub(crate) fn error_response(f: Failure) -> Response {
    let status = StatusCode::from_u16(f.0).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        axum::Json(json!({"error": error_code(&f.1), "error_description": f.2})),
    )
        .into_response()
}

pub(crate) async fn handle(
    State(fake): State<FakeBitrix>,
    Path((_user, code, method)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = method.trim_end_matches(".json").to_lowercase();
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let params = if json_body {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    } else if !body.is_empty() {
        bitrix::query::decode(&String::from_utf8_lossy(&body))
    } else {
        bitrix::query::decode(query.as_deref().unwrap_or(""))
    };
    let delay = fake.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut inner = fake.lock();
    let refused = |inner: &mut Inner, method: &str, params: &Value| {
        inner.calls.push(Call {
            method: method.to_string(),
            params: params.clone(),
            refused: true,
        });
    };
    if inner.down {
        refused(&mut inner, &method, &params);
        return (
            StatusCode::BAD_GATEWAY,
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response();
    }
    if code != fake.code {
        refused(&mut inner, &method, &params);
        return error_response(err(
            401,
            "INVALID_CREDENTIALS",
            "Invalid request credentials",
        ));
    }
    // The leaky bucket.
    let now = Instant::now();
    let drained = now.duration_since(inner.at).as_secs_f64() * fake.limits.per_second;
    inner.level = (inner.level - drained).max(0.0);
    inner.at = now;
    if inner.level + 1.0 > f64::from(fake.limits.burst) {
        refused(&mut inner, &method, &params);
        return error_response(err(503, bitrix::QUERY_LIMIT_EXCEEDED, "Too many requests"));
    }
    inner.level += 1.0;
    if let Some(f) = inner.failures.pop_front() {
        refused(&mut inner, &method, &params);
        return error_response(f);
    }
    let called: Vec<String> = if method == "batch" {
        match params.get("cmd") {
            Some(Value::Object(m)) => m
                .values()
                .filter_map(Value::as_str)
                .map(|c| c.split('?').next().unwrap_or("").to_lowercase())
                .collect(),
            _ => Vec::new(),
        }
    } else {
        vec![method.clone()]
    };
    let injected = called.iter().find_map(|m| {
        inner
            .method_failures
            .get_mut(m)
            .and_then(VecDeque::pop_front)
    });
    if let Some(f) = injected {
        refused(&mut inner, &method, &params);
        return error_response(f);
    }
    inner.calls.push(Call {
        method: method.clone(),
        params: params.clone(),
        refused: false,
    });
    let outcome = if method == "batch" {
        batch(&mut inner, &params)
    } else {
        dispatch(&mut inner, &method, &params)
    };
    if let Some(n) = inner.lose.get_mut(&method).filter(|n| **n > 0) {
        *n -= 1;
        return (
            StatusCode::BAD_GATEWAY,
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response();
    }
    match outcome {
        Ok(reply) => axum::Json(envelope(reply)).into_response(),
        Err(f) => error_response(f),
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        axum::Json(envelope(self)).into_response()
    }
}

//! The HTTP frame: ops endpoints, problem+json errors, the embedded web app, limits.

mod common;

use common::TestApp;
use serde_json::Value;
use vitrina::store::Backend;
use vitrina::store::testing::TestDb;
use vitrina::store_test;

async fn problem(response: reqwest::Response) -> (reqwest::StatusCode, Option<String>, Value) {
    let status = response.status();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    (status, request_id, response.json().await.unwrap())
}

async fn ops_endpoints_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health: Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["database"], backend.name());

    let metrics = app.get("/metrics").await;
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            r#"vitrina_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("vitrina_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"vitrina_outbox_depth{state="pending"} 0"#),
        "{text}"
    );
    assert!(text.contains("vitrina_db_pool_connections"), "{text}");

    let spec: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["paths"]["/readyz"]["get"].is_object());
    let docs = app.get("/api/docs").await.text().await.unwrap();
    assert!(docs.contains("/readyz") && docs.contains("problem+json"));
    app.stop().await;
}

store_test!(ops_endpoints_answer, backend: ops_endpoints_answer);

#[tokio::test]
async fn readyz_fails_until_migrations_are_applied() {
    // A store that was never migrated: connect without running migrations.
    let dir = tempfile::tempdir().unwrap();
    let config = vitrina::config::DatabaseConfig {
        url: vitrina::config::Secret::new(format!(
            "sqlite://{}",
            dir.path().join("fresh.db").display()
        )),
        ..Default::default()
    };
    let store = vitrina::store::Store::connect(&config).await.unwrap();
    let mut app_config = vitrina::config::Config::default();
    app_config.server.listen = "127.0.0.1:0".parse().unwrap();
    // The session key normally lives in the (not yet created) database.
    app_config.auth.token_key = Some(vitrina::config::Secret::new("k".repeat(32)));
    let app = vitrina::server::Application::with_store(app_config, store.clone())
        .await
        .unwrap();
    let addr = app.local_addr();
    tokio::spawn(app.run_until(std::future::pending()));
    vitrina::telegram::client::install_crypto_provider();
    let response = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    let (status, _, body) = problem(response).await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "not_ready");
    assert!(
        body["detail"].as_str().unwrap().contains("vitrina migrate"),
        "{body}"
    );

    store.migrate().await.unwrap();
    assert_eq!(
        reqwest::get(format!("http://{addr}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn errors_are_problem_json_with_request_id() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, request_id, body) = problem(app.get("/api/v1/nothing-here").await).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
    assert_eq!(body["request_id"].as_str(), request_id.as_deref());
    assert!(body["type"].as_str().unwrap().contains("not_found"));

    // A request id from the caller (or the proxy) is kept.
    let response = app
        .client
        .get(app.url("/api/v1/x"))
        .header("x-request-id", "req-from-nginx-1")
        .send()
        .await
        .unwrap();
    let (_, request_id, body) = problem(response).await;
    assert_eq!(request_id.as_deref(), Some("req-from-nginx-1"));
    assert_eq!(body["request_id"], "req-from-nginx-1");

    let (status, _, body) =
        problem(app.client.post(app.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");
    app.stop().await;
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.server.max_body_bytes = 4096).await;
    let big = serde_json::json!({ "init_data": "x".repeat(10_000) });
    let response = app
        .client
        .post(app.url("/api/v1/auth"))
        .json(&big)
        .send()
        .await
        .unwrap();
    let (status, _, body) = problem(response).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload_too_large");
    app.stop().await;
}

#[tokio::test]
async fn slow_request_times_out_with_problem() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.dev.enabled = true;
        c.server.request_timeout = std::time::Duration::from_millis(200);
    })
    .await;
    let (status, _, body) = problem(app.get("/dev/slow?ms=2000").await).await;
    assert_eq!(status, 504);
    assert_eq!(body["code"], "timeout");
    assert_eq!(app.get("/dev/slow?ms=10").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn dev_routes_are_off_by_default() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(app.get("/dev/slow?ms=1").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn web_app_is_served_with_spa_fallback_and_cache_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let index = app.get("/").await;
    assert_eq!(index.status(), 200);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let etag = index.headers()["etag"].to_str().unwrap().to_string();
    let body = index.text().await.unwrap();
    assert!(body.contains("<html"));

    // Client-side routes get the app; a missing file does not.
    // The home page alone carries the first screen's data (tests/catalog.rs); otherwise the
    // same page.
    let route = app.get("/product/42").await;
    assert_eq!(route.status(), 200);
    let data = body.find("<script>window.__initial=").expect("home data");
    let data_end = data + body[data..].find("</script>").unwrap() + "</script>".len();
    let without_data = format!("{}{}", &body[..data], &body[data_end..]);
    assert_eq!(route.text().await.unwrap(), without_data);
    assert_eq!(app.get("/assets/missing-0123.js").await.status(), 404);
    assert_eq!(app.get("/api/unknown").await.status(), 404);

    let revalidated = app
        .client
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    app.stop().await;
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "br");
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    app.stop().await;
}

#[tokio::test]
async fn two_instances_share_one_postgres() {
    let db = TestDb::postgres().await;
    let url = db.url().to_string();
    let a = TestApp::spawn_on(db, |_| {}).await;
    let second_db = vitrina::config::DatabaseConfig {
        url: vitrina::config::Secret::new(url),
        ..Default::default()
    };
    let store = vitrina::store::Store::connect(&second_db).await.unwrap();
    store.migrate().await.unwrap(); // a second migrate on a current schema is a no-op
    let mut config = vitrina::config::Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    let b = vitrina::server::Application::with_store(config, store)
        .await
        .unwrap();
    let b_addr = b.local_addr();
    tokio::spawn(b.run_until(std::future::pending()));
    let ha: Value = a.get("/healthz").await.json().await.unwrap();
    let hb: Value = reqwest::get(format!("http://{b_addr}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(ha["instance"], hb["instance"]);
    assert_eq!(
        reqwest::get(format!("http://{b_addr}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    a.stop().await;
}

//! The OpenAPI document and the router agree: every route the server mounts (one table,
//! `vitrina::routes::table`, builds the router) is documented with exactly its methods unless
//! it speaks another protocol, every documented path is mounted, and every route answers its
//! methods and only those on the live app (seen through the router's own matched route in
//! `/metrics`).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestApp;
use serde_json::Value;
use vitrina::config::Config;
use vitrina::store::Backend;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_and_the_router_agree() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let documented: BTreeMap<String, BTreeSet<String>> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .map(|m| m.to_uppercase())
                .filter(|m| METHODS.contains(&m.as_str()))
                .collect();
            (path.clone(), methods)
        })
        .collect();
    let table = vitrina::routes::table(&Config::default());
    let mounted: BTreeMap<String, BTreeSet<String>> = table
        .iter()
        .filter(|r| r.documented)
        .map(|r| {
            (
                r.path.to_string(),
                r.methods.iter().map(|m| m.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(mounted, documented, "mounted (left) vs documented (right)");
    // What is mounted without documentation, and why, is a short list.
    let undocumented: Vec<&str> = table
        .iter()
        .filter(|r| !r.documented)
        .map(|r| r.path)
        .collect();
    assert_eq!(
        undocumented,
        [
            "/images/{hash}/{size}",
            "/1c/exchange",
            "/bitrix/admin/1c_exchange.php",
            "/telegram/webhook",
            "/bitrix/events",
            "/api/openapi.json",
            "/api/docs",
        ]
    );

    // Probe every route with every method; the router's matched route and the status land in
    // /metrics. A method the table lists must reach a handler (not 405); any other, 405.
    for route in &table {
        let path = route
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            app.client
                .request(m, app.url(&path))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
        }
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let seen = |method: &str, route: &str| -> Vec<u16> {
        let needle = format!("method=\"{method}\",route=\"{route}\",status=\"");
        metrics
            .lines()
            .filter(|l| l.starts_with("vitrina_http_requests_total{") && l.contains(&needle))
            .filter_map(|l| l.split(&needle).nth(1)?.get(..3)?.parse().ok())
            .collect()
    };
    for route in &table {
        for method in METHODS {
            let statuses = seen(method, route.path);
            assert!(
                !statuses.is_empty(),
                "{method} {} did not reach the route: {statuses:?}",
                route.path
            );
            if route.methods.contains(method) {
                assert!(
                    !statuses.contains(&405),
                    "{method} {} is listed but not served",
                    route.path
                );
            } else {
                assert_eq!(
                    statuses,
                    [405],
                    "{method} {} is served but not listed",
                    route.path
                );
            }
        }
    }
    app.stop().await;
}

//! The real binary killed with SIGKILL in the middle of a checkout (at a dev pause point):
//! the order exists completely, with its outbox job, or not at all; a retry with the same
//! Idempotency-Key completes it; there is never a second order.

mod common;

use std::path::Path;
use std::time::Duration;

use common::dev_auth as auth;
use common::spawned::Server;

use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::Config;
use vitrina::store::Backend;
use vitrina::store::testing::TestDb;
use vitrina::store_test;

async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> Result<(u16, Value), reqwest::Error> {
    let mut r = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("authorization", auth(7001))
        .timeout(Duration::from_secs(60))
        .json(&body);
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    let r = r.send().await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

fn checkout_body() -> Value {
    json!({
        "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
        "delivery": {"method": "courier", "address": "Москва, Тверская, 1"},
        "payment_method": "on_receipt"
    })
}

struct Counts {
    orders: i64,
    items: i64,
    created_jobs: i64,
    stock: i64,
    cart_lines: i64,
}

async fn counts(db: &TestDb, key: &str, offer: &str) -> Counts {
    let pool = db.store.pool();
    let one = |sql: &'static str| sqlx::query(sql);
    let orders: i64 = one("SELECT COUNT(*) FROM orders WHERE idempotency_key = $1")
        .bind(key)
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    let items: i64 = one(
        "SELECT COUNT(*) FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.idempotency_key = $1",
    )
    .bind(key)
    .fetch_one(pool)
    .await
    .unwrap()
    .get(0);
    let created_jobs: i64 = one(
        "SELECT COUNT(*) FROM outbox j JOIN orders o ON j.dedupe_key = 'order:' || CAST(o.id AS TEXT) || ':created' \
         WHERE o.idempotency_key = $1",
    )
    .bind(key)
    .fetch_one(pool)
    .await
    .unwrap()
    .get(0);
    let stock: i64 = one("SELECT stock_milli FROM offers WHERE id = $1")
        .bind(offer)
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    let cart_lines: i64 = one("SELECT COUNT(*) FROM cart_lines")
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    Counts {
        orders,
        items,
        created_jobs,
        stock: stock / 1000,
        cart_lines,
    }
}

/// Puts `qty` of `offer` in the cart, then checks out with `key` against a server that hangs
/// at `point`, and kills it there.
async fn checkout_killed_at(
    db: &TestDb,
    media: &Path,
    logs: &Path,
    point: &str,
    offer: &str,
    key: &str,
) {
    let server = Server::start(db, media, logs, &[("VITRINA_DEV__CHECKOUT_PAUSE", point)]).await;
    let (status, _) = call(
        &server.base,
        reqwest::Method::POST,
        "/api/v1/cart/items",
        json!({"offer_id": offer, "quantity": 2}),
        None,
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let base = server.base.clone();
    let key_owned = key.to_string();
    let pending = tokio::spawn(async move {
        call(
            &base,
            reqwest::Method::POST,
            "/api/v1/orders",
            checkout_body(),
            Some(&key_owned),
        )
        .await
    });
    server.wait_for_log("dev pause point reached").await;
    server.kill();
    assert!(
        pending.await.unwrap().is_err(),
        "the killed server must not have answered"
    );
}

async fn killed_mid_checkout(backend: Backend) {
    let db = TestDb::new(backend).await;
    let media = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.catalog.media_dir = media.path().to_path_buf();
    vitrina::catalog::demo::seed_if_empty(&db.store, &config.catalog)
        .await
        .unwrap();
    let offer: String =
        sqlx::query("SELECT id FROM offers WHERE stock_milli >= 10000 ORDER BY id LIMIT 1")
            .fetch_one(db.store.pool())
            .await
            .unwrap()
            .get(0);
    let stock_before = counts(&db, "-", &offer).await.stock;

    // Killed before the commit: nothing of the order exists, the cart is intact.
    checkout_killed_at(
        &db,
        media.path(),
        logs.path(),
        "before_commit",
        &offer,
        "k-1",
    )
    .await;
    let c = counts(&db, "k-1", &offer).await;
    assert_eq!(
        (c.orders, c.items, c.created_jobs),
        (0, 0, 0),
        "a half order survived"
    );
    assert_eq!(c.stock, stock_before, "stock moved without an order");
    assert_eq!(c.cart_lines, 1, "the cart was cleared without an order");

    // The retry with the same key completes it, once.
    let server = Server::start(&db, media.path(), logs.path(), &[]).await;
    let (status, order) = call(
        &server.base,
        reqwest::Method::POST,
        "/api/v1/orders",
        checkout_body(),
        Some("k-1"),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{order}");
    let c = counts(&db, "k-1", &offer).await;
    assert_eq!((c.orders, c.items, c.created_jobs), (1, 1, 1));
    assert_eq!(c.stock, stock_before - 2);
    assert_eq!(c.cart_lines, 0);
    server.kill();

    // Killed after the commit, before the answer: the order is complete; the retry replays it.
    checkout_killed_at(
        &db,
        media.path(),
        logs.path(),
        "after_commit",
        &offer,
        "k-2",
    )
    .await;
    let c = counts(&db, "k-2", &offer).await;
    assert_eq!(
        (c.orders, c.items, c.created_jobs),
        (1, 1, 1),
        "a committed order is incomplete"
    );
    assert_eq!(c.stock, stock_before - 4);
    assert_eq!(c.cart_lines, 0);
    let server = Server::start(&db, media.path(), logs.path(), &[]).await;
    let (status, replay) = call(
        &server.base,
        reqwest::Method::POST,
        "/api/v1/orders",
        checkout_body(),
        Some("k-2"),
    )
    .await
    .unwrap();
    assert_eq!(
        status, 200,
        "a replay answers 200 with the same order: {replay}"
    );
    let c = counts(&db, "k-2", &offer).await;
    assert_eq!((c.orders, c.items), (1, 1), "the retry made a second order");
    assert_eq!(
        c.stock,
        stock_before - 4,
        "the retry decremented stock again"
    );
    server.kill();
}

store_test!(killed_mid_checkout, backend: killed_mid_checkout);

//! What one customer can hold, on SQLite and PostgreSQL: unpaid online orders expire and give
//! their goods back (once, across instances and restarts), a payment that comes too late is
//! kept and flagged, unpaid orders per customer and units per line are capped.

mod common;

use std::time::Duration;

use common::TestApp;
use common::bot::*;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{Config, PaymentMethod, Secret};
use vitrina::store::Backend;
use vitrina::store::testing::TestDb;
use vitrina::store_test;

const PROVIDER_TOKEN: &str = "381764678:TEST:provider-token";
const HOLD: Duration = Duration::from_secs(5);

fn payments(c: &mut Config) {
    c.telegram.payment_provider_token = Some(Secret::new(PROVIDER_TOKEN));
    c.checkout.payment_methods = vec![
        PaymentMethod::OnReceipt,
        PaymentMethod::Telegram,
        PaymentMethod::Stars,
    ];
    c.checkout.payment_hold = HOLD;
}

fn tweak(fake: &FakeBot, media: &std::path::Path) -> impl FnOnce(&mut Config) + use<> {
    let (f, m) = (fake.clone(), media.to_path_buf());
    move |c: &mut Config| {
        configure(c, &f, m, Limits::default());
        payments(c);
    }
}

async fn shop(backend: Backend) -> (TestApp, FakeBot, tempfile::TempDir) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let app = TestApp::spawn_on(db, tweak(&fake, media.path())).await;
    (app, fake, media)
}

/// A second instance of the same shop on the same database.
async fn another_instance(app: &TestApp, fake: &FakeBot, media: &std::path::Path) -> TestApp {
    let db = TestDb::sharing(&app.db).await;
    TestApp::spawn_on(db, tweak(fake, media)).await
}

async fn top_offer(app: &TestApp) -> String {
    sqlx::query(
        "SELECT id FROM offers WHERE price IS NOT NULL ORDER BY stock_milli DESC, id LIMIT 1",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap()
    .get(0)
}

async fn stock(app: &TestApp, offer: &str) -> i64 {
    sqlx::query("SELECT stock_milli FROM offers WHERE id = $1")
        .bind(offer)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get::<i64, _>(0)
        / 1000
}

async fn call(
    app: &TestApp,
    user: i64,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = app
        .client
        .request(method, app.url(path))
        .header("authorization", auth(user));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Adds `quantity` of `offer` and checks out with `payment`; the answer.
async fn order(
    app: &TestApp,
    user: i64,
    offer: &str,
    quantity: i64,
    payment: &str,
    key: &str,
) -> (u16, Value) {
    let (s, b) = call(
        app,
        user,
        reqwest::Method::POST,
        "/api/v1/cart/items",
        Some(json!({"offer_id": offer, "quantity": quantity})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", auth(user))
        .header("idempotency-key", key)
        .json(&json!({
            "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
            "payment_method": payment
        }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn placed(app: &TestApp, user: i64, offer: &str, payment: &str, key: &str) -> i64 {
    let (s, b) = order(app, user, offer, 1, payment, key).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

async fn wait_status(app: &TestApp, order: i64, status: &str) {
    // Up to 20 s: the hold (5 s), the outbox's poll, and a machine busy with other builds.
    for _ in 0..800 {
        if app.order_status(order).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "order {order} is {:?}, never {status}",
        app.order_status(order).await
    );
}

/// `(status, note, actor)` of an order's timeline.
async fn timeline(app: &TestApp, order: i64) -> Vec<(String, Option<String>, String)> {
    sqlx::query("SELECT status, note, actor FROM order_events WHERE order_id = $1 ORDER BY id")
        .bind(order)
        .fetch_all(app.db.store.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

async fn invoice(app: &TestApp, user: i64, order: i64) -> (u16, Value) {
    call(
        app,
        user,
        reqwest::Method::POST,
        &format!("/api/v1/orders/{order}/invoice"),
        None,
    )
    .await
}

async fn expiry(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let offer = top_offer(&app).await;
    let before = stock(&app, &offer).await;
    let unpaid = placed(&app, 4001, &offer, "stars", "unpaid").await;
    let on_receipt = placed(&app, 4002, &offer, "on_receipt", "cash").await;
    let paid = placed(&app, 4003, &offer, "stars", "paid").await;
    // Marked paid in the master system (Bitrix's «оплачен»), not through Telegram.
    let paid_elsewhere = placed(&app, 4004, &offer, "telegram", "elsewhere").await;
    sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1")
        .bind(paid_elsewhere)
        .execute(app.db.store.pool())
        .await
        .unwrap();
    assert_eq!(stock(&app, &offer).await, before - 4);

    // In time: an invoice, approved and paid.
    assert_eq!(invoice(&app, 4001, unpaid).await.0, 200);
    assert_eq!(invoice(&app, 4003, paid).await.0, 200);
    let links = fake.calls_to("createInvoiceLink");
    let (unpaid_payload, paid_payload) = (
        links[0]["payload"].as_str().unwrap().to_string(),
        links[1]["payload"].as_str().unwrap().to_string(),
    );
    let stars = links[1]["prices"][0]["amount"].as_i64().unwrap();
    post_update(
        &app,
        Some(SECRET),
        &successful_payment(1, 4003, "XTR", stars, &paid_payload, "in-time"),
    )
    .await;
    wait_status(&app, paid, "paid").await;

    // Past the hold: cancelled by vitrina, goods back, the customer told why in Russian.
    wait_status(&app, unpaid, "cancelled").await;
    assert_eq!(
        timeline(&app, unpaid).await.last().unwrap(),
        &(
            "cancelled".to_string(),
            Some("payment_hold_expired".to_string()),
            "system".to_string()
        )
    );
    assert_eq!(stock(&app, &offer).await, before - 3);
    wait_for("the customer's message", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", 4001).iter().any(|m| {
            m["text"]
                .as_str()
                .unwrap_or("")
                .contains("не оплачен вовремя")
        })
    })
    .await;
    // From then on no invoice, and a pre-checkout for the old invoice is refused.
    let (status, body) = invoice(&app, 4001, unpaid).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("payment_hold_expired"))
    );
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(
            2,
            4001,
            "XTR",
            links[0]["prices"][0]["amount"].as_i64().unwrap(),
            &unpaid_payload,
        ),
    )
    .await;
    wait_for("the pre-checkout answer", Duration::from_secs(10), || {
        !fake.calls_to("answerPreCheckoutQuery").is_empty()
    })
    .await;
    let answer = &fake.calls_to("answerPreCheckoutQuery")[0];
    assert_eq!(answer["ok"], false);
    assert!(
        answer["error_message"]
            .as_str()
            .unwrap()
            .contains("Время на оплату истекло"),
        "{answer}"
    );
    // The others are untouched: paid in time, or paid on receipt.
    assert_eq!(app.order_status(paid).await, "paid");
    assert_eq!(app.order_status(on_receipt).await, "new");
    assert_eq!(
        app.order_status(paid_elsewhere).await,
        "paid",
        "no longer held"
    );
    let (_, order_view) = call(
        &app,
        4001,
        reqwest::Method::GET,
        &format!("/api/v1/orders/{unpaid}"),
        None,
    )
    .await;
    assert_eq!(order_view["status"], "cancelled");
    assert_eq!(
        order_view["timeline"].as_array().unwrap().last().unwrap()["note"],
        "payment_hold_expired"
    );
    app.stop().await;
}

store_test!(unpaid_order_expires, backend: expiry);

/// The expiry job outlives the instance that placed the order, and two instances running the
/// outbox cancel each order once.
async fn across_instances(backend: Backend) {
    let (first, fake, media) = shop(backend).await;
    let offer = top_offer(&first).await;
    let before = stock(&first, &offer).await;
    let a = placed(&first, 4101, &offer, "telegram", "a").await;
    let db = first.stop_keep_db().await;
    // A restart, then a second instance beside it.
    let second = TestApp::spawn_on(db, tweak(&fake, media.path())).await;
    let third = another_instance(&second, &fake, media.path()).await;
    let b = placed(&third, 4102, &offer, "stars", "b").await;
    let c = placed(&second, 4103, &offer, "stars", "c").await;
    for order in [a, b, c] {
        wait_status(&second, order, "cancelled").await;
    }
    // Let any duplicate run show itself.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for order in [a, b, c] {
        let cancels = timeline(&second, order)
            .await
            .into_iter()
            .filter(|(_, note, _)| note.as_deref() == Some("payment_hold_expired"))
            .count();
        assert_eq!(cancels, 1, "order {order} cancelled once");
    }
    assert_eq!(
        stock(&second, &offer).await,
        before,
        "each order restocked once"
    );
    third.stop().await;
    second.stop().await;
}

store_test!(holds_expire_once_across_instances_and_restarts, backend: across_instances);

/// A payment approved just before the deadline and delivered after it.
async fn late_payment(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let offer = top_offer(&app).await;
    let order = placed(&app, 4201, &offer, "stars", "late").await;
    assert_eq!(invoice(&app, 4201, order).await.0, 200);
    let link = fake.calls_to("createInvoiceLink")[0].clone();
    let payload = link["payload"].as_str().unwrap().to_string();
    let stars = link["prices"][0]["amount"].as_i64().unwrap();
    wait_status(&app, order, "cancelled").await;
    let stock_after_cancel = stock(&app, &offer).await;

    let paid = successful_payment(5, 4201, "XTR", stars, &payload, "lateCharge");
    assert_eq!(post_update(&app, Some(SECRET), &paid).await, 200);
    wait_for("the staff alert", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", STAFF_CHAT).iter().any(|m| {
            m["text"]
                .as_str()
                .unwrap_or("")
                .contains("Оплата после отмены")
        })
    })
    .await;
    let alert = to_chat(&fake, "sendMessage", STAFF_CHAT)
        .into_iter()
        .find(|m| {
            m["text"]
                .as_str()
                .unwrap_or("")
                .contains("Оплата после отмены")
        })
        .unwrap();
    assert!(
        alert["text"]
            .as_str()
            .unwrap()
            .contains(&format!("vitrina payments refund {order}")),
        "{alert}"
    );
    wait_for("the customer's message", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", 4201).iter().any(|m| {
            m["text"]
                .as_str()
                .unwrap_or("")
                .contains("Оплата пришла после отмены")
        })
    })
    .await;
    // Recorded, flagged, still cancelled, goods not taken twice.
    let row = sqlx::query("SELECT status, payment_state, attention FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    let (status, state, attention): (String, String, Option<String>) =
        (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (status.as_str(), state.as_str(), attention.as_deref()),
        ("cancelled", "paid", Some("paid_after_cancel"))
    );
    let payments: i64 =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM payments WHERE order_id = $1")
            .bind(order)
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(payments, 1);
    assert_eq!(stock(&app, &offer).await, stock_after_cancel);
    assert!(
        timeline(&app, order)
            .await
            .iter()
            .any(|(_, note, _)| note.as_deref() == Some("payment_after_cancel"))
    );
    // Telegram delivers the update again: no second alert.
    let again = successful_payment(6, 4201, "XTR", stars, &payload, "lateCharge");
    post_update(&app, Some(SECRET), &again).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let alerts = to_chat(&fake, "sendMessage", STAFF_CHAT)
        .iter()
        .filter(|m| {
            m["text"]
                .as_str()
                .unwrap_or("")
                .contains("Оплата после отмены")
        })
        .count();
    assert_eq!(alerts, 1);
    assert_eq!(
        vitrina::payments::late::flagged(&app.db.store)
            .await
            .unwrap()
            .len(),
        1
    );

    // The refund path settles it.
    let mut config = Config::default();
    config.telegram.bot_token = Some(Secret::new(TOKEN));
    config.telegram.api_base_url = fake.url.clone();
    vitrina::payments::refund(&config, &app.db.store, order)
        .await
        .unwrap();
    assert_eq!(
        fake.calls_to("refundStarPayment")[0]["telegram_payment_charge_id"],
        "lateCharge"
    );
    assert!(
        vitrina::payments::late::flagged(&app.db.store)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

store_test!(payment_after_expiry_is_kept_and_flagged, backend: late_payment);

async fn unpaid_limit(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let t = tweak(&fake, media.path());
    let app = TestApp::spawn_on(db, move |c| {
        t(c);
        c.checkout.payment_hold = Duration::from_secs(3600);
    })
    .await;
    let offer = top_offer(&app).await;
    let first = placed(&app, 4301, &offer, "stars", "u1").await;
    placed(&app, 4301, &offer, "telegram", "u2").await;
    placed(&app, 4301, &offer, "stars", "u3").await;
    let (status, body) = order(&app, 4301, &offer, 1, "stars", "u4").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("too_many_unpaid_orders")),
        "{body}"
    );
    assert_eq!(body["type"], "/api/docs#problem-too_many_unpaid_orders");
    // Paid on receipt is not held for payment; another customer has their own count.
    assert_eq!(
        order(&app, 4301, &offer, 1, "on_receipt", "u5").await.0,
        201
    );
    placed(&app, 4302, &offer, "stars", "o1").await;
    // One paid: room for another.
    assert_eq!(invoice(&app, 4301, first).await.0, 200);
    let link = fake.calls_to("createInvoiceLink")[0].clone();
    post_update(
        &app,
        Some(SECRET),
        &successful_payment(
            9,
            4301,
            "XTR",
            link["prices"][0]["amount"].as_i64().unwrap(),
            link["payload"].as_str().unwrap(),
            "limit-charge",
        ),
    )
    .await;
    wait_status(&app, first, "paid").await;
    let (status, body) = order(&app, 4301, &offer, 1, "stars", "u6").await;
    assert_eq!(status, 201, "{body}");
    app.stop().await;
}

store_test!(unpaid_orders_per_customer_are_capped, backend: unpaid_limit);

async fn line_cap(backend: Backend) {
    let (app, _fake, _media) = shop(backend).await;
    let offer = top_offer(&app).await;
    // More in stock than a line may hold.
    sqlx::query("UPDATE offers SET stock_milli = 200000 WHERE id = $1")
        .bind(&offer)
        .execute(app.db.store.pool())
        .await
        .unwrap();
    let units = stock(&app, &offer).await;
    let add = |q: i64| {
        call(
            &app,
            4401,
            reqwest::Method::POST,
            "/api/v1/cart/items",
            Some(json!({"offer_id": offer, "quantity": q})),
        )
    };
    let (s, cart) = add(50).await;
    assert_eq!(s, 200);
    assert_eq!(cart["lines"][0]["max_quantity"], 50);
    let (s, body) = add(1).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (409, Some("line_quantity_limit"))
    );
    let path = format!("/api/v1/cart/items/{}", offer.replace('#', "%23"));
    let (s, body) = call(
        &app,
        4401,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"quantity": 51})),
    )
    .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (409, Some("line_quantity_limit"))
    );
    // A line over the cap that got into the cart anyway (the cap was lowered) is refused at
    // checkout, per line, and nothing is taken from stock.
    sqlx::query("UPDATE cart_lines SET quantity = 60 WHERE offer_id = $1")
        .bind(&offer)
        .execute(app.db.store.pool())
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", auth(4401))
        .header("idempotency-key", "cap")
        .json(&json!({
            "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
            "payment_method": "on_receipt"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "cart_unavailable");
    assert_eq!(body["errors"][0]["code"], "line_quantity_limit");
    assert_eq!(stock(&app, &offer).await, units);
    // A scarce offer: the line holds its stock at most.
    let scarce: (String, i64) = {
        let r = sqlx::query(
            "SELECT id, stock_milli FROM offers WHERE price IS NOT NULL AND stock_milli BETWEEN 1000 AND 49000 ORDER BY id LIMIT 1",
        )
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
        (r.get(0), r.get::<i64, _>(1) / 1000)
    };
    let (s, cart) = call(
        &app,
        4402,
        reqwest::Method::POST,
        "/api/v1/cart/items",
        Some(json!({"offer_id": scarce.0, "quantity": 1})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(cart["lines"][0]["max_quantity"], scarce.1);
    app.stop().await;
}

store_test!(lines_are_capped_in_cart_and_checkout, backend: line_cap);

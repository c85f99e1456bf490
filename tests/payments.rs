//! Telegram Payments against the fake Bot API: invoices for a provider (RUB) and for Stars,
//! pre-checkout answers, successful payments recorded once, refunds of Stars, and everything a
//! forged or stale payment tries.

mod common;

use std::time::Duration;

use common::TestApp;
use common::bot::*;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{Config, PaymentMethod, Secret};
use vitrina::store::Backend;
use vitrina::store_test;

const PROVIDER_TOKEN: &str = "381764678:TEST:provider-token";

fn payments(c: &mut Config) {
    c.telegram.payment_provider_token = Some(Secret::new(PROVIDER_TOKEN));
    c.checkout.payment_methods = vec![
        PaymentMethod::OnReceipt,
        PaymentMethod::Telegram,
        PaymentMethod::Stars,
    ];
    c.checkout.stars_rate = 150;
}

async fn shop(backend: Backend) -> (TestApp, FakeBot, tempfile::TempDir) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &f, m, Limits::default());
        c.telegram.staff_chat_id = None;
        payments(c);
    })
    .await;
    (app, fake, media)
}

async fn invoice(app: &TestApp, user: i64, order: i64) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/orders/{order}/invoice")))
        .header("authorization", auth(user))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn order_row(app: &TestApp, order: i64) -> (String, String) {
    let r = sqlx::query("SELECT status, payment_state FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

async fn answers(fake: &FakeBot, n: usize) -> Vec<Value> {
    wait_for("pre-checkout answers", Duration::from_secs(10), || {
        fake.calls_to("answerPreCheckoutQuery").len() >= n
    })
    .await;
    fake.calls_to("answerPreCheckoutQuery")
}

async fn payments_count(app: &TestApp, order: i64) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM payments WHERE order_id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0)
}

async fn wait_paid(app: &TestApp, order: i64) {
    for _ in 0..400 {
        if order_row(app, order).await == ("paid".into(), "paid".into()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "order {order} never became paid: {:?}",
        order_row(app, order).await
    );
}

async fn provider_payment(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let order = place_order(&app, "telegram", 3001).await;
    let (status, body) = invoice(&app, 3001, order).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["invoice_link"]
            .as_str()
            .unwrap()
            .starts_with("https://t.me/$")
    );
    let call = &fake.calls_to("createInvoiceLink")[0];
    assert_eq!(call["currency"], "RUB");
    assert_eq!(call["provider_token"], PROVIDER_TOKEN);
    let payload = call["payload"].as_str().unwrap().to_string();
    assert!(
        payload.starts_with(&format!("v1.{order}.")),
        "an opaque signed reference: {payload}"
    );
    let total: i64 = call["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .sum();
    let order_total: i64 = sqlx::query("SELECT total FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        total, order_total,
        "prices add up to the order's total, in kopecks"
    );

    // Another customer cannot pay (or even see) it.
    assert_eq!(invoice(&app, 3999, order).await.0, 404);

    assert_eq!(
        post_update(
            &app,
            Some(SECRET),
            &pre_checkout(1, 3001, "RUB", total, &payload)
        )
        .await,
        200
    );
    let a = answers(&fake, 1).await;
    assert_eq!(a[0]["pre_checkout_query_id"], "pcq-1");
    assert_eq!(a[0]["ok"], true);
    // Pre-checkout is not a payment.
    assert_eq!(order_row(&app, order).await.1, "unpaid");

    let paid = successful_payment(2, 3001, "RUB", total, &payload, "charge-rub-1");
    assert_eq!(post_update(&app, Some(SECRET), &paid).await, 200);
    wait_paid(&app, order).await;
    // Telegram delivers it again (a new update id): still one payment, one «paid» entry.
    let again = successful_payment(3, 3001, "RUB", total, &payload, "charge-rub-1");
    assert_eq!(post_update(&app, Some(SECRET), &again).await, 200);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(payments_count(&app, order).await, 1);
    let paid_events: i64 =
        sqlx::query("SELECT COUNT(*) FROM order_events WHERE order_id = $1 AND status = 'paid'")
            .bind(order)
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(paid_events, 1);
    // Paid now: no second invoice, and a late pre-checkout is refused.
    assert_eq!(invoice(&app, 3001, order).await.0, 409);
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(4, 3001, "RUB", total, &payload),
    )
    .await;
    let a = answers(&fake, 2).await;
    assert_eq!(a[1]["ok"], false);
    assert_eq!(a[1]["error_message"], "Заказ уже оплачен.");
    app.stop().await;
}

store_test!(provider_payment, backend: provider_payment);

async fn stars_payment_and_refund(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let order = place_order(&app, "stars", 3002).await;
    assert_eq!(invoice(&app, 3002, order).await.0, 200);
    let call = &fake.calls_to("createInvoiceLink")[0];
    assert_eq!(call["currency"], "XTR");
    assert!(
        call.get("provider_token").is_none(),
        "Stars take no provider token"
    );
    let stars = call["prices"][0]["amount"].as_i64().unwrap();
    let total: i64 = sqlx::query("SELECT total FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        stars,
        (total + 149) / 150,
        "the total at 1.50 ₽ a Star, rounded up"
    );
    let payload = call["payload"].as_str().unwrap().to_string();

    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(11, 3002, "XTR", stars, &payload),
    )
    .await;
    assert_eq!(answers(&fake, 1).await[0]["ok"], true);
    post_update(
        &app,
        Some(SECRET),
        &successful_payment(12, 3002, "XTR", stars, &payload, "stxCharge1"),
    )
    .await;
    wait_paid(&app, order).await;

    // The refund, from the command line.
    let (db_url, fake_url) = (app.db.url().to_string(), fake.url.clone());
    let refund = move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vitrina"))
            .args(["payments", "refund", &order.to_string()])
            .env("VITRINA_DATABASE__URL", &db_url)
            .env("VITRINA_TELEGRAM__BOT_TOKEN", TOKEN)
            .env("VITRINA_TELEGRAM__API_BASE_URL", &fake_url)
            .output()
            .unwrap()
    };
    let out = tokio::task::spawn_blocking(refund.clone()).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let call = &fake.calls_to("refundStarPayment")[0];
    assert_eq!(call["user_id"], 3002);
    assert_eq!(call["telegram_payment_charge_id"], "stxCharge1");
    assert_eq!(order_row(&app, order).await.1, "refunded");
    let note: Option<String> =
        sqlx::query("SELECT note FROM order_events WHERE order_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(order)
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(note.as_deref(), Some("Stars refunded"));
    // A second refund is refused with a clear message.
    let out = tokio::task::spawn_blocking(refund).await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already refunded"));
    assert_eq!(fake.calls_to("refundStarPayment").len(), 1);
    app.stop().await;
}

store_test!(stars_payment_and_refund, backend: stars_payment_and_refund);

async fn forged_and_stale(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let order = place_order(&app, "telegram", 3003).await;
    assert_eq!(invoice(&app, 3003, order).await.0, 200);
    let call = &fake.calls_to("createInvoiceLink")[0];
    let payload = call["payload"].as_str().unwrap().to_string();
    let total: i64 = call["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .sum();

    // A payload for another order with this order's signature; raw JSON; an amount that is not
    // the invoice's; another payer.
    let forged = payload.replacen(&format!("v1.{order}."), &format!("v1.{}.", order + 1), 1);
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(21, 3003, "RUB", total, &forged),
    )
    .await;
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(22, 3003, "RUB", total, &format!("{{\"order_id\":{order}}}")),
    )
    .await;
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(23, 3003, "RUB", total - 100, &payload),
    )
    .await;
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(24, 3003, "XTR", total, &payload),
    )
    .await;
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(25, 3999, "RUB", total, &payload),
    )
    .await;
    let a = answers(&fake, 5).await;
    for answer in &a {
        assert_eq!(answer["ok"], false, "{answer}");
        assert!(!answer["error_message"].as_str().unwrap().is_empty());
    }
    // A successful_payment with a forged payload records nothing.
    post_update(
        &app,
        Some(SECRET),
        &successful_payment(26, 3003, "RUB", total, &forged, "forged-1"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let all: i64 = sqlx::query("SELECT COUNT(*) FROM payments")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(all, 0);

    // Cancelled: no invoice, and a pre-checkout for the old invoice is refused.
    let config = {
        let mut c = Config::default();
        configure(
            &mut c,
            &fake,
            std::path::PathBuf::from("/tmp"),
            Limits::default(),
        );
        payments(&mut c);
        c
    };
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    vitrina::orders::set_status(
        &config,
        &app.db.store,
        &outbox,
        order,
        "cancelled",
        None,
        "test",
    )
    .await
    .unwrap();
    assert_eq!(invoice(&app, 3003, order).await.0, 409);
    post_update(
        &app,
        Some(SECRET),
        &pre_checkout(27, 3003, "RUB", total, &payload),
    )
    .await;
    let a = answers(&fake, 6).await;
    assert_eq!(a[5]["ok"], false);
    assert_eq!(a[5]["error_message"], "Заказ отменён, оплатить его нельзя.");

    // Paid on receipt: no invoice.
    let cash = place_order(&app, "on_receipt", 3004).await;
    assert_eq!(invoice(&app, 3004, cash).await.0, 409);
    app.stop().await;
}

store_test!(forged_and_stale_payments_refused, backend: forged_and_stale);

/// The real binary killed with SIGKILL after receiving successful_payment and before
/// committing it: the stored update's job runs again on the next process and records the
/// payment exactly once, even when Telegram delivers the update once more.
async fn killed_mid_payment(backend: Backend) {
    use common::spawned::Server;
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let env = |pause: &'static str| {
        vec![
            ("VITRINA_TELEGRAM__BOT_TOKEN", TOKEN.to_string()),
            ("VITRINA_TELEGRAM__API_BASE_URL", fake.url.clone()),
            ("VITRINA_TELEGRAM__WEBHOOK_SECRET", SECRET.to_string()),
            (
                "VITRINA_TELEGRAM__PAYMENT_PROVIDER_TOKEN",
                PROVIDER_TOKEN.to_string(),
            ),
            (
                "VITRINA_CHECKOUT__PAYMENT_METHODS",
                "[\"on_receipt\",\"telegram\"]".to_string(),
            ),
            ("VITRINA_DEV__ALLOW_WITH_REAL_BOT_TOKEN", "true".to_string()),
            ("VITRINA_DEV__PAYMENT_PAUSE", pause.to_string()),
            ("VITRINA_OUTBOX__LEASE", "2s".to_string()),
        ]
    };
    let start = |pause: &'static str| {
        let env = env(pause);
        let (db, media, logs) = (&db, media.path(), logs.path());
        async move {
            let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Server::start(db, media, logs, &pairs).await
        }
    };
    let server = start("true").await;
    let client = reqwest::Client::new();
    let user = 3100;
    let offer: String = sqlx::query(
        "SELECT id FROM offers WHERE price IS NOT NULL ORDER BY stock_milli DESC, id LIMIT 1",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap()
    .get(0);
    let call = |method: reqwest::Method, path: String, body: Value| {
        client
            .request(method, format!("{}{path}", server.base))
            .header("authorization", auth(user))
            .header("idempotency-key", "pay-kill")
            .json(&body)
            .send()
    };
    assert_eq!(
        call(
            reqwest::Method::POST,
            "/api/v1/cart/items".into(),
            json!({"offer_id": offer, "quantity": 1})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let order: Value = call(
        reqwest::Method::POST,
        "/api/v1/orders".into(),
        json!({"contact": {"name": "Анна", "phone": "+79991234567"}, "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"}, "payment_method": "telegram"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let order = order["id"].as_i64().unwrap();
    let link = call(
        reqwest::Method::POST,
        format!("/api/v1/orders/{order}/invoice"),
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(link.status(), 200);
    let invoice = &fake.calls_to("createInvoiceLink")[0];
    let payload = invoice["payload"].as_str().unwrap().to_string();
    let total: i64 = invoice["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .sum();
    let update = successful_payment(41, user, "RUB", total, &payload, "charge-kill-1");
    let r = client
        .post(format!("{}/telegram/webhook", server.base))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server
        .wait_for_log("dev pause point reached: payment")
        .await;
    server.kill();
    let count = |db: &vitrina::store::testing::TestDb| {
        let pool = db.store.pool().clone();
        async move {
            sqlx::query(
                "SELECT COUNT(*) FROM payments WHERE telegram_payment_charge_id = 'charge-kill-1'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
            .get::<i64, _>(0)
        }
    };
    assert_eq!(count(&db).await, 0, "nothing committed at the crash");

    // The next process takes the job over once its lease expires and completes it.
    let server = start("false").await;
    let mut paid = false;
    for _ in 0..400 {
        let state: String = sqlx::query("SELECT payment_state FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(db.store.pool())
            .await
            .unwrap()
            .get(0);
        if state == "paid" {
            paid = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(paid, "the payment was never completed after the restart");
    // Telegram delivers it again, under a new update id.
    let again = successful_payment(42, user, "RUB", total, &payload, "charge-kill-1");
    let r = client
        .post(format!("{}/telegram/webhook", server.base))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .json(&again)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(count(&db).await, 1, "exactly one payment");
    let paid_events: i64 =
        sqlx::query("SELECT COUNT(*) FROM order_events WHERE order_id = $1 AND status = 'paid'")
            .bind(order)
            .fetch_one(db.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(paid_events, 1);
    server.kill();
}

store_test!(killed_mid_payment, backend: killed_mid_payment);

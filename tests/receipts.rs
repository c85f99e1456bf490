//! 54-FZ receipts in provider invoices, against the fake Bot API (which checks the receipt as
//! the provider would), and the Bot API's test environment path.

mod common;

use common::TestApp;
use common::bot::*;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{PaymentMethod, ReceiptContact, Secret};
use vitrina::store::Backend;
use vitrina::store_test;

async fn shop(backend: Backend, contact: ReceiptContact) -> (TestApp, FakeBot, tempfile::TempDir) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &f, m, Limits::default());
        c.telegram.staff_chat_id = None;
        c.telegram.test_environment = true;
        c.telegram.payment_provider_token = Some(Secret::new("381764678:TEST:100037"));
        c.checkout.payment_methods = vec![PaymentMethod::OnReceipt, PaymentMethod::Telegram];
        c.checkout.receipt.enabled = true;
        c.checkout.receipt.tax_system_code = Some(2);
        c.checkout.receipt.customer_contact = contact;
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

/// Two units of the first offer and one of another, delivered by courier (charged).
async fn order_with_delivery(app: &TestApp, user: i64) -> (i64, Vec<String>) {
    let offers: Vec<String> = sqlx::query(
        "SELECT id FROM offers WHERE price IS NOT NULL AND price < 100000 AND stock_milli >= 2000 ORDER BY id LIMIT 2",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert_eq!(offers.len(), 2);
    let a = auth(user);
    for (offer, q) in offers.iter().zip([2, 1]) {
        let r = app
            .client
            .post(app.url("/api/v1/cart/items"))
            .header("authorization", &a)
            .json(&json!({"offer_id": offer, "quantity": q}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", &a)
        .header("idempotency-key", format!("receipt-{user}"))
        .json(&json!({
            "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "courier", "address": "Москва, ул. Примерная, 2"},
            "payment_method": "telegram"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    (
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap(),
        offers,
    )
}

fn receipt_of(call: &Value) -> Value {
    serde_json::from_str(
        call["provider_data"]
            .as_str()
            .expect("provider_data as a string"),
    )
    .unwrap()
}

fn sum(receipt: &Value) -> i64 {
    receipt["receipt"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let v = i["amount"]["value"].as_str().unwrap().replace('.', "");
            let q: i64 = i["quantity"]
                .as_str()
                .unwrap()
                .trim_end_matches(".00")
                .parse()
                .unwrap();
            v.parse::<i64>().unwrap() * q
        })
        .sum()
}

async fn receipts(backend: Backend) {
    let (app, fake, _media) = shop(backend, ReceiptContact::Email).await;
    let (order, offers) = order_with_delivery(&app, 4001).await;
    // The catalog states VAT 20 % for the first offer; the other takes the configured code.
    sqlx::query("INSERT INTO offer_vat (offer_id, vat) VALUES ($1, '20')")
        .bind(&offers[0])
        .execute(app.db.store.pool())
        .await
        .unwrap();
    let (status, body) = invoice(&app, 4001, order).await;
    assert_eq!(status, 200, "{body}");
    let calls = fake.calls_to("createInvoiceLink");
    let call = calls.last().unwrap();
    let receipt = receipt_of(call);
    let items = receipt["receipt"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "two lines and the delivery: {receipt}");
    assert_eq!(items[0]["vat_code"], 4);
    assert_eq!(items[0]["quantity"], "2.00");
    assert_eq!(items[1]["vat_code"], 1);
    assert_eq!(items[2]["payment_subject"], "service");
    assert_eq!(receipt["receipt"]["tax_system_code"], 2);
    let total: i64 = sqlx::query("SELECT total FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(sum(&receipt), total);
    assert_eq!(call["need_email"], true);
    assert_eq!(call["send_email_to_provider"], true);
    // telegram.test_environment: the Bot API is called at /bot<token>/test/<method>.
    assert!(fake.test_environment_calls() > 0);

    // A total the lines cannot reach (the backend took a discount no receipt can spread over
    // two units of one kopeck): no invoice, a clear refusal, nothing sent to Telegram.
    sqlx::query("UPDATE orders SET total = delivery_price + 2 WHERE id = $1")
        .bind(order)
        .execute(app.db.store.pool())
        .await
        .unwrap();
    let before = fake.calls_to("createInvoiceLink").len();
    let (status, body) = invoice(&app, 4001, order).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "receipt_mismatch");
    assert_eq!(fake.calls_to("createInvoiceLink").len(), before);

    // A total off by a kopeck from the lines: spread and split, still exact.
    sqlx::query("UPDATE orders SET total = items_total + delivery_price - 1 WHERE id = $1")
        .bind(order)
        .execute(app.db.store.pool())
        .await
        .unwrap();
    let (status, body) = invoice(&app, 4001, order).await;
    assert_eq!(status, 200, "{body}");
    let receipt = receipt_of(fake.calls_to("createInvoiceLink").last().unwrap());
    let total: i64 = sqlx::query("SELECT total FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(sum(&receipt), total);
    app.stop().await;
}

store_test!(receipts, backend: receipts);

/// The fake provider refuses a receipt that does not add up, so the check above can fail.
#[tokio::test]
async fn the_fake_provider_refuses_wrong_sums() {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    vitrina::telegram::client::install_crypto_provider();
    let client = reqwest::Client::new();
    let call = |data: Value| {
        client
            .post(format!("{}/bot{TOKEN}/createInvoiceLink", fake.url))
            .json(
                &json!({"title": "t", "description": "d", "payload": "p", "currency": "RUB",
                "provider_token": "x", "prices": [{"label": "a", "amount": 10000}],
                "need_phone_number": true, "send_phone_number_to_provider": true,
                "provider_data": data.to_string()}),
            )
            .send()
    };
    let item = |value: &str, q: &str| {
        json!({"description": "a", "quantity": q, "vat_code": 1,
        "amount": {"value": value, "currency": "RUB"}})
    };
    let ok = call(json!({"receipt": {"items": [item("50.00", "2.00")]}}))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let wrong = call(json!({"receipt": {"items": [item("50.00", "1.00")]}}))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("differs from the invoice amount")
    );
}

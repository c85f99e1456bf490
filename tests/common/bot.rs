//! The shop with a bot: the app configured against the project's fake Bot API, customers
//! signed with the bot's token, orders placed through the API.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{Config, Secret};
use vitrina::store::Backend;
use vitrina::store::testing::TestDb;

use super::TestApp;

pub const TOKEN: &str = "123456789:AAtest-token-for-the-fake-bot-api";
pub const STAFF_CHAT: i64 = -100_500;
pub const STAFF_USER: i64 = 42;
pub const SECRET: &str = "webhook-secret-1";

/// Telegram's limits scaled 10× so a 1,000-message burst takes seconds; the fake enforces
/// the same numbers the bot is configured with.
pub fn fast_limits() -> Limits {
    Limits {
        per_second: 300,
        per_chat: Duration::from_millis(100),
        per_group_minute: 20,
    }
}

pub fn configure(c: &mut Config, fake: &FakeBot, media: std::path::PathBuf, limits: Limits) {
    c.telegram.bot_token = Some(Secret::new(TOKEN));
    c.telegram.api_base_url = fake.url.clone();
    c.telegram.webhook_secret = Some(Secret::new(SECRET));
    c.telegram.staff_chat_id = Some(STAFF_CHAT);
    c.telegram.staff_user_ids = vec![STAFF_USER];
    c.telegram.messages_per_second = limits.per_second as u32;
    c.telegram.per_chat_interval = limits.per_chat;
    c.server.public_url = "https://shop.example.com".into();
    c.catalog.media_dir = media;
    c.outbox.workers = 16;
    c.outbox.poll_interval = Duration::from_millis(100);
    c.outbox.backoff_base = Duration::from_millis(200);
}

pub async fn seeded_db(backend: Backend, media: &std::path::Path) -> TestDb {
    let db = TestDb::new(backend).await;
    let catalog = vitrina::config::CatalogConfig {
        media_dir: media.to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::demo::seed_if_empty(&db.store, &catalog)
        .await
        .unwrap();
    db
}

/// `Authorization: tma …` for a Telegram user who allows the bot to write.
pub fn auth(user: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let user_json = json!({"id": user, "first_name": "Анна", "language_code": "ru", "allows_write_to_pm": true}).to_string();
    format!(
        "tma {}",
        initdata::sign(TOKEN, &[("auth_date", &now), ("user", &user_json)])
    )
}

pub async fn place_order(app: &TestApp, payment: &str, user: i64) -> i64 {
    let offer: String = sqlx::query(
        "SELECT id FROM offers WHERE price IS NOT NULL ORDER BY stock_milli DESC, id LIMIT 1",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap()
    .get(0);
    let a = auth(user);
    let r = app
        .client
        .post(app.url("/api/v1/cart/items"))
        .header("authorization", &a)
        .json(&json!({"offer_id": offer, "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", &a)
        .header("idempotency-key", format!("k-{user}-{payment}"))
        .json(&json!({
            "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
            "payment_method": payment
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

pub async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn to_chat(fake: &FakeBot, method: &str, chat: i64) -> Vec<Value> {
    fake.calls_to(method)
        .into_iter()
        .filter(|p| p["chat_id"].as_i64() == Some(chat))
        .collect()
}

pub async fn post_update(app: &TestApp, secret: Option<&str>, update: &Value) -> u16 {
    let mut r = app.client.post(app.url("/telegram/webhook")).json(update);
    if let Some(s) = secret {
        r = r.header("x-telegram-bot-api-secret-token", s);
    }
    r.send().await.unwrap().status().as_u16()
}

/// A `pre_checkout_query` update as Telegram sends it for an invoice.
pub fn pre_checkout(
    update_id: i64,
    user: i64,
    currency: &str,
    amount: i64,
    payload: &str,
) -> Value {
    json!({"update_id": update_id, "pre_checkout_query": {
        "id": format!("pcq-{update_id}"),
        "from": {"id": user, "is_bot": false, "first_name": "Анна", "language_code": "ru"},
        "currency": currency, "total_amount": amount, "invoice_payload": payload}})
}

/// A message with `successful_payment`, as Telegram sends it once the payment went through.
pub fn successful_payment(
    update_id: i64,
    user: i64,
    currency: &str,
    amount: i64,
    payload: &str,
    charge: &str,
) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000,
        "from": {"id": user, "is_bot": false, "first_name": "Анна"},
        "chat": {"id": user, "type": "private"},
        "successful_payment": {"currency": currency, "total_amount": amount, "invoice_payload": payload,
            "telegram_payment_charge_id": charge, "provider_payment_charge_id": format!("prov-{charge}")}}})
}

//! The cart reminder against the project's fake Bot API, on SQLite and PostgreSQL: one
//! message for a cart left with goods, never twice for the same contents, again when they
//! change, never to a customer who has not let the bot write, never after an order, and not
//! in the quiet hours (postponed to their end).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::TestApp;
use common::bot::*;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{Config, QuietHours};
use vitrina::store::Backend;
use vitrina::store_test;

const AFTER: Duration = Duration::from_millis(1500);

/// Quiet hours (UTC) that `now` is `minutes_in` minutes into, lasting `len` minutes.
fn quiet_around_now(minutes_in: i64, len: i64) -> QuietHours {
    let now_min = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60) as i64
        % 1440;
    let start = (now_min - minutes_in).rem_euclid(1440) as u16;
    let end = (now_min - minutes_in + len).rem_euclid(1440) as u16;
    QuietHours { start, end }
}

async fn shop(
    backend: Backend,
    fake: &FakeBot,
    media: &std::path::Path,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let db = seeded_db(backend, media).await;
    let (f, m) = (fake.clone(), media.to_path_buf());
    TestApp::spawn_on(db, move |c| {
        configure(c, &f, m, Limits::default());
        c.telegram.staff_chat_id = None;
        c.bot.cart_reminder_after = AFTER;
        c.shop.time_zone = "UTC".into();
        // Quiet hours well away from now.
        c.bot.quiet_hours = quiet_around_now(-600, 60);
        tweak(c);
    })
    .await
}

/// `Authorization: tma …` for a Telegram user; `allows_write` is initData's `allows_write_to_pm`.
fn who(user: i64, allows_write: bool) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let user_json = json!({"id": user, "first_name": "Анна", "language_code": "ru", "allows_write_to_pm": allows_write}).to_string();
    format!(
        "tma {}",
        initdata::sign(TOKEN, &[("auth_date", &now), ("user", &user_json)])
    )
}

async fn offers(app: &TestApp, n: i64) -> Vec<(String, String)> {
    sqlx::query(
        "SELECT o.id, p.name FROM offers o JOIN products p ON p.id = o.product_id \
         WHERE o.price IS NOT NULL AND o.stock_milli >= 10000 ORDER BY o.id LIMIT $1",
    )
    .bind(n)
    .fetch_all(app.db.store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

async fn send(
    app: &TestApp,
    auth: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let r = app
        .client
        .request(method, app.url(path))
        .header("authorization", auth)
        .header("idempotency-key", format!("k-{}", uuid::Uuid::new_v4()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn add(app: &TestApp, auth: &str, offer: &str, quantity: i64) {
    send(
        app,
        auth,
        reqwest::Method::POST,
        "/api/v1/cart/items",
        json!({"offer_id": offer, "quantity": quantity}),
    )
    .await;
}

/// Waits long enough for a reminder due now to have been sent.
async fn settle() {
    tokio::time::sleep(AFTER + Duration::from_millis(1500)).await;
}

async fn reminder_sent_once_and_again_for_new_contents(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let app = shop(backend, &fake, media.path(), |_| {}).await;
    let goods = offers(&app, 2).await;
    let anna = who(31, true);
    // The Mini App's share links learn the bot's username (getMe at start) from here.
    let mut username = Value::Null;
    for _ in 0..100 {
        let r = app
            .client
            .get(app.url("/api/v1/checkout/options"))
            .header("authorization", &anna)
            .send()
            .await
            .unwrap();
        username = r.json::<Value>().await.unwrap()["bot_username"].clone();
        if !username.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(username, "vitrina_test_bot");
    add(&app, &anna, &goods[0].0, 1).await;
    // A second change before the reminder is due: it counts from this one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    add(&app, &anna, &goods[0].0, 1).await;
    wait_for("the reminder", Duration::from_secs(15), || {
        !to_chat(&fake, "sendMessage", 31).is_empty()
    })
    .await;
    let m = &to_chat(&fake, "sendMessage", 31)[0];
    let text = m["text"].as_str().unwrap();
    assert!(
        text.starts_with("В вашей корзине остались товары:"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} (", goods[0].1)) || text.contains(&goods[0].1),
        "{text}"
    );
    assert!(text.contains("× 2"), "{text}");
    assert!(text.contains("Итого:"), "{text}");
    let button = &m["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["text"], "Открыть корзину");
    assert_eq!(button["web_app"]["url"], "https://shop.example.com/cart");

    // Only once: the second change's job was the one to send; nothing more comes.
    settle().await;
    assert_eq!(to_chat(&fake, "sendMessage", 31).len(), 1);
    // Back to the same contents (down and up again): not reminded of them twice.
    let path = format!("/api/v1/cart/items/{}", urlencode(&goods[0].0));
    send(
        &app,
        &anna,
        reqwest::Method::PATCH,
        &path,
        json!({"quantity": 1}),
    )
    .await;
    send(
        &app,
        &anna,
        reqwest::Method::PATCH,
        &path,
        json!({"quantity": 2}),
    )
    .await;
    settle().await;
    assert_eq!(
        to_chat(&fake, "sendMessage", 31).len(),
        1,
        "the same contents again"
    );
    // New contents: one more reminder, listing both.
    add(&app, &anna, &goods[1].0, 1).await;
    wait_for("the second reminder", Duration::from_secs(15), || {
        to_chat(&fake, "sendMessage", 31).len() == 2
    })
    .await;
    let text = to_chat(&fake, "sendMessage", 31)[1]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains(&goods[1].1), "{text}");
    settle().await;
    assert_eq!(to_chat(&fake, "sendMessage", 31).len(), 2);
    app.stop().await;
}

store_test!(reminder_sent_once_and_again_for_new_contents, backend: reminder_sent_once_and_again_for_new_contents);

async fn no_reminder_without_permission_or_after_an_order(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let app = shop(backend, &fake, media.path(), |_| {}).await;
    let goods = offers(&app, 1).await;
    // Boris has not let the bot write and never started it.
    let boris = who(32, false);
    add(&app, &boris, &goods[0].0, 1).await;
    // Carl orders what he put in the cart before the reminder is due.
    let carl = who(33, true);
    add(&app, &carl, &goods[0].0, 1).await;
    send(
        &app,
        &carl,
        reqwest::Method::POST,
        "/api/v1/orders",
        json!({
            "contact": {"name": "Карл", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
            "payment_method": "on_receipt"
        }),
    )
    .await;
    // Dana (a control in the same run) does get hers.
    let dana = who(34, true);
    add(&app, &dana, &goods[0].0, 1).await;
    wait_for("Dana's reminder", Duration::from_secs(15), || {
        !to_chat(&fake, "sendMessage", 34).is_empty()
    })
    .await;
    settle().await;
    assert!(
        to_chat(&fake, "sendMessage", 32).is_empty(),
        "Boris did not allow the bot to write"
    );
    let to_carl: Vec<Value> = to_chat(&fake, "sendMessage", 33)
        .into_iter()
        .filter(|m| m["text"].as_str().unwrap_or("").contains("корзине"))
        .collect();
    assert!(to_carl.is_empty(), "Carl placed an order: {to_carl:?}");
    let marked: i64 =
        sqlx::query("SELECT COUNT(*) FROM cart_reminders WHERE sent_contents IS NOT NULL")
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(marked, 1, "only Dana's cart was reminded of");
    app.stop().await;
}

store_test!(no_reminder_without_permission_or_after_an_order, backend: no_reminder_without_permission_or_after_an_order);

async fn not_in_quiet_hours(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    // Quiet from 30 minutes ago for the next hour and a half.
    let app = shop(backend, &fake, media.path(), |c| {
        c.bot.quiet_hours = quiet_around_now(30, 120)
    })
    .await;
    let goods = offers(&app, 1).await;
    add(&app, &who(35, true), &goods[0].0, 1).await;
    settle().await;
    settle().await;
    assert!(
        to_chat(&fake, "sendMessage", 35).is_empty(),
        "nothing at night"
    );
    // Postponed to the end of the quiet hours: a reminder job due then (90 minutes from now).
    let rows = sqlx::query(
        "SELECT run_at, dedupe_key FROM outbox WHERE kind = 'cart.reminder' AND state = 'pending'",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let postponed: Vec<i64> = rows
        .iter()
        .filter(|r| r.get::<String, _>(1).contains(":quiet:"))
        .map(|r| r.get::<i64, _>(0))
        .collect();
    assert_eq!(postponed.len(), 1, "one postponed reminder");
    let due_in = postponed[0] - now;
    assert!(
        (85 * 60_000..=91 * 60_000).contains(&due_in),
        "due at the end of the quiet hours, in {due_in} ms"
    );
    app.stop().await;
}

store_test!(not_in_quiet_hours, backend: not_in_quiet_hours);

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

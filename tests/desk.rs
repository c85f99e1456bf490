//! The staff desk against the real app and the project's fake Bot API: roles (a manager, a
//! viewer, a customer), the order list's filters, search and paging, a status change and a
//! message reaching the customer through the bot, the transitions' 409 with the allowed next
//! statuses, the limits on messages and ranges, the funnel of a scripted visit, the CSV
//! export (HTTP and CLI, the same bytes), `/desk` in the bot and `telegram setup`'s scoped
//! command.

mod common;

use std::time::Duration;

use common::TestApp;
use common::bot::*;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{Config, PaymentMethod, Secret, StaffRole};
use vitrina::desk::Day;
use vitrina::store::Backend;
use vitrina::store_test;

const VIEWER: i64 = 43;
const CUSTOMER: i64 = 777;

fn desk_config(c: &mut Config) {
    c.telegram
        .staff_roles
        .insert(VIEWER.to_string(), StaffRole::Viewer);
    c.telegram.payment_provider_token = Some(Secret::new("284685063:TEST:provider"));
    c.checkout.payment_methods = vec![PaymentMethod::OnReceipt, PaymentMethod::Telegram];
}

async fn shop(backend: Backend) -> (TestApp, FakeBot, tempfile::TempDir) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &f, m, Limits::default());
        desk_config(c);
    })
    .await;
    (app, fake, media)
}

/// Today in the shop's time zone (the default, UTC+3).
fn today() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    Day::of(now, 3 * 3600 * 1000).to_string()
}

async fn offers(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query(
        "SELECT id, product_id FROM offers WHERE price IS NOT NULL ORDER BY stock_milli DESC, id LIMIT 3",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    user: i64,
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
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str, user: i64) -> (u16, Value) {
    call(app, reqwest::Method::GET, path, user, None).await
}

async fn post(app: &TestApp, path: &str, user: i64, body: Value) -> (u16, Value) {
    call(app, reqwest::Method::POST, path, user, Some(body)).await
}

/// Places an order for `user` with a contact name and phone of the test's choosing.
async fn order_as(app: &TestApp, user: i64, name: &str, phone: &str, payment: &str) -> i64 {
    let (offer, _) = offers(app).await.remove(0);
    let (s, b) = post(
        app,
        "/api/v1/cart/items",
        user,
        json!({"offer_id": offer, "quantity": 2}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", auth(user))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({
            "contact": {"name": name, "phone": phone},
            "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
            "payment_method": payment
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn numbers(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

async fn roles_and_orders(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let first = order_as(
        &app,
        CUSTOMER,
        "Анна Петрова",
        "+7 999 123-45-67",
        "on_receipt",
    )
    .await;
    let second = order_as(&app, 778, "Boris Ivanov", "+7 912 000-11-22", "on_receipt").await;
    let third = order_as(&app, 779, "Вера Смирнова", "8 903 555-44-33", "on_receipt").await;

    // A customer is not staff: every staff route answers 403 forbidden.
    for path in [
        "/api/v1/staff/me".to_string(),
        "/api/v1/staff/orders".into(),
        format!("/api/v1/staff/orders/{first}"),
        format!("/api/v1/staff/summary?from={}&to={}", today(), today()),
        format!("/api/v1/staff/orders.csv?from={}&to={}", today(), today()),
    ] {
        let (s, b) = get(&app, &path, CUSTOMER).await;
        assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{path}");
    }
    let (s, b) = post(
        &app,
        &format!("/api/v1/staff/orders/{first}/status"),
        CUSTOMER,
        json!({"status": "confirmed"}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));

    // Who is who, and the statuses in the staff member's language.
    let (s, me) = get(&app, "/api/v1/staff/me", STAFF_USER).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["role"], "manager");
    assert_eq!(me["statuses"][0], json!({"code": "new", "name": "Принят"}));
    assert_eq!(
        me["transitions"]["new"],
        json!(["confirmed", "paid", "cancelled"])
    );
    assert_eq!(me["transitions"]["delivered"], json!([]));
    let (_, me) = get(&app, "/api/v1/staff/me", VIEWER).await;
    assert_eq!(me["role"], "viewer");

    // The list: newest first, each with its contact and count of units.
    let (s, list) = get(&app, "/api/v1/staff/orders", VIEWER).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(numbers(&list), [third, second, first]);
    assert_eq!(list["next_cursor"], Value::Null);
    let row = &list["items"][2];
    assert_eq!(row["customer_name"], "Анна Петрова");
    assert_eq!(row["phone"], "+79991234567");
    assert_eq!(row["items_count"], 2);
    assert_eq!(row["status_name"], "Принят");
    assert_eq!(row["payment_state"], "unpaid");

    // Paging.
    let (_, page) = get(&app, "/api/v1/staff/orders?limit=2", STAFF_USER).await;
    assert_eq!(numbers(&page), [third, second]);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let (_, page) = get(
        &app,
        &format!("/api/v1/staff/orders?limit=2&cursor={cursor}"),
        STAFF_USER,
    )
    .await;
    assert_eq!(numbers(&page), [first]);
    assert_eq!(page["next_cursor"], Value::Null);

    // Search: the name in lower case, the phone as typed with 8, the number's digits.
    let q = |q: &str| format!("/api/v1/staff/orders?q={}", urlencode(q));
    assert_eq!(
        numbers(&get(&app, &q("петрова"), STAFF_USER).await.1),
        [first]
    );
    assert_eq!(
        numbers(&get(&app, &q("ivanov"), STAFF_USER).await.1),
        [second]
    );
    assert_eq!(
        numbers(&get(&app, &q("8 (903) 555"), STAFF_USER).await.1),
        [third]
    );
    let number = list["items"][1]["number"].as_str().unwrap().to_string();
    assert_eq!(
        numbers(&get(&app, &q(&number.to_lowercase()), STAFF_USER).await.1),
        [second]
    );
    assert!(
        numbers(&get(&app, &q("100%_"), STAFF_USER).await.1).is_empty(),
        "LIKE wildcards are matched literally"
    );
    // Days: today has all three, a day long ago none.
    let (_, days) = get(
        &app,
        &format!("/api/v1/staff/orders?from={}&to={}", today(), today()),
        STAFF_USER,
    )
    .await;
    assert_eq!(numbers(&days), [third, second, first]);
    let (_, old) = get(
        &app,
        "/api/v1/staff/orders?from=2020-01-01&to=2020-01-31",
        STAFF_USER,
    )
    .await;
    assert!(numbers(&old).is_empty());
    // Bad parameters name themselves.
    for (path, param) in [
        ("/api/v1/staff/orders?status=lost", "status"),
        ("/api/v1/staff/orders?from=2026-02-30", "from"),
        ("/api/v1/staff/orders?limit=0", "limit"),
        ("/api/v1/staff/orders?cursor=abc", "cursor"),
        ("/api/v1/staff/orders?from=2026-02-02&to=2026-02-01", "from"),
    ] {
        let (s, b) = get(&app, path, STAFF_USER).await;
        assert_eq!(s, 400, "{path}: {b}");
        assert_eq!(b["code"], "invalid_parameter");
        assert_eq!(b["errors"][0]["field"], param, "{path}");
    }

    // The detail.
    let (s, d) = get(&app, &format!("/api/v1/staff/orders/{first}"), VIEWER).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["order"]["id"], first);
    assert_eq!(d["order"]["items"][0]["quantity"], 2);
    assert_eq!(d["customer"]["telegram_user_id"], CUSTOMER);
    assert_eq!(d["customer"]["name"], "Анна");
    assert_eq!(d["customer"]["phone"], "+79991234567");
    assert_eq!(
        d["master"],
        json!({"system": null, "id": null, "url": null})
    );
    assert_eq!(d["allowed_next"], json!(["confirmed", "paid", "cancelled"]));
    assert_eq!(
        get(&app, "/api/v1/staff/orders/999999", VIEWER).await.0,
        404
    );

    // A viewer reads only.
    let (s, b) = post(
        &app,
        &format!("/api/v1/staff/orders/{first}/status"),
        VIEWER,
        json!({"status": "confirmed"}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));
    let (s, _) = post(
        &app,
        &format!("/api/v1/staff/orders/{first}/message"),
        VIEWER,
        json!({"text": "hi"}),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(app.order_status(first).await, "new");

    // A manager confirms: the customer hears of it through the bot.
    wait_for("the order's first message", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", CUSTOMER).len() == 1
    })
    .await;
    let (s, d) = post(
        &app,
        &format!("/api/v1/staff/orders/{first}/status"),
        STAFF_USER,
        json!({"status": "confirmed", "note": "позвонили, всё в силе"}),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["order"]["status"], "confirmed");
    assert_eq!(d["allowed_next"], json!(["paid", "shipped", "cancelled"]));
    let last = d["order"]["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor"], format!("staff:{STAFF_USER}"));
    assert_eq!(last["kind"], "status");
    assert_eq!(last["note"], "позвонили, всё в силе");
    wait_for(
        "the customer's notification",
        Duration::from_secs(10),
        || to_chat(&fake, "sendMessage", CUSTOMER).len() == 2,
    )
    .await;
    assert!(
        to_chat(&fake, "sendMessage", CUSTOMER)[1]["text"]
            .as_str()
            .unwrap()
            .contains("подтверждён")
    );
    // The status filter sees it.
    let (_, confirmed) = get(&app, "/api/v1/staff/orders?status=confirmed", VIEWER).await;
    assert_eq!(numbers(&confirmed), [first]);

    // A move the transitions forbid: 409 with the statuses it may take.
    let (s, b) = post(
        &app,
        &format!("/api/v1/staff/orders/{first}/status"),
        STAFF_USER,
        json!({"status": "new"}),
    )
    .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["code"], "transition_not_allowed");
    assert_eq!(b["allowed"], json!(["paid", "shipped", "cancelled"]));
    let (s, b) = post(
        &app,
        &format!("/api/v1/staff/orders/{first}/status"),
        STAFF_USER,
        json!({"status": "lost"}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (400, Some("unknown_status")));

    // Messages: empty and over Telegram's 4096 characters are refused with the limit.
    let path = format!("/api/v1/staff/orders/{first}/message");
    let (s, b) = post(&app, &path, STAFF_USER, json!({"text": "я".repeat(4097)})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["code"], "too_long");
    assert!(b["errors"][0]["message"].as_str().unwrap().contains("4096"));
    let (s, b) = post(&app, &path, STAFF_USER, json!({"text": "  "})).await;
    assert_eq!(
        (s, b["errors"][0]["code"].as_str()),
        (422, Some("required"))
    );
    let text = "Заказ собран, ждём вас с 10:00. ".repeat(128);
    let text = text.trim();
    let (s, d) = post(&app, &path, STAFF_USER, json!({"text": text})).await;
    assert_eq!(s, 200, "{d}");
    let last = d["order"]["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "message");
    assert_eq!(last["note"], text);
    assert_eq!(last["status"], "confirmed");
    assert_eq!(last["actor"], format!("staff:{STAFF_USER}"));
    wait_for("the staff message", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", CUSTOMER).len() == 3
    })
    .await;
    let sent = &to_chat(&fake, "sendMessage", CUSTOMER)[2];
    assert_eq!(sent["text"], text);
    assert_eq!(
        sent["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        format!("https://shop.example.com/orders/{first}")
    );
    // The customer's own view of the order shows the message too.
    let (_, own) = get(&app, &format!("/api/v1/orders/{first}"), CUSTOMER).await;
    assert_eq!(
        own["timeline"].as_array().unwrap().last().unwrap()["kind"],
        "message"
    );
    app.stop().await;
}

store_test!(roles_and_orders, backend: roles_and_orders);

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A customer's visit, scripted: sign in, view two products (one twice), add to the cart,
/// open checkout, place an order paid online, pay. The funnel counts each step once.
async fn funnel_and_summary(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let who = 901;
    let r = app
        .client
        .post(app.url("/api/v1/auth"))
        .json(&json!({"init_data": auth(who).trim_start_matches("tma ")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let products = offers(&app).await;
    for p in [&products[0].1, &products[1].1, &products[0].1] {
        let (s, b) = post(
            &app,
            "/api/v1/events",
            who,
            json!({"kind": "product_view", "product_id": p}),
        )
        .await;
        assert_eq!(s, 204, "{b}");
    }
    let (s, b) = post(&app, "/api/v1/events", who, json!({"kind": "scroll"})).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("kind")));
    let (s, b) = post(
        &app,
        "/api/v1/events",
        who,
        json!({"kind": "product_view", "product_id": "no-such-product"}),
    )
    .await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (422, Some("product_id"))
    );
    let (s, _) = get(&app, "/api/v1/checkout/options", who).await;
    assert_eq!(s, 200);
    let order = order_as(&app, who, "Анна", "+7 999 000-00-01", "telegram").await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/orders/{order}/invoice")))
        .header("authorization", auth(who))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let invoice = &fake.calls_to("createInvoiceLink")[0];
    let payload = invoice["payload"].as_str().unwrap().to_string();
    let total: i64 = invoice["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount"].as_i64().unwrap())
        .sum();
    let paid = json!({"update_id": 5001, "message": {
        "message_id": 1, "date": 1_700_000_000,
        "from": {"id": who, "is_bot": false, "first_name": "Анна"},
        "chat": {"id": who, "type": "private"},
        "successful_payment": {"currency": "RUB", "total_amount": total, "invoice_payload": payload,
            "telegram_payment_charge_id": "ch-1", "provider_payment_charge_id": "prov-ch-1"}}});
    assert_eq!(post_update(&app, Some(SECRET), &paid).await, 200);
    for _ in 0..400 {
        let state: String = sqlx::query("SELECT payment_state FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get(0);
        if state == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // A second customer who only looks, and signs in twice.
    for _ in 0..2 {
        let r = app
            .client
            .post(app.url("/api/v1/auth"))
            .json(&json!({"init_data": auth(902).trim_start_matches("tma ")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    let day = today();
    let (s, sum) = get(
        &app,
        &format!("/api/v1/staff/summary?from={day}&to={day}"),
        VIEWER,
    )
    .await;
    assert_eq!(s, 200, "{sum}");
    assert_eq!(
        sum["funnel"],
        json!({"app_opens": 2, "product_views": 2, "carts": 1, "checkouts": 1, "orders": 1, "paid": 1})
    );
    let order_total: i64 = sqlx::query("SELECT total FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(sum["orders"], 1);
    assert_eq!(sum["revenue"], order_total);
    assert_eq!(sum["average_order"], order_total);
    assert_eq!(sum["paid_share"], 1.0);
    assert_eq!(sum["currency"], "RUB");
    assert_eq!(
        sum["days"],
        json!([{"date": day, "orders": 1, "revenue": order_total, "paid": 1}])
    );
    assert_eq!(sum["top_products"][0]["product_id"], products[0].1);
    assert_eq!(sum["top_products"][0]["quantity"], 2);
    assert_eq!(
        sum["top_products"][0]["revenue"],
        order_total - {
            // the delivery price is not a product's revenue
            let d: i64 = sqlx::query("SELECT delivery_price FROM orders WHERE id = $1")
                .bind(order)
                .fetch_one(app.db.store.pool())
                .await
                .unwrap()
                .get(0);
            d
        }
    );

    // A week: every day listed, the empty ones with zeros.
    let (s, week) = get(
        &app,
        "/api/v1/staff/summary?from=2026-01-01&to=2026-01-07",
        STAFF_USER,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(week["days"].as_array().unwrap().len(), 7);
    assert_eq!(week["paid_share"], 0.0);
    assert_eq!(week["funnel"]["app_opens"], 0);
    // Over a year: 422.
    let (s, b) = get(
        &app,
        "/api/v1/staff/summary?from=2025-01-01&to=2026-01-02",
        STAFF_USER,
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (422, Some("range_too_long")));
    let (s, _) = get(
        &app,
        "/api/v1/staff/summary?from=2025-01-01&to=2025-12-31",
        STAFF_USER,
    )
    .await;
    assert_eq!(s, 200, "a year is allowed");
    let (s, b) = get(&app, "/api/v1/staff/summary?from=2025-01-01", STAFF_USER).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (400, Some("to")));
    app.stop().await;
}

store_test!(funnel_and_summary, backend: funnel_and_summary);

/// The CSV: BOM, header, `;`, a name with a comma and quotes quoted, a formula defused; the
/// CLI writes the same bytes.
async fn csv_export(backend: Backend) {
    let (app, _fake, _media) = shop(backend).await;
    let order = order_as(
        &app,
        CUSTOMER,
        "ООО \"Ромашка\", Иванов",
        "+7 999 123-45-67",
        "on_receipt",
    )
    .await;
    order_as(
        &app,
        778,
        "=HYPERLINK(\"http://x\")",
        "+7 999 123-45-68",
        "on_receipt",
    )
    .await;
    let day = today();
    let r = app
        .client
        .get(app.url(&format!("/api/v1/staff/orders.csv?from={day}&to={day}")))
        .header("authorization", auth(VIEWER))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "Номер;Дата;Статус;Оплата;Способ оплаты;Доставка;Адрес;Покупатель;Телефон;E-mail;Товаров;Сумма;Валюта;Комментарий"
    );
    assert_eq!(lines.len(), 4, "header, two orders, the final CRLF: {text}");
    let number: String = sqlx::query("SELECT number FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    let row = lines[1];
    assert!(
        row.starts_with(&format!("{number};{}", &day[8..10])),
        "{row}"
    );
    assert!(
        row.contains(";\"ООО \"\"Ромашка\"\", Иванов\";'+79991234567;;2;"),
        "{row}"
    );
    assert!(row.contains(";принят;не оплачен;при получении;"), "{row}");
    assert!(
        lines[2].contains(";\"'=HYPERLINK(\"\"http://x\"\")\";"),
        "a formula is defused: {}",
        lines[2]
    );
    let total: i64 = sqlx::query("SELECT total FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert!(
        row.contains(&format!(";{},{:02};RUB;", total / 100, total % 100)),
        "{row}"
    );
    let (s, b) = get(
        &app,
        "/api/v1/staff/orders.csv?from=2024-01-01&to=2026-01-01",
        VIEWER,
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (422, Some("range_too_long")));

    // The CLI: the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("orders.csv");
    let url = app.db.config.url.expose().to_string();
    let (from, to, path) = (day.clone(), day.clone(), out.clone());
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vitrina"))
            .args(["orders", "export", "--from", &from, "--to", &to, "--out"])
            .arg(&path)
            .env("VITRINA_DATABASE__URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    app.stop().await;
}

store_test!(csv_export, backend: csv_export);

fn command(update_id: i64, user: i64, chat: i64, kind: &str, text: &str) -> Value {
    json!({"update_id": update_id, "message": {"message_id": update_id, "date": 1_700_000_000, "text": text,
        "from": {"id": user, "is_bot": false, "first_name": "Мария", "language_code": "ru"},
        "chat": {"id": chat, "type": kind}}})
}

/// `/desk` for staff (a web_app button in private, a t.me link in the staff group), the
/// help for anyone else; the staff alert's «Открыть в пульте».
async fn desk_command(backend: Backend) {
    let (app, fake, _media) = shop(backend).await;
    let private = command(7001, STAFF_USER, STAFF_USER, "private", "/desk");
    let group = command(
        7002,
        VIEWER,
        STAFF_CHAT,
        "supergroup",
        "/desk@vitrina_test_bot",
    );
    let stranger = command(7003, 555, 555, "private", "/desk");
    for u in [&private, &group, &stranger] {
        assert_eq!(post_update(&app, Some(SECRET), u).await, 200);
    }
    wait_for("three replies", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", STAFF_USER).len() == 1
            && to_chat(&fake, "sendMessage", STAFF_CHAT).len() == 1
            && to_chat(&fake, "sendMessage", 555).len() == 1
    })
    .await;
    let mine = &to_chat(&fake, "sendMessage", STAFF_USER)[0];
    assert!(mine["text"].as_str().unwrap().contains("Пульт"));
    assert_eq!(
        mine["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        "https://shop.example.com/desk"
    );
    let in_group = &to_chat(&fake, "sendMessage", STAFF_CHAT)[0];
    assert_eq!(
        in_group["reply_markup"]["inline_keyboard"][0][0]["url"],
        "https://t.me/vitrina_test_bot?startapp=desk"
    );
    assert!(in_group["reply_markup"]["inline_keyboard"][0][0]["web_app"].is_null());
    let other = &to_chat(&fake, "sendMessage", 555)[0];
    assert!(
        other["text"].as_str().unwrap().contains("/orders"),
        "{other}"
    );
    assert!(other.get("reply_markup").is_none());

    let order = order_as(&app, CUSTOMER, "Анна", "+7 999 123-45-67", "on_receipt").await;
    wait_for("the staff alert", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", STAFF_CHAT).len() == 2
    })
    .await;
    let alert = &to_chat(&fake, "sendMessage", STAFF_CHAT)[1];
    let rows = alert["reply_markup"]["inline_keyboard"].as_array().unwrap();
    assert_eq!(rows[0][0]["callback_data"], format!("st:{order}:confirmed"));
    assert_eq!(
        rows[1][0],
        json!({"text": "Открыть в пульте", "url": format!("https://t.me/vitrina_test_bot?startapp=desk_order_{order}")})
    );

    // A viewer's press of a staff button changes nothing.
    let press = json!({"update_id": 7004, "callback_query": {"id": "cb-v", "chat_instance": "1",
        "from": {"id": VIEWER, "is_bot": false, "first_name": "V"},
        "data": format!("st:{order}:confirmed")}});
    assert_eq!(post_update(&app, Some(SECRET), &press).await, 200);
    wait_for("the refusal", Duration::from_secs(10), || {
        !fake.calls_to("answerCallbackQuery").is_empty()
    })
    .await;
    assert_eq!(fake.calls_to("answerCallbackQuery")[0]["show_alert"], true);
    assert_eq!(app.order_status(order).await, "new");
    app.stop().await;
}

store_test!(desk_command, backend: desk_command);

/// `vitrina telegram setup` registers `/desk` for the staff chat only.
#[tokio::test(flavor = "multi_thread")]
async fn setup_registers_desk_for_the_staff_chat() {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    let url = fake.url.clone();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vitrina"))
            .args(["telegram", "setup"])
            .env("VITRINA_DATABASE__URL", &db)
            .env("VITRINA_TELEGRAM__BOT_TOKEN", TOKEN)
            .env("VITRINA_TELEGRAM__API_BASE_URL", &url)
            .env("VITRINA_TELEGRAM__STAFF_CHAT_ID", STAFF_CHAT.to_string())
            .env("VITRINA_SERVER__PUBLIC_URL", "https://shop.example.com")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let names = |v: Option<Value>| -> Vec<String> {
        v.unwrap_or(json!([]))
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["command"].as_str().unwrap().to_string())
            .collect()
    };
    let staff = json!({"type": "chat", "chat_id": STAFF_CHAT});
    assert_eq!(
        names(fake.commands(&staff, "")),
        ["start", "orders", "help", "desk"]
    );
    assert_eq!(
        names(fake.commands(&staff, "en")),
        ["start", "orders", "help", "desk"]
    );
    let default = json!({"type": "default"});
    assert_eq!(
        names(fake.commands(&default, "")),
        ["start", "orders", "help"]
    );
    assert_eq!(
        names(fake.commands(&default, "ru")),
        ["start", "orders", "help"]
    );
}

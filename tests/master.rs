//! The shop's master system is the truth: whatever managers do in Bitrix (the project's fake
//! portal) or 1C says in its `type=sale` document reaches the customer's order view, with
//! exactly one bot message per change (counted on the fake Bot API), whatever
//! `orders.transitions` says. Bad input (an order vitrina does not know, a shape it does not
//! expect) ends in the dead letters with its raw value; an unmapped status is shown by the
//! master's own name.

mod common;

use std::time::Duration;

use common::TestApp;
use common::bot::*;
use fake_bitrix::FakeBitrix;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{BackendKind, Config, Secret};
use vitrina::outbox::{JobState, Outbox};
use vitrina::store::Backend;
use vitrina::store_test;

const CODE: &str = "webhookcode123";

fn configure_bitrix(c: &mut Config, fake: &FakeBitrix) {
    c.backend.kind = BackendKind::Bitrix;
    c.bitrix.webhook_url = Some(Secret::new(fake.webhook_url.clone()));
    c.bitrix.application_token = Some(Secret::new(fake.application_token()));
    c.bitrix.burst = 1000;
    c.bitrix.requests_per_second = 1000.0;
    c.bitrix.pay_system_ids = [("on_receipt".to_string(), 2)].into_iter().collect();
    c.bitrix.delivery_ids = [("pickup".to_string(), 3), ("courier".to_string(), 4)]
        .into_iter()
        .collect();
    // The default mapping (N, P, F): S and D, which a fresh store also has, are not mapped.
    c.bitrix.reconcile_interval = Duration::ZERO;
    c.bitrix.sync_interval = Duration::ZERO;
    c.bitrix.full_sync_interval = Duration::ZERO;
    c.outbox.backoff_base = Duration::from_millis(100);
    c.outbox.backoff_max = Duration::from_millis(400);
}

async fn start(backend: Backend) -> (TestApp, FakeBitrix, FakeBot, tempfile::TempDir) {
    let bx = FakeBitrix::start(
        CODE,
        fake_bitrix::Limits {
            burst: 1000,
            per_second: 1000.0,
        },
    )
    .await
    .unwrap();
    let bot = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, b, m) = (bx.clone(), bot.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &b, m, Limits::default());
        configure_bitrix(c, &f);
    })
    .await;
    let client = bitrix::Client::new(&bx.webhook_url, bitrix::Settings::default()).unwrap();
    client
        .call(
            "event.bind",
            &json!({"event": "OnSaleOrderSaved", "handler": app.url("/bitrix/events")}),
            bitrix::Safety::Unsafe,
        )
        .await
        .unwrap();
    (app, bx, bot, media)
}

/// An order of two lines (the first ×2), placed through the API by `user`.
async fn place_two_lines(app: &TestApp, user: i64, payment: &str) -> i64 {
    let offers: Vec<String> = sqlx::query(
        "SELECT id FROM offers WHERE price IS NOT NULL AND stock_milli >= 5000 ORDER BY id LIMIT 2",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
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
        assert_eq!(r.status(), 200);
    }
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", &a)
        .header("idempotency-key", format!("two-{user}"))
        .json(&json!({
            "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "courier", "address": "Москва, Тверская, 1"},
            "payment_method": payment
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The order as the customer's Mini App sees it.
async fn view(app: &TestApp, user: i64, order: i64) -> Value {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/orders/{order}")))
        .header("authorization", auth(user))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn messages(bot: &FakeBot, chat: i64) -> Vec<String> {
    to_chat(bot, "sendMessage", chat)
        .iter()
        .filter_map(|m| m["text"].as_str().map(String::from))
        .collect()
}

/// Waits until the customer's view satisfies `done`, then for exactly one more message, and
/// makes sure no second one follows. Returns the view and the message.
async fn one_change(
    app: &TestApp,
    bot: &FakeBot,
    user: i64,
    order: i64,
    before: usize,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> (Value, String) {
    let started = std::time::Instant::now();
    loop {
        let v = view(app, user, order).await;
        if done(&v) && messages(bot, user).len() > before {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: never reached the customer: {v} / {:?}",
            &messages(bot, user)[before..]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A second message would come from the same job run or a repeat: give it time to show.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sent = messages(bot, user);
    assert_eq!(
        sent.len(),
        before + 1,
        "{what}: exactly one message: {:?}",
        &sent[before..]
    );
    (view(app, user, order).await, sent[before].clone())
}

async fn bitrix_id(app: &TestApp, order: i64) -> i64 {
    let started = std::time::Instant::now();
    loop {
        let row =
            sqlx::query("SELECT bitrix_id FROM bitrix_orders WHERE order_id = $1 AND complete = 1")
                .bind(order)
                .fetch_optional(app.db.store.pool())
                .await
                .unwrap();
        if let Some(r) = row {
            return r.get(0);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "order never reached Bitrix"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn dead_letter_containing(app: &TestApp, needle: &str) -> String {
    let outbox = Outbox::new(app.db.store.clone(), Default::default());
    let started = std::time::Instant::now();
    loop {
        let dead = outbox.list(Some(JobState::Dead), 50).await.unwrap();
        if let Some(e) = dead
            .iter()
            .filter_map(|j| j.last_error.clone())
            .find(|e| e.contains(needle))
        {
            return e;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no dead letter mentions {needle}: {dead:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bitrix_statuses(backend: Backend) {
    let (app, bx, bot, _media) = start(backend).await;
    let user = 9100;
    let order = place_two_lines(&app, user, "on_receipt").await;
    let bid = bitrix_id(&app, order).await;
    // The order's creation message, before any change.
    wait_for("the order message", Duration::from_secs(10), || {
        messages(&bot, user).len() == 1
    })
    .await;

    // Every order status of a fresh store, as managers jump between them: N → F straight,
    // back to P, the unmapped S and D (shown by Bitrix's own name), and N again.
    let names: std::collections::HashMap<&str, &str> = fake_bitrix::DEFAULT_STATUSES
        .iter()
        .map(|(id, _, ru, _)| (*id, *ru))
        .collect();
    for (code, status, name) in [
        ("F", "delivered", None),
        ("S", "delivered", Some(names["S"])),
        ("P", "paid", None),
        ("D", "paid", Some(names["D"])),
        ("N", "new", None),
    ] {
        let before = messages(&bot, user).len();
        bx.set_order_status(bid, code, true).await;
        let (v, text) = one_change(&app, &bot, user, order, before, code, |v| {
            v["status"] == status && v["status_name"].as_str() == name
        })
        .await;
        let timeline = v["timeline"].as_array().unwrap();
        assert_eq!(timeline.last().unwrap()["actor"], "bitrix", "{v}");
        match name {
            Some(n) => assert!(
                text.contains(n),
                "the message names Bitrix's status: {text}"
            ),
            None => assert!(!text.contains("Отправлен"), "{text}"),
        }
    }
    // `bitrix check` lists the statuses without a mapping and suggests one.
    let mut config = Config::default();
    configure_bitrix(&mut config, &bx);
    let client = vitrina::bitrix::client(&config).unwrap();
    let found = vitrina::bitrix::master::check_statuses(&client, &config).await;
    let unmapped = found
        .iter()
        .find(|(ok, what, _)| !ok && what.contains("no mapping"))
        .expect("unmapped statuses listed");
    let fix = unmapped.2.clone().unwrap();
    assert!(fix.contains("bitrix.statuses.S = \"shipped\""), "{fix}");
    assert!(fix.contains("bitrix.statuses.D = \"cancelled\""), "{fix}");

    // A cancellation with its reason.
    let before = messages(&bot, user).len();
    bx.manager_cancel(bid, "Нет в наличии", true).await;
    let (v, text) = one_change(&app, &bot, user, order, before, "cancel", |v| {
        v["status"] == "cancelled"
    })
    .await;
    assert_eq!(v["cancel_reason"], "Нет в наличии");
    assert!(text.contains("Нет в наличии"), "{text}");

    // Bad input: an event for a site order that is not vitrina's is left alone; one that
    // claims a vitrina order that does not exist, and one of a shape vitrina does not expect,
    // end in the dead letters with the raw value.
    let client = bitrix::Client::new(&bx.webhook_url, bitrix::Settings::default()).unwrap();
    let add = |xml: &str| json!({"fields": {"lid": "s1", "personTypeId": 1, "currency": "RUB", "xmlId": xml}});
    let site = client
        .call(
            "sale.order.add",
            &add("bx_65df53063d56d"),
            bitrix::Safety::Unsafe,
        )
        .await
        .unwrap()
        .result["order"]["id"]
        .as_i64()
        .unwrap();
    let ghost = client
        .call(
            "sale.order.add",
            &add("vitrina-987654"),
            bitrix::Safety::Unsafe,
        )
        .await
        .unwrap()
        .result["order"]["id"]
        .as_i64()
        .unwrap();
    bx.set_order_status(site, "F", true).await;
    bx.set_order_status(ghost, "F", true).await;
    dead_letter_containing(&app, "vitrina-987654").await;
    bx.set_order_status(bid, "", true).await;
    let e = dead_letter_containing(&app, "no statusId").await;
    assert!(e.contains(&format!("Bitrix order {bid}")), "{e}");
    // `bitrix check` names them, from the database.
    let mut report = vitrina::bitrix::setup::Report::default();
    vitrina::bitrix::setup::check_orders(&app.db.store, &mut report).await;
    let rendered = report.render();
    assert!(rendered.contains("could not be applied"), "{rendered}");
    // The customer still sees the order as Bitrix last said it.
    assert_eq!(view(&app, user, order).await["status"], "cancelled");
    app.stop().await;
}

store_test!(bitrix_statuses_reach_the_customer, backend: bitrix_statuses);

async fn bitrix_edits(backend: Backend) {
    let (app, bx, bot, _media) = start(backend).await;
    let user = 9200;
    let order = place_two_lines(&app, user, "on_receipt").await;
    let bid = bitrix_id(&app, order).await;
    wait_for("the order message", Duration::from_secs(10), || {
        messages(&bot, user).len() == 1
    })
    .await;
    let placed = view(&app, user, order).await;
    let total = placed["total"]["amount"].as_i64().unwrap();

    // Paid in Bitrix.
    let before = messages(&bot, user).len();
    bx.manager_set_paid(bid, true).await;
    let (_, text) = one_change(&app, &bot, user, order, before, "paid", |v| {
        v["payment_state"] == "paid"
    })
    .await;
    assert!(text.to_lowercase().contains("оплата получена"), "{text}");

    // Shipped with a tracking number.
    let before = messages(&bot, user).len();
    bx.manager_ship(bid, "RA123456789RU", true).await;
    let (v, text) = one_change(&app, &bot, user, order, before, "shipped", |v| {
        v["tracking_number"] == "RA123456789RU"
    })
    .await;
    assert_eq!(v["status"], "shipped");
    assert!(text.contains("RA123456789RU"), "{text}");

    // A line is out of stock: the manager removes it. The paid order got cheaper: the
    // customer is told, staff are alerted to refund the difference.
    let basket: Vec<Value> = bx
        .rows("basket")
        .into_iter()
        .filter(|b| bitrix::as_i64(&b["orderId"]) == Some(bid))
        .collect();
    assert_eq!(basket.len(), 2);
    let second = &basket[1];
    let second_total = bitrix::minor_units(&second["price"]).unwrap()
        * bitrix::as_i64(&second["quantity"]).unwrap();
    let before = messages(&bot, user).len();
    bx.manager_remove_item(bid, second["id"].as_i64().unwrap(), true)
        .await;
    let (v, text) = one_change(&app, &bot, user, order, before, "removed", |v| {
        v["items"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(v["total"]["amount"].as_i64().unwrap(), total - second_total);
    assert_eq!(v["refund_due"].as_i64().unwrap(), second_total);
    assert!(text.contains("убран из заказа"), "{text}");
    assert!(text.contains("сумма"), "{text}");
    wait_for("the staff refund alert", Duration::from_secs(10), || {
        messages(&bot, STAFF_CHAT)
            .iter()
            .any(|t| t.contains("Возврат") && t.contains(placed["number"].as_str().unwrap()))
    })
    .await;

    // Quantity and price of the remaining line, then the delivery price: one message each.
    let first = basket[0]["id"].as_i64().unwrap();
    let before = messages(&bot, user).len();
    bx.manager_set_item(bid, first, Some(1.0), Some(99.0), true)
        .await;
    let (_, text) = one_change(&app, &bot, user, order, before, "line", |v| {
        v["items"][0]["quantity"] == 1 && v["items"][0]["price"] == 9900
    })
    .await;
    assert!(text.contains("1 шт. вместо 2"), "{text}");
    let before = messages(&bot, user).len();
    bx.manager_set_delivery_price(bid, 450.0, true).await;
    let (v, text) = one_change(&app, &bot, user, order, before, "delivery", |v| {
        v["delivery"]["price"] == 45000
    })
    .await;
    assert_eq!(v["total"]["amount"], 9900 + 45000);
    assert!(text.to_lowercase().contains("доставка 450"), "{text}");
    app.stop().await;
}

store_test!(bitrix_edits_reach_the_customer, backend: bitrix_edits);

// --- 1C -----------------------------------------------------------------------------------

fn win1251(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned()
}

async fn one_c(backend: Backend) {
    let bot = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (b, m) = (bot.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &b, m, Limits::default());
        c.exchange_1c.user = Some("1c".into());
        c.exchange_1c.password = Some(Secret::new("secret"));
        c.exchange_1c.sale_statuses =
            [("[F] Выполнен".to_string(), "delivered".to_string())].into();
    })
    .await;
    let user = 9300;
    let order = place_two_lines(&app, user, "on_receipt").await;
    let placed = view(&app, user, order).await;
    let number = placed["number"].as_str().unwrap().to_string();
    wait_for("the order message", Duration::from_secs(10), || {
        messages(&bot, user).len() == 1
    })
    .await;
    let url = |q: &str| app.url(&format!("/1c/exchange?type=sale&{q}"));
    let r = app
        .client
        .get(url("mode=checkauth"))
        .basic_auth("1c", Some("secret"))
        .send()
        .await
        .unwrap();
    let lines: Vec<String> = win1251(&r.bytes().await.unwrap())
        .lines()
        .map(String::from)
        .collect();
    let cookie = format!("{}={}", lines[1], lines[2]);
    let send = |requisites: &str, goods: &str| {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"windows-1251\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\">\
             <Документ><Ид>{order}</Ид><Номер>{number}</Номер>{goods}<ЗначенияРеквизитов>{requisites}</ЗначенияРеквизитов>\
             </Документ></КоммерческаяИнформация>"
        );
        let (body, _, _) = encoding_rs::WINDOWS_1251.encode(&doc);
        let (client, cookie, u) = (
            app.client.clone(),
            cookie.clone(),
            url("mode=file&filename=from_1c.xml"),
        );
        let body = body.into_owned();
        async move {
            let r = client
                .post(u)
                .header("cookie", cookie)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(win1251(&r.bytes().await.unwrap()).trim(), "success");
        }
    };
    let req = |name: &str, value: &str| {
        format!(
            "<ЗначениеРеквизита><Наименование>{name}</Наименование><Значение>{value}</Значение></ЗначениеРеквизита>"
        )
    };
    // Every document state 1C sends, each one change and one message: posted, paid, shipped,
    // an unmapped «Статус заказа» (shown as 1C wrote it), a mapped one, then cancelled.
    let steps: Vec<(String, &str, Option<&str>)> = vec![
        (req("Проведен", "true"), "confirmed", None),
        (
            req("Проведен", "true") + &req("Дата оплаты по 1С", "2026-12-01T10:00:00"),
            "paid",
            None,
        ),
        (
            req("Проведен", "true")
                + &req("Дата оплаты по 1С", "2026-12-01T10:00:00")
                + &req("Номер отгрузки по 1С", "РТУ-0042"),
            "shipped",
            None,
        ),
        (
            req("Проведен", "true") + &req("Статус заказа", "[S] Собирается на складе"),
            "shipped",
            Some("[S] Собирается на складе"),
        ),
        (
            req("Проведен", "true") + &req("Статус заказа", "[F] Выполнен"),
            "delivered",
            None,
        ),
        (
            req("Отменен", "true") + &req("Причина отмены", "Покупатель отказался"),
            "cancelled",
            None,
        ),
    ];
    for (requisites, status, name) in &steps {
        let before = messages(&bot, user).len();
        send(requisites, "").await;
        let (v, text) = one_change(&app, &bot, user, order, before, status, |v| {
            v["status"] == *status && v["status_name"].as_str() == *name
        })
        .await;
        assert_eq!(
            v["timeline"].as_array().unwrap().last().unwrap()["actor"],
            "1c"
        );
        if let Some(n) = name {
            assert!(text.contains(n), "{text}");
        }
        // The same document again changes nothing and says nothing.
        send(requisites, "").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(messages(&bot, user).len(), before + 1, "{status}: repeated");
    }
    assert_eq!(
        view(&app, user, order).await["cancel_reason"],
        "Покупатель отказался"
    );

    // 1C edits the order: a line gone, the sum lower.
    let items = placed["items"].as_array().unwrap();
    let first = &items[0];
    let goods = format!(
        "<Товары><Товар><Ид>{}</Ид><Наименование>{}</Наименование><ЦенаЗаЕдиницу>{}</ЦенаЗаЕдиницу>\
         <Количество>{}</Количество></Товар></Товары><Сумма>{}</Сумма>",
        first["offer_id"].as_str().unwrap(),
        first["name"].as_str().unwrap(),
        first["price"].as_i64().unwrap() as f64 / 100.0,
        first["quantity"],
        first["total"].as_i64().unwrap() as f64 / 100.0,
    );
    let before = messages(&bot, user).len();
    send(
        &(req("Отменен", "true") + &req("Причина отмены", "Покупатель отказался")),
        &goods,
    )
    .await;
    let (v, text) = one_change(&app, &bot, user, order, before, "1C edit", |v| {
        v["items"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(v["total"]["amount"], first["total"]);
    assert!(
        text.contains("убран из заказа") && text.contains("сумма"),
        "{text}"
    );
    app.stop().await;
}

store_test!(one_c_states_reach_the_customer, backend: one_c);

// --- Bitrix prices, coupons, stock at checkout, existing buyers ----------------------------

async fn bitrix_checkout(backend: Backend) {
    let bx = FakeBitrix::start(
        CODE,
        fake_bitrix::Limits {
            burst: 1000,
            per_second: 1000.0,
        },
    )
    .await
    .unwrap();
    bx.seed_catalog(1, 5);
    // The site's cart rule: 10 % off.
    bx.set_discount_percent(10.0);
    let bot = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = vitrina::store::testing::TestDb::new(backend).await;
    let (f, b, m) = (bx.clone(), bot.clone(), media.path().to_path_buf());
    let tweak = move |c: &mut Config| {
        configure(c, &b, m.clone(), Limits::default());
        configure_bitrix(c, &f);
        c.bitrix.catalog_iblock_id = fake_bitrix::CATALOG_IBLOCK;
        c.bitrix.pictures = false;
        c.bitrix.order_properties = [
            ("email".to_string(), "EMAIL".into()),
            ("phone".to_string(), 3.into()),
            ("location".to_string(), "LOCATION".into()),
        ]
        .into_iter()
        .collect();
        c.bitrix.location = "0000073738".into();
        c.catalog.refresh_interval = Duration::from_millis(100);
    };
    let mut config = Config::default();
    tweak(&mut config);
    let client = vitrina::bitrix::client(&config).unwrap();
    vitrina::bitrix::sync::sync(&client, &config, &db.store, true, |_| {})
        .await
        .unwrap();
    let app = TestApp::spawn_on(db, tweak).await;
    // A buyer of the site, known by phone.
    let raw = bitrix::Client::new(&bx.webhook_url, bitrix::Settings::default()).unwrap();
    let buyer = raw
        .call(
            "user.add",
            &json!({"LOGIN": "olga", "EMAIL": "olga@site.example", "PERSONAL_PHONE": "+79997654321"}),
            bitrix::Safety::Unsafe,
        )
        .await
        .unwrap()
        .result;
    let user = 9400;
    // She opens the shop, then shares her phone with the bot (the Mini App's requestContact): Telegram vouches.
    let update = json!({"update_id": 77001, "message": {"message_id": 1, "date": 0,
        "chat": {"id": user, "type": "private"}, "from": {"id": user, "is_bot": false, "first_name": "Ольга"},
        "contact": {"phone_number": "79997654321", "first_name": "Ольга", "user_id": user}}});
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", auth(user))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(post_update(&app, Some(SECRET), &update).await, 200);
    let started = std::time::Instant::now();
    loop {
        let verified: Option<String> =
            sqlx::query("SELECT phone_verified FROM customers WHERE telegram_id = $1")
                .bind(user)
                .fetch_optional(app.db.store.pool())
                .await
                .unwrap()
                .and_then(|r| r.get(0));
        if verified.as_deref() == Some("+79997654321") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the phone was not verified"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = auth(user);
    let add = |offer: &str, q: i64| {
        let (client, url, a, offer) = (
            app.client.clone(),
            app.url("/api/v1/cart/items"),
            a.clone(),
            offer.to_string(),
        );
        async move {
            let r = client
                .post(url)
                .header("authorization", a)
                .json(&json!({"offer_id": offer, "quantity": q}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    let checkout = |key: &str, coupon: Option<&str>| {
        let (client, url, a, key) = (
            app.client.clone(),
            app.url("/api/v1/orders"),
            a.clone(),
            key.to_string(),
        );
        let mut body = json!({
            "contact": {"name": "Ольга", "phone": "+7 999 765-43-21", "email": "olga@example.ru"},
            "delivery": {"method": "courier", "address": "Москва, Тверская, 1"},
            "payment_method": "on_receipt"
        });
        if let Some(c) = coupon {
            body["coupon"] = json!(c);
        }
        async move {
            client
                .post(url)
                .header("authorization", a)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    // Product 16 % 17 = 16 in stock here; on the site it sold out meanwhile.
    let started = std::time::Instant::now();
    while sqlx::query("SELECT id FROM offers WHERE id = '4'")
        .fetch_optional(app.db.store.pool())
        .await
        .unwrap()
        .is_none()
    {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    add("4", 2).await;
    bx.set_quantity(4, 1.0, false).await;
    let r = checkout("k-stock", None).await;
    assert_eq!(r.status(), 409);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "cart_unavailable");
    assert_eq!(problem["errors"][0]["field"], "cart.4", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "insufficient_stock");
    assert!(bx.rows("orders").is_empty(), "nothing ordered");
    // Back in stock: ordered, priced by Bitrix with its discount, the coupon passed on.
    bx.set_quantity(4, 10.0, false).await;
    let r = checkout("k-ok", Some("SALE-10")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let placed: Value = r.json().await.unwrap();
    let order = placed["id"].as_i64().unwrap();
    let ours = placed["total"]["amount"].as_i64().unwrap();
    let bid = bitrix_id(&app, order).await;
    let (v, text) = one_change(&app, &bot, user, order, 1, "Bitrix's prices", |v| {
        v["total"]["amount"].as_i64() != Some(ours)
    })
    .await;
    let line = &bx.rows("basket")[0];
    assert_eq!(line["customPrice"], "N", "{line}");
    let bitrix_total = bitrix::minor_units(&bx.get("orders", bid).unwrap()["price"]).unwrap();
    assert_eq!(v["total"]["amount"].as_i64().unwrap(), bitrix_total);
    assert!(bitrix_total < ours);
    assert!(text.contains("вместо"), "{text}");
    let bitrix_order = bx.get("orders", bid).unwrap();
    assert!(
        bitrix_order["comments"]
            .as_str()
            .unwrap()
            .contains("Купон: SALE-10")
    );
    assert_eq!(v["coupon"], "SALE-10");
    // The existing buyer got the order, and is linked by Telegram id from now on.
    assert_eq!(bitrix_order["userId"], buyer, "{bitrix_order}");
    assert_eq!(bx.rows("users").len(), 1);
    // Properties by code and by id.
    let props = bx.rows("propertyvalues");
    let values = props[0]["order"]["propertyValues"]
        .as_array()
        .unwrap()
        .clone();
    let has = |id: i64, value: &str| {
        values
            .iter()
            .any(|p| bitrix::as_i64(&p["orderPropsId"]) == Some(id) && p["value"] == value)
    };
    assert!(has(2, "olga@example.ru"), "{values:?}");
    assert!(has(3, "+79997654321"), "{values:?}");
    assert!(has(6, "0000073738"), "{values:?}");
    app.stop().await;
}

store_test!(bitrix_checkout, backend: bitrix_checkout);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupons_are_refused_without_bitrix() {
    let bot = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let (b, m) = (bot.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| {
        configure(c, &b, m, Limits::default())
    })
    .await;
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", auth(9500))
        .header("idempotency-key", "k")
        .json(&json!({
            "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "courier", "address": "Москва, Тверская, 1"},
            "payment_method": "on_receipt", "coupon": "SALE"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "coupons_unsupported");
    assert_eq!(problem["errors"][0]["field"], "coupon");
    let options: Value = app
        .client
        .get(app.url("/api/v1/checkout/options"))
        .header("authorization", auth(9500))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(options["coupons"], false);
    app.stop().await;
}

/// Deals (Bitrix24 without the store): a stage without a mapping is shown by its name in the
/// pipeline (`crm.status.list`), a mapped one by vitrina's; one message each.
async fn deal_stages(backend: Backend) {
    let bx = FakeBitrix::start(
        CODE,
        fake_bitrix::Limits {
            burst: 1000,
            per_second: 1000.0,
        },
    )
    .await
    .unwrap();
    let bot = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, b, m) = (bx.clone(), bot.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &b, m, Limits::default());
        configure_bitrix(c, &f);
        c.bitrix.order_target = vitrina::config::OrderTarget::CrmDeal;
        c.bitrix.statuses = [("NEW", "new"), ("WON", "delivered")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    })
    .await;
    let client = bitrix::Client::new(&bx.webhook_url, bitrix::Settings::default()).unwrap();
    client
        .call(
            "event.bind",
            &json!({"event": "ONCRMDEALUPDATE", "handler": app.url("/bitrix/events")}),
            bitrix::Safety::Unsafe,
        )
        .await
        .unwrap();
    let user = 9600;
    let order = place_two_lines(&app, user, "on_receipt").await;
    let deal = bitrix_id(&app, order).await;
    wait_for("the order message", Duration::from_secs(10), || {
        messages(&bot, user).len() == 1
    })
    .await;
    for (stage, status, name) in [
        ("PREPARATION", "new", Some("Подготовка документов")),
        ("WON", "delivered", None),
        ("LOSE", "cancelled", None),
    ] {
        let before = messages(&bot, user).len();
        client
            .call(
                "crm.deal.update",
                &json!({"id": deal, "fields": {"STAGE_ID": stage}}),
                bitrix::Safety::Safe,
            )
            .await
            .unwrap();
        bx.fire("ONCRMDEALUPDATE", deal).await;
        let (_, text) = one_change(&app, &bot, user, order, before, stage, |v| {
            v["status"] == status && v["status_name"].as_str() == name
        })
        .await;
        if let Some(n) = name {
            assert!(text.contains(n), "{text}");
        }
    }
    app.stop().await;
}

store_test!(deal_stages_reach_the_customer, backend: deal_stages);

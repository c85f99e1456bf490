//! The bot against the project's fake Bot API: the webhook's secret and duplicate updates,
//! /start with the shop button, staff alerts and their buttons, customer notifications in a
//! burst within the limits the fake enforces (with injected 429s), a restart mid-burst, and a
//! customer who blocked the bot.

mod common;

use std::time::{Duration, Instant};

use common::TestApp;
use common::bot::*;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::Config;
use vitrina::store::Backend;
use vitrina::store::testing::TestDb;
use vitrina::store_test;

async fn webhook_and_commands(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| configure(c, &f, m, Limits::default())).await;
    let start = json!({
        "update_id": 1001,
        "message": {"message_id": 1, "date": 1_700_000_000, "text": "/start product_demo-0001",
            "from": {"id": 555, "is_bot": false, "first_name": "Иван", "language_code": "ru"},
            "chat": {"id": 555, "type": "private", "first_name": "Иван"}}
    });

    // No secret, a wrong one: 401 and nothing stored.
    assert_eq!(post_update(&app, None, &start).await, 401);
    assert_eq!(post_update(&app, Some("wrong"), &start).await, 401);
    let stored = |app: &TestApp| {
        let pool = app.db.store.pool().clone();
        async move {
            sqlx::query("SELECT COUNT(*) FROM telegram_updates")
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    assert_eq!(stored(&app).await, 0);

    // The right secret, twice: processed once.
    assert_eq!(post_update(&app, Some(SECRET), &start).await, 200);
    assert_eq!(post_update(&app, Some(SECRET), &start).await, 200);
    assert_eq!(stored(&app).await, 1);
    wait_for("the /start reply", Duration::from_secs(10), || {
        !to_chat(&fake, "sendMessage", 555).is_empty()
    })
    .await;
    let reply = &to_chat(&fake, "sendMessage", 555)[0];
    assert!(reply["text"].as_str().unwrap().contains("Иван"));
    assert_eq!(
        reply["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        "https://shop.example.com/product/demo-0001"
    );
    let started: Option<i64> =
        sqlx::query("SELECT bot_started_at FROM customers WHERE telegram_id = 555")
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get(0);
    assert!(
        started.is_some(),
        "/start lets the bot write to the customer"
    );

    // /orders in English.
    let orders = json!({
        "update_id": 1002,
        "message": {"message_id": 2, "date": 1_700_000_001, "text": "/orders",
            "from": {"id": 555, "is_bot": false, "first_name": "Ivan", "language_code": "en"},
            "chat": {"id": 555, "type": "private"}}
    });
    assert_eq!(post_update(&app, Some(SECRET), &orders).await, 200);
    wait_for("the /orders reply", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", 555).len() == 2
    })
    .await;
    assert_eq!(
        to_chat(&fake, "sendMessage", 555)[1]["text"],
        "No orders yet."
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        to_chat(&fake, "sendMessage", 555).len(),
        2,
        "the repeated update was not answered twice"
    );
    app.stop().await;
}

store_test!(webhook_and_commands, backend: webhook_and_commands);

async fn staff_alerts_and_buttons(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| configure(c, &f, m, Limits::default())).await;
    let order = place_order(&app, "on_receipt", 777).await;

    wait_for(
        "the staff alert and the customer's message",
        Duration::from_secs(10),
        || {
            !to_chat(&fake, "sendMessage", STAFF_CHAT).is_empty()
                && !to_chat(&fake, "sendMessage", 777).is_empty()
        },
    )
    .await;
    let alert = &to_chat(&fake, "sendMessage", STAFF_CHAT)[0];
    assert!(alert["text"].as_str().unwrap().contains("Новый заказ V-"));
    let buttons: Vec<String> = alert["reply_markup"]["inline_keyboard"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["callback_data"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        buttons,
        [
            format!("st:{order}:confirmed"),
            format!("st:{order}:paid"),
            format!("st:{order}:cancelled")
        ]
    );
    let hello = &to_chat(&fake, "sendMessage", 777)[0];
    assert!(hello["text"].as_str().unwrap().contains("принят"));
    assert_eq!(
        hello["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        format!("https://shop.example.com/orders/{order}")
    );

    let press = |update_id: i64, user: i64| {
        json!({"update_id": update_id, "callback_query": {"id": format!("cb{update_id}"), "chat_instance": "1",
            "from": {"id": user, "is_bot": false, "first_name": "X", "username": "manager"},
            "data": format!("st:{order}:confirmed")}})
    };
    // Not on the staff list: refused, nothing changes.
    assert_eq!(
        post_update(&app, Some(SECRET), &press(2001, 999)).await,
        200
    );
    wait_for("the refusal", Duration::from_secs(10), || {
        !fake.calls_to("answerCallbackQuery").is_empty()
    })
    .await;
    let refusal = &fake.calls_to("answerCallbackQuery")[0];
    assert_eq!(refusal["callback_query_id"], "cb2001");
    assert_eq!(refusal["show_alert"], true);
    assert_eq!(app.order_status(order).await, "new");

    // Staff: confirmed; the customer hears of it, the staff message shows it.
    assert_eq!(
        post_update(&app, Some(SECRET), &press(2002, STAFF_USER)).await,
        200
    );
    wait_for(
        "the confirmation to reach everyone",
        Duration::from_secs(10),
        || {
            to_chat(&fake, "sendMessage", 777).len() == 2
                && !to_chat(&fake, "editMessageText", STAFF_CHAT).is_empty()
        },
    )
    .await;
    assert_eq!(app.order_status(order).await, "confirmed");
    assert!(
        to_chat(&fake, "sendMessage", 777)[1]["text"]
            .as_str()
            .unwrap()
            .contains("подтверждён")
    );
    let edit = &to_chat(&fake, "editMessageText", STAFF_CHAT)[0];
    assert!(
        edit["text"]
            .as_str()
            .unwrap()
            .contains("Статус: подтверждён")
    );
    assert_eq!(edit["message_id"], 1, "the alert's own message is edited");
    let actor: String =
        sqlx::query("SELECT actor FROM order_events WHERE order_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(order)
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(actor, "staff:manager");
    // Until it is delivered the customer's message has one button; then also «Повторить»,
    // which opens the Mini App on the order to put its items back into the cart.
    let confirmed = &to_chat(&fake, "sendMessage", 777)[1];
    assert_eq!(
        confirmed["reply_markup"]["inline_keyboard"][0]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let mut config = Config::default();
    configure(
        &mut config,
        &fake,
        media.path().to_path_buf(),
        Limits::default(),
    );
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    for status in ["paid", "shipped", "delivered"] {
        vitrina::orders::set_status(&config, &app.db.store, &outbox, order, status, None, "test")
            .await
            .unwrap();
    }
    wait_for("the delivered message", Duration::from_secs(10), || {
        to_chat(&fake, "sendMessage", 777)
            .iter()
            .any(|m| m["text"].as_str().unwrap_or("").contains("доставлен"))
    })
    .await;
    let delivered = to_chat(&fake, "sendMessage", 777)
        .into_iter()
        .find(|m| m["text"].as_str().unwrap_or("").contains("доставлен"))
        .unwrap();
    let row = &delivered["reply_markup"]["inline_keyboard"][0];
    assert_eq!(row[0]["text"], "Открыть заказ");
    assert_eq!(row[1]["text"], "Повторить");
    assert_eq!(
        row[1]["web_app"]["url"],
        format!("https://shop.example.com/orders/{order}?repeat")
    );
    for m in to_chat(&fake, "sendMessage", 777) {
        let text = m["text"].as_str().unwrap_or("");
        if !text.contains("доставлен") {
            assert_eq!(
                m["reply_markup"]["inline_keyboard"][0]
                    .as_array()
                    .unwrap()
                    .len(),
                1,
                "{text}"
            );
        }
    }
    app.stop().await;
}

store_test!(staff_alerts_and_buttons, backend: staff_alerts_and_buttons);

/// 300 customers with an order each (copies of one placed order), ready for status changes.
async fn many_orders(app: &TestApp, customers: i64) -> Vec<(i64, i64)> {
    let template = place_order(app, "on_receipt", 10_000).await;
    let pool = app.db.store.pool();
    let mut out = Vec::new();
    for n in 0..customers {
        let tg = 20_000 + n;
        let cid: i64 = sqlx::query(
            "INSERT INTO customers (telegram_id, first_name, language_code, allows_write_to_pm, created_at, updated_at, last_seen_at) \
             VALUES ($1, 'Покупатель', 'ru', 1, 0, 0, 0) RETURNING id",
        )
        .bind(tg)
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
        let oid: i64 = sqlx::query(
            "INSERT INTO orders (number, customer_id, status, payment_state, payment_method, delivery_method, delivery_price, pickup_point, \
                 address, contact_name, contact_phone, comment, items_total, total, currency, idempotency_key, request_hash, created_at, updated_at) \
             SELECT $1, $2, status, payment_state, payment_method, delivery_method, delivery_price, pickup_point, address, contact_name, \
                 contact_phone, comment, items_total, total, currency, $3, request_hash, created_at, updated_at FROM orders WHERE id = $4 RETURNING id",
        )
        .bind(format!("B-{n:05}"))
        .bind(cid)
        .bind(format!("burst-{n}"))
        .bind(template)
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
        out.push((tg, oid));
    }
    out
}

/// 1,000 status changes: three for every customer, a fourth for the first hundred.
async fn change_statuses(
    app: &TestApp,
    config: &Config,
    orders: &[(i64, i64)],
    from: usize,
    to: usize,
) {
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    let plan: Vec<(i64, &str)> = ["confirmed", "paid", "shipped", "delivered"]
        .iter()
        .enumerate()
        .flat_map(|(round, status)| {
            let n = if round == 3 { 100 } else { orders.len() };
            orders[..n].iter().map(move |(_, id)| (*id, *status))
        })
        .collect();
    assert_eq!(plan.len(), 1000);
    for (id, status) in &plan[from..to] {
        vitrina::orders::set_status(config, &app.db.store, &outbox, *id, status, None, "test")
            .await
            .unwrap();
    }
}

fn burst_messages(fake: &FakeBot) -> Vec<Value> {
    fake.calls_to("sendMessage")
        .into_iter()
        .filter(|p| {
            p["chat_id"]
                .as_i64()
                .is_some_and(|c| (20_000..20_300).contains(&c))
        })
        .collect()
}

async fn burst(backend: Backend, restart: bool) {
    let fake = FakeBot::start(TOKEN, fast_limits()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let mut config = Config::default();
    configure(
        &mut config,
        &fake,
        media.path().to_path_buf(),
        fast_limits(),
    );
    config.telegram.staff_chat_id = None;
    let spawn = |db: TestDb| {
        let (f, m) = (fake.clone(), media.path().to_path_buf());
        TestApp::spawn_on(db, move |c| {
            configure(c, &f, m, fast_limits());
            c.telegram.staff_chat_id = None;
        })
    };
    let mut app = spawn(db).await;
    let orders = many_orders(&app, 300).await;
    for _ in 0..5 {
        fake.fail_next(429, Some(1));
    }
    if restart {
        change_statuses(&app, &config, &orders, 0, 600).await;
        wait_for("a third of the burst", Duration::from_secs(30), || {
            burst_messages(&fake).len() >= 300
        })
        .await;
        let db = app.stop_keep_db().await;
        let delivered_before = burst_messages(&fake).len();
        assert!(delivered_before < 1000, "stopped mid-burst");
        app = spawn(db).await;
        change_statuses(&app, &config, &orders, 600, 1000).await;
    } else {
        change_statuses(&app, &config, &orders, 0, 1000).await;
    }
    wait_for("all 1,000 messages", Duration::from_secs(60), || {
        burst_messages(&fake).len() >= 1000
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = burst_messages(&fake);
    // Every change reached its customer: each customer got one message per status.
    let mut per_customer = std::collections::HashMap::<i64, Vec<String>>::new();
    for m in &sent {
        per_customer
            .entry(m["chat_id"].as_i64().unwrap())
            .or_default()
            .push(m["text"].as_str().unwrap().to_string());
    }
    assert_eq!(per_customer.len(), 300);
    for (chat, texts) in &per_customer {
        let want = if *chat < 20_100 { 4 } else { 3 };
        for status in ["подтверждён", "оплачен", "отправлен"] {
            assert!(
                texts.iter().any(|t| t.contains(status)),
                "{chat} never heard «{status}»: {texts:?}"
            );
        }
        // A graceful restart finishes in-flight jobs: nothing is sent twice either.
        assert_eq!(texts.len(), want, "{chat}: {texts:?}");
    }
    assert_eq!(sent.len(), 1000);
    assert_eq!(fake.injected(), 5, "the injected 429s were served");
    assert_eq!(
        fake.violations(),
        0,
        "the bot stayed within the limits the fake enforces"
    );
    app.stop().await;
}

store_test!(burst_within_limits, backend: |b| burst(b, false), worker_threads = 4);

store_test!(burst_survives_a_restart, backend: |b| burst(b, true), worker_threads = 4);

async fn blocked_customer(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &f, m, Limits::default());
        c.telegram.staff_chat_id = None;
    })
    .await;
    fake.block(888);
    let order = place_order(&app, "on_receipt", 888).await;
    let pool = app.db.store.pool().clone();
    let blocked = || {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT bot_blocked_at FROM customers WHERE telegram_id = 888")
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<Option<i64>, _>(0)
        }
    };
    let started = Instant::now();
    while blocked().await.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the 403 never marked the customer"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The 403 ended the job (done, one attempt): no retries against a blocked user. The
    // customer is marked before the worker records the job's end, so wait for the job to settle.
    let job = || {
        let pool = pool.clone();
        async move {
            let r = sqlx::query("SELECT state, attempts FROM outbox WHERE kind = 'telegram.send'")
                .fetch_one(&pool)
                .await
                .unwrap();
            (r.get::<String, _>(0), r.get::<i64, _>(1))
        }
    };
    let (mut state, mut attempts) = job().await;
    while state == "pending" && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(25)).await;
        (state, attempts) = job().await;
    }
    assert_eq!((state.as_str(), attempts), ("done", 1));
    // Later changes are not even attempted.
    let config = {
        let mut c = Config::default();
        configure(&mut c, &fake, media.path().to_path_buf(), Limits::default());
        c
    };
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    vitrina::orders::set_status(
        &config,
        &app.db.store,
        &outbox,
        order,
        "confirmed",
        None,
        "test",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sends: i64 = sqlx::query("SELECT COUNT(*) FROM outbox WHERE kind = 'telegram.send'")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(sends, 1);
    assert!(to_chat(&fake, "sendMessage", 888).is_empty());
    app.stop().await;
}

store_test!(blocked_customer_gets_no_retries, backend: blocked_customer);

/// The benchmark behind docs/PERFORMANCE.md (run by `bench/notify.sh`, not by the test
/// command): sustained customer notifications per second against the fake with Telegram's
/// real limits (30/s overall, 1/s per chat), nothing lost. Target ≥ 28 msg/s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a benchmark: bench/notify.sh"]
async fn bench_notifications() {
    const TARGET_PER_S: f64 = 28.0;
    let customers: i64 = std::env::var("BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(Backend::Sqlite, media.path()).await;
    let mut config = Config::default();
    configure(
        &mut config,
        &fake,
        media.path().to_path_buf(),
        Limits::default(),
    );
    config.telegram.staff_chat_id = None;
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &f, m, Limits::default());
        c.telegram.staff_chat_id = None;
    })
    .await;
    let orders = many_orders(&app, customers).await;
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    // Two changes per customer: 2 × customers messages, each chat twice (the 1/s chat limit
    // applies too).
    let started = Instant::now();
    for status in ["confirmed", "paid"] {
        for (_, id) in &orders {
            vitrina::orders::set_status(
                &config,
                &app.db.store,
                &outbox,
                *id,
                status,
                None,
                "bench",
            )
            .await
            .unwrap();
        }
    }
    let want = (2 * customers) as usize;
    wait_for("every message", Duration::from_secs(600), || {
        burst_messages_n(&fake, customers).len() >= want
    })
    .await;
    let sent = burst_messages_n(&fake, customers);
    let first = fake
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage")
        .map(|c| c.at)
        .min()
        .unwrap();
    let last = fake
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage")
        .map(|c| c.at)
        .max()
        .unwrap();
    let span = last.duration_since(first).as_secs_f64();
    let (lost, violations) = (want.saturating_sub(sent.len()), fake.violations());
    let rate = (sent.len() as f64 - 1.0) / span;
    println!(
        "{{\"messages\": {}, \"lost\": {lost}, \"violations\": {violations}, \"span_s\": {span:.2}, \"msg_per_s\": {rate:.2}, \"cap_per_s\": 30, \"target_per_s\": {TARGET_PER_S}, \"wall_s\": {:.2}}}",
        sent.len(),
        started.elapsed().as_secs_f64()
    );
    app.stop().await;
    // The figures are only worth printing if they hold: nothing lost, Telegram's limits kept,
    // and the target rate reached.
    assert_eq!(lost, 0, "messages lost");
    assert_eq!(violations, 0, "the fake's rate limits were broken");
    assert!(
        rate >= TARGET_PER_S,
        "{rate:.2} msg/s is below the {TARGET_PER_S} msg/s target"
    );
}

fn burst_messages_n(fake: &FakeBot, customers: i64) -> Vec<Value> {
    fake.calls_to("sendMessage")
        .into_iter()
        .filter(|p| {
            p["chat_id"]
                .as_i64()
                .is_some_and(|c| (20_000..20_000 + customers).contains(&c))
        })
        .collect()
}

/// `vitrina telegram setup`: `--dry-run` shows the calls; a real run makes them against the
/// Bot API (here the fake), with the webhook secret the server will check.
#[tokio::test(flavor = "multi_thread")]
async fn setup_command() {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shop.db").display());
    let url = fake.url.clone();
    let run = move |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vitrina"))
            .args(args)
            .env("VITRINA_DATABASE__URL", &db)
            .env("VITRINA_TELEGRAM__BOT_TOKEN", TOKEN)
            .env("VITRINA_TELEGRAM__API_BASE_URL", &url)
            .env("VITRINA_SERVER__PUBLIC_URL", "https://shop.example.com")
            .output()
            .unwrap()
    };
    let dry = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["telegram", "setup", "--dry-run"])
    });
    let dry = dry.await.unwrap();
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(out.contains("setWebhook {"), "{out}");
    assert!(out.contains("\"url\":\"https://shop.example.com/telegram/webhook\""));
    assert!(
        out.contains("\"secret_token\":\"<secret>\""),
        "the secret is not printed"
    );
    assert!(!out.contains(TOKEN), "the token is not printed");
    assert!(fake.calls().is_empty(), "a dry run calls nothing");

    let real = tokio::task::spawn_blocking(move || run(&["telegram", "setup"]))
        .await
        .unwrap();
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    assert!(String::from_utf8_lossy(&real.stdout).contains("@vitrina_test_bot"));
    // The fake's bot has inline mode off, as a new bot has: setup says how to turn it on.
    assert!(
        String::from_utf8_lossy(&real.stdout).contains("send /setinline to @BotFather"),
        "{}",
        String::from_utf8_lossy(&real.stdout)
    );
    let webhook = &fake.calls_to("setWebhook")[0];
    assert_eq!(
        webhook["allowed_updates"],
        json!([
            "message",
            "callback_query",
            "pre_checkout_query",
            "inline_query"
        ])
    );
    let secret = webhook["secret_token"].as_str().unwrap();
    assert!(secret.len() >= 32, "a generated secret: {secret}");
    assert_eq!(
        fake.calls_to("setChatMenuButton")[0]["menu_button"]["type"],
        "web_app"
    );
    assert_eq!(fake.calls_to("setMyCommands").len(), 3);
}

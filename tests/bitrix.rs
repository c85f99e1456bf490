//! The Bitrix backend against the project's fake portal (and the fake Bot API): orders land
//! in Bitrix exactly once through an outage and lost answers, statuses come back by events
//! (forged and replayed ones refused) and by the reconciliation poll and reach the customer.

mod common;

use std::time::Duration;

use common::TestApp;
use common::bot::*;
use fake_bitrix::FakeBitrix;
use fake_telegram::{FakeBot, Limits};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::config::{BackendKind, Config, OrderTarget, Secret};
use vitrina::store::Backend;
use vitrina::store_test;

const CODE: &str = "webhookcode123";

fn roomy() -> fake_bitrix::Limits {
    fake_bitrix::Limits {
        burst: 1000,
        per_second: 1000.0,
    }
}

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
    c.bitrix.order_properties = [
        ("name".to_string(), 1.into()),
        ("phone".to_string(), 3.into()),
    ]
    .into_iter()
    .collect();
    c.bitrix.statuses = [
        ("N", "new"),
        ("P", "paid"),
        ("DS", "shipped"),
        ("F", "delivered"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    c.bitrix.reconcile_interval = Duration::ZERO;
    c.bitrix.sync_interval = Duration::ZERO;
    c.bitrix.full_sync_interval = Duration::ZERO;
    c.outbox.backoff_base = Duration::from_millis(100);
    c.outbox.backoff_max = Duration::from_millis(400);
    c.outbox.max_attempts = 1000;
}

async fn linked(app: &TestApp) -> i64 {
    sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM bitrix_orders WHERE complete = 1")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0)
}

async fn wait_linked(app: &TestApp, n: i64, timeout: Duration) {
    let started = std::time::Instant::now();
    while linked(app).await < n {
        assert!(
            started.elapsed() < timeout,
            "timed out: {} of {n} orders in Bitrix",
            linked(app).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn outage_then_exactly_once(backend: Backend) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    let bot = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, b, m) = (bx.clone(), bot.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &b, m, Limits::default());
        configure_bitrix(c, &f);
    })
    .await;
    // One customer is a Bitrix user already (linked by the Telegram field): found, not added.
    let client = bitrix::Client::new(&bx.webhook_url, bitrix::Settings::default()).unwrap();
    let existing = client
        .call(
            "user.add",
            &json!({"LOGIN": "anna", "EMAIL": "anna@example.ru", "UF_TELEGRAM_ID": "7000"}),
            bitrix::Safety::Unsafe,
        )
        .await
        .unwrap()
        .result;
    // Bitrix goes down while customers check out.
    bx.set_down(true);
    let mut orders = Vec::new();
    for user in 0..5 {
        orders.push(place_order(&app, "on_receipt", 7000 + user).await);
    }
    // The jobs meet the outage for a while (the fake's minutes are our seconds).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(bx.refused() > 0, "the outage was met");
    assert_eq!(linked(&app).await, 0);
    // It comes back, but the first answers are lost after the work is done: creates that
    // happened without the caller knowing.
    bx.lose_answers("sale.order.add", 2);
    bx.lose_answers("user.add", 1);
    bx.lose_answers("batch", 2);
    bx.set_down(false);
    wait_linked(&app, 5, Duration::from_secs(30)).await;

    assert!(
        bx.executed("sale.order.add") == 5,
        "no create was repeated blindly"
    );
    let bitrix_orders = bx.rows("orders");
    assert_eq!(
        bitrix_orders.len(),
        5,
        "each order exactly once: {bitrix_orders:?}"
    );
    let mut keys: Vec<String> = bitrix_orders
        .iter()
        .map(|o| o["xmlId"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    let mut want: Vec<String> = orders.iter().map(|o| format!("vitrina-{o}")).collect();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(bx.rows("users").len(), 5, "one Bitrix user per customer");
    let of_7000 = bitrix_orders
        .iter()
        .find(|o| o["xmlId"] == json!(format!("vitrina-{}", orders[0])))
        .unwrap();
    assert_eq!(
        of_7000["userId"], existing,
        "the existing user got the order"
    );
    let basket = bx.rows("basket");
    assert_eq!(
        basket.len(),
        5,
        "one basket line per order line: {basket:?}"
    );
    assert!(
        basket
            .iter()
            .all(|i| i["customPrice"] == "Y" && bitrix::minor_units(&i["price"]).unwrap() > 0)
    );
    assert_eq!(bx.rows("payments").len(), 5);
    let shipments = bx.rows("shipments");
    assert_eq!(shipments.len(), 5);
    for s in &shipments {
        // The delivery price vitrina charged, not the delivery service's own.
        assert!(
            bitrix::minor_units(&s["basePriceDelivery"]).is_some(),
            "{s}"
        );
        assert_eq!(s["priceDelivery"], s["basePriceDelivery"], "{s}");
        assert!(s["xmlId"].as_str().unwrap().ends_with("-shipment"), "{s}");
    }
    for o in &bitrix_orders {
        assert_eq!(o["personTypeId"], json!(1));
        assert!(o["userId"].as_i64().is_some());
    }
    // Users carry the Telegram id and the tg_ login.
    let user = &bx.rows("users")[1];
    assert!(user["LOGIN"].as_str().unwrap().starts_with("tg_700"));
    assert!(user["UF_TELEGRAM_ID"].as_str().unwrap().starts_with("700"));
    assert!(
        user["EMAIL"]
            .as_str()
            .unwrap()
            .ends_with("@telegram.invalid")
    );

    // vitrina records a payment: the Bitrix payment is marked paid. A cancellation cancels.
    let config = Config::default();
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    let bitrix_id = |order: i64| {
        let pool = app.db.store.pool().clone();
        async move {
            sqlx::query("SELECT bitrix_id FROM bitrix_orders WHERE order_id = $1")
                .bind(order)
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    vitrina::orders::set_status(
        &config,
        &app.db.store,
        &outbox,
        orders[1],
        "paid",
        Some("Telegram"),
        "telegram",
    )
    .await
    .unwrap();
    vitrina::orders::set_status(
        &config,
        &app.db.store,
        &outbox,
        orders[2],
        "cancelled",
        None,
        "customer",
    )
    .await
    .unwrap();
    let (paid, cancelled) = (bitrix_id(orders[1]).await, bitrix_id(orders[2]).await);
    wait_for(
        "the payment and the cancellation reach Bitrix",
        Duration::from_secs(15),
        || {
            bx.get("orders", paid).is_some_and(|o| o["payed"] == "Y")
                && bx
                    .get("orders", cancelled)
                    .is_some_and(|o| o["canceled"] == "Y")
        },
    )
    .await;
    let payment = bx
        .rows("payments")
        .into_iter()
        .find(|p| p["orderId"] == json!(paid.to_string()))
        .unwrap();
    assert_eq!(payment["paid"], "Y");
    app.stop().await;
}

store_test!(outage_then_exactly_once, backend: outage_then_exactly_once);

async fn post_event(app: &TestApp, body: String) -> u16 {
    app.client
        .post(app.url("/bitrix/events"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn wait_status(app: &TestApp, id: i64, status: &str) {
    let started = std::time::Instant::now();
    while app.order_status(id).await != status {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "order {id} never became {status} (is {})",
            app.order_status(id).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn status_messages(bot: &FakeBot, chat: i64) -> Vec<String> {
    to_chat(bot, "sendMessage", chat)
        .iter()
        .filter_map(|m| m["text"].as_str().map(String::from))
        .collect()
}

async fn statuses_come_back(backend: Backend, target: OrderTarget) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    let bot = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(backend, media.path()).await;
    let (f, b, m) = (bx.clone(), bot.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        configure(c, &b, m, Limits::default());
        configure_bitrix(c, &f);
        c.bitrix.order_target = target;
        if target == OrderTarget::CrmDeal {
            c.bitrix.statuses = [
                ("NEW", "new"),
                ("PREPAYMENT_INVOICE", "paid"),
                ("EXECUTING", "shipped"),
                ("WON", "delivered"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        }
        c.bitrix.reconcile_interval = Duration::from_millis(300);
    })
    .await;
    let client = bitrix::Client::new(&bx.webhook_url, bitrix::Settings::default()).unwrap();
    let event = match target {
        OrderTarget::SaleOrder => "OnSaleOrderSaved",
        OrderTarget::CrmDeal => "ONCRMDEALUPDATE",
    };
    client
        .call(
            "event.bind",
            &json!({"event": event, "handler": app.url("/bitrix/events")}),
            bitrix::Safety::Unsafe,
        )
        .await
        .unwrap();
    let user = 8100;
    let order = place_order(&app, "on_receipt", user).await;
    wait_linked(&app, 1, Duration::from_secs(20)).await;
    let bitrix_id: i64 = sqlx::query("SELECT bitrix_id FROM bitrix_orders WHERE order_id = $1")
        .bind(order)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    let before = status_messages(&bot, user).len();

    // The event path: a manager marks it paid; the portal calls /bitrix/events.
    match target {
        OrderTarget::SaleOrder => bx.set_order_status(bitrix_id, "P", true).await,
        OrderTarget::CrmDeal => {
            client
                .call(
                    "crm.deal.update",
                    &json!({"id": bitrix_id, "fields": {"STAGE_ID": "PREPAYMENT_INVOICE"}}),
                    bitrix::Safety::Safe,
                )
                .await
                .unwrap();
            let statuses = bx.fire(event, bitrix_id).await;
            assert_eq!(statuses, vec![200]);
        }
    }
    wait_status(&app, order, "paid").await;
    wait_for("the customer hears of it", Duration::from_secs(10), || {
        status_messages(&bot, user).len() > before
    })
    .await;
    let timeline: Vec<String> =
        sqlx::query("SELECT actor FROM order_events WHERE order_id = $1 AND status = 'paid'")
            .bind(order)
            .fetch_all(app.db.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(timeline, vec!["bitrix".to_string()]);

    // Forged: a wrong or missing token. Replayed: the same event again. Stale: too old.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = |token: &str, ts: i64| {
        fake_bitrix::event_body(&event.to_uppercase(), 1, bitrix_id, ts, token)
    };
    assert_eq!(post_event(&app, body("forged-token", now)).await, 403);
    assert_eq!(post_event(&app, body("", now)).await, 403);
    assert_eq!(
        post_event(&app, body(&bx.application_token(), now - 7200)).await,
        403
    );
    assert_eq!(
        post_event(&app, body(&bx.application_token(), now + 5)).await,
        200
    );
    assert_eq!(
        post_event(&app, body(&bx.application_token(), now + 5)).await,
        409,
        "a replay is refused"
    );

    // The reconciliation path: a change whose event never arrives.
    let before = status_messages(&bot, user).len();
    match target {
        OrderTarget::SaleOrder => bx.set_order_status(bitrix_id, "DS", false).await,
        OrderTarget::CrmDeal => {
            client
                .call(
                    "crm.deal.update",
                    &json!({"id": bitrix_id, "fields": {"STAGE_ID": "EXECUTING"}}),
                    bitrix::Safety::Safe,
                )
                .await
                .unwrap();
        }
    }
    wait_status(&app, order, "shipped").await;
    wait_for(
        "the customer hears of the shipment",
        Duration::from_secs(10),
        || status_messages(&bot, user).len() > before,
    )
    .await;

    // A change made in vitrina goes to Bitrix (and one from Bitrix does not bounce back).
    let calls_before = bx.executed("sale.order.update") + bx.executed("crm.deal.update");
    let config = Config::default();
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    vitrina::orders::set_status(
        &config,
        &app.db.store,
        &outbox,
        order,
        "delivered",
        None,
        "cli",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    while bx.executed("sale.order.update") + bx.executed("crm.deal.update") == calls_before {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the status never reached Bitrix"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row: Value = match target {
        OrderTarget::SaleOrder => bx.get("orders", bitrix_id).unwrap()["statusId"].clone(),
        OrderTarget::CrmDeal => bx.get("deals", bitrix_id).unwrap()["STAGE_ID"].clone(),
    };
    let want = if target == OrderTarget::SaleOrder {
        "F"
    } else {
        "WON"
    };
    assert_eq!(row, json!(want));
    app.stop().await;
}

store_test!(statuses_come_back, backend: |b| statuses_come_back(b, OrderTarget::SaleOrder));

store_test!(deals_for_portals_without_a_store, backend: |b| statuses_come_back(b, OrderTarget::CrmDeal));

#[tokio::test]
async fn check_names_what_is_missing_and_setup_fixes_it() {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    let mut config = Config::default();
    configure_bitrix(&mut config, &bx);
    config.server.public_url = "https://shop.example.com".into();
    config.bitrix.catalog_iblock_id = fake_bitrix::CATALOG_IBLOCK;
    config.bitrix.delivery_ids.insert("post".into(), 5);

    // A wrong code: the webhook itself is named.
    let wrong = bitrix::Client::new(
        &bx.webhook_url.replace(CODE, "nope"),
        bitrix::Settings::default(),
    )
    .unwrap();
    let report = vitrina::bitrix::setup::check(&wrong, &config).await;
    assert!(!report.passed());
    let text = report.render();
    assert!(
        text.contains("wrong") && text.contains("Входящий вебхук"),
        "{text}"
    );
    assert!(
        !text.contains(CODE) && !text.contains("nope"),
        "the code is never printed: {text}"
    );

    // Missing scopes, the field, the event binding.
    bx.set_scopes(&["catalog", "user"]);
    let client = vitrina::bitrix::client(&config).unwrap();
    let text = vitrina::bitrix::setup::check(&client, &config)
        .await
        .render();
    assert!(
        text.contains("lacks the scopes: sale, user.userfield"),
        "{text}"
    );
    assert!(text.contains("sale.order.add"), "{text}");
    assert!(text.contains("OnSaleOrderSaved is not bound"), "{text}");

    bx.set_scopes(fake_bitrix::ALL_SCOPES);
    let done = vitrina::bitrix::setup::setup(&client, &config)
        .await
        .unwrap();
    assert!(
        done.iter()
            .any(|l| l.contains("UF_USR_TELEGRAM_ID created")),
        "{done:?}"
    );
    assert!(
        done.iter()
            .any(|l| l.contains("bitrix.telegram_field = \"UF_USR_TELEGRAM_ID\"")),
        "{done:?}"
    );
    // The order event, and the catalog events for fresh stock (a catalog is configured).
    let url = "https://shop.example.com/bitrix/events".to_string();
    let mut expected = vec![("ONSALEORDERSAVED".to_string(), url.clone())];
    expected.extend(
        vitrina::bitrix::stock::EVENTS
            .iter()
            .map(|e| (e.to_string(), url.clone())),
    );
    assert_eq!(bx.handlers(), expected);
    // Again: nothing twice.
    let again = vitrina::bitrix::setup::setup(&client, &config)
        .await
        .unwrap();
    assert!(
        again.iter().any(|l| l.contains("already bound")),
        "{again:?}"
    );
    assert_eq!(bx.handlers().len(), expected.len());
    assert_eq!(bx.rows("userfields").len(), 1);

    let report = vitrina::bitrix::setup::check(&client, &config).await;
    assert!(
        report.render().contains("set bitrix.telegram_field"),
        "{}",
        report.render()
    );
    config.bitrix.telegram_field = "UF_USR_TELEGRAM_ID".into();
    let report = vitrina::bitrix::setup::check(&client, &config).await;
    assert!(report.passed(), "{}", report.render());
    assert!(
        report
            .render()
            .contains("pictures: none among the first 0 products"),
        "{}",
        report.render()
    );

    // Pictures are fetched from the site as the sync would; a site that refuses them is named
    // before a long first sync ends without pictures.
    bx.seed_catalog(1, 5);
    bx.seed_pictures([3], 0);
    let text = vitrina::bitrix::setup::check(&client, &config)
        .await
        .render();
    assert!(
        text.contains("pictures: /upload/iblock/") && text.contains("image/gif"),
        "{text}"
    );
    bx.fail_next_downloads(1, 403);
    let report = vitrina::bitrix::setup::check(&client, &config).await;
    assert!(!report.passed());
    assert!(
        report.render().contains("HTTP 403") && report.render().contains("without logging in"),
        "{}",
        report.render()
    );
}

async fn count(app_store: &vitrina::store::Store, sql: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(app_store.pool())
        .await
        .unwrap()
        .get(0)
}

async fn catalog_sync(backend: Backend) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    bx.seed_catalog(12, 10_000);
    // Two products are sold as sizes (SKUs in the offers block).
    bx.seed_offers(&[1, 2], 3);
    let db = vitrina::store::testing::TestDb::new(backend).await;
    let media = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    configure_bitrix(&mut config, &bx);
    config.catalog.media_dir = media.path().to_path_buf();
    config.bitrix.catalog_iblock_id = fake_bitrix::CATALOG_IBLOCK;
    config.bitrix.offers_iblock_id = Some(fake_bitrix::OFFERS_IBLOCK);
    let client = vitrina::bitrix::client(&config).unwrap();

    // Full: the portal refuses some requests for its rate limit; the sync waits them out.
    bx.fail_next(2, bitrix::QUERY_LIMIT_EXCEEDED);
    let report = vitrina::bitrix::sync::sync(&client, &config, &db.store, false, |_| {})
        .await
        .unwrap();
    assert!(report.full, "a first sync is full");
    assert_eq!(
        (
            report.sections,
            report.products,
            report.variations,
            report.prices
        ),
        (12, 10_000, 6, 10_006)
    );
    // The classifier (12 sections, 3 properties, 2 list values) in one batch; then 10,000
    // products, 10,006 prices and 6 variations: 200 + 201 + 1 pages, the first page of each in
    // one batch, the other 399 pages 50 to a batch. No product has pictures (the list shows
    // no files), so none is asked for its pictures.
    assert_eq!(report.minimum_requests, 1 + 9);
    assert_eq!(report.pictures_listed, 0);
    assert_eq!(report.properties, 2, "files are not synced as text");
    let executed = (bx.requests() - bx.refused()) as u64;
    assert!(
        executed as f64 <= 1.1 * report.minimum_requests as f64,
        "{executed} requests for a minimum of {}",
        report.minimum_requests
    );
    assert_eq!(bx.refused(), 2);
    assert_eq!(report.requests, executed + 2);
    let store = &db.store;
    assert_eq!(
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await,
        10_000
    );
    assert_eq!(
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) FROM sections").await,
        12
    );
    assert_eq!(
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) FROM offers WHERE price IS NOT NULL AND stock_milli IS NOT NULL").await,
        9_998 + 6
    );
    let sizes: Vec<(String, i64)> =
        sqlx::query("SELECT id, price FROM offers WHERE product_id = '1' ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert!(
        sizes
            .iter()
            .all(|(id, price)| id.starts_with("1#") && *price >= 100_000),
        "{sizes:?}"
    );
    let props: String = sqlx::query("SELECT properties FROM products WHERE id = '42'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    let props: Value = serde_json::from_str(&props).unwrap();
    assert!(
        props.to_string().contains("\"Бренд\"") && props.to_string().contains("Acme"),
        "{props}"
    );
    assert!(props.to_string().contains("лён"), "{props}");
    let price: i64 = sqlx::query("SELECT price FROM offers WHERE id = '42'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(price, (100 + 42) * 100 + 50);
    let v1 = vitrina::catalog::current_version(store).await.unwrap();
    assert_eq!(v1, report.version);

    // Incremental: exactly the changed items, published as a new version.
    bx.reset_calls();
    for id in [5, 77, 1234, 5000, 9999, 10_000, 3] {
        bx.touch_product(id, &format!("Новое имя {id}"), 999.0);
    }
    let report = vitrina::bitrix::sync::sync(&client, &config, store, false, |_| {})
        .await
        .unwrap();
    assert!(!report.full);
    assert_eq!((report.products, report.prices), (7, 7), "{report:?}");
    // The classifier (1), then for products, variations and prices what was stamped after
    // the last second seen and what in that second was not seen: the first pages of all six
    // in one batch (1). The portal sends exactly the 7 changed products and prices.
    assert_eq!(report.requests, 2, "{report:?}");
    let sent: usize = bx
        .calls()
        .iter()
        .filter(|c| c.method == "batch")
        .map(|c| c.params["cmd"].as_object().map_or(0, |m| m.len()))
        .sum();
    // Classifier: sections, properties, list values, VAT rates, the offers' properties.
    assert_eq!(sent, 5 + 6, "classifier lists and cursor lists");
    assert_eq!(report.variations, 0);
    assert!(report.version > v1);
    let (name, price): (String, i64) = sqlx::query("SELECT p.name, o.price FROM products p JOIN offers o ON o.product_id = p.id WHERE p.id = '1234'")
        .fetch_one(store.pool())
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!((name.as_str(), price), ("Новое имя 1234", 99_900));
    assert_eq!(
        count(store, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await,
        10_000
    );

    // Nothing changed: nothing read.
    let report = vitrina::bitrix::sync::sync(&client, &config, store, false, |_| {})
        .await
        .unwrap();
    assert_eq!((report.products, report.prices), (0, 0), "{report:?}");
    assert_eq!(report.requests, 2, "{report:?}");
}

store_test!(catalog_sync, backend: catalog_sync);

/// A product's stored pictures (hashes, in order).
async fn pictures_of(store: &vitrina::store::Store, id: i64) -> Vec<String> {
    let images: String = sqlx::query("SELECT images FROM products WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    serde_json::from_str(&images).unwrap()
}

/// The hashes of a product's pictures as the portal has them: detail, then more photos by id
/// (the preview only without a detail picture).
fn portal_pictures(bx: &FakeBitrix, id: i64) -> Vec<String> {
    use sha2::Digest;
    let mut rows: Vec<Value> = bx
        .rows("images")
        .into_iter()
        .filter(|i| i["productId"] == json!(id))
        .collect();
    let has_detail = rows.iter().any(|i| i["type"] == "DETAIL_PICTURE");
    rows.retain(|i| i["type"] != "PREVIEW_PICTURE" || !has_detail);
    rows.sort_by_key(|i| {
        (
            i["type"] != "DETAIL_PICTURE" && i["type"] != "PREVIEW_PICTURE",
            i["id"].as_i64(),
        )
    });
    rows.iter()
        .map(|i| {
            let bytes = bx.picture_file(i["detailUrl"].as_str().unwrap()).unwrap();
            sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect()
}

/// Pictures: listed only for products whose files changed (the product list names the
/// files), every file fetched once and stored by content, kept through full syncs, healed
/// after failures.
async fn catalog_pictures(backend: Backend) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    bx.seed_catalog(3, 300);
    // 120 products with a detail picture and two more photos; 180 without pictures.
    bx.seed_pictures(1..=120, 2);
    let db = vitrina::store::testing::TestDb::new(backend).await;
    let store = &db.store;
    let media = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    configure_bitrix(&mut config, &bx);
    config.catalog.media_dir = media.path().to_path_buf();
    config.bitrix.catalog_iblock_id = fake_bitrix::CATALOG_IBLOCK;
    let client = vitrina::bitrix::client(&config).unwrap();
    let sync = |config: Config, full: bool| {
        let client = client.clone();
        async move {
            vitrina::bitrix::sync::sync(&client, &config, store, full, |_| {})
                .await
                .unwrap()
        }
    };

    // The web server stumbles twice; those files are fetched again.
    bx.fail_next_downloads(2, 503);
    let mut seen = 0;
    let report = vitrina::bitrix::sync::sync(&client, &config, store, false, |n| seen = n)
        .await
        .unwrap();
    assert!(report.full);
    assert_eq!(
        seen,
        300 + 300 + 120 + 360,
        "progress: products, prices, products listed, files"
    );
    assert_eq!(
        report.pictures_listed, 120,
        "only products that have pictures"
    );
    assert_eq!((report.pictures_downloaded, bx.downloads()), (360, 360));
    assert_eq!(report.pictures_retry, 0, "{report:?}");
    // Classifier 1, lists 2 (first pages, then the other 10 pages), pictures 120 / 50 = 3.
    assert_eq!(report.minimum_requests, 1 + 2 + 3);
    assert_eq!(report.requests, report.minimum_requests);
    let media_store = vitrina::catalog::media::MediaStore::new(media.path(), u64::MAX);
    for id in [1, 77, 120] {
        let stored = pictures_of(store, id).await;
        assert_eq!(stored, portal_pictures(&bx, id), "product {id}");
        assert_eq!(stored.len(), 3);
        for hash in &stored {
            assert!(media_store.path_of(hash).exists(), "{hash}");
        }
    }
    assert!(pictures_of(store, 121).await.is_empty());
    assert_eq!(
        count(
            store,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM images WHERE source_name LIKE 'bitrix:/upload/%'"
        )
        .await,
        360
    );

    // Nothing changed: nothing listed or fetched, all kept.
    let report = sync(config.clone(), false).await;
    assert_eq!((report.pictures_listed, report.pictures_downloaded), (0, 0));
    assert_eq!(pictures_of(store, 1).await, portal_pictures(&bx, 1));

    // A manager replaces product 7's pictures (a preview and a photo); products 8 and 150 are
    // renamed: only 7 is listed, and only its new files are fetched.
    bx.set_pictures(7, &["PREVIEW_PICTURE", "MORE_PHOTO"]);
    bx.touch_product(8, "Новое имя 8", 500.0);
    bx.touch_product(150, "Новое имя 150", 500.0);
    let downloads = bx.downloads();
    let report = sync(config.clone(), false).await;
    assert_eq!(report.products, 3, "{report:?}");
    assert_eq!(report.pictures_listed, 1, "{report:?}");
    assert_eq!(report.pictures_downloaded, 2);
    assert_eq!(bx.downloads(), downloads + 2);
    let seven = pictures_of(store, 7).await;
    assert_eq!(seven, portal_pictures(&bx, 7));
    assert_eq!(seven.len(), 2);
    assert_eq!(pictures_of(store, 8).await, portal_pictures(&bx, 8));
    assert_eq!(pictures_of(store, 8).await.len(), 3);

    // Product 9's new picture cannot be fetched (the web server fails on it): published
    // without it. Product 10's listing fails: it keeps the pictures it had. Both are read
    // again next time.
    let old_ten = pictures_of(store, 10).await;
    bx.set_pictures(9, &["DETAIL_PICTURE"]);
    bx.set_pictures(10, &["DETAIL_PICTURE", "MORE_PHOTO"]);
    bx.fail_next_downloads(3, 502);
    bx.fail_next_commands("catalog.productimage.list", 1, "INTERNAL_SERVER_ERROR");
    let report = sync(config.clone(), false).await;
    assert_eq!(report.pictures_listed, 2);
    assert_eq!(report.pictures_retry, 2, "{report:?}");
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
    assert!(pictures_of(store, 9).await.is_empty());
    assert_eq!(pictures_of(store, 10).await, old_ten);
    // Nothing changed in Bitrix, but the failed ones are read again and healed.
    let report = sync(config.clone(), false).await;
    assert_eq!(report.products, 2, "{report:?}");
    assert_eq!(
        (report.pictures_listed, report.pictures_retry),
        (2, 0),
        "{report:?}"
    );
    assert_eq!(pictures_of(store, 9).await, portal_pictures(&bx, 9));
    assert_eq!(pictures_of(store, 10).await, portal_pictures(&bx, 10));
    assert_eq!(pictures_of(store, 10).await.len(), 2);
    let report = sync(config.clone(), false).await;
    assert_eq!((report.products, report.pictures_listed), (0, 0));

    // The portal cannot be reached for the pictures at all (even after the client's retries):
    // the catalog is still published, product 30 keeps its pictures until the next sync.
    let impatient = bitrix::Client::new(
        &bx.webhook_url,
        bitrix::Settings {
            backoff_base: Duration::from_millis(5),
            backoff_max: Duration::from_millis(20),
            ..vitrina::bitrix::settings(&config)
        },
    )
    .unwrap();
    let old_thirty = pictures_of(store, 30).await;
    bx.set_pictures(30, &["DETAIL_PICTURE"]);
    bx.touch_product(31, "Новое имя 31", 310.0);
    bx.fail_next_requests_of("catalog.productImage.list", 6, "INTERNAL_SERVER_ERROR");
    let report = vitrina::bitrix::sync::sync(&impatient, &config, store, false, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (report.products, report.pictures_retry),
        (2, 1),
        "{report:?}"
    );
    assert!(
        report.warnings[0].contains("not listed"),
        "{:?}",
        report.warnings
    );
    assert_eq!(pictures_of(store, 30).await, old_thirty);
    let name: String = sqlx::query("SELECT name FROM products WHERE id = '31'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "Новое имя 31", "the catalog was published");
    let report = sync(config.clone(), false).await;
    assert_eq!((report.products, report.pictures_listed), (1, 1));
    assert_eq!(pictures_of(store, 30).await, portal_pictures(&bx, 30));

    // Product 20 is deactivated: the full sync removes it. Active again, it comes back with
    // its pictures, though its files did not change: its own row alone is among the changes,
    // so the changes sync turns full (its price did not change either), listing only it.
    bx.set_active(20, false);
    sync(config.clone(), true).await;
    assert_eq!(
        count(
            store,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM products WHERE id = '20'"
        )
        .await,
        0
    );
    bx.set_active(20, true);
    let report = sync(config.clone(), false).await;
    assert_eq!(
        (
            report.full,
            report.pictures_listed,
            report.pictures_downloaded
        ),
        (true, 1, 0)
    );
    let price: Option<i64> = sqlx::query("SELECT price FROM offers WHERE id = '20'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert!(price.is_some(), "back with its price");
    assert_eq!(pictures_of(store, 20).await, portal_pictures(&bx, 20));
    assert_eq!(pictures_of(store, 20).await.len(), 3);

    // A script replaces product 12's photos without moving its change date: an incremental
    // sync cannot see it; the full sync lists exactly that product and keeps the others'.
    bx.set_pictures_quietly(12, &["DETAIL_PICTURE"]);
    let report = sync(config.clone(), false).await;
    assert_eq!((report.products, report.pictures_listed), (0, 0));
    let report = sync(config.clone(), true).await;
    assert!(report.full);
    assert_eq!(
        (report.pictures_listed, report.pictures_downloaded),
        (1, 1),
        "{report:?}"
    );
    assert_eq!(report.minimum_requests, 1 + 2 + 1);
    for id in [1, 7, 9, 10, 12, 120] {
        assert_eq!(
            pictures_of(store, id).await,
            portal_pictures(&bx, id),
            "product {id}"
        );
    }
    assert_eq!(
        count(
            store,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM products WHERE images <> '[]'"
        )
        .await,
        120
    );

    // Off: nothing listed, products published without pictures; the check no longer asks
    // for the method. On again: a full sync lists them all, fetching no file it has.
    let mut off = config.clone();
    off.bitrix.pictures = false;
    assert!(!vitrina::bitrix::setup::required_methods(&off).contains(&"catalog.productImage.list"));
    assert!(
        vitrina::bitrix::setup::required_methods(&config).contains(&"catalog.productImage.list")
    );
    let report = sync(off, true).await;
    assert_eq!(report.pictures_listed, 0);
    assert!(pictures_of(store, 1).await.is_empty());
    let downloads = bx.downloads();
    let report = sync(config.clone(), false).await;
    assert!(report.full, "pictures turned on: every product looked at");
    assert_eq!(
        (report.pictures_listed, report.pictures_downloaded),
        (120, 0)
    );
    assert_eq!(bx.downloads(), downloads);
    assert_eq!(pictures_of(store, 1).await, portal_pictures(&bx, 1));
}

store_test!(catalog_pictures, backend: catalog_pictures);

/// `vitrina bitrix check|setup|sync` as the shop owner runs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bitrix_commands() {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    bx.seed_catalog(3, 120);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &'static [&'static str], extra: Vec<(&'static str, String)>| {
        let dir = dir.path().to_path_buf();
        let url = bx.webhook_url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vitrina"));
                cmd.current_dir(&dir).args(args);
                for (k, _) in std::env::vars() {
                    if k.starts_with("VITRINA_") {
                        cmd.env_remove(k);
                    }
                }
                cmd.env(
                    "VITRINA_DATABASE__URL",
                    format!("sqlite://{}/db/v.db", dir.display()),
                )
                .env("VITRINA_CATALOG__MEDIA_DIR", dir.join("media"))
                .env("VITRINA_SERVER__PUBLIC_URL", "https://shop.example.com")
                .env("VITRINA_BACKEND__KIND", "bitrix")
                .env("VITRINA_BITRIX__WEBHOOK_URL", url)
                .env("VITRINA_BITRIX__CATALOG_IBLOCK_ID", "25")
                .env("VITRINA_LOG", "warn");
                cmd.envs(extra);
                cmd.output().unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let check = run(&["bitrix", "check"], vec![]).await;
    assert!(!check.status.success());
    let text = out(&check);
    assert!(
        text.contains("✗ user field UF_TELEGRAM_ID is missing"),
        "{text}"
    );
    assert!(text.contains("vitrina bitrix setup"), "{text}");
    assert!(
        !text.contains(CODE),
        "the webhook code is never printed: {text}"
    );

    let setup = run(&["bitrix", "setup"], vec![]).await;
    assert!(setup.status.success(), "{}", out(&setup));
    assert!(
        out(&setup).contains("OnSaleOrderSaved bound to https://shop.example.com/bitrix/events")
    );

    let sync = run(&["bitrix", "sync", "--full", "--json"], vec![]).await;
    assert!(sync.status.success(), "{}", out(&sync));
    let report: Value = serde_json::from_slice(&sync.stdout).unwrap();
    assert_eq!(report["products"], 120);
    assert_eq!(report["full"], true);

    let check = run(
        &["bitrix", "check"],
        vec![
            (
                "VITRINA_BITRIX__TELEGRAM_FIELD",
                "UF_USR_TELEGRAM_ID".into(),
            ),
            ("VITRINA_BITRIX__APPLICATION_TOKEN", bx.application_token()),
            ("VITRINA_BITRIX__PAY_SYSTEM_IDS", "{on_receipt=1}".into()),
            (
                "VITRINA_BITRIX__DELIVERY_IDS",
                "{courier=2,pickup=3,post=4}".into(),
            ),
        ],
    )
    .await;
    assert!(check.status.success(), "{}", out(&check));
    assert!(out(&check).contains("Bitrix backend ready"));
}

async fn one_instance_runs_the_schedules(backend: Backend) {
    let db = vitrina::store::testing::TestDb::new(backend).await;
    let ttl = Duration::from_millis(300);
    let take =
        |owner: &'static str| vitrina::bitrix::take_lease(&db.store, "lease:schedules", owner, ttl);
    assert!(take("a").await.unwrap());
    assert!(!take("b").await.unwrap(), "held by a");
    assert!(take("a").await.unwrap(), "a renews");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(take("b").await.unwrap(), "a stopped renewing: b takes over");
    assert!(!take("a").await.unwrap());
}

store_test!(one_instance_runs_the_schedules, backend: one_instance_runs_the_schedules);

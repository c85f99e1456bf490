//! The 1C exchange `type=sale` against the real server: orders go to 1C as a CommerceML
//! document until 1C confirms them, changed orders go again, and 1C's document back moves the
//! orders' statuses.

mod common;

use std::time::SystemTime;

use common::TestApp;
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::auth::{Auth, DEMO_BOT_TOKEN, DevUser};
use vitrina::config::Secret;
use vitrina::store::Backend;
use vitrina::store_test;

fn text(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned()
}

async fn place_order(app: &TestApp, offer: &str, key: &str) -> Value {
    let user = DevUser {
        id: 4242,
        first_name: "Анна".into(),
        last_name: None,
        username: None,
        language_code: "ru".into(),
        start_param: None,
    };
    let auth = format!("tma {}", Auth::dev_init_data(&user, SystemTime::now()));
    let r = app
        .client
        .post(app.url("/api/v1/cart/items"))
        .header("authorization", &auth)
        .json(&json!({"offer_id": offer, "quantity": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", &auth)
        .header("idempotency-key", key)
        .json(&json!({
            "contact": {"name": "Анна «Тест» & Ко", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "courier", "address": "Москва, Тверская, 1"},
            "payment_method": "on_receipt",
            "comment": "домофон 12 😀"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn sale(backend: Backend) {
    let media = tempfile::tempdir().unwrap();
    let media_dir = media.path().to_path_buf();
    let db = vitrina::store::testing::TestDb::new(backend).await;
    let catalog = vitrina::config::CatalogConfig {
        media_dir: media.path().to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::demo::seed_if_empty(&db.store, &catalog)
        .await
        .unwrap();
    let app = TestApp::spawn_on(db, move |c| {
        c.exchange_1c.user = Some("1c".into());
        c.exchange_1c.password = Some(Secret::new("secret"));
        c.exchange_1c.sale_statuses =
            [("[F] Выполнен".to_string(), "delivered".to_string())].into();
        c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
        c.catalog.media_dir = media_dir;
    })
    .await;
    let offer: String = sqlx::query(
        "SELECT id FROM offers WHERE stock_milli >= 10000 AND price IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap()
    .get(0);
    let order = place_order(&app, &offer, "sale-1").await;
    let number = order["number"].as_str().unwrap().to_string();
    let id = order["id"].as_i64().unwrap();

    let url = |query: &str| app.url(&format!("/1c/exchange?type=sale&{query}"));
    let auth = app
        .client
        .get(url("mode=checkauth"))
        .basic_auth("1c", Some("secret"))
        .send()
        .await
        .unwrap();
    let lines: Vec<String> = text(&auth.bytes().await.unwrap())
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines[0], "success");
    let cookie = format!("{}={}", lines[1], lines[2]);
    let get = |query: &'static str| {
        let cookie = cookie.clone();
        let client = app.client.clone();
        let u = url(query);
        async move {
            let r = client.get(u).header("cookie", cookie).send().await.unwrap();
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            (ct, text(&r.bytes().await.unwrap()))
        }
    };
    assert!(get("mode=init").await.1.starts_with("zip="));

    let (ct, xml) = get("mode=query").await;
    assert_eq!(ct, "application/xml; charset=windows-1251");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"windows-1251\"?>"));
    assert_eq!(xml.matches("<Документ>").count(), 1, "{xml}");
    assert!(xml.contains(&format!("<Номер>{number}</Номер>")));
    assert!(xml.contains(&format!("<Ид>{offer}</Ид>")), "{xml}");
    assert!(xml.contains("<Количество>2</Количество>"));
    assert!(
        xml.contains("Анна «Тест» &amp; Ко"),
        "names escaped, kept in windows-1251"
    );
    assert!(
        xml.contains("&#128512;"),
        "characters outside windows-1251 become references"
    );
    assert!(xml.contains("<Наименование>Статус заказа</Наименование><Значение>new</Значение>"));
    // Well-formed, and our own reader finds the order in it.
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&xml);
    let docs = vitrina::exchange::sale::parse(&bytes).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].number, number);

    // Until 1C confirms, the order is offered again.
    assert_eq!(get("mode=query").await.1.matches("<Документ>").count(), 1);
    // An order placed after the query is not confirmed by this session's success.
    place_order(&app, &offer, "sale-2").await;
    assert_eq!(get("mode=success").await.1.trim(), "success");
    let xml = get("mode=query").await.1;
    assert_eq!(xml.matches("<Документ>").count(), 1, "{xml}");
    assert!(!xml.contains(&format!("<Номер>{number}</Номер>")));
    assert_eq!(get("mode=success").await.1.trim(), "success");
    assert_eq!(get("mode=query").await.1.matches("<Документ>").count(), 0);

    // 1C posts the order and records a payment: confirmed, then paid.
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"windows-1251\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\">\
         <Документ><Ид>{id}</Ид><Номер>{number}</Номер><ЗначенияРеквизитов>\
         <ЗначениеРеквизита><Наименование>Проведен</Наименование><Значение>true</Значение></ЗначениеРеквизита>\
         <ЗначениеРеквизита><Наименование>Дата оплаты по 1С</Наименование><Значение>2026-11-25T10:00:00</Значение></ЗначениеРеквизита>\
         </ЗначенияРеквизитов></Документ>\
         <Документ><Ид>999999</Ид><Номер>НЕТ-ТАКОГО</Номер></Документ></КоммерческаяИнформация>"
    );
    let (body, _, _) = encoding_rs::WINDOWS_1251.encode(&doc);
    let r = app
        .client
        .post(url("mode=file&filename=from_1c.xml"))
        .header("cookie", &cookie)
        .body(body.into_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(text(&r.bytes().await.unwrap()).trim(), "success");
    assert_eq!(app.order_status(id).await, "paid");
    let actors: Vec<String> =
        sqlx::query("SELECT actor FROM order_events WHERE order_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(app.db.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    // One change from 1C, one timeline entry (and one message), whatever the transitions say.
    assert_eq!(actors, ["customer", "1c"]);
    // The unknown order is not skipped silently: it ends in the dead letters with its values.
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), Default::default());
    let started = std::time::Instant::now();
    loop {
        let dead = outbox
            .list(Some(vitrina::outbox::JobState::Dead), 10)
            .await
            .unwrap();
        if let Some(job) = dead.iter().find(|j| j.kind == "1c.order_state") {
            let error = job.last_error.clone().unwrap_or_default();
            assert!(error.contains("НЕТ-ТАКОГО"), "{error}");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no dead letter for the unknown order"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The changed order goes to 1C again.
    assert!(
        get("mode=query")
            .await
            .1
            .contains(&format!("<Номер>{number}</Номер>"))
    );

    // A broken document is refused with the line, and changes nothing.
    let r = app
        .client
        .post(url("mode=file&filename=bad.xml"))
        .header("cookie", &cookie)
        .body("<КоммерческаяИнформация>\n<Документ>\n</КоммерческаяИнформация>")
        .send()
        .await
        .unwrap();
    let answer = text(&r.bytes().await.unwrap());
    assert!(answer.starts_with("failure\n"), "{answer}");
    assert!(answer.contains("строка 3"), "{answer}");
}

store_test!(sale_exchange, backend: sale);

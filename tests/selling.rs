//! Selling inside Telegram (issue 21) through the HTTP API on SQLite and PostgreSQL:
//! favourites, repeating an order, back-in-stock and price-drop alerts.

mod common;

use common::{TestApp, dev_auth as auth};
use serde_json::{Value, json};
use vitrina::auth::DEMO_BOT_TOKEN;
use vitrina::config::{Config, Secret};
use vitrina::store::testing::TestDb;
use vitrina::store_test;

/// A 1C package of `(product id, price in kopecks, stock)`, one offer `<id>#<id>-m` each.
/// Without `changes_only` it is a full import: products it does not list leave the catalog.
fn package(offers: &[(&str, i64, i64)], changes_only: bool) -> tempfile::TempDir {
    let changes = if changes_only {
        " СодержитТолькоИзменения=\"true\""
    } else {
        ""
    };
    let mut import = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><Каталог{changes}><Ид>c</Ид><Товары>",
    );
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><ПакетПредложений{changes}><Ид>c#</Ид>\
         <ТипыЦен><ТипЦены><Ид>r</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>",
    );
    for (id, price, stock) in offers {
        import += &format!("<Товар><Ид>{id}</Ид><Наименование>Товар {id}</Наименование></Товар>");
        xml += &format!(
            "<Предложение><Ид>{id}#{id}-m</Ид><Наименование>Товар {id} (M)</Наименование>\
             <Цены><Цена><ИдТипаЦены>r</ИдТипаЦены><ЦенаЗаЕдиницу>{}.{:02}</ЦенаЗаЕдиницу></Цена></Цены><Количество>{stock}</Количество></Предложение>",
            price / 100,
            price % 100
        );
    }
    import += "</Товары></Каталог></КоммерческаяИнформация>";
    xml += "</Предложения></ПакетПредложений></КоммерческаяИнформация>";
    let pkg = tempfile::tempdir().unwrap();
    std::fs::write(pkg.path().join("import.xml"), import).unwrap();
    std::fs::write(pkg.path().join("offers.xml"), xml).unwrap();
    pkg
}

async fn import(
    app: &TestApp,
    media: &std::path::Path,
    offers: &[(&str, i64, i64)],
    changes_only: bool,
) {
    let pkg = package(offers, changes_only);
    let config = vitrina::config::CatalogConfig {
        media_dir: media.to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::import::Importer::new(&app.db.store, &config)
        .import_paths(&[pkg.path().to_path_buf()], "test")
        .await
        .unwrap();
}

async fn shop(
    db: TestDb,
    offers: &[(&str, i64, i64)],
    tweak: impl FnOnce(&mut Config),
) -> (TestApp, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let dir = media.path().to_path_buf();
    let app = TestApp::spawn_on(db, move |c| {
        c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
        c.catalog.media_dir = dir;
        tweak(c);
    })
    .await;
    import(&app, media.path(), offers, false).await;
    (app, media)
}

async fn call(
    app: &TestApp,
    who: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = app
        .client
        .request(method, app.url(path))
        .header("authorization", who);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    if status >= 400 {
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "errors are problem+json"
        );
    }
    (status, r.json().await.unwrap_or(Value::Null))
}

use reqwest::Method;

store_test!(favorites_follow_the_catalog, |db: TestDb| async move {
    let (app, media) = shop(
        db,
        &[("a", 129_900, 10), ("b", 49_950, 0), ("c", 1_000, 3)],
        |_| {},
    )
    .await;
    let anna = auth(1);
    let (s, empty) = call(&app, &anna, Method::GET, "/api/v1/favorites", None).await;
    assert_eq!(s, 200);
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["limit"], 200);

    let (s, body) = call(&app, &anna, Method::PUT, "/api/v1/favorites/a", None).await;
    assert_eq!(s, 200, "{body}");
    // Twice is the same as once.
    let (s, _) = call(&app, &anna, Method::PUT, "/api/v1/favorites/a", None).await;
    assert_eq!(s, 200);
    let (s, body) = call(&app, &anna, Method::PUT, "/api/v1/favorites/b", None).await;
    assert_eq!(s, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    let a = items.iter().find(|f| f["product_id"] == "a").unwrap();
    assert_eq!(a["name"], "Товар a");
    assert_eq!(a["price"], json!({"amount": 129_900, "currency": "RUB"}));
    assert_eq!(a["stock"], 10);
    assert_eq!(a["in_stock"], true);
    assert_eq!(a["available"], true);
    let b = items.iter().find(|f| f["product_id"] == "b").unwrap();
    assert_eq!(b["in_stock"], false);
    assert_eq!(b["available"], true, "out of stock is still for sale later");

    // Unknown product: 404 with a stable code; nothing added.
    let (s, p) = call(&app, &anna, Method::PUT, "/api/v1/favorites/nope", None).await;
    assert_eq!(s, 404);
    assert_eq!(p["code"], "product_not_found");

    // Another customer's favourites are their own.
    let (_, boris) = call(&app, &auth(2), Method::GET, "/api/v1/favorites", None).await;
    assert_eq!(boris["items"], json!([]));

    // A new full catalog version: a is cheaper, b is gone. A product that left the catalog
    // is kept, shown as unavailable.
    import(
        &app,
        media.path(),
        &[("a", 99_900, 4), ("c", 1_000, 3)],
        false,
    )
    .await;
    let (_, body) = call(&app, &anna, Method::GET, "/api/v1/favorites", None).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "a product that left the catalog is not dropped: {body}"
    );
    let a = items.iter().find(|f| f["product_id"] == "a").unwrap();
    assert_eq!(a["price"]["amount"], 99_900);
    assert_eq!(a["stock"], 4);
    let b = items.iter().find(|f| f["product_id"] == "b").unwrap();
    assert_eq!(b["available"], false);
    assert_eq!(b["in_stock"], false);
    assert_eq!(b["price"], Value::Null);
    assert_eq!(b["name"], "Товар b", "the name it had when added");

    // Delete is idempotent.
    let (s, body) = call(&app, &anna, Method::DELETE, "/api/v1/favorites/b", None).await;
    assert_eq!(s, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (s, _) = call(&app, &anna, Method::DELETE, "/api/v1/favorites/b", None).await;
    assert_eq!(s, 200);

    // Without sign-in: 401.
    let r = app
        .client
        .get(app.url("/api/v1/favorites"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
});

store_test!(favorites_have_a_limit, |db: TestDb| async move {
    let (app, _media) = shop(db, &[("a", 100, 1), ("b", 100, 1), ("c", 100, 1)], |c| {
        c.selling.max_favorites = 2;
    })
    .await;
    let anna = auth(1);
    for id in ["a", "b"] {
        let (s, _) = call(
            &app,
            &anna,
            Method::PUT,
            &format!("/api/v1/favorites/{id}"),
            None,
        )
        .await;
        assert_eq!(s, 200);
    }
    let (s, p) = call(&app, &anna, Method::PUT, "/api/v1/favorites/c", None).await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["code"], "favorites_limit");
    // One already there is not "one more".
    let (s, _) = call(&app, &anna, Method::PUT, "/api/v1/favorites/a", None).await;
    assert_eq!(s, 200);
    // After removing one there is room again.
    call(&app, &anna, Method::DELETE, "/api/v1/favorites/a", None).await;
    let (s, body) = call(&app, &anna, Method::PUT, "/api/v1/favorites/c", None).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["product_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"b") && ids.contains(&"c"), "{ids:?}");
    app.stop().await;
});

async fn place_order(app: &TestApp, who: &str, items: &[(&str, i64)]) -> i64 {
    for (product, quantity) in items {
        let (s, body) = call(
            app,
            who,
            Method::POST,
            "/api/v1/cart/items",
            Some(json!({"offer_id": format!("{product}#{product}-m"), "quantity": quantity})),
        )
        .await;
        assert_eq!(s, 200, "{body}");
    }
    let r = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("authorization", who)
        .header("idempotency-key", format!("order-{}", items.len()))
        .json(&json!({
            "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
            "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
            "payment_method": "on_receipt"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

store_test!(repeat_an_order, |db: TestDb| async move {
    let (app, media) = shop(
        db,
        &[
            ("a", 1_000, 10),
            ("b", 500, 5),
            ("c", 300, 5),
            ("d", 200, 2),
        ],
        |_| {},
    )
    .await;
    let anna = auth(1);
    let id = place_order(&app, &anna, &[("a", 2), ("b", 1), ("c", 3), ("d", 2)]).await;
    // Today: a costs more, b left the catalog, one c is left, d sold out.
    import(
        &app,
        media.path(),
        &[("a", 1_200, 8), ("c", 300, 1), ("d", 200, 0)],
        false,
    )
    .await;

    // Another customer cannot repeat Anna's order.
    let (s, p) = call(
        &app,
        &auth(2),
        Method::POST,
        &format!("/api/v1/orders/{id}/repeat"),
        None,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(p["code"], "not_found");
    let (s, p) = call(
        &app,
        &anna,
        Method::POST,
        "/api/v1/orders/99999/repeat",
        None,
    )
    .await;
    assert_eq!(s, 404, "{p}");

    let (s, r) = call(
        &app,
        &anna,
        Method::POST,
        &format!("/api/v1/orders/{id}/repeat"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["added"], json!(["a#a-m"]));
    let not_added: Vec<(String, String, i64)> = r["not_added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["offer_id"].as_str().unwrap().to_string(),
                n["reason"].as_str().unwrap().to_string(),
                n["added"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        not_added,
        [
            ("b#b-m".to_string(), "gone".to_string(), 0),
            ("c#c-m".to_string(), "partly_in_stock".to_string(), 1),
            ("d#d-m".to_string(), "out_of_stock".to_string(), 0),
        ]
    );
    assert_eq!(
        r["not_added"][0]["name"], "Товар b",
        "named as in the order"
    );
    assert_eq!(
        r["price_changes"],
        json!([{"offer_id": "a#a-m", "name": "Товар a", "was": 1_000, "now": 1_200}])
    );
    let lines: Vec<(String, i64, i64)> = r["cart"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["offer_id"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
                l["price"]["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("a#a-m".to_string(), 2, 1_200),
            ("c#c-m".to_string(), 1, 300)
        ]
    );
    assert_eq!(r["cart"]["total"]["amount"], 2 * 1_200 + 300);

    // Again: the cart already holds the only c, so nothing more of it; a is added again.
    let (s, r) = call(
        &app,
        &anna,
        Method::POST,
        &format!("/api/v1/orders/{id}/repeat"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let c = r["not_added"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["offer_id"] == "c#c-m")
        .unwrap();
    assert_eq!(c["reason"], "out_of_stock");
    assert_eq!(c["added"], 0);
    let (_, cart) = call(&app, &anna, Method::GET, "/api/v1/cart", None).await;
    assert_eq!(cart["lines"][0]["quantity"], 4);
    assert_eq!(cart["lines"][1]["quantity"], 1);
    app.stop().await;
});

async fn subscription_states(app: &TestApp) -> Vec<(i64, String, String)> {
    use sqlx::Row;
    sqlx::query("SELECT customer_id, offer_id, state FROM subscriptions ORDER BY id")
        .fetch_all(app.db.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// The state of the `nth` subscription to a test offer, in subscription order.
fn state_of(states: &[(i64, String, String)], offer: &str, nth: usize) -> String {
    states
        .iter()
        .filter(|(_, o, _)| o == &format!("{offer}#{offer}-m"))
        .nth(nth)
        .map(|(_, _, s)| s.clone())
        .unwrap_or_default()
}

store_test!(alerts_after_an_import, |db: TestDb| async move {
    use common::bot;
    use std::time::Duration;
    let fake = fake_telegram::FakeBot::start(bot::TOKEN, bot::fast_limits())
        .await
        .unwrap();
    let media = tempfile::tempdir().unwrap();
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        bot::configure(c, &f, m, bot::fast_limits());
        c.selling.max_subscriptions = 3;
    })
    .await;
    import(
        &app,
        media.path(),
        &[
            ("a", 100_000, 0),
            ("b", 200_000, 5),
            ("c", 30_000, 0),
            ("d", 50_000, 0),
            ("e", 1_000, 1),
        ],
        false,
    )
    .await;
    let (anna, boris, carl) = (bot::auth(11), bot::auth(12), bot::auth(13));
    let sub = |who: &str, offer: &str, kind: &str| {
        let who = who.to_string();
        let body = json!({"offer_id": format!("{offer}#{offer}-m"), "kind": kind});
        let app = &app;
        async move { call(app, &who, Method::POST, "/api/v1/subscriptions", Some(body)).await }
    };
    let (s, first) = sub(&anna, "a", "back_in_stock").await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["kind"], "back_in_stock");
    assert_eq!(first["product_id"], "a");
    let (s, again) = sub(&anna, "a", "back_in_stock").await;
    assert_eq!(s, 201);
    assert_eq!(
        again["id"], first["id"],
        "idempotent per customer, offer and kind"
    );
    let (s, drop) = sub(&anna, "b", "price_drop").await;
    assert_eq!(s, 201);
    assert_eq!(
        drop["price_then"],
        json!({"amount": 200_000, "currency": "RUB"})
    );
    // Bad input.
    let (s, p) = sub(&anna, "nope", "back_in_stock").await;
    assert_eq!((s, p["code"].as_str()), (404, Some("offer_not_found")));
    let (s, _) = sub(&anna, "a", "whenever").await;
    assert_eq!(s, 422);
    // Anna subscribes to e (in stock: waits until it sells out and comes back) and hits the
    // limit of 3 with a fourth.
    let (s, e) = sub(&anna, "e", "back_in_stock").await;
    assert_eq!(s, 201);
    let (s, p) = sub(&anna, "d", "back_in_stock").await;
    assert_eq!((s, p["code"].as_str()), (409, Some("subscriptions_limit")));
    let (_, list) = call(&app, &anna, Method::GET, "/api/v1/subscriptions", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    // Unsubscribing from e: 204, then 404; another customer cannot cancel hers.
    let path = format!("/api/v1/subscriptions/{}", e["id"]);
    let (s, _) = call(&app, &boris, Method::DELETE, &path, None).await;
    assert_eq!(s, 404);
    let (s, _) = call(&app, &anna, Method::DELETE, &path, None).await;
    assert_eq!(s, 204);
    let (s, p) = call(&app, &anna, Method::DELETE, &path, None).await;
    assert_eq!((s, p["code"].as_str()), (404, Some("not_found")));

    // Boris blocked the bot; Carl waits for c, which will leave the catalog.
    assert_eq!(sub(&boris, "a", "back_in_stock").await.0, 201);
    assert_eq!(sub(&boris, "d", "price_drop").await.0, 201);
    assert_eq!(sub(&carl, "c", "back_in_stock").await.0, 201);
    fake.block(12);
    // The same subscription asked for five times at once: one subscription.
    let same =
        futures_util::future::join_all((0..5).map(|_| sub(&carl, "e", "back_in_stock"))).await;
    assert!(
        same.iter()
            .all(|(s, b)| *s == 201 && b["id"] == same[0].1["id"]),
        "{same:?}"
    );

    // The new version: a back in stock, b cheaper, c gone, d unchanged.
    import(
        &app,
        media.path(),
        &[
            ("a", 100_000, 3),
            ("b", 150_000, 5),
            ("d", 50_000, 0),
            ("e", 1_000, 1),
        ],
        false,
    )
    .await;
    bot::wait_for("Anna's two alerts", Duration::from_secs(20), || {
        bot::to_chat(&fake, "sendMessage", 11).len() == 2
    })
    .await;
    let to_anna = bot::to_chat(&fake, "sendMessage", 11);
    let texts: Vec<&str> = to_anna
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Снова в наличии: «Товар a (M)»")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Цена снизилась: «Товар b (M)»") && t.contains("вместо")),
        "{texts:?}"
    );
    for m in &to_anna {
        let url = m["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"]
            .as_str()
            .unwrap();
        assert!(
            url.starts_with("https://shop.example.com/product/"),
            "{url}"
        );
    }
    assert!(
        bot::to_chat(&fake, "sendMessage", 13).is_empty(),
        "nothing about a product that is gone"
    );
    let states = subscription_states(&app).await;
    let state = |offer: &str, nth: usize| state_of(&states, offer, nth);
    // a: Anna's then Boris's.
    assert_eq!(state("a", 0), "notified");
    assert_eq!(state("b", 0), "notified");
    assert_eq!(state("c", 0), "gone");
    assert_eq!(state("e", 0), "cancelled");
    // Carl's e was in stock when he subscribed and still is: no alert yet.
    assert_eq!(state("e", 1), "open");
    assert_eq!(state("e", 2), "");
    // Boris's message for a went to a blocked chat (403): his other subscriptions are closed.
    let mut closed = false;
    for _ in 0..200 {
        let states = subscription_states(&app).await;
        let boris_states: Vec<&str> = states
            .iter()
            .filter(|(_, o, _)| o == "d#d-m")
            .map(|(_, _, s)| s.as_str())
            .collect();
        if boris_states == ["blocked"] {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "{:?}", subscription_states(&app).await);
    let (_, list) = call(&app, &anna, Method::GET, "/api/v1/subscriptions", None).await;
    assert_eq!(
        list["items"],
        json!([]),
        "an alert is sent once, then the subscription is done"
    );

    // Another version with the same prices: nothing more is sent.
    import(
        &app,
        media.path(),
        &[
            ("a", 90_000, 3),
            ("b", 100_000, 5),
            ("d", 50_000, 0),
            ("e", 1_000, 1),
        ],
        false,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bot::to_chat(&fake, "sendMessage", 11).len(), 2);
    assert_eq!(fake.violations(), 0, "within Telegram's limits");
    app.stop().await;
});

/// Sends an `inline_query` update and waits for the bot's answer to it.
async fn inline(
    app: &TestApp,
    fake: &fake_telegram::FakeBot,
    n: i64,
    query: &str,
    offset: &str,
) -> Value {
    use common::bot;
    let update = json!({
        "update_id": 9000 + n,
        "inline_query": {
            "id": format!("iq{n}"),
            "from": {"id": 11, "is_bot": false, "first_name": "Анна", "language_code": "ru"},
            "query": query,
            "offset": offset,
        }
    });
    assert_eq!(bot::post_update(app, Some(bot::SECRET), &update).await, 200);
    let id = format!("iq{n}");
    bot::wait_for(
        "the inline answer",
        std::time::Duration::from_secs(20),
        || {
            fake.calls_to("answerInlineQuery")
                .iter()
                .any(|a| a["inline_query_id"] == id.as_str())
        },
    )
    .await;
    fake.calls_to("answerInlineQuery")
        .into_iter()
        .find(|a| a["inline_query_id"] == id.as_str())
        .unwrap()
}

store_test!(inline_mode_answers_with_products, |db: TestDb| async move {
    use common::bot;
    let fake = fake_telegram::FakeBot::start(bot::TOKEN, bot::fast_limits())
        .await
        .unwrap();
    let media = tempfile::tempdir().unwrap();
    let catalog = vitrina::config::CatalogConfig {
        media_dir: media.path().to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::demo::seed_if_empty(&db.store, &catalog)
        .await
        .unwrap();
    let (f, m) = (fake.clone(), media.path().to_path_buf());
    let app = TestApp::spawn_on(db, move |c| {
        bot::configure(c, &f, m, bot::fast_limits());
        c.catalog.refresh_interval = std::time::Duration::from_millis(100);
    })
    .await;
    // The catalog's own answers, for comparison: a search, and everything (an empty query
    // shows the shop's popular products).
    let search: Value = app
        .get("/api/v1/products?q=%D0%BA%D1%83%D1%80%D1%82%D0%BA%D0%B0")
        .await
        .json()
        .await
        .unwrap();
    let all: Value = app.get("/api/v1/products").await.json().await.unwrap();
    let mut n = 0;
    for (query, total) in [("куртка", &search), ("", &all)] {
        let total = total["total"].as_u64().unwrap() as usize;
        // Paged with next_offset until the last page; every result a photo with a thumbnail
        // and a button to the product in the Mini App.
        let mut seen = Vec::new();
        let mut offset = String::new();
        loop {
            n += 1;
            let a = inline(&app, &fake, n, query, &offset).await;
            assert_eq!(a["cache_time"], 60);
            let results = a["results"].as_array().unwrap();
            assert!(results.len() <= 20);
            for r in results {
                assert_eq!(r["type"], "photo", "{r}");
                assert!(
                    r["thumbnail_url"]
                        .as_str()
                        .unwrap()
                        .starts_with("https://shop.example.com/images/")
                );
                assert!(r["caption"].as_str().unwrap().contains('₽'), "{r}");
                let url = r["reply_markup"]["inline_keyboard"][0][0]["url"]
                    .as_str()
                    .unwrap();
                assert!(
                    url.starts_with("https://t.me/vitrina_test_bot?startapp=product_"),
                    "{url}"
                );
                seen.push(url.to_string());
            }
            offset = a["next_offset"].as_str().unwrap().to_string();
            if offset.is_empty() {
                break;
            }
            assert_eq!(results.len(), 20, "full pages before the last");
            assert!(n < 100, "paging ends");
        }
        assert_eq!(
            seen.len(),
            total,
            "{query:?}: the same products as the catalog"
        );
        let unique: std::collections::HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), total);
    }
    assert!(n > 3, "the whole catalog took several pages");

    // Typed in the wrong keyboard layout: the catalog's rules apply.
    let a = inline(&app, &fake, 100, "rehnrf", "").await;
    assert!(!a["results"].as_array().unwrap().is_empty());

    // Punctuation only, or 256 characters: an empty answer, not an error.
    let a = inline(&app, &fake, 101, "?!…,.", "").await;
    assert_eq!(a["results"], json!([]));
    assert_eq!(a["next_offset"], "");
    let a = inline(&app, &fake, 102, &"куртка ".repeat(37)[..], "").await;
    assert_eq!(a["results"], json!([]));

    // A product without a picture is an article result: the next version drops one
    // product's pictures.
    let product = search["items"][0].clone();
    let (id, name) = (
        product["id"].as_str().unwrap(),
        product["name"].as_str().unwrap(),
    );
    sqlx::query("UPDATE products SET images = '[]' WHERE id = $1")
        .bind(id)
        .execute(app.db.store.pool())
        .await
        .unwrap();
    import(&app, media.path(), &[], true).await;
    let mut found = None;
    for n in 200..400 {
        let a = inline(&app, &fake, n, name, "").await;
        let article = a["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["title"] == name && r["type"] == "article")
            .cloned();
        if article.is_some() {
            found = article;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let r = found.unwrap_or_else(|| panic!("{name} is an article once it has no picture"));
    assert!(r.get("thumbnail_url").is_none());
    let text = r["input_message_content"]["message_text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("{name}\n")) && text.contains('₽'),
        "{text}"
    );
    assert_eq!(
        r["reply_markup"]["inline_keyboard"][0][0]["url"],
        format!("https://t.me/vitrina_test_bot?startapp=product_{id}")
    );
    app.stop().await;
});

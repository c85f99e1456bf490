//! Cart and checkout through the HTTP API on SQLite and PostgreSQL: server-side prices,
//! stock that never oversells, idempotent orders, statuses with a timeline and outbox jobs.

mod common;

use common::{TestApp, dev_auth as auth};
use serde_json::{Value, json};
use sqlx::Row;
use vitrina::auth::DEMO_BOT_TOKEN;
use vitrina::config::Secret;
use vitrina::store::Backend;
use vitrina::store_test;

/// A catalog of `(offer id, price in kopecks, stock)`; each offer its own product.
async fn shop(backend: Backend, offers: &[(&str, i64, i64)]) -> (TestApp, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let dir = media.path().to_path_buf();
    let app = TestApp::spawn_with(backend, move |c| {
        c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
        c.catalog.media_dir = dir;
    })
    .await;
    let pkg = tempfile::tempdir().unwrap();
    let mut import = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><Каталог><Ид>c</Ид><Товары>",
    );
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><ПакетПредложений><Ид>c#</Ид>\
         <ТипыЦен><ТипЦены><Ид>r</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>",
    );
    for (id, price, stock) in offers {
        import += &format!("<Товар><Ид>{id}</Ид><Наименование>Товар {id}</Наименование></Товар>");
        xml += &format!(
            "<Предложение><Ид>{id}#{id}-m</Ид><Наименование>Товар {id} (M)</Наименование><ХарактеристикиТовара><ХарактеристикаТовара>\
             <Наименование>Размер</Наименование><Значение>M</Значение></ХарактеристикаТовара></ХарактеристикиТовара>\
             <Цены><Цена><ИдТипаЦены>r</ИдТипаЦены><ЦенаЗаЕдиницу>{}.{:02}</ЦенаЗаЕдиницу></Цена></Цены><Количество>{stock}</Количество></Предложение>",
            price / 100,
            price % 100
        );
    }
    import += "</Товары></Каталог></КоммерческаяИнформация>";
    xml += "</Предложения></ПакетПредложений></КоммерческаяИнформация>";
    std::fs::write(pkg.path().join("import.xml"), import).unwrap();
    std::fs::write(pkg.path().join("offers.xml"), xml).unwrap();
    let config = vitrina::config::CatalogConfig {
        media_dir: media.path().to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::import::Importer::new(&app.db.store, &config)
        .import_paths(&[pkg.path().to_path_buf()], "test")
        .await
        .unwrap();
    (app, media)
}

struct Client<'a> {
    app: &'a TestApp,
    auth: String,
}

impl Client<'_> {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let mut r = self
            .app
            .client
            .request(method, self.app.url(path))
            .header("authorization", &self.auth);
        if let Some(b) = body {
            r = r.json(&b);
        }
        if let Some(k) = key {
            r = r.header("idempotency-key", k);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    async fn add(&self, offer: &str, quantity: i64) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/api/v1/cart/items",
            Some(json!({"offer_id": offer, "quantity": quantity})),
            None,
        )
        .await
    }
    async fn checkout(&self, key: &str, body: &Value) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/api/v1/orders",
            Some(body.clone()),
            Some(key),
        )
        .await
    }
}

fn checkout_body() -> Value {
    json!({
        "contact": {"name": "Анна", "phone": "8 (999) 123-45-67"},
        "delivery": {"method": "courier", "address": "Москва, Тверская, 1, кв. 5"},
        "payment_method": "on_receipt",
        "comment": "позвонить за час"
    })
}

async fn stock(app: &TestApp, offer: &str) -> i64 {
    sqlx::query("SELECT stock_milli FROM offers WHERE id = $1")
        .bind(offer)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get::<i64, _>(0)
        / 1000
}

async fn cart_and_checkout(backend: Backend) {
    let (app, _media) = shop(backend, &[("a", 129_900, 10), ("b", 49_950, 2)]).await;
    let anna = Client {
        app: &app,
        auth: auth(1),
    };

    assert_eq!(anna.add("a#a-m", 2).await.0, 200);
    let (_, cart) = anna.add("a#a-m", 1).await;
    assert_eq!(cart["lines"][0]["quantity"], 3, "adding again adds up");
    assert_eq!(cart["lines"][0]["variant"], "Размер: M");
    let (status, problem) = anna.add("b#b-m", 3).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("insufficient_stock"))
    );
    assert_eq!(anna.add("nope", 1).await.0, 404);
    let (_, cart) = anna.add("b#b-m", 2).await;
    assert_eq!(cart["total"]["amount"], 3 * 129_900 + 2 * 49_950);
    let (_, cart) = anna
        .call(
            reqwest::Method::PATCH,
            "/api/v1/cart/items/b%23b-m",
            Some(json!({"quantity": 1})),
            None,
        )
        .await;
    assert_eq!(cart["items"], 4);

    // The shop changes a price: the cart says so, and checkout charges the current price.
    sqlx::query("UPDATE offers SET price = 139900 WHERE id = 'a#a-m'")
        .execute(app.db.store.pool())
        .await
        .unwrap();
    let (_, cart) = anna
        .call(reqwest::Method::GET, "/api/v1/cart", None, None)
        .await;
    assert_eq!(cart["has_changes"], true);
    assert_eq!(cart["lines"][0]["price_was"], 129_900);

    // Validation: every bad field named.
    let (status, problem) = anna
        .checkout("k0", &json!({"contact": {"name": " ", "phone": "123"}, "delivery": {"method": "courier"}, "payment_method": "stars"}))
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "contact.name",
            "contact.phone",
            "delivery.address",
            "payment_method"
        ]
    );
    let (status, problem) = anna
        .call(
            reqwest::Method::POST,
            "/api/v1/orders",
            Some(checkout_body()),
            None,
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("idempotency_key_required"))
    );

    let (status, order) = anna.checkout("key-1", &checkout_body()).await;
    assert_eq!(status, 201, "{order}");
    let items_total = 3 * 139_900 + 49_950;
    assert_eq!(order["items_total"], items_total);
    assert_eq!(
        order["delivery"]["price"], 39_000,
        "courier costs 390 ₽ below 5000 ₽ of goods"
    );
    assert_eq!(order["total"]["amount"], items_total + 39_000);
    assert_eq!(order["contact"]["phone"], "+79991234567");
    assert_eq!(order["status"], "new");
    assert_eq!(order["timeline"][0]["status"], "new");
    assert!(order["number"].as_str().unwrap().starts_with("V-"));
    assert_eq!(
        (stock(&app, "a#a-m").await, stock(&app, "b#b-m").await),
        (7, 1)
    );
    let (_, cart) = anna
        .call(reqwest::Method::GET, "/api/v1/cart", None, None)
        .await;
    assert_eq!(cart["lines"].as_array().unwrap().len(), 0, "cart cleared");

    // Retry with the same key: the same order, nothing taken twice. Another body: 409.
    let (status, again) = anna.checkout("key-1", &checkout_body()).await;
    assert_eq!((status, &again["id"]), (200, &order["id"]));
    assert_eq!(stock(&app, "a#a-m").await, 7);
    let mut other = checkout_body();
    other["comment"] = json!("другое");
    assert_eq!(
        anna.checkout("key-1", &other).await.1["code"],
        "idempotency_key_reused"
    );
    assert_eq!(
        anna.checkout("key-2", &checkout_body()).await.1["code"],
        "cart_empty"
    );

    // Only the customer's own orders.
    let (_, mine) = anna
        .call(reqwest::Method::GET, "/api/v1/orders", None, None)
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let boris = Client {
        app: &app,
        auth: auth(2),
    };
    let id = order["id"].as_i64().unwrap();
    assert_eq!(
        boris
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/orders/{id}"),
                None,
                None
            )
            .await
            .0,
        404
    );
    assert_eq!(
        boris
            .call(reqwest::Method::GET, "/api/v1/orders", None, None)
            .await
            .1,
        json!([])
    );

    // The order-created job waits in the outbox, written with the order.
    let jobs = app.db.store.pool();
    let created: i64 =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE kind = 'order.created'")
            .fetch_one(jobs)
            .await
            .unwrap()
            .get(0);
    assert_eq!(created, 1);

    // Statuses: allowed moves append to the timeline with a job; cancel puts stock back.
    let state = app_state(&app).await;
    let shipped = vitrina::orders::set_status(
        &state.0,
        &app.db.store,
        &state.1,
        id,
        "confirmed",
        Some("позвонили"),
        "cli",
    )
    .await
    .unwrap();
    assert_eq!(shipped.timeline.len(), 2);
    let err = vitrina::orders::set_status(
        &state.0,
        &app.db.store,
        &state.1,
        id,
        "delivered",
        None,
        "cli",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            vitrina::orders::SetStatusError::TransitionNotAllowed { .. }
        ),
        "{err}"
    );
    vitrina::orders::set_status(
        &state.0,
        &app.db.store,
        &state.1,
        id,
        "cancelled",
        None,
        "cli",
    )
    .await
    .unwrap();
    assert_eq!(
        (stock(&app, "a#a-m").await, stock(&app, "b#b-m").await),
        (10, 2),
        "restocked"
    );
    let changes: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE kind = 'order.status_changed'",
    )
    .fetch_one(jobs)
    .await
    .unwrap()
    .get(0);
    assert_eq!(changes, 2);
    let (_, seen) = anna
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/orders/{id}"),
            None,
            None,
        )
        .await;
    let statuses: Vec<&str> = seen["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["new", "confirmed", "cancelled"]);
    app.stop().await;
}

async fn app_state(app: &TestApp) -> (vitrina::config::Config, vitrina::outbox::Outbox) {
    let config = vitrina::config::Config::default();
    let outbox = vitrina::outbox::Outbox::new(app.db.store.clone(), config.outbox.clone());
    (config, outbox)
}

store_test!(cart_and_checkout, backend: cart_and_checkout);

/// 24 customers race for the last 5 units: exactly 5 orders, stock 0, nobody oversold.
async fn no_oversell(backend: Backend) {
    let (app, _media) = shop(backend, &[("last", 100_000, 5)]).await;
    let buyers: Vec<Client> = (0..24)
        .map(|i| Client {
            app: &app,
            auth: auth(1000 + i),
        })
        .collect();
    for b in &buyers {
        assert_eq!(b.add("last#last-m", 1).await.0, 200);
    }
    let results = futures_util::future::join_all(buyers.iter().enumerate().map(|(i, b)| {
        let body = checkout_body();
        async move { b.checkout(&format!("race-{i}"), &body).await }
    }))
    .await;
    let placed = results.iter().filter(|(s, _)| *s == 201).count();
    let refused = results
        .iter()
        .filter(|(s, body)| *s == 409 && body["code"] == "cart_unavailable")
        .count();
    assert_eq!(
        (placed, refused),
        (5, 19),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(stock(&app, "last#last-m").await, 0);
    let orders: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM orders")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(orders, 5, "refused checkouts leave no order behind");
    app.stop().await;
}

store_test!(no_oversell, backend: no_oversell, worker_threads = 4);

/// A double tap: the same key twice at the same moment places one order.
async fn double_submit(backend: Backend) {
    let (app, _media) = shop(backend, &[("x", 10_000, 10)]).await;
    let c = Client {
        app: &app,
        auth: auth(7),
    };
    c.add("x#x-m", 2).await;
    let body = checkout_body();
    let (a, b) = tokio::join!(c.checkout("same", &body), c.checkout("same", &body));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{a:?} {b:?}");
    assert_eq!(a.1["id"], b.1["id"]);
    assert_eq!(stock(&app, "x#x-m").await, 8);
    app.stop().await;
}

store_test!(double_submit, backend: double_submit, worker_threads = 4);

#[tokio::test(flavor = "multi_thread")]
async fn seed_routes_place_one_order_per_double_tap() {
    let (app, _media) = shop(Backend::Sqlite, &[("s", 25_000, 3)]).await;
    let c = Client {
        app: &app,
        auth: auth(9),
    };
    let (status, cart) = c
        .call(
            reqwest::Method::POST,
            "/api/telegram/cart/add",
            Some(json!({"product_id": "s"})),
            None,
        )
        .await;
    assert_eq!((status, cart["items"].as_i64()), (200, Some(1)));
    let form =
        json!({"name": "Иван", "phone": "+7 999 000-00-00", "address": "Казань, Баумана, 10"});
    let (s1, first) = c
        .call(
            reqwest::Method::POST,
            "/api/telegram/order",
            Some(form.clone()),
            None,
        )
        .await;
    let (s2, second) = c
        .call(
            reqwest::Method::POST,
            "/api/telegram/order",
            Some(form),
            None,
        )
        .await;
    assert_eq!((s1, s2), (200, 200), "{first} {second}");
    assert_eq!(first["order_id"], second["order_id"]);
    assert_eq!(stock(&app, "s#s-m").await, 2);
    app.stop().await;
}

/// Counts the statements sqlx runs against the orders tables (its `sqlx::query` events).
struct OrderQueries(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for OrderQueries {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Sql(String);
        impl tracing::field::Visit for Sql {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if matches!(field.name(), "summary" | "db.statement") {
                    self.0.push_str(value);
                    self.0.push(' ');
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut sql = Sql(String::new());
        event.record(&mut sql);
        let sql = sql
            .0
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if ["from orders", "from order_items", "from order_events"]
            .iter()
            .any(|t| sql.contains(t))
        {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// `GET /api/v1/orders` reads a page of orders in three statements (orders, their items,
/// their events), whatever the number of orders; it was 1 + 3 per order. Both databases in
/// one test: the statement counter is the process's tracing subscriber.
#[tokio::test(flavor = "multi_thread")]
async fn order_list_in_constant_queries() {
    use tracing_subscriber::layer::SubscriberExt;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(OrderQueries(count.clone())),
    )
    .expect("the test's own subscriber");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (app, _media) = shop(backend, &[("a", 10_000, 100), ("b", 20_000, 100)]).await;
        let anna = Client {
            app: &app,
            auth: auth(1),
        };
        for n in 0..6 {
            assert_eq!(anna.add("a#a-m", 1).await.0, 200);
            assert_eq!(anna.add("b#b-m", 2).await.0, 200);
            let (status, _) = anna.checkout(&format!("key-{n}"), &checkout_body()).await;
            assert_eq!(status, 201);
        }
        // Background jobs (notifications) may read an order meanwhile: the fewest of a few
        // runs is the request's own.
        let mut fewest = usize::MAX;
        for _ in 0..3 {
            count.store(0, std::sync::atomic::Ordering::SeqCst);
            let (status, list) = anna
                .call(reqwest::Method::GET, "/api/v1/orders", None, None)
                .await;
            fewest = fewest.min(count.load(std::sync::atomic::Ordering::SeqCst));
            assert_eq!(status, 200);
            let list = list.as_array().unwrap().clone();
            assert_eq!(list.len(), 6, "{backend:?}");
            for order in &list {
                assert_eq!(order["items"].as_array().unwrap().len(), 2, "{backend:?}");
                assert_eq!(
                    order["timeline"].as_array().unwrap().len(),
                    1,
                    "{backend:?}"
                );
            }
            let ids: Vec<i64> = list.iter().map(|o| o["id"].as_i64().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        }
        assert_eq!(fewest, 3, "{backend:?}: statements per GET /api/v1/orders");
        app.stop().await;
    }
}

//! The Bitrix catalog as the site sells it, against the project's fake portal: the price
//! customers pay and the old one struck through, SKU properties as characteristics, stock
//! that honours "can buy at zero", deactivated and deleted products leaving, and stock
//! changes from catalog events reaching the Mini App's API without a catalog sync.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestApp;
use fake_bitrix::FakeBitrix;
use serde_json::Value;
use sqlx::Row;
use vitrina::bitrix::Bitrix;
use vitrina::config::{BackendKind, Config, Secret};
use vitrina::store::{Backend, Store};
use vitrina::store_test;

const CODE: &str = "webhookcode123";

fn roomy() -> fake_bitrix::Limits {
    fake_bitrix::Limits {
        burst: 1000,
        per_second: 1000.0,
    }
}

fn config_for(bx: &FakeBitrix, media: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.backend.kind = BackendKind::Bitrix;
    c.bitrix.webhook_url = Some(Secret::new(bx.webhook_url.clone()));
    c.bitrix.application_token = Some(Secret::new(bx.application_token()));
    c.bitrix.burst = 1000;
    c.bitrix.requests_per_second = 1000.0;
    c.bitrix.catalog_iblock_id = fake_bitrix::CATALOG_IBLOCK;
    c.bitrix.pictures = false;
    c.bitrix.reconcile_interval = Duration::ZERO;
    c.bitrix.sync_interval = Duration::ZERO;
    c.bitrix.full_sync_interval = Duration::ZERO;
    c.bitrix.stock_poll_interval = Duration::ZERO;
    c.catalog.media_dir = media.to_path_buf();
    c
}

fn backend(config: &Config, store: &Store) -> Arc<Bitrix> {
    let outbox = vitrina::outbox::Outbox::new(store.clone(), config.outbox.clone());
    Bitrix::new(Arc::new(config.clone()), store.clone(), outbox)
        .unwrap()
        .unwrap()
}

async fn offer(store: &Store, id: &str) -> Option<(Option<i64>, Option<i64>, i64)> {
    sqlx::query("SELECT price, old_price, stock_milli FROM offers WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get::<Option<i64>, _>(2).unwrap_or(0)))
}

async fn discounts_and_properties(backend_kind: Backend) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    bx.seed_catalog(2, 20);
    bx.seed_offers(&[1, 2], 3);
    bx.seed_offer_properties();
    // A sale: 20 % off products 3 and 4 through a sale price type everyone buys at, and a
    // catalog discount on product 5 that no REST method shows.
    bx.seed_sale(&[3, 4], 20);
    bx.set_catalog_discount(5, 50);
    let db = vitrina::store::testing::TestDb::new(backend_kind).await;
    let media = tempfile::tempdir().unwrap();
    let mut config = config_for(&bx, media.path());
    config.bitrix.offers_iblock_id = Some(fake_bitrix::OFFERS_IBLOCK);
    let client = vitrina::bitrix::client(&config).unwrap();

    // Configured as the seller had it (base only): `check` names the sale type it misses.
    let report = vitrina::bitrix::setup::check(&client, &config).await;
    let text = report.render();
    assert!(
        text.contains("bitrix.price_type_ids = [2]"),
        "check names the missing price type: {text}"
    );
    assert!(
        text.contains("offer properties shown in the variant picker: Размер, Длина"),
        "{text}"
    );
    assert!(
        text.contains("NOT shown") && text.contains("Цвет"),
        "{text}"
    );

    config.bitrix.price_type_ids = vec![fake_bitrix::SALE_PRICE];
    config.bitrix.old_price_type_id = Some(fake_bitrix::BASE_PRICE);
    let report = vitrina::bitrix::setup::check(&client, &config).await;
    assert!(
        report
            .render()
            .contains("customers pay the lowest of price types 1 (BASE), 2 (SALE)"),
        "{}",
        report.render()
    );
    vitrina::bitrix::sync::sync(&client, &config, &db.store, true, |_| {})
        .await
        .unwrap();
    let store = &db.store;
    // Product 3: base 103.50, sale 82.80: sold at the sale price, base struck through.
    assert_eq!(
        offer(store, "3").await,
        Some((Some(8_280), Some(10_350), 3_000))
    );
    // Product 6: no sale; no old price. Product 5: the catalog discount is Bitrix's own,
    // applied to the order there, not to the catalog price.
    assert_eq!(
        offer(store, "6").await.map(|o| (o.0, o.1)),
        Some((Some(10_650), None))
    );
    assert_eq!(offer(store, "5").await.map(|o| o.0), Some(Some(10_550)));

    // SKU properties: the list by its values, the number as written; the highload colour
    // and the parent link are not characteristics.
    let chars: String = sqlx::query(
        "SELECT characteristics FROM offers WHERE product_id = '1' ORDER BY id LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
    .get(0);
    let chars: Value = serde_json::from_str(&chars).unwrap();
    assert_eq!(chars[0]["name"], "Размер");
    assert!(
        ["S", "M", "L"].contains(&chars[0]["value"].as_str().unwrap()),
        "{chars}"
    );
    assert_eq!(chars[1]["name"], "Длина");
    assert_eq!(chars.as_array().unwrap().len(), 2, "{chars}");
    let sizes: Vec<String> =
        sqlx::query("SELECT characteristics FROM offers WHERE product_id = '1' ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let c: String = r.get(0);
                serde_json::from_str::<Value>(&c).unwrap()[0]["value"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
    assert_eq!(sizes.len(), 3);
    assert_ne!(sizes[0], sizes[1], "each size its own offer: {sizes:?}");
    // VAT from the catalog (20 % on even products) for receipts.
    let vat: String = sqlx::query("SELECT vat FROM offer_vat WHERE offer_id = '4'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(vat, "20");

    // The sale ends on product 4 (its sale price goes up to the base): no old price.
    bx.touch_product(4, "Товар 4", 104.5);
    vitrina::bitrix::sync::sync(&client, &config, store, false, |_| {})
        .await
        .unwrap();
    assert_eq!(
        offer(store, "4").await.map(|o| (o.0, o.1)),
        Some((Some(10_450), None))
    );
}

async fn stock_and_activity(backend_kind: Backend) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    bx.seed_catalog(2, 30);
    let db = vitrina::store::testing::TestDb::new(backend_kind).await;
    let media = tempfile::tempdir().unwrap();
    let config = config_for(&bx, media.path());
    let client = vitrina::bitrix::client(&config).unwrap();
    let store = &db.store;
    vitrina::bitrix::sync::sync(&client, &config, store, true, |_| {})
        .await
        .unwrap();
    assert_eq!(offer(store, "7").await.unwrap().2, 7_000);
    // Product 17 has nothing in stock: unavailable until it may be sold at zero.
    assert_eq!(offer(store, "17").await.unwrap().2, 0);

    // Deactivated in Bitrix: the incremental sync takes it out at once.
    bx.set_active(5, false);
    let report = vitrina::bitrix::sync::sync(&client, &config, store, false, |_| {})
        .await
        .unwrap();
    assert!(!report.full);
    assert!(
        offer(store, "5").await.is_none(),
        "deactivated product still sold"
    );

    // Stock that moves without the element's change date (an order reserved it), a product
    // sold at zero, one deleted: the stock poll sees all three, and publishes only them.
    bx.set_quantity(7, 2.0, false).await;
    bx.set_stock_rules(17, "Y", "Y");
    bx.delete_product(9, false).await;
    let before = vitrina::catalog::current_version(store).await.unwrap();
    let bxb = backend(&config, store);
    let report = vitrina::bitrix::stock::poll(&bxb).await.unwrap();
    assert_eq!((report.changed, report.removed), (2, 1), "{report:?}");
    assert_eq!(report.requests, 1, "30 products: one page, one request");
    assert!(report.version.unwrap() > before);
    assert_eq!(offer(store, "7").await.unwrap().2, 2_000);
    assert_eq!(
        offer(store, "17").await.unwrap().2,
        1_000_000_000,
        "sold without stock"
    );
    assert!(
        offer(store, "9").await.is_none(),
        "deleted product still sold"
    );
    assert_eq!(
        offer(store, "8").await.map(|o| o.0),
        Some(Some(10_850)),
        "a stock change keeps the price"
    );
    // Nothing changed: nothing published.
    let report = vitrina::bitrix::stock::poll(&bxb).await.unwrap();
    assert_eq!(
        (report.changed, report.removed, report.version),
        (0, 0, None)
    );
}

/// A stock event reaches the Mini App's API in seconds, with no catalog sync.
async fn stock_events(backend_kind: Backend) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    bx.seed_catalog(2, 30);
    let db = vitrina::store::testing::TestDb::new(backend_kind).await;
    let media = tempfile::tempdir().unwrap();
    let config = config_for(&bx, media.path());
    let client = vitrina::bitrix::client(&config).unwrap();
    vitrina::bitrix::sync::sync(&client, &config, &db.store, true, |_| {})
        .await
        .unwrap();
    let setup = config.clone();
    let app = TestApp::spawn_on(db, move |c| {
        let media = c.catalog.media_dir.clone();
        *c = Config {
            server: c.server.clone(),
            database: c.database.clone(),
            ..setup
        };
        c.catalog.media_dir = media;
    })
    .await;
    let done = vitrina::bitrix::setup::setup(&client, &config)
        .await
        .unwrap();
    assert!(
        done.iter()
            .any(|l| l.starts_with("CATALOG.PRODUCT.ON.UPDATE bound")),
        "{done:?}"
    );
    let stock_of = |id: &'static str| {
        let app = &app;
        async move {
            let r: Value = app
                .get(&format!("/api/v1/products/{id}"))
                .await
                .json()
                .await
                .unwrap();
            r["offers"][0]["stock"].as_f64()
        }
    };
    assert_eq!(stock_of("12").await, Some(12.0));
    bx.set_quantity(12, 1.0, false).await;
    let body = fake_bitrix::event_body(
        "CATALOG.PRODUCT.ON.UPDATE",
        1,
        12,
        bx.now(),
        &bx.application_token(),
    );
    let status = app
        .client
        .post(app.url("/bitrix/events"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    while stock_of("12").await != Some(1.0) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the event's stock never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A deletion event: the product leaves.
    bx.delete_product(13, false).await;
    let body = fake_bitrix::event_body(
        "CATALOG.PRODUCT.ON.DELETE",
        1,
        13,
        bx.now(),
        &bx.application_token(),
    );
    app.client
        .post(app.url("/bitrix/events"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    while app.get("/api/v1/products/13").await.status() != 404 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the deleted product stayed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}

async fn gallery(store: &Store, id: &str) -> Vec<String> {
    let images: String = sqlx::query("SELECT images FROM products WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    serde_json::from_str(&images).unwrap()
}

/// The hashes of elements' pictures as the portal has them, element after element: detail,
/// then more photos by id (the preview only without a detail picture).
fn portal_pictures(bx: &FakeBitrix, ids: &[i64]) -> Vec<String> {
    use sha2::Digest;
    let mut out = Vec::new();
    for &id in ids {
        let mut rows: Vec<Value> = bx
            .rows("images")
            .into_iter()
            .filter(|i| i["productId"] == serde_json::json!(id))
            .collect();
        let has_detail = rows.iter().any(|i| i["type"] == "DETAIL_PICTURE");
        rows.retain(|i| i["type"] != "PREVIEW_PICTURE" || !has_detail);
        rows.sort_by_key(|i| {
            (
                i["type"] != "DETAIL_PICTURE" && i["type"] != "PREVIEW_PICTURE",
                i["id"].as_i64(),
            )
        });
        out.extend(rows.iter().map(|i| {
            let bytes = bx.picture_file(i["detailUrl"].as_str().unwrap()).unwrap();
            sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }));
    }
    out
}

/// A product's offers as the catalog has them: id, price, old price, stock, characteristics.
async fn offers_of(
    store: &Store,
    product: &str,
) -> Vec<(String, Option<i64>, Option<i64>, Option<i64>, String)> {
    sqlx::query(
        "SELECT id, price, old_price, stock_milli, characteristics FROM offers \
         WHERE product_id = $1 ORDER BY id",
    )
    .bind(product)
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get(0),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get::<Option<String>, _>(4).unwrap_or_default(),
        )
    })
    .collect()
}

async fn product_row(store: &Store, id: &str) -> Option<(String, String)> {
    sqlx::query("SELECT name, properties FROM products WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1)))
}

/// A clothing catalog from Bitrix whose photos are on the variations: they make the
/// product's gallery (after its own), a variation's new photo arrives with the next changes
/// sync, and products and variations deactivated then activated again come back whole
/// (offers, prices, characteristics, properties, pictures).
async fn variation_pictures_and_reactivation(backend_kind: Backend) {
    let bx = FakeBitrix::start(CODE, roomy()).await.unwrap();
    bx.seed_catalog(2, 10);
    // Variations 11, 12, 13 of product 1; 14, 15, 16 of product 2.
    bx.seed_offers(&[1, 2], 3);
    bx.seed_offer_properties();
    bx.seed_pictures([1, 2, 3], 0);
    bx.seed_offer_pictures([11, 12, 14], 1);
    let db = vitrina::store::testing::TestDb::new(backend_kind).await;
    let media = tempfile::tempdir().unwrap();
    let mut config = config_for(&bx, media.path());
    config.bitrix.offers_iblock_id = Some(fake_bitrix::OFFERS_IBLOCK);
    config.bitrix.pictures = true;
    let client = vitrina::bitrix::client(&config).unwrap();
    let store = &db.store;
    let sync = |full: bool| {
        let (client, config) = (&client, &config);
        async move {
            vitrina::bitrix::sync::sync(client, config, store, full, |_| {})
                .await
                .unwrap()
        }
    };
    let report = sync(true).await;
    // Products 1..10 and variations 11, 12, 14 with pictures (13, 15, 16 name no file).
    assert_eq!(report.pictures_listed, 6, "{report:?}");
    assert_eq!(
        gallery(store, "1").await,
        portal_pictures(&bx, &[1, 11, 12])
    );
    assert_eq!(gallery(store, "1").await.len(), 5);
    assert_eq!(gallery(store, "2").await, portal_pictures(&bx, &[2, 14]));
    assert_eq!(gallery(store, "3").await, portal_pictures(&bx, &[3]));
    let report = sync(false).await;
    assert_eq!((report.products, report.pictures_listed), (0, 0));

    // A manager gives variation 15 photos: its change date moves, its product's does not.
    // The changes sync reads product 2's gallery again, and only it.
    bx.set_pictures(15, &["DETAIL_PICTURE", "MORE_PHOTO"]);
    let report = sync(false).await;
    assert!(!report.full);
    assert_eq!(
        report.pictures_listed, 3,
        "product 2 and variations 14, 15: {report:?}"
    );
    assert_eq!(
        gallery(store, "2").await,
        portal_pictures(&bx, &[2, 14, 15])
    );
    assert_eq!(
        gallery(store, "1").await,
        portal_pictures(&bx, &[1, 11, 12])
    );
    // A full sync finds nothing to list again.
    let report = sync(true).await;
    assert_eq!(report.pictures_listed, 0, "{report:?}");
    assert_eq!(
        gallery(store, "2").await,
        portal_pictures(&bx, &[2, 14, 15])
    );

    // Product 1 deactivated: it leaves with its variations at the changes sync.
    let offers_before = offers_of(store, "1").await;
    assert_eq!(offers_before.len(), 3);
    assert!(
        offers_before
            .iter()
            .all(|o| o.1.is_some() && o.4.contains("Размер"))
    );
    let product_before = product_row(store, "1").await.unwrap();
    assert!(product_before.1.contains("Бренд"), "{product_before:?}");
    bx.set_active(1, false);
    let report = sync(false).await;
    assert!(!report.full);
    assert!(product_row(store, "1").await.is_none());
    assert!(offers_of(store, "1").await.is_empty());
    // Active again: only its own row changed, so the changes sync turns full and brings it
    // back with its variations, their prices and sizes, its properties and its gallery.
    bx.set_active(1, true);
    let report = sync(false).await;
    assert!(report.full, "came back through a full sync: {report:?}");
    assert_eq!(offers_of(store, "1").await, offers_before);
    assert_eq!(product_row(store, "1").await, Some(product_before));
    assert_eq!(
        gallery(store, "1").await,
        portal_pictures(&bx, &[1, 11, 12])
    );
    let report = sync(false).await;
    assert!(!report.full, "and back to changes only: {report:?}");

    // A simple product: back with its price and stock.
    let five = offer(store, "5").await;
    assert!(five.unwrap().0.is_some());
    bx.set_active(5, false);
    sync(false).await;
    assert!(offer(store, "5").await.is_none());
    bx.set_active(5, true);
    sync(false).await;
    assert_eq!(offer(store, "5").await, five);

    // A variation with photos deactivated: it leaves the picker and its photos the gallery;
    // active again, both come back.
    let twelve = offers_of(store, "1")
        .await
        .into_iter()
        .find(|o| o.0 == "1#12");
    assert!(twelve.is_some());
    bx.set_active(12, false);
    let report = sync(false).await;
    assert!(!report.full);
    assert!(!offers_of(store, "1").await.iter().any(|o| o.0 == "1#12"));
    assert_eq!(gallery(store, "1").await, portal_pictures(&bx, &[1, 11]));
    bx.set_active(12, true);
    let report = sync(false).await;
    assert!(report.full);
    assert_eq!(
        offers_of(store, "1")
            .await
            .into_iter()
            .find(|o| o.0 == "1#12"),
        twelve
    );
    assert_eq!(
        gallery(store, "1").await,
        portal_pictures(&bx, &[1, 11, 12])
    );
}

store_test!(variation_pictures_and_reactivation, backend: variation_pictures_and_reactivation);
store_test!(discounts_and_properties, backend: discounts_and_properties);
store_test!(stock_and_activity, backend: stock_and_activity);
store_test!(stock_events, backend: stock_events);

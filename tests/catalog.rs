//! The catalog API over the demo catalog and over small packages: sections, filters, facets,
//! sort, cursor paging across a publish, product cards, search, caching, bad parameters.

mod common;

use std::collections::HashSet;

use common::TestApp;
use serde_json::Value;
use vitrina::store::Backend;
use vitrina::store_test;

async fn demo_app(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let dir = media.path().to_path_buf();
    let app = TestApp::spawn_with(backend, move |c| c.catalog.media_dir = dir).await;
    let state_catalog = &app.db.store;
    let config = vitrina::config::CatalogConfig {
        media_dir: media.path().to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::demo::seed_if_empty(state_catalog, &config)
        .await
        .unwrap()
        .unwrap();
    wait_for_version(&app, 1).await;
    (app, media)
}

async fn wait_for_version(app: &TestApp, version: i64) {
    for _ in 0..100 {
        let list: Value = app
            .get("/api/v1/products?limit=1")
            .await
            .json()
            .await
            .unwrap();
        if list["catalog_version"] == version {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("catalog version {version} never served");
}

async fn json(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

async fn browse(backend: Backend) {
    let (app, _media) = demo_app(backend).await;

    let sections = json(&app, "/api/v1/sections").await;
    let tops: Vec<&str> = sections
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(tops, ["Одежда", "Обувь", "Электроника", "Дом и быт"]);
    let clothes = &sections[0];
    let child_sum: u64 = clothes["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["product_count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        clothes["product_count"].as_u64().unwrap(),
        child_sum,
        "a section counts its subsections' products"
    );

    // A top section lists its subsections' products; total matches the tree.
    let list = json(&app, "/api/v1/products?section=clothes&limit=100").await;
    assert_eq!(list["total"].as_u64(), clothes["product_count"].as_u64());
    assert_eq!(list["items"].as_array().unwrap().len(), 96);
    assert!(list["next_cursor"].is_null());

    // Sorts are what they say.
    let asc = json(&app, "/api/v1/products?sort=price_asc&limit=50").await;
    let prices: Vec<i64> = asc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price"]["amount"].as_i64().unwrap())
        .collect();
    // A sort check on a list of one (or of equal values) would pass whatever the order.
    assert!(prices.len() >= 2, "{prices:?}");
    assert!(prices.first() != prices.last(), "{prices:?}");
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let desc = json(&app, "/api/v1/products?sort=price_desc&limit=50").await;
    let prices: Vec<i64> = desc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price"]["amount"].as_i64().unwrap())
        .collect();
    assert!(prices.len() >= 2, "{prices:?}");
    assert!(prices.first() != prices.last(), "{prices:?}");
    assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{prices:?}");
    let by_name = json(&app, "/api/v1/products?sort=name&limit=50").await;
    let names: Vec<String> = by_name["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    assert!(names.first() != names.last(), "{names:?}");
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");

    // Filters: price range, stock, a property; facets count the other filters only.
    let filtered = json(&app, "/api/v1/products?section=sneakers&price_min=500000&price_max=1000000&in_stock=true&limit=100").await;
    for p in filtered["items"].as_array().unwrap() {
        let (min, max) = (
            p["price"]["amount"].as_i64().unwrap(),
            p["price_max"]
                .as_i64()
                .unwrap_or(p["price"]["amount"].as_i64().unwrap()),
        );
        assert!(
            max >= 500000 && min <= 1000000 && p["in_stock"] == true,
            "{p}"
        );
    }
    let first = json(&app, "/api/v1/products?section=sneakers").await;
    let facets = first["facets"].as_array().unwrap();
    let brand = facets
        .iter()
        .find(|f| f["id"] == "brand")
        .expect("brand facet");
    let top_brand = brand["values"][0]["value"].as_str().unwrap().to_string();
    let top_count = brand["values"][0]["count"].as_u64().unwrap();
    let by_brand = json(
        &app,
        &format!(
            "/api/v1/products?section=sneakers&limit=100&f%5Bbrand%5D={}",
            urlencode(&top_brand)
        ),
    )
    .await;
    assert_eq!(
        by_brand["total"].as_u64().unwrap(),
        top_count,
        "the facet count is the filtered total"
    );
    // Within the brand filter the brand facet still offers the other brands (counts ignore its own filter).
    let brand_after = by_brand["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "brand")
        .unwrap();
    assert_eq!(
        brand_after["values"].as_array().unwrap().len(),
        brand["values"].as_array().unwrap().len()
    );
    assert!(
        first["price_range"]["min"].as_i64().unwrap()
            <= first["price_range"]["max"].as_i64().unwrap()
    );

    // Cursor paging walks the whole list once.
    let mut seen = Vec::new();
    let mut url = "/api/v1/products?sort=price_asc&limit=37".to_string();
    loop {
        let page = json(&app, &url).await;
        if seen.is_empty() {
            assert!(page["facets"].is_array());
        } else {
            assert!(page["facets"].is_null(), "facets on the first page only");
        }
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/products?sort=price_asc&limit=37&cursor={c}"),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no product twice");
    assert_eq!(
        seen.len() as u64,
        json(&app, "/api/v1/products?limit=1").await["total"]
            .as_u64()
            .unwrap()
    );

    // The product card: variants, properties, images, breadcrumbs.
    let id = &seen[0];
    let card = json(&app, &format!("/api/v1/products/{id}")).await;
    assert!(card["offers"].as_array().unwrap().len() >= 2);
    assert!(card["offers"][0]["characteristics"][0]["name"].is_string());
    assert_eq!(card["images"].as_array().unwrap().len(), 2);
    assert_eq!(
        card["sections"].as_array().unwrap().len(),
        2,
        "top section, then its own"
    );
    assert!(
        card["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Бренд")
    );

    // Its thumbnail is served, resized, immutable.
    let thumb = card["images"][0]["thumb"].as_str().unwrap();
    let img = app.get(thumb).await;
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/jpeg");
    assert!(
        img.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let decoded = image::load_from_memory(&img.bytes().await.unwrap()).unwrap();
    assert!(decoded.width() <= 320 && decoded.height() <= 320);
    assert_eq!(
        app.get(&thumb.replace("320x320", "333x333")).await.status(),
        400
    );

    // Seed-compatible routes, in the article's shape: {"items": [{id, name, text, image, price}]}.
    let page = json(&app, "/api/telegram/catalog?page=2").await;
    let seed = page["items"].as_array().unwrap();
    assert_eq!(seed.len(), 20);
    assert_eq!(page.as_object().unwrap().len(), 1, "{page}");
    for item in seed {
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "image", "name", "price", "text"], "{item}");
        assert!(item["price"].as_f64().unwrap() > 0.0 && item["text"].is_string());
        // The demo's ids are text; an image is a path on this server.
        assert!(item["id"].is_string());
        assert!(item["image"].is_null() || item["image"].as_str().unwrap().starts_with("/images/"));
    }
    let seed_one = json(
        &app,
        &format!("/api/telegram/catalog/{}", seed[0]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(seed_one["id"], seed[0]["id"]);
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

store_test!(browse, backend: browse);

#[tokio::test(flavor = "multi_thread")]
async fn search_forgives_forms_typos_and_layout() {
    let (app, _media) = demo_app(Backend::Sqlite).await;
    let top = |list: &Value| {
        list["items"][0]["name"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
    };
    for (q, expect) in [
        ("куртки", "куртка"),
        ("курткп", "куртка"),
        ("rehnrf", "куртка"),
        ("кросовки", "кроссовки"),
        ("cvfhnajy", "смартфон"),
    ] {
        let list = json(&app, &format!("/api/v1/products?q={}", urlencode(q))).await;
        assert!(top(&list).contains(expect), "{q}: {}", list["items"][0]);
    }
    // An article (SKU) finds its product first.
    let card_list = json(&app, "/api/v1/products?sort=name&limit=1").await;
    let id = card_list["items"][0]["id"].as_str().unwrap();
    let article = card_list["items"][0]["article"].as_str().unwrap();
    let hit = json(&app, &format!("/api/v1/products?q={}", urlencode(article))).await;
    assert_eq!(hit["items"][0]["id"], id);
    let suggest = json(&app, "/api/v1/search/suggest?q=%D0%BA%D1%83%D1%80").await; // "кур"
    assert!(
        suggest
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"].as_str().unwrap().starts_with("Куртка")),
        "{suggest}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_name_the_field_and_caching_works() {
    let (app, _media) = demo_app(Backend::Sqlite).await;
    for (query, field) in [
        ("sort=cheapest", "sort"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("price_min=-1", "price_min"),
        ("price_min=10&price_max=5", "price_min"),
        ("in_stock=maybe", "in_stock"),
        ("section=nope", "section"),
        ("cursor=garbage", "cursor"),
        ("f%5Bnope%5D=x", "f[nope]"),
        ("colour=red", "colour"),
    ] {
        let r = app.get(&format!("/api/v1/products?{query}")).await;
        assert_eq!(r.status(), 400, "{query}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_parameter", "{query}");
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    assert_eq!(
        app.get("/api/v1/products/no-such-product").await.status(),
        404
    );

    let r = app.get("/api/v1/products?section=shoes").await;
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let again = app
        .client
        .get(app.url("/api/v1/products?section=shoes"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    app.stop().await;
}

/// Paging that started before a publish finishes after it without repeats.
#[tokio::test(flavor = "multi_thread")]
async fn cursor_survives_a_publish() {
    let (app, media) = demo_app(Backend::Sqlite).await;
    let first = json(&app, "/api/v1/products?sort=name&limit=50").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    // Publish a changes-only package that removes a product from the first page.
    let gone = first["items"][3]["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("import.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><Каталог СодержитТолькоИзменения=\"true\"><Ид>c</Ид><Товары>\
             <Товар Статус=\"Удален\"><Ид>{gone}</Ид><Наименование>x</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"
        ),
    )
    .unwrap();
    let config = vitrina::config::CatalogConfig {
        media_dir: media.path().to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::import::Importer::new(&app.db.store, &config)
        .import_paths(&[dir.path().to_path_buf()], "test")
        .await
        .unwrap();
    wait_for_version(&app, 2).await;
    let second = json(
        &app,
        &format!("/api/v1/products?sort=name&limit=50&cursor={cursor}"),
    )
    .await;
    let before: HashSet<String> = ids(&first).into_iter().collect();
    let after = ids(&second);
    assert!(
        after.iter().all(|id| !before.contains(id)),
        "no repeats across the publish"
    );
    // The page continues right after the last item of page one.
    let all = json(&app, "/api/v1/products?sort=name&limit=100").await;
    let all_ids = ids(&all);
    let last = ids(&first).last().unwrap().clone();
    let pos = all_ids.iter().position(|id| *id == last).unwrap();
    assert_eq!(after[0], all_ids[pos + 1], "no gap");
    assert_eq!(
        app.get(&format!("/api/v1/products/{gone}")).await.status(),
        404
    );
    app.stop().await;
}

/// `/` carries the home screen's first answers, byte for byte what the API gives, so the Mini
/// App paints its catalog without a request; other app routes do not, and the page's ETag
/// follows the catalog version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_carries_the_first_screen() {
    let (app, _media) = demo_app(Backend::Sqlite).await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let etag = page.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.ends_with("-1\""), "the version is in the ETag: {etag}");
    let html = page.text().await.unwrap();
    let sections = app.get("/api/v1/sections").await.text().await.unwrap();
    let products = app
        .get("/api/v1/products?sort=popular&limit=20")
        .await
        .text()
        .await
        .unwrap()
        .replace("</", "<\\/");
    let expected = format!(
        "<script>window.__initial={{\"/api/v1/sections\":{sections},\"/api/v1/products?sort=popular&limit=20\":{products}}}</script>"
    );
    assert!(html.contains(&expected), "the home answers are in the page");
    assert!(
        !html.contains("<link rel=\"stylesheet\""),
        "the stylesheet is inlined"
    );
    // The data goes before the page's own scripts, which read it.
    let data_at = html.find("window.__initial={").unwrap();
    assert!(html[..data_at].matches("<script").count() == 1);

    let again = app
        .client
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let cart = app.get("/cart").await.text().await.unwrap();
    assert!(!cart.contains("window.__initial={"));
    app.stop().await;
}

/// One GET with optional `Accept-Encoding`: status, headers, body as sent (not decoded).
async fn raw(
    app: &TestApp,
    path: &str,
    encoding: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(e) = encoding {
        request = request.header("accept-encoding", e);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Every first page (the default listing and each section, with facets and the price range)
/// and the section tree come ready-made, byte for byte what the computed path gives; the gzip
/// variant decodes to the same bytes; ETags revalidate. `_=…` makes the same request miss the
/// ready answers, so it goes through the computed path.
async fn ready_answers_match_the_computed_path(app: &TestApp) -> usize {
    let version = json(app, "/api/v1/products?limit=1").await["catalog_version"].clone();
    let snapshot = std::sync::Arc::new(
        vitrina::catalog::snapshot::Snapshot::load(&app.db.store)
            .await
            .unwrap(),
    );
    assert_eq!(version, snapshot.version);
    let ready = vitrina::catalog::ready::Ready::build(&snapshot);
    let mut keys: Vec<&str> = ready.keys().collect();
    keys.sort();
    assert_eq!(
        keys.len(),
        snapshot.sections.len() + 2,
        "sections, home, every section"
    );
    for key in keys {
        let path = format!("/api/v1/{key}");
        let bust = if key.contains('?') { "&_=1" } else { "?_=1" };
        let (status, ready_headers, ready_body) = raw(app, &path, None).await;
        assert_eq!(status, 200, "{path}");
        let (_, computed_headers, computed_body) = raw(app, &format!("{path}{bust}"), None).await;
        assert_eq!(
            String::from_utf8_lossy(&ready_body),
            String::from_utf8_lossy(&computed_body),
            "{path}"
        );
        for h in ["content-type", "cache-control"] {
            assert_eq!(ready_headers.get(h), computed_headers.get(h), "{path} {h}");
        }
        // The ready answer is the one built for this snapshot (same bytes as in-process).
        let in_process = ready
            .respond(key, &axum::http::HeaderMap::new())
            .expect("ready answer");
        let body = axum::body::to_bytes(in_process.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body.as_ref(), ready_body.as_slice(), "{path}");

        // gzip: prepared, so it has a length (tower-http's on-the-fly gzip streams).
        let (_, gz_headers, gz_body) = raw(app, &path, Some("gzip, deflate, br")).await;
        assert_eq!(
            gz_headers.get("content-encoding").unwrap(),
            "gzip",
            "{path}"
        );
        assert!(
            gz_headers.get("content-length").is_some(),
            "{path}: prepared gzip"
        );
        assert_eq!(gunzip(&gz_body), ready_body, "{path}");

        // Revalidation with the ETag.
        let tag = ready_headers.get("etag").expect("etag").to_str().unwrap();
        let r = app
            .client
            .get(app.url(&path))
            .header("if-none-match", tag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{path}");
        assert_eq!(r.headers().get("etag").unwrap(), tag);
    }
    snapshot.sections.len()
}

/// Ready answers on both databases, and on two instances of one shop across a publish: each
/// instance replaces its ready answers with the new version's (the deleted product is gone
/// from page one everywhere, and ready and computed bytes still agree).
async fn ready_answers(backend: Backend) {
    let (app, media) = demo_app(backend).await;
    let other = TestApp::spawn_on(
        vitrina::store::testing::TestDb::sharing(&app.db).await,
        |_| {},
    )
    .await;
    wait_for_version(&other, 1).await;
    let sections = ready_answers_match_the_computed_path(&app).await;
    assert!(sections > 0);
    let home = json(&app, "/api/v1/products?sort=popular&limit=20").await;
    assert_eq!(
        home,
        json(&other, "/api/v1/products?sort=popular&limit=20").await
    );

    // Publish a version without the first product of the home page.
    let gone = home["items"][0]["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("import.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.05\"><Каталог СодержитТолькоИзменения=\"true\"><Ид>c</Ид><Товары>\
             <Товар Статус=\"Удален\"><Ид>{gone}</Ид><Наименование>x</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"
        ),
    )
    .unwrap();
    let config = vitrina::config::CatalogConfig {
        media_dir: media.path().to_path_buf(),
        ..Default::default()
    };
    vitrina::catalog::import::Importer::new(&app.db.store, &config)
        .import_paths(&[dir.path().to_path_buf()], "test")
        .await
        .unwrap();
    for instance in [&app, &other] {
        wait_for_version(instance, 2).await;
        let page = json(instance, "/api/v1/products?sort=popular&limit=20").await;
        assert_eq!(page["catalog_version"], 2);
        assert!(!ids(&page).contains(&gone), "the new version's page one");
        ready_answers_match_the_computed_path(instance).await;
    }
    other.stop().await;
    app.stop().await;
}

store_test!(ready_answers, backend: ready_answers);

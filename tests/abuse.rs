//! The public under abuse, through the real HTTP stack: floods get `429 rate_limited` with
//! `Retry-After` while customers behind the same address keep shopping, the 1C exchange locks
//! out a guessing address but not 1C, and nothing a client sends grows `/metrics`.
//!
//! Rate limits are per instance and in memory, so these run on SQLite only; what they guard
//! (sign-in, checkout) is tested on both backends elsewhere.

mod common;

use std::time::{Duration, Instant};

use common::bot::seeded_db;
use common::{TestApp, dev_init_data as init_data};
use futures_util::StreamExt;
use serde_json::{Value, json};
use vitrina::auth::DEMO_BOT_TOKEN;
use vitrina::config::{Config, Secret};
use vitrina::store::Backend;

async fn shop(tweak: impl FnOnce(&mut Config) + Send + 'static) -> (TestApp, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let db = seeded_db(Backend::Sqlite, media.path()).await;
    let dir = media.path().to_path_buf();
    let app = TestApp::spawn_on(db, move |c| {
        c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
        c.catalog.media_dir = dir;
        tweak(c);
    })
    .await;
    (app, media)
}

/// One request as a client at `ip` (behind the trusted proxy on 127.0.0.1).
fn from(app: &TestApp, ip: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .header("x-forwarded-for", ip)
}

/// Sends `n` requests, `concurrency` at a time; their statuses and Retry-After headers.
async fn flood(
    n: usize,
    concurrency: usize,
    make: impl Fn(usize) -> reqwest::RequestBuilder,
) -> Vec<(u16, Option<u64>, Value)> {
    futures_util::stream::iter((0..n).map(|i| {
        let request = make(i);
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let body = if status == 429 {
                let ct = r.headers()["content-type"].to_str().unwrap().to_string();
                assert_eq!(ct, "application/problem+json");
                r.json().await.unwrap()
            } else {
                let _ = r.bytes().await;
                Value::Null
            };
            (status, retry, body)
        }
    }))
    .buffer_unordered(concurrency)
    .collect()
    .await
}

fn count(results: &[(u16, Option<u64>, Value)], status: u16) -> usize {
    results.iter().filter(|r| r.0 == status).count()
}

/// Every 429 is problem `rate_limited` with a `Retry-After` of 1 to `max` seconds.
fn assert_well_formed_429s(results: &[(u16, Option<u64>, Value)], max: u64) {
    for (status, retry, body) in results {
        if *status == 429 {
            assert_eq!(body["code"], "rate_limited", "{body}");
            assert!(
                retry.is_some_and(|s| (1..=max).contains(&s)),
                "Retry-After: {retry:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_flood_is_stopped() {
    let (app, _media) = shop(|_| {}).await;
    let started = Instant::now();
    let init = init_data(5001);
    let results = flood(300, 32, |_| {
        from(&app, "198.51.100.1", reqwest::Method::POST, "/api/v1/auth")
            .json(&json!({ "init_data": init }))
    })
    .await;
    let elapsed = started.elapsed();
    let (ok, limited) = (count(&results, 200), count(&results, 429));
    // A burst of 20 and half a sign-in per second after it.
    let allowed = 20 + (elapsed.as_secs_f64() * 0.5).ceil() as usize + 1;
    assert!(
        ok >= 20 && ok <= allowed,
        "{ok} sign-ins let through in {elapsed:?}"
    );
    assert_eq!(ok + limited, 300, "only 200 and 429");
    assert_well_formed_429s(&results, 60);

    // Forged initData from another address: refused, then limited; nothing else reaches it.
    let started = Instant::now();
    let forged = flood(300, 32, |i| {
        from(&app, "198.51.100.2", reqwest::Method::POST, "/api/v1/auth")
            .json(&json!({ "init_data": format!("user=%7B%22id%22%3A{i}%7D&auth_date=1&hash={}", "0".repeat(64)) }))
    })
    .await;
    let refused = count(&forged, 401);
    let allowed = 60 + started.elapsed().as_secs_f64().ceil() as usize + 1;
    assert!(
        refused >= 60 && refused <= allowed,
        "{refused} refusals before the limit"
    );
    assert_eq!(count(&forged, 401) + count(&forged, 429), 300);
    assert_well_formed_429s(&forged, 60);
    // A customer at a third address signs in as usual.
    let r = from(&app, "198.51.100.3", reqwest::Method::POST, "/api/v1/auth")
        .json(&json!({ "init_data": init_data(5002) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkout_flood_is_stopped() {
    let (app, _media) = shop(|_| {}).await;
    let authz = format!("tma {}", init_data(5101));
    let offer: String = sqlx::query_scalar(
        "SELECT id FROM offers WHERE price IS NOT NULL ORDER BY stock_milli DESC LIMIT 1",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    let r = from(
        &app,
        "198.51.100.10",
        reqwest::Method::POST,
        "/api/v1/cart/items",
    )
    .header("authorization", &authz)
    .json(&json!({"offer_id": offer, "quantity": 1}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body = json!({
        "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
        "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
        "payment_method": "on_receipt"
    });
    let started = Instant::now();
    let results = flood(300, 32, |i| {
        from(
            &app,
            "198.51.100.10",
            reqwest::Method::POST,
            "/api/v1/orders",
        )
        .header("authorization", &authz)
        .header("idempotency-key", format!("flood-{i}"))
        .json(&body)
    })
    .await;
    let elapsed = started.elapsed();
    let limited = count(&results, 429);
    let through = 300 - limited;
    assert!(
        through >= 10 && through <= 10 + (elapsed.as_secs_f64() * 0.2).ceil() as usize + 1,
        "{through} checkouts reached the handler in {elapsed:?}"
    );
    assert_eq!(
        count(&results, 201),
        1,
        "one order; the others found the cart empty"
    );
    assert_well_formed_429s(&results, 60);
    // Another customer behind the same address is not affected.
    let r = from(&app, "198.51.100.10", reqwest::Method::GET, "/api/v1/cart")
        .header("authorization", format!("tma {}", init_data(5102)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

/// Customers behind one carrier NAT address browse as phones do (first page with facets, a
/// scroll of pages with their thumbnails, products with large pictures, the cart, checkout)
/// at the same time: none of them meets a limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customers_behind_one_address_are_never_limited() {
    let (app, _media) = shop(|_| {}).await;
    let nat = "203.0.113.50";
    let customers = (0..5u64).map(|n| {
        let app = &app;
        async move {
            let authz = format!("tma {}", init_data(5200 + n));
            let mut statuses = Vec::new();
            let get = |path: String| {
                from(app, nat, reqwest::Method::GET, &path).header("authorization", authz.clone())
            };
            statuses.push(get("/api/v1/sections".into()).send().await.unwrap().status().as_u16());
            let mut cursor: Option<String> = None;
            let mut products = Vec::new();
            for _page in 0..15 {
                let path = match &cursor {
                    Some(c) => format!("/api/v1/products?sort=popular&limit=20&cursor={c}"),
                    None => "/api/v1/products?sort=popular&limit=20".into(),
                };
                let r = get(path).send().await.unwrap();
                statuses.push(r.status().as_u16());
                let page: Value = r.json().await.unwrap_or(Value::Null);
                let items = page["items"].as_array().cloned().unwrap_or_default();
                let thumbs = futures_util::future::join_all(items.iter().filter_map(|p| {
                    p["image"].as_str().map(|i| get(i.to_string()).send())
                }))
                .await;
                statuses.extend(thumbs.into_iter().map(|r| r.unwrap().status().as_u16()));
                products.extend(items.iter().filter_map(|p| p["id"].as_str().map(str::to_string)));
                cursor = page["next_cursor"].as_str().map(str::to_string);
                if cursor.is_none() {
                    break;
                }
            }
            let mut offer = None;
            for id in products.iter().take(5) {
                let r = get(format!("/api/v1/products/{}", id.replace('#', "%23")))
                    .send()
                    .await
                    .unwrap();
                statuses.push(r.status().as_u16());
                let card: Value = r.json().await.unwrap_or(Value::Null);
                for img in card["images"].as_array().into_iter().flatten().take(2) {
                    let r = get(img["large"].as_str().unwrap().to_string()).send().await.unwrap();
                    statuses.push(r.status().as_u16());
                }
                if offer.is_none() {
                    offer = card["offers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|o| o["in_stock"] == true)
                        .and_then(|o| o["id"].as_str().map(str::to_string));
                }
            }
            let r = from(app, nat, reqwest::Method::POST, "/api/v1/cart/items")
                .header("authorization", &authz)
                .json(&json!({"offer_id": offer.unwrap(), "quantity": 1}))
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
            statuses.push(get("/api/v1/cart".into()).send().await.unwrap().status().as_u16());
            statuses.push(get("/api/v1/checkout/options".into()).send().await.unwrap().status().as_u16());
            let r = from(app, nat, reqwest::Method::POST, "/api/v1/orders")
                .header("authorization", &authz)
                .header("idempotency-key", format!("nat-{n}"))
                .json(&json!({
                    "contact": {"name": "Анна", "phone": "+7 999 123-45-67"},
                    "delivery": {"method": "pickup", "pickup_point": "Москва, ул. Примерная, 1 (10:00–21:00)"},
                    "payment_method": "on_receipt"
                }))
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
            statuses.push(get("/api/v1/orders".into()).send().await.unwrap().status().as_u16());
            statuses
        }
    });
    let all: Vec<u16> = futures_util::future::join_all(customers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(all.len() > 500, "a real browse: {} requests", all.len());
    let bad: Vec<&u16> = all.iter().filter(|s| !matches!(s, 200 | 201)).collect();
    assert!(
        bad.is_empty(),
        "{} of {} not OK: {bad:?}",
        bad.len(),
        all.len()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_anonymous_flood_from_one_address_is_limited_alone() {
    let (app, _media) = shop(|c| {
        // A burst and hardly any refill, so that a slow machine cannot change the count.
        c.rate_limit.anonymous_burst = 200;
        c.rate_limit.anonymous_per_second = 0.001;
    })
    .await;
    let results = flood(600, 32, |i| {
        from(
            &app,
            "2001:db8:aa:bb::1",
            reqwest::Method::GET,
            &format!("/api/v1/search/suggest?q=кур{i}"),
        )
    })
    .await;
    assert_eq!(count(&results, 429), 400, "a burst of 200, then refused");
    assert_eq!(count(&results, 200) + count(&results, 429), 600);
    assert_well_formed_429s(&results, 1000); // a token every 1000 s
    // The same /64: the same budget. Another address: its own.
    let r = from(
        &app,
        "2001:db8:aa:bb:ffff::9",
        reqwest::Method::GET,
        "/api/v1/sections",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 429);
    let r = from(
        &app,
        "2001:db8:aa:bc::1",
        reqwest::Method::GET,
        "/api/v1/sections",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // A client that writes its own X-Forwarded-For is not believed: vitrina sees 127.0.0.1.
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_methods_do_not_grow_metrics() {
    let (app, _media) = shop(|_| {}).await;
    let results = flood(400, 16, |i| {
        let method = reqwest::Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        let path = ["/", "/api/v1/products", "/no/such/path", "/api/v1/cart"][i % 4];
        from(&app, &format!("192.0.2.{}", i % 200), method, path)
    })
    .await;
    assert!(results.iter().all(|r| r.0 < 500), "never a 5xx");
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(!text.contains("FOO"), "a client's method became a label");
    assert!(text.contains("method=\"other\""));
    let series = text
        .lines()
        .filter(|l| l.starts_with("vitrina_http_requests_total{"))
        .count();
    assert!(
        series <= 12,
        "{series} request series after 400 random methods:\n{text}"
    );
    app.stop().await;
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn checkauth(app: &TestApp, ip: &str, password: &str) -> (u16, Option<u64>, String) {
    let r = from(
        app,
        ip,
        reqwest::Method::GET,
        "/1c/exchange?type=catalog&mode=checkauth",
    )
    .header("authorization", basic("1c", password))
    .send()
    .await
    .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = r.bytes().await.unwrap();
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&bytes);
    (status, retry, text.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exchange_1c_locks_out_a_guessing_address_but_not_1c() {
    let (app, _media) = shop(|c| {
        c.exchange_1c.user = Some("1c".into());
        c.exchange_1c.password = Some(Secret::new("пароль-1c"));
        c.exchange_1c.file_limit = 64 * 1024;
        c.exchange_1c.lockout_after = 3;
        // Seconds, not less: a loaded machine must not outwait a lockout between two requests.
        c.exchange_1c.lockout = Duration::from_secs(4);
        c.exchange_1c.lockout_max = Duration::from_secs(32);
    })
    .await;
    let (attacker, one_c) = ("198.51.100.66", "203.0.113.10");
    for _ in 0..3 {
        assert_eq!(checkauth(&app, attacker, "guess").await.0, 401);
    }
    let (status, retry, text) = checkauth(&app, attacker, "guess").await;
    assert_eq!(status, 429, "{text}");
    assert!(retry.is_some_and(|s| (1..=4).contains(&s)), "{retry:?}");
    assert!(
        text.starts_with("failure\n"),
        "a protocol answer 1C shows: {text}"
    );
    // Even the right password waits out the lockout there...
    assert_eq!(checkauth(&app, attacker, "пароль-1c").await.0, 429);
    // ...while 1C at its own address works all along.
    let (status, _, text) = checkauth(&app, one_c, "пароль-1c").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with("success\n"));
    // The second lockout of the attacker is twice as long.
    tokio::time::sleep(Duration::from_millis(4100)).await;
    for _ in 0..3 {
        assert_eq!(checkauth(&app, attacker, "guess").await.0, 401);
    }
    let retry = checkauth(&app, attacker, "guess").await.1;
    assert!(retry.is_some_and(|s| (5..=8).contains(&s)), "{retry:?}");
    tokio::time::sleep(Duration::from_millis(8100)).await;
    // Once it is over the right password works from there too, and clears the record.
    assert_eq!(checkauth(&app, attacker, "пароль-1c").await.0, 200);
    assert_eq!(checkauth(&app, attacker, "guess").await.0, 401);
    assert_eq!(checkauth(&app, attacker, "guess").await.0, 401);
    assert_eq!(checkauth(&app, attacker, "guess").await.0, 401);
    let retry = checkauth(&app, attacker, "guess").await.1;
    assert!(
        retry.is_some_and(|s| (1..=4).contains(&s)),
        "a fresh record starts from the shortest lockout: {retry:?}"
    );

    // A body is not read before the caller is known: a part far over file_limit without a
    // session is answered 401 (not 413, which reading it first would give).
    let r = from(
        &app,
        one_c,
        reqwest::Method::POST,
        "/1c/exchange?type=catalog&mode=file&filename=import.xml",
    )
    // Over file_limit + 64 KiB (what reading it would allow), small enough to be sent whole
    // into the socket before the answer comes.
    .body(vec![b'x'; 192 * 1024])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

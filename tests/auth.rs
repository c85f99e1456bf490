//! Telegram identity through the real HTTP stack: initData, session tokens, the customer.

mod common;

use std::time::{Duration, SystemTime};

use common::TestApp;
use serde_json::{Value, json};
use vitrina::auth::{Auth, DEMO_BOT_TOKEN, DevUser};
use vitrina::config::Secret;
use vitrina::store::Backend;
use vitrina::store_test;

fn user(id: u64) -> DevUser {
    DevUser {
        id,
        first_name: "Анна".into(),
        last_name: Some("Петрова".into()),
        username: Some("anna_p".into()),
        language_code: "ru".into(),
        start_param: Some("product_42".into()),
    }
}

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN))
    })
    .await
}

async fn get_me(app: &TestApp, authorization: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/me"))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap()
}

async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

async fn signs_in_and_links_customer(backend: Backend) {
    let app = spawn(backend).await;
    let init = Auth::dev_init_data(&user(7001), SystemTime::now());
    let response = get_me(&app, &format!("tma {init}")).await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["telegram_id"], 7001);
    assert_eq!(me["first_name"], "Анна");
    assert_eq!(me["username"], "anna_p");
    assert_eq!(me["language_code"], "ru");
    assert_eq!(me["allows_write_to_pm"], true);

    // Same user again: the same customer, not a new one.
    let again: Value = get_me(&app, &format!("tma {init}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], me["id"]);
    // A changed profile (new username) is written through.
    let mut renamed = user(7001);
    renamed.username = Some("anna_new".into());
    let init2 = Auth::dev_init_data(&renamed, SystemTime::now());
    let updated: Value = get_me(&app, &format!("tma {init2}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["id"], me["id"]);
    assert_eq!(updated["username"], "anna_new");
    assert_eq!(
        vitrina::auth::customer_count(&app.db.store).await.unwrap(),
        1
    );

    // Another Telegram user is another customer.
    let other: Value = get_me(
        &app,
        &format!(
            "tma {}",
            Auth::dev_init_data(&user(7002), SystemTime::now())
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_ne!(other["id"], me["id"]);

    // Session token: POST /api/v1/auth, then Bearer.
    let response = app
        .client
        .post(app.url("/api/v1/auth"))
        .json(&json!({ "init_data": init }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let auth: Value = response.json().await.unwrap();
    assert_eq!(auth["customer"]["id"], me["id"]);
    let token = auth["token"].as_str().unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let exp = auth["expires_at"].as_u64().unwrap();
    assert!(
        (now + 3590..=now + 3610).contains(&exp),
        "default token lifetime is 1 h"
    );
    let via_token: Value = get_me(&app, &format!("Bearer {token}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(via_token["id"], me["id"]);
    app.stop().await;
}

store_test!(signs_in_and_links_customer, backend: signs_in_and_links_customer);

#[tokio::test]
async fn every_rejection_has_its_code() {
    let app = spawn(Backend::Sqlite).await;
    let init = Auth::dev_init_data(&user(7003), SystemTime::now());

    let response = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(code_of(response).await, (401, "auth_missing".into()));
    assert_eq!(
        code_of(get_me(&app, "Basic dXNlcjpwYXNz").await).await,
        (401, "auth_malformed".into())
    );
    assert_eq!(
        code_of(get_me(&app, "tma not-init-data").await).await,
        (401, "auth_malformed".into())
    );

    // One character of the user JSON changed: the hash no longer matches.
    let tampered = init.replacen("7003", "7004", 1);
    assert_ne!(tampered, init);
    assert_eq!(
        code_of(get_me(&app, &format!("tma {tampered}")).await).await,
        (401, "auth_bad_signature".into())
    );

    // Signed by another bot.
    let foreign = initdata::sign(
        "999:another-bots-token",
        &[("auth_date", "1700000000"), ("user", "{\"id\":1}")],
    );
    assert_eq!(
        code_of(get_me(&app, &format!("tma {foreign}")).await).await,
        (401, "auth_bad_signature".into())
    );

    let old = Auth::dev_init_data(
        &user(7003),
        SystemTime::now() - Duration::from_secs(2 * 86400),
    );
    assert_eq!(
        code_of(get_me(&app, &format!("tma {old}")).await).await,
        (401, "auth_expired".into())
    );
    let future = Auth::dev_init_data(&user(7003), SystemTime::now() + Duration::from_secs(3600));
    assert_eq!(
        code_of(get_me(&app, &format!("tma {future}")).await).await,
        (401, "auth_expired".into())
    );

    assert_eq!(
        code_of(get_me(&app, "Bearer not.a.token").await).await,
        (401, "auth_malformed".into())
    );
    let auth: Value = app
        .client
        .post(app.url("/api/v1/auth"))
        .json(&json!({ "init_data": init }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = auth["token"].as_str().unwrap();
    let (head, sig) = token.rsplit_once('.').unwrap();
    let flipped = format!(
        "{head}.{}{}",
        if sig.starts_with('A') { 'B' } else { 'A' },
        &sig[1..]
    );
    assert_eq!(
        code_of(get_me(&app, &format!("Bearer {flipped}")).await).await,
        (401, "auth_bad_signature".into())
    );

    let response = app
        .client
        .post(app.url("/api/v1/auth"))
        .json(&json!({ "init_data": tampered }))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(response).await, (401, "auth_bad_signature".into()));
    let response = app
        .client
        .post(app.url("/api/v1/auth"))
        .json(&json!({ "nope": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(
        vitrina::auth::customer_count(&app.db.store).await.unwrap(),
        1,
        "only the one valid sign-in made a customer"
    );
    app.stop().await;
}

#[tokio::test]
async fn profile_update_validates_fields() {
    let app = spawn(Backend::Sqlite).await;
    let authz = format!(
        "tma {}",
        Auth::dev_init_data(&user(7005), SystemTime::now())
    );
    let patch = |body: Value| {
        app.client
            .patch(app.url("/api/v1/me"))
            .header("authorization", &authz)
            .json(&body)
            .send()
    };

    let response = patch(json!({ "phone": "call me", "language_code": "de" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["phone", "language_code"]);

    let me: Value = patch(json!({ "phone": "8 (999) 123-45-67", "language_code": "en" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["phone"], "+79991234567");
    assert_eq!(me["language_code"], "en");
    let me: Value = patch(json!({ "phone": "" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["phone"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn seed_auth_route_answers_token() {
    let app = spawn(Backend::Sqlite).await;
    let init = Auth::dev_init_data(&user(7006), SystemTime::now());
    let body: Value = app
        .client
        .post(app.url("/api/telegram/auth"))
        .json(&json!({ "init_data": init }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(get_me(&app, &format!("Bearer {token}")).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn dev_init_data_only_in_dev_mode() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
        c.dev.enabled = true;
    })
    .await;
    let dev: Value = app
        .get("/dev/init-data?id=555&first_name=Ivan&language_code=en")
        .await
        .json()
        .await
        .unwrap();
    let me: Value = get_me(&app, dev["authorization"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["telegram_id"], 555);
    assert_eq!(me["first_name"], "Ivan");
    app.stop().await;

    let app = spawn(Backend::Sqlite).await;
    assert_eq!(app.get("/dev/init-data").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn no_bot_configured_answers_503_not_500() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let init = Auth::dev_init_data(&user(1), SystemTime::now());
    assert_eq!(
        code_of(get_me(&app, &format!("tma {init}")).await).await,
        (503, "auth_not_configured".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn instances_share_the_session_key() {
    let db = vitrina::store::testing::TestDb::postgres().await;
    let mut config = vitrina::config::Config::default();
    config.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
    let a = Auth::new(&config, db.store.clone()).await.unwrap();
    let b = Auth::new(&config, db.store.clone()).await.unwrap();
    let init = Auth::dev_init_data(&user(8001), SystemTime::now());
    let customer = a.sign_in(&init).await.unwrap();
    let token = a.issue_token(&customer).unwrap().token;
    let seen = b
        .authenticate(Some(&format!("Bearer {token}")))
        .await
        .unwrap();
    assert_eq!(seen.id, customer.id);
}

/// Clients before Bot API 8.0 send initData without Telegram's `signature`: with the HMAC
/// check (the default) it is accepted as it is, the way such a client sends it.
#[tokio::test]
async fn init_data_without_signature_from_older_clients() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
        c.dev.enabled = true;
    })
    .await;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    // As a 6.x client builds it: query_id, a user with `\/` escapes, auth_date, hash.
    let user = r#"{"id":7101,"first_name":"Пётр","language_code":"ru","photo_url":"https:\/\/t.me\/i\/userpic\/320\/p.jpg"}"#;
    let legacy = initdata::sign(
        DEMO_BOT_TOKEN,
        &[
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", user),
            ("auth_date", &now),
        ],
    );
    assert!(!legacy.contains("signature="));
    let response = get_me(&app, &format!("tma {legacy}")).await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["telegram_id"], 7101);
    assert_eq!(me["photo_url"], "https://t.me/i/userpic/320/p.jpg");

    // The dev sign-in mints the same for the browser tests.
    let dev: Value = app
        .get("/dev/init-data?id=7102&signature=false")
        .await
        .json()
        .await
        .unwrap();
    let init = dev["init_data"].as_str().unwrap();
    assert!(!init.contains("signature="), "{init}");
    assert!(init.contains("hash="));
    let response = get_me(&app, dev["authorization"].as_str().unwrap()).await;
    assert_eq!(response.status(), 200);
    app.stop().await;
}

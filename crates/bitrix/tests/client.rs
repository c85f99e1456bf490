//! The client against the project's fake portal.

use std::time::Duration;

use bitrix::{Client, Command, Error, Safety, Settings};
use fake_bitrix::{FakeBitrix, Limits};
use serde_json::json;

const CODE: &str = "s3cr3tw3bh00kc0de";

fn fast() -> Settings {
    Settings {
        burst: 50,
        per_second: 1000.0,
        timeout: Duration::from_secs(5),
        attempts: 6,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
    }
}

async fn fake(limits: Limits) -> (FakeBitrix, Client) {
    let fake = FakeBitrix::start(CODE, limits).await.expect("fake starts");
    let client = Client::new(&fake.webhook_url, fast()).expect("client");
    (fake, client)
}

fn roomy() -> Limits {
    Limits {
        burst: 1000,
        per_second: 1000.0,
    }
}

#[tokio::test]
async fn envelopes_and_errors() {
    let (_fake, client) = fake(roomy()).await;
    let scope = client
        .call("scope", &json!({}), Safety::Safe)
        .await
        .unwrap();
    assert!(
        scope
            .result
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "catalog")
    );
    let err = client
        .call("no.such.method", &json!({}), Safety::Safe)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ERROR_METHOD_NOT_FOUND"));
    let bad = Client::new(&_fake.webhook_url.replace(CODE, "wrong"), fast()).unwrap();
    let err = bad
        .call("scope", &json!({}), Safety::Safe)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("INVALID_CREDENTIALS"));
    assert!(!format!("{err} {err:?} {client:?}").contains(CODE));
}

#[tokio::test]
async fn list_all_pages_through_batches_with_the_minimum_of_requests() {
    let (fake, client) = fake(roomy()).await;
    fake.seed_catalog(3, 10_000);
    let mut ids = Vec::new();
    let n = client
        .list_all(
            "catalog.product.list",
            &json!({"select": ["id", "name"], "filter": {"iblockId": fake_bitrix::CATALOG_IBLOCK}, "order": {"id": "ASC"}}),
            |page| ids.extend(page.into_iter().map(|p| p["id"].as_i64().unwrap())),
        )
        .await
        .unwrap();
    assert_eq!(n, 10_000);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10_000);
    // One page to learn the total, then 199 pages in ceil(199 / 50) = 4 batches.
    assert_eq!(client.requests(), 5);
    assert_eq!(fake.requests(), 5);
}

#[tokio::test]
async fn list_by_id_uses_the_cursor_without_counting() {
    let (fake, client) = fake(roomy()).await;
    fake.seed_catalog(1, 120);
    let mut ids = Vec::new();
    client
        .list_by_id(
            "catalog.product.list",
            &json!({"select": ["id"], "filter": {"iblockId": fake_bitrix::CATALOG_IBLOCK}}),
            "id",
            |page| ids.extend(page.into_iter().map(|p| p["id"].as_i64().unwrap())),
        )
        .await
        .unwrap();
    assert_eq!(ids, (1..=120).collect::<Vec<_>>());
    let calls = fake.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[1].params["filter"][">id"], json!(50));
    assert_eq!(calls[1].params["start"], json!(-1));
}

#[tokio::test]
async fn batch_reports_per_command_errors_and_refuses_more_than_50() {
    let (fake, client) = fake(roomy()).await;
    fake.seed_catalog(1, 10);
    fake.fail_next_commands("catalog.section.list", 1, "ACCESS_DENIED");
    let answer = client
        .batch(
            &[
                Command::new(
                    "a",
                    "catalog.product.list",
                    json!({"filter": {"iblockId": 25, ">id": 5}}),
                ),
                Command::new("b", "catalog.section.list", json!({})),
                Command::new("c", "no.such", json!({})),
            ],
            false,
            Safety::Safe,
        )
        .await
        .unwrap();
    assert_eq!(bitrix::items(answer.get("a").unwrap()).len(), 5);
    assert_eq!(answer.total("a"), Some(5));
    assert_eq!(answer.get("b").unwrap_err().code(), Some("ACCESS_DENIED"));
    assert_eq!(
        answer.get("c").unwrap_err().code(),
        Some("ERROR_METHOD_NOT_FOUND")
    );
    let many: Vec<Command> = (0..51)
        .map(|i| Command::new(format!("k{i}"), "scope", json!({})))
        .collect();
    assert!(matches!(
        client.batch(&many, false, Safety::Safe).await,
        Err(Error::BatchTooLarge(51))
    ));
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    // The portal's bucket is smaller than the client thinks: it refuses, the client backs off.
    let (fake, client) = fake(Limits {
        burst: 3,
        per_second: 100.0,
    })
    .await;
    for _ in 0..20 {
        client
            .call("scope", &json!({}), Safety::Unsafe)
            .await
            .unwrap();
    }
    assert!(fake.refused() > 0, "the fake's bucket refused some");
    assert!(
        client
            .stats()
            .limited
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    // Injected limits of both kinds, on a create: refused requests did not run, so they repeat.
    fake.fail_next(2, bitrix::QUERY_LIMIT_EXCEEDED);
    fake.fail_next(1, bitrix::OPERATION_TIME_LIMIT);
    let answer = client
        .call(
            "user.add",
            &json!({"fields": {"LOGIN": "tg_1", "EMAIL": "a@b.c"}}),
            Safety::Unsafe,
        )
        .await
        .unwrap();
    assert_eq!(answer.result, json!(1));
    assert_eq!(fake.rows("users").len(), 1);
}

#[tokio::test]
async fn client_side_bucket_keeps_under_the_portal_limit() {
    let (fake, _) = fake(Limits {
        burst: 5,
        per_second: 50.0,
    })
    .await;
    let client = Client::new(
        &fake.webhook_url,
        Settings {
            burst: 5,
            per_second: 50.0,
            ..fast()
        },
    )
    .unwrap();
    for _ in 0..30 {
        client
            .call("scope", &json!({}), Safety::Safe)
            .await
            .unwrap();
    }
    assert_eq!(fake.refused(), 0);
}

#[tokio::test]
async fn outages_retry_safe_calls_only() {
    let (fake, client) = fake(roomy()).await;
    fake.set_down(true);
    let err = client
        .call(
            "user.add",
            &json!({"fields": {"LOGIN": "x", "EMAIL": "x@y.z"}}),
            Safety::Unsafe,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Uncertain(_)), "{err:?}");
    assert_eq!(fake.requests(), 1, "a create is not repeated blindly");
    let err = client
        .call("scope", &json!({}), Safety::Safe)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(fake.requests(), 1 + 6);
    fake.set_down(false);
    fake.fail_next(1, "INTERNAL_SERVER_ERROR");
    client
        .call("scope", &json!({}), Safety::Safe)
        .await
        .unwrap();
}

/// Numeric error codes (the catalog module's) are errors too, alone and inside a batch.
#[tokio::test]
async fn numeric_error_codes() {
    let (fake, client) = fake(roomy()).await;
    fake.seed_catalog(1, 3);
    let err = client
        .call("catalog.productImage.list", &json!({}), Safety::Safe)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("100"));
    let answer = client
        .batch(
            &[
                Command::new(
                    "gone",
                    "catalog.productImage.list",
                    json!({"productId": 99}),
                ),
                Command::new("ok", "catalog.productImage.list", json!({"productId": 2})),
            ],
            false,
            Safety::Safe,
        )
        .await
        .unwrap();
    assert_eq!(answer.get("gone").unwrap_err().code(), Some("0"));
    assert!(bitrix::items(answer.get("ok").unwrap()).is_empty());
}

/// Picture files: a `detailUrl` relative to the portal, fetched outside the REST budget, 5xx
/// retried, a 404 or an oversized file not, the webhook never in the error.
#[tokio::test]
async fn downloads_files_from_the_portal() {
    let (fake, client) = fake(roomy()).await;
    fake.seed_catalog(1, 2);
    fake.seed_pictures([1], 0);
    let answer = client
        .call(
            "catalog.productImage.list",
            &json!({"productId": 1, "select": ["id", "type", "detailUrl"]}),
            Safety::Safe,
        )
        .await
        .unwrap();
    let images = bitrix::items(&answer.result);
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["type"], "DETAIL_PICTURE");
    let url = images[0]["detailUrl"].as_str().unwrap();
    assert!(url.starts_with("/upload/iblock/"), "{url}");
    let requests = client.requests();

    fake.fail_next_downloads(2, 503);
    let bytes = client.download(url, 1 << 20).await.unwrap();
    assert_eq!(Some(bytes), fake.picture_file(url));
    assert_eq!(client.requests(), requests, "not REST requests");

    let err = client
        .download("/upload/iblock/nothing.jpg", 1 << 20)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::File {
                transient: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    let err = client.download(url, 10).await.unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
    fake.fail_next_downloads(3, 502);
    let err = client.download(url, 1 << 20).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::File {
                transient: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains(CODE));
}

//! A 1C:Enterprise exchange session against the real server: checkauth, init, a zip uploaded in
//! several parts, import polled until success; the catalog is published.

mod common;

use std::io::Write;
use std::time::Duration;

use common::TestApp;
use sqlx::Row;
use vitrina::config::Secret;
use vitrina::store::Backend;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/commerceml/tests/fixtures"
);

fn package_zip() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for name in ["import.xml", "offers.xml"] {
            zip.start_file(name, options).unwrap();
            zip.write_all(&std::fs::read(format!("{FIXTURES}/v2.04/{name}")).unwrap())
                .unwrap();
        }
        zip.start_file(
            "import_files/97/97136fc58efe11df9958003018a4a92f_1.jpeg",
            options,
        )
        .unwrap();
        zip.write_all(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).unwrap();
        zip.finish().unwrap();
    }
    out.into_inner()
}

fn text(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned()
}

async fn session(backend: Backend, path: &str) {
    let media = tempfile::tempdir().unwrap();
    let media_dir = media.path().to_path_buf();
    let app = TestApp::spawn_with(backend, move |c| {
        c.exchange_1c.user = Some("1c".into());
        c.exchange_1c.password = Some(Secret::new("пароль-1c"));
        c.exchange_1c.file_limit = 64 * 1024;
        c.catalog.media_dir = media_dir;
    })
    .await;
    let url = |query: &str| app.url(&format!("{path}?type=catalog&{query}"));

    let wrong = app
        .client
        .get(url("mode=checkauth"))
        .basic_auth("1c", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(text(&wrong.bytes().await.unwrap()).starts_with("failure\n"));

    // 1C sends the password in windows-1251.
    let (password, _, _) = encoding_rs::WINDOWS_1251.encode("1c:пароль-1c");
    let basic = base64_encode(&password);
    let auth = app
        .client
        .get(url("mode=checkauth"))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(auth.status(), 200);
    assert_eq!(
        auth.headers()["content-type"],
        "text/plain; charset=windows-1251"
    );
    let body = text(&auth.bytes().await.unwrap());
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "success");
    let cookie = format!("{}={}", lines[1], lines[2]);

    let no_cookie = app.client.get(url("mode=init")).send().await.unwrap();
    assert!(text(&no_cookie.bytes().await.unwrap()).starts_with("failure"));
    let init = text(
        &app.client
            .get(url("mode=init"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    );
    assert!(init.starts_with("zip=yes\nfile_limit=65536\n"), "{init}");

    // The zip goes up in parts no bigger than file_limit, appended in order.
    let zip = package_zip();
    let parts: Vec<&[u8]> = zip.chunks(zip.len() / 3 + 1).collect();
    assert_eq!(parts.len(), 3);
    for part in parts {
        let r = app
            .client
            .post(url("mode=file&filename=v8_exchange.zip"))
            .header("cookie", &cookie)
            .body(part.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(text(&r.bytes().await.unwrap()), "success\n");
    }
    let evil = app
        .client
        .post(url("mode=file&filename=../../etc/x.xml"))
        .header("cookie", &cookie)
        .body("x")
        .send()
        .await
        .unwrap();
    assert!(text(&evil.bytes().await.unwrap()).starts_with("failure"));

    for file in ["import.xml", "offers.xml"] {
        let mut answers = Vec::new();
        loop {
            let r = app
                .client
                .get(url(&format!("mode=import&filename={file}")))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            let body = text(&r.bytes().await.unwrap());
            let first = body.lines().next().unwrap_or_default().to_string();
            answers.push(first.clone());
            if first != "progress" {
                assert_eq!(first, "success", "{body}");
                break;
            }
            assert!(answers.len() < 200, "import never finished");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            answers[0], "progress",
            "the first answer comes at once, before the import ends"
        );
    }
    let done = app
        .client
        .get(url("mode=complete"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(text(&done.bytes().await.unwrap()), "success\n");

    let store = &app.db.store;
    assert_eq!(
        vitrina::catalog::current_version(store).await.unwrap(),
        2,
        "one version per imported file"
    );
    let price: i64 =
        sqlx::query("SELECT price FROM offers WHERE id = '97136fc5-8efe-11df-9958-003018a4a92f'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(price, 62790);
    let images: i64 = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM images")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(images, 1, "the image inside the zip was stored");
    app.stop().await;
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn exchange_session_publishes_catalog_sqlite() {
    session(Backend::Sqlite, "/1c/exchange").await;
}

#[tokio::test]
async fn exchange_session_publishes_catalog_postgres() {
    session(Backend::Postgres, "/bitrix/admin/1c_exchange.php").await;
}

#[tokio::test]
async fn exchange_is_off_until_configured() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app
        .client
        .get(app.url("/1c/exchange?type=catalog&mode=checkauth"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(text(&r.bytes().await.unwrap()).starts_with("failure"));
    app.stop().await;
}

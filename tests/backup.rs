//! `vitrina backup` while the shop runs, restored the way docs/DEPLOY.md says: the restored
//! database holds the same orders, lines and status history (SQLite and PostgreSQL).

mod common;

use std::process::Command;

use common::TestApp;
use common::bot::{self, TOKEN};
use fake_telegram::{FakeBot, Limits};
use sqlx::Row;
use vitrina::config::{DatabaseConfig, Secret};
use vitrina::store::testing::TestDb;
use vitrina::store::{Backend, Store};

/// Everything an order is made of, as comparable text.
async fn orders_fingerprint(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT id, number, status, payment_state, total, customer_id, created_at FROM orders ORDER BY id",
        "SELECT order_id, position, offer_id, name, price, quantity FROM order_items ORDER BY order_id, position",
        "SELECT order_id, status, actor, created_at FROM order_events ORDER BY order_id, id",
    ] {
        for row in sqlx::query(sql).fetch_all(store.pool()).await.unwrap() {
            let cols: Vec<String> = (0..row.len())
                .map(|i| {
                    row.try_get::<String, _>(i)
                        .or_else(|_| row.try_get::<i64, _>(i).map(|v| v.to_string()))
                        .unwrap_or_else(|e| panic!("column {i} of `{sql}`: {e}"))
                })
                .collect();
            out.push(cols.join("|"));
        }
    }
    out
}

async fn backup_then_restore(backend: Backend) {
    let fake = FakeBot::start(TOKEN, Limits::default()).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let db = bot::seeded_db(backend, media.path()).await;
    let path = media.path().to_path_buf();
    let app = TestApp::spawn_on(db, |c| bot::configure(c, &fake, path, bot::fast_limits())).await;
    for user in 1..=5 {
        bot::place_order(&app, "on_receipt", 7000 + user).await;
    }
    let expected = orders_fingerprint(&app.db.store).await;
    assert!(
        expected.len() >= 15,
        "orders, lines and history: {expected:?}"
    );

    // The backup is taken while the server is up, as an operator would.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backups/vitrina.backup");
    let out = Command::new(env!("CARGO_BIN_EXE_vitrina"))
        .args(["backup", file.to_str().unwrap()])
        .env("VITRINA_DATABASE__URL", app.db.url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("backup of the"));

    // A second backup never overwrites the first.
    let again = Command::new(env!("CARGO_BIN_EXE_vitrina"))
        .args(["backup", file.to_str().unwrap()])
        .env("VITRINA_DATABASE__URL", app.db.url())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let restored = match backend {
        Backend::Sqlite => {
            let config = DatabaseConfig {
                url: Secret::new(format!("sqlite://{}", file.display())),
                ..DatabaseConfig::default()
            };
            let store = Store::connect(&config).await.unwrap();
            store.ready().await.expect("the backup is a current schema");
            (store, None)
        }
        Backend::Postgres => {
            // DEPLOY.md: createdb, then pg_restore into it.
            let target = TestDb::postgres_empty().await;
            let status = Command::new("pg_restore")
                .args(["--no-owner", "--dbname", target.url()])
                .arg(&file)
                .status()
                .unwrap();
            assert!(status.success());
            let store = Store::connect(&target.config).await.unwrap();
            store
                .ready()
                .await
                .expect("the restore is a current schema");
            (store, Some(target))
        }
    };
    assert_eq!(orders_fingerprint(&restored.0).await, expected);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_restores_the_same_orders() {
    backup_then_restore(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backup_restores_the_same_orders() {
    backup_then_restore(Backend::Postgres).await;
}

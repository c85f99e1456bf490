//! Throw-away databases for tests: every test gets its own SQLite file or PostgreSQL database,
//! so tests run in parallel and leave nothing behind.
#![doc(hidden)]

use sqlx::{Connection, Executor};

use super::{Backend, Store};
use crate::config::{DatabaseConfig, Secret};

/// The PostgreSQL server tests use; `PG_TEST_URL` overrides it.
pub fn postgres_admin_url() -> String {
    std::env::var("PG_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub struct TestDb {
    pub store: Store,
    pub config: DatabaseConfig,
    pg_database: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// The same database through a pool of its own, as a second instance would have it.
    /// Dropping it drops nothing: the database belongs to `other`.
    pub async fn sharing(other: &TestDb) -> Self {
        let store = Store::connect(&other.config)
            .await
            .expect("connect to the shared database");
        Self {
            store,
            config: other.config.clone(),
            pg_database: None,
            _dir: None,
        }
    }

    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = DatabaseConfig {
            url: Secret::new(format!(
                "sqlite://{}",
                dir.path().join("vitrina.db").display()
            )),
            ..DatabaseConfig::default()
        };
        let store = Store::connect(&config).await.expect("connect sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self {
            store,
            config,
            pg_database: None,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> Self {
        let db = Self::postgres_empty().await;
        db.store.migrate().await.expect("migrate postgres");
        db
    }

    /// A new PostgreSQL database without the schema (a restore target).
    pub async fn postgres_empty() -> Self {
        let admin = postgres_admin_url();
        let name = format!("vitrina_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL for tests at {admin}: {e}"));
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        let _ = conn.close().await;
        let url = replace_database(&admin, &name);
        let config = DatabaseConfig {
            url: Secret::new(url),
            ..DatabaseConfig::default()
        };
        let store = Store::connect(&config).await.expect("connect postgres");
        Self {
            store,
            config,
            pg_database: Some(name),
            _dir: None,
        }
    }

    pub fn url(&self) -> &str {
        self.config.url.expose()
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_database.take() else {
            return;
        };
        let admin = postgres_admin_url();
        // Drop runs inside the test's runtime; a database drop needs its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await
                .ok()?;
                Some(())
            })
        })
        .join();
    }
}

/// Runs a test body against both backends, naming the backend on failure.
#[macro_export]
macro_rules! store_test {
    // A body that opens its own database: `async fn body(backend: Backend)`.
    ($name:ident, backend: $body:expr) => {
        $crate::store_test!($name, backend: $body, worker_threads = 2);
    };
    ($name:ident, backend: $body:expr, worker_threads = $threads:literal) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn sqlite() {
                ($body)($crate::store::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn postgres() {
                ($body)($crate::store::Backend::Postgres).await;
            }
        }
    };
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::store::testing::TestDb::new($crate::store::Backend::Sqlite).await;
                ($body)(db).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db =
                    $crate::store::testing::TestDb::new($crate::store::Backend::Postgres).await;
                ($body)(db).await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}

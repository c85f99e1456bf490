//! The database: SQLite (embedded default) or PostgreSQL (several instances), behind one pool.
//!
//! Both backends run the same SQL where they can (sqlx's `Any` driver passes `$1` placeholders
//! to both); where they differ (row locking, upserts with special clauses) the caller branches
//! on [`Backend`]. Time is stored as unix milliseconds (`BIGINT`) and money as integer minor
//! units, so no type needs backend-specific decoding.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

use crate::config::{DatabaseConfig, redact_url};

pub mod backup;
pub mod testing;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The database behind a store (parsed from the URL in [`crate::config::DatabaseKind`]).
pub use crate::config::DatabaseKind as Backend;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {url}: cannot connect: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database {url}: cannot create directory {dir}: {source}")]
    CreateDir {
        url: String,
        dir: String,
        source: std::io::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "database schema is behind: {applied} of {known} migrations applied (run `vitrina migrate`)"
    )]
    NotMigrated { applied: usize, known: usize },
    #[error("database: {0}")]
    Query(#[from] sqlx::Error),
    /// An outbox job's payload that cannot be written as JSON (not for the plain structs used
    /// as payloads; an error rather than a panic all the same).
    #[error("outbox job payload cannot be written as JSON: {0}")]
    Payload(serde_json::Error),
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let raw = config.url.expose();
        let shown = redact_url(raw);
        // Validation refuses other schemes; one that slips through fails to connect as PostgreSQL.
        let backend = config.kind().unwrap_or(Backend::Postgres);
        let url = match backend {
            Backend::Sqlite => {
                prepare_sqlite_url(raw).map_err(|(dir, source)| StoreError::CreateDir {
                    url: shown.clone(),
                    dir,
                    source,
                })?
            }
            Backend::Postgres => raw.to_string(),
        };
        let connect_err = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        let options = AnyConnectOptions::from_str(&url).map_err(connect_err)?;
        let busy_ms = config.busy_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time; more connections only queue on its lock.
            .max_connections(match backend {
                Backend::Sqlite => config.max_connections.min(8),
                Backend::Postgres => config.max_connections,
            })
            .acquire_timeout(config.connect_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms};"
                        );
                        conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        Ok(Self { pool, backend })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations. Safe to run from several instances at once: sqlx takes
    /// an advisory lock on PostgreSQL and SQLite serialises writers.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await.unwrap_or(0);
        self.migrator().run(&self.pool).await?;
        let after = self.applied_migrations().await?;
        Ok(after.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.len())
    }

    /// Readiness: the database answers and every migration this binary knows is applied.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let one: i64 = sqlx::query("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        debug_assert_eq!(one, 1);
        let known = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count();
        let applied = self.applied_migrations().await.unwrap_or(0);
        if applied < known {
            return Err(StoreError::NotMigrated { applied, known });
        }
        Ok(())
    }

    pub fn pool_size(&self) -> u32 {
        self.pool.size()
    }

    pub fn pool_idle(&self) -> usize {
        self.pool.num_idle()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://data/x.db` → the same URL with `mode=rwc`, after creating `data/`.
fn prepare_sqlite_url(raw: &str) -> Result<String, (String, std::io::Error)> {
    let rest = raw
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if !path.is_empty()
        && path != ":memory:"
        && let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| (dir.display().to_string(), e))?;
    }
    Ok(if raw.contains("mode=") {
        raw.to_string()
    } else if raw.contains('?') {
        format!("{raw}&mode=rwc")
    } else {
        format!("{raw}?mode=rwc")
    })
}

/// Unix milliseconds: the one time representation in the database.
pub fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

pub fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

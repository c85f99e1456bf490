//! `vitrina backup`: a consistent copy of the database while the shop keeps running.
//!
//! SQLite: `VACUUM INTO`, which reads one snapshot and writes a compact, self-contained file
//! (no `-wal` beside it), so the copy can be used as `database.url` as it is.
//! PostgreSQL: `pg_dump --format=custom`, restored with `pg_restore` (docs/DEPLOY.md). The
//! connection goes to pg_dump through `PG*` variables, never its command line, where any
//! user of the machine could read the password.

use std::path::{Path, PathBuf};

use crate::config::DatabaseConfig;

use super::{Backend, Store};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup target {0} already exists; choose a new file name")]
    Exists(PathBuf),
    #[error("backup target {path}: {source}")]
    Target {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("backup into {path}: {source}")]
    Sqlite { path: PathBuf, source: sqlx::Error },
    #[error("database.url is not a valid PostgreSQL URL: {0}")]
    Url(String),
    #[error(
        "cannot run pg_dump ({0}); install the PostgreSQL client (Debian: apt-get install postgresql-client)"
    )]
    PgDumpMissing(std::io::Error),
    #[error("pg_dump failed ({status}): {stderr}")]
    PgDump { status: String, stderr: String },
}

/// Writes a backup of the database to `to` (a new file) and returns its size in bytes.
pub async fn backup(store: &Store, config: &DatabaseConfig, to: &Path) -> Result<u64, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(to.to_path_buf()));
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| BackupError::Target {
            path: to.to_path_buf(),
            source,
        })?;
    }
    match store.backend() {
        Backend::Sqlite => {
            sqlx::query("VACUUM INTO ?")
                .bind(to.to_string_lossy().into_owned())
                .execute(store.pool())
                .await
                .map_err(|source| BackupError::Sqlite {
                    path: to.to_path_buf(),
                    source,
                })?;
        }
        Backend::Postgres => pg_dump(config.url.expose(), to).await?,
    }
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|source| BackupError::Target {
            path: to.to_path_buf(),
            source,
        })
}

async fn pg_dump(url: &str, to: &Path) -> Result<(), BackupError> {
    let env = pg_env(url)?;
    let output = tokio::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg("--file")
        .arg(to)
        .envs(env)
        .output()
        .await
        .map_err(BackupError::PgDumpMissing)?;
    if output.status.success() {
        Ok(())
    } else {
        let _ = std::fs::remove_file(to);
        Err(BackupError::PgDump {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// libpq's environment variables for a `postgres://user:pass@host:port/db?sslmode=…` URL.
fn pg_env(url: &str) -> Result<Vec<(&'static str, String)>, BackupError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| BackupError::Url(e.to_string()))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(BackupError::Url(format!(
            "scheme `{}` (expected postgres://)",
            parsed.scheme()
        )));
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| BackupError::Url("bad percent-encoding".into()))
    };
    let mut env = Vec::new();
    if let Some(host) = parsed.host_str() {
        env.push(("PGHOST", host.trim_matches(['[', ']']).to_string()));
    }
    if let Some(port) = parsed.port() {
        env.push(("PGPORT", port.to_string()));
    }
    if !parsed.username().is_empty() {
        env.push(("PGUSER", decode(parsed.username())?));
    }
    if let Some(password) = parsed.password() {
        env.push(("PGPASSWORD", decode(password)?));
    }
    let db = parsed.path().trim_start_matches('/');
    if !db.is_empty() {
        env.push(("PGDATABASE", decode(db)?));
    }
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "sslmode" => env.push(("PGSSLMODE", value.into_owned())),
            "host" => env.push(("PGHOST", value.into_owned())),
            "user" => env.push(("PGUSER", value.into_owned())),
            "password" => env.push(("PGPASSWORD", value.into_owned())),
            "dbname" => env.push(("PGDATABASE", value.into_owned())),
            "port" => env.push(("PGPORT", value.into_owned())),
            _ => {}
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_url_becomes_libpq_variables() {
        let env = pg_env("postgres://shop:p%40ss@db.local:5433/vitrina?sslmode=require").unwrap();
        assert_eq!(
            env,
            vec![
                ("PGHOST", "db.local".to_string()),
                ("PGPORT", "5433".to_string()),
                ("PGUSER", "shop".to_string()),
                ("PGPASSWORD", "p@ss".to_string()),
                ("PGDATABASE", "vitrina".to_string()),
                ("PGSSLMODE", "require".to_string()),
            ]
        );
        assert!(pg_env("mysql://x/y").is_err());
    }
}

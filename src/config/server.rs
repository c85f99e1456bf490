//! `[server]`, `[database]` and `[sync]`.

use super::*;

/// The catalog sources' health (Bitrix sync, 1C exchange).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// A source failing for longer than this gets one staff-chat alert (and a note when it
    /// recovers); 0 turns the alert off.
    #[serde(with = "humantime_serde")]
    pub alert_after: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            alert_after: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// What Telegram opens; every link vitrina sends is built from it.
    pub public_url: String,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long in-flight requests may run after SIGTERM before the process exits anyway.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    pub max_body_bytes: usize,
    /// Reverse proxies whose `X-Forwarded-For`/`X-Forwarded-Proto` are believed (CIDR or
    /// address). From anyone else these headers are ignored: a client could forge them.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            trusted_proxies: vec![
                "127.0.0.1/32".parse().expect("valid"),
                "::1/128".parse().expect("valid"),
            ],
        }
    }
}

/// Which database a `database.url` names, read from its scheme here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    /// `sqlite:…` or `postgres://` / `postgresql://`; anything else is no database we speak.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`. May carry a password.
    pub url: Secret,
    pub max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub busy_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
}

impl DatabaseConfig {
    pub fn kind(&self) -> Option<DatabaseKind> {
        DatabaseKind::of_url(self.url.expose())
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: Secret::new("sqlite://data/vitrina.db"),
            max_connections: 10,
            busy_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl ServerConfig {
    /// An absolute public URL to build links from, a usable body limit and timeout.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.public_url;
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url
                .parse::<http::Uri>()
                .map(|u| u.host().is_none())
                .unwrap_or(true)
        {
            return invalid(
                "server.public_url",
                format!(
                    "expected an absolute http(s) URL such as https://shop.example.com, got {url:?}"
                ),
            );
        }
        if self.max_body_bytes < 1024 {
            return invalid("server.max_body_bytes", "expected at least 1024 bytes");
        }
        if self.request_timeout.is_zero() {
            return invalid(
                "server.request_timeout",
                "expected a positive duration such as \"30s\"",
            );
        }
        Ok(())
    }
}

impl DatabaseConfig {
    /// A database we speak, and a pool that can hold a connection.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.kind().is_none() {
            return invalid(
                "database.url",
                "expected sqlite://path/to/file.db or postgres://user@host/db",
            );
        }
        if self.max_connections == 0 {
            return invalid("database.max_connections", "expected at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn server_rules() {
        let ok = ServerConfig {
            public_url: "https://shop.example.com/app".into(),
            ..Default::default()
        };
        assert_eq!(refused_key(ok.validate()), None);
        for url in [
            "shop.example.com",
            "ftp://shop.example.com",
            "https://",
            "http:///x",
        ] {
            let bad = ServerConfig {
                public_url: url.into(),
                ..Default::default()
            };
            assert_eq!(
                refused_key(bad.validate()),
                Some("server.public_url"),
                "{url}"
            );
        }
        let bad = ServerConfig {
            max_body_bytes: 1023,
            ..Default::default()
        };
        assert_eq!(refused_key(bad.validate()), Some("server.max_body_bytes"));
        let bad = ServerConfig {
            request_timeout: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(refused_key(bad.validate()), Some("server.request_timeout"));
    }

    #[test]
    fn database_rules() {
        for url in ["sqlite://x.db", "postgres://u@h/db", "postgresql://u@h/db"] {
            let ok = DatabaseConfig {
                url: Secret::new(url),
                ..Default::default()
            };
            assert_eq!(refused_key(ok.validate()), None, "{url}");
        }
        let bad = DatabaseConfig {
            url: Secret::new("mysql://u@h/db"),
            ..Default::default()
        };
        assert_eq!(refused_key(bad.validate()), Some("database.url"));
        let bad = DatabaseConfig {
            max_connections: 0,
            ..Default::default()
        };
        assert_eq!(
            refused_key(bad.validate()),
            Some("database.max_connections")
        );
    }
}

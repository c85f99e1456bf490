//! The real binary as a child process, for the crash tests: started on a test database,
//! watched through its log, killed with SIGKILL.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vitrina::auth::DEMO_BOT_TOKEN;
use vitrina::store::testing::TestDb;

pub struct Server {
    child: Child,
    pub base: String,
    pub log: std::path::PathBuf,
}

impl Server {
    /// Starts `vitrina serve` on `db` with the demo token and dev mode, plus `env`.
    pub async fn start(db: &TestDb, media: &Path, logs: &Path, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let log = logs.join(format!("serve-{port}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vitrina"));
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("VITRINA_DATABASE__URL", db.url())
            .env("VITRINA_TELEGRAM__BOT_TOKEN", DEMO_BOT_TOKEN)
            .env("VITRINA_DEV__ENABLED", "true")
            .env("VITRINA_CATALOG__MEDIA_DIR", media)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        cmd.envs(env.iter().copied());
        let child = cmd.spawn().expect("vitrina starts");
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        vitrina::telegram::client::install_crypto_provider();
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "server never became ready; log:\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn wait_for_log(&self, needle: &str) {
        let started = Instant::now();
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(needle) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "`{needle}` never logged; log:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL"); // no cleanup: whatever was open stays open
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

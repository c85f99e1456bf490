//! Starts the real application on a free port with its own database.
#![allow(dead_code)]

pub mod bot;
pub mod spawned;

use std::net::SocketAddr;

use tokio::sync::oneshot;
use vitrina::auth::{Auth, DevUser};
use vitrina::config::Config;
use vitrina::server::Application;
use vitrina::store::Backend;
use vitrina::store::testing::TestDb;

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new(backend).await;
        Self::spawn_on(db, tweak).await
    }

    pub async fn spawn_on(db: TestDb, tweak: impl FnOnce(&mut Config)) -> Self {
        // reqwest uses rustls without a built-in provider; the app installs ring's.
        vitrina::telegram::client::install_crypto_provider();
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.database = db.config.clone();
        tweak(&mut config);
        let app = Application::with_store(config, db.store.clone())
            .await
            .expect("app starts");
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            db,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// An order's status as stored.
    pub async fn order_status(&self, id: i64) -> String {
        use sqlx::Row;
        sqlx::query("SELECT status FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(self.db.store.pool())
            .await
            .expect("the order exists")
            .get(0)
    }

    /// Stops the application and hands back its database, for a restart on the same data.
    pub async fn stop_keep_db(mut self) -> TestDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let TestApp { db, .. } = self;
        db
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// initData for a customer signed with the demo bot token (tests configure
/// `telegram.bot_token = DEMO_BOT_TOKEN`), as the dev sign-in makes it.
pub fn dev_init_data(user: u64) -> String {
    let u = DevUser {
        id: user,
        first_name: "Покупатель".into(),
        last_name: None,
        username: None,
        language_code: "ru".into(),
        start_param: None,
    };
    Auth::dev_init_data(&u, std::time::SystemTime::now())
}

/// `Authorization: tma …` with [`dev_init_data`].
pub fn dev_auth(user: u64) -> String {
    format!("tma {}", dev_init_data(user))
}

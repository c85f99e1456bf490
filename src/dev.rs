//! Helpers for the demo and local development, mounted only when `dev.enabled` is on.

use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use serde::Deserialize;

use crate::config::{CheckoutPause, Config};
use crate::state::AppState;

/// Hangs here when `dev.checkout_pause` names this point, so a crash test can kill the
/// process at a known place; a no-op otherwise.
pub async fn checkout_pause(config: &Config, point: CheckoutPause) {
    if config.dev.enabled && config.dev.checkout_pause == Some(point) {
        tracing::warn!(
            ?point,
            "dev pause point reached: checkout is waiting to be killed"
        );
        std::future::pending::<()>().await;
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dev/slow", get(slow))
        .route("/dev/init-data", get(crate::auth::http::dev_init_data))
}

#[derive(Deserialize)]
struct SlowQuery {
    ms: u64,
}

/// Answers after `ms` milliseconds (at most 60 s): for trying timeouts and graceful shutdown.
async fn slow(Query(q): Query<SlowQuery>) -> String {
    let ms = q.ms.min(60_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("slept {ms} ms\n")
}

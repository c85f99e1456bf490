//! Helpers for the demo and local development, mounted only when `dev.enabled` is on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use serde::Deserialize;

use crate::config::{CheckoutPause, Config};
use crate::orders::{CheckoutHooks, NoCheckoutHooks};
use crate::state::AppState;

/// Hangs checkout at the point `dev.checkout_pause` names, so a crash test can kill the
/// process at a known place. Installed only by the dev server ([`hooks`]).
pub struct CheckoutPauser(CheckoutPause);

impl CheckoutHooks for CheckoutPauser {
    fn reached(&self, point: CheckoutPause) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if point == self.0 {
                tracing::warn!(
                    ?point,
                    "dev pause point reached: checkout is waiting to be killed"
                );
                std::future::pending::<()>().await;
            }
        })
    }
}

/// The checkout hooks for this configuration: the pause when `dev.enabled` and
/// `dev.checkout_pause` ask for it, none otherwise.
pub fn hooks(config: &Config) -> Arc<dyn CheckoutHooks> {
    match config.dev.checkout_pause {
        Some(point) if config.dev.enabled => Arc::new(CheckoutPauser(point)),
        _ => Arc::new(NoCheckoutHooks),
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

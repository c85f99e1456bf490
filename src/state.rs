//! What every request handler can reach: the app's shared parts behind one `Arc`.
//!
//! Kept apart from `server.rs` (which builds the router from every feature's handlers) so
//! that features depend on the state, not on the server that mounts them.

use std::sync::Arc;

use crate::auth::Auth;
use crate::catalog::snapshot::CatalogReader;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::store::Store;

/// Everything a handler may need, behind one `Arc`: axum clones the state for every request
/// (extractors, middleware), and one reference count is far cheaper than one per field when
/// both cores are serving. Nothing in it is state that another instance would need (that
/// lives in the database).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub config: Arc<Config>,
    pub store: Store,
    pub outbox: Outbox,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<Auth>,
    pub catalog: Arc<CatalogReader>,
    /// Request rate limits and the 1C lockout (per instance).
    pub limits: Arc<crate::rate_limit::Limits>,
    /// Resized product images: a bounded memory cache, one render per image size at a time.
    pub images: Arc<crate::catalog::images::Renderer>,
    /// Identifies this process in logs, leases and `/healthz`.
    pub instance: String,
    /// The Bitrix backend, when it is the shop's (`backend.kind = "bitrix"`): checkout asks it
    /// for stock through the same client and request budget as everything else.
    pub bitrix: Option<Arc<crate::bitrix::Bitrix>>,
    /// The staff desk's funnel counter (its in-memory part: who was counted today).
    pub funnel: Arc<crate::desk::funnel::Funnel>,
    /// The bot's username once Telegram has told it (`getMe`, asked at start and shared with
    /// the bot): the Mini App builds `t.me/<bot>?startapp=…` links with it.
    pub bot_username: Arc<tokio::sync::OnceCell<String>>,
    /// Test-only pause points in checkout ([`crate::dev::hooks`]); none in production.
    pub checkout_hooks: Arc<dyn crate::orders::CheckoutHooks>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl axum::extract::FromRef<AppState> for Arc<Auth> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl axum::extract::FromRef<AppState> for Arc<crate::rate_limit::Limits> {
    fn from_ref(state: &AppState) -> Self {
        state.limits.clone()
    }
}

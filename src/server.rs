//! The HTTP application: state, router, middleware, workers and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing::{info, warn};

use crate::auth::Auth;
use crate::catalog::snapshot::CatalogReader;
use crate::config::Config;
use crate::metrics::{HttpLabels, Metrics};
use crate::outbox::{Handlers, Outbox, spawn_workers};
use crate::state::{AppState, Shared};
use crate::store::Store;
use crate::{error, web};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot listen on {addr}: {source}{hint}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
        hint: &'static str,
    },
    #[error("Bitrix: {0}")]
    Bitrix(String),
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    handlers: Handlers,
    bot: Option<Arc<crate::telegram::Bot>>,
    bitrix: Option<Arc<crate::bitrix::Bitrix>>,
}

impl Application {
    /// Connects the store, applies migrations and binds the listener; nothing is served yet.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let store = Store::connect(&config.database).await?;
        let applied = store.migrate().await?;
        if applied > 0 {
            info!(
                applied,
                backend = store.backend().name(),
                "database migrations applied"
            );
        }
        Self::with_store(config, store).await
    }

    pub async fn with_store(config: Config, store: Store) -> Result<Self, StartError> {
        let addr = config.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind {
                addr,
                hint: if source.kind() == std::io::ErrorKind::AddrInUse {
                    " (another process uses this port: stop it or pass --listen)"
                } else {
                    ""
                },
                source,
            })?;
        let instance = format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "vitrina".into()),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let outbox = Outbox::new(store.clone(), config.outbox.clone());
        let auth = Auth::new(&config, store.clone()).await?;
        let catalog = CatalogReader::load(store.clone()).await?;
        let mut handlers = crate::orders::events::fanout(outbox.clone(), subscribers(&config));
        let limits = Arc::new(crate::rate_limit::Limits::new(
            &config.rate_limit,
            &config.exchange_1c,
        ));
        let resizes = match config.catalog.image_resizes {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let images = Arc::new(crate::catalog::images::Renderer::new(
            config.catalog.image_cache_bytes,
            resizes,
        ));
        let config = Arc::new(config);
        // Config validation guarantees the webhook URL; a malformed one stops the start.
        let bitrix = crate::bitrix::Bitrix::new(config.clone(), store.clone(), outbox.clone())
            .map_err(|e| StartError::Bitrix(e.to_string()))?;
        let checkout_hooks = crate::dev::hooks(&config);
        let funnel = Arc::new(crate::desk::funnel::Funnel::new(
            config.shop.utc_offset_ms(),
        ));
        let state = AppState::new(Shared {
            auth,
            catalog,
            limits,
            images,
            config,
            store,
            outbox,
            bitrix: bitrix.clone(),
            funnel,
            bot_username: Arc::new(tokio::sync::OnceCell::new()),
            checkout_hooks,
            metrics: Arc::new(Metrics::new()),
            instance,
        });
        handlers = handlers.merge(crate::orders::holds::handlers(&state));
        // 1C's order states that could not be applied when they came.
        handlers = handlers.merge(crate::exchange::sale::handlers(&state));
        let bot = crate::telegram::Bot::new(&state);
        if let Some(bot) = &bot {
            handlers = handlers.merge(crate::telegram::handlers(
                bot,
                crate::payments::register(crate::telegram::Dispatcher::new()),
            ));
        }
        if let Some(bx) = &bitrix {
            handlers = handlers.merge(crate::bitrix::handlers(bx));
        }
        Ok(Self {
            listener,
            state,
            handlers,
            bot,
            bitrix,
        })
    }

    /// Adds outbox job handlers (bot messages, Bitrix calls) before `run`.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = self.handlers.merge(handlers);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.server.listen)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish
    /// (up to `server.shutdown_grace`) and stops the workers after their current job.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            listener,
            state,
            handlers,
            bot,
            bitrix,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        let workers = spawn_workers(
            &state.outbox,
            &handlers,
            &state.instance,
            state.config.outbox.workers,
            state.metrics.clone(),
            &stop_rx,
        );
        if let Some(bot) = bot.clone() {
            // The username the Mini App's share links need; asked again on the first inline
            // query if Telegram cannot be reached now.
            tokio::spawn(async move {
                if let Err(e) = bot.username().await {
                    tracing::warn!(
                        error = e.message(),
                        "getMe failed: share links wait for the bot's username"
                    );
                }
            });
        }
        if let Some(bot) = bot
            && state.config.telegram.updates == crate::config::UpdatesMode::Polling
        {
            tokio::spawn(crate::telegram::updates::poll(bot, stop_rx.clone()));
        }
        if let Some(bx) = bitrix {
            tokio::spawn(crate::bitrix::run_schedules(bx, stop_rx.clone()));
        }
        let grace = state.config.server.shutdown_grace;
        tokio::spawn(
            state
                .catalog
                .clone()
                .refresh_loop(state.config.catalog.refresh_interval, stop_rx.clone()),
        );
        let app = router(state);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let mut stopped = stop_rx.clone();
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
            info!("shutting down: no new connections, finishing in-flight requests");
        });
        let mut deadline = stop_rx.clone();
        let result = tokio::select! {
            r = serve => r,
            _ = async move {
                let _ = deadline.wait_for(|s| *s).await;
                tokio::time::sleep(grace).await;
            } => {
                warn!(?grace, "shutdown grace period over; dropping remaining requests");
                Ok(())
            }
        };
        for worker in workers {
            let _ = tokio::time::timeout(grace, worker).await;
        }
        info!("stopped");
        result
    }
}

/// The integrations that receive order events (see [`crate::orders::events`]): the bot when
/// it has a token, Bitrix when it is the backend.
fn subscribers(config: &Config) -> Vec<crate::orders::events::Subscriber> {
    let mut subscribers = Vec::new();
    let demo_token = crate::auth::DEMO_BOT_TOKEN;
    if config
        .telegram
        .bot_token
        .as_ref()
        .is_some_and(|t| t.expose() != demo_token)
    {
        subscribers.push(crate::orders::events::Subscriber::Telegram);
    }
    if config.backend.kind == crate::config::BackendKind::Bitrix {
        subscribers.push(crate::orders::events::Subscriber::Bitrix);
    }
    subscribers
}

pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let x_request_id = HeaderName::from_static("x-request-id");
    let trusted = config.server.trusted_proxies.clone();
    let mut routes = Router::new();
    if config.dev.enabled {
        routes = routes.merge(crate::dev::routes());
    }
    for route in crate::routes::table(&config) {
        routes = routes.route(route.path, route.router);
    }
    routes
        .fallback(web::serve)
        // Layers wrap outward: the last one added sees the request first.
        .layer(DefaultBodyLimit::max(config.server.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), crate::rate_limit::by_address))
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, config.server.request_timeout))
        .layer(middleware::from_fn(error::problem_middleware))
        .layer(middleware::from_fn_with_state(state.clone(), track_metrics))
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(move |request: &Request| {
                    // The path only: query strings may carry tokens. The fields are worked out
                    // only when the span is enabled (not at `warn`, on the hot path).
                    tracing::info_span!(
                        "http",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or(""),
                        client = %crate::proxy::of_request(request, &trusted).map(|c| c.ip.to_string()).unwrap_or_default(),
                    )
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, FastRequestId))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            HeaderName::from_static("x-telegram-bot-api-secret-token"),
        ]))
        .with_state(state)
}

/// UUID-shaped request ids from a per-thread fast generator: they must be unique enough to
/// find a request in the logs, not unguessable, and the OS random source costs a system call
/// per request.
#[derive(Clone, Copy)]
struct FastRequestId;

impl MakeRequestId for FastRequestId {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        http::HeaderValue::from_str(&id.hyphenated().to_string())
            .ok()
            .map(RequestId::new)
    }
}

async fn track_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "web".to_string());
    let method = crate::metrics::method_label(request.method());
    let response = next.run(request).await;
    state.metrics.http_request(
        HttpLabels {
            method,
            route,
            status: response.status().as_u16(),
        },
        started.elapsed(),
    );
    response
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("SIGINT received"),
        _ = term => info!("SIGTERM received"),
    }
}

//! The bot: updates in (webhook or long polling), commands, staff buttons, and customer and
//! staff messages out, every one through the outbox and within Telegram's limits.

pub mod client;
pub mod limits;
pub mod notify;
pub mod setup;
pub mod texts;
pub mod update;
pub mod updates;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::Config;
use crate::outbox::{Handlers, JobError, Outbox};
use crate::state::AppState;
use crate::store::Store;

pub use client::{BotApi, BotError};

/// One Bot API call (`{method, params, customer_id?, staff_order?}`).
pub const JOB_SEND: &str = "telegram.send";
/// One update from Telegram, stored by the webhook or the poller.
pub const JOB_UPDATE: &str = "telegram.update";
/// What the bot asks Telegram to deliver.
pub const ALLOWED_UPDATES: &[&str] = &[
    "message",
    "callback_query",
    "pre_checkout_query",
    "inline_query",
];

pub struct Bot {
    pub api: BotApi,
    pub limiter: limits::Limiter,
    pub store: Store,
    pub outbox: Outbox,
    pub config: Arc<Config>,
    /// The catalog, for inline queries.
    pub catalog: Arc<crate::catalog::snapshot::CatalogReader>,
    /// The bot's username, from `getMe` once needed (shared with [`AppState`]).
    pub username: Arc<tokio::sync::OnceCell<String>>,
}

impl Bot {
    /// The bot of a configured shop; None without a (real) token.
    pub fn new(state: &AppState) -> Option<Arc<Self>> {
        let token = state.config.telegram.bot_token.as_ref()?;
        if token.expose() == crate::auth::DEMO_BOT_TOKEN {
            return None;
        }
        Some(Arc::new(Self {
            api: BotApi::new(&state.config.telegram)?,
            limiter: limits::Limiter::new(&state.config.telegram),
            store: state.store.clone(),
            outbox: state.outbox.clone(),
            config: state.config.clone(),
            catalog: state.catalog.clone(),
            username: state.bot_username.clone(),
        }))
    }

    /// The bot's username (from `getMe`, asked once).
    pub async fn username(&self) -> Result<String, JobError> {
        self.username
            .get_or_try_init(|| async {
                let me = self
                    .api
                    .call("getMe", &serde_json::json!({}))
                    .await
                    .map_err(|e| JobError::retry(e.to_string()))?;
                me.get("username")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| JobError::Permanent("getMe without a username".into()))
            })
            .await
            .cloned()
    }

    /// `https://t.me/<bot>?startapp=<param>`: the bot's main Mini App with a start parameter,
    /// a link that works as a URL button in any chat (a `web_app` button only in private ones).
    pub async fn start_link(&self, param: &str) -> Result<String, JobError> {
        Ok(format!(
            "https://t.me/{}?startapp={param}",
            self.username().await?
        ))
    }

    /// An absolute URL of the Mini App (`public_url` drives every link the bot sends).
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.config.server.public_url.trim_end_matches('/'),
            path
        )
    }
}

type Handler<T> = Arc<
    dyn Fn(Arc<Bot>, T) -> Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>> + Send + Sync,
>;

/// Where the bot sends the updates another feature handles: payments register their
/// pre-checkout and payment handlers here, so the bot does not depend on them.
#[derive(Clone, Default)]
pub struct Dispatcher {
    pre_checkout: Option<Handler<update::PreCheckoutQuery>>,
    successful_payment: Option<Handler<(update::User, update::SuccessfulPayment)>>,
}

impl Dispatcher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `pre_checkout_query` (Telegram waits up to 10 s).
    pub fn on_pre_checkout<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Arc<Bot>, update::PreCheckoutQuery) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.pre_checkout = Some(Arc::new(move |bot, q| Box::pin(f(bot, q))));
        self
    }

    /// Records a message's `successful_payment` (with its payer).
    pub fn on_successful_payment<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Arc<Bot>, update::User, update::SuccessfulPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.successful_payment = Some(Arc::new(move |bot, (from, p)| Box::pin(f(bot, from, p))));
        self
    }

    async fn pre_checkout(
        &self,
        bot: Arc<Bot>,
        query: update::PreCheckoutQuery,
    ) -> Result<(), JobError> {
        match &self.pre_checkout {
            Some(h) => h(bot, query).await,
            None => {
                tracing::warn!("pre_checkout_query, but no payments handler is registered");
                Ok(())
            }
        }
    }

    async fn successful_payment(
        &self,
        bot: Arc<Bot>,
        from: update::User,
        payment: update::SuccessfulPayment,
    ) -> Result<(), JobError> {
        match &self.successful_payment {
            Some(h) => h(bot, (from, payment)).await,
            None => Err(JobError::retry(
                "successful_payment, but no payments handler is registered here",
            )),
        }
    }
}

use crate::orders::events::{OrderEvent, Subscriber};

/// The outbox handlers of the bot's jobs; `dispatcher` takes the updates other features
/// handle (payments).
pub fn handlers(bot: &Arc<Bot>, dispatcher: Dispatcher) -> Handlers {
    let b = bot.clone();
    let created = move |job: crate::outbox::Job| notify::order_created(b.clone(), job);
    let b = bot.clone();
    let changed = move |job: crate::outbox::Job| notify::status_changed(b.clone(), job);
    let b = bot.clone();
    let send = move |job: crate::outbox::Job| notify::send(b.clone(), job);
    let b = bot.clone();
    let dispatcher = Arc::new(dispatcher);
    let update = move |job: crate::outbox::Job| {
        let (bot, dispatcher) = (b.clone(), dispatcher.clone());
        async move { updates::handle(bot, &dispatcher, job.payload).await }
    };
    let b = bot.clone();
    let alerts = move |job: crate::outbox::Job| {
        let b = b.clone();
        async move {
            let _: crate::selling::alerts::Alerts = job.parse()?;
            crate::selling::alerts::deliver(b).await
        }
    };
    let b = bot.clone();
    let reminder = move |job: crate::outbox::Job| crate::selling::reminder::remind(b.clone(), job);
    Handlers::new()
        .on(Subscriber::Telegram.kind(OrderEvent::Created), created)
        .on(
            Subscriber::Telegram.kind(OrderEvent::StatusChanged),
            changed,
        )
        .on(JOB_SEND, send)
        .on(JOB_UPDATE, update)
        .on(crate::selling::alerts::JOB_ALERTS, alerts)
        .on(crate::selling::reminder::JOB_CART_REMINDER, reminder)
}

/// The Mini App path a `/start` payload (the same as `startapp`) opens.
pub fn deep_link_path(payload: &str) -> String {
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if let Some(id) = payload.strip_prefix("product_").filter(|s| valid(s)) {
        return format!("/product/{id}");
    }
    if let Some(id) = payload.strip_prefix("section_").filter(|s| valid(s)) {
        return format!("/section/{id}");
    }
    if let Some(q) = crate::selling::links::decode(payload, crate::selling::links::Screen::Search) {
        let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        return format!("/search?q={q}");
    }
    // The staff desk (the Mini App checks the role with the server).
    if payload == "desk" {
        return "/desk".into();
    }
    if let Some(id) = payload
        .strip_prefix("desk_order_")
        .filter(|s| s.parse::<u64>().is_ok())
    {
        return format!("/desk/orders/{id}");
    }
    if let Some(id) = payload
        .strip_prefix("order_")
        .filter(|s| s.parse::<u64>().is_ok())
    {
        return format!("/orders/{id}");
    }
    "/".into()
}

#[cfg(test)]
mod tests {
    use super::deep_link_path;

    #[test]
    fn start_payloads() {
        assert_eq!(deep_link_path("product_demo-0001"), "/product/demo-0001");
        assert_eq!(deep_link_path("section_jackets"), "/section/jackets");
        assert_eq!(deep_link_path("order_42"), "/orders/42");
        assert_eq!(
            deep_link_path("search_b640LrRg9GA0YLQutCw"),
            "/search?q=%D0%BA%D1%83%D1%80%D1%82%D0%BA%D0%B0"
        );
        assert_eq!(deep_link_path("order_x"), "/");
        assert_eq!(deep_link_path("desk"), "/desk");
        assert_eq!(deep_link_path("desk_order_42"), "/desk/orders/42");
        assert_eq!(deep_link_path("desk_order_x"), "/");
        assert_eq!(deep_link_path("product_../admin"), "/");
        assert_eq!(deep_link_path(""), "/");
    }
}

//! One typed configuration, read from a TOML file and `VITRINA_<SECTION>__<KEY>` environment
//! variables, validated once at start. Unknown keys are errors: a typo in a production config
//! must stop the process, not silently fall back to a default.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables with the `VITRINA_` prefix that belong to the CLI, not to the config.
const CLI_ENV_KEYS: &[&str] = &["config", "log", "log_format"];

/// The bot token `vitrina demo` signs its dev initData with. It can never reach Telegram:
/// config treats a bot with this token as no bot at all.
pub const DEMO_BOT_TOKEN: &str = "1000000001:vitrina-demo-token-not-for-telegram";

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub telegram: TelegramConfig,
    pub backend: BackendConfig,
    pub bitrix: BitrixConfig,
    pub exchange_1c: Exchange1cConfig,
    pub outbox: OutboxConfig,
    pub auth: AuthConfig,
    pub catalog: CatalogConfig,
    pub checkout: CheckoutConfig,
    pub orders: OrdersConfig,
    pub rate_limit: RateLimitConfig,
    pub dev: DevConfig,
    pub sync: SyncConfig,
}

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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub bot_token: Option<Secret>,
    /// Which initData check the API does: `hmac` (needs bot_token), `ed25519` (Telegram's
    /// signature; needs only the bot id, for hosts that must not hold the token) or `both`.
    pub init_data_check: InitDataCheck,
    /// The bot's numeric id, for `ed25519` without a bot_token.
    pub bot_id: Option<u64>,
    /// Use Telegram's test-environment public key for `ed25519`.
    pub test_environment: bool,
    #[serde(with = "humantime_serde")]
    pub init_data_max_age: Duration,
    pub webhook_secret: Option<Secret>,
    pub staff_chat_id: Option<i64>,
    pub payment_provider_token: Option<Secret>,
    /// The Bot API server (a local Bot API server, or the project's fake in tests).
    pub api_base_url: String,
    /// How updates arrive: `webhook` (Telegram POSTs to /telegram/webhook; needs HTTPS) or
    /// `polling` (this process calls getUpdates; for one instance without public HTTPS).
    pub updates: UpdatesMode,
    /// Telegram user ids allowed to press the staff buttons (Confirm / Shipped / Cancel).
    pub staff_user_ids: Vec<i64>,
    /// Telegram's broadcast limits: messages per second overall, the gap between messages to
    /// one private chat, messages per minute to one group.
    pub messages_per_second: u32,
    #[serde(with = "humantime_serde")]
    pub per_chat_interval: Duration,
    pub group_messages_per_minute: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum UpdatesMode {
    #[default]
    Webhook,
    Polling,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            bot_token: None,
            init_data_check: InitDataCheck::Hmac,
            bot_id: None,
            test_environment: false,
            init_data_max_age: Duration::from_secs(24 * 3600),
            webhook_secret: None,
            staff_chat_id: None,
            payment_provider_token: None,
            api_base_url: "https://api.telegram.org".into(),
            updates: UpdatesMode::Webhook,
            staff_user_ids: Vec::new(),
            messages_per_second: 30,
            per_chat_interval: Duration::from_secs(1),
            group_messages_per_minute: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// The price type customers pay, by 1C id or name (`Розничная`). Empty: a type named
    /// like «Розничная»/Retail, else the first price an offer has.
    pub retail_price_type: String,
    /// A price type shown struck through as the price before a discount, by 1C id or name
    /// (`Старая цена`), when it is above the retail price. Empty: none.
    pub old_price_type: String,
    /// Where product images are kept, content-addressed.
    pub media_dir: PathBuf,
    /// Larger source images are skipped with a warning.
    pub max_image_bytes: u64,
    /// Resized images kept in memory (bytes; each entry also counts 1 KiB, which bounds the
    /// entries). Beyond it they are read from the disk cache under `media_dir`.
    pub image_cache_bytes: u64,
    /// Image decodes and resizes at once; 0: one per CPU core.
    pub image_resizes: usize,
    /// Zip packages: the most bytes all entries may unpack to.
    pub max_unpacked_bytes: u64,
    /// Zip packages: the largest allowed unpacked/packed ratio of an entry (zip bombs).
    pub max_zip_ratio: u64,
    /// How often each instance checks for a catalog published by another instance.
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            retail_price_type: String::new(),
            old_price_type: String::new(),
            media_dir: PathBuf::from("data/media"),
            max_image_bytes: 20 * 1024 * 1024,
            image_cache_bytes: 32 * 1024 * 1024,
            image_resizes: 0,
            max_unpacked_bytes: 8 * 1024 * 1024 * 1024,
            max_zip_ratio: 200,
            refresh_interval: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckoutConfig {
    pub currency: String,
    pub delivery: Vec<DeliveryMethod>,
    /// Offered in this order: `on_receipt`, `telegram` (a payment provider; needs
    /// telegram.payment_provider_token), `stars` (Telegram Stars).
    pub payment_methods: Vec<PaymentMethod>,
    /// Telegram Stars: the price of one Star in the shop's minor units (kopecks), to turn an
    /// order's total into a Stars invoice (rounded up).
    pub stars_rate: i64,
    /// Fiscal receipts (54-FZ) sent with provider invoices (`provider_data.receipt`).
    pub receipt: ReceiptConfig,
    /// An order paid online (`telegram`, `stars`) and not paid within this time is cancelled
    /// by vitrina and its goods return to stock. `0s` turns the hold off.
    #[serde(with = "humantime_serde")]
    pub payment_hold: Duration,
    /// Open unpaid online-payment orders one customer may have (not cancelled, payment_state
    /// `unpaid`); a further online-payment checkout is refused. 0: no limit.
    pub max_unpaid_orders: u32,
    /// The most units of one offer in one cart line or order line (or the stock, if lower).
    pub max_line_quantity: i64,
}

/// The receipt a Russian payment provider registers with its online cash register. Values
/// are ЮKassa's codes (docs/BOT.md lists them and other providers' names for them).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReceiptConfig {
    pub enabled: bool,
    /// VAT of lines whose product states none (1: без НДС, 2: 0 %, 3: 10 %, 4: 20 %,
    /// 5: 10/110, 6: 20/120, 7: 5 %, 8: 7 %, 11: 22 %). Delivery uses it too.
    pub vat_code: u8,
    /// The shop's tax system (1: ОСН, 2: УСН доходы, 3: УСН доходы − расходы, 5: ЕСХН,
    /// 6: патент); providers that know it from the shop's settings do without.
    pub tax_system_code: Option<u8>,
    /// `commodity` (товар), `service`, `job`…; delivery is always `service`.
    pub payment_subject: String,
    /// `full_payment` (полный расчёт) or `full_prepayment` (the goods ship later).
    pub payment_mode: String,
    /// Where the provider sends the receipt: `email` or `phone` (asked for in the invoice
    /// and passed to the provider).
    pub customer_contact: ReceiptContact,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptContact {
    #[default]
    Email,
    Phone,
}

impl Default for ReceiptConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            vat_code: 1,
            tax_system_code: None,
            payment_subject: "commodity".into(),
            payment_mode: "full_payment".into(),
            customer_contact: ReceiptContact::Email,
        }
    }
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        Self {
            currency: "RUB".into(),
            delivery: vec![
                DeliveryMethod {
                    id: "courier".into(),
                    name: "Курьером".into(),
                    name_en: Some("Courier".into()),
                    price: 39_000,
                    free_from: Some(500_000),
                    needs_address: true,
                    pickup_points: Vec::new(),
                },
                DeliveryMethod {
                    id: "pickup".into(),
                    name: "Самовывоз".into(),
                    name_en: Some("Pickup".into()),
                    price: 0,
                    free_from: None,
                    needs_address: false,
                    pickup_points: vec!["Москва, ул. Примерная, 1 (10:00–21:00)".into()],
                },
                DeliveryMethod {
                    id: "post".into(),
                    name: "Почтой России".into(),
                    name_en: Some("Russian Post".into()),
                    price: 29_000,
                    free_from: None,
                    needs_address: true,
                    pickup_points: Vec::new(),
                },
            ],
            payment_methods: vec![PaymentMethod::OnReceipt],
            stars_rate: 180,
            receipt: ReceiptConfig::default(),
            payment_hold: Duration::from_secs(30 * 60),
            max_unpaid_orders: 3,
            max_line_quantity: 50,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryMethod {
    pub id: String,
    /// Russian name; `name_en` for English-speaking customers.
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Minor units.
    pub price: i64,
    /// Free when the items cost at least this much (minor units).
    #[serde(default)]
    pub free_from: Option<i64>,
    #[serde(default)]
    pub needs_address: bool,
    /// The customer picks one of these; empty for methods without pickup.
    #[serde(default)]
    pub pickup_points: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    OnReceipt,
    Telegram,
    Stars,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersConfig {
    /// Every status an order can have; the first is a new order's.
    pub statuses: Vec<String>,
    /// Allowed changes: status → statuses it may become.
    pub transitions: std::collections::BTreeMap<String, Vec<String>>,
    /// Statuses that return the ordered goods to stock.
    pub restock_on: Vec<String>,
    /// Printed before the order number: `V-000042`.
    pub number_prefix: String,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        let t = |from: &str, to: &[&str]| {
            (from.to_string(), to.iter().map(|s| s.to_string()).collect())
        };
        Self {
            statuses: [
                "new",
                "confirmed",
                "paid",
                "shipped",
                "delivered",
                "cancelled",
            ]
            .map(String::from)
            .to_vec(),
            transitions: [
                t("new", &["confirmed", "paid", "cancelled"]),
                t("confirmed", &["paid", "shipped", "cancelled"]),
                t("paid", &["shipped", "cancelled"]),
                t("shipped", &["delivered"]),
                t("delivered", &[]),
                t("cancelled", &[]),
            ]
            .into_iter()
            .collect(),
            restock_on: vec!["cancelled".into()],
            number_prefix: "V-".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InitDataCheck {
    Hmac,
    Ed25519,
    Both,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of session tokens from `POST /api/v1/auth`.
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// HMAC key for session tokens. When absent, a random key is generated once and kept in
    /// the database, shared by every instance.
    pub token_key: Option<Secret>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(3600),
            token_key: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    #[default]
    Embedded,
    Bitrix,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct BackendConfig {
    pub kind: BackendKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BitrixConfig {
    /// Inbound webhook URL; the path carries the access code, so it is a secret.
    pub webhook_url: Option<Secret>,
    /// The `auth[application_token]` Bitrix sends with every event to `/bitrix/events`
    /// (shown by `vitrina bitrix setup`); events without it are refused.
    pub application_token: Option<Secret>,
    /// `sale_order` (an online store: orders with basket, shipment, payment) or `crm_deal`
    /// (a Bitrix24 portal without the store: a deal with product rows and a contact).
    pub order_target: OrderTarget,
    /// The site orders belong to (`lid`).
    pub site_id: String,
    /// The payer type of orders (`personTypeId`; 1 is «Физическое лицо» on a fresh install).
    pub person_type_id: i64,
    /// The catalog's information block (`iblockId`), and the SKU block if products have offers.
    pub catalog_iblock_id: i64,
    pub offers_iblock_id: Option<i64>,
    /// The price type customers pay (`catalogGroupId`; 1 is the base price).
    pub price_type_id: i64,
    /// More price types customers may buy at (those the site's buyers' group may buy at,
    /// `catalog.priceTypeGroup.list`): each product is sold at the lowest of these and
    /// `price_type_id`, as Bitrix picks its optimal price before discounts.
    pub price_type_ids: Vec<i64>,
    /// A price type shown struck through as the price before a discount (usually the base
    /// type, when customers buy at a sale type), when it is above the price customers pay.
    pub old_price_type_id: Option<i64>,
    /// Stock and activity are read this often (quantities and flags only, a few requests at
    /// 20k products) between catalog syncs, besides the catalog events; 0: off.
    #[serde(with = "humantime_serde")]
    pub stock_poll_interval: Duration,
    /// The user field holding a customer's Telegram id. `UF_TELEGRAM_ID` on a 1C-Bitrix site
    /// (created in the admin or by `vitrina bitrix setup`); Bitrix24 prefixes fields made
    /// over REST, so there `setup` prints the name to put here (`UF_USR_TELEGRAM_ID`).
    pub telegram_field: String,
    /// Groups a new Bitrix user joins (`GROUP_ID`).
    pub customer_group_ids: Vec<i64>,
    /// vitrina delivery method id → Bitrix delivery service id (`deliveryId`).
    pub delivery_ids: std::collections::BTreeMap<String, i64>,
    /// vitrina payment method (`on_receipt`, `telegram`, `stars`) → Bitrix pay system id.
    pub pay_system_ids: std::collections::BTreeMap<String, i64>,
    /// Order properties for `name`, `phone`, `email`, `address`, `location`, `comment`,
    /// `coupon`, `telegram_id`: by id (`orderPropsId`, e.g. `3`) or by code (e.g. `"PHONE"`,
    /// looked up with `sale.property.list` for the payer type).
    pub order_properties: std::collections::BTreeMap<String, PropertyRef>,
    /// Bitrix order status (`statusId`, e.g. `N`, `P`, `F`) or deal stage → vitrina status.
    /// Cancelled and paid are read from the order's own flags.
    pub statuses: std::collections::BTreeMap<String, String>,
    /// Catalog: changes every `sync_interval`, everything every `full_sync_interval` (0: off).
    #[serde(with = "humantime_serde")]
    pub sync_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub full_sync_interval: Duration,
    /// Orders changed in Bitrix are polled this often, in case an event was lost (0: off).
    #[serde(with = "humantime_serde")]
    pub reconcile_interval: Duration,
    /// Events older than this (`ts`) are refused as replays.
    #[serde(with = "humantime_serde")]
    pub event_max_age: Duration,
    /// The portal's request budget: a burst, then a steady rate (cloud: 50 and 2/s;
    /// Enterprise: 250 and 5/s; on-premise: as its administrator set).
    pub burst: u32,
    pub requests_per_second: f64,
    /// Sync product pictures. Bitrix lists them one product per call, so they are listed
    /// only for products whose picture files changed since they were last read.
    pub pictures: bool,
    /// Send vitrina's prices as fixed basket prices (`customPrice = Y`). Off (the default),
    /// Bitrix prices the basket itself with its catalog prices, discounts and cart rules, and
    /// the order the customer sees follows Bitrix's total.
    pub fixed_prices: bool,
    /// The location code (Bitrix «Местоположение», e.g. `0000073738` for Moscow) put in the
    /// order property mapped as `location`; empty: none.
    pub location: String,
    /// How long checkout waits for Bitrix's stock answer before going ahead on vitrina's own
    /// stock (0: no check at checkout).
    #[serde(with = "humantime_serde")]
    pub checkout_stock_timeout: Duration,
}

/// A Bitrix order property by its id or its code (digits written as text are an id, as an
/// environment variable gives them).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PropertyRef {
    Id(i64),
    Code(String),
}

impl<'de> Deserialize<'de> for PropertyRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Id(i64),
            Text(String),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Id(id) => PropertyRef::Id(id),
            Raw::Text(t) => PropertyRef::from(t.as_str()),
        })
    }
}

impl From<i64> for PropertyRef {
    fn from(id: i64) -> Self {
        PropertyRef::Id(id)
    }
}

impl From<&str> for PropertyRef {
    fn from(code: &str) -> Self {
        // A number written as text in an environment variable is still an id.
        match code.trim().parse() {
            Ok(id) => PropertyRef::Id(id),
            Err(_) => PropertyRef::Code(code.trim().to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OrderTarget {
    #[default]
    SaleOrder,
    CrmDeal,
}

impl Default for BitrixConfig {
    fn default() -> Self {
        Self {
            webhook_url: None,
            application_token: None,
            order_target: OrderTarget::SaleOrder,
            site_id: "s1".into(),
            person_type_id: 1,
            catalog_iblock_id: 0,
            offers_iblock_id: None,
            price_type_id: 1,
            price_type_ids: Vec::new(),
            old_price_type_id: None,
            stock_poll_interval: Duration::from_secs(60),
            telegram_field: "UF_TELEGRAM_ID".into(),
            customer_group_ids: Vec::new(),
            delivery_ids: Default::default(),
            pay_system_ids: Default::default(),
            order_properties: Default::default(),
            statuses: [("N", "new"), ("P", "paid"), ("F", "delivered")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            sync_interval: Duration::from_secs(15 * 60),
            full_sync_interval: Duration::from_secs(24 * 3600),
            reconcile_interval: Duration::from_secs(60),
            event_max_age: Duration::from_secs(3600),
            burst: 50,
            requests_per_second: 2.0,
            pictures: true,
            fixed_prices: false,
            location: String::new(),
            checkout_stock_timeout: Duration::from_secs(3),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exchange1cConfig {
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Largest part of a file 1C may send in one request (it splits bigger files).
    pub file_limit: usize,
    /// Accept zip packages (1C then sends one archive instead of many files).
    pub zip: bool,
    /// `type=sale`: 1C's "Статус заказа" value → vitrina status, applied when 1C sends its
    /// orders back (e.g. `"[F] Выполнен" = "delivered"`). Cancelled, posted (→ confirmed),
    /// paid and shipped are read from 1C's standard requisites without a mapping.
    pub sale_statuses: std::collections::BTreeMap<String, String>,
    /// Serve `type=sale` (orders to 1C and their state back). On whenever the exchange is
    /// (`user` and `password` set) unless turned off here.
    pub sale: bool,
    /// With `backend.kind = "bitrix"` orders already go to Bitrix: serving `type=sale` too
    /// sends every order to two systems, so start refuses that unless this says it is meant.
    pub allow_sale_with_bitrix: bool,
    /// After this many wrong passwords in a row from one address, that address is refused
    /// (429) for `lockout`, doubling with each further lockout up to `lockout_max`.
    pub lockout_after: u32,
    #[serde(with = "humantime_serde")]
    pub lockout: Duration,
    #[serde(with = "humantime_serde")]
    pub lockout_max: Duration,
}

impl Default for Exchange1cConfig {
    fn default() -> Self {
        Self {
            user: None,
            password: None,
            file_limit: 32 * 1024 * 1024,
            zip: true,
            sale_statuses: Default::default(),
            sale: true,
            allow_sale_with_bitrix: false,
            lockout_after: 5,
            lockout: Duration::from_secs(60),
            lockout_max: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Concurrent jobs per instance; 0 disables the worker in this process.
    pub workers: usize,
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(60),
            max_attempts: 12,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Request rates per client, counted in each instance's memory (so N instances allow N times
/// as much). Each limit is a burst, then `…_per_second` requests a second on average (GCRA).
/// See docs/DEPLOY.md for what each protects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Per client address (through server.trusted_proxies; IPv6 by /64), on the routes that
    /// need no sign-in: catalog, search, images, pages, sign-in itself. High: a mobile
    /// carrier puts many customers behind one address.
    pub anonymous_burst: u32,
    pub anonymous_per_second: f64,
    /// Per client address: requests whose initData or token is refused.
    pub auth_failures_burst: u32,
    pub auth_failures_per_second: f64,
    /// Per customer (Telegram id): every request that needs a sign-in.
    pub customer_burst: u32,
    pub customer_per_second: f64,
    /// Per customer: `POST /api/v1/auth` and `/api/telegram/auth`.
    pub sign_in_burst: u32,
    pub sign_in_per_second: f64,
    /// Per customer: placing orders and creating invoices.
    pub checkout_burst: u32,
    pub checkout_per_second: f64,
    /// Clients remembered per limit; the least used are forgotten first, so memory stays
    /// bounded whatever a flood sends.
    pub max_clients: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            anonymous_burst: 2000,
            anonymous_per_second: 200.0,
            auth_failures_burst: 60,
            auth_failures_per_second: 1.0,
            customer_burst: 120,
            customer_per_second: 10.0,
            sign_in_burst: 20,
            sign_in_per_second: 0.5,
            checkout_burst: 10,
            checkout_per_second: 0.2,
            max_clients: 50_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DevConfig {
    /// Serve the `/dev/*` helpers (dev-signed initData, a deliberately slow request).
    /// On in `vitrina demo`; never turn it on for a shop that customers use.
    pub enabled: bool,
    /// Dev sign-in mints initData that this server accepts. With a real bot token that would
    /// let anyone sign in as anyone, so it needs this explicit second switch.
    pub allow_with_real_bot_token: bool,
    /// Fault injection for the crash tests: checkout hangs at this point (`before_commit`:
    /// everything written, transaction open; `after_commit`: committed, no answer yet), so a
    /// test can SIGKILL the process there. Needs `enabled`.
    pub checkout_pause: Option<CheckoutPause>,
    /// Fault injection for the payment crash test: a successful_payment hangs before its
    /// transaction commits. Needs `enabled`.
    pub payment_pause: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutPause {
    BeforeCommit,
    AfterCommit,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("{0}")]
    Parse(String),
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Defaults, then the file (if given), then `VITRINA_…` variables from the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        // Defaults come from `#[serde(default)]`, not from a serialized Config: serializing
        // would redact the secrets.
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Missing(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("VITRINA_").split("__").ignore(CLI_ENV_KEYS));
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe_figment_error(e)))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        let url = &self.server.public_url;
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
        if self.server.max_body_bytes < 1024 {
            return invalid(
                "server.max_body_bytes",
                "expected at least 1024 bytes".into(),
            );
        }
        if self.server.request_timeout.is_zero() {
            return invalid(
                "server.request_timeout",
                "expected a positive duration such as \"30s\"".into(),
            );
        }
        if self.database.kind().is_none() {
            return invalid(
                "database.url",
                "expected sqlite://path/to/file.db or postgres://user@host/db".into(),
            );
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "expected at least 1".into());
        }
        if let Some(token) = &self.telegram.bot_token
            && !looks_like_bot_token(token.expose())
        {
            return invalid(
                "telegram.bot_token",
                "expected a token from @BotFather such as 123456789:AA… (digits, a colon, then letters, digits, - or _)".into(),
            );
        }
        if let Some(secret) = &self.telegram.webhook_secret {
            let s = secret.expose();
            if s.is_empty()
                || s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return invalid(
                    "telegram.webhook_secret",
                    "expected 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret_token)".into(),
                );
            }
        }
        if self.telegram.init_data_max_age.is_zero() {
            return invalid(
                "telegram.init_data_max_age",
                "expected a positive duration such as \"24h\"".into(),
            );
        }
        if self.backend.kind == BackendKind::Bitrix && self.bitrix.webhook_url.is_none() {
            return invalid(
                "bitrix.webhook_url",
                "required when backend.kind = \"bitrix\" (https://<portal>/rest/<user>/<code>/)"
                    .into(),
            );
        }
        if self.backend.kind == BackendKind::Bitrix {
            if let Some(bad) = self
                .bitrix
                .statuses
                .values()
                .find(|s| !self.orders.statuses.contains(s))
            {
                return invalid(
                    "bitrix.statuses",
                    format!(
                        "{bad:?} is not one of orders.statuses ({})",
                        self.orders.statuses.join(", ")
                    ),
                );
            }
            if self.bitrix.burst == 0 || self.bitrix.requests_per_second <= 0.0 {
                return invalid(
                    "bitrix.requests_per_second",
                    "expected a positive burst and rate (cloud portals: 50 and 2)".into(),
                );
            }
        }
        match self.telegram.init_data_check {
            InitDataCheck::Hmac | InitDataCheck::Both => {}
            InitDataCheck::Ed25519 => {
                if self.telegram.bot_id.is_none() && self.telegram.bot_token.is_none() {
                    return invalid(
                        "telegram.bot_id",
                        "required for init_data_check = \"ed25519\" when telegram.bot_token is not set".into(),
                    );
                }
            }
        }
        if let Some(key) = &self.auth.token_key
            && key.expose().len() < 32
        {
            return invalid(
                "auth.token_key",
                "expected at least 32 characters of random text".into(),
            );
        }
        if self.auth.token_ttl < Duration::from_secs(60) {
            return invalid("auth.token_ttl", "expected at least 1m".into());
        }
        let real_token = self
            .telegram
            .bot_token
            .as_ref()
            .is_some_and(|t| t.expose() != DEMO_BOT_TOKEN);
        if self.telegram.messages_per_second == 0 || self.telegram.group_messages_per_minute == 0 {
            return invalid(
                "telegram.messages_per_second",
                "expected at least 1 (Telegram allows 30 per second, 20 per minute per group)"
                    .into(),
            );
        }
        if !(self.telegram.api_base_url.starts_with("https://")
            || self.telegram.api_base_url.starts_with("http://"))
        {
            return invalid(
                "telegram.api_base_url",
                "expected an http(s) URL such as https://api.telegram.org".into(),
            );
        }
        if self.checkout.stars_rate <= 0 {
            return invalid(
                "checkout.stars_rate",
                "expected the price of one Star in minor units, at least 1".into(),
            );
        }
        if self
            .checkout
            .payment_methods
            .contains(&PaymentMethod::Telegram)
            && self.telegram.payment_provider_token.is_none()
        {
            return invalid(
                "checkout.payment_methods",
                "`telegram` needs telegram.payment_provider_token (from @BotFather → Payments)"
                    .into(),
            );
        }
        if self.dev.payment_pause && !self.dev.enabled {
            return invalid(
                "dev.payment_pause",
                "a fault-injection point for tests; it needs dev.enabled = true".into(),
            );
        }
        if self.dev.checkout_pause.is_some() && !self.dev.enabled {
            return invalid(
                "dev.checkout_pause",
                "a fault-injection point for tests; it needs dev.enabled = true".into(),
            );
        }
        if self.dev.enabled && real_token && !self.dev.allow_with_real_bot_token {
            return invalid(
                "dev.enabled",
                "dev sign-in together with a real telegram.bot_token lets anyone sign in as any customer; \
                 turn dev.enabled off, or set dev.allow_with_real_bot_token = true if this is a private test bot"
                    .into(),
            );
        }
        if self.exchange_1c.user.is_some() != self.exchange_1c.password.is_some() {
            return invalid(
                "exchange_1c.password",
                "set both exchange_1c.user and exchange_1c.password, or neither".into(),
            );
        }
        if self.exchange_1c.file_limit < 64 * 1024 {
            return invalid(
                "exchange_1c.file_limit",
                "expected at least 65536 bytes".into(),
            );
        }
        if self.checkout.delivery.is_empty() {
            return invalid(
                "checkout.delivery",
                "expected at least one delivery method".into(),
            );
        }
        let mut ids = std::collections::HashSet::new();
        for d in &self.checkout.delivery {
            if !ids.insert(d.id.as_str()) {
                return invalid(
                    "checkout.delivery",
                    format!("delivery method id {:?} appears twice", d.id),
                );
            }
            if d.price < 0 || d.free_from.is_some_and(|f| f < 0) {
                return invalid(
                    "checkout.delivery",
                    format!("delivery method {:?}: prices cannot be negative", d.id),
                );
            }
        }
        if self.checkout.payment_methods.is_empty() {
            return invalid(
                "checkout.payment_methods",
                "expected at least one of on_receipt, telegram, stars".into(),
            );
        }
        if self
            .checkout
            .payment_methods
            .contains(&PaymentMethod::Telegram)
            && self.telegram.payment_provider_token.is_none()
        {
            return invalid(
                "checkout.payment_methods",
                "telegram payments need telegram.payment_provider_token (from @BotFather, Payments)".into(),
            );
        }
        if self.orders.statuses.is_empty() {
            return invalid("orders.statuses", "expected at least one status".into());
        }
        if let Some(bad) = self
            .exchange_1c
            .sale_statuses
            .values()
            .find(|s| !self.orders.statuses.contains(s))
        {
            return invalid(
                "exchange_1c.sale_statuses",
                format!(
                    "{bad:?} is not one of orders.statuses ({})",
                    self.orders.statuses.join(", ")
                ),
            );
        }
        for (from, tos) in &self.orders.transitions {
            for status in std::iter::once(from).chain(tos) {
                if !self.orders.statuses.contains(status) {
                    return invalid(
                        "orders.transitions",
                        format!("status {status:?} is not in orders.statuses"),
                    );
                }
            }
        }
        if self.backend.kind == BackendKind::Bitrix
            && self.exchange_1c.user.is_some()
            && self.exchange_1c.password.is_some()
            && self.exchange_1c.sale
            && !self.exchange_1c.allow_sale_with_bitrix
        {
            return invalid(
                "exchange_1c.sale",
                "backend.kind = \"bitrix\" sends every order to Bitrix, and the 1C exchange (user and password set) would also hand it to 1C with type=sale: one order in two systems. Set exchange_1c.sale = false (1C then gets orders from Bitrix's own exchange), or exchange_1c.allow_sale_with_bitrix = true if both are meant".into(),
            );
        }
        let receipt = &self.checkout.receipt;
        if receipt.enabled {
            if !matches!(receipt.vat_code, 1..=12) {
                return invalid(
                    "checkout.receipt.vat_code",
                    format!(
                        "expected one of ЮKassa's VAT codes 1-12, got {}",
                        receipt.vat_code
                    ),
                );
            }
            if let Some(code) = receipt.tax_system_code
                && !matches!(code, 1..=6)
            {
                return invalid(
                    "checkout.receipt.tax_system_code",
                    format!("expected 1-6, got {code}"),
                );
            }
            if !crate::payments::receipt::PAYMENT_SUBJECTS
                .contains(&receipt.payment_subject.as_str())
            {
                return invalid(
                    "checkout.receipt.payment_subject",
                    format!(
                        "expected one of {}, got {:?}",
                        crate::payments::receipt::PAYMENT_SUBJECTS.join(", "),
                        receipt.payment_subject
                    ),
                );
            }
            if !crate::payments::receipt::PAYMENT_MODES.contains(&receipt.payment_mode.as_str()) {
                return invalid(
                    "checkout.receipt.payment_mode",
                    format!(
                        "expected one of {}, got {:?}",
                        crate::payments::receipt::PAYMENT_MODES.join(", "),
                        receipt.payment_mode
                    ),
                );
            }
        }
        if self.checkout.max_line_quantity < 1 {
            return invalid("checkout.max_line_quantity", "expected at least 1".into());
        }
        let online = self
            .checkout
            .payment_methods
            .iter()
            .any(|m| *m != PaymentMethod::OnReceipt);
        if online && !self.checkout.payment_hold.is_zero() {
            if self.checkout.payment_hold < Duration::from_secs(1) {
                return invalid(
                    "checkout.payment_hold",
                    "expected a duration such as \"30m\" (or 0s to keep unpaid orders until staff cancel them)"
                        .into(),
                );
            }
            if self.orders.restock_on.is_empty() {
                return invalid(
                    "checkout.payment_hold",
                    "an expired hold cancels the order with a status in orders.restock_on, which is empty".into(),
                );
            }
        }
        let r = &self.rate_limit;
        for (key, burst, per_second) in [
            (
                "rate_limit.anonymous_per_second",
                r.anonymous_burst,
                r.anonymous_per_second,
            ),
            (
                "rate_limit.auth_failures_per_second",
                r.auth_failures_burst,
                r.auth_failures_per_second,
            ),
            (
                "rate_limit.customer_per_second",
                r.customer_burst,
                r.customer_per_second,
            ),
            (
                "rate_limit.sign_in_per_second",
                r.sign_in_burst,
                r.sign_in_per_second,
            ),
            (
                "rate_limit.checkout_per_second",
                r.checkout_burst,
                r.checkout_per_second,
            ),
        ] {
            if burst == 0 || !(per_second > 0.0 && per_second.is_finite()) {
                return invalid(
                    key,
                    format!("expected a positive burst and rate, got {burst} and {per_second}/s"),
                );
            }
        }
        if r.max_clients < 100 {
            return invalid("rate_limit.max_clients", "expected at least 100".into());
        }
        if self.exchange_1c.lockout_after == 0 || self.exchange_1c.lockout.is_zero() {
            return invalid(
                "exchange_1c.lockout",
                "expected lockout_after of at least 1 and a positive lockout".into(),
            );
        }
        if self.outbox.max_attempts == 0 {
            return invalid("outbox.max_attempts", "expected at least 1".into());
        }
        if self.outbox.lease < Duration::from_secs(1) {
            return invalid("outbox.lease", "expected at least 1s".into());
        }
        if self.outbox.poll_interval.is_zero() {
            return invalid(
                "outbox.poll_interval",
                "expected a positive duration such as \"1s\"".into(),
            );
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets redacted (for `vitrina config check`).
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }

    pub fn is_sqlite(&self) -> bool {
        self.database.kind() == Some(DatabaseKind::Sqlite)
    }
}

fn looks_like_bot_token(token: &str) -> bool {
    match token.split_once(':') {
        Some((id, rest)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

/// Figment's messages already name the key and the source; make them one line each.
fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = match &e.metadata {
                Some(md) => match &md.source {
                    Some(src) => format!(" (from {src})"),
                    None => format!(" (from {})", md.name),
                },
                None => String::new(),
            };
            if key.is_empty() {
                format!("config: {}{source}", e.kind)
            } else {
                format!("config key `{key}`: {}{source}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A configuration value that must never reach a log, an error message or a response.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

const REDACTED: &str = "[redacted]";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Environment values such as a numeric password arrive as numbers; a secret is text.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::new(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret::new(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A database URL fit for logs: the password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:{REDACTED}")
            } else {
                user.to_string()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    /// docs/CONFIG.md's block titled "as the defaults are" says what the defaults are.
    #[test]
    fn the_documented_defaults_are_the_defaults() {
        let doc = include_str!("../docs/CONFIG.md");
        let start = doc
            .find("as the defaults are")
            .expect("the defaults example");
        let block = &doc[start..];
        let block = &block[block.find("```toml").expect("a toml block") + 7..];
        let block = &block[..block.find("```").expect("the block's end")];
        let parsed: Config = Figment::new()
            .merge(Toml::string(block))
            .extract()
            .expect("the example parses");
        let defaults = Config::default();
        let json = |v: &dyn erased::Ser| v.json();
        assert_eq!(
            json(&parsed.checkout.payment_methods),
            json(&defaults.checkout.payment_methods)
        );
        assert_eq!(
            json(&parsed.checkout.delivery),
            json(&defaults.checkout.delivery)
        );
        assert_eq!(
            json(&parsed.orders.transitions),
            json(&defaults.orders.transitions)
        );
    }

    mod erased {
        pub trait Ser {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap_or_default()
            }
        }
    }

    #[test]
    fn bitrix_with_1c_orders_is_refused_unless_meant() {
        let mut c = Config::default();
        c.backend.kind = BackendKind::Bitrix;
        c.bitrix.webhook_url = Some(Secret::new("https://b.example.ru/rest/1/x/"));
        c.exchange_1c.user = Some("1c".into());
        c.exchange_1c.password = Some(Secret::new("p"));
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("exchange_1c.sale") && err.contains("two systems"),
            "{err}"
        );
        c.exchange_1c.sale = false;
        assert!(c.validate().is_ok());
        c.exchange_1c.sale = true;
        c.exchange_1c.allow_sale_with_bitrix = true;
        assert!(c.validate().is_ok());
    }
    use super::*;
    use std::io::Write;

    #[allow(clippy::result_large_err)] // figment's Jail API, test-only
    fn load_str(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(toml.as_bytes()).expect("write");
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            for (k, v) in env {
                jail.set_env(k, v);
            }
            let result = Config::load(Some(file.path()));
            // Jail wants a figment error; we carry ours out through a cell instead.
            RESULT.with(|r| *r.borrow_mut() = Some(result));
            Ok(())
        });
        RESULT.with(|r| r.borrow_mut().take()).expect("jail ran")
    }

    thread_local! {
        static RESULT: std::cell::RefCell<Option<Result<Config, ConfigError>>> = const { std::cell::RefCell::new(None) };
    }

    #[test]
    fn defaults_are_valid() {
        let config = load_str("", &[]).expect("defaults load");
        assert!(config.is_sqlite());
        assert_eq!(
            config.telegram.init_data_max_age,
            Duration::from_secs(86400)
        );
    }

    #[test]
    fn mistyped_key_is_named() {
        let err = load_str("[server]\nlisen = \"127.0.0.1:1\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
        assert!(err.contains("listen"), "suggests the known keys: {err}");
    }

    #[test]
    fn unknown_section_is_named() {
        let err = load_str("[telegramm]\nbot_token = \"1:a\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("telegramm"), "{err}");
    }

    #[test]
    fn bad_value_names_key_and_expectation() {
        let err = load_str("[server]\nlisten = \"not an address\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.listen"), "{err}");
        let err = load_str("[telegram]\ninit_data_max_age = \"soon\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("telegram.init_data_max_age"), "{err}");
        let err = load_str("[server]\npublic_url = \"shop.example.com\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("server.public_url") && err.contains("absolute"),
            "{err}"
        );
    }

    #[test]
    fn order_properties_by_id_or_code_from_file_and_env() {
        let config = load_str(
            "[bitrix]\norder_properties = { name = 1, phone = \"PHONE\", comment = \"20\" }\n",
            &[
                ("VITRINA_BITRIX__ORDER_PROPERTIES__EMAIL", "EMAIL"),
                ("VITRINA_BITRIX__ORDER_PROPERTIES__ADDRESS", "7"),
            ],
        )
        .unwrap();
        let p = &config.bitrix.order_properties;
        assert_eq!(p["name"], PropertyRef::Id(1));
        assert_eq!(p["phone"], PropertyRef::Code("PHONE".into()));
        assert_eq!(p["comment"], PropertyRef::Id(20));
        assert_eq!(p["email"], PropertyRef::Code("EMAIL".into()));
        assert_eq!(p["address"], PropertyRef::Id(7));
    }

    #[test]
    fn env_overrides_file_and_unknown_env_key_fails() {
        let config = load_str(
            "[server]\nlisten = \"127.0.0.1:1\"\n",
            &[
                ("VITRINA_SERVER__LISTEN", "127.0.0.1:2"),
                ("VITRINA_TELEGRAM__STAFF_CHAT_ID", "-100123"),
            ],
        )
        .expect("loads");
        assert_eq!(config.server.listen.port(), 2);
        assert_eq!(config.telegram.staff_chat_id, Some(-100123));
        let err = load_str("", &[("VITRINA_TELEGRAM__BOT_TOKN", "1:x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("bot_tokn"), "{err}");
    }

    #[test]
    fn numeric_secret_from_env_is_text() {
        let config = load_str(
            "",
            &[
                ("VITRINA_EXCHANGE_1C__USER", "1c"),
                ("VITRINA_EXCHANGE_1C__PASSWORD", "123456"),
            ],
        )
        .expect("loads");
        assert_eq!(
            config.exchange_1c.password.as_ref().map(Secret::expose),
            Some("123456")
        );
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let config = load_str(
            "[telegram]\nbot_token = \"123456:SECRET-token_value\"\npayment_provider_token = \"PROVIDERSECRET\"\n\
             [bitrix]\nwebhook_url = \"https://portal.example.ru/rest/1/WEBHOOKSECRET/\"\napplication_token = \"APPTOKENSECRET\"\n\
             [exchange_1c]\nuser = \"1c\"\npassword = \"PASSWORDSECRET\"\n\
             [database]\nurl = \"postgres://shop:DBSECRET@db/shop\"\n",
            &[],
        )
        .expect("loads");
        let rendered = [format!("{config:?}"), config.to_redacted_toml()];
        for text in rendered {
            for secret in [
                "SECRET-token",
                "PROVIDERSECRET",
                "WEBHOOKSECRET",
                "APPTOKENSECRET",
                "PASSWORDSECRET",
                "DBSECRET",
            ] {
                assert!(!text.contains(secret), "{secret} leaked in {text}");
            }
            assert!(text.contains("[redacted]"));
        }
    }

    #[test]
    fn bad_bot_token_is_rejected_without_echoing_it() {
        let err = load_str("[telegram]\nbot_token = \"oops no colon\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("telegram.bot_token") && !err.contains("oops"),
            "{err}"
        );
    }

    #[test]
    fn bitrix_statuses_must_be_vitrina_statuses() {
        let err = load_str(
            "[backend]\nkind = \"bitrix\"\n[bitrix]\nwebhook_url = \"https://p.example.ru/rest/1/x/\"\nstatuses = { N = \"neu\" }\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("bitrix.statuses") && err.contains("neu"),
            "{err}"
        );
    }

    #[test]
    fn redacts_database_password() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:[redacted]@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}

//! `[catalog]`, `[checkout]` (receipts, delivery, payment methods), `[orders]`, `[auth]` and `[selling]`.

use super::*;

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

/// Favourites and back-in-stock / price-drop alerts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SellingConfig {
    /// Favourite products one customer may keep; one more is refused (`409 favorites_limit`).
    pub max_favorites: u32,
    /// Open alert subscriptions one customer may have (`409 subscriptions_limit`).
    pub max_subscriptions: u32,
}

impl Default for SellingConfig {
    fn default() -> Self {
        Self {
            max_favorites: 200,
            max_subscriptions: 200,
        }
    }
}

impl CheckoutConfig {
    /// Stars priced, delivery methods distinct and not negative, something to pay with, a
    /// receipt a provider accepts, a line that can hold one unit.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.stars_rate <= 0 {
            return invalid(
                "checkout.stars_rate",
                "expected the price of one Star in minor units, at least 1",
            );
        }
        if self.delivery.is_empty() {
            return invalid("checkout.delivery", "expected at least one delivery method");
        }
        let mut ids = std::collections::HashSet::new();
        for d in &self.delivery {
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
        if self.payment_methods.is_empty() {
            return invalid(
                "checkout.payment_methods",
                "expected at least one of on_receipt, telegram, stars",
            );
        }
        self.receipt.validate()?;
        if self.max_line_quantity < 1 {
            return invalid("checkout.max_line_quantity", "expected at least 1");
        }
        Ok(())
    }

    /// Some payment method is paid online (`telegram`, `stars`), so orders wait for it.
    pub(super) fn takes_online_payments(&self) -> bool {
        self.payment_methods
            .iter()
            .any(|m| *m != PaymentMethod::OnReceipt)
    }
}

impl ReceiptConfig {
    /// When receipts are on: ЮKassa's codes only. Off, nothing here is read.
    fn validate(&self) -> Result<(), ConfigError> {
        use crate::payments::receipt::{PAYMENT_MODES, PAYMENT_SUBJECTS};
        if !self.enabled {
            return Ok(());
        }
        if !matches!(self.vat_code, 1..=12) {
            return invalid(
                "checkout.receipt.vat_code",
                format!(
                    "expected one of ЮKassa's VAT codes 1-12, got {}",
                    self.vat_code
                ),
            );
        }
        if let Some(code) = self.tax_system_code
            && !matches!(code, 1..=6)
        {
            return invalid(
                "checkout.receipt.tax_system_code",
                format!("expected 1-6, got {code}"),
            );
        }
        if !PAYMENT_SUBJECTS.contains(&self.payment_subject.as_str()) {
            return invalid(
                "checkout.receipt.payment_subject",
                format!(
                    "expected one of {}, got {:?}",
                    PAYMENT_SUBJECTS.join(", "),
                    self.payment_subject
                ),
            );
        }
        if !PAYMENT_MODES.contains(&self.payment_mode.as_str()) {
            return invalid(
                "checkout.receipt.payment_mode",
                format!(
                    "expected one of {}, got {:?}",
                    PAYMENT_MODES.join(", "),
                    self.payment_mode
                ),
            );
        }
        Ok(())
    }
}

impl OrdersConfig {
    /// At least one status, and transitions only between known statuses.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.statuses.is_empty() {
            return invalid("orders.statuses", "expected at least one status");
        }
        for (from, tos) in &self.transitions {
            for status in std::iter::once(from).chain(tos) {
                if !self.statuses.contains(status) {
                    return invalid(
                        "orders.transitions",
                        format!("status {status:?} is not in orders.statuses"),
                    );
                }
            }
        }
        Ok(())
    }
}

impl AuthConfig {
    /// A token key long enough to resist guessing, tokens that live at least a minute.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(key) = &self.token_key
            && key.expose().len() < 32
        {
            return invalid(
                "auth.token_key",
                "expected at least 32 characters of random text",
            );
        }
        if self.token_ttl < Duration::from_secs(60) {
            return invalid("auth.token_ttl", "expected at least 1m");
        }
        Ok(())
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    fn checkout(edit: impl FnOnce(&mut CheckoutConfig)) -> Option<&'static str> {
        let mut c = CheckoutConfig::default();
        edit(&mut c);
        refused_key(c.validate())
    }

    #[test]
    fn checkout_rules() {
        assert_eq!(checkout(|_| {}), None);
        assert_eq!(checkout(|c| c.stars_rate = 0), Some("checkout.stars_rate"));
        assert_eq!(checkout(|c| c.delivery.clear()), Some("checkout.delivery"));
        assert_eq!(
            checkout(|c| c.delivery[1].id = c.delivery[0].id.clone()),
            Some("checkout.delivery")
        );
        assert_eq!(
            checkout(|c| c.delivery[0].price = -1),
            Some("checkout.delivery")
        );
        assert_eq!(
            checkout(|c| c.delivery[0].free_from = Some(-1)),
            Some("checkout.delivery")
        );
        assert_eq!(
            checkout(|c| c.payment_methods.clear()),
            Some("checkout.payment_methods")
        );
        assert_eq!(
            checkout(|c| c.max_line_quantity = 0),
            Some("checkout.max_line_quantity")
        );
    }

    #[test]
    fn receipt_rules_apply_only_when_enabled() {
        let off = |c: &mut CheckoutConfig| c.receipt.vat_code = 0;
        assert_eq!(checkout(off), None);
        let on = |edit: fn(&mut ReceiptConfig)| {
            checkout(|c| {
                c.receipt.enabled = true;
                c.receipt.tax_system_code = Some(1);
                edit(&mut c.receipt);
            })
        };
        assert_eq!(on(|_| {}), None);
        assert_eq!(on(|r| r.vat_code = 13), Some("checkout.receipt.vat_code"));
        assert_eq!(
            on(|r| r.tax_system_code = Some(7)),
            Some("checkout.receipt.tax_system_code")
        );
        assert_eq!(
            on(|r| r.payment_subject = "gift".into()),
            Some("checkout.receipt.payment_subject")
        );
        assert_eq!(
            on(|r| r.payment_mode = "on_credit".into()),
            Some("checkout.receipt.payment_mode")
        );
    }

    #[test]
    fn online_payments_are_any_but_on_receipt() {
        let mut c = CheckoutConfig::default();
        assert!(!c.takes_online_payments());
        c.payment_methods.push(PaymentMethod::Stars);
        assert!(c.takes_online_payments());
    }

    #[test]
    fn orders_rules() {
        assert_eq!(refused_key(OrdersConfig::default().validate()), None);
        let mut o = OrdersConfig::default();
        o.statuses.clear();
        assert_eq!(refused_key(o.validate()), Some("orders.statuses"));
        let mut o = OrdersConfig::default();
        o.transitions.insert("new".into(), vec!["lost".into()]);
        assert_eq!(refused_key(o.validate()), Some("orders.transitions"));
        let mut o = OrdersConfig::default();
        o.transitions.insert("lost".into(), vec![]);
        assert_eq!(refused_key(o.validate()), Some("orders.transitions"));
    }

    #[test]
    fn auth_rules() {
        let ok = AuthConfig {
            token_key: Some(Secret::new("k".repeat(32))),
            token_ttl: Duration::from_secs(60),
        };
        assert_eq!(refused_key(ok.validate()), None);
        let short_key = AuthConfig {
            token_key: Some(Secret::new("k".repeat(31))),
            ..Default::default()
        };
        assert_eq!(refused_key(short_key.validate()), Some("auth.token_key"));
        let short_ttl = AuthConfig {
            token_ttl: Duration::from_secs(59),
            ..Default::default()
        };
        assert_eq!(refused_key(short_ttl.validate()), Some("auth.token_ttl"));
    }
}

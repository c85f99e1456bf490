//! `[backend]`, `[bitrix]` and `[exchange_1c]`.

use super::*;

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

impl BitrixConfig {
    /// With `backend.kind = "bitrix"`: a portal to call and a positive request rate. With the
    /// embedded backend nothing here is read.
    pub(super) fn validate(&self, backend: BackendKind) -> Result<(), ConfigError> {
        if backend != BackendKind::Bitrix {
            return Ok(());
        }
        if self.webhook_url.is_none() {
            return invalid(
                "bitrix.webhook_url",
                "required when backend.kind = \"bitrix\" (https://<portal>/rest/<user>/<code>/)",
            );
        }
        if self.burst == 0 || self.requests_per_second <= 0.0 {
            return invalid(
                "bitrix.requests_per_second",
                "expected a positive burst and rate (cloud portals: 50 and 2)",
            );
        }
        Ok(())
    }
}

impl Exchange1cConfig {
    /// The exchange on (user and password) or off (neither), a file part 1C can split to,
    /// a lockout that locks.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.user.is_some() != self.password.is_some() {
            return invalid(
                "exchange_1c.password",
                "set both exchange_1c.user and exchange_1c.password, or neither",
            );
        }
        if self.file_limit < 64 * 1024 {
            return invalid("exchange_1c.file_limit", "expected at least 65536 bytes");
        }
        if self.lockout_after == 0 || self.lockout.is_zero() {
            return invalid(
                "exchange_1c.lockout",
                "expected lockout_after of at least 1 and a positive lockout",
            );
        }
        Ok(())
    }

    /// The exchange is on: 1C signs in with `user` and `password`.
    pub(super) fn is_on(&self) -> bool {
        self.user.is_some() && self.password.is_some()
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn bitrix_rules_only_for_the_bitrix_backend() {
        let unset = BitrixConfig::default();
        assert_eq!(refused_key(unset.validate(BackendKind::Embedded)), None);
        assert_eq!(
            refused_key(unset.validate(BackendKind::Bitrix)),
            Some("bitrix.webhook_url")
        );
        let set = BitrixConfig {
            webhook_url: Some(Secret::new("https://portal/rest/1/code/")),
            ..Default::default()
        };
        assert_eq!(refused_key(set.validate(BackendKind::Bitrix)), None);
        for (burst, rate) in [(0, 2.0), (50, 0.0), (50, -1.0)] {
            let slow = BitrixConfig {
                burst,
                requests_per_second: rate,
                ..set.clone()
            };
            assert_eq!(refused_key(slow.validate(BackendKind::Embedded)), None);
            assert_eq!(
                refused_key(slow.validate(BackendKind::Bitrix)),
                Some("bitrix.requests_per_second")
            );
        }
    }

    #[test]
    fn exchange_1c_rules() {
        let off = Exchange1cConfig::default();
        assert_eq!(refused_key(off.validate()), None);
        assert!(!off.is_on());
        let on = Exchange1cConfig {
            user: Some("1c".into()),
            password: Some(Secret::new("pw")),
            ..Default::default()
        };
        assert_eq!(refused_key(on.validate()), None);
        assert!(on.is_on());
        let half = Exchange1cConfig {
            user: Some("1c".into()),
            ..Default::default()
        };
        assert_eq!(refused_key(half.validate()), Some("exchange_1c.password"));
        let half = Exchange1cConfig {
            password: Some(Secret::new("pw")),
            ..Default::default()
        };
        assert_eq!(refused_key(half.validate()), Some("exchange_1c.password"));
        let small = Exchange1cConfig {
            file_limit: 64 * 1024 - 1,
            ..Default::default()
        };
        assert_eq!(
            refused_key(small.validate()),
            Some("exchange_1c.file_limit")
        );
        let never = Exchange1cConfig {
            lockout_after: 0,
            ..Default::default()
        };
        assert_eq!(refused_key(never.validate()), Some("exchange_1c.lockout"));
        let instant = Exchange1cConfig {
            lockout: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(refused_key(instant.validate()), Some("exchange_1c.lockout"));
    }
}

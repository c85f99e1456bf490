//! `vitrina bitrix check` (is everything in place, and if not, what to do in the Bitrix
//! admin) and `vitrina bitrix setup` (create the Telegram user field, bind the order events).

use serde_json::{Value, json};

use super::BitrixError;
use crate::config::{Config, OrderTarget};
use bitrix::Safety;

/// One line of a check: what, whether it is fine, and how to fix it when not.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub ok: bool,
    pub what: String,
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub(super) fn ok(&mut self, what: impl Into<String>) {
        self.findings.push(Finding {
            ok: true,
            what: what.into(),
            fix: None,
        });
    }
    pub(super) fn bad(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.findings.push(Finding {
            ok: false,
            what: what.into(),
            fix: Some(fix.into()),
        });
    }
    /// Works, but worth knowing (customers see a Bitrix status name, an order update is a dead
    /// letter): shown with `!`, does not fail the check.
    fn warn(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.findings.push(Finding {
            ok: true,
            what: what.into(),
            fix: Some(fix.into()),
        });
    }
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let mark = match (f.ok, &f.fix) {
                (true, None) => "✓",
                (true, Some(_)) => "!",
                (false, _) => "✗",
            };
            out.push_str(&format!("{mark} {}\n", f.what));
            if let Some(fix) = &f.fix {
                out.push_str(&format!("    → {fix}\n"));
            }
        }
        out
    }
}

/// Scopes the webhook needs for the configured order target.
pub fn required_scopes(config: &Config) -> &'static [&'static str] {
    match config.bitrix.order_target {
        OrderTarget::SaleOrder => &["catalog", "sale", "user", "user.userfield"],
        OrderTarget::CrmDeal => &["catalog", "crm"],
    }
}

/// Methods vitrina calls, by order target.
pub fn required_methods(config: &Config) -> Vec<&'static str> {
    let mut m = vec![
        "batch",
        "event.bind",
        "event.get",
        "catalog.section.list",
        "catalog.product.list",
        "catalog.price.list",
        "catalog.productProperty.list",
        "catalog.productPropertyEnum.list",
    ];
    if config.bitrix.offers_iblock_id.is_some() {
        m.push("catalog.product.offer.list");
    }
    if config.bitrix.pictures {
        m.push("catalog.productImage.list");
    }
    match config.bitrix.order_target {
        OrderTarget::SaleOrder => m.extend([
            "user.get",
            "user.add",
            "user.userfield.list",
            "user.userfield.add",
            "sale.order.list",
            "sale.order.get",
            "sale.order.add",
            "sale.order.update",
            "sale.basketitem.add",
            "sale.basketitem.list",
            "sale.shipment.add",
            "sale.shipment.list",
            "sale.payment.add",
            "sale.payment.list",
            "sale.payment.update",
            "sale.propertyvalue.modify",
            "sale.status.list",
            "sale.statusLang.list",
            "sale.property.list",
            "user.update",
        ]),
        OrderTarget::CrmDeal => m.extend([
            "crm.deal.add",
            "crm.deal.list",
            "crm.deal.get",
            "crm.deal.update",
            "crm.deal.productrows.set",
            "crm.contact.add",
            "crm.contact.list",
            "crm.status.list",
        ]),
    }
    m
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect(),
        Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

pub fn events_url(config: &Config) -> String {
    format!(
        "{}/bitrix/events",
        config.server.public_url.trim_end_matches('/')
    )
}

fn event_name(config: &Config) -> &'static str {
    match config.bitrix.order_target {
        OrderTarget::SaleOrder => "OnSaleOrderSaved",
        OrderTarget::CrmDeal => "OnCrmDealUpdate",
    }
}

/// Verifies the webhook, its scopes and methods, the user field, the event binding and the
/// config; every problem comes with what to do about it.
pub async fn check(client: &bitrix::Client, config: &Config) -> Report {
    let mut report = Report::default();
    let webhook_fix = "in Bitrix: Приложения → Разработчикам → Другое → Входящий вебхук \
        (Bitrix24), or Настройки → Настройки продукта → REST → Входящие вебхуки (1C-Bitrix); \
        copy the URL up to and including the code into bitrix.webhook_url";
    let scopes = match client.call("scope", &json!({}), Safety::Safe).await {
        Ok(a) => {
            report.ok("the webhook answers");
            strings(&a.result)
        }
        Err(e) => {
            let why = match e.code() {
                Some("INVALID_CREDENTIALS") | Some("NO_AUTH_FOUND") => {
                    "the webhook URL or its code is wrong (or the webhook was deleted)".to_string()
                }
                _ => e.to_string(),
            };
            report.bad(format!("the webhook does not answer: {why}"), webhook_fix);
            return report;
        }
    };
    let missing: Vec<&str> = required_scopes(config)
        .iter()
        .copied()
        .filter(|s| !scopes.iter().any(|have| have == s))
        .collect();
    if missing.is_empty() {
        report.ok(format!("scopes: {}", required_scopes(config).join(", ")));
    } else {
        report.bad(
            format!("the webhook lacks the scopes: {}", missing.join(", ")),
            format!(
                "edit the inbound webhook in Bitrix and tick the permissions {} (Торговый каталог = catalog, \
                 Интернет-магазин = sale, Пользователи = user, Пользовательские поля пользователей = user.userfield, CRM = crm), then save",
                missing.join(", ")
            ),
        );
    }
    match client.call("methods", &json!({}), Safety::Safe).await {
        Ok(a) => {
            let have: Vec<String> = strings(&a.result)
                .into_iter()
                .map(|m| m.to_lowercase())
                .collect();
            let missing: Vec<&str> = required_methods(config)
                .into_iter()
                .filter(|m| !have.iter().any(|h| h.eq_ignore_ascii_case(m)))
                .collect();
            if missing.is_empty() {
                report.ok("every method vitrina calls is available");
            } else {
                report.bad(
                    format!("methods not available: {}", missing.join(", ")),
                    "grant the scopes above; on a 1C-Bitrix site also update the rest, sale and catalog modules \
                     (Marketplace → Обновление платформы)",
                );
            }
        }
        Err(e) => report.bad(format!("cannot list methods: {e}"), webhook_fix),
    }
    if config.bitrix.order_target == OrderTarget::SaleOrder {
        match user_field(client, config).await {
            Ok(Some(name)) if name == config.bitrix.telegram_field => {
                report.ok(format!("user field {name} exists"))
            }
            Ok(Some(name)) => report.bad(
                format!("the Telegram user field is {name}, but bitrix.telegram_field is {}", config.bitrix.telegram_field),
                format!("set bitrix.telegram_field = \"{name}\""),
            ),
            Ok(None) => report.bad(
                format!("user field {} is missing", config.bitrix.telegram_field),
                "run `vitrina bitrix setup`, or create a string user field for users with this code in the admin",
            ),
            Err(e) => report.bad(format!("cannot read user fields: {e}"), "grant the user.userfield scope"),
        }
    }
    match client.call("event.get", &json!({}), Safety::Safe).await {
        Ok(a) => {
            let url = events_url(config);
            let bound = bitrix::items(&a.result).iter().any(|e| {
                e.get("handler").and_then(Value::as_str) == Some(url.as_str())
                    && e.get("event")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(event_name(config)))
            });
            if bound {
                report.ok(format!("{} is bound to {url}", event_name(config)));
            } else {
                report.bad(
                    format!("{} is not bound to {url}", event_name(config)),
                    "run `vitrina bitrix setup` (the reconciliation poll still brings statuses, only later)",
                );
            }
        }
        Err(e) => report.bad(format!("cannot list event handlers: {e}"), webhook_fix),
    }
    if config.bitrix.application_token.is_none() {
        report.bad(
            "bitrix.application_token is not set: events from Bitrix will be refused",
            "create an outgoing webhook in Bitrix for the order event with the handler URL above, \
             copy its «Токен приложения» into bitrix.application_token",
        );
    } else {
        report.ok("bitrix.application_token is set");
    }
    if config.bitrix.catalog_iblock_id <= 0 {
        report.bad(
            "bitrix.catalog_iblock_id is not set: the catalog cannot be synced",
            "the catalog's information block id: Контент → Инфоблоки → Типы → Каталог (the ID column), \
             or catalog.catalog.list",
        );
    } else {
        report.ok(format!(
            "catalog information block {}",
            config.bitrix.catalog_iblock_id
        ));
        if config.bitrix.pictures {
            check_pictures(client, config, &mut report).await;
        }
        super::offers::check(client, config, &mut report).await;
    }
    if config.bitrix.order_target == OrderTarget::SaleOrder {
        for (ok, what, fix) in super::master::check_statuses(client, config).await {
            match fix {
                None if ok => report.ok(what),
                Some(fix) => report.warn(what, fix),
                None => report.bad(what.clone(), what),
            }
        }
        for m in &config.checkout.payment_methods {
            let name = serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            if !config.bitrix.pay_system_ids.contains_key(&name) {
                report.bad(
                    format!("payment method {name} has no Bitrix pay system: orders will have no payment"),
                    format!("set bitrix.pay_system_ids.{name} to a pay system id (Магазин → Настройки → Платёжные системы)"),
                );
            }
        }
        for d in &config.checkout.delivery {
            if !config.bitrix.delivery_ids.contains_key(&d.id) {
                report.bad(
                    format!("delivery method {} has no Bitrix delivery service: orders will have no shipment", d.id),
                    format!("set bitrix.delivery_ids.{} to a delivery service id (Магазин → Настройки → Службы доставки)", d.id),
                );
            }
        }
    }
    report
}

/// What the orders say about the master, from vitrina's own database: statuses customers see
/// by their Bitrix name, and order updates from Bitrix that ended in the dead letters.
pub async fn check_orders(store: &crate::store::Store, report: &mut Report) {
    use sqlx::Row;
    let unmapped = sqlx::query(
        "SELECT master_status, master_status_name, CAST(COUNT(*) AS BIGINT) AS n FROM orders \
         WHERE master_status_name IS NOT NULL GROUP BY master_status, master_status_name ORDER BY n DESC",
    )
    .fetch_all(store.pool())
    .await;
    match unmapped {
        Ok(rows) if rows.is_empty() => report.ok("no order shows an unmapped master status"),
        Ok(rows) => {
            let list: Vec<String> = rows
                .iter()
                .map(|r| {
                    let code: Option<String> = r.try_get(0).unwrap_or_default();
                    let name: String = r.try_get(1).unwrap_or_default();
                    let n: i64 = r.try_get(2).unwrap_or_default();
                    format!(
                        "{} «{name}» ({n} orders; suggested: \"{}\")",
                        code.unwrap_or_default(),
                        super::master::suggest(&name)
                    )
                })
                .collect();
            report.warn(
                format!(
                    "orders show a master status without a mapping: {}",
                    list.join(", ")
                ),
                "map them in bitrix.statuses (or exchange_1c.sale_statuses for 1C)",
            );
        }
        Err(e) => report.warn(
            format!("cannot read the orders: {e}"),
            "run `vitrina migrate`, check database.url",
        ),
    }
    let dead = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT), MAX(last_error) FROM outbox WHERE state = 'dead' AND kind IN ($1, $2)",
    )
    .bind(super::JOB_ORDER_CHANGED)
    .bind(crate::exchange::sale::JOB_ORDER_STATE)
    .fetch_one(store.pool())
    .await;
    match dead {
        Ok(r) => {
            let n: i64 = r.try_get(0).unwrap_or(0);
            let last: Option<String> = r.try_get(1).unwrap_or(None);
            if n == 0 {
                report.ok("every order update from the master was applied");
            } else {
                report.bad(
                    format!(
                        "{n} order updates from the master could not be applied (e.g. {})",
                        last.unwrap_or_default()
                    ),
                    "see `vitrina outbox list --state dead`; fix the cause, then `vitrina outbox retry <id>`",
                );
            }
        }
        Err(e) => report.warn(
            format!("cannot read the outbox: {e}"),
            "run `vitrina migrate`, check database.url",
        ),
    }
}

/// Fetches one product picture as the sync would: a site that serves `/upload/` only to
/// logged-in users would otherwise show up as a catalog without pictures after a long sync.
async fn check_pictures(client: &bitrix::Client, config: &Config, report: &mut Report) {
    let fix = "vitrina fetches pictures from the site by their /upload/iblock/… address, as a \
        browser does: make /upload/ readable without logging in (or set bitrix.pictures = false)";
    let products = client
        .call(
            "catalog.product.list",
            &json!({"select": ["id", "iblockId", "detailPicture", "previewPicture"],
                "filter": {"iblockId": config.bitrix.catalog_iblock_id, "active": "Y"},
                "order": {"id": "ASC"}}),
            Safety::Safe,
        )
        .await;
    let products = match products {
        Ok(a) => bitrix::items(&a.result),
        Err(e) => {
            report.bad(
                format!("cannot read the catalog's products: {e}"),
                "check bitrix.catalog_iblock_id and the catalog scope",
            );
            return;
        }
    };
    let with_picture = products
        .iter()
        .find(|p| super::pictures::signature(p, None).is_some_and(|files| !files.is_empty()));
    let Some(id) = with_picture
        .and_then(|p| p.get("id"))
        .and_then(bitrix::as_i64)
    else {
        report.ok(format!(
            "pictures: none among the first {} products (they are synced as they appear)",
            products.len()
        ));
        return;
    };
    let url = client
        .call(
            "catalog.productImage.list",
            &json!({"productId": id, "select": ["id", "type", "detailUrl"]}),
            Safety::Safe,
        )
        .await
        .map(|a| {
            super::pictures::ordered(bitrix::items(&a.result))
                .into_iter()
                .next()
        });
    let scope_fix = "grant the catalog scope to an administrator's webhook (the method needs one)";
    let url = match url {
        Ok(Some(url)) => url,
        Ok(None) => {
            report.bad(
                format!("product {id} has a picture, but catalog.productImage.list shows none"),
                scope_fix,
            );
            return;
        }
        Err(e) => {
            report.bad(
                format!("cannot list the pictures of product {id}: {e}"),
                scope_fix,
            );
            return;
        }
    };
    match client.download(&url, config.catalog.max_image_bytes).await {
        Ok(bytes) => match crate::catalog::media::sniff_mime(&bytes) {
            Some(mime) => report.ok(format!(
                "pictures: {url} fetched ({} bytes, {mime})",
                bytes.len()
            )),
            None => report.bad(
                format!("pictures: {url} is not a picture (a login page?)"),
                fix,
            ),
        },
        Err(e) => report.bad(format!("pictures cannot be fetched: {e}"), fix),
    }
}

/// The user field holding Telegram ids, under the configured name or Bitrix24's REST-made one.
async fn user_field(
    client: &bitrix::Client,
    config: &Config,
) -> Result<Option<String>, bitrix::Error> {
    let answer = client
        .call("user.userfield.list", &json!({"filter": {}}), Safety::Safe)
        .await?;
    let names: Vec<String> = bitrix::items(&answer.result)
        .iter()
        .filter_map(|f| {
            f.get("FIELD_NAME")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect();
    let wanted = &config.bitrix.telegram_field;
    Ok(names
        .iter()
        .find(|n| *n == wanted)
        .or_else(|| {
            names
                .iter()
                .find(|n| *n == "UF_USR_TELEGRAM_ID" || *n == "UF_TELEGRAM_ID")
        })
        .cloned())
}

/// Creates what vitrina needs in Bitrix (safe to run again). Returns what it did.
pub async fn setup(client: &bitrix::Client, config: &Config) -> Result<Vec<String>, BitrixError> {
    let mut done = Vec::new();
    if config.bitrix.order_target == OrderTarget::SaleOrder {
        match user_field(client, config).await? {
            Some(name) => done.push(format!("user field {name} exists")),
            None => {
                let code = config
                    .bitrix
                    .telegram_field
                    .trim_start_matches("UF_USR_")
                    .trim_start_matches("UF_")
                    .to_string();
                client
                    .call(
                        "user.userfield.add",
                        &json!({"fields": {
                            "FIELD_NAME": code,
                            "USER_TYPE_ID": "string",
                            "XML_ID": "VITRINA_TELEGRAM_ID",
                            "MULTIPLE": "N",
                            "MANDATORY": "N",
                            "SHOW_FILTER": "Y",
                            "IS_SEARCHABLE": "Y",
                            "EDIT_FORM_LABEL": {"ru": "Telegram ID", "en": "Telegram ID"},
                            "LIST_COLUMN_LABEL": {"ru": "Telegram ID", "en": "Telegram ID"},
                        }}),
                        Safety::Unsafe,
                    )
                    .await?;
                let name = user_field(client, config).await?.unwrap_or(code);
                done.push(format!("user field {name} created"));
            }
        }
        if let Some(name) = user_field(client, config).await?
            && name != config.bitrix.telegram_field
        {
            done.push(format!(
                "NOTE: the portal named the field {name}; set bitrix.telegram_field = \"{name}\""
            ));
        }
    }
    let url = events_url(config);
    let event = event_name(config);
    match client
        .call(
            "event.bind",
            &json!({"event": event, "handler": url}),
            Safety::Unsafe,
        )
        .await
    {
        Ok(_) => done.push(format!("{event} bound to {url}")),
        Err(e) if e.code() == Some("ERROR_EVENT_HANDLER_EXISTS") => {
            done.push(format!("{event} was already bound to {url}"))
        }
        Err(e) => return Err(e.into()),
    }
    if config.bitrix.catalog_iblock_id > 0 {
        for event in super::stock::EVENTS {
            match client
                .call(
                    "event.bind",
                    &json!({"event": event, "handler": url}),
                    Safety::Unsafe,
                )
                .await
            {
                Ok(_) => done.push(format!("{event} bound to {url}")),
                Err(e) if e.code() == Some("ERROR_EVENT_HANDLER_EXISTS") => {
                    done.push(format!("{event} was already bound to {url}"))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    if config.bitrix.application_token.is_none() {
        done.push(
            "NOTE: set bitrix.application_token to the token Bitrix sends with events \
             (shown on the outgoing webhook's page); until then events are refused and statuses \
             arrive by the reconciliation poll only"
                .into(),
        );
    }
    Ok(done)
}

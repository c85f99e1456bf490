//! vitrina orders → Bitrix, exactly once.
//!
//! `bitrix.order_created` creates the order in Bitrix: a sale order (`sale.order.add` with
//! vitrina's key in `xmlId`, then basket items at vitrina's server prices, the shipment, the
//! payment and the order properties in one `batch`), or for `order_target = "crm_deal"` a deal
//! (`crm.deal.add` with `ORIGINATOR_ID`/`ORIGIN_ID`, then `crm.deal.productrows.set`).
//! Before creating anything it looks the order up by that key, and the created id is stored
//! at once, so a retry after a lost answer or a crash finds the order instead of making a
//! second one; the parts are written only when missing (basket items by their `xmlId`).
//!
//! `bitrix.status_changed` marks the payment paid, cancels, or moves the Bitrix status when
//! vitrina's changes, unless the change came from Bitrix itself.

use serde_json::{Value, json};
use sqlx::Row;

use super::customers::{self, first_id};
use super::{Bitrix, BitrixError};
use crate::config::OrderTarget;
use crate::orders::Order;
use crate::outbox::JobError;
use crate::store::now_ms;
use bitrix::{Command, Safety};

/// vitrina's external key of an order in Bitrix.
pub fn external_key(order: i64) -> String {
    format!("vitrina-{order}")
}

/// The originator of deals vitrina creates (`ORIGINATOR_ID`).
pub const ORIGINATOR: &str = "vitrina";

#[derive(Debug, Default, Clone)]
pub struct Link {
    pub bitrix_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub complete: bool,
    pub bitrix_status: Option<String>,
}

pub async fn link(bx: &Bitrix, order: i64) -> Result<Option<Link>, BitrixError> {
    let row = sqlx::query(
        "SELECT bitrix_id, payment_id, complete, bitrix_status FROM bitrix_orders WHERE order_id = $1",
    )
    .bind(order)
    .fetch_optional(bx.store.pool())
    .await?;
    Ok(match row {
        None => None,
        Some(r) => Some(Link {
            bitrix_id: r.try_get("bitrix_id")?,
            payment_id: r.try_get("payment_id")?,
            complete: r.try_get::<i64, _>("complete")? != 0,
            bitrix_status: r.try_get("bitrix_status")?,
        }),
    })
}

async fn save_link(bx: &Bitrix, order: i64, link: &Link) -> Result<(), BitrixError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO bitrix_orders (order_id, bitrix_id, payment_id, complete, bitrix_status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (order_id) DO UPDATE SET bitrix_id = excluded.bitrix_id, \
         payment_id = excluded.payment_id, complete = excluded.complete, bitrix_status = excluded.bitrix_status, \
         updated_at = excluded.updated_at",
    )
    .bind(order)
    .bind(link.bitrix_id)
    .bind(link.payment_id)
    .bind(i64::from(link.complete))
    .bind(link.bitrix_status.as_deref())
    .bind(now)
    .execute(bx.store.pool())
    .await?;
    Ok(())
}

/// Bitrix prices are decimals in major units.
fn major(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// The Bitrix product id of a vitrina offer: synced offers carry it as their id; others (a
/// demo catalog) go in as 0 with their name and price, as the docs allow.
pub(crate) fn bitrix_product(offer_id: &str) -> i64 {
    // Variations are `<product>#<variation>`: the variation is what is sold. Ids from another
    // source (1C's GUIDs, the demo) are not Bitrix elements.
    let mut parts = offer_id.split('#');
    match (
        parts.next().map(str::parse::<i64>),
        parts.next(),
        parts.next(),
    ) {
        (Some(Ok(product)), None, None) => product,
        (Some(Ok(_)), Some(variation), None) => variation.parse().unwrap_or(0),
        _ => 0,
    }
}

pub async fn push_order(bx: &Bitrix, order_id: i64) -> Result<(), JobError> {
    let Some(order) = crate::orders::load_any(&bx.store, order_id)
        .await
        .map_err(|e| JobError::retry(e.to_string()))?
    else {
        return Err(JobError::Permanent(format!("order {order_id} not found")));
    };
    let mut link = link(bx, order_id).await?.unwrap_or_default();
    if link.complete {
        return Ok(());
    }
    match bx.config.bitrix.order_target {
        OrderTarget::SaleOrder => sale_order(bx, &order, &mut link).await?,
        OrderTarget::CrmDeal => crm_deal(bx, &order, &mut link).await?,
    }
    link.complete = true;
    save_link(bx, order_id, &link).await?;
    tracing::info!(order = %order.number, bitrix_id = ?link.bitrix_id, "order created in Bitrix");
    // Read it back as Bitrix has it (its prices, discounts, delivery): the master wins, and
    // the customer is told when the total differs from vitrina's.
    if let Some(id) = link.bitrix_id {
        bx.outbox
            .enqueue_now(
                super::OrderChanged::job(id)
                    .map_err(|e| JobError::Permanent(format!("order {order_id}: {e}")))?
                    .dedupe(format!("bitrix:created:{id}")),
            )
            .await
            .map_err(|e| JobError::retry(e.to_string()))?;
    }
    Ok(())
}

async fn sale_order(bx: &Bitrix, order: &Order, link: &mut Link) -> Result<(), BitrixError> {
    let cfg = &bx.config.bitrix;
    let key = external_key(order.id);
    let (bitrix_id, fresh) = match link.bitrix_id {
        Some(id) => (id, false),
        None => {
            let found = bx
                .client
                .call(
                    "sale.order.list",
                    &json!({"filter": {"xmlId": key}, "select": ["id", "xmlId"]}),
                    Safety::Safe,
                )
                .await?;
            match first_id(&found.result, "id") {
                Some(id) => (id, false),
                None => {
                    let customer = customers::of_order(bx, order.id).await?;
                    let user = customers::bitrix_user(
                        bx,
                        &customer,
                        &order.contact.phone,
                        order.contact.email.as_deref(),
                    )
                    .await?;
                    let added = bx
                        .client
                        .call(
                            "sale.order.add",
                            &json!({"fields": {
                                "lid": cfg.site_id,
                                "personTypeId": cfg.person_type_id,
                                "currency": order.total.currency,
                                "userId": user,
                                "xmlId": key,
                                "userDescription": order.comment.clone().unwrap_or_default(),
                                "comments": match &order.coupon {
                                    // REST has no coupon method for orders: a manager applies it.
                                    Some(c) => format!("Telegram: {}. Купон: {c}", order.number),
                                    None => format!("Telegram: {}", order.number),
                                },
                            }}),
                            Safety::Unsafe,
                        )
                        .await?;
                    let id = added
                        .result
                        .pointer("/order/id")
                        .and_then(bitrix::as_i64)
                        .ok_or_else(|| {
                            BitrixError::Other(format!("sale.order.add answered {}", added.result))
                        })?;
                    (id, true)
                }
            }
        }
    };
    link.bitrix_id = Some(bitrix_id);
    save_link(bx, order.id, link).await?;

    // What the order already has, unless it was created just now.
    let (mut have_items, mut payment, mut shipment) = (Vec::<String>::new(), None, false);
    if !fresh {
        let existing = bx
            .client
            .batch(
                &[
                    Command::new(
                        "basket",
                        "sale.basketitem.list",
                        json!({"filter": {"orderId": bitrix_id}, "select": ["id", "xmlId"]}),
                    ),
                    Command::new(
                        "payments",
                        "sale.payment.list",
                        json!({"filter": {"orderId": bitrix_id}, "select": ["id"]}),
                    ),
                    Command::new(
                        "shipments",
                        "sale.shipment.list",
                        json!({"filter": {"orderId": bitrix_id, "system": "N"}, "select": ["id"]}),
                    ),
                ],
                false,
                Safety::Safe,
            )
            .await?;
        have_items = bitrix::items(existing.get("basket")?)
            .iter()
            .filter_map(|i| i.get("xmlId").and_then(Value::as_str).map(String::from))
            .collect();
        payment = first_id(existing.get("payments")?, "id");
        shipment = first_id(existing.get("shipments")?, "id").is_some();
    }
    let currency = &order.total.currency;
    let mut commands = Vec::new();
    for (i, item) in order.items.iter().enumerate() {
        let xml_id = format!("{key}-{i}");
        if have_items.contains(&xml_id) {
            continue;
        }
        let product = bitrix_product(&item.offer_id);
        let fields = if cfg.fixed_prices || product == 0 {
            // vitrina's price, fixed (and a product Bitrix does not know is priced so anyway).
            json!({
                "orderId": bitrix_id,
                "productId": product,
                "name": match &item.variant { Some(v) => format!("{} ({v})", item.name), None => item.name.clone() },
                "quantity": item.quantity,
                "currency": currency,
                "customPrice": "Y",
                "price": major(item.price),
                "basePrice": major(item.price),
                "discountPrice": 0,
                "xmlId": xml_id,
                "sort": (i + 1) * 100,
            })
        } else {
            // Bitrix prices the line from its catalog with its discounts and cart rules
            // (`customPrice` not Y: price, basePrice, discountPrice and the name are filled).
            json!({
                "orderId": bitrix_id,
                "productId": product,
                "quantity": item.quantity,
                "currency": currency,
                "xmlId": xml_id,
                "sort": (i + 1) * 100,
            })
        };
        commands.push(Command::new(
            format!("item{i}"),
            "sale.basketitem.add",
            json!({ "fields": fields }),
        ));
    }
    if !shipment && let Some(delivery) = cfg.delivery_ids.get(&order.delivery.method) {
        commands.push(Command::new(
            "shipment",
            "sale.shipment.add",
            // The fields sale.shipment.add documents: a base price given is also the
            // delivery price (none given: the delivery service would compute its own).
            json!({"fields": {
                "orderId": bitrix_id,
                "deliveryId": delivery,
                "allowDelivery": "N",
                "deducted": "N",
                "basePriceDelivery": major(order.delivery.price),
                "xmlId": format!("{key}-shipment"),
            }}),
        ));
    }
    if payment.is_none()
        && let Some(pay_system) = cfg.pay_system_ids.get(&order.payment_method)
    {
        commands.push(Command::new(
            "payment",
            "sale.payment.add",
            json!({"fields": {
                "orderId": bitrix_id,
                "paySystemId": pay_system,
                "sum": major(order.total.amount),
                "currency": currency,
                "paid": if order.payment_state == "paid" { "Y" } else { "N" },
            }}),
        ));
    }
    let props = property_values(bx, order).await?;
    if !props.is_empty() {
        commands.push(Command::new(
            "props",
            "sale.propertyvalue.modify",
            json!({"fields": {"order": {"id": bitrix_id, "propertyValues": props}}}),
        ));
    }
    if !commands.is_empty() {
        // Creates: not repeated blindly. A lost answer fails the job; the retry reads what
        // exists (above) and adds only what is missing.
        let answer = bx.client.batch(&commands, false, Safety::Unsafe).await?;
        for c in &commands {
            let result = answer.get(&c.key)?;
            if c.key == "payment" {
                payment = result.pointer("/payment/id").and_then(bitrix::as_i64);
            }
        }
    }
    link.payment_id = payment;
    Ok(())
}

/// The id of a mapped order property: as configured, or looked up by its code.
async fn property_id(
    bx: &Bitrix,
    prop: &crate::config::PropertyRef,
) -> Result<Option<i64>, BitrixError> {
    use crate::config::PropertyRef;
    match prop {
        PropertyRef::Id(id) => Ok(Some(*id)),
        PropertyRef::Code(code) => {
            let ids = bx
                .property_ids
                .get_or_try_init(|| async {
                    let mut rows = Vec::new();
                    bx.client
                        .list_by_id(
                            "sale.property.list",
                            &json!({"select": ["id", "code"], "filter": {"personTypeId": bx.config.bitrix.person_type_id}}),
                            "id",
                            |page| rows.extend(page),
                        )
                        .await?;
                    Ok::<_, BitrixError>(
                        rows.iter()
                            .filter_map(|r| {
                                Some((
                                    r.get("code").and_then(bitrix::as_text)?.to_uppercase(),
                                    r.get("id").and_then(bitrix::as_i64)?,
                                ))
                            })
                            .collect(),
                    )
                })
                .await?;
            let id = ids.get(&code.to_uppercase()).copied();
            if id.is_none() {
                tracing::warn!(
                    code,
                    "bitrix.order_properties names a code the payer type has no property for"
                );
            }
            Ok(id)
        }
    }
}

async fn property_values(bx: &Bitrix, order: &Order) -> Result<Vec<Value>, BitrixError> {
    let props = &bx.config.bitrix.order_properties;
    let address = order
        .delivery
        .address
        .clone()
        .or_else(|| order.delivery.pickup_point.clone());
    let telegram = customers::of_order(bx, order.id)
        .await
        .ok()
        .map(|c| c.telegram_id.to_string());
    let location = Some(bx.config.bitrix.location.clone()).filter(|l| !l.is_empty());
    let mut out = Vec::new();
    for (name, value) in [
        ("name", Some(order.contact.name.clone())),
        ("phone", Some(order.contact.phone.clone())),
        ("email", order.contact.email.clone()),
        ("address", address),
        ("location", location),
        ("comment", order.comment.clone()),
        ("coupon", order.coupon.clone()),
        ("telegram_id", telegram),
    ] {
        let (Some(prop), Some(value)) = (props.get(name), value) else {
            continue;
        };
        if let Some(id) = property_id(bx, prop).await? {
            out.push(json!({"orderPropsId": id, "value": value}));
        }
    }
    Ok(out)
}

async fn crm_deal(bx: &Bitrix, order: &Order, link: &mut Link) -> Result<(), BitrixError> {
    let key = order.id.to_string();
    let deal = match link.bitrix_id {
        Some(id) => id,
        None => {
            let found = bx
                .client
                .call(
                    "crm.deal.list",
                    &json!({"filter": {"ORIGINATOR_ID": ORIGINATOR, "ORIGIN_ID": key}, "select": ["ID"]}),
                    Safety::Safe,
                )
                .await?;
            match first_id(&found.result, "ID") {
                Some(id) => id,
                None => {
                    let customer = customers::of_order(bx, order.id).await?;
                    let contact = customers::crm_contact(
                        bx,
                        &customer,
                        &order.contact.name,
                        &order.contact.phone,
                    )
                    .await?;
                    let address = order
                        .delivery
                        .address
                        .clone()
                        .or_else(|| order.delivery.pickup_point.clone())
                        .unwrap_or_default();
                    let added = bx
                        .client
                        .call(
                            "crm.deal.add",
                            &json!({"fields": {
                                "TITLE": format!("Telegram {}", order.number),
                                "ORIGINATOR_ID": ORIGINATOR,
                                "ORIGIN_ID": key,
                                "CONTACT_ID": contact,
                                "CURRENCY_ID": order.total.currency,
                                "OPPORTUNITY": major(order.total.amount),
                                "COMMENTS": format!("{}\n{} {}\n{}", order.comment.clone().unwrap_or_default(), order.delivery.method, address, order.contact.phone),
                                "SOURCE_ID": "WEB",
                            }}),
                            Safety::Unsafe,
                        )
                        .await?;
                    bitrix::as_i64(&added.result).ok_or_else(|| {
                        BitrixError::Other(format!("crm.deal.add answered {}", added.result))
                    })?
                }
            }
        }
    };
    link.bitrix_id = Some(deal);
    save_link(bx, order.id, link).await?;
    let mut rows: Vec<Value> = order
        .items
        .iter()
        .map(|i| {
            json!({"PRODUCT_ID": bitrix_product(&i.offer_id), "PRODUCT_NAME": i.name,
                "PRICE": major(i.price), "QUANTITY": i.quantity})
        })
        .collect();
    if order.delivery.price > 0 {
        rows.push(json!({"PRODUCT_ID": 0, "PRODUCT_NAME": order.delivery.method, "PRICE": major(order.delivery.price), "QUANTITY": 1}));
    }
    // Sets the whole list: repeating it changes nothing.
    bx.client
        .call(
            "crm.deal.productrows.set",
            &json!({"id": deal, "rows": rows}),
            Safety::Safe,
        )
        .await?;
    Ok(())
}

/// The Bitrix status (or deal stage) that stands for a vitrina status, if the config maps one.
pub fn bitrix_status_for(bx: &Bitrix, status: &str) -> Option<String> {
    bx.config
        .bitrix
        .statuses
        .iter()
        .find(|(_, v)| *v == status)
        .map(|(k, _)| k.clone())
}

/// A status changed in vitrina → Bitrix.
pub async fn push_status(bx: &Bitrix, order_id: i64, to: &str) -> Result<(), JobError> {
    let Some(link) = link(bx, order_id).await? else {
        return Err(JobError::Retry {
            after: Some(std::time::Duration::from_secs(5)),
            message: "the order is not in Bitrix yet".into(),
        });
    };
    let Some(bitrix_id) = link.bitrix_id.filter(|_| link.complete) else {
        return Err(JobError::Retry {
            after: Some(std::time::Duration::from_secs(5)),
            message: "the order is not in Bitrix yet".into(),
        });
    };
    // A change Bitrix made (events, reconciliation) is not sent back to it.
    let actor: Option<String> = sqlx::query(
        "SELECT actor FROM order_events WHERE order_id = $1 AND status = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(order_id)
    .bind(to)
    .fetch_optional(bx.store.pool())
    .await
    .map_err(|e| JobError::retry(e.to_string()))?
    .map(|r| r.try_get(0))
    .transpose()
    .map_err(|e| JobError::retry(e.to_string()))?;
    if actor.as_deref() == Some("bitrix") {
        return Ok(());
    }
    let call = |method: &'static str, params: Value| async move {
        bx.client
            .call(method, &params, Safety::Safe)
            .await
            .map(|_| ())
            .map_err(super::rest_job_error)
    };
    match bx.config.bitrix.order_target {
        OrderTarget::SaleOrder => match to {
            "paid" => {
                if let Some(payment) = link.payment_id {
                    call(
                        "sale.payment.update",
                        json!({"id": payment, "fields": {"paid": "Y"}}),
                    )
                    .await?;
                }
            }
            "cancelled" => {
                call(
                    "sale.order.update",
                    json!({"id": bitrix_id, "fields": {"canceled": "Y"}}),
                )
                .await?;
            }
            other => {
                if let Some(status) = bitrix_status_for(bx, other) {
                    call(
                        "sale.order.update",
                        json!({"id": bitrix_id, "fields": {"statusId": status}}),
                    )
                    .await?;
                }
            }
        },
        OrderTarget::CrmDeal => {
            let stage = if to == "cancelled" {
                Some("LOSE".to_string())
            } else {
                bitrix_status_for(bx, to)
            };
            if let Some(stage) = stage {
                call(
                    "crm.deal.update",
                    json!({"id": bitrix_id, "fields": {"STAGE_ID": stage}}),
                )
                .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn offers_map_to_bitrix_elements() {
        assert_eq!(super::bitrix_product("42"), 42);
        assert_eq!(super::bitrix_product("1#10001"), 10001);
        assert_eq!(super::bitrix_product("demo-0001#2"), 0);
        assert_eq!(super::bitrix_product("demo-0001"), 0);
    }
}

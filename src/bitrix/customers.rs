//! Customers ↔ Bitrix users, linked by the user field `UF_TELEGRAM_ID` (created by
//! `vitrina bitrix setup`): found with `user.get`, created with `user.add` when absent (login
//! `tg_<id>`, names from Telegram, the configured groups), and cached in
//! `customers.bitrix_user_id`. `user.add` is not repeated blindly: a retry looks the user up
//! by `UF_TELEGRAM_ID` first, so a lost answer never makes a second user.

use serde_json::{Value, json};
use sqlx::Row;

use super::{Bitrix, BitrixError};
use crate::store::now_ms;
use bitrix::Safety;

pub struct Customer {
    pub id: i64,
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// The phone Telegram vouched for (a contact shared with the bot).
    pub phone_verified: Option<String>,
    pub bitrix_user_id: Option<i64>,
}

pub async fn of_order(bx: &Bitrix, order: i64) -> Result<Customer, BitrixError> {
    let r = sqlx::query(
        "SELECT c.id, c.telegram_id, c.first_name, c.last_name, c.phone, c.phone_verified, c.bitrix_user_id \
         FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1",
    )
    .bind(order)
    .fetch_optional(bx.store.pool())
    .await?
    .ok_or_else(|| BitrixError::Other(format!("order {order} has no customer")))?;
    Ok(Customer {
        id: r.try_get("id")?,
        telegram_id: r.try_get("telegram_id")?,
        first_name: r.try_get("first_name")?,
        last_name: r.try_get("last_name")?,
        phone: r.try_get("phone")?,
        phone_verified: r.try_get("phone_verified")?,
        bitrix_user_id: r.try_get("bitrix_user_id")?,
    })
}

/// The Bitrix user of `customer`: cached, found by `UF_TELEGRAM_ID`, or created.
pub async fn bitrix_user(
    bx: &Bitrix,
    customer: &Customer,
    phone: &str,
    email: Option<&str>,
) -> Result<i64, BitrixError> {
    if let Some(id) = customer.bitrix_user_id {
        return Ok(id);
    }
    let field = bx.config.bitrix.telegram_field.as_str();
    let found = bx
        .client
        .call(
            "user.get",
            &json!({"FILTER": {field: customer.telegram_id.to_string()}, "ADMIN_MODE": true}),
            Safety::Safe,
        )
        .await?;
    let by_telegram = bitrix::items(&found.result)
        .first()
        .and_then(|u| u.get("ID"))
        .and_then(bitrix::as_i64);
    let existing = match by_telegram {
        Some(id) => Some(id),
        None => match existing_buyer(bx, customer, email).await? {
            Some(id) => {
                // A buyer of the site: linked by the Telegram field from now on.
                let mut fields = json!({"ID": id});
                fields[field] = json!(customer.telegram_id.to_string());
                bx.client.call("user.update", &fields, Safety::Safe).await?;
                tracing::info!(
                    customer = customer.id,
                    bitrix_user = id,
                    "customer matched to an existing Bitrix user"
                );
                Some(id)
            }
            None => None,
        },
    };
    let id = match existing {
        Some(id) => id,
        None => {
            let login = format!("tg_{}", customer.telegram_id);
            let mut fields = json!({
                "LOGIN": login,
                // Bitrix requires an e-mail; Telegram gives none. A reserved domain (RFC 2606).
                "EMAIL": email.map(String::from).unwrap_or_else(|| format!("{login}@telegram.invalid")),
                "NAME": customer.first_name,
                "LAST_NAME": customer.last_name.clone().unwrap_or_default(),
                "PERSONAL_PHONE": customer.phone.clone().unwrap_or_else(|| phone.to_string()),
                "ACTIVE": "Y",
            });
            fields[field] = json!(customer.telegram_id.to_string());
            if !bx.config.bitrix.customer_group_ids.is_empty() {
                fields["GROUP_ID"] = json!(bx.config.bitrix.customer_group_ids);
            }
            let added = bx.client.call("user.add", &fields, Safety::Unsafe).await?;
            bitrix::as_i64(&added.result)
                .ok_or_else(|| BitrixError::Other(format!("user.add answered {}", added.result)))?
        }
    };
    sqlx::query("UPDATE customers SET bitrix_user_id = $1, updated_at = $2 WHERE id = $3")
        .bind(id)
        .bind(now_ms())
        .bind(customer.id)
        .execute(bx.store.pool())
        .await?;
    Ok(id)
}

/// An existing site buyer for a customer not linked yet: by the phone Telegram vouched for
/// (`PERSONAL_PHONE`, then `PERSONAL_MOBILE`), then by the e-mail given at checkout. Only a
/// single match counts: two users with one phone are left for a human to merge.
async fn existing_buyer(
    bx: &Bitrix,
    customer: &Customer,
    email: Option<&str>,
) -> Result<Option<i64>, BitrixError> {
    let mut filters = Vec::new();
    if let Some(phone) = &customer.phone_verified {
        filters.push(json!({"PERSONAL_PHONE": phone}));
        filters.push(json!({"PERSONAL_MOBILE": phone}));
    }
    if let Some(email) = email {
        filters.push(json!({"EMAIL": email}));
    }
    for filter in filters {
        let found = bx
            .client
            .call(
                "user.get",
                &json!({"FILTER": filter, "ADMIN_MODE": true}),
                Safety::Safe,
            )
            .await?;
        let ids: Vec<i64> = bitrix::items(&found.result)
            .iter()
            .filter_map(|u| u.get("ID").and_then(bitrix::as_i64))
            .collect();
        if let [id] = ids.as_slice() {
            return Ok(Some(*id));
        }
    }
    Ok(None)
}

/// The CRM contact of a customer (Bitrix24 without the store): found by phone (the verified
/// one first), or created.
pub async fn crm_contact(
    bx: &Bitrix,
    customer: &Customer,
    name: &str,
    phone: &str,
) -> Result<i64, BitrixError> {
    let found = bx
        .client
        .call(
            "crm.contact.list",
            &json!({"filter": {"PHONE": customer.phone_verified.as_deref().unwrap_or(phone)}, "select": ["ID"]}),
            Safety::Safe,
        )
        .await?;
    if let Some(id) = bitrix::items(&found.result)
        .first()
        .and_then(|c| c.get("ID"))
        .and_then(bitrix::as_i64)
    {
        return Ok(id);
    }
    let added = bx
        .client
        .call(
            "crm.contact.add",
            &json!({"fields": {
                "NAME": name,
                "LAST_NAME": customer.last_name.clone().unwrap_or_default(),
                "PHONE": [{"VALUE": phone, "VALUE_TYPE": "MOBILE"}],
                "COMMENTS": format!("Telegram id {}", customer.telegram_id),
                "SOURCE_ID": "WEB",
            }}),
            Safety::Unsafe,
        )
        .await?;
    bitrix::as_i64(&added.result)
        .ok_or_else(|| BitrixError::Other(format!("crm.contact.add answered {}", added.result)))
}

pub fn first_id(result: &Value, key: &str) -> Option<i64> {
    bitrix::items(result)
        .first()
        .and_then(|v| v.get(key))
        .and_then(bitrix::as_i64)
}

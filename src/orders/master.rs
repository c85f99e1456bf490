//! The shop's master system (Bitrix, 1C) is the truth about an order.
//!
//! `orders.transitions` restricts what vitrina's own tools may do (bot buttons, the CLI); it
//! says nothing about what the master decided. Whatever the master reports (a status jump,
//! a cancellation with its reason, the paid flag, a shipment with a tracking number, a basket
//! edited by a manager, a new delivery price or total) is applied here as it is, in one
//! transaction, with the master as the timeline's actor, and announced with ONE
//! `order.status_changed` job whose payload says what changed, so the customer gets one
//! message about it. A status the master uses without a mapping keeps vitrina's status and
//! shows the master's own name for it. A paid order whose total the master lowers gets a
//! refund due, shown to staff.
//!
//! Callers (the Bitrix event and reconciliation handlers, the 1C `type=sale` document) parse
//! what the master said into a [`MasterUpdate`] once and call [`apply_master_state`].

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{JOB_STATUS_CHANGED, add_event, write_tx};
use crate::config::Config;
use crate::outbox::{NewJob, Outbox};
use crate::store::{Store, StoreError, now_ms};

/// Which master spoke: also the timeline's actor (`bitrix`, `1c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Master {
    #[serde(rename = "bitrix")]
    Bitrix,
    #[serde(rename = "1c")]
    OneC,
}

impl Master {
    pub fn actor(self) -> &'static str {
        match self {
            Master::Bitrix => "bitrix",
            Master::OneC => "1c",
        }
    }
    /// How the timeline's note names it.
    fn label(self) -> &'static str {
        match self {
            Master::Bitrix => "Bitrix",
            Master::OneC => "1С",
        }
    }
}

/// The master's status: its own code and name, and the vitrina status it maps to, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterStatus {
    pub code: String,
    /// As the master spells it (Bitrix's status name, 1C's value); the code when unknown.
    pub name: String,
    pub mapped: Option<String>,
}

/// One basket line as the master has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterLine {
    /// The vitrina offer it was (matched by the line's external key), or the master's
    /// product id for a line a manager added.
    pub offer_id: String,
    pub name: String,
    /// Per unit, minor units.
    pub price: i64,
    pub quantity: i64,
}

/// What the master says about an order. `None` means "the master did not say"; nothing is
/// changed for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterUpdate {
    pub status: Option<MasterStatus>,
    pub cancelled: Option<bool>,
    pub cancel_reason: Option<String>,
    /// Accepted by the shop (1C's «Проведен»).
    pub confirmed: Option<bool>,
    pub paid: Option<bool>,
    /// Goods left the warehouse (Bitrix shipment `deducted`, 1C's shipment document).
    pub shipped: Option<bool>,
    pub tracking_number: Option<String>,
    /// The whole basket, when the master reported it.
    pub lines: Option<Vec<MasterLine>>,
    pub delivery_price: Option<i64>,
    pub total: Option<i64>,
}

/// A line whose quantity or price the master changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineChange {
    pub name: String,
    pub quantity: (i64, i64),
    pub price: (i64, i64),
}

/// What an update changed, for the customer's one message and the staff alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub master: Option<Master>,
    /// vitrina status before and after, when it moved.
    pub status: Option<(String, String)>,
    /// The master's wording for a status vitrina has no mapping for.
    pub status_name: Option<String>,
    pub cancelled: bool,
    pub cancel_reason: Option<String>,
    pub paid: bool,
    pub tracking_number: Option<String>,
    pub removed: Vec<String>,
    pub added: Vec<String>,
    pub lines: Vec<LineChange>,
    pub delivery_price: Option<(i64, i64)>,
    pub total: Option<(i64, i64)>,
    /// Owed back to the customer (a paid order made cheaper), minor units.
    pub refund_due: Option<i64>,
    pub currency: String,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.status_name.is_none()
            && !self.cancelled
            && self.cancel_reason.is_none()
            && !self.paid
            && self.tracking_number.is_none()
            && self.removed.is_empty()
            && self.added.is_empty()
            && self.lines.is_empty()
            && self.delivery_price.is_none()
            && self.total.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    /// The master named an order vitrina does not have: permanent (dead letter, logged).
    #[error("{master:?} reports order {order}, which vitrina does not have")]
    UnknownOrder { master: Master, order: i64 },
    /// A mapping names a vitrina status that `orders.statuses` lacks: a config problem.
    #[error("{master:?} status {code:?} maps to {mapped:?}, which is not in orders.statuses")]
    BadMapping {
        master: Master,
        code: String,
        mapped: String,
    },
    /// The database failed: retry.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for MasterError {
    fn from(e: sqlx::Error) -> Self {
        MasterError::Store(StoreError::Query(e))
    }
}

impl MasterError {
    /// Worth trying again (the database), or not (the master's data or the config).
    pub fn is_transient(&self) -> bool {
        matches!(self, MasterError::Store(_))
    }
}

impl From<MasterError> for crate::outbox::JobError {
    fn from(e: MasterError) -> Self {
        if e.is_transient() {
            crate::outbox::JobError::retry(e.to_string())
        } else {
            crate::outbox::JobError::Permanent(e.to_string())
        }
    }
}

struct Current {
    status: String,
    payment_state: String,
    master_status_name: Option<String>,
    cancel_reason: Option<String>,
    tracking_number: Option<String>,
    delivery_price: i64,
    total: i64,
    currency: String,
    refund_due: i64,
}

/// The vitrina status an update leads to, or None to keep `current`.
fn target_status(
    config: &Config,
    master: Master,
    current: &str,
    update: &MasterUpdate,
) -> Result<Option<String>, MasterError> {
    let known = |s: &str| config.orders.statuses.iter().any(|x| x == s);
    if update.cancelled == Some(true) {
        return Ok(Some("cancelled".into()));
    }
    let rank = |s: &str| config.orders.statuses.iter().position(|x| x == s);
    // The flags say how far the order got, whatever its status says: a store where managers
    // only tick «paid» and «shipped» leaves the status at «accepted».
    let mut target = None;
    for (flag, status) in [
        (update.confirmed, "confirmed"),
        (update.paid, "paid"),
        (update.shipped, "shipped"),
    ] {
        if flag == Some(true) && known(status) {
            target = Some(status);
        }
    }
    if let Some(s) = &update.status
        && let Some(mapped) = &s.mapped
    {
        if !known(mapped) {
            return Err(MasterError::BadMapping {
                master,
                code: s.code.clone(),
                mapped: mapped.clone(),
            });
        }
        // The master's status, jumps and steps back included, unless its own flags say the
        // order is further along.
        return Ok(Some(match target {
            Some(t) if rank(t) > rank(mapped) => t.to_string(),
            _ => mapped.clone(),
        }));
    }
    // No mapped status: the flags only move the order forward.
    let reopened = current == "cancelled" && update.cancelled == Some(false);
    match target {
        Some(t) if reopened || rank(t) > rank(current) => Ok(Some(t.to_string())),
        _ if reopened => Ok(config.orders.statuses.first().cloned()),
        _ => Ok(None),
    }
}

/// Applies what the master says about `order` as it is. Returns what changed (empty when
/// nothing did: the master repeats its whole state every time).
pub async fn apply_master_state(
    config: &Config,
    store: &Store,
    outbox: &Outbox,
    master: Master,
    order: i64,
    update: &MasterUpdate,
) -> Result<Changes, MasterError> {
    let mut tx = write_tx(store).await?;
    // Two reads of the same change (an event and the poll, or the read-back after creation)
    // may apply at once: the row lock (PostgreSQL; SQLite's write lock is already held) makes
    // the second see the first's result, so it changes nothing and sends nothing.
    const SELECT: &str = "SELECT status, payment_state, master_status_name, cancel_reason, tracking_number, \
         delivery_price, total, currency, refund_due FROM orders WHERE id = $1";
    const SELECT_LOCKED: &str = "SELECT status, payment_state, master_status_name, cancel_reason, tracking_number, \
         delivery_price, total, currency, refund_due FROM orders WHERE id = $1 FOR UPDATE";
    let sql = match store.backend() {
        crate::store::Backend::Postgres => SELECT_LOCKED,
        crate::store::Backend::Sqlite => SELECT,
    };
    let Some(r) = sqlx::query(sql)
        .bind(order)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Err(MasterError::UnknownOrder { master, order });
    };
    let cur = Current {
        status: r.try_get("status")?,
        payment_state: r.try_get("payment_state")?,
        master_status_name: r.try_get("master_status_name")?,
        cancel_reason: r.try_get("cancel_reason")?,
        tracking_number: r.try_get("tracking_number")?,
        delivery_price: r.try_get("delivery_price")?,
        total: r.try_get("total")?,
        currency: r.try_get("currency")?,
        refund_due: r.try_get("refund_due")?,
    };
    let mut changes = Changes {
        master: Some(master),
        currency: cur.currency.clone(),
        ..Changes::default()
    };

    let to = target_status(config, master, &cur.status, update)?;
    if let Some(to) = to.as_ref().filter(|t| **t != cur.status) {
        changes.status = Some((cur.status.clone(), to.clone()));
        changes.cancelled = to == "cancelled";
    }
    let status = to.unwrap_or_else(|| cur.status.clone());
    // The master's wording is kept for a status without a mapping and cleared by one with.
    let master_name = match &update.status {
        Some(s) if s.mapped.is_none() && update.cancelled != Some(true) => Some(s.name.clone()),
        Some(_) => None,
        None => cur.master_status_name.clone(),
    };
    if master_name.is_some() && master_name != cur.master_status_name {
        changes.status_name = master_name.clone();
    }
    let reason = update
        .cancel_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty() && status == "cancelled")
        .map(str::to_string);
    let cancel_reason = if status == "cancelled" {
        reason.clone().or(cur.cancel_reason.clone())
    } else {
        None
    };
    if reason.is_some() && reason != cur.cancel_reason {
        changes.cancel_reason = reason;
    }
    let tracking = update
        .tracking_number
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    if tracking.is_some() && tracking != cur.tracking_number {
        changes.tracking_number = tracking.clone();
    }
    let tracking = tracking.or(cur.tracking_number.clone());

    let mut payment_state = cur.payment_state.clone();
    match update.paid {
        Some(true) if cur.payment_state == "unpaid" => {
            payment_state = "paid".into();
            changes.paid = true;
        }
        // Unmarked in the master: believed only when vitrina took no payment itself (a
        // Telegram charge is vitrina's own fact).
        Some(false) if cur.payment_state == "paid" => {
            let charged: Option<i64> =
                sqlx::query("SELECT order_id FROM payments WHERE order_id = $1 LIMIT 1")
                    .bind(order)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
            if charged.is_none() {
                payment_state = "unpaid".into();
            }
        }
        _ => {}
    }

    // The basket, as the master has it now.
    let mut items_total: Option<i64> = None;
    if let Some(lines) = &update.lines {
        let old: Vec<(String, String, i64, i64)> = sqlx::query(
            "SELECT offer_id, name, price, quantity FROM order_items WHERE order_id = $1 ORDER BY position",
        )
        .bind(order)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("offer_id")?,
                r.try_get("name")?,
                r.try_get("price")?,
                r.try_get("quantity")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
        let same = old.len() == lines.len()
            && old
                .iter()
                .zip(lines)
                .all(|(o, n)| o.0 == n.offer_id && o.2 == n.price && o.3 == n.quantity);
        if !same {
            for (offer, name, price, quantity) in &old {
                match lines.iter().find(|l| &l.offer_id == offer) {
                    None => changes.removed.push(name.clone()),
                    Some(l) if l.price != *price || l.quantity != *quantity => {
                        changes.lines.push(LineChange {
                            name: name.clone(),
                            quantity: (*quantity, l.quantity),
                            price: (*price, l.price),
                        })
                    }
                    Some(_) => {}
                }
            }
            for l in lines {
                if !old.iter().any(|o| o.0 == l.offer_id) {
                    changes.added.push(l.name.clone());
                }
            }
            replace_items(&mut tx, order, lines).await?;
        }
        items_total = Some(lines.iter().map(|l| l.price * l.quantity).sum());
    }
    let delivery_price = update.delivery_price.unwrap_or(cur.delivery_price);
    if delivery_price != cur.delivery_price {
        changes.delivery_price = Some((cur.delivery_price, delivery_price));
    }
    let total = update
        .total
        .or(items_total.map(|i| i + delivery_price))
        .unwrap_or(cur.total);
    if total != cur.total {
        changes.total = Some((cur.total, total));
    }
    let mut refund_due = cur.refund_due;
    if payment_state == "paid" && cur.payment_state == "paid" && total < cur.total {
        refund_due += cur.total - total;
        changes.refund_due = Some(refund_due);
    }

    let master_code = update.status.as_ref().map(|s| s.code.clone());
    if changes.is_empty() && payment_state == cur.payment_state {
        // Nothing the customer would notice; the master's code is still worth keeping.
        if let Some(code) = master_code {
            sqlx::query("UPDATE orders SET master_status = $1 WHERE id = $2")
                .bind(code)
                .bind(order)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        return Ok(changes);
    }
    sqlx::query(
        "UPDATE orders SET status = $1, payment_state = $2, master_status = COALESCE($3, master_status), \
             master_status_name = $4, cancel_reason = $5, tracking_number = $6, delivery_price = $7, \
             items_total = COALESCE($8, items_total), total = $9, refund_due = $10, updated_at = $11 \
         WHERE id = $12",
    )
    .bind(&status)
    .bind(&payment_state)
    .bind(master_code)
    .bind(master_name.as_deref())
    .bind(cancel_reason.as_deref())
    .bind(tracking.as_deref())
    .bind(delivery_price)
    .bind(items_total)
    .bind(total)
    .bind(refund_due)
    .bind(now_ms())
    .bind(order)
    .execute(&mut *tx)
    .await?;
    if let Some((from, to)) = &changes.status
        && config.orders.restock_on.contains(to)
        && !config.orders.restock_on.contains(from)
    {
        super::restock(&mut tx, order).await?;
    }
    if changes.is_empty() {
        // Only the payment state moved back: nothing to tell anyone.
        tx.commit().await?;
        return Ok(changes);
    }
    let note = match (&changes.cancel_reason, &changes.status_name) {
        (Some(reason), _) => format!("{}: {reason}", master.label()),
        (None, Some(name)) => format!("{}: {name}", master.label()),
        _ => master.label().to_string(),
    };
    let event = add_event(&mut tx, order, &status, Some(&note), master.actor()).await?;
    let from = changes
        .status
        .as_ref()
        .map(|(f, _)| f.clone())
        .unwrap_or_else(|| cur.status.clone());
    outbox
        .enqueue(
            &mut tx,
            NewJob::typed(
                JOB_STATUS_CHANGED,
                &super::events::StatusChanged {
                    order_id: order,
                    from,
                    to: status.clone(),
                    actor: Some(master.actor().to_string()),
                    changes: Some(changes.clone()),
                },
            )?
            .dedupe(format!("order:{order}:event:{event}")),
        )
        .await?;
    tx.commit().await?;
    outbox.notify();
    tracing::info!(order, master = master.actor(), from = %cur.status, to = %status,
        changes = %serde_json::to_string(&changes).unwrap_or_default(), "order changed by the master");
    Ok(changes)
}

async fn replace_items(
    conn: &mut sqlx::AnyConnection,
    order: i64,
    lines: &[MasterLine],
) -> Result<(), sqlx::Error> {
    // Keep what the master does not know (product id, variant) for lines that stay.
    let kept: Vec<(String, String, Option<String>)> =
        sqlx::query("SELECT offer_id, product_id, variant FROM order_items WHERE order_id = $1")
            .bind(order)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()?;
    sqlx::query("DELETE FROM order_items WHERE order_id = $1")
        .bind(order)
        .execute(&mut *conn)
        .await?;
    for (position, l) in lines.iter().enumerate() {
        let (product, variant) = kept
            .iter()
            .find(|k| k.0 == l.offer_id)
            .map(|k| (k.1.clone(), k.2.clone()))
            .unwrap_or_else(|| (l.offer_id.clone(), None));
        sqlx::query(
            "INSERT INTO order_items (order_id, position, offer_id, product_id, name, variant, price, quantity, total) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(order)
        .bind(position as i64)
        .bind(&l.offer_id)
        .bind(product)
        .bind(&l.name)
        .bind(variant)
        .bind(l.price)
        .bind(l.quantity)
        .bind(l.price * l.quantity)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Remembers the master's names of its statuses (for unmapped ones and `bitrix check`).
pub async fn remember_status_names(
    store: &Store,
    master: Master,
    names: &[(String, String, Option<String>)],
) -> Result<(), sqlx::Error> {
    for (code, name, name_en) in names {
        sqlx::query(
            "INSERT INTO master_statuses (source, code, name, name_en, seen_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (source, code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, \
             seen_at = excluded.seen_at",
        )
        .bind(master.actor())
        .bind(code)
        .bind(name)
        .bind(name_en.as_deref())
        .bind(now_ms())
        .execute(store.pool())
        .await?;
    }
    Ok(())
}

/// The master's name of a status code, if it was ever told.
pub async fn status_name(
    store: &Store,
    master: Master,
    code: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT name FROM master_statuses WHERE source = $1 AND code = $2")
        .bind(master.actor())
        .bind(code)
        .fetch_optional(store.pool())
        .await?
        .map(|r| r.try_get(0))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(code: &str, mapped: Option<&str>) -> Option<MasterStatus> {
        Some(MasterStatus {
            code: code.into(),
            name: code.into(),
            mapped: mapped.map(String::from),
        })
    }

    #[test]
    fn the_master_jumps_and_goes_back_whatever_the_transitions_say() {
        let c = Config::default();
        let m = Master::Bitrix;
        let jump = MasterUpdate {
            status: st("F", Some("delivered")),
            ..Default::default()
        };
        assert_eq!(
            target_status(&c, m, "new", &jump).unwrap().as_deref(),
            Some("delivered")
        );
        let back = MasterUpdate {
            status: st("N", Some("new")),
            paid: Some(true),
            ..Default::default()
        };
        // Back to N, but Bitrix still says it is paid.
        assert_eq!(
            target_status(&c, m, "delivered", &back).unwrap().as_deref(),
            Some("paid")
        );
        let back = MasterUpdate {
            status: st("N", Some("new")),
            paid: Some(false),
            ..Default::default()
        };
        assert_eq!(
            target_status(&c, m, "delivered", &back).unwrap().as_deref(),
            Some("new")
        );
        let cancel = MasterUpdate {
            status: st("F", Some("delivered")),
            cancelled: Some(true),
            ..Default::default()
        };
        assert_eq!(
            target_status(&c, m, "shipped", &cancel).unwrap().as_deref(),
            Some("cancelled")
        );
    }

    #[test]
    fn unmapped_statuses_keep_the_status_and_flags_only_move_forward() {
        let c = Config::default();
        let m = Master::OneC;
        let unmapped = MasterUpdate {
            status: st("[X] На сборке", None),
            ..Default::default()
        };
        assert_eq!(target_status(&c, m, "new", &unmapped).unwrap(), None);
        let paid = MasterUpdate {
            status: st("[X] На сборке", None),
            paid: Some(true),
            ..Default::default()
        };
        assert_eq!(
            target_status(&c, m, "new", &paid).unwrap().as_deref(),
            Some("paid")
        );
        assert_eq!(target_status(&c, m, "delivered", &paid).unwrap(), None);
        let reopened = MasterUpdate {
            cancelled: Some(false),
            ..Default::default()
        };
        assert_eq!(
            target_status(&c, m, "cancelled", &reopened)
                .unwrap()
                .as_deref(),
            Some("new")
        );
        let bad = MasterUpdate {
            status: st("Z", Some("teleported")),
            ..Default::default()
        };
        assert!(matches!(
            target_status(&c, m, "new", &bad),
            Err(MasterError::BadMapping { .. })
        ));
    }
}

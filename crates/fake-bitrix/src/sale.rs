//! The online store side: the statuses, deal stages and order properties a fresh store has, and
//! what a manager does to an order in the admin (status, cancel, pay, ship, edit lines), each
//! optionally announced by `OnSaleOrderSaved`.

use super::*;

impl FakeBitrix {
    /// A manager changes an order's status in Bitrix: `dateUpdate` moves on and, when
    /// `notify`, the bound `OnSaleOrderSaved` handlers are called.
    pub async fn set_order_status(&self, id: i64, status: &str, notify: bool) {
        {
            let mut inner = self.lock();
            inner.lists.clear();
            inner.clock += 1;
            let ts = format_time(inner.clock);
            if let Some(o) = inner.tables.get_mut("orders").and_then(|t| t.get_mut(&id)) {
                o["statusId"] = json!(status);
                o["dateUpdate"] = json!(ts);
                if status == "CANCELED" {
                    o["canceled"] = json!("Y");
                }
            }
            inner.recompute(id);
        }
        if notify {
            self.fire("ONSALEORDERSAVED", id).await;
        }
    }

    /// The shop's cart rules give every catalog-priced basket line `percent` off.
    pub fn set_discount_percent(&self, percent: f64) {
        self.lock().discount_percent = percent;
    }

    /// A status a manager created (Магазин → Настройки → Статусы), named in Russian only.
    pub fn add_status(&self, id: &str, name: &str) {
        let mut inner = self.lock();
        let sort = inner.status_rows.len() as i64 * 10 + 10;
        inner.add_status(id, "O", name, None, sort);
    }

    async fn managed(&self, order: i64, notify: bool, edit: impl FnOnce(&mut Inner)) {
        {
            let mut inner = self.lock();
            edit(&mut inner);
            inner.touch_order(order);
        }
        if notify {
            self.fire("ONSALEORDERSAVED", order).await;
        }
    }

    /// A manager cancels the order with a reason.
    pub async fn manager_cancel(&self, order: i64, reason: &str, notify: bool) {
        let reason = reason.to_string();
        self.managed(order, notify, |inner| {
            if let Some(o) = inner
                .tables
                .get_mut("orders")
                .and_then(|t| t.get_mut(&order))
            {
                o["canceled"] = json!("Y");
                o["reasonCanceled"] = json!(reason);
            }
        })
        .await;
    }

    /// A manager marks the order's payments paid.
    pub async fn manager_set_paid(&self, order: i64, notify: bool) {
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("payments") {
                for p in t.values_mut() {
                    if bitrix::as_i64(field(p, "orderId")) == Some(order) {
                        p["paid"] = json!("Y");
                    }
                }
            }
            if let Some(o) = inner
                .tables
                .get_mut("orders")
                .and_then(|t| t.get_mut(&order))
            {
                o["payed"] = json!("Y");
            }
        })
        .await;
    }

    /// A manager ships the order: its shipments deducted, with a tracking number.
    pub async fn manager_ship(&self, order: i64, tracking: &str, notify: bool) {
        let tracking = tracking.to_string();
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("shipments") {
                for s in t.values_mut() {
                    if bitrix::as_i64(field(s, "orderId")) == Some(order) {
                        s["deducted"] = json!("Y");
                        s["allowDelivery"] = json!("Y");
                        s["statusId"] = json!("DF");
                        s["trackingNumber"] = json!(tracking);
                    }
                }
            }
        })
        .await;
    }

    /// A manager removes a basket line (out of stock).
    pub async fn manager_remove_item(&self, order: i64, basket_id: i64, notify: bool) {
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("basket") {
                t.remove(&basket_id);
            }
        })
        .await;
    }

    /// A manager changes a basket line's quantity and/or price (a price typed by hand makes
    /// it a custom price).
    pub async fn manager_set_item(
        &self,
        order: i64,
        basket_id: i64,
        quantity: Option<f64>,
        price: Option<f64>,
        notify: bool,
    ) {
        self.managed(order, notify, |inner| {
            if let Some(b) = inner
                .tables
                .get_mut("basket")
                .and_then(|t| t.get_mut(&basket_id))
            {
                if let Some(q) = quantity {
                    b["quantity"] = json!(q);
                }
                if let Some(p) = price {
                    b["price"] = json!(p);
                    b["basePrice"] = json!(p);
                    b["discountPrice"] = json!(0);
                    b["customPrice"] = json!("Y");
                }
            }
        })
        .await;
    }

    /// A manager changes the delivery price of the order's shipments.
    pub async fn manager_set_delivery_price(&self, order: i64, price: f64, notify: bool) {
        self.managed(order, notify, |inner| {
            if let Some(t) = inner.tables.get_mut("shipments") {
                for s in t.values_mut() {
                    if bitrix::as_i64(field(s, "orderId")) == Some(order) {
                        s["priceDelivery"] = json!(price);
                        s["basePriceDelivery"] = json!(price);
                        s["customPriceDelivery"] = json!("Y");
                    }
                }
            }
        })
        .await;
    }
}

/// The statuses a fresh online store has (the REST docs' default status table), with their
/// Russian and English names: order statuses (type `O`) and shipment statuses (type `D`).
pub const DEFAULT_STATUSES: &[(&str, &str, &str, &str)] = &[
    (
        "N",
        "O",
        "Принят, ожидается оплата",
        "Accepted, awaiting payment",
    ),
    (
        "P",
        "O",
        "Оплачен, формируется к отправке",
        "Paid, preparing for shipment",
    ),
    ("S", "O", "Отправлен", "Shipped"),
    ("F", "O", "Выполнен", "Completed"),
    ("D", "O", "Отменён", "Canceled"),
    ("DN", "D", "Ожидает обработки", "Awaiting processing"),
    ("DD", "D", "Отменена", "Canceled"),
    ("DF", "D", "Отгружена", "Dispatched"),
];

/// The deal stages of a fresh Bitrix24's default pipeline (`crm.status.list`, `DEAL_STAGE`).
pub const DEFAULT_DEAL_STAGES: &[(&str, &str)] = &[
    ("NEW", "Новая"),
    ("PREPARATION", "Подготовка документов"),
    ("PREPAYMENT_INVOICE", "Счёт на предоплату"),
    ("EXECUTING", "В работе"),
    ("FINAL_INVOICE", "Финальный счёт"),
    ("WON", "Сделка успешна"),
    ("LOSE", "Сделка провалена"),
    ("APOLOGY", "Анализ причины провала"),
];

/// Order properties of the payer type «Физическое лицо» (1) on a fresh store.
pub const DEFAULT_ORDER_PROPERTIES: &[(i64, &str, &str, &str)] = &[
    (1, "FIO", "Ф.И.О.", "STRING"),
    (2, "EMAIL", "E-Mail", "STRING"),
    (3, "PHONE", "Телефон", "STRING"),
    (4, "ZIP", "Индекс", "STRING"),
    (5, "CITY", "Город", "STRING"),
    (6, "LOCATION", "Местоположение", "LOCATION"),
    (7, "ADDRESS", "Адрес доставки", "STRING"),
];

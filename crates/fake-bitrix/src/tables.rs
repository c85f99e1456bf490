//! The portal's data: tables of rows by id, the logical clock every change moves on, and the
//! derived parts of an order (totals, the view `sale.order.get` answers).

use super::*;

impl Inner {
    pub(crate) fn seed_store_defaults(&mut self) {
        for (i, (id, name)) in DEFAULT_DEAL_STAGES.iter().enumerate() {
            self.crm_statuses
                .push(json!({"ID": (i + 1).to_string(), "ENTITY_ID": "DEAL_STAGE",
                "STATUS_ID": id, "NAME": name, "SORT": ((i + 1) * 10).to_string()}));
        }
        for (i, (id, kind, ru, en)) in DEFAULT_STATUSES.iter().enumerate() {
            self.add_status(id, kind, ru, Some(en), (i as i64 + 1) * 10);
        }
        for (id, code, name, kind) in DEFAULT_ORDER_PROPERTIES {
            self.insert(
                "orderprops",
                json!({"id": id, "personTypeId": 1, "code": code, "name": name, "type": kind,
                    "active": "Y", "isEmail": if *code == "EMAIL" { "Y" } else { "N" },
                    "isPhone": if *code == "PHONE" { "Y" } else { "N" }}),
            );
        }
    }

    pub(crate) fn add_status(
        &mut self,
        id: &str,
        kind: &str,
        ru: &str,
        en: Option<&str>,
        sort: i64,
    ) {
        self.status_rows.retain(|r| r["id"] != json!(id));
        self.status_langs.retain(|r| r["statusId"] != json!(id));
        self.status_rows.push(
            json!({"id": id, "type": kind, "sort": sort, "notify": "Y", "color": null, "xmlId": null}),
        );
        self.status_langs
            .push(json!({"statusId": id, "lid": "ru", "name": ru, "description": ""}));
        if let Some(en) = en {
            self.status_langs
                .push(json!({"statusId": id, "lid": "en", "name": en, "description": ""}));
        }
    }

    /// The base price of a product or variation, in major units.
    pub(crate) fn base_price(&self, product: i64) -> Option<f64> {
        self.tables.get("prices")?.values().find_map(|p| {
            (bitrix::as_i64(field(p, "productId")) == Some(product)
                && bitrix::as_i64(field(p, "catalogGroupId")) == Some(BASE_PRICE))
            .then(|| num(field(p, "price")))
            .flatten()
        })
    }

    pub(crate) fn rows_where(&self, table: &'static str, key: &str, id: i64) -> Vec<Value> {
        self.tables
            .get(table)
            .map(|t| {
                t.values()
                    .filter(|r| bitrix::as_i64(field(r, key)) == Some(id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The order's price as the store computes it: its lines and the delivery of its
    /// shipments that are not cancelled.
    pub(crate) fn recompute(&mut self, order: i64) {
        let lines: f64 = self
            .rows_where("basket", "orderId", order)
            .iter()
            .map(|b| {
                num(field(b, "price")).unwrap_or(0.0) * num(field(b, "quantity")).unwrap_or(0.0)
            })
            .sum();
        let delivery: f64 = self
            .rows_where("shipments", "orderId", order)
            .iter()
            .filter(|s| text(field(s, "canceled")) != "Y")
            .map(|s| num(field(s, "priceDelivery")).unwrap_or(0.0))
            .sum();
        if let Some(o) = self
            .tables
            .get_mut("orders")
            .and_then(|t| t.get_mut(&order))
        {
            o["price"] = json!(((lines + delivery) * 100.0).round() / 100.0);
        }
    }

    /// `sale.order.get`'s order: the row with its basket, payments and shipments.
    pub(crate) fn order_view(&self, id: i64) -> Option<Value> {
        let mut order = self.tables.get("orders")?.get(&id)?.clone();
        order["basketItems"] = json!(self.rows_where("basket", "orderId", id));
        order["payments"] = json!(self.rows_where("payments", "orderId", id));
        order["shipments"] = json!(self.rows_where("shipments", "orderId", id));
        Some(order)
    }

    /// A change a manager saved: the price is recomputed and `dateUpdate` moves on.
    pub(crate) fn touch_order(&mut self, order: i64) {
        self.lists.clear();
        self.recompute(order);
        self.clock += 1;
        let ts = format_time(self.clock);
        if let Some(o) = self
            .tables
            .get_mut("orders")
            .and_then(|t| t.get_mut(&order))
        {
            o["dateUpdate"] = json!(ts);
        }
    }

    pub(crate) fn id(&mut self, table: &'static str) -> i64 {
        let next = self.next_id.entry(table).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }
    pub(crate) fn insert(&mut self, table: &'static str, row: Value) -> i64 {
        let id = row.get("id").and_then(bitrix::as_i64).unwrap_or(0);
        let next = self.next_id.entry(table).or_insert(1);
        *next = (*next).max(id + 1);
        self.insert_with_id(table, id, row);
        id
    }
    pub(crate) fn insert_with_id(&mut self, table: &'static str, id: i64, row: Value) {
        self.tables.entry(table).or_default().insert(id, row);
    }
    pub(crate) fn rows_of(&self, table: &'static str) -> Vec<&Value> {
        self.tables
            .get(table)
            .map(|t| t.values().collect())
            .unwrap_or_default()
    }
    pub(crate) fn table(&self, table: &'static str) -> Vec<Value> {
        self.tables
            .get(table)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }
    pub(crate) fn product_mut(&mut self, id: i64) -> Option<&mut Value> {
        self.tables.get_mut("products").and_then(|t| t.get_mut(&id))
    }
    /// A product's or a variation's row (they share the id space), and the field of its
    /// block's `MORE_PHOTO` property (3 in the catalog, 14 in the offers block).
    pub(crate) fn element_mut(&mut self, id: i64) -> Option<(&mut Value, &'static str)> {
        if self
            .tables
            .get("products")
            .is_some_and(|t| t.contains_key(&id))
        {
            return self.product_mut(id).map(|p| (p, "property3"));
        }
        self.tables
            .get_mut("offers")
            .and_then(|t| t.get_mut(&id))
            .map(|o| (o, "property14"))
    }

    /// A picture row and its file: a 1×1 GIF whose colour is the picture's id, so every file
    /// differs (content-addressed storage must not fold them together). The product row shows
    /// the file as the product list does: `detailPicture`/`previewPicture` as
    /// `{id, url, urlMachine}`, a `MORE_PHOTO` value (property 3) as `{valueId, value}`.
    pub(crate) fn add_picture(&mut self, product: i64, kind: &str) {
        let id = self.id("images");
        let dir = format!("{:03x}", id % 4096);
        let name = format!("{}_{id}.gif", kind.to_lowercase());
        let detail_url = format!("/upload/iblock/{dir}/p{id}x{product}/{name}");
        self.files.insert(detail_url.clone(), picture(id as u32));
        let row = json!({"id": id, "productId": product, "name": name, "type": kind,
            "detailUrl": detail_url, "createTime": format_time(self.clock),
            "downloadUrl": format!("{}/rest/download.json?token=catalog%7C{id}", self.origin)});
        self.insert_with_id("images", id, row);
        self.pictures.entry(product).or_default().push(id);
        let Some((p, more)) = self.element_mut(product) else {
            return;
        };
        let field = |name: &str| {
            let url = format!(
                "/rest/catalog.product.download?fields%5BfieldName%5D={name}&fields%5BfileId%5D={id}&fields%5BproductId%5D={product}"
            );
            json!({"id": id.to_string(), "url": url, "urlMachine": url})
        };
        match kind {
            "DETAIL_PICTURE" => p["detailPicture"] = field("detailPicture"),
            "PREVIEW_PICTURE" => p["previewPicture"] = field("previewPicture"),
            _ => {
                let value = json!({"valueId": (id * 10).to_string(), "value": id.to_string()});
                match p.get_mut(more) {
                    Some(Value::Array(a)) => a.push(value),
                    _ => p[more] = json!([value]),
                }
            }
        }
    }

    pub(crate) fn new_row(&mut self, table: &'static str, mut row: Value) -> i64 {
        let id = self.id(table);
        self.clock += 1;
        if let Value::Object(m) = &mut row {
            m.insert("id".into(), json!(id));
        }
        self.insert_with_id(table, id, row);
        id
    }
}

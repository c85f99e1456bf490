//! The catalog side of the portal as a test drives it: seeding sections, products, SKUs,
//! prices, pictures and properties, and the changes a catalog manager makes (stock, activity,
//! prices, deletions) with the catalog events they fire.

use super::*;

impl FakeBitrix {
    /// A catalog of `sections` sections and `n` products (ids 1..), with base prices and stock.
    pub fn seed_catalog(&self, sections: usize, n: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        // Two product properties: a brand from a list, a material as text.
        inner.insert(
            "properties",
            json!({"id": 1, "iblockId": CATALOG_IBLOCK, "name": "Бренд",
            "code": "BRAND", "propertyType": "L", "multiple": "N", "active": "Y"}),
        );
        inner.insert(
            "properties",
            json!({"id": 2, "iblockId": CATALOG_IBLOCK, "name": "Материал",
            "code": "MATERIAL", "propertyType": "S", "multiple": "N", "active": "Y"}),
        );
        inner.insert(
            "properties",
            json!({"id": 3, "iblockId": CATALOG_IBLOCK, "name": "Картинки",
            "code": "MORE_PHOTO", "propertyType": "F", "multiple": "Y", "active": "Y"}),
        );
        inner.insert(
            "enums",
            json!({"id": 1, "propertyId": 1, "value": "Acme", "xmlId": "acme"}),
        );
        inner.insert(
            "enums",
            json!({"id": 2, "propertyId": 1, "value": "Globex", "xmlId": "globex"}),
        );
        // The base price type, bought at by everyone (group 2), and the VAT rates of a fresh
        // install (`rate` null: без НДС).
        inner.insert(
            "price_types",
            json!({"id": BASE_PRICE, "name": "BASE", "base": "Y", "sort": 100, "xmlId": "BASE"}),
        );
        inner.insert(
            "price_type_groups",
            json!({"id": 1, "catalogGroupId": BASE_PRICE, "groupId": 2, "access": "Y"}),
        );
        for (id, name, rate) in [
            (1, "Без НДС", Value::Null),
            (2, "НДС 0%", json!(0)),
            (3, "НДС 20%", json!(20)),
        ] {
            inner.insert(
                "vats",
                json!({"id": id, "name": name, "rate": rate, "active": "Y"}),
            );
        }
        for s in 1..=sections as i64 {
            let row = json!({"id": s, "iblockId": CATALOG_IBLOCK, "name": format!("Раздел {s}"),
                "iblockSectionId": null, "xmlId": format!("sec-{s}"), "sort": s * 10});
            inner.insert("sections", row);
        }
        let base = inner.clock;
        for i in 0..n {
            // Imports write about a hundred products a second.
            inner.clock = base + (i / 100) as i64;
            let id = inner.id("products");
            let section = if sections == 0 {
                Value::Null
            } else {
                json!((id - 1) % sections as i64 + 1)
            };
            let ts = inner.clock;
            let row = json!({"id": id, "iblockId": CATALOG_IBLOCK, "name": format!("Товар {id}"),
                "code": format!("tovar-{id}"), "xmlId": format!("xml-{id}"), "active": "Y",
                "iblockSectionId": section, "detailText": format!("Описание {id}"),
                "quantity": (id % 17) as f64, "type": 1, "timestampX": format_time(ts), "dateCreate": format_time(ts),
                "quantityTrace": "Y", "canBuyZero": "N", "available": if id % 17 > 0 { "Y" } else { "N" },
                "vatId": if id % 2 == 0 { json!(3) } else { Value::Null },
                "detailPicture": null, "previewPicture": null,
                "property1": {"valueId": id, "value": (id % 2 + 1).to_string()},
                "property2": {"valueId": id, "value": if id % 3 == 0 { "лён" } else { "хлопок" }},
                "property3": null});
            inner.insert_with_id("products", id, row);
            let price_id = inner.id("prices");
            let price = json!({"id": price_id, "productId": id, "catalogGroupId": BASE_PRICE,
                "price": (100 + id % 900) as f64 + 0.5, "currency": "RUB",
                "timestampX": format_time(ts)});
            inner.insert_with_id("prices", price_id, price);
        }
        inner.clock += 1;
    }

    /// Variations (SKUs) for `products`: `per` each, in the offers block, with their own
    /// prices and stock; the parents become products with SKUs (`type` 3).
    pub fn seed_offers(&self, products: &[i64], per: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        // Variations share the element id space with products.
        let mut next = inner.next_id.get("products").copied().unwrap_or(1);
        for &parent in products {
            if let Some(p) = inner.product_mut(parent) {
                p["type"] = json!(3);
            }
            for k in 0..per {
                let id = next;
                next += 1;
                let row = json!({"id": id, "iblockId": OFFERS_IBLOCK, "name": format!("Товар {parent}, размер {}", 40 + k),
                    "parentId": {"value": parent.to_string(), "valueId": (id * 10).to_string()}, "active": "Y", "quantity": (k + 1) as f64,
                    "quantityTrace": "Y", "canBuyZero": "N", "available": "Y", "vatId": 3,
                    "type": 4, "xmlId": format!("sku-{id}"), "timestampX": ts.clone(), "dateCreate": ts.clone(),
                    "detailPicture": null, "previewPicture": null, "property14": null});
                inner.insert_with_id("offers", id, row);
                let price_id = inner.id("prices");
                let price = json!({"id": price_id, "productId": id, "catalogGroupId": BASE_PRICE,
                    "price": 1000.0 + k as f64, "currency": "RUB", "timestampX": ts.clone()});
                inner.insert_with_id("prices", price_id, price);
            }
        }
        inner.next_id.insert("products", next);
    }

    /// Pictures for products as they were when the catalog was seeded (timestamps unmoved):
    /// each gets a detail picture and `more` more photos, every file different.
    pub fn seed_pictures(&self, products: impl IntoIterator<Item = i64>, more: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        for product in products {
            inner.add_picture(product, "DETAIL_PICTURE");
            for _ in 0..more {
                inner.add_picture(product, "MORE_PHOTO");
            }
        }
    }

    /// Pictures of variations (trade offers), as a clothing catalog keeps its colours'
    /// photos: the offers block gets its `MORE_PHOTO` file property (id 14), and each
    /// variation a detail picture and `more` more photos (timestamps unmoved).
    pub fn seed_offer_pictures(&self, variations: impl IntoIterator<Item = i64>, more: usize) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.insert(
            "properties",
            json!({"id": 14, "iblockId": OFFERS_IBLOCK, "name": "Картинки", "code": "MORE_PHOTO",
                "propertyType": "F", "userType": null, "multiple": "Y", "active": "Y", "sort": 500}),
        );
        for v in variations {
            inner.add_picture(v, "DETAIL_PICTURE");
            for _ in 0..more {
                inner.add_picture(v, "MORE_PHOTO");
            }
        }
    }

    /// A manager replaces a product's (or a variation's) pictures in the admin (`DETAIL_PICTURE`,
    /// `PREVIEW_PICTURE`, `MORE_PHOTO`, in this order): new files, timestampX moves on.
    pub fn set_pictures(&self, product: i64, types: &[&str]) {
        self.replace_pictures(product, types, true);
    }

    /// The same by a script that leaves the change date alone (`SetPropertyValuesEx` does):
    /// only the file ids in the product list tell.
    pub fn set_pictures_quietly(&self, product: i64, types: &[&str]) {
        self.replace_pictures(product, types, false);
    }

    fn replace_pictures(&self, product: i64, types: &[&str], touch: bool) {
        let mut inner = self.lock();
        inner.lists.clear();
        let gone = inner.pictures.remove(&product).unwrap_or_default();
        if let Some(images) = inner.tables.get_mut("images") {
            for id in gone {
                images.remove(&id);
            }
        }
        if let Some((p, more)) = inner.element_mut(product) {
            p["detailPicture"] = Value::Null;
            p["previewPicture"] = Value::Null;
            p[more] = Value::Null;
        }
        for t in types {
            inner.add_picture(product, t);
        }
        if !touch {
            return;
        }
        inner.clock += 1;
        let ts = format_time(inner.clock);
        if let Some((p, _)) = inner.element_mut(product) {
            p["timestampX"] = json!(ts);
        }
    }

    /// The file a picture row points at (its `detailUrl`), as served.
    pub fn picture_file(&self, detail_url: &str) -> Option<Vec<u8>> {
        self.lock().files.get(detail_url).cloned()
    }
    /// File GETs served (not REST requests).
    pub fn downloads(&self) -> u64 {
        self.lock().downloads
    }
    /// The next `n` file GETs answer `status` (a 5xx: the web server's trouble).
    pub fn fail_next_downloads(&self, n: usize, status: u16) {
        let mut inner = self.lock();
        for _ in 0..n {
            inner.file_failures.push_back(status);
        }
    }

    /// A sale price type bought at by everyone (`SALE`, id 2) with prices `percent` below the
    /// base price for `products`: how a shop with one price type for customers usually shows a
    /// sale over REST. Catalog discounts proper are not readable over REST (see
    /// [`FakeBitrix::set_catalog_discount`]).
    pub fn seed_sale(&self, products: &[i64], percent: u32) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        inner.insert(
            "price_types",
            json!({"id": SALE_PRICE, "name": "SALE", "base": "N", "sort": 200, "xmlId": "SALE"}),
        );
        inner.insert(
            "price_type_groups",
            json!({"id": 2, "catalogGroupId": SALE_PRICE, "groupId": 2, "access": "Y"}),
        );
        for &product in products {
            let base = inner
                .rows_of("prices")
                .into_iter()
                .find(|p| {
                    p["productId"] == json!(product) && p["catalogGroupId"] == json!(BASE_PRICE)
                })
                .and_then(|p| p["price"].as_f64());
            let Some(base) = base else { continue };
            let sale = (base * f64::from(100 - percent.min(100))).round() / 100.0;
            let id = inner.id("prices");
            inner.insert_with_id(
                "prices",
                id,
                json!({"id": id, "productId": product, "catalogGroupId": SALE_PRICE,
                    "price": sale, "currency": "RUB", "timestampX": ts.clone()}),
            );
        }
    }

    /// A catalog discount (Маркетинг → Скидки) of `percent` on a product. Bitrix applies it
    /// when it prices a basket; no REST method lists or computes it, so it is kept here where
    /// no catalog list shows it, as on a real portal.
    pub fn set_catalog_discount(&self, product: i64, percent: u32) {
        let mut inner = self.lock();
        inner.insert_with_id(
            "discounts",
            product,
            json!({"productId": product, "percent": percent}),
        );
    }

    /// SKU properties in the offers block, as a clothing catalog has them: `Размер` (a list,
    /// id 10, values S, M, L), `Длина` (a number, id 12), `Цвет` (a highload directory
    /// reference, id 11: REST gives its values' external codes only) and `CML2_LINK` (the
    /// link to the parent, id 13). Every variation gets a size, a length and a colour.
    pub fn seed_offer_properties(&self) {
        let mut inner = self.lock();
        inner.lists.clear();
        for row in [
            json!({"id": 10, "iblockId": OFFERS_IBLOCK, "name": "Размер", "code": "SIZE",
                "propertyType": "L", "userType": null, "multiple": "N", "active": "Y", "sort": 100}),
            json!({"id": 11, "iblockId": OFFERS_IBLOCK, "name": "Цвет", "code": "COLOR_REF",
                "propertyType": "S", "userType": "directory", "multiple": "N", "active": "Y", "sort": 200,
                "userTypeSettings": {"size": 1, "width": 0, "group": "N", "multiple": "N", "TABLE_NAME": "b_hlbd_color"}}),
            json!({"id": 12, "iblockId": OFFERS_IBLOCK, "name": "Длина", "code": "LENGTH",
                "propertyType": "N", "userType": null, "multiple": "N", "active": "Y", "sort": 300}),
            json!({"id": 13, "iblockId": OFFERS_IBLOCK, "name": "Элемент каталога", "code": "CML2_LINK",
                "propertyType": "E", "userType": "SKU", "multiple": "N", "active": "Y", "sort": 400,
                "linkIblockId": CATALOG_IBLOCK}),
        ] {
            inner.insert("properties", row);
        }
        for (id, value) in [(10, "S"), (11, "M"), (12, "L")] {
            inner.insert(
                "enums",
                json!({"id": id, "propertyId": 10, "value": value, "xmlId": value.to_lowercase(), "sort": id * 10}),
            );
        }
        let ids: Vec<i64> = inner
            .tables
            .get("offers")
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        for (k, id) in ids.into_iter().enumerate() {
            if let Some(o) = inner.tables.get_mut("offers").and_then(|t| t.get_mut(&id)) {
                let parent = o["parentId"]["value"].clone();
                o["property10"] =
                    json!({"valueId": id * 100 + 10, "value": (10 + k % 3).to_string()});
                o["property11"] = json!({"valueId": id * 100 + 11, "value": if k % 2 == 0 { "red" } else { "blue" }});
                o["property12"] =
                    json!({"valueId": id * 100 + 12, "value": format!("{}.5", 60 + k % 3)});
                o["property13"] = json!({"valueId": id * 100 + 13, "value": parent});
            }
        }
    }

    /// Stock moves without the element changing (an order reserves or ships it, a store
    /// document posts): `quantity` and `available` change, `timestampX` does not. With
    /// `notify`, the bound `CATALOG.PRODUCT.ON.UPDATE` handlers are called.
    pub async fn set_quantity(&self, id: i64, quantity: f64, notify: bool) {
        let kind = {
            let mut inner = self.lock();
            inner.lists.clear();
            let mut kind = None;
            for (table, default) in [("products", 1), ("offers", 4)] {
                if let Some(r) = inner.tables.get_mut(table).and_then(|t| t.get_mut(&id)) {
                    r["quantity"] = json!(quantity);
                    refresh_available(r);
                    kind = Some(r["type"].as_i64().unwrap_or(default));
                }
            }
            match kind {
                Some(k) => k,
                None => return,
            }
        };
        if notify {
            self.fire_catalog("CATALOG.PRODUCT.ON.UPDATE", id, kind)
                .await;
        }
    }

    /// A product's or variation's "can buy at zero" and quantity tracing (`Y`, `N`, `D`).
    pub fn set_stock_rules(&self, id: i64, can_buy_zero: &str, quantity_trace: &str) {
        let mut inner = self.lock();
        inner.lists.clear();
        for table in ["products", "offers"] {
            if let Some(r) = inner.tables.get_mut(table).and_then(|t| t.get_mut(&id)) {
                r["canBuyZero"] = json!(can_buy_zero);
                r["quantityTrace"] = json!(quantity_trace);
                refresh_available(r);
            }
        }
    }

    /// Deletes a product (with its prices and variations), as the admin's «Удалить» does;
    /// with `notify`, the bound `CATALOG.PRODUCT.ON.DELETE` handlers are called.
    pub async fn delete_product(&self, id: i64, notify: bool) {
        {
            let mut inner = self.lock();
            inner.lists.clear();
            let skus: Vec<i64> = inner
                .rows_of("offers")
                .into_iter()
                .filter(|o| bitrix::as_i64(&o["parentId"]["value"]) == Some(id))
                .filter_map(|o| o["id"].as_i64())
                .collect();
            for table in ["products", "offers"] {
                if let Some(t) = inner.tables.get_mut(table) {
                    t.remove(&id);
                    for s in &skus {
                        t.remove(s);
                    }
                }
            }
            if let Some(prices) = inner.tables.get_mut("prices") {
                prices.retain(|_, p| {
                    let owner = p["productId"].as_i64();
                    owner != Some(id) && !skus.iter().any(|s| owner == Some(*s))
                });
            }
        }
        if notify {
            self.fire_catalog("CATALOG.PRODUCT.ON.DELETE", id, 1).await;
        }
    }

    /// Posts a catalog event (`CATALOG.PRODUCT.ON.UPDATE`…) with `data[FIELDS][ID]` and
    /// `data[FIELDS][TYPE]` (1 product, 3 product with SKUs, 4 variation) to its handlers.
    pub async fn fire_catalog(&self, event: &str, id: i64, kind: i64) -> Vec<u16> {
        let kind = form_urlencoded::Serializer::new(String::new())
            .append_pair("data[FIELDS][TYPE]", &kind.to_string())
            .finish();
        self.post_event(event, id, Some(&kind)).await
    }

    /// Deactivates or activates a product or a variation, moving its timestampX to now.
    pub fn set_active(&self, id: i64, active: bool) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        if let Some((p, _)) = inner.element_mut(id) {
            p["active"] = json!(if active { "Y" } else { "N" });
            p["timestampX"] = json!(ts);
        }
    }

    /// Changes a product (name and price), moving its timestampX to now.
    pub fn touch_product(&self, id: i64, name: &str, price: f64) {
        let mut inner = self.lock();
        inner.lists.clear();
        inner.clock += 1;
        let ts = format_time(inner.clock);
        if let Some(p) = inner.product_mut(id) {
            p["name"] = json!(name);
            p["timestampX"] = json!(ts.clone());
        }
        if let Some(prices) = inner.tables.get_mut("prices") {
            for row in prices.values_mut() {
                if row["productId"] == json!(id) {
                    row["price"] = json!(price);
                    row["timestampX"] = json!(ts.clone());
                }
            }
        }
    }
}

/// A valid 1×1 GIF whose one colour is `seed`.
pub fn picture(seed: u32) -> Vec<u8> {
    let [_, r, g, b] = seed.to_be_bytes();
    let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    gif.extend_from_slice(&[r, g, b, 0, 0, 0]);
    gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b");
    gif
}

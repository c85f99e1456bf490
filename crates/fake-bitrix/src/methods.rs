//! The REST methods: which scope each needs, and what each does to the tables.

use super::*;

pub(crate) const METHODS: &[(&str, &str)] = &[
    ("catalog.section.list", "catalog"),
    ("catalog.product.list", "catalog"),
    ("catalog.price.list", "catalog"),
    ("catalog.pricetype.list", "catalog"),
    ("catalog.pricetypegroup.list", "catalog"),
    ("catalog.vat.list", "catalog"),
    ("catalog.product.offer.list", "catalog"),
    ("catalog.productproperty.list", "catalog"),
    ("catalog.productpropertyenum.list", "catalog"),
    ("catalog.productimage.list", "catalog"),
    ("user.get", "user"),
    ("user.add", "user"),
    ("user.userfield.list", "user.userfield"),
    ("user.userfield.add", "user.userfield"),
    ("sale.order.list", "sale"),
    ("sale.order.get", "sale"),
    ("sale.order.add", "sale"),
    ("sale.order.update", "sale"),
    ("sale.basketitem.add", "sale"),
    ("sale.basketitem.list", "sale"),
    ("sale.shipment.add", "sale"),
    ("sale.shipment.list", "sale"),
    ("sale.payment.add", "sale"),
    ("sale.payment.list", "sale"),
    ("sale.payment.update", "sale"),
    ("sale.propertyvalue.modify", "sale"),
    ("sale.status.list", "sale"),
    ("sale.statuslang.list", "sale"),
    ("sale.property.list", "sale"),
    ("user.update", "user"),
    ("crm.status.list", "crm"),
    ("crm.deal.add", "crm"),
    ("crm.deal.list", "crm"),
    ("crm.deal.get", "crm"),
    ("crm.deal.update", "crm"),
    ("crm.deal.productrows.set", "crm"),
    ("crm.contact.add", "crm"),
    ("crm.contact.list", "crm"),
];

pub(crate) fn dispatch(inner: &mut Inner, method: &str, params: &Value) -> Result<Reply, Failure> {
    *inner.executed.entry(method.to_string()).or_default() += 1;
    let read_only = method.ends_with(".list")
        || method.ends_with(".get")
        || matches!(method, "scope" | "methods" | "user.get");
    if !read_only {
        inner.lists.clear();
    }
    if let Some((_, scope)) = METHODS.iter().find(|(m, _)| *m == method) {
        scope_check(inner, scope)?;
    }
    match method {
        "scope" => Ok(Reply::of(json!(inner.scopes))),
        "methods" => {
            let names: Vec<&str> = METHODS
                .iter()
                .filter(|(_, s)| inner.scopes.iter().any(|x| x == s))
                .map(|(m, _)| *m)
                .chain([
                    "batch",
                    "scope",
                    "methods",
                    "event.bind",
                    "event.get",
                    "event.unbind",
                ])
                .collect();
            Ok(Reply::of(json!(names)))
        }
        "catalog.section.list" => Ok(list_cached(inner, "sections", params, Some("sections"))),
        // Both catalog element lists require the infoblock in the filter.
        "catalog.product.list" | "catalog.product.offer.list" => {
            let has_iblock = params
                .get("filter")
                .is_some_and(|f| !field(f, "iblockId").is_null());
            if !has_iblock {
                return Err(err(
                    400,
                    "ERROR_CORE",
                    "Required filter field iblockId is missing",
                ));
            }
            let table = if method == "catalog.product.list" {
                "products"
            } else {
                "offers"
            };
            Ok(list_cached(inner, table, params, Some(table)))
        }
        "catalog.price.list" => Ok(list_cached(inner, "prices", params, Some("prices"))),
        "catalog.pricetype.list" => Ok(list_cached(
            inner,
            "price_types",
            params,
            Some("priceTypes"),
        )),
        "catalog.pricetypegroup.list" => Ok(list_cached(
            inner,
            "price_type_groups",
            params,
            Some("priceTypeGroups"),
        )),
        "catalog.vat.list" => Ok(list_cached(inner, "vats", params, Some("vats"))),
        "catalog.productproperty.list" => Ok(list_cached(
            inner,
            "properties",
            params,
            Some("productProperties"),
        )),
        "catalog.productpropertyenum.list" => Ok(list_cached(
            inner,
            "enums",
            params,
            Some("productPropertyEnums"),
        )),
        // One product's pictures; numeric error codes, as the catalog module answers.
        "catalog.productimage.list" => {
            let Some(product) = params.get("productId").and_then(bitrix::as_i64) else {
                return Err(err(400, "100", "Required parameter productId is missing"));
            };
            let exists = ["products", "offers"].iter().any(|t| {
                inner
                    .tables
                    .get(t)
                    .is_some_and(|t| t.contains_key(&product))
            });
            if !exists {
                return Err(err(400, "0", "Product is not exists"));
            }
            let wanted = params.get("select");
            let ids = inner.pictures.get(&product).cloned().unwrap_or_default();
            let table = inner.tables.get("images");
            let images: Vec<Value> = ids
                .iter()
                .filter_map(|id| table.and_then(|t| t.get(id)))
                .map(|i| select(i, wanted))
                .collect();
            let total = images.len() as u64;
            let mut reply = Reply::of(json!({ "productImages": images }));
            reply.total = Some(total);
            Ok(reply)
        }
        "user.get" => Ok(list_cached(inner, "users", params, None)),
        "user.add" => {
            let f = if params.get("fields").is_some() {
                fields(params)
            } else {
                params.clone()
            };
            if text(field(&f, "EMAIL")).is_empty() && text(field(&f, "LOGIN")).is_empty() {
                return Err(err(400, "ERROR_CORE", "Email is required"));
            }
            let mut row = f.clone();
            let id = inner.id("users");
            row["ID"] = json!(id.to_string());
            inner.insert_with_id("users", id, row);
            Ok(Reply::of(json!(id)))
        }
        "user.userfield.list" => Ok(list_cached(inner, "userfields", params, None)),
        "user.userfield.add" => {
            let mut f = fields(params);
            // Bitrix24 prefixes the code of a field made over REST.
            let name = format!(
                "UF_USR_{}",
                text(field(&f, "FIELD_NAME")).trim_start_matches("UF_USR_")
            );
            f["FIELD_NAME"] = json!(name.clone());
            if inner
                .table("userfields")
                .iter()
                .any(|u| text(field(u, "FIELD_NAME")) == name)
            {
                return Err(err(400, "ERROR_CORE", "The field already exists"));
            }
            let mut row = f.clone();
            let id = inner.id("userfields");
            row["ID"] = json!(id.to_string());
            row["ENTITY_ID"] = json!("USER");
            inner.insert_with_id("userfields", id, row);
            Ok(Reply::of(json!(id)))
        }
        "sale.order.list" => Ok(list_cached(inner, "orders", params, Some("orders"))),
        "sale.order.get" => {
            let id = required_id(params)?;
            let order = inner
                .order_view(id)
                .ok_or_else(|| err(400, "201240400001", "order does not exist"))?;
            Ok(Reply::of(json!({ "order": order })))
        }
        // Statuses have string ids: listed as they are, not through the id-keyed cache.
        "sale.status.list" => {
            let rows = inner.status_rows.clone();
            Ok(list(rows.iter(), params, Some("statuses")))
        }
        "sale.statuslang.list" => {
            let rows = inner.status_langs.clone();
            Ok(list(rows.iter(), params, Some("statusLangs")))
        }
        "sale.property.list" => Ok(list_cached(inner, "orderprops", params, Some("properties"))),
        "crm.status.list" => {
            let rows = inner.crm_statuses.clone();
            Ok(list(rows.iter(), params, None))
        }
        "user.update" => {
            let id = required_id(params)?;
            let user = inner
                .tables
                .get_mut("users")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "ERROR_CORE", "User not found"))?;
            if let (Value::Object(u), Value::Object(p)) = (user, params) {
                for (k, v) in p {
                    if !k.eq_ignore_ascii_case("id") {
                        u.insert(k.clone(), v.clone());
                    }
                }
            }
            Ok(Reply::of(json!(true)))
        }
        "sale.order.add" => {
            let f = fields(params);
            for required in ["lid", "personTypeId", "currency"] {
                if field(&f, required).is_null() {
                    return Err(err(
                        400,
                        "ERROR_CORE",
                        &format!("Required fields: {required}"),
                    ));
                }
            }
            let now = format_time(inner.clock + 1);
            let mut row = f.clone();
            let status = text(field(&f, "statusId"));
            row["statusId"] = json!(if status.is_empty() {
                "N".to_string()
            } else {
                status
            });
            row["canceled"] = json!("N");
            row["payed"] = json!("N");
            row["dateInsert"] = json!(now.clone());
            row["dateUpdate"] = json!(now);
            let id = inner.new_row("orders", row);
            let order = inner.tables.get("orders").and_then(|t| t.get(&id)).cloned();
            Ok(Reply::of(json!({ "order": order })))
        }
        "sale.order.update" => {
            let id = required_id(params)?;
            let f = fields(params);
            inner.clock += 1;
            let now = format_time(inner.clock);
            let order = inner
                .tables
                .get_mut("orders")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "ERROR_CORE", "order does not exist"))?;
            if let (Value::Object(o), Value::Object(f)) = (&mut *order, f) {
                for (k, v) in f {
                    o.insert(k, v);
                }
                o.insert("dateUpdate".into(), json!(now));
            }
            Ok(Reply::of(json!({ "order": order.clone() })))
        }
        "sale.basketitem.add" => {
            let f = fields(params);
            let order = field(&f, "orderId").clone();
            let order_id = bitrix::as_i64(&order)
                .ok_or_else(|| err(400, "ERROR_CORE", "Required fields: orderId"))?;
            if !inner
                .tables
                .get("orders")
                .is_some_and(|t| t.contains_key(&order_id))
            {
                return Err(err(400, "ERROR_CORE", "order does not exist"));
            }
            let mut f = f;
            if text(field(&f, "customPrice")) != "Y" {
                // The catalog prices the line, and the shop's rules discount it.
                let product = bitrix::as_i64(field(&f, "productId")).unwrap_or(0);
                let Some(base) = inner.base_price(product) else {
                    return Err(err(
                        400,
                        "200140400007",
                        "basket item is not saved - bad data",
                    ));
                };
                let discount = (base * inner.discount_percent).round() / 100.0;
                f["basePrice"] = json!(base);
                f["discountPrice"] = json!(discount);
                f["price"] = json!(base - discount);
                f["customPrice"] = json!("N");
                if text(field(&f, "name")).is_empty() {
                    let name = ["products", "offers"]
                        .iter()
                        .find_map(|t| inner.tables.get(t).and_then(|t| t.get(&product)))
                        .map(|p| text(field(p, "name")))
                        .unwrap_or_default();
                    f["name"] = json!(name);
                }
            }
            let id = inner.new_row("basket", f);
            inner.recompute(order_id);
            Ok(Reply::of(
                json!({ "basketItem": inner.tables.get("basket").and_then(|t| t.get(&id)).cloned() }),
            ))
        }
        "sale.basketitem.list" => Ok(list_cached(inner, "basket", params, Some("basketItems"))),
        "sale.shipment.add" => {
            let mut f = fields(params);
            if ["orderId", "allowDelivery", "deducted", "deliveryId"]
                .iter()
                .any(|k| field(&f, k).is_null())
            {
                return Err(err(400, "0", "Required fields are missing"));
            }
            let Some(order) = bitrix::as_i64(field(&f, "orderId"))
                .and_then(|id| inner.tables.get("orders").and_then(|t| t.get(&id)))
            else {
                return Err(err(400, "0", "Не удается загрузить заказ"));
            };
            // A base price given is the delivery price too; the currency is the order's.
            f["currency"] = order.get("currency").cloned().unwrap_or(json!("RUB"));
            f["priceDelivery"] = field(&f, "basePriceDelivery").clone();
            f["customPriceDelivery"] = json!("N");
            f["system"] = json!("N");
            f["canceled"] = json!("N");
            f["trackingNumber"] = json!("");
            let order_id = bitrix::as_i64(field(&f, "orderId")).unwrap_or(0);
            let id = inner.new_row("shipments", f);
            inner.recompute(order_id);
            Ok(Reply::of(
                json!({ "shipment": inner.tables.get("shipments").and_then(|t| t.get(&id)).cloned() }),
            ))
        }
        "sale.shipment.list" => Ok(list_cached(inner, "shipments", params, Some("shipments"))),
        "sale.payment.add" => {
            let f = fields(params);
            let paid = text(field(&f, "paid")) == "Y";
            let order = bitrix::as_i64(field(&f, "orderId"));
            let id = inner.new_row("payments", f);
            if paid
                && let Some(o) =
                    order.and_then(|o| inner.tables.get_mut("orders").and_then(|t| t.get_mut(&o)))
            {
                o["payed"] = json!("Y");
            }
            Ok(Reply::of(
                json!({ "payment": inner.tables.get("payments").and_then(|t| t.get(&id)).cloned() }),
            ))
        }
        "sale.payment.list" => Ok(list_cached(inner, "payments", params, Some("payments"))),
        "sale.payment.update" => {
            let id = required_id(params)?;
            let f = fields(params);
            let paid = text(field(&f, "paid")) == "Y";
            let payment = inner
                .tables
                .get_mut("payments")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "ERROR_CORE", "payment does not exist"))?;
            if let (Value::Object(p), Value::Object(f)) = (&mut *payment, f) {
                for (k, v) in f {
                    p.insert(k, v);
                }
            }
            let payment = payment.clone();
            if paid && let Some(order) = bitrix::as_i64(field(&payment, "orderId")) {
                inner.clock += 1;
                let now = format_time(inner.clock);
                if let Some(o) = inner
                    .tables
                    .get_mut("orders")
                    .and_then(|t| t.get_mut(&order))
                {
                    o["payed"] = json!("Y");
                    o["dateUpdate"] = json!(now);
                }
            }
            Ok(Reply::of(json!({ "payment": payment })))
        }
        "sale.propertyvalue.modify" => {
            let f = fields(params);
            inner.new_row("propertyvalues", f);
            Ok(Reply::of(json!({ "propertyValues": [] })))
        }
        "crm.contact.add" | "crm.deal.add" => {
            let table = if method == "crm.deal.add" {
                "deals"
            } else {
                "contacts"
            };
            let mut f = fields(params);
            if table == "deals" {
                if f.get("STAGE_ID").is_none() {
                    f["STAGE_ID"] = json!("NEW");
                }
                f["DATE_MODIFY"] = json!(format_time(inner.clock + 1));
            }
            let id = inner.new_row(table, f);
            if let Some(row) = inner.tables.get_mut(table).and_then(|t| t.get_mut(&id)) {
                row["ID"] = json!(id.to_string());
                if let Value::Object(m) = row {
                    m.remove("id");
                }
            }
            Ok(Reply::of(json!(id)))
        }
        "crm.contact.list" => Ok(list_cached(inner, "contacts", params, None)),
        "crm.deal.list" => Ok(list_cached(inner, "deals", params, None)),
        "crm.deal.get" => {
            let id = required_id(params)?;
            inner
                .tables
                .get("deals")
                .and_then(|t| t.get(&id))
                .cloned()
                .map(Reply::of)
                .ok_or_else(|| err(400, "NOT_FOUND", "Not found"))
        }
        "crm.deal.update" => {
            let id = required_id(params)?;
            let f = fields(params);
            inner.clock += 1;
            let now = format_time(inner.clock);
            let deal = inner
                .tables
                .get_mut("deals")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "NOT_FOUND", "Not found"))?;
            if let (Value::Object(d), Value::Object(f)) = (deal, f) {
                for (k, v) in f {
                    d.insert(k, v);
                }
                d.insert("DATE_MODIFY".into(), json!(now));
            }
            Ok(Reply::of(json!(true)))
        }
        "crm.deal.productrows.set" => {
            let id = required_id(params)?;
            let rows = params.get("rows").cloned().unwrap_or(json!([]));
            let deal = inner
                .tables
                .get_mut("deals")
                .and_then(|t| t.get_mut(&id))
                .ok_or_else(|| err(400, "NOT_FOUND", "Not found"))?;
            deal["PRODUCT_ROWS"] = rows;
            Ok(Reply::of(json!(true)))
        }
        "event.bind" => {
            let event = text(params.get("event").unwrap_or(&Value::Null));
            let handler = text(params.get("handler").unwrap_or(&Value::Null));
            if event.is_empty() || handler.is_empty() {
                return Err(err(400, "ERROR_CORE", "event and handler are required"));
            }
            if inner
                .handlers
                .iter()
                .any(|(_, e, h)| e.eq_ignore_ascii_case(&event) && *h == handler)
            {
                return Err(err(
                    400,
                    "ERROR_EVENT_HANDLER_EXISTS",
                    "Handler already binded",
                ));
            }
            let id = inner.handlers.len() as i64 + 1;
            inner.handlers.push((id, event.to_uppercase(), handler));
            Ok(Reply::of(json!(true)))
        }
        "event.get" => Ok(Reply::of(json!(
            inner
                .handlers
                .iter()
                .map(|(_, e, h)| json!({"event": e, "handler": h, "auth_type": "0", "offline": 0}))
                .collect::<Vec<_>>()
        ))),
        _ => Err(err(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")),
    }
}

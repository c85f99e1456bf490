//! Turning the element tree of one item into a typed item.

use crate::dom::Dom;
use crate::model::{
    BaseUnit, Characteristic, Offer, Price, PriceType, PriceTypeTax, Product, Property,
    PropertyValue, PropertyVariant, Requisite, TaxRate, ValueType, Warehouse, WarehouseStock,
};
use crate::{Decimal, Error, normalize_currency};

/// The item being converted plus where it sits in the document, for errors.
pub(crate) struct ItemCtx<'a> {
    pub dom: &'a Dom,
    /// Path of the item's parent element (`…/Предложения`).
    pub base: &'a str,
}

const ROOT: usize = 0;

impl ItemCtx<'_> {
    /// Path of `node`, with the item's `Ид` to make it findable:
    /// `…/Предложения/Предложение[Ид=x]/Цены/Цена/ЦенаЗаЕдиницу`.
    fn path(&self, node: usize) -> String {
        let dom = self.dom;
        let mut chain = Vec::new();
        let mut at = node;
        while at != ROOT {
            chain.push(at);
            at = dom.node(at).parent;
        }
        let mut path = String::from(self.base);
        path.push('/');
        path.push_str(&dom.node(ROOT).name);
        if let Some(id) = dom
            .child(ROOT, "Ид")
            .map(|c| dom.text(c))
            .filter(|t| !t.is_empty())
        {
            path.push_str("[Ид=");
            path.push_str(id);
            path.push(']');
        }
        for &n in chain.iter().rev() {
            path.push('/');
            path.push_str(&dom.node(n).name);
        }
        path
    }

    fn invalid(&self, node: usize, message: impl Into<String>) -> Error {
        let n = self.dom.node(node);
        Error::Invalid {
            line: n.line,
            position: n.pos,
            path: self.path(node),
            message: message.into(),
        }
    }

    fn required_id(&self) -> Result<String, Error> {
        self.dom
            .child_text(ROOT, "Ид")
            .ok_or_else(|| self.invalid(ROOT, "missing or empty Ид"))
    }

    fn decimal(&self, node: usize) -> Result<Decimal, Error> {
        Decimal::parse(self.dom.text(node))
            .map_err(|e| self.invalid(node, format!("bad number: {e}")))
    }

    /// Empty element → `None`; otherwise it must be a number.
    fn opt_decimal(&self, node: usize) -> Result<Option<Decimal>, Error> {
        if self.dom.text(node).is_empty() {
            Ok(None)
        } else {
            self.decimal(node).map(Some)
        }
    }

    fn opt_child_decimal(&self, node: usize, name: &str) -> Result<Option<Decimal>, Error> {
        match self.dom.child(node, name) {
            Some(c) => self.opt_decimal(c),
            None => Ok(None),
        }
    }

    fn attr_decimal(&self, node: usize, name: &str) -> Result<Option<Decimal>, Error> {
        match self.dom.attr(node, name) {
            None => Ok(None),
            Some(v) => Decimal::parse(v)
                .map(Some)
                .map_err(|e| self.invalid(node, format!("bad number in attribute {name}: {e}"))),
        }
    }

    fn opt_bool(&self, node: usize) -> Result<Option<bool>, Error> {
        let text = self.dom.text(node);
        if text.is_empty() {
            return Ok(None);
        }
        parse_bool(text)
            .map(Some)
            .ok_or_else(|| self.invalid(node, format!("expected true/false, found {text:?}")))
    }

    fn base_unit(&self, node: usize) -> BaseUnit {
        let dom = self.dom;
        let attr = |name| dom.attr(node, name).map(str::to_owned);
        BaseUnit {
            code: attr("Код"),
            full_name: attr("НаименованиеПолное"),
            international_abbreviation: attr("МеждународноеСокращение"),
            text: dom.opt_text(node),
        }
    }

    fn property_values(&self, node: usize, out: &mut Vec<PropertyValue>) -> Result<(), Error> {
        let dom = self.dom;
        for c in dom.children(node) {
            if dom.node(c).name != "ЗначенияСвойства" {
                continue;
            }
            let property_id = dom
                .child_text(c, "Ид")
                .ok_or_else(|| self.invalid(c, "missing Ид of the property"))?;
            let values = dom
                .children(c)
                .filter(|&v| dom.node(v).name == "Значение")
                .filter_map(|v| dom.opt_text(v))
                .collect();
            out.push(PropertyValue {
                property_id,
                name: dom.child_text(c, "Наименование"),
                values,
            });
        }
        Ok(())
    }

    fn characteristics(&self, node: usize, out: &mut Vec<Characteristic>) {
        let dom = self.dom;
        for c in dom.children(node) {
            if dom.node(c).name == "ХарактеристикаТовара" {
                out.push(Characteristic {
                    id: dom.child_text(c, "Ид"),
                    name: dom.child_text(c, "Наименование"),
                    value: dom.child_text(c, "Значение"),
                });
            }
        }
    }

    /// Deletion marks shared by products and offers: returns `(status, marked)`.
    fn deletion(
        &self,
        node: usize,
        status: &mut Option<String>,
        marked: &mut bool,
    ) -> Result<(), Error> {
        match self.dom.node(node).name.as_str() {
            "Статус" => *status = self.dom.opt_text(node),
            "ПометкаУдаления" => *marked |= self.opt_bool(node)?.unwrap_or(false),
            _ => {}
        }
        Ok(())
    }

    fn price(&self, node: usize) -> Result<Price, Error> {
        let dom = self.dom;
        let price_type_id = dom
            .child_text(node, "ИдТипаЦены")
            .ok_or_else(|| self.invalid(node, "missing ИдТипаЦены"))?;
        let value = dom
            .child(node, "ЦенаЗаЕдиницу")
            .ok_or_else(|| self.invalid(node, "missing ЦенаЗаЕдиницу"))?;
        Ok(Price {
            price_type_id,
            price_per_unit: self.decimal(value)?,
            currency: dom
                .child_text(node, "Валюта")
                .map(|c| normalize_currency(&c)),
            presentation: dom.child_text(node, "Представление"),
            unit: dom.child_text(node, "Единица"),
            coefficient: self.opt_child_decimal(node, "Коэффициент")?,
            min_quantity: self.opt_child_decimal(node, "МинКоличество")?,
        })
    }

    /// A `Склад` (or 2.07 `Склады`) with the stock of one warehouse, in any
    /// of its real shapes: attributes `ИдСклада`/`КоличествоНаСкладе`,
    /// children `Ид`/`Количество`, or the warehouse id as text with the
    /// quantity given by the caller (`Остаток/Количество`).
    fn warehouse_stock(
        &self,
        node: usize,
        sibling_quantity: Option<Decimal>,
    ) -> Result<WarehouseStock, Error> {
        let dom = self.dom;
        if let Some(id) = dom.attr(node, "ИдСклада") {
            return Ok(WarehouseStock {
                warehouse_id: id.to_owned(),
                quantity: self
                    .attr_decimal(node, "КоличествоНаСкладе")?
                    .or(sibling_quantity),
            });
        }
        if let Some(id) = dom.child_text(node, "Ид") {
            return Ok(WarehouseStock {
                warehouse_id: id,
                quantity: self
                    .opt_child_decimal(node, "Количество")?
                    .or(sibling_quantity),
            });
        }
        if dom.node(node).children.is_empty()
            && let Some(id) = dom.opt_text(node)
        {
            return Ok(WarehouseStock {
                warehouse_id: id,
                quantity: sibling_quantity,
            });
        }
        Err(self.invalid(
            node,
            "warehouse stock without a warehouse id (ИдСклада or Ид)",
        ))
    }

    pub fn product(&self) -> Result<Product, Error> {
        let dom = self.dom;
        let mut p = Product {
            id: self.required_id()?,
            barcode: None,
            article: None,
            name: None,
            description: None,
            base_unit: None,
            group_ids: Vec::new(),
            pictures: Vec::new(),
            property_values: Vec::new(),
            requisites: Vec::new(),
            tax_rates: Vec::new(),
            characteristics: Vec::new(),
            status: dom.attr(ROOT, "Статус").map(str::to_owned),
            deleted: false,
        };
        let mut marked = false;
        for c in dom.children(ROOT) {
            match dom.node(c).name.as_str() {
                "Штрихкод" | "ШтрихКод" => p.barcode = dom.opt_text(c),
                "Артикул" => p.article = dom.opt_text(c),
                "Наименование" => p.name = dom.opt_text(c),
                "Описание" => p.description = dom.opt_text(c),
                "БазоваяЕдиница" => p.base_unit = Some(self.base_unit(c)),
                "Группы" => p.group_ids.extend(
                    dom.children(c)
                        .filter(|&g| dom.node(g).name == "Ид")
                        .filter_map(|g| dom.opt_text(g)),
                ),
                "Картинка" => p.pictures.extend(dom.opt_text(c)),
                "ЗначенияСвойств" => {
                    self.property_values(c, &mut p.property_values)?
                }
                "ЗначенияРеквизитов" => {
                    for r in dom.children(c) {
                        if dom.node(r).name != "ЗначениеРеквизита" {
                            continue;
                        }
                        let name = dom
                            .child_text(r, "Наименование")
                            .ok_or_else(|| self.invalid(r, "missing Наименование"))?;
                        let values = dom
                            .children(r)
                            .filter(|&v| dom.node(v).name == "Значение")
                            .filter_map(|v| dom.opt_text(v))
                            .collect();
                        p.requisites.push(Requisite { name, values });
                    }
                }
                "СтавкиНалогов" => {
                    for t in dom.children(c) {
                        if dom.node(t).name == "СтавкаНалога" {
                            p.tax_rates.push(TaxRate {
                                name: dom.child_text(t, "Наименование"),
                                rate: dom.child_text(t, "Ставка"),
                            });
                        }
                    }
                }
                "ХарактеристикиТовара" => {
                    self.characteristics(c, &mut p.characteristics)
                }
                _ => self.deletion(c, &mut p.status, &mut marked)?,
            }
        }
        p.deleted = marked || is_deleted_status(p.status.as_deref());
        Ok(p)
    }

    pub fn offer(&self) -> Result<Offer, Error> {
        let dom = self.dom;
        let id = self.required_id()?;
        let (product_id, variant_id) = match id.split_once('#') {
            Some((product, variant)) => (
                product.trim().to_owned(),
                Some(variant.trim())
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
            ),
            None => (id.clone(), None),
        };
        if product_id.is_empty() {
            return Err(self.invalid(ROOT, format!("Ид {id:?} has no product part")));
        }
        let mut o = Offer {
            id,
            product_id,
            variant_id,
            barcode: None,
            article: None,
            name: None,
            base_unit: None,
            characteristics: Vec::new(),
            property_values: Vec::new(),
            prices: None,
            quantity: None,
            stock: None,
            status: dom.attr(ROOT, "Статус").map(str::to_owned),
            deleted: false,
        };
        let mut marked = false;
        let mut total_from_rests: Option<Decimal> = None;
        for c in dom.children(ROOT) {
            match dom.node(c).name.as_str() {
                "Штрихкод" | "ШтрихКод" => o.barcode = dom.opt_text(c),
                "Артикул" => o.article = dom.opt_text(c),
                "Наименование" => o.name = dom.opt_text(c),
                "БазоваяЕдиница" => o.base_unit = Some(self.base_unit(c)),
                "ИдХарактеристики" => {
                    if o.variant_id.is_none() {
                        o.variant_id = dom.opt_text(c);
                    }
                }
                "ХарактеристикиТовара" => {
                    self.characteristics(c, &mut o.characteristics)
                }
                "ЗначенияСвойств" => {
                    self.property_values(c, &mut o.property_values)?
                }
                "Цены" => {
                    let prices = o.prices.get_or_insert_with(Vec::new);
                    for p in dom.children(c) {
                        if dom.node(p).name == "Цена" {
                            prices.push(self.price(p)?);
                        }
                    }
                }
                "Количество" => o.quantity = self.opt_decimal(c)?,
                "Склад" | "Склады" => {
                    let stock = self.warehouse_stock(c, None)?;
                    o.stock.get_or_insert_with(Vec::new).push(stock);
                }
                "Остатки" => {
                    for rest in dom.children(c) {
                        if dom.node(rest).name != "Остаток" {
                            continue;
                        }
                        let quantity = self.opt_child_decimal(rest, "Количество")?;
                        let mut warehouses = dom
                            .children(rest)
                            .filter(|&w| dom.node(w).name == "Склад")
                            .peekable();
                        if warehouses.peek().is_none() {
                            if let Some(q) = quantity {
                                let sum = total_from_rests.unwrap_or(Decimal::ZERO);
                                total_from_rests = Some(add(sum, q).ok_or_else(|| {
                                    self.invalid(rest, "total quantity overflows")
                                })?);
                            }
                            continue;
                        }
                        let stock = o.stock.get_or_insert_with(Vec::new);
                        for w in warehouses {
                            stock.push(self.warehouse_stock(w, quantity)?);
                        }
                    }
                }
                _ => self.deletion(c, &mut o.status, &mut marked)?,
            }
        }
        if o.quantity.is_none() {
            o.quantity = total_from_rests;
        }
        o.deleted = marked || is_deleted_status(o.status.as_deref());
        Ok(o)
    }

    pub fn property(&self) -> Result<Property, Error> {
        let dom = self.dom;
        let mut p = Property {
            id: self.required_id()?,
            name: dom.child_text(ROOT, "Наименование"),
            value_type: dom
                .child_text(ROOT, "ТипЗначений")
                .map(|t| match t.as_str() {
                    "Строка" => ValueType::String,
                    "Число" => ValueType::Number,
                    "Время" => ValueType::Time,
                    "Справочник" => ValueType::Reference,
                    _ => ValueType::Other(t),
                }),
            multiple: match dom.child(ROOT, "Множественное") {
                Some(c) => self.opt_bool(c)?,
                None => None,
            },
            variants: Vec::new(),
            deleted: false,
        };
        if let Some(variants) = dom.child(ROOT, "ВариантыЗначений") {
            for v in dom.children(variants) {
                match dom.node(v).name.as_str() {
                    "Значение" => {
                        if let Some(value) = dom.opt_text(v) {
                            p.variants.push(PropertyVariant {
                                value_id: None,
                                value,
                            });
                        }
                    }
                    "Справочник" => p.variants.push(PropertyVariant {
                        value_id: dom.child_text(v, "ИдЗначения"),
                        value: dom.child_text(v, "Значение").unwrap_or_default(),
                    }),
                    _ => {}
                }
            }
        }
        let mut status = None;
        let mut marked = false;
        for c in dom.children(ROOT) {
            self.deletion(c, &mut status, &mut marked)?;
        }
        p.deleted = marked || is_deleted_status(status.as_deref());
        Ok(p)
    }

    pub fn price_type(&self) -> Result<PriceType, Error> {
        let dom = self.dom;
        let mut taxes = Vec::new();
        for t in dom.children(ROOT) {
            if dom.node(t).name == "Налог" {
                taxes.push(PriceTypeTax {
                    name: dom.child_text(t, "Наименование"),
                    included_in_price: match dom.child(t, "УчтеноВСумме") {
                        Some(c) => self.opt_bool(c)?,
                        None => None,
                    },
                });
            }
        }
        Ok(PriceType {
            id: self.required_id()?,
            name: dom.child_text(ROOT, "Наименование"),
            currency: dom
                .child_text(ROOT, "Валюта")
                .map(|c| normalize_currency(&c)),
            taxes,
        })
    }

    pub fn warehouse(&self) -> Result<Warehouse, Error> {
        let dom = self.dom;
        let mut status = None;
        let mut marked = false;
        for c in dom.children(ROOT) {
            self.deletion(c, &mut status, &mut marked)?;
        }
        Ok(Warehouse {
            id: self.required_id()?,
            name: dom.child_text(ROOT, "Наименование"),
            deleted: marked || is_deleted_status(status.as_deref()),
        })
    }
}

fn add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = a.scale().max(b.scale());
    let x = a
        .mantissa()
        .checked_mul(10i64.checked_pow(scale - a.scale())?)?;
    let y = b
        .mantissa()
        .checked_mul(10i64.checked_pow(scale - b.scale())?)?;
    Some(Decimal::new(x.checked_add(y)?, scale))
}

/// `true`/`false` as 1C writes them (also `Да`/`Нет`, `1`/`0`).
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "1" | "да" | "yes" => Some(true),
        "false" | "0" | "нет" | "no" => Some(false),
        _ => None,
    }
}

/// `Статус` value meaning "deleted".
pub(crate) fn is_deleted_status(status: Option<&str>) -> bool {
    status.is_some_and(|s| matches!(s.trim().to_lowercase().as_str(), "удален" | "удалён"))
}

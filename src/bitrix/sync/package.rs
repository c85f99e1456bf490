//! The CommerceML package a sync hands to the importer (`import.xml` with the classifier and
//! products, `offers.xml` with one offer per product or variation): writing it, rather than
//! publishing rows directly, is what lets Bitrix and 1C share the importer's atomic publish.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::bitrix::BitrixError;
use crate::config::Config;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // XML 1.0 forbids most control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

pub(super) fn text(v: Option<&Value>) -> String {
    v.and_then(bitrix::as_text).unwrap_or_default()
}

pub(super) fn id_text(v: Option<&Value>) -> Option<String> {
    v.and_then(bitrix::as_i64).map(|i| i.to_string())
}

/// The package the importer reads: groups as a tree, products, one price type, offers.
pub(super) struct Lists<'a> {
    pub(super) sections: &'a [Value],
    pub(super) properties: &'a [Value],
    pub(super) enums: &'a [Value],
    pub(super) products: &'a [Value],
    pub(super) variations: &'a [Value],
    pub(super) prices: &'a [Value],
    /// Bitrix element id → vitrina offer id, for prices of offers not read this time.
    pub(super) stored_offer: &'a HashMap<String, String>,
    /// Product id → keys of its pictures ([`crate::catalog::import::KnownPicture`]).
    pub(super) pictures: &'a HashMap<String, Vec<String>>,
    pub(super) price_types: &'a crate::bitrix::offers::PriceTypes,
    /// The offers block's properties shown as characteristics.
    pub(super) sku_properties: &'a [crate::bitrix::offers::SkuProperty],
}

/// A variation's parent product id: `{value, valueId}` as the catalog answers it, or a number.
pub(super) fn parent_of(v: &Value) -> Option<String> {
    let p = v.get("parentId")?;
    id_text(Some(p))
        .or_else(|| id_text(p.get("value")))
        .or_else(|| id_text(p.get("id")))
}

pub(super) fn write_package(
    dir: &Path,
    config: &Config,
    full: bool,
    lists: &Lists<'_>,
) -> Result<(), BitrixError> {
    let Lists {
        sections,
        properties,
        enums,
        products,
        variations,
        prices,
        stored_offer,
        pictures,
        price_types,
        sku_properties,
    } = *lists;
    let io = |e: std::io::Error| BitrixError::Other(format!("writing the catalog package: {e}"));
    let classifier = format!("bitrix-{}", config.bitrix.catalog_iblock_id);
    let changes = if full { "false" } else { "true" };

    // Sections as a tree (CommerceML nests groups; parents come first).
    let mut children: BTreeMap<Option<String>, Vec<&Value>> = BTreeMap::new();
    let known: HashSet<String> = sections
        .iter()
        .filter_map(|s| id_text(s.get("id")))
        .collect();
    for s in sections {
        let parent = id_text(s.get("iblockSectionId")).filter(|p| known.contains(p));
        children.entry(parent).or_default().push(s);
    }
    fn groups(
        out: &mut String,
        children: &BTreeMap<Option<String>, Vec<&Value>>,
        parent: Option<String>,
        depth: usize,
    ) {
        let Some(list) = children.get(&parent) else {
            return;
        };
        if depth > 32 {
            return;
        }
        out.push_str("<Группы>");
        for s in list {
            let id = id_text(s.get("id")).unwrap_or_default();
            let _ = write!(
                out,
                "<Группа><Ид>{}</Ид><Наименование>{}</Наименование>",
                esc(&id),
                esc(&text(s.get("name")))
            );
            groups(out, children, Some(id), depth + 1);
            out.push_str("</Группа>");
        }
        out.push_str("</Группы>");
    }
    let mut import = String::with_capacity(256 + products.len() * 300);
    let _ = write!(
        import,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.08\">\
         <Классификатор><Ид>{classifier}</Ид><Наименование>Bitrix</Наименование>"
    );
    groups(&mut import, &children, None, 0);
    if !properties.is_empty() {
        import.push_str("<Свойства>");
        for p in properties {
            let Some(id) = id_text(p.get("id")) else {
                continue;
            };
            let kind = match p.get("propertyType").and_then(Value::as_str) {
                Some("L") => "Справочник",
                Some("N") => "Число",
                _ => "Строка",
            };
            let _ = write!(
                import,
                "<Свойство><Ид>{}</Ид><Наименование>{}</Наименование><ТипЗначений>{kind}</ТипЗначений>",
                esc(&id),
                esc(&text(p.get("name")))
            );
            if kind == "Справочник" {
                import.push_str("<ВариантыЗначений>");
                for e in enums
                    .iter()
                    .filter(|e| id_text(e.get("propertyId")).as_deref() == Some(id.as_str()))
                {
                    let _ = write!(
                        import,
                        "<Справочник><ИдЗначения>{}</ИдЗначения><Значение>{}</Значение></Справочник>",
                        esc(&id_text(e.get("id")).unwrap_or_default()),
                        esc(&text(e.get("value")))
                    );
                }
                import.push_str("</ВариантыЗначений>");
            }
            import.push_str("</Свойство>");
        }
        import.push_str("</Свойства>");
    }
    let _ = write!(
        import,
        "</Классификатор><Каталог СодержитТолькоИзменения=\"{changes}\"><Ид>{classifier}</Ид>\
         <ИдКлассификатора>{classifier}</ИдКлассификатора><Наименование>Bitrix</Наименование><Товары>"
    );
    for p in products {
        let Some(id) = id_text(p.get("id")) else {
            continue;
        };
        if !crate::bitrix::offers::is_active(p) {
            // Deactivated in Bitrix: gone from the catalog with its offers.
            let _ = write!(
                import,
                "<Товар><Ид>{}</Ид><ПометкаУдаления>true</ПометкаУдаления></Товар>",
                esc(&id)
            );
            continue;
        }
        let description = {
            let d = text(p.get("detailText"));
            if d.is_empty() {
                text(p.get("previewText"))
            } else {
                d
            }
        };
        let _ = write!(
            import,
            "<Товар><Ид>{}</Ид><Артикул>{}</Артикул><Наименование>{}</Наименование>",
            esc(&id),
            esc(&text(p.get("code"))),
            esc(&text(p.get("name")))
        );
        if !description.is_empty() {
            let _ = write!(import, "<Описание>{}</Описание>", esc(&description));
        }
        if let Some(section) = id_text(p.get("iblockSectionId")) {
            let _ = write!(import, "<Группы><Ид>{}</Ид></Группы>", esc(&section));
        }
        for key in pictures.get(&id).into_iter().flatten() {
            let _ = write!(import, "<Картинка>{}</Картинка>", esc(key));
        }
        let mut values = String::new();
        for prop in properties {
            let Some(pid) = id_text(prop.get("id")) else {
                continue;
            };
            let found = bitrix::property_values(p.get(format!("property{pid}").as_str()));
            if found.is_empty() {
                continue;
            }
            let _ = write!(values, "<ЗначенияСвойства><Ид>{}</Ид>", esc(&pid));
            for v in found {
                let _ = write!(values, "<Значение>{}</Значение>", esc(&v));
            }
            values.push_str("</ЗначенияСвойства>");
        }
        if !values.is_empty() {
            let _ = write!(import, "<ЗначенияСвойств>{values}</ЗначенияСвойств>");
        }
        import.push_str("</Товар>");
    }
    import.push_str("</Товары></Каталог></КоммерческаяИнформация>\n");
    std::fs::write(dir.join("import.xml"), import).map_err(io)?;

    // Offers: one per product (its price and stock), and prices of products not re-read.
    let price_of = crate::bitrix::offers::site_prices(prices, price_types);
    let enum_text: HashMap<String, String> = enums
        .iter()
        .filter_map(|e| Some((id_text(e.get("id"))?, text(e.get("value")))))
        .collect();
    let mut offers = String::with_capacity(256 + products.len() * 250);
    let _ = write!(
        offers,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.08\">\
         <ПакетПредложений СодержитТолькоИзменения=\"{changes}\"><Ид>{classifier}#</Ид>\
         <Наименование>Bitrix</Наименование><ИдКаталога>{classifier}</ИдКаталога>\
         <ИдКлассификатора>{classifier}</ИдКлассификатора><ТипыЦен><ТипЦены><Ид>{site}</Ид>\
         <Наименование>Цена на сайте</Наименование><Валюта>{currency}</Валюта></ТипЦены>\
         <ТипЦены><Ид>{old}</Ид><Наименование>Старая цена</Наименование><Валюта>{currency}</Валюта></ТипЦены>\
         </ТипыЦен><Предложения>",
        site = crate::bitrix::offers::SITE_PRICE,
        old = crate::bitrix::offers::OLD_PRICE,
        currency = esc(&config.checkout.currency)
    );
    let mut written: HashSet<String> = HashSet::new();
    // `offer_id`: vitrina's (`product#variation` for SKUs); `element`: Bitrix's, for the price.
    let offer = |out: &mut String,
                 offer_id: &str,
                 element: &str,
                 name: Option<String>,
                 characteristics: &[(String, String)],
                 quantity: Option<String>| {
        let _ = write!(out, "<Предложение><Ид>{}</Ид>", esc(offer_id));
        if let Some(name) = name {
            let _ = write!(out, "<Наименование>{}</Наименование>", esc(&name));
        }
        if !characteristics.is_empty() {
            out.push_str("<ХарактеристикиТовара>");
            for (n, v) in characteristics {
                let _ = write!(
                    out,
                    "<ХарактеристикаТовара><Наименование>{}</Наименование><Значение>{}</Значение></ХарактеристикаТовара>",
                    esc(n),
                    esc(v)
                );
            }
            out.push_str("</ХарактеристикиТовара>");
        }
        if let Some((price, old)) = price_of.get(element) {
            out.push_str("<Цены>");
            for (kind, p) in std::iter::once((crate::bitrix::offers::SITE_PRICE, price))
                .chain(old.iter().map(|o| (crate::bitrix::offers::OLD_PRICE, o)))
            {
                let _ = write!(
                    out,
                    "<Цена><ИдТипаЦены>{kind}</ИдТипаЦены><ЦенаЗаЕдиницу>{}</ЦенаЗаЕдиницу>\
                     <Валюта>{}</Валюта></Цена>",
                    esc(&p.amount),
                    esc(&p.currency)
                );
            }
            out.push_str("</Цены>");
        }
        if let Some(q) = quantity {
            let _ = write!(out, "<Количество>{}</Количество>", esc(&q));
        }
        out.push_str("</Предложение>");
    };
    let with_variations: HashSet<String> = variations.iter().filter_map(parent_of).collect();
    for p in products {
        let Some(id) = id_text(p.get("id")) else {
            continue;
        };
        // A product with SKUs is sold through its variations only.
        let has_skus =
            with_variations.contains(&id) || p.get("type").and_then(bitrix::as_i64) == Some(3);
        if !has_skus && crate::bitrix::offers::is_active(p) {
            offer(
                &mut offers,
                &id,
                &id,
                Some(text(p.get("name"))),
                &[],
                Some(crate::bitrix::offers::stock(p)),
            );
        }
        written.insert(id);
    }
    for v in variations {
        let (Some(id), Some(parent)) = (id_text(v.get("id")), parent_of(v)) else {
            continue;
        };
        let offer_id = format!("{parent}#{id}");
        written.insert(id.clone());
        if !crate::bitrix::offers::is_active(v) {
            let _ = write!(
                offers,
                "<Предложение><Ид>{}</Ид><ПометкаУдаления>true</ПометкаУдаления></Предложение>",
                esc(&offer_id)
            );
            continue;
        }
        let characteristics = crate::bitrix::offers::characteristics(v, sku_properties, &enum_text);
        offer(
            &mut offers,
            &offer_id,
            &id,
            Some(text(v.get("name"))),
            &characteristics,
            Some(crate::bitrix::offers::stock(v)),
        );
    }
    if !full {
        // A price changed without its product: the offer gets the new price only.
        let rest: Vec<String> = price_of
            .keys()
            .filter(|k| !written.contains(*k))
            .cloned()
            .collect();
        for id in rest {
            let offer_id = stored_offer.get(&id).cloned().unwrap_or_else(|| id.clone());
            offer(&mut offers, &offer_id, &id, None, &[], None);
        }
    }
    offers.push_str("</Предложения></ПакетПредложений></КоммерческаяИнформация>\n");
    std::fs::write(dir.join("offers.xml"), offers).map_err(io)?;
    Ok(())
}

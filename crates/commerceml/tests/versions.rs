//! Classic and intermediate schema versions: 2.03–2.08 import/offers files.

mod common;

use commerceml::{DocumentKind, Item, ValueType};
use common::*;

#[test]
fn v204_import_classifier_groups_tree() {
    let (items, version) = read_fixture("v2.04/import.xml");
    assert_eq!(version.as_deref(), Some("2.04"));

    let docs = documents(&items);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].kind, DocumentKind::Classifier);
    assert_eq!(
        docs[0].id.as_deref(),
        Some("Обмен с WEB - сайтом (Товары)00001")
    );
    assert_eq!(docs[1].kind, DocumentKind::Catalog);
    assert!(!docs[1].only_changes);
    assert_eq!(
        docs[1].classifier_id.as_deref(),
        Some("Обмен с WEB - сайтом (Товары)00001")
    );

    let g = groups(&items);
    let tree: Vec<(&str, Option<&str>, &str)> = g
        .iter()
        .map(|g| {
            (
                g.id.as_str(),
                g.parent_id.as_deref(),
                g.name.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tree,
        [
            (
                "5f3a1e10-8efe-11df-9958-003018a4a92f",
                None,
                "Напольные покрытия"
            ),
            (
                "5f3a1e11-8efe-11df-9958-003018a4a92f",
                Some("5f3a1e10-8efe-11df-9958-003018a4a92f"),
                "Ламинат"
            ),
            (
                "5f3a1e12-8efe-11df-9958-003018a4a92f",
                Some("5f3a1e11-8efe-11df-9958-003018a4a92f"),
                "Ламинат Aberhof"
            ),
            (
                "5f3a1e13-8efe-11df-9958-003018a4a92f",
                Some("5f3a1e10-8efe-11df-9958-003018a4a92f"),
                "Паркетная доска"
            ),
            (
                "5f3a1e14-8efe-11df-9958-003018a4a92f",
                None,
                "Сопутствующие товары"
            ),
        ]
    );
    assert!(g.iter().all(|g| !g.deleted));

    // Items come in document order: header, groups, properties, header, products.
    let kinds: Vec<&str> = items
        .iter()
        .map(|i| match i {
            Item::Document(_) => "doc",
            Item::Group(_) => "group",
            Item::Property(_) => "property",
            Item::Product(_) => "product",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "doc", "group", "group", "group", "group", "group", "property", "property", "property",
            "doc", "product", "product"
        ]
    );
}

#[test]
fn v204_import_properties() {
    let (items, _) = read_fixture("v2.04/import.xml");
    let props = properties(&items);
    assert_eq!(props.len(), 3);
    let maker = props[0];
    assert_eq!(maker.id, "bb14a4b8-6b17-11e0-9819-e0cb4ed5eed4");
    assert_eq!(maker.name.as_deref(), Some("Производитель"));
    assert_eq!(maker.value_type, Some(ValueType::Reference));
    assert_eq!(maker.variants.len(), 2);
    assert_eq!(
        maker.variants[1].value_id.as_deref(),
        Some("444bbea6-6b18-11e0-9819-e0cb4ed5eed4")
    );
    assert_eq!(maker.variants[1].value, "Tarkett");
    assert_eq!(props[1].value_type, Some(ValueType::Number));
    assert_eq!(props[2].value_type, Some(ValueType::String));
    assert_eq!(props[2].multiple, Some(true));
    assert_eq!(props[1].multiple, None);
}

#[test]
fn v204_import_product_fields() {
    let (items, _) = read_fixture("v2.04/import.xml");
    let p = product(&items, "97136fc5-8efe-11df-9958-003018a4a92f");
    assert_eq!(p.article.as_deref(), Some("S 677"));
    assert_eq!(
        p.name.as_deref(),
        Some("Ламинат Aberhof Silver Белый фарфор S 677")
    );
    assert_eq!(
        p.group_ids,
        [
            "5f3a1e12-8efe-11df-9958-003018a4a92f",
            "5f3a1e11-8efe-11df-9958-003018a4a92f"
        ]
    );
    // Entities are unescaped.
    assert_eq!(
        p.description.as_deref(),
        Some("Ламинат 32 класса, 8 мм & фаска с 4 сторон.<br>Укладка: замок \"Click\".")
    );
    assert_eq!(
        p.pictures,
        [
            "import_files/97/97136fc58efe11df9958003018a4a92f_1.jpeg",
            "import_files/97/97136fc58efe11df9958003018a4a92f_2.jpeg",
            "import_files/97/97136fc58efe11df9958003018a4a92f_3.jpeg"
        ]
    );
    let unit = p.base_unit.as_ref().unwrap();
    assert_eq!(unit.code.as_deref(), Some("055"));
    assert_eq!(unit.text.as_deref(), Some("м2"));

    // Property values: a Справочник value id, a number, and a multi-valued one.
    assert_eq!(p.property_values.len(), 3);
    assert_eq!(
        p.property_values[0].property_id,
        "bb14a4b8-6b17-11e0-9819-e0cb4ed5eed4"
    );
    assert_eq!(
        p.property_values[0].values,
        ["444bbea3-6b18-11e0-9819-e0cb4ed5eed4"]
    );
    assert_eq!(p.property_values[1].values, ["32"]);
    assert_eq!(p.property_values[2].values, ["белый", "серый"]);

    assert_eq!(p.tax_rates.len(), 1);
    assert_eq!(p.tax_rates[0].name.as_deref(), Some("НДС"));
    assert_eq!(p.tax_rates[0].rate.as_deref(), Some("18"));

    let reqs: Vec<(&str, &[String])> = p
        .requisites
        .iter()
        .map(|r| (r.name.as_str(), r.values.as_slice()))
        .collect();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].0, "ВидНоменклатуры");
    assert_eq!(reqs[0].1, ["Товар"]);
    assert_eq!(reqs[2], ("Вес", &["0".to_owned()][..]));
    assert!(!p.deleted);
    assert_eq!(p.status, None);

    // The second product: empty <Описание/>, empty <Значение/>, tax "Без налога".
    let p = product(&items, "9285e284-88aa-11e3-adb8-94de8026f172");
    assert_eq!(p.description, None);
    assert!(p.pictures.is_empty());
    assert_eq!(p.property_values.len(), 1);
    assert!(p.property_values[0].values.is_empty());
    assert_eq!(p.tax_rates[0].rate.as_deref(), Some("Без налога"));
    assert_eq!(p.base_unit.as_ref().unwrap().text.as_deref(), Some("шт"));
}

#[test]
fn v204_offers_characteristics_and_prices() {
    let (items, _) = read_fixture("v2.04/offers.xml");
    let pts = price_types(&items);
    assert_eq!(pts.len(), 2);
    assert_eq!(pts[1].currency.as_deref(), Some("RUB"), "руб. is RUB");

    let o = offer(&items, "97136fc5-8efe-11df-9958-003018a4a92f");
    let prices = o.prices.as_ref().unwrap();
    assert_eq!(prices.len(), 2);
    assert_eq!(prices[1].price_per_unit, dec("1234.5"));
    assert_eq!(prices[1].minor_units(2), Some(123450));
    assert_eq!(prices[1].currency.as_deref(), Some("RUB"), "RUR is RUB");
    assert_eq!(prices[1].presentation.as_deref(), Some("1 234,5 руб за м2"));
    assert_eq!(o.quantity, Some(dec("2.383")));
    assert!(o.characteristics.is_empty());

    let o = offer(
        &items,
        "bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4",
    );
    assert_eq!(o.product_id, "bd72d910-55bc-11d9-848a-00112f43529a");
    assert_eq!(
        o.variant_id.as_deref(),
        Some("90c55447-d3a8-11e4-9423-e0cb4ed5eed4")
    );
    let chars: Vec<(Option<&str>, Option<&str>)> = o
        .characteristics
        .iter()
        .map(|c| (c.name.as_deref(), c.value.as_deref()))
        .collect();
    assert_eq!(
        chars,
        [
            (Some("Размер"), Some("38")),
            (Some("Цвет"), Some("коричневый"))
        ]
    );
    let p = &o.prices.as_ref().unwrap()[0];
    assert_eq!(p.currency.as_deref(), Some("RUB"), "643 is RUB");
    assert_eq!(p.minor_units(2), Some(171900));
    assert_eq!(p.presentation.as_deref(), Some("1 719 руб за пар"));
    assert_eq!(o.quantity, Some(dec("20")));

    // Two offers of the same product.
    let same_product = offers(&items)
        .iter()
        .filter(|o| o.product_id == "bd72d910-55bc-11d9-848a-00112f43529a")
        .count();
    assert_eq!(same_product, 2);
}

#[test]
fn v203_offers_barcode_spelling_and_hryvnia() {
    let (items, version) = read_fixture("v2.03/offers.xml");
    assert_eq!(version.as_deref(), Some("2.03"));
    let doc = documents(&items)[0];
    assert!(!doc.only_changes, "attribute absent means a full package");
    assert!(
        price_types(&items)
            .iter()
            .all(|p| p.currency.as_deref() == Some("UAH"))
    );
    let pt = price_types(&items)[0];
    assert_eq!(pt.taxes[0].included_in_price, Some(false));

    let o = offer(&items, "1a52febf-79d0-11ea-80d1-408d5c7d3c4b");
    assert_eq!(
        o.barcode.as_deref(),
        Some("4820082670931"),
        "ШтрихКод spelling"
    );
    assert_eq!(o.name.as_deref(), Some("Бак (с крышкой) \"20 л\""));
    assert_eq!(o.base_unit.as_ref().unwrap().code.as_deref(), Some("2009"));
    let prices = o.prices.as_ref().unwrap();
    assert_eq!(prices.len(), 2);
    assert_eq!(prices[0].minor_units(2), Some(15940));
    assert_eq!(prices[1].minor_units(2), Some(14774));
    assert_eq!(prices[1].currency.as_deref(), Some("UAH"));
    assert_eq!(o.quantity, Some(dec("13")));
}

#[test]
fn v205_offer_details_and_status_attribute() {
    let (items, _) = read_fixture("v2.05/offers.xml");
    let all = offers(&items);
    assert_eq!(all.len(), 2);
    let o = all[0];
    assert_eq!(
        o.variant_id.as_deref(),
        Some("cbcf4969-55bc-11d9-848a-00112f43529a")
    );
    assert_eq!(
        o.property_values[0].values,
        ["444bbebb-6b18-11e0-9819-e0cb4ed5eed4"]
    );
    assert_eq!(
        o.characteristics[0].id.as_deref(),
        Some("4f9e6f1c-6b18-11e0-9819-e0cb4ed5eed4")
    );
    let p = &o.prices.as_ref().unwrap()[0];
    assert_eq!(p.unit.as_deref(), Some("166"));
    assert_eq!(p.coefficient, Some(dec("5")));
    assert_eq!(p.min_quantity, Some(dec("0.5")));
    assert_eq!(p.price_per_unit, dec("60.94"));
    assert_eq!(o.quantity, Some(dec("765.25")));
    assert!(!o.deleted);

    let gone = all[1];
    assert!(gone.deleted);
    assert_eq!(gone.status.as_deref(), Some("Удален"));
    let p = &gone.prices.as_ref().unwrap()[0];
    assert_eq!(p.price_per_unit, dec("0"));
    assert_eq!(
        p.currency, None,
        "no Валюта: the price type's currency applies"
    );
    assert_eq!(gone.quantity, None);
}

#[test]
fn v206_warehouses_and_stock_attributes() {
    let (items, _) = read_fixture("v2.06/offers.xml");
    let w = warehouses(&items);
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].id, "239ce03d-8c80-11e5-9c68-7cd1c3edce56");
    assert_eq!(w[1].name.as_deref(), Some("Магазин \"Горбушка\""));

    let o = offer(&items, "20422c12-e129-11ee-8083-00155d46f668");
    assert_eq!(o.article, None, "<Артикул/> is no article");
    assert_eq!(o.quantity, Some(dec("12")));
    let stock = o.stock.as_ref().unwrap();
    assert_eq!(stock.len(), 2);
    assert_eq!(
        stock[0].warehouse_id,
        "239ce03d-8c80-11e5-9c68-7cd1c3edce56"
    );
    assert_eq!(stock[0].quantity, Some(dec("0")));
    assert_eq!(stock[1].quantity, Some(dec("12")));

    // КоличествоНаСкладе is optional in the schema.
    let o = offer(&items, "5097316a-7c28-11eb-80d1-0cc47a8091e3");
    let stock = o.stock.as_ref().unwrap();
    assert_eq!(stock.len(), 1);
    assert_eq!(stock[0].quantity, None);
}

#[test]
fn v207_numbered_import_with_namespace() {
    let (items, version) = read_fixture("v2.07/import0_1.xml");
    assert_eq!(version.as_deref(), Some("2.07"));
    assert_eq!(groups(&items).len(), 4);
    assert_eq!(
        groups(&items)[1].parent_id.as_deref(),
        Some("bd72d90d-55bc-11d9-848a-00112f43529a")
    );
    let p = product(&items, "bd72d927-55bc-11d9-848a-00112f43529a");
    assert_eq!(p.barcode.as_deref(), Some("2000019137962"));
    // БазоваяЕдиница with Пересчет children and no text.
    let unit = p.base_unit.as_ref().unwrap();
    assert_eq!(unit.code.as_deref(), Some("796"));
    assert_eq!(unit.full_name.as_deref(), Some("Штука"));
    assert_eq!(unit.text, None);
    assert_eq!(p.description, None);
    assert_eq!(p.property_values[1].values, ["ООО \"Поставщик\" & Ко"]);

    let p = product(&items, "bd72d910-55bc-11d9-848a-00112f43529a");
    assert_eq!(p.article, None);
    assert_eq!(
        p.description.as_deref(),
        Some("Натуральная кожа.\nПодошва — ТЭП.")
    );
    assert_eq!(p.pictures.len(), 1);
}

#[test]
fn v207_numbered_offers_with_classifier_header() {
    let (items, _) = read_fixture("v2.07/offers0_1.xml");
    let docs = documents(&items);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].kind, DocumentKind::Classifier);
    assert_eq!(docs[1].kind, DocumentKind::OffersPackage);
    assert_eq!(
        docs[1].id.as_deref(),
        Some("e0ebf92b-554b-4fbf-8dfa-26e48d6cf943#")
    );
    assert_eq!(warehouses(&items).len(), 2);

    let o = offer(
        &items,
        "bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4",
    );
    let p = &o.prices.as_ref().unwrap()[0];
    assert_eq!(p.presentation.as_deref(), Some("1 719 RUB за пара"));
    assert_eq!(p.minor_units(2), Some(171900));
    assert_eq!(p.unit, None);
    let stock = o.stock.as_ref().unwrap();
    assert_eq!(
        stock[0].warehouse_id,
        "b6112590-41ba-11dd-ac9d-0015e9b8c48d"
    );
    assert_eq!(stock[0].quantity, Some(dec("20")));
}

#[test]
fn v207_offers_changes_package() {
    let (items, _) = read_fixture("v2.07/offers_changes.xml");
    let doc = documents(&items)[0];
    assert_eq!(doc.kind, DocumentKind::OffersChanges);
    assert!(doc.only_changes);
    let all = offers(&items);
    assert_eq!(all.len(), 1);
    let o = all[0];
    assert_eq!(o.product_id, "bd72d910-55bc-11d9-848a-00112f43529a");
    assert_eq!(
        o.variant_id.as_deref(),
        Some("90c55447-d3a8-11e4-9423-e0cb4ed5eed4"),
        "from ИдХарактеристики"
    );
    assert_eq!(o.name, None);
    let stock = o.stock.as_ref().unwrap();
    assert_eq!(stock.len(), 2);
    assert_eq!(stock[0].quantity, Some(dec("18")));
    assert_eq!(stock[1].quantity, Some(dec("0")));
    assert_eq!(o.prices.as_ref().unwrap()[0].minor_units(2), Some(159990));
}

#[test]
fn v208_other_namespace_and_self_closing_unit() {
    let (items, version) = read_fixture("v2.08/offers.xml");
    assert_eq!(version.as_deref(), Some("2.08"));
    let o = offer(&items, "20422c12-e129-11ee-8083-00155d46f668");
    let unit = o.base_unit.as_ref().unwrap();
    assert_eq!(unit.code.as_deref(), Some("796"));
    assert_eq!(unit.international_abbreviation.as_deref(), Some("PCE"));
    assert_eq!(unit.text, None);
    let prices = o.prices.as_ref().unwrap();
    assert_eq!(prices.len(), 2);
    assert_eq!(prices[0].presentation.as_deref(), Some("66 руб. за шт"));
    assert!(prices.iter().all(|p| p.currency.as_deref() == Some("RUB")));
    assert_eq!(o.quantity, Some(dec("11490")));
    let stock = o.stock.as_ref().unwrap();
    assert_eq!(
        stock[1].warehouse_id,
        "2b65efcd-1279-11ed-bc1c-3cecef467168"
    );
    assert_eq!(stock[1].quantity, Some(dec("11490")));
    assert_eq!(price_types(&items)[0].name.as_deref(), Some("Vip ¥"));
}

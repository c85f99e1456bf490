//! 2.08+/2.10 exchanges split into portions: classifier, catalog, offers,
//! prices, rests. Each file yields only what it contains, and partial
//! presence is explicit so an importer can merge them.

mod common;

use std::collections::HashMap;

use commerceml::{Decimal, DocumentKind, Offer, Price, ValueType, WarehouseStock};
use common::*;

#[test]
fn classifier_portion() {
    let (items, version) = read_fixture("v2.10/import0_1.xml");
    assert_eq!(version.as_deref(), Some("2.10"));
    let docs = documents(&items);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].kind, DocumentKind::Classifier);
    assert!(!docs[0].only_changes);
    assert!(products(&items).is_empty());
    assert!(offers(&items).is_empty());

    let g = groups(&items);
    assert_eq!(g.len(), 3);
    assert_eq!(g[0].name.as_deref(), Some("Кофе"));
    assert_eq!(
        g[1].parent_id.as_deref(),
        Some("ec50ae26-916a-11eb-972c-38607706b20d")
    );
    assert!(!g[1].deleted);
    assert!(g[2].deleted, "ПометкаУдаления=true on a group");

    let props = properties(&items);
    assert_eq!(props.len(), 2);
    assert_eq!(props[0].value_type, Some(ValueType::Reference));
    assert_eq!(props[0].variants[1].value, "Тёмная");
    // Plain Значение variants have no id.
    assert_eq!(props[1].variants.len(), 2);
    assert_eq!(props[1].variants[0].value_id, None);
    assert_eq!(props[1].variants[1].value, "Эфиопия");

    let pt = price_types(&items);
    assert_eq!(pt[0].currency.as_deref(), Some("RUB"), "numeric 643");
    let w = warehouses(&items);
    assert_eq!(w.len(), 2);
    assert_eq!(w[1].name.as_deref(), Some("Склад на Мира"));
}

#[test]
fn catalog_portion() {
    let (items, _) = read_fixture("v2.10/import1_1.xml");
    let docs = documents(&items);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].kind, DocumentKind::Catalog);
    assert!(docs[0].only_changes);
    assert!(groups(&items).is_empty());

    let p = product(&items, "a9104793-9174-11eb-972c-38607706b20d");
    assert!(!p.deleted);
    assert_eq!(p.barcode, None, "<Штрихкод/>");
    assert_eq!(p.base_unit.as_ref().unwrap().text.as_deref(), Some("796"));
    assert_eq!(p.base_unit.as_ref().unwrap().code, None);
    assert_eq!(
        p.property_values[0].values,
        ["8f4f5256-31f4-11e9-7792-fa163e79bc3b"]
    );
    assert_eq!(p.tax_rates[0].rate.as_deref(), Some("Без налога"));
    assert_eq!(p.pictures.len(), 1);

    let p = product(&items, "a9104794-9174-11eb-972c-38607706b20d");
    assert!(p.deleted, "ПометкаУдаления=true");
}

#[test]
fn offers_portion_has_no_prices_or_stock() {
    let (items, _) = read_fixture("v2.10/offers0_1.xml");
    assert!(documents(&items)[0].only_changes);
    let all = offers(&items);
    assert_eq!(all.len(), 2);
    for o in &all {
        assert_eq!(o.prices, None);
        assert_eq!(o.quantity, None);
        assert_eq!(o.stock, None);
    }
    assert_eq!(all[0].characteristics[0].value.as_deref(), Some("250 г"));
    assert!(!all[0].deleted);
    assert!(all[1].deleted);
}

#[test]
fn prices_portion_has_only_prices() {
    let (items, _) = read_fixture("v2.10/prices0_1.xml");
    assert_eq!(price_types(&items).len(), 1);
    let all = offers(&items);
    assert_eq!(all.len(), 2);
    for o in &all {
        assert_eq!(o.name, None);
        assert_eq!(o.quantity, None);
        assert_eq!(o.stock, None);
        assert_eq!(o.prices.as_ref().map(Vec::len), Some(1));
    }
    let p = &all[0].prices.as_ref().unwrap()[0];
    assert_eq!(p.minor_units(2), Some(106094));
    assert_eq!(p.presentation.as_deref(), Some("1 060,94 RUB за шт"));
    assert_eq!(
        all[1].prices.as_ref().unwrap()[0].price_per_unit,
        dec("60.94")
    );
    assert_eq!(all[1].variant_id, None);
}

#[test]
fn rests_portion_has_only_stock() {
    let (items, _) = read_fixture("v2.10/rests0_1.xml");
    assert!(price_types(&items).is_empty());
    let all = offers(&items);
    assert_eq!(all.len(), 2);
    for o in &all {
        assert_eq!(o.prices, None);
        assert_eq!(o.name, None);
    }
    // Per-warehouse form: Остаток/Склад/{Ид,Количество}.
    let o = all[0];
    assert_eq!(o.quantity, None);
    assert_eq!(
        o.stock.as_deref(),
        Some(
            &[
                WarehouseStock {
                    warehouse_id: "547f1a9b-88c3-11e7-8035-c4e98401fadf".into(),
                    quantity: Some(dec("12")),
                },
                WarehouseStock {
                    warehouse_id: "547f1a9c-88c3-11e7-8035-c4e98401fadf".into(),
                    quantity: Some(dec("0.5")),
                },
            ][..]
        )
    );
    // Total form: Остаток/Количество.
    let o = all[1];
    assert_eq!(o.quantity, Some(dec("765")));
    assert_eq!(o.stock, None);
}

/// What an importer would keep per offer after applying the portions in
/// exchange order.
#[derive(Default, Debug)]
struct Merged {
    name: Option<String>,
    deleted: bool,
    prices: Vec<Price>,
    quantity: Option<Decimal>,
    stock: Vec<WarehouseStock>,
}

fn apply(state: &mut HashMap<String, Merged>, o: &Offer) {
    let m = state.entry(o.id.clone()).or_default();
    if o.name.is_some() {
        m.name = o.name.clone();
    }
    m.deleted |= o.deleted;
    if let Some(prices) = &o.prices {
        m.prices = prices.clone();
    }
    if o.quantity.is_some() {
        m.quantity = o.quantity;
    }
    if let Some(stock) = &o.stock {
        m.stock = stock.clone();
    }
}

#[test]
fn portions_merge_into_complete_offers() {
    let mut state = HashMap::new();
    for file in [
        "v2.10/offers0_1.xml",
        "v2.10/prices0_1.xml",
        "v2.10/rests0_1.xml",
    ] {
        let (items, _) = read_fixture(file);
        for o in offers(&items) {
            apply(&mut state, o);
        }
    }
    let m = &state["a9104793-9174-11eb-972c-38607706b20d#b1e2c3d4-9174-11eb-972c-38607706b20d"];
    assert_eq!(m.name.as_deref(), Some("Кофе Арабика Бразилия (250 г)"));
    assert_eq!(m.prices[0].minor_units(2), Some(106094));
    assert_eq!(m.stock.len(), 2);
    assert!(!m.deleted);
    let m = &state["cbcf4968-55bc-11d9-848a-00112f43529a"];
    assert_eq!(m.quantity, Some(dec("765")));
    assert_eq!(m.prices[0].minor_units(2), Some(6094));
    assert!(
        state["a9104793-9174-11eb-972c-38607706b20d#b1e2c3d6-9174-11eb-972c-38607706b20d"].deleted
    );
    assert_eq!(state.len(), 3);
}

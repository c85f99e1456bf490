//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use commerceml::{
    Decimal, DocumentInfo, Group, Item, Offer, PriceType, Product, Property, Reader, Warehouse,
};

pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Everything a file yields, plus its schema version; panics on a read error.
pub fn read_fixture(rel: &str) -> (Vec<Item>, Option<String>) {
    let mut reader = Reader::from_path(fixture(rel)).expect("open fixture");
    let items: Vec<Item> = (&mut reader)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    (items, reader.schema_version().map(str::to_owned))
}

pub fn read_str(xml: &str) -> Result<Vec<Item>, commerceml::Error> {
    Reader::new(xml.as_bytes()).collect()
}

pub fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

pub fn documents(items: &[Item]) -> Vec<&DocumentInfo> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Document(d) => Some(d),
            _ => None,
        })
        .collect()
}

pub fn groups(items: &[Item]) -> Vec<&Group> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Group(g) => Some(g),
            _ => None,
        })
        .collect()
}

pub fn properties(items: &[Item]) -> Vec<&Property> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Property(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub fn price_types(items: &[Item]) -> Vec<&PriceType> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::PriceType(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub fn warehouses(items: &[Item]) -> Vec<&Warehouse> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Warehouse(w) => Some(w),
            _ => None,
        })
        .collect()
}

pub fn products(items: &[Item]) -> Vec<&Product> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Product(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub fn offers(items: &[Item]) -> Vec<&Offer> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Offer(o) => Some(o),
            _ => None,
        })
        .collect()
}

pub fn offer<'a>(items: &'a [Item], id: &str) -> &'a Offer {
    offers(items)
        .into_iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no offer {id}"))
}

pub fn product<'a>(items: &'a [Item], id: &str) -> &'a Product {
    products(items)
        .into_iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no product {id}"))
}

//! The real 1C "Обмен с WEB-сайтом" offers export of 2014 (CommerceML 2.04,
//! 1,438 offers) — see tests/fixtures/README.md.

mod common;

use std::collections::HashSet;

use commerceml::{DocumentKind, Item, Reader};
use common::*;

const FILE: &str = "real/1c-2014-offers-2.04.xml";
/// `grep -c '<Количество>-'` on the file.
const NEGATIVE_QUANTITIES: usize = 8;
/// `grep -c '<Количество>-\?[0-9]*\.[0-9]'` on the file.
const FRACTIONAL_QUANTITIES: usize = 25;

#[test]
fn counts_and_header() {
    let (items, version) = read_fixture(FILE);
    assert_eq!(version.as_deref(), Some("2.04"));
    assert_eq!(offers(&items).len(), 1438);
    assert_eq!(price_types(&items).len(), 1);
    assert_eq!(products(&items).len(), 0);
    assert_eq!(items.len(), 1 + 1 + 1438, "document + price type + offers");

    let docs = documents(&items);
    assert_eq!(docs.len(), 1);
    let doc = docs[0];
    assert_eq!(doc.kind, DocumentKind::OffersPackage);
    assert!(!doc.only_changes);
    // Not a GUID — kept verbatim.
    assert_eq!(
        doc.id.as_deref(),
        Some("Обмен с WEB - сайтом (Товары)00001#")
    );
    assert_eq!(
        doc.catalog_id.as_deref(),
        Some("Обмен с WEB - сайтом (Товары)00001")
    );
    assert_eq!(
        doc.classifier_id.as_deref(),
        Some("Обмен с WEB - сайтом (Товары)00001")
    );
    assert!(
        matches!(items[0], Item::Document(_)),
        "the header comes first"
    );

    let pt = price_types(&items)[0];
    assert_eq!(pt.id, "ecc82696-3f98-11de-991a-001c23888998");
    assert_eq!(pt.name.as_deref(), Some("Розничная"));
    assert_eq!(pt.currency.as_deref(), Some("RUB"), "руб is normalized");
    assert_eq!(pt.taxes.len(), 1);
    assert_eq!(pt.taxes[0].name.as_deref(), Some("НДС"));
    assert_eq!(pt.taxes[0].included_in_price, Some(true));
}

#[test]
fn every_offer_is_complete() {
    let (items, _) = read_fixture(FILE);
    let all = offers(&items);
    let ids: HashSet<&str> = all.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), 1438, "ids are unique");
    assert_eq!(all.iter().filter(|o| o.article.is_some()).count(), 1288);
    let mut m2 = 0;
    for o in &all {
        assert_eq!(o.product_id, o.id, "no characteristics in this file");
        assert_eq!(o.variant_id, None);
        assert!(!o.deleted);
        assert!(o.quantity.is_some(), "{}", o.id);
        assert_eq!(o.stock, None, "2.04 has no per-warehouse stock");
        let prices = o.prices.as_ref().expect("prices");
        assert_eq!(prices.len(), 1);
        assert_eq!(prices[0].currency.as_deref(), Some("RUB"));
        assert!(
            prices[0].minor_units(2).is_some(),
            "{}: kopecks are exact",
            o.id
        );
        if prices[0].unit.as_deref() == Some("м2") {
            m2 += 1;
        }
    }
    assert_eq!(m2, 1418);
    // Negative stock balances exist in real data and are kept, as are
    // fractional quantities (m²).
    let negative = all
        .iter()
        .filter(|o| o.quantity.is_some_and(|q| q.is_negative()))
        .count();
    assert_eq!(negative, NEGATIVE_QUANTITIES);
    let fractional = all
        .iter()
        .filter(|o| o.quantity.is_some_and(|q| q.scale() > 0))
        .count();
    assert_eq!(fractional, FRACTIONAL_QUANTITIES);
    assert!(all.iter().any(|o| o.quantity == Some(dec("-23.956"))));
}

#[test]
fn first_offer() {
    let (items, _) = read_fixture(FILE);
    let o = offers(&items)[0];
    assert_eq!(o.id, "9285e284-88aa-11e3-adb8-94de8026f172");
    assert_eq!(o.article.as_deref(), Some("ABF 004"));
    assert_eq!(o.name.as_deref(), Some("Aberhof  Windrose33 Поненте"));
    let unit = o.base_unit.as_ref().unwrap();
    assert_eq!(unit.code.as_deref(), Some("796"));
    assert_eq!(unit.full_name.as_deref(), Some("Штука"));
    assert_eq!(unit.text.as_deref(), Some("шт"));
    let p = &o.prices.as_ref().unwrap()[0];
    assert_eq!(p.price_type_id, "ecc82696-3f98-11de-991a-001c23888998");
    assert_eq!(p.price_per_unit, dec("657.8"));
    assert_eq!(p.minor_units(2), Some(65780));
    assert_eq!(p.presentation.as_deref(), Some("657,8 руб за шт"));
    assert_eq!(p.unit.as_deref(), Some("шт"));
    assert_eq!(p.coefficient, Some(dec("1")));
    assert_eq!(o.quantity, Some(dec("0")));
}

#[test]
fn fractional_quantity_and_m2_unit() {
    let (items, _) = read_fixture(FILE);
    let o = offer(&items, "97136fc5-8efe-11df-9958-003018a4a92f");
    // Trailing spaces in 1C text are trimmed.
    assert_eq!(o.article.as_deref(), Some("S 677"));
    assert_eq!(
        o.name.as_deref(),
        Some("Ламинат Aberhof Silver Белый фарфор S 677")
    );
    let q = o.quantity.unwrap();
    assert_eq!(q, dec("2.383"));
    assert_eq!((q.mantissa(), q.scale()), (2383, 3));
    let unit = o.base_unit.as_ref().unwrap();
    assert_eq!(unit.code.as_deref(), Some("055"));
    assert_eq!(unit.international_abbreviation.as_deref(), Some("MTK"));
    assert_eq!(unit.text.as_deref(), Some("м2"));
    let p = &o.prices.as_ref().unwrap()[0];
    assert_eq!(p.presentation.as_deref(), Some("627,9 руб за м2"));
    assert_eq!(p.minor_units(2), Some(62790));
    assert_eq!(p.unit.as_deref(), Some("м2"));
}

#[test]
fn negative_quantity_and_fractional_coefficient() {
    let (items, _) = read_fixture(FILE);
    let o = offer(&items, "d3f07995-d9ed-11e0-816f-003018a4a92f");
    assert_eq!(o.quantity, Some(dec("-23.956")));
    assert_eq!(o.prices.as_ref().unwrap()[0].minor_units(2), Some(61238));

    // Sold by the piece (шт) with a coefficient to the m² base unit.
    let o = offer(&items, "4d46be9f-9cab-11e0-8735-003018a4a92f");
    let p = &o.prices.as_ref().unwrap()[0];
    assert_eq!(p.unit.as_deref(), Some("шт"));
    assert_eq!(p.coefficient, Some(dec("0.250571")));
    assert_eq!(p.price_per_unit, dec("701.88"));
    assert_eq!(o.base_unit.as_ref().unwrap().text.as_deref(), Some("м2"));
}

#[test]
fn last_offer_and_bom_positions() {
    let (items, _) = read_fixture(FILE);
    let last = offers(&items).pop().unwrap();
    assert_eq!(last.id, "8fc10974-b7d3-11de-9352-0022b0527b2e");
    assert_eq!(last.prices.as_ref().unwrap()[0].minor_units(2), Some(90000));

    // Positions count real file bytes, including the UTF-8 BOM this file
    // starts with: break the first ЦенаЗаЕдиницу and compare.
    let bytes = std::fs::read(fixture(FILE)).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let needle = "<ЦенаЗаЕдиницу>657.8</ЦенаЗаЕдиницу>".as_bytes();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let broken = [
        &bytes[..at],
        "<ЦенаЗаЕдиницу>657,8,0</ЦенаЗаЕдиницу>".as_bytes(),
        &bytes[at + needle.len()..],
    ]
    .concat();
    let err = Reader::new(&broken[..])
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
    assert_eq!(err.position(), at as u64);
    assert_eq!(err.line(), 33, "line 33 of the file (grep -n)");
    let expected_line = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    assert_eq!(err.line(), expected_line);
    assert_eq!(
        err.path(),
        Some(
            "КоммерческаяИнформация/ПакетПредложений/Предложения/Предложение[Ид=9285e284-88aa-11e3-adb8-94de8026f172]/Цены/Цена/ЦенаЗаЕдиницу"
        )
    );
}

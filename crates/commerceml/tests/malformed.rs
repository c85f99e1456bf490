//! Broken input: truncated files, invalid XML, bad numbers, missing ids.
//! Every failure is an error with a line, a byte position and (where there
//! is one) an element path — never a silently short result.

mod common;

use commerceml::{Error, Item, Reader};
use common::*;

fn read_bytes(bytes: &[u8]) -> (Vec<Item>, Result<(), Error>) {
    let mut items = Vec::new();
    for item in Reader::new(bytes) {
        match item {
            Ok(item) => items.push(item),
            Err(e) => return (items, Err(e)),
        }
    }
    (items, Ok(()))
}

/// Cuts a fixture at every byte before the end of its root element: each
/// cut must end in an error, after a prefix of the full file's items.
fn sweep_truncations(rel: &str) {
    let bytes = std::fs::read(fixture(rel)).unwrap();
    let (full, result) = read_bytes(&bytes);
    result.unwrap();
    let root_end = bytes
        .windows("</КоммерческаяИнформация>".len())
        .rposition(|w| w == "</КоммерческаяИнформация>".as_bytes())
        .unwrap()
        + "</КоммерческаяИнформация>".len();
    let mut truncated = 0;
    for cut in 0..root_end {
        let (items, result) = read_bytes(&bytes[..cut]);
        let err = match result {
            Err(e) => e,
            Ok(()) => panic!(
                "{rel} cut at {cut} read as complete ({} items)",
                items.len()
            ),
        };
        assert!(items.len() <= full.len());
        assert_eq!(
            items[..],
            full[..items.len()],
            "{rel} cut at {cut}: items must be a prefix"
        );
        assert!(err.position() <= cut as u64, "{rel} cut at {cut}: {err}");
        match err {
            Error::Truncated { .. } => truncated += 1,
            // A cut inside a multi-byte UTF-8 character.
            Error::Encoding { .. } if std::str::from_utf8(&bytes[..cut]).is_err() => {}
            other => panic!("{rel} cut at {cut}: unexpected {other:?}"),
        }
    }
    assert!(truncated > root_end / 2, "{truncated} of {root_end}");
    // Whitespace after the root is fine.
    let (items, result) = read_bytes(&bytes[..root_end]);
    result.unwrap();
    assert_eq!(items, full);
}

#[test]
fn truncated_offers_always_fail() {
    sweep_truncations("v2.04/offers.xml");
}

#[test]
fn truncated_split_and_classifier_files_always_fail() {
    sweep_truncations("v2.10/rests0_1.xml");
    sweep_truncations("v2.07/import0_1.xml");
}

#[test]
fn truncated_error_names_the_open_element() {
    let bytes = std::fs::read(fixture("v2.04/offers.xml")).unwrap();
    let needle = "<Количество>20</Количество>".as_bytes();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let cut = at + "<Количество>2".len();
    let (items, result) = read_bytes(&bytes[..cut]);
    assert_eq!(offers(&items).len(), 1, "the first offer was complete");
    let err = result.unwrap_err();
    let Error::Truncated {
        line,
        position,
        path,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*position, cut as u64);
    assert_eq!(*line, 80, "grep -n");
    assert_eq!(
        path,
        "КоммерческаяИнформация/ПакетПредложений/Предложения/Предложение/Количество"
    );
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn empty_and_non_xml_input() {
    let (_, result) = read_bytes(b"");
    assert!(matches!(result, Err(Error::Truncated { .. })), "{result:?}");
    let (_, result) = read_bytes(b"   \n");
    assert!(matches!(result, Err(Error::Truncated { .. })), "{result:?}");
    let (_, result) = read_bytes(b"PK\x03\x04 this is a zip file");
    assert!(result.is_err());
}

#[test]
fn mismatched_end_tag() {
    let xml = "<КоммерческаяИнформация ВерсияСхемы=\"2.04\">\n<Каталог>\n<Товары>\n<Товар>\n<Ид>1</Наименование>\n</Товар>\n</Товары>\n</Каталог>\n</КоммерческаяИнформация>";
    let err = read_str(xml).unwrap_err();
    let Error::Xml {
        line,
        position,
        path,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*line, 5);
    assert_eq!(*position, xml.find("</Наименование>").unwrap() as u64);
    assert_eq!(path, "КоммерческаяИнформация/Каталог/Товары/Товар/Ид");
    assert!(message.contains("Наименование"), "{message}");
}

#[test]
fn broken_markup() {
    for xml in [
        "<КоммерческаяИнформация><Каталог <Товары/></Каталог></КоммерческаяИнформация>",
        "<КоммерческаяИнформация ВерсияСхемы=2.04></КоммерческаяИнформация>",
        "<КоммерческаяИнформация><Каталог></КоммерческаяИнформация>",
        "<КоммерческаяИнформация><Каталог><Ид>a &nbsp; b</Ид></Каталог></КоммерческаяИнформация>",
        "<КоммерческаяИнформация><Каталог><Ид>a & b</Ид></Каталог></КоммерческаяИнформация>",
    ] {
        let err = read_str(xml).unwrap_err();
        assert!(matches!(err, Error::Xml { .. }), "{xml}: {err:?}");
        assert_eq!(err.line(), 1);
    }
}

#[test]
fn wrong_root_and_content_after_root() {
    let err = read_str("<?xml version=\"1.0\"?>\n<rss><channel/></rss>").unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    assert_eq!(err.line(), 2);
    assert!(err.to_string().contains("КоммерческаяИнформация"), "{err}");

    let err = read_str("<КоммерческаяИнформация/>\n<КоммерческаяИнформация/>").unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    assert_eq!(err.line(), 2);
}

const PRICE_DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.04">
	<ПакетПредложений>
		<Предложения>
			<Предложение>
				<Ид>ok</Ид>
				<Цены><Цена><ИдТипаЦены>t</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены>
			</Предложение>
			<Предложение>
				<Ид>abc#1</Ид>
				<Цены>
					<Цена>
						<ИдТипаЦены>t</ИдТипаЦены>
						<ЦенаЗаЕдиницу>PRICE</ЦенаЗаЕдиницу>
					</Цена>
				</Цены>
				<Количество>QTY</Количество>
				<Склад ИдСклада="w" КоличествоНаСкладе="STOCK"/>
			</Предложение>
		</Предложения>
	</ПакетПредложений>
</КоммерческаяИнформация>"#;

fn price_doc(price: &str, qty: &str, stock: &str) -> String {
    PRICE_DOC
        .replace("PRICE", price)
        .replace("QTY", qty)
        .replace("STOCK", stock)
}

#[test]
fn valid_price_doc_reads() {
    let items = read_str(&price_doc("1 234,50", "2.383", "-1")).unwrap();
    let o = offer(&items, "abc#1");
    assert_eq!(o.prices.as_ref().unwrap()[0].minor_units(2), Some(123450));
    assert_eq!(o.quantity, Some(dec("2.383")));
    assert_eq!(o.stock.as_ref().unwrap()[0].quantity, Some(dec("-1")));
}

#[test]
fn bad_price_number() {
    let doc = price_doc("12,34.5", "1", "1");
    let mut reader = Reader::new(doc.as_bytes());
    // The good offer before it is still delivered.
    assert!(matches!(reader.next_item(), Ok(Some(Item::Document(_)))));
    assert!(matches!(reader.next_item(), Ok(Some(Item::Offer(_)))));
    let err = reader.next_item().unwrap_err();
    let Error::Invalid {
        line,
        position,
        path,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*line, 14);
    assert_eq!(
        *position,
        doc.find("<ЦенаЗаЕдиницу>12,34.5").unwrap() as u64
    );
    assert_eq!(
        path,
        "КоммерческаяИнформация/ПакетПредложений/Предложения/Предложение[Ид=abc#1]/Цены/Цена/ЦенаЗаЕдиницу"
    );
    assert!(message.contains("12,34.5"), "{message}");
    // Nothing more after an error.
    assert!(reader.next_item().unwrap().is_none());
}

#[test]
fn bad_quantity_and_stock_attribute() {
    let doc = price_doc("1", "много", "1");
    let err = read_str(&doc).unwrap_err();
    assert_eq!(err.line(), 17);
    assert!(
        err.path()
            .unwrap()
            .ends_with("Предложение[Ид=abc#1]/Количество"),
        "{err}"
    );

    let doc = price_doc("1", "1", "1e3");
    let err = read_str(&doc).unwrap_err();
    assert_eq!(err.line(), 18);
    assert!(
        err.path().unwrap().ends_with("Предложение[Ид=abc#1]/Склад"),
        "{err}"
    );
    assert!(err.to_string().contains("КоличествоНаСкладе"), "{err}");

    let doc = price_doc("", "1", "1");
    let err = read_str(&doc).unwrap_err();
    assert!(err.to_string().contains("empty number"), "{err}");
}

#[test]
fn missing_ids() {
    let err = read_str(
        "<КоммерческаяИнформация><Каталог><Товары>\n<Товар><Наименование>x</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>",
    )
    .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    assert_eq!(err.line(), 2);
    assert_eq!(
        err.path(),
        Some("КоммерческаяИнформация/Каталог/Товары/Товар")
    );
    assert!(err.to_string().contains("Ид"), "{err}");

    let err = read_str(
        "<КоммерческаяИнформация><ПакетПредложений><Предложения><Предложение><Ид>1</Ид><Цены><Цена><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены></Предложение></Предложения></ПакетПредложений></КоммерческаяИнформация>",
    )
    .unwrap_err();
    assert!(err.to_string().contains("ИдТипаЦены"), "{err}");

    let err = read_str(
        "<КоммерческаяИнформация><Классификатор><Группы><Группа><Наименование>x</Наименование><Группы/></Группа></Группы></Классификатор></КоммерческаяИнформация>",
    )
    .unwrap_err();
    assert_eq!(
        err.path(),
        Some("КоммерческаяИнформация/Классификатор/Группы/Группа")
    );

    let err = read_str(
        "<КоммерческаяИнформация><ПакетПредложений><Предложения><Предложение><Ид>#x</Ид></Предложение></Предложения></ПакетПредложений></КоммерческаяИнформация>",
    )
    .unwrap_err();
    assert!(err.to_string().contains("product part"), "{err}");
}

#[test]
fn oversized_item_is_refused() {
    let doc = price_doc("1", "1", "1");
    let reader = Reader::new(doc.as_bytes()).with_max_item_bytes(200);
    let err = reader.collect::<Result<Vec<_>, _>>().unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
    assert_eq!(err.line(), 9, "points at the item's start tag");
}

//! Encodings: UTF-8 (with and without BOM), windows-1251, UTF-16; bad bytes.

mod common;

use std::io::BufReader;

use commerceml::{Error, Item, Reader};
use common::*;

#[test]
fn windows_1251_fixture() {
    let raw = std::fs::read(fixture("encoding/import-windows-1251.xml")).unwrap();
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "the fixture really is not UTF-8"
    );

    let mut reader = Reader::from_path(fixture("encoding/import-windows-1251.xml")).unwrap();
    let items: Vec<Item> = (&mut reader).collect::<Result<_, _>>().unwrap();
    assert_eq!(reader.encoding(), "windows-1251");
    assert_eq!(reader.schema_version(), Some("2.03"));
    assert_eq!(groups(&items)[0].name.as_deref(), Some("Чай и кофе"));
    let p = product(&items, "7c1f9d14-3e4a-11e0-8f1a-001b11b25590");
    assert_eq!(p.article.as_deref(), Some("ЧЙ-001"));
    assert_eq!(
        p.name.as_deref(),
        Some("Чай «Бухта Коломбо» цейлонский листовой, 85 г")
    );
    assert_eq!(
        p.description.as_deref(),
        Some("Крупнолистовой чёрный чай № 1 — «ОРА»")
    );
    assert_eq!(
        p.base_unit.as_ref().unwrap().full_name.as_deref(),
        Some("Штука")
    );
}

fn offers_doc(encoding: &str, name: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="{encoding}"?>
<КоммерческаяИнформация ВерсияСхемы="2.04" ДатаФормирования="2014-01-01T00:00:00">
	<ПакетПредложений>
		<Предложения>
			<Предложение>
				<Ид>1</Ид>
				<Наименование>{name}</Наименование>
				<Цены><Цена><ИдТипаЦены>t</ИдТипаЦены><ЦенаЗаЕдиницу>10,5</ЦенаЗаЕдиницу><Валюта>руб.</Валюта></Цена></Цены>
			</Предложение>
		</Предложения>
	</ПакетПредложений>
</КоммерческаяИнформация>"#
    )
}

fn only_offer_name(reader: Reader<impl std::io::BufRead>) -> String {
    let items: Vec<Item> = reader.collect::<Result<_, _>>().unwrap();
    let all = offers(&items);
    assert_eq!(all.len(), 1);
    let price = &all[0].prices.as_ref().unwrap()[0];
    assert_eq!(price.minor_units(2), Some(1050));
    assert_eq!(price.currency.as_deref(), Some("RUB"));
    all[0].name.clone().unwrap()
}

#[test]
fn windows_1251_in_tiny_chunks() {
    let name = "Ботфорты женские «Осень» — размер 38, цвет: коричневый ёлочкой";
    for label in ["windows-1251", "cp1251", "WINDOWS-1251"] {
        let doc = offers_doc(label, name);
        let (bytes, _, bad) = encoding_rs::WINDOWS_1251.encode(&doc);
        assert!(!bad);
        // Capacity 5: the XML declaration, multi-byte output and tags all
        // straddle read boundaries.
        for capacity in [1, 5, 64, 8192] {
            let reader = Reader::new(BufReader::with_capacity(capacity, &bytes[..]));
            assert_eq!(reader.encoding(), "windows-1251");
            assert_eq!(
                only_offer_name(reader),
                name,
                "{label}, capacity {capacity}"
            );
        }
    }
}

#[test]
fn utf8_in_tiny_chunks_and_with_bom() {
    let name = "Ламинат Aberhof Silver «Белый фарфор» 𝄞";
    let doc = offers_doc("UTF-8", name);
    for capacity in [1, 3, 7, 4096] {
        let reader = Reader::new(BufReader::with_capacity(capacity, doc.as_bytes()));
        assert_eq!(only_offer_name(reader), name);
    }
    let with_bom = [&[0xEF, 0xBB, 0xBF][..], doc.as_bytes()].concat();
    let reader = Reader::new(&with_bom[..]);
    assert_eq!(reader.encoding(), "UTF-8");
    assert_eq!(only_offer_name(reader), name);
    // No declaration at all: UTF-8.
    let no_decl = doc.split_once("?>").unwrap().1.to_owned();
    assert_eq!(only_offer_name(Reader::new(no_decl.as_bytes())), name);
}

#[test]
fn bom_wins_over_a_stale_declaration() {
    let name = "Кофе";
    let doc = offers_doc("windows-1251", name);
    let with_bom = [&[0xEF, 0xBB, 0xBF][..], doc.as_bytes()].concat();
    let reader = Reader::new(&with_bom[..]);
    assert_eq!(reader.encoding(), "UTF-8");
    assert_eq!(only_offer_name(reader), name);
}

#[test]
fn utf16_with_bom() {
    let name = "Чай зелёный";
    let doc = offers_doc("UTF-16", name);
    let mut bytes = vec![0xFF, 0xFE];
    for unit in doc.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let reader = Reader::new(BufReader::with_capacity(3, &bytes[..]));
    assert_eq!(reader.encoding(), "UTF-16LE");
    assert_eq!(only_offer_name(reader), name);
}

#[test]
fn invalid_utf8_is_an_encoding_error_with_position() {
    let doc = offers_doc("UTF-8", "Кофе XX");
    let mut bytes = doc.into_bytes();
    // Replace "XX" with bytes that are not UTF-8 (windows-1251 "Чай").
    let at = bytes.windows(2).position(|w| w == b"XX").unwrap();
    bytes.splice(at..at + 2, [0xD7, 0xE0, 0xE9]);
    let err = Reader::new(&bytes[..])
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
    assert!(matches!(err, Error::Encoding { .. }), "{err:?}");
    assert_eq!(err.line(), 7, "{err}");
    assert_eq!(err.position(), at as u64, "points at the first bad byte");
}

#[test]
fn unsupported_encoding_is_an_error() {
    let doc = offers_doc("x-klingon-8", "Кофе");
    let mut reader = Reader::new(doc.as_bytes());
    let err = reader.next_item().unwrap_err();
    assert!(matches!(err, Error::Encoding { .. }), "{err:?}");
    assert!(err.to_string().contains("x-klingon-8"), "{err}");
    // Fused after the error.
    assert!(reader.next_item().unwrap().is_none());
    assert!(reader.next().is_none());
}

#[test]
fn crlf_line_endings() {
    let lf = std::fs::read_to_string(fixture("v2.07/import0_1.xml")).unwrap();
    let crlf = lf.replace('\n', "\r\n");
    let a: Vec<Item> = Reader::new(lf.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let b: Vec<Item> = Reader::new(crlf.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(a, b, "CR LF is normalized to LF inside text");
    let p = product(&b, "bd72d910-55bc-11d9-848a-00112f43529a");
    assert_eq!(
        p.description.as_deref(),
        Some("Натуральная кожа.\nПодошва — ТЭП.")
    );

    // Lines are still counted right.
    let broken = crlf.replace("<Ставка>18</Ставка>", "<Ставка>18</Ставка></Лишний>");
    let err = Reader::new(broken.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
    let expected = lf
        .lines()
        .position(|l| l.contains("<Ставка>18</Ставка>"))
        .unwrap()
        + 1;
    assert_eq!(err.line(), expected as u64, "{err}");
}

//! Streaming reader for 1C CommerceML 2 exchange files.
//!
//! 1C ("Обмен с WEB-сайтом", 1C-Bitrix exchange, УТ/УНФ/КА) sends a shop's
//! catalog as XML files in the CommerceML 2 format (namespace
//! `urn:1C.ru:commerceml_2`, schema versions 2.03–2.10):
//!
//! - `import.xml` / `import0_1.xml` — `Классификатор` (groups, properties,
//!   sometimes price types and warehouses) and `Каталог` (products);
//! - `offers.xml` / `offers0_1.xml` — `ПакетПредложений` (offers with prices
//!   and stock) or, since 2.07, `ИзмененияПакетаПредложений`;
//! - `prices*.xml`, `rests*.xml` — split offers packages of 2.08+ exports that
//!   carry only prices or only stock.
//!
//! [`Reader`] reads any of them in one pass with constant memory (only the
//! current item is held) and yields typed [`Item`]s. It detects the encoding
//! (UTF-8 or windows-1251), keeps money and quantities exact ([`Decimal`]),
//! normalizes currencies (`руб` → `RUB`), reports deletions, and fails loudly
//! — with line, byte position and element path — on malformed or truncated
//! input.
//!
//! ```
//! use commerceml::{Item, Reader};
//!
//! let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
//! <КоммерческаяИнформация ВерсияСхемы="2.04">
//!   <ПакетПредложений СодержитТолькоИзменения="false">
//!     <Предложения>
//!       <Предложение>
//!         <Ид>9285e284#42</Ид>
//!         <Цены><Цена>
//!           <ИдТипаЦены>retail</ИдТипаЦены>
//!           <ЦенаЗаЕдиницу>657.8</ЦенаЗаЕдиницу>
//!           <Валюта>руб</Валюта>
//!         </Цена></Цены>
//!         <Количество>2.383</Количество>
//!       </Предложение>
//!     </Предложения>
//!   </ПакетПредложений>
//! </КоммерческаяИнформация>"#;
//!
//! let mut reader = Reader::new(xml.as_bytes());
//! let mut offers = Vec::new();
//! for item in &mut reader {
//!     if let Item::Offer(offer) = item? {
//!         offers.push(offer);
//!     }
//! }
//! assert_eq!(reader.schema_version(), Some("2.04"));
//! let offer = &offers[0];
//! assert_eq!(offer.product_id, "9285e284");
//! assert_eq!(offer.variant_id.as_deref(), Some("42"));
//! let price = &offer.prices.as_ref().unwrap()[0];
//! assert_eq!(price.minor_units(2), Some(65780));
//! assert_eq!(price.currency.as_deref(), Some("RUB"));
//! assert_eq!(offer.quantity.unwrap().to_string(), "2.383");
//! # Ok::<(), commerceml::Error>(())
//! ```

mod convert;
mod currency;
mod decimal;
mod dom;
mod error;
mod model;
mod reader;
mod source;

pub use currency::normalize_currency;
pub use decimal::{Decimal, MAX_SCALE, ParseDecimalError};
pub use error::Error;
pub use model::{
    BaseUnit, Characteristic, DocumentInfo, DocumentKind, Group, Item, Offer, Price, PriceType,
    PriceTypeTax, Product, Property, PropertyValue, PropertyVariant, Requisite, TaxRate, ValueType,
    Warehouse, WarehouseStock,
};
pub use reader::{DEFAULT_MAX_ITEM_BYTES, MAX_DEPTH, Reader};
pub use source::DEFAULT_MAX_ELEMENT_BYTES;

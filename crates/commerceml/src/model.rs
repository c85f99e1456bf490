//! Typed items yielded by [`crate::Reader`].
//!
//! Conventions shared by every type here:
//! - text values are trimmed; an element that is absent, empty (`<Артикул/>`)
//!   or whitespace-only becomes `None` / is left out of a `Vec`;
//! - identifiers (`Ид`) are required where an item is useless without them —
//!   a missing one is an [`crate::Error::Invalid`], not a silent skip;
//! - `Option<Vec<_>>` means "this file says nothing about it" (`None`) versus
//!   "this file sets it, possibly to nothing" (`Some(vec![])`), so an importer
//!   can merge partial files (`prices*.xml`, `rests*.xml`) into what it has;
//! - money and quantities are exact [`Decimal`]s, currencies normalized with
//!   [`crate::normalize_currency`].

use crate::Decimal;

/// One thing read from a CommerceML file, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A document section started (`Классификатор`, `Каталог`,
    /// `ПакетПредложений`, `ИзмененияПакетаПредложений`); comes before the
    /// items it contains.
    Document(DocumentInfo),
    /// `Классификатор/Группы/Группа`, at any depth; parents come first.
    Group(Group),
    /// `Свойства/Свойство` (in the classifier or inside a group).
    Property(Property),
    /// `ТипыЦен/ТипЦены` (classifier or offers package).
    PriceType(PriceType),
    /// `Склады/Склад` (offers package or classifier).
    Warehouse(Warehouse),
    /// `Каталог/Товары/Товар`.
    Product(Product),
    /// `Предложения/Предложение` of an offers, prices or rests file.
    Offer(Offer),
}

/// Which document section an [`Item::Document`] opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// `Классификатор`: groups, properties, sometimes price types/warehouses.
    Classifier,
    /// `Каталог`: products.
    Catalog,
    /// `ПакетПредложений`: offers with prices and/or stock (also the
    /// `prices*.xml` / `rests*.xml` split files).
    OffersPackage,
    /// `ИзмененияПакетаПредложений` (2.07+): price/stock changes only.
    OffersChanges,
}

/// Header of a document section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentInfo {
    /// Which section this is.
    pub kind: DocumentKind,
    /// `Ид` of the section (not always a GUID: real 2014 offers have
    /// `Обмен с WEB - сайтом (Товары)00001#`).
    pub id: Option<String>,
    /// `Наименование`.
    pub name: Option<String>,
    /// `ИдКаталога` (offers packages).
    pub catalog_id: Option<String>,
    /// `ИдКлассификатора` (catalogs, offers packages).
    pub classifier_id: Option<String>,
    /// Attribute `СодержитТолькоИзменения="true"`: a partial update — items
    /// not mentioned are unchanged, not deleted. `false` when absent.
    pub only_changes: bool,
}

/// A product group (category). Groups form a tree; each is yielded once,
/// after its parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// `Ид`.
    pub id: String,
    /// `Наименование`.
    pub name: Option<String>,
    /// `Ид` of the enclosing group, `None` for top-level groups.
    pub parent_id: Option<String>,
    /// `Описание`.
    pub description: Option<String>,
    /// Marked for deletion (`ПометкаУдаления` true/Да, or `Статус` Удален).
    pub deleted: bool,
}

/// `ТипЗначений` of a property.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `Строка`: values are free text.
    String,
    /// `Число`: values are numbers (as text).
    Number,
    /// `Время`: values are dates/times (as text).
    Time,
    /// `Справочник`: values are `ИдЗначения` of [`Property::variants`].
    Reference,
    /// Anything else, verbatim.
    Other(String),
}

/// A product property (характеристика/свойство номенклатуры).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    /// `Ид`.
    pub id: String,
    /// `Наименование`.
    pub name: Option<String>,
    /// `ТипЗначений`.
    pub value_type: Option<ValueType>,
    /// `Множественное`.
    pub multiple: Option<bool>,
    /// `ВариантыЗначений`: `Справочник` entries (with `ИдЗначения`) or plain
    /// `Значение` entries (without id).
    pub variants: Vec<PropertyVariant>,
    /// Marked for deletion.
    pub deleted: bool,
}

/// One allowed value of a property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyVariant {
    /// `ИдЗначения` — what product values refer to for `Справочник` properties.
    pub value_id: Option<String>,
    /// `Значение` — the human-readable text.
    pub value: String,
}

/// A price type (`ТипЦены`): «Розничная», «Оптовая»…
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceType {
    /// `Ид` — referenced by [`Price::price_type_id`].
    pub id: String,
    /// `Наименование`.
    pub name: Option<String>,
    /// `Валюта`, normalized (`руб` → `RUB`).
    pub currency: Option<String>,
    /// `Налог` entries.
    pub taxes: Vec<PriceTypeTax>,
}

/// `ТипЦены/Налог`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceTypeTax {
    /// `Наименование` (e.g. `НДС`).
    pub name: Option<String>,
    /// `УчтеноВСумме`: the tax is included in the price.
    pub included_in_price: Option<bool>,
}

/// A warehouse / store (`Склад`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warehouse {
    /// `Ид` — referenced by [`WarehouseStock::warehouse_id`].
    pub id: String,
    /// `Наименование`.
    pub name: Option<String>,
    /// Marked for deletion.
    pub deleted: bool,
}

/// `БазоваяЕдиница`: attributes plus text. Real files use all of
/// `<БазоваяЕдиница Код="796" НаименованиеПолное="Штука">шт</БазоваяЕдиница>`,
/// the same without text (2.07, with `Пересчет` children) and plain
/// `<БазоваяЕдиница>796</БазоваяЕдиница>` (2.10).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BaseUnit {
    /// Attribute `Код` (OKEI code, e.g. `796`, `055`).
    pub code: Option<String>,
    /// Attribute `НаименованиеПолное` (`Штука`, `Квадратный метр`).
    pub full_name: Option<String>,
    /// Attribute `МеждународноеСокращение` (`PCE`, `MTK`).
    pub international_abbreviation: Option<String>,
    /// Element text (`шт`, `м2`; a code like `796` in 2.10 exports).
    pub text: Option<String>,
}

/// `ЗначенияСвойств/ЗначенияСвойства`: a property's value(s) on a product
/// or offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyValue {
    /// `Ид` of the [`Property`].
    pub property_id: String,
    /// `Наименование` (optional in the schema; some exporters write it).
    pub name: Option<String>,
    /// `Значение` elements — several for multiple-valued properties. For a
    /// `Справочник` property each is an `ИдЗначения`. Empty values are kept
    /// out, so an empty list means "no value" (1C writes `<Значение/>`).
    pub values: Vec<String>,
}

/// `ЗначенияРеквизитов/ЗначениеРеквизита`: a named attribute such as
/// `ВидНоменклатуры`, `Полное наименование`, `Вес`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requisite {
    /// `Наименование`.
    pub name: String,
    /// `Значение` elements (usually one).
    pub values: Vec<String>,
}

/// `СтавкиНалогов/СтавкаНалога`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxRate {
    /// `Наименование` (e.g. `НДС`).
    pub name: Option<String>,
    /// `Ставка` verbatim: `18`, `20`, but also `Без налога`.
    pub rate: Option<String>,
}

/// `ХарактеристикиТовара/ХарактеристикаТовара`: what distinguishes an offer
/// (size, colour…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Characteristic {
    /// `Ид` (optional).
    pub id: Option<String>,
    /// `Наименование` (e.g. `Размер`).
    pub name: Option<String>,
    /// `Значение` (e.g. `38`).
    pub value: Option<String>,
}

/// A catalog product (`Каталог/Товары/Товар`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    /// `Ид`, verbatim.
    pub id: String,
    /// `Штрихкод` (also the `ШтрихКод` spelling of older exports).
    pub barcode: Option<String>,
    /// `Артикул`.
    pub article: Option<String>,
    /// `Наименование`.
    pub name: Option<String>,
    /// `Описание`.
    pub description: Option<String>,
    /// `БазоваяЕдиница`.
    pub base_unit: Option<BaseUnit>,
    /// `Группы/Ид`, in order.
    pub group_ids: Vec<String>,
    /// `Картинка` file paths (relative to the exchange folder), in order.
    pub pictures: Vec<String>,
    /// `ЗначенияСвойств`.
    pub property_values: Vec<PropertyValue>,
    /// `ЗначенияРеквизитов`.
    pub requisites: Vec<Requisite>,
    /// `СтавкиНалогов`.
    pub tax_rates: Vec<TaxRate>,
    /// `ХарактеристикиТовара` (2.03–2.04 catalogs may put them on products).
    pub characteristics: Vec<Characteristic>,
    /// `Статус` element or attribute verbatim (`Новый`, `Изменен`, `Удален`).
    pub status: Option<String>,
    /// Deleted: `Статус` is `Удален` or `ПометкаУдаления` is true/`Да`.
    pub deleted: bool,
}

/// An offer (`Предложение`): a sellable product or product variant with its
/// prices and stock. In `prices*.xml` only `prices` is set, in
/// `rests*.xml` only `quantity`/`stock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    /// `Ид`, verbatim (`product#offer` or just `product`).
    pub id: String,
    /// The part of `Ид` before `#`: the [`Product::id`].
    pub product_id: String,
    /// The part of `Ид` after `#` (the characteristic / variant id), or
    /// `ИдХарактеристики` of 2.07+ change packages. `None` for an offer of
    /// the product itself.
    pub variant_id: Option<String>,
    /// `Штрихкод`.
    pub barcode: Option<String>,
    /// `Артикул`.
    pub article: Option<String>,
    /// `Наименование`.
    pub name: Option<String>,
    /// `БазоваяЕдиница`.
    pub base_unit: Option<BaseUnit>,
    /// `ХарактеристикиТовара`.
    pub characteristics: Vec<Characteristic>,
    /// `ЗначенияСвойств`.
    pub property_values: Vec<PropertyValue>,
    /// `Цены/Цена`: `None` if the file has no `Цены` for this offer.
    pub prices: Option<Vec<Price>>,
    /// Total quantity: `Количество`, or `Остатки/Остаток/Количество` of
    /// rests files. Exact and possibly fractional (`2.383` m²) or negative.
    pub quantity: Option<Decimal>,
    /// Per-warehouse stock from `<Склад ИдСклада=".." КоличествоНаСкладе=".."/>`,
    /// `<Склады ИдСклада=".."/>` (2.07 changes) or
    /// `Остатки/Остаток/Склад/{Ид,Количество}` (rests files). `None` if the
    /// file has none of these for this offer.
    pub stock: Option<Vec<WarehouseStock>>,
    /// `Статус` element or attribute verbatim.
    pub status: Option<String>,
    /// Deleted: `Статус` is `Удален` or `ПометкаУдаления` is true/`Да`.
    pub deleted: bool,
}

/// `Цены/Цена`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    /// `ИдТипаЦены` — a [`PriceType::id`].
    pub price_type_id: String,
    /// `ЦенаЗаЕдиницу`, exact.
    pub price_per_unit: Decimal,
    /// `Валюта`, normalized; `None` means "the price type's currency".
    pub currency: Option<String>,
    /// `Представление` verbatim (`657,8 руб за шт`) — display only.
    pub presentation: Option<String>,
    /// `Единица` (`шт`, `м2`, or an OKEI code).
    pub unit: Option<String>,
    /// `Коэффициент` of `Единица` relative to the base unit.
    pub coefficient: Option<Decimal>,
    /// `МинКоличество`.
    pub min_quantity: Option<Decimal>,
}

impl Price {
    /// The price in minor currency units (kopecks for scale 2), exactly;
    /// `None` if it has more fractional digits than `scale`.
    pub fn minor_units(&self, scale: u32) -> Option<i64> {
        self.price_per_unit.to_minor_units(scale)
    }
}

/// Stock of an offer in one warehouse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarehouseStock {
    /// `ИдСклада` / `Склад/Ид` — a [`Warehouse::id`].
    pub warehouse_id: String,
    /// `КоличествоНаСкладе` / `Количество`; optional in the schema.
    pub quantity: Option<Decimal>,
}

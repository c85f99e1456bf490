//! The demo shop's catalog: a deterministic generator of a realistic 1C package (a section
//! tree, a few hundred products with Russian names and texts, size/colour variants, brand and
//! material properties, RUB prices, stock and generated pictures), imported through the same
//! importer as a real package the first time `vitrina demo` starts.

use std::fmt::Write as _;
use std::path::Path;

use super::import::{ImportError, ImportReport, Importer};
use crate::config::CatalogConfig;
use crate::store::Store;

struct Category {
    id: &'static str,
    parent: &'static str,
    name: &'static str,
    /// Product name stems, each becomes several products.
    kinds: &'static [&'static str],
    /// Variant axis: (characteristic name, values).
    variants: (&'static str, &'static [&'static str]),
    price: (i64, i64),
    materials: &'static [&'static str],
    hue: u8,
}

const TOPS: [(&str, &str); 4] = [
    ("clothes", "Одежда"),
    ("shoes", "Обувь"),
    ("electronics", "Электроника"),
    ("home", "Дом и быт"),
];

const CATEGORIES: &[Category] = &[
    Category {
        id: "jackets",
        parent: "clothes",
        name: "Куртки",
        kinds: &["Куртка", "Парка", "Пуховик", "Ветровка", "Бомбер"],
        variants: ("Размер", &["S", "M", "L", "XL"]),
        price: (3990, 24990),
        materials: &["полиэстер", "нейлон", "пух", "хлопок"],
        hue: 0,
    },
    Category {
        id: "tshirts",
        parent: "clothes",
        name: "Футболки",
        kinds: &["Футболка", "Лонгслив", "Поло", "Майка"],
        variants: ("Размер", &["XS", "S", "M", "L", "XL"]),
        price: (690, 2990),
        materials: &["хлопок", "лён", "вискоза"],
        hue: 1,
    },
    Category {
        id: "hoodies",
        parent: "clothes",
        name: "Толстовки",
        kinds: &["Худи", "Свитшот", "Толстовка на молнии"],
        variants: ("Размер", &["S", "M", "L", "XL"]),
        price: (1990, 6990),
        materials: &["хлопок", "футер", "флис"],
        hue: 2,
    },
    Category {
        id: "sneakers",
        parent: "shoes",
        name: "Кроссовки",
        kinds: &[
            "Кроссовки беговые",
            "Кеды",
            "Кроссовки для зала",
            "Кроссовки трейловые",
        ],
        variants: ("Размер", &["38", "39", "40", "41", "42", "43", "44"]),
        price: (2990, 14990),
        materials: &["текстиль", "кожа", "замша"],
        hue: 3,
    },
    Category {
        id: "boots",
        parent: "shoes",
        name: "Ботинки",
        kinds: &["Ботинки", "Челси", "Сапоги"],
        variants: ("Размер", &["37", "38", "39", "40", "41", "42"]),
        price: (4990, 17990),
        materials: &["кожа", "нубук", "замша"],
        hue: 4,
    },
    Category {
        id: "phones",
        parent: "electronics",
        name: "Смартфоны",
        kinds: &["Смартфон"],
        variants: ("Память", &["128 ГБ", "256 ГБ", "512 ГБ"]),
        price: (12990, 89990),
        materials: &["стекло", "алюминий", "пластик"],
        hue: 5,
    },
    Category {
        id: "audio",
        parent: "electronics",
        name: "Наушники и колонки",
        kinds: &[
            "Наушники беспроводные",
            "Наушники полноразмерные",
            "Колонка портативная",
        ],
        variants: ("Цвет", &["чёрный", "белый", "синий"]),
        price: (1490, 29990),
        materials: &["пластик", "металл", "ткань"],
        hue: 6,
    },
    Category {
        id: "accessories",
        parent: "electronics",
        name: "Аксессуары",
        kinds: &["Чехол", "Зарядное устройство", "Кабель USB-C", "Power bank"],
        variants: ("Цвет", &["чёрный", "белый"]),
        price: (390, 4990),
        materials: &["силикон", "пластик", "кожа"],
        hue: 7,
    },
    Category {
        id: "kitchen",
        parent: "home",
        name: "Кухня",
        kinds: &["Кружка", "Термос", "Сковорода", "Чайник"],
        variants: ("Объём", &["0,4 л", "0,75 л", "1 л"]),
        price: (390, 7990),
        materials: &["сталь", "керамика", "эмаль", "стекло"],
        hue: 8,
    },
    Category {
        id: "textile",
        parent: "home",
        name: "Текстиль",
        kinds: &["Плед", "Подушка", "Полотенце", "Комплект постельного белья"],
        variants: ("Размер", &["1,5-спальный", "2-спальный", "евро"]),
        price: (790, 8990),
        materials: &["хлопок", "шерсть", "лён", "сатин"],
        hue: 9,
    },
];

const BRANDS: [&str; 10] = [
    "Северный ветер",
    "Urban Fox",
    "Кедр",
    "Sonata",
    "Aurora",
    "Тундра",
    "Байкал",
    "Nord Line",
    "Ока",
    "Polar",
];
const COLORS: [(&str, [u8; 3]); 8] = [
    ("чёрный", [40, 40, 48]),
    ("белый", [235, 235, 230]),
    ("серый", [140, 144, 150]),
    ("синий", [46, 92, 170]),
    ("красный", [196, 52, 52]),
    ("зелёный", [56, 142, 84]),
    ("бежевый", [214, 190, 150]),
    ("хаки", [120, 128, 80]),
];
/// Model names that need no grammatical agreement with the product noun.
const MODELS: [&str; 12] = [
    "Вега",
    "Альфа",
    "Полюс",
    "Бриз",
    "Орион",
    "Сокол",
    "Тайга",
    "Арктика",
    "Мистраль",
    "Кварц",
    "Нева",
    "Эльбрус",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes import.xml, offers.xml and import_files/ into `dir`. Deterministic: the same
/// catalog on every machine.
pub fn write_package(dir: &Path, products_per_kind: usize) -> std::io::Result<()> {
    let mut rng = fastrand::Rng::with_seed(20261125);
    std::fs::create_dir_all(dir.join("import_files/demo"))?;
    let mut import = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\" ДатаФормирования=\"2026-11-25T00:00:00\">\n\
         <Классификатор><Ид>vitrina-demo</Ид><Наименование>Демо-магазин vitrina</Наименование><Группы>\n",
    );
    for (top, top_name) in TOPS {
        let _ = write!(
            import,
            "<Группа><Ид>{top}</Ид><Наименование>{top_name}</Наименование><Группы>"
        );
        for c in CATEGORIES.iter().filter(|c| c.parent == top) {
            let _ = write!(
                import,
                "<Группа><Ид>{}</Ид><Наименование>{}</Наименование></Группа>",
                c.id,
                esc(c.name)
            );
        }
        import += "</Группы></Группа>\n";
    }
    import += "</Группы><Свойства>\n<Свойство><Ид>brand</Ид><Наименование>Бренд</Наименование><ТипЗначений>Справочник</ТипЗначений><ВариантыЗначений>";
    for (i, b) in BRANDS.iter().enumerate() {
        let _ = write!(
            import,
            "<Справочник><ИдЗначения>brand-{i}</ИдЗначения><Значение>{}</Значение></Справочник>",
            esc(b)
        );
    }
    import += "</ВариантыЗначений></Свойство>\n\
        <Свойство><Ид>color</Ид><Наименование>Цвет</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>\n\
        <Свойство><Ид>material</Ид><Наименование>Материал</Наименование><ТипЗначений>Строка</ТипЗначений></Свойство>\n\
        </Свойства></Классификатор>\n\
        <Каталог СодержитТолькоИзменения=\"false\"><Ид>vitrina-demo</Ид><ИдКлассификатора>vitrina-demo</ИдКлассификатора><Наименование>Каталог</Наименование><Товары>\n";
    let mut offers = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\n\
         <ПакетПредложений СодержитТолькоИзменения=\"false\"><Ид>vitrina-demo#</Ид><Наименование>Пакет предложений</Наименование>\
         <ИдКаталога>vitrina-demo</ИдКаталога><ТипыЦен><ТипЦены><Ид>retail</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>\n",
    );
    let mut n = 0usize;
    for c in CATEGORIES {
        for kind in c.kinds {
            for _ in 0..products_per_kind {
                n += 1;
                let id = format!("demo-{n:04}");
                let brand = rng.usize(..BRANDS.len());
                let (color, rgb) = COLORS[rng.usize(..COLORS.len())];
                let material = c.materials[rng.usize(..c.materials.len())];
                let model = MODELS[rng.usize(..MODELS.len())];
                let name = format!("{kind} {} «{model}»", BRANDS[brand]);
                let price = (rng.i64(c.price.0..=c.price.1) / 10) * 10 - 10 + 100; // …90 ₽ endings
                let description = format!(
                    "{kind} от {brand_name}: {material}, цвет — {color}. {}",
                    [
                        "Подходит на каждый день.",
                        "Проверенное качество и гарантия 1 год.",
                        "Хит сезона.",
                        "Доставим за 1–3 дня."
                    ][rng.usize(..4)],
                    brand_name = BRANDS[brand]
                );
                let pictures: Vec<String> = (0..2)
                    .map(|k| {
                        let file = format!("import_files/demo/{id}-{k}.png");
                        let _ = picture(&dir.join(&file), rgb, c.hue, k, &mut rng);
                        file
                    })
                    .collect();
                let _ = write!(
                    import,
                    "<Товар><Ид>{id}</Ид><Артикул>{}-{n:04}</Артикул><Наименование>{}</Наименование>\
                     <БазоваяЕдиница Код=\"796\" НаименованиеПолное=\"Штука\">шт</БазоваяЕдиница>\
                     <Группы><Ид>{}</Ид></Группы><Описание>{}</Описание>{}\
                     <ЗначенияСвойств><ЗначенияСвойства><Ид>brand</Ид><Значение>brand-{brand}</Значение></ЗначенияСвойства>\
                     <ЗначенияСвойства><Ид>color</Ид><Значение>{color}</Значение></ЗначенияСвойства>\
                     <ЗначенияСвойства><Ид>material</Ид><Значение>{material}</Значение></ЗначенияСвойства></ЗначенияСвойств></Товар>",
                    c.id.to_uppercase(),
                    esc(&name),
                    c.id,
                    esc(&description),
                    pictures
                        .iter()
                        .map(|p| format!("<Картинка>{p}</Картинка>"))
                        .collect::<String>(),
                );
                let (axis, values) = c.variants;
                let count = rng.usize(2..=values.len());
                for (k, value) in values.iter().take(count).enumerate() {
                    let bump = if axis == "Память" || axis == "Объём" {
                        k as i64 * price / 4
                    } else {
                        0
                    };
                    let stock = if rng.u8(..10) == 0 { 0 } else { rng.u32(1..30) };
                    let _ = write!(
                        offers,
                        "<Предложение><Ид>{id}#{id}-{k}</Ид><Наименование>{} ({value})</Наименование>\
                         <ХарактеристикиТовара><ХарактеристикаТовара><Наименование>{axis}</Наименование><Значение>{value}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>\
                         <Цены><Цена><Представление>{} руб. за шт</Представление><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>{}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена></Цены>\
                         <Количество>{stock}</Количество></Предложение>",
                        esc(&name),
                        price + bump,
                        price + bump,
                    );
                    offers.push('\n');
                }
            }
        }
    }
    import += "</Товары></Каталог></КоммерческаяИнформация>\n";
    offers += "</Предложения></ПакетПредложений></КоммерческаяИнформация>\n";
    std::fs::write(dir.join("import.xml"), import)?;
    std::fs::write(dir.join("offers.xml"), offers)
}

/// A product picture: the product's colour on a soft background of its category's hue, a
/// different composition per picture.
fn picture(
    path: &Path,
    rgb: [u8; 3],
    hue: u8,
    variant: usize,
    rng: &mut fastrand::Rng,
) -> image::ImageResult<()> {
    const SIZE: u32 = 256;
    let backgrounds = [
        [250, 236, 230],
        [232, 244, 250],
        [240, 234, 250],
        [236, 248, 238],
        [250, 246, 230],
        [244, 236, 244],
        [230, 240, 246],
        [246, 242, 236],
        [238, 246, 244],
        [248, 238, 236],
    ];
    let bg = backgrounds[hue as usize % backgrounds.len()];
    let (cx, cy) = (
        SIZE as f32 / 2.0 + rng.f32() * 24.0 - 12.0,
        SIZE as f32 / 2.0 + rng.f32() * 24.0 - 12.0,
    );
    let radius = SIZE as f32 * if variant == 0 { 0.32 } else { 0.24 };
    let img = image::RgbImage::from_fn(SIZE, SIZE, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let inside = if variant == 0 {
            (dx * dx + dy * dy).sqrt() < radius
        } else {
            dx.abs() < radius && dy.abs() < radius * 1.3
        };
        let shade = 1.0 - (y as f32 / SIZE as f32) * 0.12;
        let c = if inside { rgb } else { bg };
        image::Rgb([
            (c[0] as f32 * shade) as u8,
            (c[1] as f32 * shade) as u8,
            (c[2] as f32 * shade) as u8,
        ])
    });
    img.save(path)
}

/// Imports the demo catalog unless a catalog was published already.
pub async fn seed_if_empty(
    store: &Store,
    config: &CatalogConfig,
) -> Result<Option<ImportReport>, ImportError> {
    if super::current_version(store).await? > 0 {
        return Ok(None);
    }
    let io = |e: std::io::Error| ImportError::Read {
        file: "demo".into(),
        line: 0,
        message: e.to_string(),
    };
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || write_package(&path, 8))
        .await
        .map_err(|e| ImportError::Read {
            file: "demo".into(),
            line: 0,
            message: e.to_string(),
        })?
        .map_err(io)?;
    let files = [dir.path().join("import.xml"), dir.path().join("offers.xml")];
    Importer::new(store, config)
        .import_files(&files, dir.path(), "demo")
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    use crate::store::testing::TestDb;
    use crate::store_test;

    store_test!(demo_catalog_imports_once, |db: TestDb| async move {
        let media = tempfile::tempdir().unwrap();
        let config = crate::config::CatalogConfig {
            media_dir: media.path().to_path_buf(),
            ..Default::default()
        };
        let report = crate::catalog::demo::seed_if_empty(&db.store, &config)
            .await
            .unwrap()
            .expect("imported");
        assert_eq!(
            report.products,
            8 * 35,
            "8 products for each of the 35 kinds"
        );
        assert!(report.offers > report.products);
        assert_eq!(report.images_added, report.products * 2);
        assert_eq!(report.warnings_total, 0, "{:?}", report.warnings);
        assert!(
            crate::catalog::demo::seed_if_empty(&db.store, &config)
                .await
                .unwrap()
                .is_none(),
            "not twice"
        );
    });
}

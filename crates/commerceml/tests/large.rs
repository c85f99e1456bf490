//! A generated 50,000-product catalog and a 50,000-offer package read in
//! constant memory.
//!
//! Set `COMMERCEML_LARGE_DIR=/some/dir` to keep the generated files there
//! (e.g. to benchmark `examples/count` on them).

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use commerceml::{Item, Reader};

const PRODUCTS: usize = 50_000;
const GROUPS: usize = 200;

fn write_catalog(path: &Path) -> std::io::Result<u64> {
    let mut w = BufWriter::new(File::create(path)?);
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.07" ДатаФормирования="2024-01-01T00:00:00">"#
    )?;
    writeln!(
        w,
        "\t<Классификатор>\n\t\t<Ид>cls</Ид>\n\t\t<Наименование>Классификатор</Наименование>\n\t\t<Группы>"
    )?;
    for g in 0..GROUPS {
        writeln!(
            w,
            "\t\t\t<Группа>\n\t\t\t\t<Ид>group-{g:04}</Ид>\n\t\t\t\t<Наименование>Группа {g}</Наименование>\n\t\t\t\t<Группы>\n\t\t\t\t\t<Группа><Ид>group-{g:04}-sub</Ид><Наименование>Подгруппа {g}</Наименование></Группа>\n\t\t\t\t</Группы>\n\t\t\t</Группа>"
        )?;
    }
    writeln!(w, "\t\t</Группы>\n\t</Классификатор>")?;
    writeln!(
        w,
        "\t<Каталог СодержитТолькоИзменения=\"false\">\n\t\t<Ид>cls</Ид>\n\t\t<ИдКлассификатора>cls</ИдКлассификатора>\n\t\t<Наименование>Каталог</Наименование>\n\t\t<Товары>"
    )?;
    for i in 0..PRODUCTS {
        let g = i % GROUPS;
        write!(
            w,
            "\t\t\t<Товар>\n\t\t\t\t<Ид>{i:08x}-1111-11e0-8000-000000000000</Ид>\n\t\t\t\t<Штрихкод>46{i:011}</Штрихкод>\n\t\t\t\t<Артикул>ART-{i}</Артикул>\n\t\t\t\t<Наименование>Товар номер {i} «Тестовый»</Наименование>\n\t\t\t\t<БазоваяЕдиница Код=\"796\" НаименованиеПолное=\"Штука\">шт</БазоваяЕдиница>\n\t\t\t\t<Группы><Ид>group-{g:04}-sub</Ид></Группы>\n\t\t\t\t<Описание>Описание товара {i}: прочный, удобный, красивый. Подходит для дома и офиса. Гарантия 12 месяцев &amp; доставка.</Описание>\n\t\t\t\t<Картинка>import_files/{a:02x}/{i:08x}_1.jpg</Картинка>\n\t\t\t\t<Картинка>import_files/{a:02x}/{i:08x}_2.jpg</Картинка>\n\t\t\t\t<ЗначенияСвойств>\n\t\t\t\t\t<ЗначенияСвойства><Ид>prop-color</Ид><Значение>value-{c}</Значение></ЗначенияСвойства>\n\t\t\t\t\t<ЗначенияСвойства><Ид>prop-size</Ид><Значение>{s}</Значение></ЗначенияСвойства>\n\t\t\t\t</ЗначенияСвойств>\n\t\t\t\t<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>20</Ставка></СтавкаНалога></СтавкиНалогов>\n\t\t\t\t<ЗначенияРеквизитов>\n\t\t\t\t\t<ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита>\n\t\t\t\t\t<ЗначениеРеквизита><Наименование>Вес</Наименование><Значение>0.{w3:03}</Значение></ЗначениеРеквизита>\n\t\t\t\t</ЗначенияРеквизитов>\n\t\t\t</Товар>\n",
            a = i % 256,
            c = i % 12,
            s = 36 + i % 10,
            w3 = i % 1000,
        )?;
    }
    writeln!(w, "\t\t</Товары>\n\t</Каталог>\n</КоммерческаяИнформация>")?;
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn write_offers(path: &Path) -> std::io::Result<u64> {
    let mut w = BufWriter::new(File::create(path)?);
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<КоммерческаяИнформация ВерсияСхемы="2.07" ДатаФормирования="2024-01-01T00:00:00">"#
    )?;
    writeln!(
        w,
        "\t<ПакетПредложений СодержитТолькоИзменения=\"false\">\n\t\t<Ид>cls#</Ид>\n\t\t<ИдКаталога>cls</ИдКаталога>\n\t\t<ТипыЦен><ТипЦены><Ид>retail</Ид><Наименование>Розничная</Наименование><Валюта>руб</Валюта></ТипЦены></ТипыЦен>\n\t\t<Склады><Склад><Ид>w1</Ид><Наименование>Склад 1</Наименование></Склад><Склад><Ид>w2</Ид><Наименование>Склад 2</Наименование></Склад></Склады>\n\t\t<Предложения>"
    )?;
    for i in 0..PRODUCTS {
        write!(
            w,
            "\t\t\t<Предложение>\n\t\t\t\t<Ид>{i:08x}-1111-11e0-8000-000000000000#{v}</Ид>\n\t\t\t\t<Артикул>ART-{i}</Артикул>\n\t\t\t\t<Наименование>Товар номер {i} (размер {s})</Наименование>\n\t\t\t\t<БазоваяЕдиница Код=\"796\" НаименованиеПолное=\"Штука\">шт</БазоваяЕдиница>\n\t\t\t\t<ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>{s}</Значение></ХарактеристикаТовара></ХарактеристикиТовара>\n\t\t\t\t<Цены><Цена><Представление>{r} руб за шт</Представление><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>{r}.{k:02}</ЦенаЗаЕдиницу><Валюта>руб</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена></Цены>\n\t\t\t\t<Количество>{q}</Количество>\n\t\t\t\t<Склад ИдСклада=\"w1\" КоличествоНаСкладе=\"{q}\"/>\n\t\t\t\t<Склад ИдСклада=\"w2\" КоличествоНаСкладе=\"0\"/>\n\t\t\t</Предложение>\n",
            v = i % 7,
            s = 36 + i % 10,
            r = 100 + i % 9000,
            k = i % 100,
            q = i % 50,
        )?;
    }
    writeln!(
        w,
        "\t\t</Предложения>\n\t</ПакетПредложений>\n</КоммерческаяИнформация>"
    )?;
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Peak resident memory of this process in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("COMMERCEML_LARGE_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            (None, PathBuf::from(dir))
        }
        None => {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().to_owned();
            (Some(tmp), path)
        }
    }
}

// One test function so the peak-memory figure belongs to it alone.
#[test]
fn large_files_in_constant_memory() {
    let (_guard, dir) = out_dir();
    let catalog = dir.join("large-import.xml");
    let offers_file = dir.join("large-offers.xml");
    let catalog_size = write_catalog(&catalog).unwrap();
    let offers_size = write_offers(&offers_file).unwrap();
    assert!(catalog_size > 40 << 20, "catalog is {catalog_size} bytes");
    assert!(offers_size > 30 << 20, "offers file is {offers_size} bytes");

    let (mut groups, mut products, mut last_product) = (0, 0, None);
    for item in Reader::from_path(&catalog).unwrap() {
        match item.unwrap() {
            Item::Group(_) => groups += 1,
            Item::Product(p) => {
                products += 1;
                assert_eq!(p.pictures.len(), 2);
                assert_eq!(p.property_values.len(), 2);
                last_product = Some(p);
            }
            _ => {}
        }
    }
    assert_eq!(groups, GROUPS * 2);
    assert_eq!(products, PRODUCTS);
    let last = last_product.unwrap();
    assert_eq!(last.article.as_deref(), Some("ART-49999"));
    assert_eq!(last.group_ids, ["group-0199-sub"]);

    let (mut offers, mut kopecks) = (0usize, 0i64);
    for item in Reader::from_path(&offers_file).unwrap() {
        if let Item::Offer(o) = item.unwrap() {
            offers += 1;
            kopecks += o.prices.unwrap()[0].minor_units(2).unwrap();
            assert_eq!(o.stock.unwrap().len(), 2);
        }
    }
    assert_eq!(offers, PRODUCTS);
    let expected: i64 = (0..PRODUCTS as i64)
        .map(|i| (100 + i % 9000) * 100 + i % 100)
        .sum();
    assert_eq!(kopecks, expected, "every price exact to the kopeck");

    // Constant memory: the peak stays far below the size of either file
    // (a DOM of the catalog would take several times its size).
    if let Some(peak) = peak_rss_kib() {
        let peak_bytes = peak * 1024;
        eprintln!("peak RSS {peak} KiB; files {catalog_size} + {offers_size} bytes");
        assert!(
            peak_bytes < 16 << 20,
            "peak RSS {peak} KiB for a {catalog_size}-byte file"
        );
    }
}

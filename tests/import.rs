//! CommerceML import into the catalog, on SQLite and PostgreSQL.

use std::path::{Path, PathBuf};

use sqlx::Row;
use vitrina::catalog::import::{ImportError, Importer};
use vitrina::config::CatalogConfig;
use vitrina::store::testing::TestDb;
use vitrina::store::{Backend, Store};
use vitrina::store_test;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/commerceml/tests/fixtures"
);

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

/// A package folder as 1C writes it: the given fixtures plus image files for `import_files/…`.
fn package(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, name) in files {
        std::fs::copy(fixture(rel), dir.path().join(name)).unwrap();
    }
    for (i, name) in ["_1.jpeg", "_2.jpeg", "_3.jpeg"].iter().enumerate() {
        let path = dir.path().join(format!(
            "import_files/97/97136fc58efe11df9958003018a4a92f{name}"
        ));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        jpeg.extend(std::iter::repeat_n(i as u8, 64));
        std::fs::write(path, jpeg).unwrap();
    }
    dir
}

fn config(media: &Path) -> CatalogConfig {
    CatalogConfig {
        media_dir: media.to_path_buf(),
        ..CatalogConfig::default()
    }
}

async fn scalar(store: &Store, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn text(store: &Store, sql: &'static str, id: &str) -> Option<String> {
    sqlx::query(sql)
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .map(|r| r.try_get(0).unwrap())
}

async fn int(store: &Store, sql: &'static str, id: &str) -> Option<i64> {
    sqlx::query(sql)
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .and_then(|r| r.try_get(0).unwrap())
}

const LAMINATE: &str = "97136fc5-8efe-11df-9958-003018a4a92f";
const BOOTS_38: &str = "bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4";

/// The 2.04 fixtures with the boots product (whose offers offers.xml carries) added to import.xml.
fn package_2_04() -> tempfile::TempDir {
    let pkg = package(&[
        ("v2.04/import.xml", "import.xml"),
        ("v2.04/offers.xml", "offers.xml"),
    ]);
    let path = pkg.path().join("import.xml");
    let xml = std::fs::read_to_string(&path).unwrap().replacen(
        "</Товары>",
        "<Товар><Ид>bd72d910-55bc-11d9-848a-00112f43529a</Ид><Наименование>Женские ботфорты</Наименование>\
         <Группы><Ид>5f3a1e14-8efe-11df-9958-003018a4a92f</Ид></Группы></Товар></Товары>",
        1,
    );
    std::fs::write(path, xml).unwrap();
    pkg
}

async fn full_package_2_04(backend: Backend) {
    let db = TestDb::new(backend).await;
    let media = tempfile::tempdir().unwrap();
    let pkg = package_2_04();
    let report = Importer::new(&db.store, &config(media.path()))
        .import_paths(&[pkg.path().to_path_buf()], "test")
        .await
        .unwrap();
    assert_eq!(report.version, 1);
    assert_eq!(report.kind, "full");
    assert_eq!(report.warnings_total, 0, "{:?}", report.warnings);
    assert_eq!((report.sections, report.products, report.offers), (5, 3, 3));
    assert_eq!(report.images_added, 3);
    assert_eq!(
        vitrina::catalog::current_version(&db.store).await.unwrap(),
        1
    );

    let s = &db.store;
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM sections").await,
        5
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await,
        3
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM images").await,
        3
    );
    // Retail («Розничная») price in kopecks, fractional m² stock in thousandths.
    assert_eq!(
        int(s, "SELECT price FROM offers WHERE id = $1", LAMINATE).await,
        Some(62790)
    );
    assert_eq!(
        text(s, "SELECT currency FROM offers WHERE id = $1", LAMINATE)
            .await
            .as_deref(),
        Some("RUB")
    );
    assert_eq!(
        int(s, "SELECT stock_milli FROM offers WHERE id = $1", LAMINATE).await,
        Some(2383)
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM offer_prices").await as u64,
        report.prices
    );
    assert_eq!(
        int(s, "SELECT stock_milli FROM offers WHERE id = $1", BOOTS_38).await,
        Some(20_000)
    );
    let chars = text(
        s,
        "SELECT characteristics FROM offers WHERE id = $1",
        BOOTS_38,
    )
    .await
    .unwrap();
    assert!(chars.contains("Размер") && chars.contains("38"), "{chars}");
    // Reference values are stored as their text; multiple values kept.
    let props = text(s, "SELECT properties FROM products WHERE id = $1", LAMINATE)
        .await
        .unwrap();
    assert!(
        props.contains("Aberhof") && !props.contains("444bbea3"),
        "{props}"
    );
    assert!(
        props.contains("белый") && props.contains("серый"),
        "{props}"
    );
    assert_eq!(
        text(s, "SELECT section_id FROM products WHERE id = $1", LAMINATE)
            .await
            .as_deref(),
        Some("5f3a1e12-8efe-11df-9958-003018a4a92f")
    );
    let images: Vec<String> = serde_json::from_str(
        &text(s, "SELECT images FROM products WHERE id = $1", LAMINATE)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(images.len(), 3);
    assert!(media.path().join(&images[0][..2]).join(&images[0]).exists());

    // The same package again: a new version, the same catalog, images not stored twice.
    let again = Importer::new(&db.store, &config(media.path()))
        .import_paths(&[pkg.path().to_path_buf()], "test")
        .await
        .unwrap();
    assert_eq!(again.version, 2);
    assert_eq!(again.images_added, 0);
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await,
        3
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM offers").await,
        3
    );
}

store_test!(full_package_2_04, backend: full_package_2_04);

async fn split_files_2_10(backend: Backend) {
    let db = TestDb::new(backend).await;
    let media = tempfile::tempdir().unwrap();
    let files = [
        "import0_1.xml",
        "import1_1.xml",
        "offers0_1.xml",
        "prices0_1.xml",
        "rests0_1.xml",
    ];
    let pkg =
        package(&files.map(|f| (Box::leak(format!("v2.10/{f}").into_boxed_str()) as &str, f)));
    let report = Importer::new(&db.store, &config(media.path()))
        .import_paths(&[pkg.path().to_path_buf()], "test")
        .await
        .unwrap();
    let s = &db.store;
    let offer = "a9104793-9174-11eb-972c-38607706b20d#b1e2c3d4-9174-11eb-972c-38607706b20d";
    // Name from offers0_1.xml, price from prices0_1.xml, stock (12 + 0.5) from rests0_1.xml.
    assert_eq!(
        text(s, "SELECT name FROM offers WHERE id = $1", offer)
            .await
            .as_deref(),
        Some("Кофе Арабика Бразилия (250 г)")
    );
    assert_eq!(
        int(s, "SELECT price FROM offers WHERE id = $1", offer).await,
        Some(106_094)
    );
    assert_eq!(
        int(s, "SELECT stock_milli FROM offers WHERE id = $1", offer).await,
        Some(12_500)
    );
    // Marked-deleted rows never enter the catalog.
    assert_eq!(
        text(
            s,
            "SELECT name FROM products WHERE id = $1",
            "a9104794-9174-11eb-972c-38607706b20d"
        )
        .await,
        None
    );
    assert_eq!(
        text(
            s,
            "SELECT name FROM sections WHERE id = $1",
            "ec50ae28-916a-11eb-972c-38607706b20d"
        )
        .await,
        None
    );
    // Prices and stock for a product the package never defined: warned with file:line, skipped.
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("prices0_1.xml:")
                && w.contains("cbcf4968-55bc-11d9-848a-00112f43529a")),
        "{:?}",
        report.warnings
    );
    assert_eq!(
        text(
            s,
            "SELECT id FROM offers WHERE id = $1",
            "cbcf4968-55bc-11d9-848a-00112f43529a"
        )
        .await,
        None
    );
}

store_test!(split_files_2_10, backend: split_files_2_10);

async fn failed_import_keeps_the_served_catalog(backend: Backend) {
    let db = TestDb::new(backend).await;
    let media = tempfile::tempdir().unwrap();
    let good = package_2_04();
    Importer::new(&db.store, &config(media.path()))
        .import_paths(&[good.path().to_path_buf()], "test")
        .await
        .unwrap();

    // The next package changes a price, then its offers.xml breaks off mid-file.
    let bad = package_2_04();
    let offers = std::fs::read_to_string(fixture("v2.04/offers.xml"))
        .unwrap()
        .replace("627.9", "1.00");
    let cut = offers.find("Женские ботфорты коричневые (39)").unwrap();
    std::fs::write(bad.path().join("offers.xml"), &offers[..cut]).unwrap();
    let err = Importer::new(&db.store, &config(media.path()))
        .import_paths(&[bad.path().to_path_buf()], "test")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ImportError::Read { .. }), "{message}");
    assert!(
        message.starts_with("offers.xml:"),
        "names file and line: {message}"
    );

    let s = &db.store;
    assert_eq!(
        vitrina::catalog::current_version(s).await.unwrap(),
        1,
        "no version published"
    );
    assert_eq!(
        int(s, "SELECT price FROM offers WHERE id = $1", LAMINATE).await,
        Some(62790),
        "old price still served"
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM offers").await,
        3
    );
}

store_test!(failed_import_keeps_the_served_catalog, backend: failed_import_keeps_the_served_catalog);

async fn changes_apply_on_top(backend: Backend) {
    let db = TestDb::new(backend).await;
    let media = tempfile::tempdir().unwrap();
    let s = &db.store;
    // A full catalog with products p1…p5 and offers, then the changes-only deletions package.
    let base = tempfile::tempdir().unwrap();
    let mut import = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.05"><Каталог СодержитТолькоИзменения="false"><Ид>c</Ид><Товары>"#,
    );
    for p in 1..=5 {
        import += &format!(
            "<Товар><Ид>3f2c1a00-0000-4000-8000-0000000000p{p}</Ид><Наименование>Товар {p}</Наименование></Товар>"
        );
    }
    import += "</Товары></Каталог></КоммерческаяИнформация>";
    std::fs::write(base.path().join("import.xml"), import).unwrap();
    let mut offers = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.05"><ПакетПредложений><Ид>c#</Ид><ТипыЦен><ТипЦены><Ид>3f2c1a00-0000-4000-8000-0000000000t1</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>"#,
    );
    for id in [
        "p2#3f2c1a00-0000-4000-8000-0000000000o1",
        "p2#3f2c1a00-0000-4000-8000-0000000000o2",
        "p3",
        "p5",
    ] {
        offers += &format!(
            "<Предложение><Ид>3f2c1a00-0000-4000-8000-0000000000{id}</Ид><Наименование>о</Наименование><Цены><Цена><ИдТипаЦены>3f2c1a00-0000-4000-8000-0000000000t1</ИдТипаЦены><ЦенаЗаЕдиницу>10</ЦенаЗаЕдиницу></Цена></Цены><Количество>1</Количество></Предложение>"
        );
    }
    offers += "</Предложения></ПакетПредложений></КоммерческаяИнформация>";
    std::fs::write(base.path().join("offers.xml"), offers).unwrap();
    Importer::new(s, &config(media.path()))
        .import_paths(&[base.path().to_path_buf()], "test")
        .await
        .unwrap();
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await,
        5
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM offers").await,
        4
    );

    let changes = package(&[
        ("deletions/import.xml", "import.xml"),
        ("deletions/offers.xml", "offers.xml"),
    ]);
    let report = Importer::new(s, &config(media.path()))
        .import_paths(&[changes.path().to_path_buf()], "test")
        .await
        .unwrap();
    assert_eq!(report.kind, "changes");
    // p1…p4 deleted in the changes package; p5 changed; nothing else touched.
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await,
        1
    );
    assert_eq!(
        text(
            s,
            "SELECT name FROM products WHERE id = $1",
            "3f2c1a00-0000-4000-8000-0000000000p5"
        )
        .await
        .as_deref(),
        Some("Изменённый товар")
    );
    assert_eq!(
        int(
            s,
            "SELECT price FROM offers WHERE id = $1",
            "3f2c1a00-0000-4000-8000-0000000000p5"
        )
        .await,
        Some(9990)
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM offers").await,
        1
    );
}

store_test!(changes_apply_on_top, backend: changes_apply_on_top);

#[tokio::test]
async fn windows_1251_and_bad_input() {
    let db = TestDb::new(Backend::Sqlite).await;
    let media = tempfile::tempdir().unwrap();
    let importer = Importer::new(&db.store, &config(media.path()));
    let report = importer
        .import_paths(&[fixture("encoding/import-windows-1251.xml")], "test")
        .await
        .unwrap();
    assert!(report.products > 0);
    let name: String = sqlx::query("SELECT name FROM products LIMIT 1")
        .fetch_one(db.store.pool())
        .await
        .unwrap()
        .get(0);
    assert!(
        name.chars()
            .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap())),
        "decoded: {name}"
    );

    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 2] = [
        (
            "billion.xml",
            "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><КоммерческаяИнформация ВерсияСхемы=\"2.04\"><Каталог><Товары><Товар><Ид>x</Ид><Наименование>&lol2;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>",
            "billion.xml:",
        ),
        ("garbage.xml", "this is not xml", "garbage.xml:"),
    ];
    for (name, body, prefix) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let err = importer
            .import_paths(&[path], "test")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(prefix), "{name}: {err}");
    }
    // A declared encoding that does not match the bytes.
    let path = dir.path().join("mismatch.xml");
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><\xca\xee\xec\xec\xe5\xf0\xf7\xe5\xf1\xea\xe0\xff/>".to_vec();
    bytes.push(b'\n');
    std::fs::write(&path, bytes).unwrap();
    let err = importer
        .import_paths(&[path], "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("mismatch.xml:"), "{err}");
    assert_eq!(
        vitrina::catalog::current_version(&db.store).await.unwrap(),
        1,
        "only the good import published"
    );
}

#[tokio::test]
async fn warnings_name_file_and_line() {
    let db = TestDb::new(Backend::Sqlite).await;
    let media = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("import.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\n<Каталог><Ид>c</Ид><Товары>\n\
         <Товар><Ид>a</Ид><Наименование>Первый</Наименование></Товар>\n\
         <Товар><Ид>a</Ид><Наименование>Первый, исправленный</Наименование><Картинка>import_files/missing.jpg</Картинка></Товар>\n\
         </Товары></Каталог></КоммерческаяИнформация>\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("offers.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\n<ПакетПредложений><Ид>c#</Ид>\n\
         <ТипыЦен><ТипЦены><Ид>retail</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>\n\
         <Предложение><Ид>a</Ид><Цены><Цена><ИдТипаЦены>ghost</ИдТипаЦены><ЦенаЗаЕдиницу>5</ЦенаЗаЕдиницу></Цена>\
         <Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>10.5</ЦенаЗаЕдиницу></Цена></Цены><Количество>1</Количество></Предложение>\n\
         <Предложение><Ид>nobody#1</Ид><Цены><Цена><ИдТипаЦены>retail</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены></Предложение>\n\
         </Предложения></ПакетПредложений></КоммерческаяИнформация>\n",
    )
    .unwrap();
    let report = Importer::new(&db.store, &config(media.path()))
        .import_paths(&[dir.path().to_path_buf()], "test")
        .await
        .unwrap();
    let has = |prefix: &str, needle: &str| {
        report
            .warnings
            .iter()
            .any(|w| w.starts_with(prefix) && w.contains(needle))
    };
    assert!(
        has("import.xml:5", "appears twice"),
        "{:?}",
        report.warnings
    );
    assert!(
        has("import.xml:5", "picture skipped"),
        "{:?}",
        report.warnings
    );
    assert!(
        has("offers.xml:5", "price type ghost"),
        "{:?}",
        report.warnings
    );
    assert!(
        has("offers.xml:6", "unknown product nobody"),
        "{:?}",
        report.warnings
    );
    assert_eq!(report.warnings_total, 4);
    // Nothing lost: the last version of the product, the retail price, the unknown type stored.
    let s = &db.store;
    assert_eq!(
        text(s, "SELECT name FROM products WHERE id = $1", "a")
            .await
            .as_deref(),
        Some("Первый, исправленный")
    );
    assert_eq!(
        int(s, "SELECT price FROM offers WHERE id = $1", "a").await,
        Some(1050)
    );
    assert_eq!(
        int(
            s,
            "SELECT amount FROM offer_prices WHERE offer_id = $1 AND price_type_id = 'ghost'",
            "a"
        )
        .await,
        Some(500)
    );
}

/// Every offers fixture (2.03 … 2.08 and the real 2014 export) imports completely once its
/// products exist: each offer the reader sees lands with its retail price and stock.
async fn every_offers_fixture_imports(backend: Backend) {
    use commerceml::{Item, Reader};
    let files = [
        "v2.03/offers.xml",
        "v2.04/offers.xml",
        "v2.05/offers.xml",
        "v2.06/offers.xml",
        "v2.07/offers0_1.xml",
        "v2.08/offers.xml",
        "real/1c-2014-offers-2.04.xml",
    ];
    for rel in files {
        let db = TestDb::new(backend).await;
        let media = tempfile::tempdir().unwrap();
        // What the reader sees in the file: the expected catalog.
        let mut expected = Vec::new();
        let mut retail_types = Vec::new();
        for item in Reader::from_path(fixture(rel)).unwrap() {
            match item.unwrap() {
                Item::PriceType(t)
                    if t.name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains("розн")) =>
                {
                    retail_types.push(t.id)
                }
                Item::Offer(o) if !o.deleted => expected.push(o),
                _ => {}
            }
        }
        assert!(!expected.is_empty(), "{rel}");
        // Its products, as an import.xml would carry them.
        let dir = tempfile::tempdir().unwrap();
        let mut import = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.04\"><Каталог><Ид>c</Ид><Товары>",
        );
        let mut seen = std::collections::HashSet::new();
        for o in &expected {
            if seen.insert(o.product_id.clone()) {
                let id = o.product_id.replace('&', "&amp;").replace('<', "&lt;");
                import += &format!("<Товар><Ид>{id}</Ид><Наименование>{id}</Наименование></Товар>");
            }
        }
        import += "</Товары></Каталог></КоммерческаяИнформация>";
        std::fs::write(dir.path().join("import.xml"), import).unwrap();
        std::fs::copy(fixture(rel), dir.path().join("offers.xml")).unwrap();
        let report = Importer::new(&db.store, &config(media.path()))
            .import_paths(&[dir.path().to_path_buf()], "test")
            .await
            .unwrap();
        assert_eq!(
            report.offers as usize,
            expected.len(),
            "{rel}: {:?}",
            report.warnings
        );
        let rows = scalar(&db.store, "SELECT CAST(COUNT(*) AS BIGINT) FROM offers").await;
        let distinct: std::collections::HashSet<&str> =
            expected.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(rows as usize, distinct.len(), "{rel}");
        let (mut stocks, mut prices) = (0, 0);
        for o in expected.iter().take(50) {
            let stock = o.quantity.as_ref().map(|q| {
                let (m, s) = (q.mantissa(), q.scale());
                if s <= 3 {
                    m * 10i64.pow(3 - s)
                } else {
                    m / 10i64.pow(s - 3)
                }
            });
            if let Some(stock) = stock {
                stocks += 1;
                assert_eq!(
                    int(
                        &db.store,
                        "SELECT stock_milli FROM offers WHERE id = $1",
                        &o.id
                    )
                    .await,
                    Some(stock),
                    "{rel} {}",
                    o.id
                );
            }
            let retail = o
                .prices
                .iter()
                .flatten()
                .find(|p| retail_types.contains(&p.price_type_id));
            if let Some(price) = retail.and_then(|p| p.minor_units(2)) {
                prices += 1;
                assert_eq!(
                    int(&db.store, "SELECT price FROM offers WHERE id = $1", &o.id).await,
                    Some(price),
                    "{rel} {}",
                    o.id
                );
            }
        }
        // The checks above ran, not just compiled: every file states stock, and every file
        // with a retail price type (all but two, whose types are wholesale only) had its
        // prices compared.
        assert!(stocks > 0, "{rel}: no offer's stock was compared");
        let wholesale_only = matches!(rel, "v2.03/offers.xml" | "v2.08/offers.xml");
        assert_eq!(retail_types.is_empty(), wholesale_only, "{rel}");
        assert!(
            wholesale_only || prices > 0,
            "{rel}: no offer's retail price was compared"
        );
    }
}

store_test!(every_offers_fixture_imports, backend: every_offers_fixture_imports);

/// A package of one product in one import.xml; `body` goes inside its `Товар`, written by
/// `fill` in pieces so a 100 MB element never sits in the test's memory either.
fn one_product(dir: &Path, fill: impl FnOnce(&mut dyn std::io::Write)) -> PathBuf {
    use std::io::Write;
    let path = dir.join("import.xml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\n\
         <Каталог СодержитТолькоИзменения=\"true\"><Ид>c</Ид><Наименование>К</Наименование><Товары>\n\
         <Товар><Ид>huge</Ид><Наименование>Огромный</Наименование>\n"
            .as_bytes(),
    )
    .unwrap();
    fill(&mut f);
    f.write_all("\n</Товар></Товары></Каталог></КоммерческаяИнформация>\n".as_bytes())
        .unwrap();
    f.flush().unwrap();
    path
}

/// Bad input that would need unbounded memory: a 100 MB element, a million property values
/// on one product, elements nested 100 000 deep. Each is refused with file:line and what is
/// wrong, and the catalog imported before stays as it was.
async fn oversized_input_is_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let media = tempfile::tempdir().unwrap();
    let good = package_2_04();
    Importer::new(&db.store, &config(media.path()))
        .import_paths(&[good.path().to_path_buf()], "test")
        .await
        .unwrap();
    let products = scalar(&db.store, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await;
    assert!(products > 0);

    let dir = tempfile::tempdir().unwrap();
    type Fill = Box<dyn FnOnce(&mut dyn std::io::Write)>;
    let cases: [(&str, Fill, &str); 3] = [
        (
            "a 100 MB description",
            Box::new(|f| {
                f.write_all("<Описание>".as_bytes()).unwrap();
                let chunk = vec![b'x'; 1024 * 1024];
                for _ in 0..100 {
                    f.write_all(&chunk).unwrap();
                }
                f.write_all("</Описание>".as_bytes()).unwrap();
            }),
            "single XML element or text is longer than 16 MiB",
        ),
        (
            "a million property values",
            Box::new(|f| {
                f.write_all("<ЗначенияСвойств>".as_bytes()).unwrap();
                for i in 0..1_000_000 {
                    write!(
                        f,
                        "<ЗначенияСвойства><Ид>p{i}</Ид><Значение>v</Значение></ЗначенияСвойства>"
                    )
                    .unwrap();
                }
                f.write_all("</ЗначенияСвойств>".as_bytes()).unwrap();
            }),
            "item is larger than the limit",
        ),
        (
            "elements nested 100 000 deep",
            Box::new(|f| {
                for _ in 0..100_000 {
                    f.write_all(b"<a>").unwrap();
                }
                for _ in 0..100_000 {
                    f.write_all(b"</a>").unwrap();
                }
            }),
            "nested deeper than 256",
        ),
    ];
    for (what, fill, expected) in cases {
        let path = one_product(dir.path(), fill);
        let err = Importer::new(&db.store, &config(media.path()))
            .import_paths(&[path], "test")
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, ImportError::Read { .. }), "{what}: {message}");
        // `import.xml:<line>: …` where the line is that of the product (line 4) or inside it.
        let line: u64 = message
            .strip_prefix("import.xml:")
            .and_then(|rest| rest.split(':').next())
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("{what}: no file:line in {message}"));
        assert!((4..=5).contains(&line), "{what}: line {line} in {message}");
        assert!(message.contains(expected), "{what}: {message}");
    }

    let s = &db.store;
    assert_eq!(
        vitrina::catalog::current_version(s).await.unwrap(),
        1,
        "no version published"
    );
    assert_eq!(
        scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM products").await,
        products,
        "the previous catalog is still there"
    );
    assert_eq!(
        int(s, "SELECT price FROM offers WHERE id = $1", LAMINATE).await,
        Some(62790)
    );
}

store_test!(oversized_input_is_refused, backend: oversized_input_is_refused);

//! Deletions and partial updates (СодержитТолькоИзменения="true").

mod common;

use common::*;

#[test]
fn catalog_deletion_forms() {
    let (items, _) = read_fixture("deletions/import.xml");
    let docs = documents(&items);
    assert!(!docs[0].only_changes, "the classifier has no attribute");
    assert!(docs[1].only_changes, "a partial catalog");

    let g = groups(&items);
    assert!(!g[0].deleted);
    assert!(g[1].deleted, "Группа Статус=\"Удален\"");

    let deleted: Vec<(&str, bool, Option<&str>)> = products(&items)
        .iter()
        .map(|p| (p.name.as_deref().unwrap(), p.deleted, p.status.as_deref()))
        .collect();
    assert_eq!(
        deleted,
        [
            ("Удалён атрибутом", true, Some("Удален")),
            ("Удалён элементом Статус", true, Some("Удален")),
            ("Помечен на удаление (Да)", true, None),
            ("Помечен на удаление (true)", true, None),
            ("Изменённый товар", false, Some("Изменен")),
        ]
    );
}

#[test]
fn offer_deletion_forms_in_partial_package() {
    let (items, _) = read_fixture("deletions/offers.xml");
    assert!(documents(&items)[0].only_changes);
    let all = offers(&items);
    assert_eq!(all.len(), 4);
    assert_eq!(
        all.iter().map(|o| o.deleted).collect::<Vec<_>>(),
        [true, true, true, false]
    );
    assert_eq!(
        all[0].variant_id.as_deref(),
        Some("3f2c1a00-0000-4000-8000-0000000000o1")
    );
    assert_eq!(all[2].variant_id, None);
    // The changed offer carries only what changed.
    let changed = all[3];
    assert_eq!(
        changed.prices.as_ref().unwrap()[0].minor_units(2),
        Some(9990)
    );
    assert_eq!(changed.quantity, None);
    assert_eq!(changed.stock, None);
}

#[test]
fn bad_deletion_mark_is_an_error() {
    let xml = r#"<КоммерческаяИнформация ВерсияСхемы="2.10"><Каталог><Товары>
<Товар><Ид>x</Ид><ПометкаУдаления>может быть</ПометкаУдаления></Товар>
</Товары></Каталог></КоммерческаяИнформация>"#;
    let err = read_str(xml).unwrap_err();
    assert_eq!(err.line(), 2);
    assert_eq!(
        err.path(),
        Some("КоммерческаяИнформация/Каталог/Товары/Товар[Ид=x]/ПометкаУдаления")
    );
    assert!(err.to_string().contains("может быть"), "{err}");
}

use super::*;

fn parse(raw: &str) -> Result<ListParams, QueryError> {
    ListParams::parse(Some(raw))
}

#[test]
fn no_query_is_the_default_list() {
    let p = ListParams::parse(None).unwrap();
    assert_eq!(p, ListParams::default());
    assert_eq!(p.limit, DEFAULT_LIMIT);
    assert_eq!(parse("").unwrap(), p);
}

#[test]
fn every_parameter_parses_into_its_type() {
    let p = parse(
        "section=s1&q=%20plinth%20&sort=price_desc&price_min=100&price_max=900\
         &in_stock=1&limit=100&f%5Bcolor%5D=red&f[size]=M&_=123",
    )
    .unwrap();
    assert_eq!(p.section.as_deref(), Some("s1"));
    assert_eq!(p.q.as_deref(), Some("plinth"));
    assert_eq!(p.sort, Some(SortKey::PriceDesc));
    assert!(!p.relevance);
    assert_eq!((p.price_min, p.price_max), (Some(100), Some(900)));
    assert!(p.in_stock);
    assert_eq!(p.limit, MAX_LIMIT);
    assert_eq!(
        p.properties().collect::<Vec<_>>(),
        [("color", "red"), ("size", "M")]
    );
}

#[test]
fn empty_values_count_as_absent_and_the_last_value_wins() {
    let p = parse("section=&sort=&cursor=&q=a&q=&in_stock=true&in_stock=").unwrap();
    assert_eq!(p.section, None);
    assert_eq!(p.sort, None);
    assert_eq!(p.cursor, None);
    assert_eq!(p.q, None);
    assert!(!p.in_stock);
    let p = parse("sort=name&sort=relevance").unwrap();
    assert_eq!(p.sort, Some(SortKey::Name));
    assert!(p.relevance, "relevance is remembered apart from the sort");
}

#[test]
fn invalid_values_name_their_parameter() {
    for (raw, error, field) in [
        ("sort=cheap", QueryError::Sort, "sort"),
        (
            "price_min=-1",
            QueryError::Price { field: "price_min" },
            "price_min",
        ),
        (
            "price_max=1.5",
            QueryError::Price { field: "price_max" },
            "price_max",
        ),
        (
            "price_min=10&price_max=9",
            QueryError::PriceRange,
            "price_min",
        ),
        ("in_stock=yes", QueryError::InStock, "in_stock"),
        ("limit=0", QueryError::Limit, "limit"),
        ("limit=101", QueryError::Limit, "limit"),
        ("limit=", QueryError::Limit, "limit"),
        ("cursor=!!", QueryError::Cursor, "cursor"),
        ("page=2", QueryError::Unknown { key: "page".into() }, "page"),
    ] {
        let e = parse(raw).expect_err(raw);
        assert_eq!(e, error, "{raw}");
        assert_eq!(e.field(), field, "{raw}");
    }
    assert_eq!(QueryError::Limit.to_string(), "expected 1 to 100");
}

#[test]
fn the_first_invalid_parameter_is_the_error() {
    assert_eq!(parse("limit=0&sort=cheap"), Err(QueryError::Limit));
    assert_eq!(parse("sort=cheap&limit=0"), Err(QueryError::Sort));
}

#[test]
fn a_cursor_round_trips() {
    let cursor = Cursor {
        s: "name".into(),
        id: "p-7".into(),
        p: 0,
        n: 0,
        name: "плинтус".into(),
        o: 0,
    };
    let text = cursor.encode();
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "URL-safe without padding: {text}"
    );
    assert_eq!(Cursor::decode(&text), Ok(cursor.clone()));
    let p = parse(&format!("cursor={text}")).unwrap();
    assert_eq!(p.cursor, Some(cursor));
    let relevance = Cursor::relevance(40);
    assert_eq!(Cursor::decode(&relevance.encode()), Ok(relevance));
}

#[test]
fn a_foreign_cursor_is_refused() {
    // Valid base64, but not our JSON.
    let not_json = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"hello");
    let wrong_shape = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"s":"name"}"#);
    for text in [not_json.as_str(), wrong_shape.as_str(), "%%%", "eyJzIjoi"] {
        assert_eq!(Cursor::decode(text), Err(QueryError::Cursor), "{text}");
    }
}

#[test]
fn unknown_section_and_property_are_errors_in_the_order_given() {
    let empty = Snapshot::empty();
    let e = parse("section=nope").unwrap().resolve(&empty).unwrap_err();
    assert_eq!(
        (e.clone(), e.field()),
        (QueryError::UnknownSection, "section")
    );
    let e = parse("f[color]=red&section=nope")
        .unwrap()
        .resolve(&empty)
        .unwrap_err();
    assert_eq!(e.field(), "f[color]");
    assert_eq!(e.to_string(), "no such property");
    let q = parse("q=x&limit=5").unwrap().resolve(&empty).unwrap();
    assert_eq!((q.section, q.properties.len()), (None, 0));
}

#[test]
fn a_cursor_of_another_sort_is_refused() {
    let empty = Snapshot::empty();
    let cursor = Cursor::after_parts("name", "p-1");
    let q = parse(&format!("sort=price_asc&cursor={}", cursor.encode()))
        .unwrap()
        .resolve(&empty)
        .unwrap();
    assert_eq!(run(&empty, &q).unwrap_err(), QueryError::CursorSort);
    let q = parse(&format!("sort=name&cursor={}", cursor.encode()))
        .unwrap()
        .resolve(&empty)
        .unwrap();
    let page = run(&empty, &q).unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
    assert!(
        page.facets.is_none(),
        "facets come with the first page only"
    );
}

#[test]
fn the_first_page_of_an_empty_catalog() {
    let empty = Snapshot::empty();
    let q = ListParams::parse(None).unwrap().resolve(&empty).unwrap();
    let page = run(&empty, &q).unwrap();
    assert_eq!(page.total, 0);
    assert_eq!(page.facets, Some(Vec::new()));
    assert_eq!(page.price_range, None);
}

impl Cursor {
    fn after_parts(sort: &str, id: &str) -> Self {
        Cursor {
            s: sort.into(),
            id: id.into(),
            p: 0,
            n: 0,
            name: String::new(),
            o: 0,
        }
    }
}

//! The catalog's query language: what a product list may ask for (section, search text, sort,
//! price range, stock, property filters `f[<id>]`, cursor, page size).
//!
//! Three steps, none of them aware of HTTP: [`ListParams::parse`] turns the raw query string
//! into typed parameters (the same type describes them in the OpenAPI document, so the two
//! cannot drift), [`ListParams::resolve`] looks the section and property ids up in one
//! snapshot, and [`run`] walks that snapshot into a [`Page`]. The HTTP edge maps
//! [`QueryError`] to problem+json and the page to its JSON views.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::snapshot::{Product, Snapshot, SortKey};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// A product list request that cannot be answered. `field` names the query parameter; the
/// message (Display) says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("no such section")]
    UnknownSection,
    #[error("no such property")]
    UnknownProperty {
        /// The whole key, `f[<id>]`.
        key: String,
    },
    #[error("expected popular, price_asc, price_desc, new, name or relevance")]
    Sort,
    #[error("expected a non-negative whole number of minor units (kopecks)")]
    Price { field: &'static str },
    #[error("greater than price_max")]
    PriceRange,
    #[error("expected true or false")]
    InStock,
    #[error("not a cursor from this API")]
    Cursor,
    #[error("the cursor belongs to another sort order")]
    CursorSort,
    #[error("expected 1 to {MAX_LIMIT}")]
    Limit,
    #[error("unknown parameter")]
    Unknown { key: String },
}

impl QueryError {
    /// The query parameter the error is about.
    pub fn field(&self) -> &str {
        match self {
            QueryError::UnknownSection => "section",
            QueryError::UnknownProperty { key } | QueryError::Unknown { key } => key,
            QueryError::Sort => "sort",
            QueryError::Price { field } => field,
            QueryError::PriceRange => "price_min",
            QueryError::InStock => "in_stock",
            QueryError::Cursor | QueryError::CursorSort => "cursor",
            QueryError::Limit => "limit",
        }
    }
}

/// The product list's query parameters, parsed. Property filters `f[<id>]=<value>` are dynamic,
/// so the OpenAPI document lists only the fixed parameters.
#[derive(Debug, Clone, PartialEq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Section id; products of its subsections are included.
    pub section: Option<String>,
    /// Search text: word forms, typos and a wrong keyboard layout are forgiven.
    pub q: Option<String>,
    /// `popular` (default), `price_asc`, `price_desc`, `new`, `name`; with `q`, by relevance unless given.
    #[param(
        value_type = Option<String>,
        pattern = "^(popular|price_asc|price_desc|new|name|relevance)?$"
    )]
    pub sort: Option<SortKey>,
    /// `sort=relevance` was asked for. Kept apart from `sort`: with a query, relevance wins
    /// even when another sort is also given.
    #[param(ignore)]
    pub relevance: bool,
    /// Minor units (kopecks).
    #[param(minimum = 0)]
    pub price_min: Option<i64>,
    #[param(minimum = 0)]
    pub price_max: Option<i64>,
    /// Only products with a variant in stock.
    #[param(value_type = Option<bool>)]
    pub in_stock: bool,
    /// From the previous page's `next_cursor`.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: usize,
    /// Sections and property filters in the order given, to be looked up in a snapshot: the
    /// first unknown one is the error, as it would be read left to right.
    #[param(ignore)]
    lookups: Vec<Lookup>,
}

#[derive(Debug, Clone, PartialEq)]
enum Lookup {
    Section(String),
    Property {
        key: String,
        id: String,
        value: String,
    },
}

impl Default for ListParams {
    fn default() -> Self {
        Self {
            section: None,
            q: None,
            sort: None,
            relevance: false,
            price_min: None,
            price_max: None,
            in_stock: false,
            cursor: None,
            limit: DEFAULT_LIMIT,
            lookups: Vec::new(),
        }
    }
}

impl ListParams {
    /// Parses a raw query string (`None`: no query). A parameter given twice takes its last
    /// value; empty `section`, `sort` and `cursor` count as absent; `_` (the usual
    /// cache-busting parameter) is ignored and any other unknown key is an error.
    pub fn parse(raw: Option<&str>) -> Result<Self, QueryError> {
        let mut params = ListParams::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                "section" if !value.is_empty() => {
                    params.section = Some(value.to_string());
                    params.lookups.push(Lookup::Section(value.to_string()));
                }
                "q" => params.q = Some(value.to_string()).filter(|q| !q.is_empty()),
                "sort" if !value.is_empty() => {
                    if value == "relevance" {
                        params.relevance = true;
                    } else {
                        params.sort = Some(SortKey::parse(value).ok_or(QueryError::Sort)?);
                    }
                }
                "price_min" | "price_max" => {
                    let is_min = key == "price_min";
                    let field = if is_min { "price_min" } else { "price_max" };
                    let n: i64 = value
                        .parse()
                        .ok()
                        .filter(|n| *n >= 0)
                        .ok_or(QueryError::Price { field })?;
                    if is_min {
                        params.price_min = Some(n)
                    } else {
                        params.price_max = Some(n)
                    }
                }
                "in_stock" => {
                    params.in_stock = match value {
                        "true" | "1" => true,
                        "false" | "0" | "" => false,
                        _ => return Err(QueryError::InStock),
                    }
                }
                "cursor" if !value.is_empty() => params.cursor = Some(Cursor::decode(value)?),
                "limit" => {
                    params.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or(QueryError::Limit)?;
                }
                k if k.starts_with("f[") && k.ends_with(']') => {
                    params.lookups.push(Lookup::Property {
                        key: k.to_string(),
                        id: k[2..k.len() - 1].to_string(),
                        value: value.to_string(),
                    });
                }
                "section" | "sort" | "cursor" | "_" => {}
                other => {
                    return Err(QueryError::Unknown {
                        key: other.to_string(),
                    });
                }
            }
        }
        if let (Some(min), Some(max)) = (params.price_min, params.price_max)
            && min > max
        {
            return Err(QueryError::PriceRange);
        }
        Ok(params)
    }

    /// The property filters as given: `(property id, value)`.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lookups.iter().filter_map(|l| match l {
            Lookup::Property { id, value, .. } => Some((id.as_str(), value.as_str())),
            Lookup::Section(_) => None,
        })
    }

    /// Looks the section and the property filters up in `snapshot`. An unknown section or
    /// property is an error; an unknown value of a known property is not (nobody has it, so
    /// the filter matches nothing).
    pub fn resolve(self, snapshot: &Snapshot) -> Result<Query, QueryError> {
        let mut section = None;
        let mut props: HashMap<u32, Vec<u32>> = HashMap::new();
        for lookup in &self.lookups {
            match lookup {
                Lookup::Section(id) => {
                    section = Some(snapshot.section(id).ok_or(QueryError::UnknownSection)?);
                }
                Lookup::Property { key, id, value } => {
                    let pi = snapshot
                        .property(id)
                        .ok_or_else(|| QueryError::UnknownProperty { key: key.clone() })?;
                    let entry = props.entry(pi).or_default();
                    if let Some(v) = snapshot.properties[pi as usize].value(value) {
                        entry.push(v);
                    }
                }
            }
        }
        let mut properties: Vec<(u32, Vec<u32>)> = props.into_iter().collect();
        properties.sort_unstable_by_key(|(p, _)| *p);
        Ok(Query {
            section,
            properties,
            params: self,
        })
    }
}

/// A list request resolved against one snapshot (indexes valid in that snapshot only).
#[derive(Debug)]
pub struct Query {
    pub params: ListParams,
    pub section: Option<u32>,
    /// (property index, accepted value indexes); an empty list matches nothing.
    pub properties: Vec<(u32, Vec<u32>)>,
}

impl Query {
    pub fn matches(&self, p: &Product) -> bool {
        if let Some(s) = self.section
            && !p.section_path.contains(&s)
        {
            return false;
        }
        if self.params.in_stock && !p.in_stock {
            return false;
        }
        if !self.price_matches(p) {
            return false;
        }
        self.properties
            .iter()
            .all(|(prop, wanted)| has_any(p, *prop, wanted))
    }

    fn price_matches(&self, p: &Product) -> bool {
        !(self.params.price_min.is_some_and(|min| p.max_price < min)
            || self.params.price_max.is_some_and(|max| p.min_price > max))
    }

    /// Every product of the section (or the catalog) is counted without looking at it.
    fn unfiltered(&self) -> bool {
        self.properties.is_empty()
            && !self.params.in_stock
            && self.params.price_min.is_none()
            && self.params.price_max.is_none()
    }
}

fn has_any(p: &Product, prop: u32, wanted: &[u32]) -> bool {
    p.facet_values
        .iter()
        .any(|(pp, vs)| *pp == prop && vs.iter().any(|v| wanted.contains(v)))
}

/// Where a list stopped. The wire form (base64url of this JSON) is opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Sort the cursor belongs to.
    s: String,
    /// Keyset position: the last item's sort values (they may change in a new catalog
    /// version; paging resumes after them, with neither repeats nor gaps for unchanged items).
    id: String,
    #[serde(default)]
    p: i64,
    #[serde(default)]
    n: i64,
    #[serde(default)]
    name: String,
    /// Search results page by offset.
    #[serde(default)]
    o: usize,
}

impl Cursor {
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Result<Self, QueryError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| QueryError::Cursor)?;
        serde_json::from_slice(&bytes).map_err(|_| QueryError::Cursor)
    }

    fn relevance(offset: usize) -> Self {
        Cursor {
            s: "relevance".into(),
            id: String::new(),
            p: 0,
            n: 0,
            name: String::new(),
            o: offset,
        }
    }

    /// The cursor after product `p` in `sort` order.
    fn after(p: &Product, sort: SortKey) -> Self {
        let (price, number) = match sort {
            SortKey::Popular => (0, p.popularity),
            SortKey::New => (0, p.created_at),
            _ => (p.min_price, 0),
        };
        Cursor {
            s: sort.as_str().into(),
            id: p.id.clone(),
            p: price,
            n: number,
            name: if sort == SortKey::Name {
                p.name_key.clone()
            } else {
                String::new()
            },
            o: 0,
        }
    }

    /// Where product `p` sits against the cursor's item in `sort` order.
    fn compare(&self, p: &Product, sort: SortKey) -> Ordering {
        let primary = match sort {
            SortKey::Popular => self.n.cmp(&p.popularity),
            SortKey::PriceAsc => p.min_price.cmp(&self.p),
            SortKey::PriceDesc => self.p.cmp(&p.min_price),
            SortKey::New => self.n.cmp(&p.created_at),
            SortKey::Name => p.name_key.as_str().cmp(self.name.as_str()),
        };
        primary.then_with(|| p.id.as_str().cmp(self.id.as_str()))
    }
}

/// One page of a product list, as product indexes into the snapshot.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<u32>,
    pub next_cursor: Option<Cursor>,
    /// All products matching the filters.
    pub total: usize,
    /// First page only: for each filterable property with a match, its value counts.
    pub facets: Option<Vec<FacetCounts>>,
    /// First page only: (min, max) price of the products matching every filter but price.
    pub price_range: Option<(i64, i64)>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct FacetCounts {
    pub property: u32,
    /// (value index, products), most products first, then by value.
    pub values: Vec<(u32, u32)>,
}

/// Runs a resolved query: the page, the total, and on the first page the facets.
pub fn run(snapshot: &Snapshot, query: &Query) -> Result<Page, QueryError> {
    let params = &query.params;
    // One search per request: the page and the facets share its hits.
    let hits: Option<Vec<u32>> = params.q.as_ref().map(|q| search_hits(snapshot, q));
    let (items, next_cursor, total) = match (&hits, params.sort) {
        (Some(hits), sort) if params.relevance || sort.is_none() => {
            search_page(snapshot, query, hits)
        }
        (hits, sort) => {
            let sort = sort.unwrap_or(SortKey::Popular);
            let set: Option<HashSet<u32>> = hits.as_ref().map(|h| h.iter().copied().collect());
            sorted_page(snapshot, query, sort, set.as_ref())?
        }
    };
    let (facets, price_range) = if params.cursor.is_none() {
        let (facets, range) = facets(snapshot, query, hits.as_deref());
        (Some(facets), range)
    } else {
        (None, None)
    };
    Ok(Page {
        items,
        next_cursor,
        total,
        facets,
        price_range,
    })
}

/// Product indexes matching `q`, best first.
pub fn search_hits(snapshot: &Snapshot, q: &str) -> Vec<u32> {
    let mut hits = snapshot.search.search(q, 1000, false);
    if hits.is_empty() {
        // A word cut short ("плин") is still worth an answer when nothing matches whole words.
        hits = snapshot.search.search(q, 1000, true);
    }
    hits.into_iter().map(|hit| hit.doc).collect()
}

/// Search results keep their relevance order, so they page by offset.
fn search_page(
    snapshot: &Snapshot,
    query: &Query,
    hits: &[u32],
) -> (Vec<u32>, Option<Cursor>, usize) {
    let matched: Vec<u32> = hits
        .iter()
        .copied()
        .filter(|&i| query.matches(&snapshot.products[i as usize]))
        .collect();
    let offset = query
        .params
        .cursor
        .as_ref()
        .filter(|c| c.s == "relevance")
        .map_or(0, |c| c.o);
    let page: Vec<u32> = matched
        .iter()
        .skip(offset)
        .take(query.params.limit)
        .copied()
        .collect();
    let end = offset + page.len();
    let next = (end < matched.len()).then(|| Cursor::relevance(end));
    (page, next, matched.len())
}

/// A presorted order walked from the cursor's position, keeping matches until `limit + 1`.
fn sorted_page(
    snapshot: &Snapshot,
    query: &Query,
    sort: SortKey,
    hits: Option<&HashSet<u32>>,
) -> Result<(Vec<u32>, Option<Cursor>, usize), QueryError> {
    let limit = query.params.limit;
    let order = snapshot.order(sort);
    let start = match &query.params.cursor {
        None => 0,
        Some(c) if c.s == sort.as_str() => order.partition_point(|&i| {
            c.compare(&snapshot.products[i as usize], sort) != Ordering::Greater
        }),
        Some(_) => return Err(QueryError::CursorSort),
    };
    let accept = |i: u32| {
        hits.is_none_or(|h| h.contains(&i)) && query.matches(&snapshot.products[i as usize])
    };
    let total = match (hits.is_none() && query.unfiltered(), query.section) {
        (true, Some(s)) => snapshot.sections[s as usize].product_count as usize,
        (true, None) => order.len(),
        _ => candidates(snapshot, query).filter(|&i| accept(i)).count(),
    };
    let mut page = Vec::with_capacity(limit + 1);
    for &i in &order[start.min(order.len())..] {
        if accept(i) {
            page.push(i);
            if page.len() > limit {
                break;
            }
        }
    }
    let more = page.len() > limit;
    page.truncate(limit);
    let next = if more {
        page.last()
            .map(|&i| Cursor::after(&snapshot.products[i as usize], sort))
    } else {
        None
    };
    Ok((page, next, total))
}

/// The products a filter can match: a section's own list, or all.
fn candidates<'a>(snapshot: &'a Snapshot, query: &Query) -> Box<dyn Iterator<Item = u32> + 'a> {
    match query.section {
        Some(s) => Box::new(snapshot.sections[s as usize].products.iter().copied()),
        None => Box::new(0..snapshot.products.len() as u32),
    }
}

/// The products to consider: the search hits in the section when there is a query (a few
/// hundred), else the whole section.
fn candidates_among<'a>(
    snapshot: &'a Snapshot,
    query: &Query,
    hits: Option<&'a [u32]>,
) -> Box<dyn Iterator<Item = u32> + 'a> {
    match (hits, query.section) {
        (Some(hits), Some(s)) => Box::new(
            hits.iter()
                .copied()
                .filter(move |&i| snapshot.products[i as usize].section_path.contains(&s)),
        ),
        (Some(hits), None) => Box::new(hits.iter().copied()),
        (None, _) => candidates(snapshot, query),
    }
}

/// For each filterable property, the values among products matching every other filter.
/// One pass: a product failing no property filter counts for every facet, one failing exactly
/// one counts only for that property's facet, one failing more counts for none.
fn facets(
    snapshot: &Snapshot,
    query: &Query,
    hits: Option<&[u32]>,
) -> (Vec<FacetCounts>, Option<(i64, i64)>) {
    // Dense counters per property value (values are small indexes): no hashing in the loop
    // that runs once per matching product.
    let mut counts: Vec<Vec<u32>> = snapshot
        .properties
        .iter()
        .map(|prop| {
            if prop.filterable {
                vec![0; prop.values.len()]
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut range: Option<(i64, i64)> = None;
    for i in candidates_among(snapshot, query, hits) {
        let p = &snapshot.products[i as usize];
        if query.params.in_stock && !p.in_stock {
            continue;
        }
        let mut misses = 0;
        let mut missed = None;
        for (prop, wanted) in &query.properties {
            if !has_any(p, *prop, wanted) {
                misses += 1;
                missed = Some(*prop);
                if misses > 1 {
                    break;
                }
            }
        }
        if misses > 1 {
            continue;
        }
        if misses == 0 {
            range = Some(match range {
                None => (p.min_price, p.max_price),
                Some((lo, hi)) => (lo.min(p.min_price), hi.max(p.max_price)),
            });
        }
        if !query.price_matches(p) {
            continue;
        }
        for (prop, values) in &p.facet_values {
            if !snapshot.properties[*prop as usize].filterable || missed.is_some_and(|m| m != *prop)
            {
                continue;
            }
            let counts = &mut counts[*prop as usize];
            for &v in values {
                if let Some(c) = counts.get_mut(v as usize) {
                    *c += 1;
                }
            }
        }
    }
    let facets = snapshot
        .properties
        .iter()
        .zip(counts)
        .enumerate()
        .filter(|(_, (prop, counts))| prop.filterable && counts.iter().any(|&c| c > 0))
        .map(|(pi, (prop, counts))| {
            let mut values: Vec<(u32, u32)> = counts
                .into_iter()
                .enumerate()
                .filter(|&(_, count)| count > 0)
                .map(|(v, count)| (v as u32, count))
                .collect();
            values.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| prop.values[a.0 as usize].cmp(&prop.values[b.0 as usize]))
            });
            FacetCounts {
                property: pi as u32,
                values,
            }
        })
        .collect();
    (facets, range)
}

#[cfg(test)]
mod tests {
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
        let wrong_shape =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"s":"name"}"#);
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
}

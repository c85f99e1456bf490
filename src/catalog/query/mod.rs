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

mod facets;

pub use self::facets::FacetCounts;
use self::facets::facets;
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

#[cfg(test)]
mod tests;

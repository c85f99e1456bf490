//! Catalog endpoints. They read the in-memory snapshot only; the catalog is public shop
//! information (as on the shop's website), so they need no sign-in and can be cached.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::snapshot::{Product, Snapshot, SortKey};
use crate::error::{ApiError, FieldError, Problem};
use crate::money::Money;
use crate::state::AppState;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
pub(crate) const CACHE_CONTROL: &str = "public, max-age=60";
/// Thumbnail in lists, large picture in the product card.
pub const THUMB: &str = "320x320";
pub const LARGE: &str = "1080x1080";

pub fn image_url(hash: &str, size: &str) -> String {
    format!("/images/{hash}/{size}.jpg")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionNode {
    pub id: String,
    pub name: String,
    /// Products in this section and all below it.
    pub product_count: u32,
    #[schema(no_recursion)]
    pub children: Vec<SectionNode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: String,
    pub name: String,
    pub article: Option<String>,
    /// The lowest offer price.
    pub price: Money,
    /// The highest offer price, when variants differ.
    pub price_max: Option<i64>,
    /// The price before a discount (minor units, same currency), shown struck through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_price: Option<i64>,
    pub in_stock: bool,
    pub image: Option<String>,
    pub section_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    /// Products that match the other filters and have this value.
    pub count: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Facet {
    /// Filter with `f[<id>]=<value>`.
    pub id: String,
    pub name: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceRange {
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductList {
    pub items: Vec<ProductSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// All products matching the filters.
    pub total: usize,
    /// On the first page only (no `cursor`): filterable properties with counts.
    pub facets: Option<Vec<Facet>>,
    /// On the first page only: price range of the products matching every filter but price.
    pub price_range: Option<PriceRange>,
    pub catalog_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    pub id: String,
    pub name: Option<String>,
    /// What distinguishes this variant: `{name: "Размер", value: "M"}`.
    pub characteristics: Vec<Characteristic>,
    pub price: Option<Money>,
    /// The price before a discount (minor units, same currency), shown struck through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_price: Option<i64>,
    pub in_stock: bool,
    /// Units available, when known (may be fractional for goods sold by length or area).
    pub stock: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Characteristic {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PropertyView {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub thumb: String,
    pub large: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Breadcrumb {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductCard {
    pub id: String,
    pub name: String,
    pub article: Option<String>,
    pub description: Option<String>,
    pub unit: Option<String>,
    pub price: Money,
    pub price_max: Option<i64>,
    /// The cheapest variant's price before a discount, shown struck through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_price: Option<i64>,
    pub in_stock: bool,
    pub images: Vec<ImageView>,
    pub properties: Vec<PropertyView>,
    pub offers: Vec<OfferView>,
    /// From the top section down to the product's own.
    pub sections: Vec<Breadcrumb>,
    pub catalog_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub id: String,
    pub name: String,
    pub price: Money,
    pub image: Option<String>,
}

fn summary(snapshot: &Snapshot, p: &Product) -> ProductSummary {
    ProductSummary {
        id: p.id.clone(),
        name: p.name.clone(),
        article: p.article.clone(),
        price: Money {
            amount: p.min_price,
            currency: p.currency.clone(),
        },
        price_max: (p.max_price != p.min_price).then_some(p.max_price),
        old_price: p.old_price(),
        in_stock: p.in_stock,
        image: p.images.first().map(|h| image_url(h, THUMB)),
        section_id: p.section.map(|s| snapshot.sections[s as usize].id.clone()),
    }
}

/// `W/"c<version>-<hash of the request>"`: valid until the next catalog publish.
pub(crate) fn etag(version: i64, key: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    format!("W/\"c{version}-{:x}\"", h.finish())
}

fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

/// A cacheable JSON answer: 304 when the client has this version's answer, else the answer
/// rendered once per catalog version and kept with the snapshot.
pub(crate) fn cached<T: Serialize>(
    snapshot: &Snapshot,
    headers: &HeaderMap,
    key: &str,
    body: impl FnOnce() -> Result<T, ApiError>,
) -> Response {
    if let Some(ready) = super::ready::respond(snapshot, key, headers) {
        return ready;
    }
    let tag = etag(snapshot.version, key);
    let mut response = if not_modified(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let bytes = match rendered(snapshot, key, body) {
            Ok(bytes) => bytes,
            Err(e) => return e.into_response(),
        };
        let mut r = Response::new(axum::body::Body::from(bytes));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    response
}

/// A JSON answer rendered once per catalog version and kept with the snapshot.
fn rendered<T: Serialize>(
    snapshot: &Snapshot,
    key: &str,
    body: impl FnOnce() -> Result<T, ApiError>,
) -> Result<bytes::Bytes, ApiError> {
    if let Some(bytes) = snapshot.cached_response(key) {
        return Ok(bytes);
    }
    let value = body()?;
    let bytes = bytes::Bytes::from(serde_json::to_vec(&value).map_err(ApiError::internal)?);
    snapshot.cache_response(key.to_string(), bytes.clone());
    Ok(bytes)
}

/// The home screen's first two answers, exactly as `GET /api/v1/sections` and
/// `GET /api/v1/products?sort=popular&limit=20` give them, keyed by those paths: the server
/// puts them into index.html so the first screen needs no API round trip (web.rs).
pub fn first_screen(
    snapshot: &Arc<Snapshot>,
) -> Result<Vec<(&'static str, bytes::Bytes)>, ApiError> {
    const HOME_LIST: &str = "sort=popular&limit=20";
    Ok(vec![
        (
            "/api/v1/sections",
            rendered(snapshot, "sections", || Ok(section_tree(snapshot)))?,
        ),
        (
            "/api/v1/products?sort=popular&limit=20",
            rendered(snapshot, &format!("products?{HOME_LIST}"), || {
                list(snapshot, Some(HOME_LIST))
            })?,
        ),
    ])
}

/// The section tree with product counts.
#[utoipa::path(get, path = "/api/v1/sections", tag = "catalog", responses((status = 200, body = Vec<SectionNode>)))]
pub async fn sections(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let snapshot = state.catalog.snapshot();
    cached(&snapshot, &headers, "sections", || {
        Ok(section_tree(&snapshot))
    })
}

pub(crate) fn section_tree(snapshot: &Snapshot) -> Vec<SectionNode> {
    fn node(s: &Snapshot, i: u32, depth: usize) -> SectionNode {
        let section = &s.sections[i as usize];
        SectionNode {
            id: section.id.clone(),
            name: section.name.clone(),
            product_count: section.product_count,
            children: if depth > 32 {
                Vec::new()
            } else {
                section
                    .children
                    .iter()
                    .filter(|&&c| s.sections[c as usize].product_count > 0)
                    .map(|&c| node(s, c, depth + 1))
                    .collect()
            },
        }
    }
    snapshot
        .roots
        .iter()
        .filter(|&&r| snapshot.sections[r as usize].product_count > 0)
        .map(|&r| node(snapshot, r, 0))
        .collect()
}

/// Query parameters of the product list, for the OpenAPI description (parsed by hand: the
/// property filters `f[<id>]` are dynamic).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Section id; products of its subsections are included.
    section: Option<String>,
    /// Search text: word forms, typos and a wrong keyboard layout are forgiven.
    q: Option<String>,
    /// `popular` (default), `price_asc`, `price_desc`, `new`, `name`; with `q`, by relevance unless given.
    #[param(pattern = "^(popular|price_asc|price_desc|new|name|relevance)?$")]
    sort: Option<String>,
    /// Minor units (kopecks).
    #[param(minimum = 0)]
    price_min: Option<i64>,
    #[param(minimum = 0)]
    price_max: Option<i64>,
    /// Only products with a variant in stock.
    in_stock: Option<bool>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

#[derive(Debug, Default)]
struct Filters {
    section: Option<u32>,
    q: Option<String>,
    sort: Option<SortKey>,
    relevance: bool,
    price_min: Option<i64>,
    price_max: Option<i64>,
    in_stock: bool,
    /// (property index, accepted value indexes); an unknown value matches nothing.
    properties: Vec<(u32, Vec<u32>)>,
    cursor: Option<Cursor>,
    limit: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
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

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    let mut e = ApiError::bad_request(
        "invalid_parameter",
        format!("query parameter `{field}` is invalid"),
    );
    e.errors.push(FieldError {
        field: field.to_string(),
        code: "invalid".into(),
        message: message.into(),
    });
    e
}

fn parse_filters(snapshot: &Snapshot, raw: Option<&str>) -> Result<Filters, ApiError> {
    let mut f = Filters {
        limit: DEFAULT_LIMIT,
        ..Filters::default()
    };
    let mut props: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut unknown_values: Vec<u32> = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let value = value.trim();
        match key.as_ref() {
            "section" if !value.is_empty() => {
                f.section = Some(
                    snapshot
                        .section(value)
                        .ok_or_else(|| invalid("section", "no such section"))?,
                );
            }
            "q" => f.q = Some(value.to_string()).filter(|q| !q.is_empty()),
            "sort" if !value.is_empty() => {
                if value == "relevance" {
                    f.relevance = true;
                } else {
                    f.sort = Some(SortKey::parse(value).ok_or_else(|| {
                        invalid(
                            "sort",
                            "expected popular, price_asc, price_desc, new, name or relevance",
                        )
                    })?);
                }
            }
            "price_min" | "price_max" => {
                let n: i64 = value.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    invalid(
                        key.as_ref(),
                        "expected a non-negative whole number of minor units (kopecks)",
                    )
                })?;
                if key == "price_min" {
                    f.price_min = Some(n)
                } else {
                    f.price_max = Some(n)
                }
            }
            "in_stock" => {
                f.in_stock = match value {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    _ => return Err(invalid("in_stock", "expected true or false")),
                }
            }
            "cursor" if !value.is_empty() => {
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(value)
                    .map_err(|_| invalid("cursor", "not a cursor from this API"))?;
                f.cursor = Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|_| invalid("cursor", "not a cursor from this API"))?,
                );
            }
            "limit" => {
                f.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| invalid("limit", format!("expected 1 to {MAX_LIMIT}")))?;
            }
            k if k.starts_with("f[") && k.ends_with(']') => {
                let id = &k[2..k.len() - 1];
                let pi = snapshot
                    .property(id)
                    .ok_or_else(|| invalid(k, "no such property"))?;
                let entry = props.entry(pi).or_default();
                match snapshot.properties[pi as usize].value(value) {
                    Some(v) => entry.push(v),
                    None => unknown_values.push(pi),
                }
            }
            // `_` is the usual cache-busting parameter (jQuery and others add `_=<time>`).
            "section" | "sort" | "cursor" | "_" => {}
            other => return Err(invalid(other, "unknown parameter")),
        }
    }
    if let (Some(min), Some(max)) = (f.price_min, f.price_max)
        && min > max
    {
        return Err(invalid("price_min", "greater than price_max"));
    }
    let _ = unknown_values; // a value nobody has: the property filter stays empty and matches nothing
    f.properties = props.into_iter().collect();
    f.properties.sort_unstable_by_key(|(p, _)| *p);
    Ok(f)
}

impl Filters {
    fn matches(&self, p: &Product) -> bool {
        if let Some(s) = self.section
            && !p.section_path.contains(&s)
        {
            return false;
        }
        if self.in_stock && !p.in_stock {
            return false;
        }
        if self.price_min.is_some_and(|min| p.max_price < min)
            || self.price_max.is_some_and(|max| p.min_price > max)
        {
            return false;
        }
        for (prop, wanted) in &self.properties {
            let has = p
                .facet_values
                .iter()
                .any(|(pp, vs)| pp == prop && vs.iter().any(|v| wanted.contains(v)));
            if !has {
                return false;
            }
        }
        true
    }
}

/// Products with filters, sort, cursor paging and (on the first page) facets with counts.
#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ListParams), responses(
    (status = 200, body = ProductList),
    (status = 400, description = "invalid_parameter, naming the parameter", body = Problem, content_type = "application/problem+json"),
))]
pub async fn products(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.catalog.snapshot();
    let key = format!("products?{}", raw.as_deref().unwrap_or(""));
    cached(&snapshot, &headers, &key, || {
        list(&snapshot, raw.as_deref())
    })
}

pub(crate) fn list(snapshot: &Arc<Snapshot>, raw: Option<&str>) -> Result<ProductList, ApiError> {
    let f = parse_filters(snapshot, raw)?;
    let first_page = f.cursor.is_none();
    // One search per request: the page and the facets share its hits.
    let hits: Option<Vec<u32>> = f.q.as_ref().map(|q| search_hits(snapshot, q));
    let (page, next_cursor, total) = match (&hits, f.sort) {
        (Some(hits), sort) if f.relevance || sort.is_none() => search_page(snapshot, &f, hits),
        (hits, sort) => {
            let sort = sort.unwrap_or(SortKey::Popular);
            let set: Option<std::collections::HashSet<u32>> =
                hits.as_ref().map(|h| h.iter().copied().collect());
            sorted_page(snapshot, &f, sort, set.as_ref())?
        }
    };
    let (facets, price_range) = if first_page {
        let (facets, range) = facets(snapshot, &f, hits.as_deref());
        (Some(facets), range)
    } else {
        (None, None)
    };
    Ok(ProductList {
        items: page
            .iter()
            .map(|&i| summary(snapshot, &snapshot.products[i as usize]))
            .collect(),
        next_cursor,
        total,
        facets,
        price_range,
        catalog_version: snapshot.version,
    })
}

pub(crate) fn search_hits(snapshot: &Snapshot, q: &str) -> Vec<u32> {
    let mut hits = snapshot.search.search(q, 1000, false);
    if hits.is_empty() {
        // A word cut short ("плин") is still worth an answer when nothing matches whole words.
        hits = snapshot.search.search(q, 1000, true);
    }
    hits.into_iter().map(|hit| hit.doc).collect()
}

fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(c).unwrap_or_default())
}

fn search_page(
    snapshot: &Snapshot,
    f: &Filters,
    hits: &[u32],
) -> (Vec<u32>, Option<String>, usize) {
    let matched: Vec<u32> = hits
        .iter()
        .copied()
        .filter(|&i| f.matches(&snapshot.products[i as usize]))
        .collect();
    let offset = f
        .cursor
        .as_ref()
        .filter(|c| c.s == "relevance")
        .map_or(0, |c| c.o);
    let page: Vec<u32> = matched.iter().skip(offset).take(f.limit).copied().collect();
    let end = offset + page.len();
    let next = (end < matched.len()).then(|| {
        encode_cursor(&Cursor {
            s: "relevance".into(),
            id: String::new(),
            p: 0,
            n: 0,
            name: String::new(),
            o: end,
        })
    });
    (page, next, matched.len())
}

/// Where the cursor's item sits in the sort order: compares product `i` with the cursor key.
fn compare_to_cursor(p: &Product, sort: SortKey, c: &Cursor) -> Ordering {
    let primary = match sort {
        SortKey::Popular => c.n.cmp(&p.popularity),
        SortKey::PriceAsc => p.min_price.cmp(&c.p),
        SortKey::PriceDesc => c.p.cmp(&p.min_price),
        SortKey::New => c.n.cmp(&p.created_at),
        SortKey::Name => p.name_key.as_str().cmp(c.name.as_str()),
    };
    primary.then_with(|| p.id.as_str().cmp(c.id.as_str()))
}

fn cursor_for(p: &Product, sort: SortKey) -> Cursor {
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

fn sorted_page(
    snapshot: &Snapshot,
    f: &Filters,
    sort: SortKey,
    hits: Option<&std::collections::HashSet<u32>>,
) -> Result<(Vec<u32>, Option<String>, usize), ApiError> {
    let order = snapshot.order(sort);
    let start = match &f.cursor {
        None => 0,
        Some(c) if c.s == sort.as_str() => order.partition_point(|&i| {
            compare_to_cursor(&snapshot.products[i as usize], sort, c) != Ordering::Greater
        }),
        Some(_) => {
            return Err(invalid(
                "cursor",
                "the cursor belongs to another sort order",
            ));
        }
    };
    let accept =
        |i: u32| hits.is_none_or(|h| h.contains(&i)) && f.matches(&snapshot.products[i as usize]);
    let unfiltered = hits.is_none()
        && f.properties.is_empty()
        && !f.in_stock
        && f.price_min.is_none()
        && f.price_max.is_none();
    let total = match (unfiltered, f.section) {
        (true, Some(s)) => snapshot.sections[s as usize].product_count as usize,
        (true, None) => order.len(),
        _ => candidates(snapshot, f).filter(|&i| accept(i)).count(),
    };
    let mut page = Vec::with_capacity(f.limit + 1);
    for &i in &order[start.min(order.len())..] {
        if accept(i) {
            page.push(i);
            if page.len() > f.limit {
                break;
            }
        }
    }
    let more = page.len() > f.limit;
    page.truncate(f.limit);
    let next = if more {
        page.last()
            .map(|&i| encode_cursor(&cursor_for(&snapshot.products[i as usize], sort)))
    } else {
        None
    };
    Ok((page, next, total))
}

/// The products a filter can match: a section's own list, or all.
fn candidates<'a>(snapshot: &'a Snapshot, f: &Filters) -> Box<dyn Iterator<Item = u32> + 'a> {
    match f.section {
        Some(s) => Box::new(snapshot.sections[s as usize].products.iter().copied()),
        None => Box::new(0..snapshot.products.len() as u32),
    }
}

/// The products to consider: the search hits in the section when there is a query (a few
/// hundred), else the whole section.
fn candidates_among<'a>(
    snapshot: &'a Snapshot,
    f: &Filters,
    hits: Option<&'a [u32]>,
) -> Box<dyn Iterator<Item = u32> + 'a> {
    match (hits, f.section) {
        (Some(hits), Some(s)) => Box::new(
            hits.iter()
                .copied()
                .filter(move |&i| snapshot.products[i as usize].section_path.contains(&s)),
        ),
        (Some(hits), None) => Box::new(hits.iter().copied()),
        (None, _) => candidates(snapshot, f),
    }
}

/// For each filterable property, the values among products matching every other filter.
/// One pass: a product failing no property filter counts for every facet, one failing exactly
/// one counts only for that property's facet, one failing more counts for none.
fn facets(
    snapshot: &Snapshot,
    f: &Filters,
    hits: Option<&[u32]>,
) -> (Vec<Facet>, Option<PriceRange>) {
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
    for i in candidates_among(snapshot, f, hits) {
        let p = &snapshot.products[i as usize];
        if f.in_stock && !p.in_stock {
            continue;
        }
        let mut misses = 0;
        let mut missed = None;
        for (prop, wanted) in &f.properties {
            let has = p
                .facet_values
                .iter()
                .any(|(pp, vs)| pp == prop && vs.iter().any(|v| wanted.contains(v)));
            if !has {
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
        if f.price_min.is_some_and(|min| p.max_price < min)
            || f.price_max.is_some_and(|max| p.min_price > max)
        {
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
        .filter(|(prop, counts)| prop.filterable && counts.iter().any(|&c| c > 0))
        .map(|(prop, counts)| {
            let mut values: Vec<FacetValue> = counts
                .into_iter()
                .enumerate()
                .filter(|&(_, count)| count > 0)
                .map(|(v, count)| FacetValue {
                    value: prop.values[v].clone(),
                    count,
                })
                .collect();
            values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            Facet {
                id: prop.id.clone(),
                name: prop.name.clone(),
                values,
            }
        })
        .collect();
    (facets, range.map(|(min, max)| PriceRange { min, max }))
}

fn card(snapshot: &Snapshot, p: &Product) -> ProductCard {
    let mut sections: Vec<Breadcrumb> = p
        .section_path
        .iter()
        .map(|&s| Breadcrumb {
            id: snapshot.sections[s as usize].id.clone(),
            name: snapshot.sections[s as usize].name.clone(),
        })
        .collect();
    sections.reverse();
    ProductCard {
        id: p.id.clone(),
        name: p.name.clone(),
        article: p.article.clone(),
        description: p.description.clone(),
        unit: p.unit.clone(),
        price: Money {
            amount: p.min_price,
            currency: p.currency.clone(),
        },
        price_max: (p.max_price != p.min_price).then_some(p.max_price),
        old_price: p.old_price(),
        in_stock: p.in_stock,
        images: p
            .images
            .iter()
            .map(|h| ImageView {
                thumb: image_url(h, THUMB),
                large: image_url(h, LARGE),
            })
            .collect(),
        properties: p
            .facet_values
            .iter()
            .map(|(pi, vs)| {
                let prop = &snapshot.properties[*pi as usize];
                PropertyView {
                    name: prop.name.clone(),
                    values: vs
                        .iter()
                        .map(|&v| prop.values[v as usize].clone())
                        .collect(),
                }
            })
            .collect(),
        offers: p
            .offers
            .iter()
            .map(|o| OfferView {
                id: o.id.clone(),
                name: o.name.clone(),
                characteristics: o
                    .characteristics
                    .iter()
                    .map(|(name, value)| Characteristic {
                        name: name.to_string(),
                        value: value.to_string(),
                    })
                    .collect(),
                price: o.price.map(|amount| Money {
                    amount,
                    currency: o.currency.clone(),
                }),
                old_price: o.old_price,
                in_stock: o.in_stock(),
                stock: o.stock_milli.max(0) as f64 / 1000.0,
            })
            .collect(),
        sections,
        catalog_version: snapshot.version,
    }
}

/// A product with its variants (offers), images, properties and section path.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog", params(("id" = String, Path)), responses(
    (status = 200, body = ProductCard),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
pub async fn product(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.catalog.snapshot();
    cached(&snapshot, &headers, &format!("product/{id}"), || {
        snapshot
            .product(&id)
            .map(|p| card(&snapshot, p))
            .ok_or_else(|| ApiError::not_found("product"))
    })
}

/// As-you-type suggestions for the search box.
#[utoipa::path(get, path = "/api/v1/search/suggest", tag = "catalog", params(
    ("q" = Option<String>, Query, description = "What the customer has typed so far"),
), responses((status = 200, body = Vec<Suggestion>)))]
pub async fn suggest(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.catalog.snapshot();
    let q = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().chars().take(200).collect::<String>())
        .unwrap_or_default();
    cached(&snapshot, &headers, &format!("suggest?{q}"), || {
        if q.is_empty() {
            return Ok(Vec::new());
        }
        Ok(snapshot
            .search
            .search(&q, 8, true)
            .into_iter()
            .map(|hit| &snapshot.products[hit.doc as usize])
            .map(|p| Suggestion {
                id: p.id.clone(),
                name: p.name.clone(),
                price: Money {
                    amount: p.min_price,
                    currency: p.currency.clone(),
                },
                image: p.images.first().map(|h| image_url(h, THUMB)),
            })
            .collect())
    })
}

//! Catalog endpoints: the query language is in query.rs, these map it to JSON views and
//! problem+json. They read the in-memory snapshot only; the catalog is public shop
//! information (as on the shop's website), so they need no sign-in and can be cached.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::query::{self, FacetCounts, ListParams, QueryError};
use super::snapshot::{Product, Snapshot};
use crate::error::{ApiError, FieldError, Problem};
use crate::money::Money;
use crate::state::AppState;

/// The inline search of the bot (selling/) lists through the same hits as the product list.
pub(crate) use super::query::search_hits;

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

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        invalid(e.field(), e.to_string())
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
    let query = ListParams::parse(raw)?.resolve(snapshot)?;
    let page = query::run(snapshot, &query)?;
    Ok(ProductList {
        items: page
            .items
            .iter()
            .map(|&i| summary(snapshot, &snapshot.products[i as usize]))
            .collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
        total: page.total,
        facets: page
            .facets
            .map(|facets| facets.iter().map(|f| facet(snapshot, f)).collect()),
        price_range: page.price_range.map(|(min, max)| PriceRange { min, max }),
        catalog_version: snapshot.version,
    })
}

fn facet(snapshot: &Snapshot, counts: &FacetCounts) -> Facet {
    let prop = &snapshot.properties[counts.property as usize];
    Facet {
        id: prop.id.clone(),
        name: prop.name.clone(),
        values: counts
            .values
            .iter()
            .map(|&(v, count)| FacetValue {
                value: prop.values[v as usize].clone(),
                count,
            })
            .collect(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_cursor_is_a_400_naming_the_cursor() {
        let snapshot = Arc::new(Snapshot::empty());
        let e = list(&snapshot, Some("sort=name&cursor=not-ours")).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "invalid_parameter");
        assert_eq!(e.detail, "query parameter `cursor` is invalid");
        assert_eq!(e.errors.len(), 1);
        assert_eq!(
            (e.errors[0].field.as_str(), e.errors[0].message.as_str()),
            ("cursor", "not a cursor from this API")
        );
    }
}

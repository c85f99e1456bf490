//! Favourite products. A favourite outlives catalog versions: a product that leaves the
//! catalog stays in the list, shown as unavailable with the name it had when it was added.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::auth::{Customer, CustomerId};
use crate::catalog::http::{THUMB, image_url};
use crate::error::{ApiError, AuthErrors, Problem};
use crate::money::Money;
use crate::state::AppState;
use crate::store::{Store, StoreError, now_ms};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Favorite {
    pub product_id: String,
    /// The current name, or the one the product had when added if it left the catalog.
    pub name: String,
    pub image: Option<String>,
    /// The lowest current price of the product's offers; absent when none is for sale.
    pub price: Option<Money>,
    /// Units in stock now, over all offers that are for sale.
    pub stock: i64,
    pub in_stock: bool,
    /// False when the product is no longer in the catalog or nothing of it is for sale.
    pub available: bool,
    /// Unix milliseconds.
    pub added_at: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Favorites {
    /// Most recently added first.
    pub items: Vec<Favorite>,
    /// The most favourites one customer may keep (`selling.max_favorites`).
    pub limit: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum FavoriteError {
    #[error("no such product in the catalog")]
    UnknownProduct,
    #[error("at most {0} favourites")]
    Limit(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for FavoriteError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<FavoriteError> for ApiError {
    fn from(e: FavoriteError) -> Self {
        match e {
            FavoriteError::UnknownProduct => {
                ApiError::new(StatusCode::NOT_FOUND, "product_not_found", e.to_string())
            }
            FavoriteError::Limit(_) => ApiError::conflict("favorites_limit", e.to_string()),
            FavoriteError::Store(e) => e.into(),
        }
    }
}

fn first_image(images: Option<String>) -> Option<String> {
    images
        .and_then(|i| serde_json::from_str::<Vec<String>>(&i).ok())
        .and_then(|i| i.into_iter().next())
        .map(|h| image_url(&h, THUMB))
}

/// Adds a product to the customer's favourites; adding one already there changes nothing.
pub async fn add(
    store: &Store,
    customer: CustomerId,
    product_id: &str,
    limit: u32,
) -> Result<(), FavoriteError> {
    let product = sqlx::query("SELECT name, images FROM products WHERE id = $1")
        .bind(product_id)
        .fetch_optional(store.pool())
        .await?
        .ok_or(FavoriteError::UnknownProduct)?;
    let name: String = product.try_get("name")?;
    let image = first_image(product.try_get("images")?);
    let mut tx = crate::orders::write_tx(store).await?;
    let present = sqlx::query("SELECT 1 FROM favorites WHERE customer_id = $1 AND product_id = $2")
        .bind(customer.0)
        .bind(product_id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if present {
        return Ok(());
    }
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM favorites WHERE customer_id = $1")
        .bind(customer.0)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if count >= i64::from(limit) {
        return Err(FavoriteError::Limit(limit));
    }
    sqlx::query(
        "INSERT INTO favorites (customer_id, product_id, name, image, added_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (customer_id, product_id) DO NOTHING",
    )
    .bind(customer.0)
    .bind(product_id)
    .bind(name)
    .bind(image)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a product from the favourites; removing one that is not there changes nothing.
pub async fn remove(
    store: &Store,
    customer: CustomerId,
    product_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM favorites WHERE customer_id = $1 AND product_id = $2")
        .bind(customer.0)
        .bind(product_id)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// The customer's favourites with the catalog's current prices and stock.
pub async fn list(store: &Store, customer: CustomerId) -> Result<Vec<Favorite>, StoreError> {
    // One row per (favourite, offer); products without offers or gone from the catalog give
    // one row of NULLs.
    let rows = sqlx::query(
        "SELECT f.product_id, f.name AS kept_name, f.image AS kept_image, f.added_at, \
             p.id AS live_id, p.name AS live_name, p.images, o.price, o.currency, o.stock_milli \
         FROM favorites f LEFT JOIN products p ON p.id = f.product_id \
             LEFT JOIN offers o ON o.product_id = p.id \
         WHERE f.customer_id = $1 ORDER BY f.added_at DESC, f.product_id",
    )
    .bind(customer.0)
    .fetch_all(store.pool())
    .await?;
    let mut items: Vec<Favorite> = Vec::new();
    for r in rows {
        let product_id: String = r.try_get("product_id")?;
        if items.last().is_none_or(|f| f.product_id != product_id) {
            let live = r.try_get::<Option<String>, _>("live_id")?.is_some();
            let name = match r.try_get::<Option<String>, _>("live_name")? {
                Some(n) => n,
                None => r.try_get("kept_name")?,
            };
            let image = if live {
                first_image(r.try_get("images")?)
            } else {
                r.try_get("kept_image")?
            };
            items.push(Favorite {
                product_id,
                name,
                image,
                price: None,
                stock: 0,
                in_stock: false,
                available: false,
                added_at: r.try_get("added_at")?,
            });
        }
        let Some(fav) = items.last_mut() else {
            continue;
        };
        let Some(price) = r.try_get::<Option<i64>, _>("price")? else {
            continue;
        };
        let currency = r
            .try_get::<Option<String>, _>("currency")?
            .unwrap_or_else(|| "RUB".into());
        fav.available = true;
        fav.stock += r
            .try_get::<Option<i64>, _>("stock_milli")?
            .unwrap_or(0)
            .max(0)
            / 1000;
        if fav.price.as_ref().is_none_or(|p| price < p.amount) {
            fav.price = Some(Money {
                amount: price,
                currency,
            });
        }
    }
    for f in &mut items {
        f.in_stock = f.stock > 0;
    }
    Ok(items)
}

async fn answer(state: &AppState, customer: CustomerId) -> Result<Json<Favorites>, ApiError> {
    Ok(Json(Favorites {
        items: list(&state.store, customer).await?,
        limit: state.config.selling.max_favorites,
    }))
}

/// The customer's favourite products, with current prices and stock. A product that left
/// the catalog stays, with `available: false`.
#[utoipa::path(get, path = "/api/v1/favorites", tag = "favorites", security(("tma" = []), ("bearer" = [])),
    responses((status = 200, body = Favorites), AuthErrors))]
pub async fn get_favorites(
    State(state): State<AppState>,
    customer: Customer,
) -> Result<Json<Favorites>, ApiError> {
    answer(&state, customer.id).await
}

/// Adds a product to the favourites (idempotent).
#[utoipa::path(put, path = "/api/v1/favorites/{product_id}", tag = "favorites", security(("tma" = []), ("bearer" = [])),
    params(("product_id" = String, Path, description = "URL-encoded")),
    responses(
        (status = 200, body = Favorites),
        (status = 404, description = "product_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "favorites_limit: as many favourites as `selling.max_favorites` allows", body = Problem, content_type = "application/problem+json"),
        AuthErrors,
    ))]
pub async fn put_favorite(
    State(state): State<AppState>,
    customer: Customer,
    Path(product_id): Path<String>,
) -> Result<Json<Favorites>, ApiError> {
    add(
        &state.store,
        customer.id,
        &product_id,
        state.config.selling.max_favorites,
    )
    .await?;
    answer(&state, customer.id).await
}

/// Removes a product from the favourites (idempotent).
#[utoipa::path(delete, path = "/api/v1/favorites/{product_id}", tag = "favorites", security(("tma" = []), ("bearer" = [])),
    params(("product_id" = String, Path, description = "URL-encoded")),
    responses((status = 200, body = Favorites), AuthErrors))]
pub async fn delete_favorite(
    State(state): State<AppState>,
    customer: Customer,
    Path(product_id): Path<String>,
) -> Result<Json<Favorites>, ApiError> {
    remove(&state.store, customer.id, &product_id).await?;
    answer(&state, customer.id).await
}

//! `/api/products` (seed 001 "Productos"), also under `/api/stores/{slug}/products`.
//! Writes accept `multipart/form-data` (with `image` files) or JSON.

mod form;
mod listing;
mod search;
mod views;
mod write;

pub use form::*;
pub use listing::*;
pub use search::*;
pub use views::*;
pub use write::*;

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::App;
use crate::http::conversions::catalog::PRODUCT_NOT_FOUND;
use crate::http::error::{ApiError, ApiResult, codes};
use crate::services::catalog::products::Product;
use crate::services::catalog::stores::Store;

/// Images one product can have.
pub const MAX_IMAGES: usize = 8;

fn search_of(app: &App) -> ApiResult<&crate::services::catalog::search::CatalogSearch> {
    app.search
        .get()
        .map(|s| s.as_ref())
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::NOT_READY, "El catálogo no está disponible"))
}

/// The products with `ids` as views, from the node's cache.
async fn views(app: &App, store: &Store, ids: &[String]) -> ApiResult<Vec<ProductView>> {
    let found = app.catalog_cache.products(&app.db, &store.id, ids).await?;
    Ok(found.iter().map(|p| ProductView::new(p, store)).collect())
}

/// The JSON answer cached under `key` (which names the store, endpoint and parsed
/// parameters), or `compute`d and cached. Cached answers are dropped whenever the catalog changes.
pub async fn cached_json<T: Serialize>(app: &App, key: String, compute: impl Future<Output = ApiResult<T>>) -> ApiResult<Bytes> {
    if let Some(body) = app.catalog_cache.answer(&key) {
        return Ok(body);
    }
    let generation = app.catalog_cache.generation();
    let body = Bytes::from(serde_json::to_vec(&compute.await?).map_err(ApiError::internal)?);
    app.catalog_cache.remember_answer(key, generation, body.clone());
    Ok(body)
}

/// A JSON answer of bytes as they are.
fn json_response(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub fn product_not_found() -> ApiError {
    ApiError::not_found(PRODUCT_NOT_FOUND)
}

pub async fn load(app: &App, store: &Store, id: &str) -> ApiResult<std::sync::Arc<Product>> {
    let found = app.catalog_cache.products(&app.db, &store.id, &[id.to_string()]).await?;
    found.into_iter().next().ok_or_else(product_not_found)
}

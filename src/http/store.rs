//! Which store a request acts on.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::{StatusCode, request::Parts};

use super::error::{ApiError, codes};
use crate::app::AppState;
use crate::services::catalog::stores::{self, DEFAULT_SLUG, Store};

/// The store named by the `{slug}` of `/api/stores/{slug}/…`, or the default store on the
/// seed-001 paths. An unknown or inactive store is 404 `store_not_found`.
#[derive(Debug, Clone)]
pub struct CurrentStore(pub Arc<Store>);

impl FromRequestParts<AppState> for CurrentStore {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let params = super::path::raw_params(parts).await?;
        let slug = params.iter().find(|(name, _)| *name == "slug").map(|(_, value)| value.to_string());
        let slug = slug.as_deref().unwrap_or(DEFAULT_SLUG);
        let store = match app.catalog_cache.store(slug) {
            Some(store) => Some(store),
            None => stores::find_by_slug(&mut *app.db.reader().acquire().await?, slug).await?.map(|s| app.catalog_cache.remember_store(s)),
        };
        match store {
            Some(store) if store.is_active => {
                tracing::Span::current().record("store", store.slug.as_str());
                Ok(CurrentStore(store))
            }
            _ => Err(ApiError::new(StatusCode::NOT_FOUND, codes::STORE_NOT_FOUND, "Tienda no encontrada")),
        }
    }
}

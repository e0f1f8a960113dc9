//! Listing the store's active products and reading one, served from the search index and the caches.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use feria_search::{SearchQuery, SortBy};

use crate::app::{App, AppState};
use crate::http::auth::MaybeUser;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::Pagination;
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use feria_domain::access::Scope;

use super::{ProductPage, ProductView, cached_json, json_response, load, product_not_found, search_of, views};

/// How deep listings and searches served from the index go: the index collects
/// `offset + limit` hits per request, so the client may not choose that number freely.
pub const INDEX_WINDOW: i64 = 10_000;

/// The `(offset, limit)` of a page of index results, or a problem in `v` past [`INDEX_WINDOW`].
pub(super) fn index_window(v: &mut Validator, page: Pagination) -> (usize, usize) {
    if page.offset() + page.limit > INDEX_WINDOW {
        v.add("page", format!("Se muestran como máximo los primeros {INDEX_WINDOW} resultados; afiná la búsqueda"));
        return (0, 0);
    }
    (page.offset() as usize, page.limit as usize)
}

/// A listing of active products (of any of `categories`, when given), newest first, served
/// from the search index and the caches, as JSON.
pub async fn page_json(app: &App, store: &Store, categories: Vec<String>, page: Pagination) -> ApiResult<Bytes> {
    let mut v = Validator::new();
    let (offset, limit) = index_window(&mut v, page);
    v.finish()?;
    let query = SearchQuery {
        store_id: store.id.clone(),
        text: None,
        any_word: false,
        names_only: false,
        categories,
        tags: Vec::new(),
        min_price: None,
        max_price: None,
        in_stock: false,
        sort: SortBy::CreatedAt,
        descending: true,
        offset,
        limit,
        facets: false,
    };
    cached_json(app, format!("list {query:?}"), async {
        let hits = search_of(app)?.search(&query).map_err(ApiError::internal)?;
        Ok(ProductPage { total: hits.total as i64, products: views(app, store, &hits.ids).await? })
    })
    .await
}

/// Lists the store's active products, newest first.
#[utoipa::path(get, path = "/products", tag = "products",
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 404, description = "Unknown store", body = ErrorBody),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list(State(app): State<AppState>, CurrentStore(store): CurrentStore, page: Pagination) -> ApiResult<Response> {
    page_json(&app, &store, Vec::new(), page).await.map(json_response)
}

/// Lists the active products of one category, newest first.
#[utoipa::path(get, path = "/products/by-category/{id}", tag = "products",
    params(("id" = String, Path, description = "Category id"), ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 404, description = "Unknown store", body = ErrorBody),
    ))]
pub async fn by_category(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(category_id): IdParam,
    page: Pagination,
) -> ApiResult<Response> {
    page_json(&app, &store, vec![category_id], page).await.map(json_response)
}

/// One product of the store; an inactive one only for admins (to shoppers it does not exist).
#[utoipa::path(get, path = "/products/{id}", tag = "products", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "No such product on sale in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ProductView>> {
    let product = load(&app, &store, &id).await?;
    if !product.is_active && !user.is_some_and(|u| u.may(&store.id, Scope::CatalogRead)) {
        return Err(product_not_found());
    }
    Ok(Json(ProductView::new(&product, &store)))
}

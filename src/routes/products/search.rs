//! Searching the store's products: words, filters, sorting, totals and facets.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use feria_domain::money::parse_scaled;
use feria_search::{SearchQuery, SortBy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::{App, AppState};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::Pagination;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use feria_domain::decimal::DecimalOut;

use super::form::split_tags;
use super::listing::index_window;
use super::{ProductView, cached_json, json_response, search_of, views};

/// Search parameters (seed 001 `GET /products/search`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find in the name, tags or description (accents, plurals and small typos tolerated).
    pub q: Option<String>,
    /// Category ids, comma-separated (any of them).
    pub categories: Option<String>,
    /// Tag names, comma-separated (any of them).
    pub tags: Option<String>,
    /// Lowest net price.
    #[param(value_type = Option<f64>)]
    pub min_price: Option<String>,
    /// Highest net price.
    #[param(value_type = Option<f64>)]
    pub max_price: Option<String>,
    /// `true` for products with stock only.
    #[param(value_type = Option<bool>)]
    pub in_stock: Option<String>,
    /// `relevance` (default with `q`), `price`, `createdAt` (default without `q`) or `name`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default: `desc` for relevance and createdAt, `asc` for price and name).
    pub sort_order: Option<String>,
    pub page: Option<String>,
    pub limit: Option<String>,
}

/// Products per category among all matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryFacet {
    pub id: String,
    pub name: String,
    pub count: u64,
}

/// Products per tag among all matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagFacet {
    pub name: String,
    pub count: u64,
}

/// Counts over every match, for filter menus.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchFacets {
    pub categories: Vec<CategoryFacet>,
    pub tags: Vec<TagFacet>,
    #[schema(value_type = Option<f64>)]
    pub min_price: Option<DecimalOut>,
    #[schema(value_type = Option<f64>)]
    pub max_price: Option<DecimalOut>,
}

/// Seed 001's `{total, products}` plus `facets`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub total: usize,
    pub products: Vec<ProductView>,
    pub facets: SearchFacets,
}

/// Bounds of a search: each word costs index work (and a fuzzy automaton from 5 letters on).
const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 20;
/// Most categories or tags one search filters by.
const MAX_FILTER_VALUES: usize = 20;

fn parse_search(params: SearchParams, store: &Store) -> ApiResult<SearchQuery> {
    let mut v = Validator::new();
    let csv = |s: &Option<String>| s.as_deref().map(split_tags).unwrap_or_default();
    let exponent = store.currency.exponent();
    let mut price = |field: &str, value: &Option<String>| {
        value.as_deref().filter(|t| !t.trim().is_empty()).and_then(|t| match parse_scaled(t, exponent) {
            Ok(n) => Some(n),
            Err(e) => {
                v.add(field, format!("El valor {e}"));
                None
            }
        })
    };
    let min_price = price("minPrice", &params.min_price);
    let max_price = price("maxPrice", &params.max_price);
    let text = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(String::from);
    if text.as_ref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS || q.split_whitespace().count() > MAX_QUERY_WORDS) {
        v.add("q", format!("Como máximo {MAX_QUERY_CHARS} caracteres y {MAX_QUERY_WORDS} palabras"));
    }
    let (categories, tags) = (csv(&params.categories), csv(&params.tags));
    for (field, list) in [("categories", &categories), ("tags", &tags)] {
        if list.len() > MAX_FILTER_VALUES {
            v.add(field, format!("Como máximo {MAX_FILTER_VALUES} valores"));
        }
    }
    let sort = match params.sort_by.as_deref() {
        None => {
            if text.is_some() {
                SortBy::Relevance
            } else {
                SortBy::CreatedAt
            }
        }
        Some("relevance") => SortBy::Relevance,
        Some("price") => SortBy::Price,
        Some("createdAt") => SortBy::CreatedAt,
        Some("name") => SortBy::Name,
        Some(_) => {
            v.add("sortBy", "Debe ser relevance, price, createdAt o name");
            SortBy::Relevance
        }
    };
    let descending = match params.sort_order.as_deref() {
        None => matches!(sort, SortBy::Relevance | SortBy::CreatedAt),
        Some("desc") => true,
        Some("asc") => false,
        Some(_) => {
            v.add("sortOrder", "Debe ser asc o desc");
            true
        }
    };
    let page = Pagination::parse(&mut v, params.page.as_deref(), params.limit.as_deref());
    let (offset, limit) = index_window(&mut v, page);
    let in_stock = match params.in_stock.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            v.add("inStock", "Debe ser true o false");
            false
        }
    };
    v.finish()?;
    Ok(SearchQuery {
        store_id: store.id.clone(),
        text,
        any_word: false,
        names_only: false,
        categories,
        tags,
        min_price,
        max_price,
        in_stock,
        sort,
        descending,
        offset,
        limit,
        facets: true,
    })
}

/// Searches the store's active products: text, filters, sorting, exact total and facets.
#[utoipa::path(get, path = "/products/search", tag = "products", params(SearchParams),
    responses(
        (status = 200, description = "A page of matches with facets", body = SearchPage),
        (status = 404, description = "Unknown store", body = ErrorBody),
        (status = 422, description = "Bad parameter", body = ErrorBody),
        (status = 503, description = "Search not available on this node", body = ErrorBody),
    ))]
pub async fn search(State(app): State<AppState>, CurrentStore(store): CurrentStore, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let params: SearchParams = query_params(raw.as_deref())?;
    search_json(&app, &store, params).await.map(json_response)
}

/// A search of the store's active products ([`SearchPage`]) as JSON, from the caches when asked before.
pub async fn search_json(app: &App, store: &Store, params: SearchParams) -> ApiResult<Bytes> {
    let query = parse_search(params, store)?;
    cached_json(app, format!("search {query:?}"), search_page(app, store, &query)).await
}

async fn search_page(app: &App, store: &Store, query: &SearchQuery) -> ApiResult<SearchPage> {
    let hits = search_of(app)?.search(query).map_err(ApiError::internal)?;
    let found = views(app, store, &hits.ids).await?;
    let names = app.catalog_cache.category_names(&app.db, &store.id).await?;
    let exponent = store.currency.exponent();
    let facets = SearchFacets {
        categories: hits
            .facets
            .categories
            .into_iter()
            .filter_map(|(id, count)| Some(CategoryFacet { name: names.get(&id)?.clone(), id, count }))
            .collect(),
        tags: hits.facets.tags.into_iter().map(|(name, count)| TagFacet { name, count }).collect(),
        min_price: hits.facets.min_price.map(|p| DecimalOut::scaled(p, exponent)),
        max_price: hits.facets.max_price.map(|p| DecimalOut::scaled(p, exponent)),
    };
    Ok(SearchPage { total: hits.total, products: found, facets })
}

/// Reads query-string parameters (all text) into `T`; unknown ones are ignored.
fn query_params<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> ApiResult<T> {
    let pairs: serde_json::Map<String, serde_json::Value> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
        .collect();
    crate::http::json::parse_json(&serde_json::to_vec(&pairs).expect("a JSON object serialises"))
}

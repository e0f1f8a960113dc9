//! `/api/products` (seed 001 "Productos"), also under `/api/stores/{slug}/products`.
//! Writes accept `multipart/form-data` (with `image` files) or JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use feria_domain::money::{add_tax, parse_scaled};
use feria_search::{SearchQuery, SortBy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::{App, AppState};
use crate::http::auth::{AdminUser, MaybeUser};
use crate::http::error::{ApiError, ApiResult, ErrorBody, FieldError, codes};
use crate::http::json::{Pagination, parse_json};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::products::{self, Product, ProductData, WriteError};
use crate::services::catalog::stores::Store;
use crate::services::files::{FileError, ImageFormat, StoredFile};
use feria_domain::decimal::{DecimalOut, DecimalText};
use feria_domain::roles::Role;

/// Images one product can have.
pub const MAX_IMAGES: usize = 8;

/// A category as embedded in a product.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryRef {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

/// A unit as embedded in a product.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitRef {
    pub id: String,
    pub name: String,
    pub abbreviation: Option<String>,
}

/// A product image, in display order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub url: String,
    pub position: i64,
}

/// A product as the API shows it (seed 001 shape plus `sku`, `weight`, `dimensions`, `images`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Net price in the store's currency.
    #[schema(value_type = f64, example = 12500.5)]
    pub price: DecimalOut,
    /// `price × (1 + taxRate/100)`, rounded half-up to the currency's minor unit.
    #[schema(value_type = f64)]
    pub price_with_tax: DecimalOut,
    /// ISO 4217 code of the store's currency.
    pub currency: String,
    pub stock: i64,
    pub category: CategoryRef,
    pub unit: UnitRef,
    /// The first image, or null.
    pub img_url: Option<String>,
    pub images: Vec<ImageView>,
    pub is_active: bool,
    /// Percent, 0–100.
    #[schema(value_type = f64, example = 21)]
    pub tax_rate: DecimalOut,
    pub tags: Vec<String>,
    pub sku: Option<String>,
    /// Kilograms.
    #[schema(value_type = Option<f64>)]
    pub weight: Option<DecimalOut>,
    /// Free text, e.g. `30x20x10 cm`.
    pub dimensions: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ProductView {
    pub fn new(p: &Product, store: &Store) -> ProductView {
        let exponent = store.currency.exponent();
        ProductView {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            price: DecimalOut::scaled(p.price, exponent),
            price_with_tax: DecimalOut::scaled(add_tax(p.price, p.tax_rate_bp), exponent),
            currency: store.currency.code().to_string(),
            stock: p.stock,
            category: CategoryRef { id: p.category.id.clone(), name: p.category.name.clone(), description: p.category.detail.clone() },
            unit: UnitRef { id: p.unit.id.clone(), name: p.unit.name.clone(), abbreviation: p.unit.detail.clone() },
            img_url: p.images.first().map(|i| i.url.clone()),
            images: p.images.iter().map(|i| ImageView { url: i.url.clone(), position: i.position }).collect(),
            is_active: p.is_active,
            tax_rate: DecimalOut::scaled(p.tax_rate_bp, 2),
            tags: p.tags.clone(),
            sku: p.sku.clone(),
            weight: p.weight_grams.map(|g| DecimalOut::scaled(g, 3)),
            dimensions: p.dimensions.clone(),
            created_at: p.created_at.clone(),
            updated_at: p.updated_at.clone(),
        }
    }
}

/// One page of products.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub total: i64,
    pub products: Vec<ProductView>,
}

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

/// The answer cached under `key` (which names the store, endpoint and parsed parameters), or
/// `compute`d, cached and sent. Cached answers are dropped whenever the catalog changes.
async fn cached<T: Serialize>(app: &App, key: String, compute: impl Future<Output = ApiResult<T>>) -> ApiResult<Response> {
    let body = match app.catalog_cache.answer(&key) {
        Some(body) => body,
        None => {
            let generation = app.catalog_cache.generation();
            let body = Bytes::from(serde_json::to_vec(&compute.await?).map_err(ApiError::internal)?);
            app.catalog_cache.remember_answer(key, generation, body.clone());
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// How deep listings and searches served from the index go: the index collects
/// `offset + limit` hits per request, so the client may not choose that number freely.
pub const INDEX_WINDOW: i64 = 10_000;

/// The `(offset, limit)` of a page of index results, or a problem in `v` past [`INDEX_WINDOW`].
fn index_window(v: &mut Validator, page: Pagination) -> (usize, usize) {
    if page.offset() + page.limit > INDEX_WINDOW {
        v.add("page", format!("Se muestran como máximo los primeros {INDEX_WINDOW} resultados; afiná la búsqueda"));
        return (0, 0);
    }
    (page.offset() as usize, page.limit as usize)
}

/// A listing of active products, newest first, served from the search index and the caches.
async fn page_of(app: &App, store: &Store, categories: Vec<String>, page: Pagination) -> ApiResult<Response> {
    let mut v = Validator::new();
    let (offset, limit) = index_window(&mut v, page);
    v.finish()?;
    let query = SearchQuery {
        store_id: store.id.clone(),
        text: None,
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
    cached(app, format!("list {query:?}"), async {
        let hits = search_of(app)?.search(query.clone()).await.map_err(ApiError::internal)?;
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
    page_of(&app, &store, Vec::new(), page).await
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
    page_of(&app, &store, vec![category_id], page).await
}

fn product_not_found() -> ApiError {
    ApiError::not_found("Producto no encontrado")
}

async fn load(app: &App, store: &Store, id: &str) -> ApiResult<std::sync::Arc<Product>> {
    let found = app.catalog_cache.products(&app.db, &store.id, &[id.to_string()]).await?;
    found.into_iter().next().ok_or_else(product_not_found)
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
    if !product.is_active && !user.is_some_and(|u| u.has_role(Role::Admin)) {
        return Err(product_not_found());
    }
    Ok(Json(ProductView::new(&product, &store)))
}

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
    let query = parse_search(params, &store)?;
    cached(&app, format!("search {query:?}"), search_page(&app, &store, &query)).await
}

async fn search_page(app: &App, store: &Store, query: &SearchQuery) -> ApiResult<SearchPage> {
    let hits = search_of(app)?.search(query.clone()).await.map_err(ApiError::internal)?;
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

/// Tags as a comma-separated string or a list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TagsInput {
    Csv(String),
    List(Vec<String>),
}

/// A product's fields as JSON. Numbers may also be sent as strings. Required on create:
/// `name`, `description`, `price`, `stock`, `category`, `unit`; on update all are optional.
/// As `multipart/form-data` the same names are form fields, plus `image` files (repeatable).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductRequest {
    /// 3–100 characters.
    pub name: Option<String>,
    /// Up to 2000 characters.
    pub description: Option<String>,
    /// Net price, > 0, with at most the currency's decimals.
    #[schema(value_type = Option<f64>, example = 12500.5)]
    pub price: Option<DecimalText>,
    /// Whole units, ≥ 0.
    #[schema(value_type = Option<i64>, example = 20)]
    pub stock: Option<DecimalText>,
    /// Category id (of this store).
    pub category: Option<String>,
    /// Unit id (of this store).
    pub unit: Option<String>,
    /// Default true.
    pub is_active: Option<bool>,
    /// Percent 0–100 with up to 2 decimals; default 21.
    #[schema(value_type = Option<f64>, example = 21)]
    pub tax_rate: Option<DecimalText>,
    /// Tag names; missing tags are created.
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<TagsInput>,
    /// Letters, digits, `-` and `_`, up to 50; unique in the store.
    pub sku: Option<String>,
    /// Kilograms, up to 3 decimals.
    #[schema(value_type = Option<f64>)]
    pub weight: Option<DecimalText>,
    /// Free text up to 100 characters.
    pub dimensions: Option<String>,
}

/// An uploaded image, already checked to be one.
struct Upload {
    format: ImageFormat,
    bytes: axum::body::Bytes,
}

/// A product body from JSON or multipart, with its images.
pub struct ProductForm {
    fields: ProductRequest,
    images: Vec<Upload>,
    /// Problems found while reading (bad image, unknown field type…).
    problems: Vec<FieldError>,
}

impl FromRequest<AppState> for ProductForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let multipart = Multipart::from_request(req, app).await.map_err(|r| ApiError::for_status(r.status()))?;
            read_multipart(multipart, app.config.max_file_size).await
        } else if content_type.starts_with("application/json") {
            let bytes = axum::body::Bytes::from_request(req, app).await.map_err(|r| ApiError::for_status(r.status()))?;
            Ok(ProductForm { fields: parse_json(&bytes)?, images: Vec::new(), problems: Vec::new() })
        } else {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Se esperaba multipart/form-data o application/json",
            ))
        }
    }
}

async fn read_multipart(mut multipart: Multipart, max_file_size: usize) -> ApiResult<ProductForm> {
    let mut form = ProductForm { fields: ProductRequest::default(), images: Vec::new(), problems: Vec::new() };
    let mut tags: Option<Vec<String>> = None;
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::for_status(e.status());
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "image" || name == "images" {
            let bytes = field.bytes().await.map_err(malformed)?;
            if bytes.is_empty() {
                continue;
            }
            if bytes.len() > max_file_size {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::PAYLOAD_TOO_LARGE,
                    format!("La imagen supera el máximo de {max_file_size} bytes"),
                ));
            }
            match ImageFormat::sniff(&bytes) {
                Some(format) => form.images.push(Upload { format, bytes }),
                None => form.problems.push(FieldError::new("image", "Debe ser una imagen JPEG, PNG, WebP o GIF")),
            }
            continue;
        }
        let text = field.text().await.map_err(malformed)?;
        let decimal = || Some(DecimalText(text.trim().to_string()));
        let f = &mut form.fields;
        match name.as_str() {
            "name" => f.name = Some(text),
            "description" => f.description = Some(text),
            "price" => f.price = decimal(),
            "stock" => f.stock = decimal(),
            "category" => f.category = Some(text),
            "unit" => f.unit = Some(text),
            "taxRate" => f.tax_rate = decimal(),
            "weight" => f.weight = decimal(),
            "sku" => f.sku = Some(text),
            "dimensions" => f.dimensions = Some(text),
            "isActive" => match text.trim() {
                "true" | "1" => f.is_active = Some(true),
                "false" | "0" => f.is_active = Some(false),
                _ => form.problems.push(FieldError::new("isActive", "Debe ser true o false")),
            },
            "tags" | "tags[]" => tags.get_or_insert_with(Vec::new).extend(split_tags(&text)),
            _ => form.problems.push(FieldError::new(name.as_str(), "Campo desconocido")),
        }
    }
    form.fields.tags = tags.map(TagsInput::List);
    if form.images.len() > MAX_IMAGES {
        form.problems.push(FieldError::new("image", format!("Como máximo {MAX_IMAGES} imágenes")));
    }
    Ok(form)
}

fn split_tags(csv: &str) -> Vec<String> {
    csv.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()
}

/// Validates `fields` on top of `current` (update) or from nothing (create).
fn validate(form: &mut ProductForm, store: &Store, current: Option<ProductData>) -> ApiResult<ProductData> {
    let mut v = Validator::new();
    for problem in form.problems.drain(..) {
        v.add(&problem.field, problem.message);
    }
    let f = &form.fields;
    let creating = current.is_none();
    let exponent = store.currency.exponent();
    let required = |v: &mut Validator, field: &str, present: bool| {
        if creating && !present {
            v.add(field, "Es obligatorio");
        }
    };
    let name = f.name.as_deref().map(|n| v.text("name", Some(n), 3, 100));
    required(&mut v, "name", f.name.is_some());
    let description = f.description.as_deref().map(|d| v.text("description", Some(d), 1, 2000));
    required(&mut v, "description", f.description.is_some());
    let price = v.decimal("price", f.price.as_ref(), exponent);
    required(&mut v, "price", f.price.is_some());
    if price == Some(0) {
        v.add("price", "Debe ser mayor que 0");
    }
    let stock = v.decimal("stock", f.stock.as_ref(), 0);
    required(&mut v, "stock", f.stock.is_some());
    let tax_rate = v.decimal("taxRate", f.tax_rate.as_ref(), 2);
    if tax_rate.is_some_and(|t| t > 10_000) {
        v.add("taxRate", "Debe estar entre 0 y 100");
    }
    let weight = v.decimal("weight", f.weight.as_ref(), 3);
    required(&mut v, "category", f.category.is_some());
    required(&mut v, "unit", f.unit.is_some());
    let sku = f.sku.as_deref().map(str::trim).map(|s| {
        if s.is_empty() {
            None
        } else {
            if s.len() > 50 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                v.add("sku", "Solo letras, dígitos, '-' y '_', hasta 50 caracteres");
            }
            Some(s.to_string())
        }
    });
    let dimensions = f.dimensions.as_deref().map(|d| v.optional_text("dimensions", Some(d), 0, 100).filter(|d| !d.is_empty()));
    let tags = f.tags.as_ref().map(|t| match t {
        TagsInput::Csv(csv) => split_tags(csv),
        TagsInput::List(list) => list.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
    });
    if tags.as_ref().is_some_and(|tags| tags.iter().any(|t| t.chars().count() > 50)) {
        v.add("tags", "Cada etiqueta tiene como máximo 50 caracteres");
    }
    v.finish()?;
    let base = current.unwrap_or(ProductData {
        name: String::new(),
        description: String::new(),
        sku: None,
        price: 0,
        tax_rate_bp: 2100,
        stock: 0,
        is_active: true,
        weight_grams: None,
        dimensions: None,
        category_id: String::new(),
        unit_id: String::new(),
        tags: Vec::new(),
    });
    let mut tags = tags.unwrap_or(base.tags);
    tags.sort_by_key(|t| t.to_lowercase());
    tags.dedup_by_key(|t| t.to_lowercase());
    Ok(ProductData {
        name: name.unwrap_or(base.name),
        description: description.unwrap_or(base.description),
        sku: sku.unwrap_or(base.sku),
        price: price.unwrap_or(base.price),
        tax_rate_bp: tax_rate.unwrap_or(base.tax_rate_bp),
        stock: stock.unwrap_or(base.stock),
        is_active: f.is_active.unwrap_or(base.is_active),
        weight_grams: weight.or(base.weight_grams),
        dimensions: dimensions.unwrap_or(base.dimensions),
        category_id: f.category.clone().map(|c| c.trim().to_string()).unwrap_or(base.category_id),
        unit_id: f.unit.clone().map(|u| u.trim().to_string()).unwrap_or(base.unit_id),
        tags,
    })
}

fn write_error(err: WriteError) -> ApiError {
    match err {
        WriteError::UnknownCategory => ApiError::field("category", "La categoría no existe en esta tienda"),
        WriteError::UnknownUnit => ApiError::field("unit", "La unidad no existe en esta tienda"),
        WriteError::SkuTaken => {
            let mut conflict = ApiError::conflict(codes::SKU_TAKEN, "Ya existe un producto con ese SKU");
            conflict.details.push(FieldError::new("sku", "Ya está en uso en esta tienda"));
            conflict
        }
        WriteError::Database(e) => ApiError::internal(e),
    }
}

async fn store_images(app: &App, images: &[Upload]) -> ApiResult<Vec<StoredFile>> {
    let mut stored = Vec::with_capacity(images.len());
    for image in images {
        match app.files.put_image("products", image.format, &image.bytes).await {
            Ok(file) => stored.push(file),
            Err(e) => {
                discard(app, &stored).await;
                return Err(match e {
                    FileError::Local(e) => ApiError::internal(format!("storing an image: {e}")),
                    FileError::Bucket(e) => ApiError::upstream("El almacenamiento de imágenes no respondió; no se guardó nada", e),
                });
            }
        }
    }
    Ok(stored)
}

async fn discard(app: &App, files: &[StoredFile]) {
    for file in files {
        app.files.delete(&file.key).await;
    }
}

/// Creates a product (admin).
#[utoipa::path(post, path = "/products", tag = "products", security(("bearer" = [])),
    request_body(content(
        (ProductRequest = "application/json"),
        (ProductRequest = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Created", body = ProductView),
        (status = 409, description = "SKU taken", body = ErrorBody),
        (status = 413, description = "Image or body too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor multipart", body = ErrorBody),
        (status = 422, description = "Invalid fields or not an image", body = ErrorBody),
        (status = 502, description = "The image bucket failed; nothing was saved", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    mut form: ProductForm,
) -> ApiResult<(StatusCode, Json<ProductView>)> {
    let data = validate(&mut form, &store, None)?;
    let stored = store_images(&app, &form.images).await?;
    let result = async {
        let mut tx = app.db.begin().await?;
        let id = products::create(&mut tx, &store.id, &data).await.map_err(write_error)?;
        products::set_images(&mut tx, &id, &stored).await?;
        tx.commit().await?;
        app.catalog_changed(Some(std::slice::from_ref(&id))).await;
        Ok::<_, ApiError>(id)
    }
    .await;
    let id = match result {
        Ok(id) => id,
        Err(e) => {
            discard(&app, &stored).await;
            return Err(e);
        }
    };
    let product = load(&app, &store, &id).await?;
    Ok((StatusCode::CREATED, Json(ProductView::new(&product, &store))))
}

/// Updates a product (admin). Sending images replaces all of them.
#[utoipa::path(put, path = "/products/{id}", tag = "products", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content(
        (ProductRequest = "application/json"),
        (ProductRequest = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Updated", body = ProductView),
        (status = 404, description = "No such product in this store", body = ErrorBody),
        (status = 409, description = "SKU taken", body = ErrorBody),
        (status = 413, description = "Image or body too large", body = ErrorBody),
        (status = 422, description = "Invalid fields or not an image", body = ErrorBody),
        (status = 502, description = "The image bucket failed; nothing was saved", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    mut form: ProductForm,
) -> ApiResult<Json<ProductView>> {
    let current = load(&app, &store, &id).await?;
    let data = validate(&mut form, &store, Some(ProductData::of(&current)))?;
    let replacing_images = !form.images.is_empty();
    let stored = store_images(&app, &form.images).await?;
    let result = async {
        let mut tx = app.db.begin().await?;
        if !products::update(&mut tx, &store.id, &id, &data).await.map_err(write_error)? {
            return Err(product_not_found());
        }
        if replacing_images {
            products::set_images(&mut tx, &id, &stored).await?;
        }
        tx.commit().await?;
        app.catalog_changed(Some(std::slice::from_ref(&id))).await;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        discard(&app, &stored).await;
        return Err(e);
    }
    if replacing_images {
        for old in &current.images {
            app.files.delete(&old.storage_key).await;
        }
    }
    let product = load(&app, &store, &id).await?;
    Ok(Json(ProductView::new(&product, &store)))
}

/// The deleted product's id and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedProduct {
    pub id: String,
    pub name: String,
}

/// `{message, product}` after a delete (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDeleted {
    pub message: String,
    pub product: DeletedProduct,
}

/// Deletes a product and its images (admin).
#[utoipa::path(delete, path = "/products/{id}", tag = "products", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = ProductDeleted),
        (status = 404, description = "No such product in this store", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ProductDeleted>> {
    let product = load(&app, &store, &id).await?;
    let mut tx = app.db.begin().await?;
    if !products::delete(&mut tx, &store.id, &id).await? {
        return Err(product_not_found());
    }
    tx.commit().await?;
    app.catalog_changed(Some(std::slice::from_ref(&id))).await;
    for image in &product.images {
        app.files.delete(&image.storage_key).await;
    }
    Ok(Json(ProductDeleted {
        message: "Producto eliminado".into(),
        product: DeletedProduct { id: product.id.clone(), name: product.name.clone() },
    }))
}

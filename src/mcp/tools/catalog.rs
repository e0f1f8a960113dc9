//! Catalog tools, open to anyone: the same listings, search and product reads as the API's
//! `/products` routes (shared request parsing, views and answer cache).

use feria_domain::access::Scope;
use feria_domain::decimal::DecimalText;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Access, Answer, Ctx, READ, Tool};
use crate::http::error::ApiResult;

use crate::http::json::Pagination;
use crate::http::validate::Validator;
use crate::routes::products::{self, ProductView, SearchPage, SearchParams};

/// The page and limit of a tool's input, checked as the API checks its query string.
pub fn pagination(v: &mut Validator, page: Option<i64>, limit: Option<i64>) -> Pagination {
    Pagination::parse(v, page.map(|p| p.to_string()).as_deref(), limit.map(|l| l.to_string()).as_deref())
}

/// Seed 001's product filters.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductFilters {
    /// Words to find in the name, tags or description.
    pub search: Option<String>,
    /// A category id.
    pub category: Option<String>,
    /// Tag names, comma-separated (any of them).
    pub tags: Option<String>,
    /// Lowest net price, in the store's currency.
    #[schema(value_type = Option<f64>)]
    pub min_price: Option<DecimalText>,
    /// Highest net price, in the store's currency.
    #[schema(value_type = Option<f64>)]
    pub max_price: Option<DecimalText>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Products per page, default 10, at most 100.
    pub limit: Option<i64>,
}

pub struct GetProducts;

impl Tool for GetProducts {
    const NAME: &'static str = "get_products";
    const TITLE: &'static str = "Productos";
    const DESCRIPTION: &'static str = "Lista los productos activos de la tienda (los más nuevos primero, o los más relevantes si hay texto) con precio, stock y categoría; filtra por texto, categoría, etiquetas y precio. Paginado: page y limit (hasta 100).";
    const ACCESS: Access = Access::Public;
    const HINTS: super::Hints = READ;
    type Input = ProductFilters;
    type Output = SearchPage;

    async fn run(ctx: &Ctx, input: ProductFilters) -> ApiResult<Answer<SearchPage>> {
        let params = SearchParams {
            q: input.search,
            categories: input.category,
            tags: input.tags,
            min_price: input.min_price.map(|d| d.0),
            max_price: input.max_price.map(|d| d.0),
            page: input.page.map(|p| p.to_string()),
            limit: input.limit.map(|l| l.to_string()),
            ..SearchParams::default()
        };
        Answer::cached(&products::search_json(&ctx.app, &ctx.store, params).await?, describe_page)
    }
}

/// Filters of an advanced search.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchFilters {
    /// Category ids (any of them).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Tag names (any of them).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Lowest net price, in the store's currency.
    #[schema(value_type = Option<f64>)]
    pub min_price: Option<DecimalText>,
    /// Highest net price, in the store's currency.
    #[schema(value_type = Option<f64>)]
    pub max_price: Option<DecimalText>,
    /// Only products with stock.
    pub in_stock: Option<bool>,
}

/// A search with the API's filters (`GET /products/search`), as seed 001 names them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedSearch {
    /// Words to find (accents, plurals and small typos tolerated).
    pub query: Option<String>,
    #[serde(default)]
    pub filters: SearchFilters,
    /// `relevance` (default with a query), `price`, `createdAt` (default without) or `name`.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub sort_order: Option<String>,
    pub page: Option<i64>,
    pub limit: Option<i64>,
}

pub struct SearchProductsAdvanced;

impl Tool for SearchProductsAdvanced {
    const NAME: &'static str = "search_products_advanced";
    const TITLE: &'static str = "Buscar productos";
    const DESCRIPTION: &'static str = "Busca productos activos por texto (tolera tildes, plurales y errores de tipeo) con filtros de categorías, etiquetas, precio y stock; ordena por relevancia, precio, fecha o nombre. Devuelve el total, la página pedida y conteos por categoría y etiqueta.";
    const ACCESS: Access = Access::Public;
    const HINTS: super::Hints = READ;
    type Input = AdvancedSearch;
    type Output = SearchPage;

    async fn run(ctx: &Ctx, input: AdvancedSearch) -> ApiResult<Answer<SearchPage>> {
        let joined = |list: Vec<String>| (!list.is_empty()).then(|| list.join(","));
        let filters = input.filters;
        let params = SearchParams {
            q: input.query,
            categories: joined(filters.categories),
            tags: joined(filters.tags),
            min_price: filters.min_price.map(|d| d.0),
            max_price: filters.max_price.map(|d| d.0),
            in_stock: filters.in_stock.map(|b| b.to_string()),
            sort_by: input.sort,
            sort_order: input.sort_order,
            page: input.page.map(|p| p.to_string()),
            limit: input.limit.map(|l| l.to_string()),
        };
        Answer::cached(&products::search_json(&ctx.app, &ctx.store, params).await?, describe_page)
    }
}

/// A product by id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductId {
    /// The product's id.
    pub product_id: String,
}

pub struct GetProductDetails;

impl Tool for GetProductDetails {
    const NAME: &'static str = "get_product_details";
    const TITLE: &'static str = "Detalle de un producto";
    const DESCRIPTION: &'static str =
        "Un producto por su id: descripción, precio sin y con impuestos, stock, categoría, unidad, etiquetas e imágenes.";
    const ACCESS: Access = Access::Public;
    const HINTS: super::Hints = READ;
    type Input = ProductId;
    type Output = ProductView;

    async fn run(ctx: &Ctx, input: ProductId) -> ApiResult<Answer<ProductView>> {
        let product = products::load(&ctx.app, &ctx.store, &input.product_id).await?;
        let staff = ctx.caller.as_ref().is_some_and(|c| c.may(&ctx.store.id, Scope::CatalogRead));
        if !product.is_active && !staff {
            return Err(products::product_not_found());
        }
        Answer::of(&ProductView::new(&product, &ctx.store))
    }
}

/// A page of products in a few readable lines: how many match, and each product's name,
/// price with tax, stock and id.
fn describe_page(page: &serde_json::Value) -> String {
    use std::fmt::Write;
    let products = page["products"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut text = match page["total"].as_u64() {
        Some(1) => "1 producto coincide:".to_string(),
        total => format!("{} productos coinciden; estos {}:", total.unwrap_or(0), products.len()),
    };
    for (i, p) in products.iter().enumerate() {
        let _ = write!(
            text,
            "\n{}. {} — {} {} con impuestos (stock {}) [id {}]",
            i + 1,
            p["name"].as_str().unwrap_or(""),
            p["priceWithTax"],
            p["currency"].as_str().unwrap_or(""),
            p["stock"],
            p["id"].as_str().unwrap_or("")
        );
    }
    text
}

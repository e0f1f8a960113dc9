//! What goes into the index and what a search asks and gets back.

/// A product as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDoc {
    pub id: String,
    pub store_id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub category_id: String,
    /// Net price in minor units.
    pub price: i64,
    pub stock: i64,
    pub active: bool,
    /// Creation time, microseconds since the epoch.
    pub created_at: i64,
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Relevance,
    Price,
    CreatedAt,
    Name,
}

/// A search within one store. Only active products are found.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub store_id: String,
    /// Words to look for; none lists everything that passes the filters.
    pub text: Option<String>,
    /// Any of the words is enough (ranked by how many match, and how well) instead of all of
    /// them: retrieval for a question written as a sentence.
    pub any_word: bool,
    /// Words are looked for in product names only, word for word (no typos): which products a
    /// text names.
    pub names_only: bool,
    /// Any of these category ids.
    pub categories: Vec<String>,
    /// Any of these tag names (case-insensitive).
    pub tags: Vec<String>,
    /// Net price bounds, inclusive, minor units.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products with stock.
    pub in_stock: bool,
    pub sort: SortBy,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
    /// Also count categories and tags and find the price bounds of all matches.
    pub facets: bool,
}

impl SearchQuery {
    /// The first `limit` products of the store matching `text` best, without filters or facets.
    pub fn relevant(store_id: &str, text: String, limit: usize) -> SearchQuery {
        SearchQuery {
            store_id: store_id.to_string(),
            text: Some(text),
            any_word: false,
            names_only: false,
            categories: Vec::new(),
            tags: Vec::new(),
            min_price: None,
            max_price: None,
            in_stock: false,
            sort: SortBy::Relevance,
            descending: true,
            offset: 0,
            limit,
            facets: false,
        }
    }
}

/// Counts over every product that matched (not only the page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    /// (category id, products), most first.
    pub categories: Vec<(String, u64)>,
    /// (tag name as indexed, lower-case; products), most first.
    pub tags: Vec<(String, u64)>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
}

/// One page of results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hits {
    /// Every match, not only this page.
    pub total: usize,
    /// Product ids of the page, in order.
    pub ids: Vec<String>,
    pub facets: Facets,
}

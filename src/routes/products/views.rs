//! How a product is shown.

use feria_domain::money::add_tax;
use serde::Serialize;
use utoipa::ToSchema;

use crate::services::catalog::products::Product;
use crate::services::catalog::stores::Store;
use feria_domain::decimal::DecimalOut;

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

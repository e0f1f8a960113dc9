//! Products as an answer shows them, read from the database when the answer is written: name,
//! final price, stock and availability, link and photo. The model never types these.

use std::collections::HashMap;

use feria_domain::decimal::DecimalOut;
use feria_domain::money::add_tax;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::services::catalog::products;
use crate::services::catalog::stores::Store;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductCard {
    pub id: String,
    pub name: String,
    /// The final price (taxes included), in the store's currency.
    #[schema(value_type = f64)]
    pub price: DecimalOut,
    /// The same, written for reading (`$15.800`).
    pub price_text: String,
    pub currency: String,
    pub stock: i64,
    /// On sale and in stock.
    pub available: bool,
    /// The product's page on the shop's site.
    pub url: String,
    pub image_url: Option<String>,
    /// The final price in minor units.
    #[serde(skip)]
    pub final_price: i64,
}

impl ProductCard {
    /// How the answer's text names the product: `Vacío ($15.800, 12 disponibles)`.
    pub fn line(&self) -> String {
        let stock = match (self.available, self.stock) {
            (false, _) => "sin stock".to_string(),
            (true, 1) => "1 disponible".to_string(),
            (true, n) => format!("{n} disponibles"),
        };
        format!("{} ({}, {stock})", self.name, self.price_text)
    }
}

/// Cards of the store's products `ids`, in that order, read now; unknown and inactive products
/// are left out.
pub async fn read(app: &App, store: &Store, ids: &[String]) -> Result<Vec<ProductCard>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = products::find_many(&mut *app.db.reader().acquire().await?, &store.id, ids).await?;
    let mut by_id: HashMap<String, products::Product> = found.into_iter().filter(|p| p.is_active).map(|p| (p.id.clone(), p)).collect();
    let exponent = store.currency.exponent();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|p| {
            let price = add_tax(p.price, p.tax_rate_bp);
            ProductCard {
                url: format!("{}/products/{}", app.config.frontend_url, p.id),
                image_url: p.images.first().map(|i| i.url.clone()),
                price: DecimalOut::scaled(price, exponent),
                final_price: price,
                price_text: store.currency.display(price),
                currency: store.currency.code().to_string(),
                available: p.stock > 0,
                stock: p.stock,
                name: p.name,
                id: p.id,
            }
        })
        .collect())
}

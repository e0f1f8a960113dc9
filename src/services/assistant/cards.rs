//! Products as an answer shows them, read from the database when the answer is written: name,
//! final price, stock and availability, link and photo. The model never types these.

use std::collections::HashMap;

use feria_db::placeholders;
use feria_domain::decimal::DecimalOut;
use feria_domain::money::add_tax;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::app::App;
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

/// Cards of the store's products `ids`, in that order, read now in one query; unknown and
/// inactive products are left out.
pub async fn read(app: &App, store: &Store, ids: &[String]) -> Result<Vec<ProductCard>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT p.id, p.name, p.price, p.tax_rate_bp, p.stock,
                (SELECT i.url FROM product_images i WHERE i.product_id = p.id ORDER BY i.position LIMIT 1) AS image_url
         FROM products p WHERE p.store_id = $1 AND p.is_active = 1 AND p.id IN ({})",
        placeholders(2, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(&store.id);
    for id in ids {
        query = query.bind(id);
    }
    let exponent = store.currency.exponent();
    let mut by_id = HashMap::new();
    for row in query.fetch_all(app.db.reader()).await? {
        let (id, stock): (String, i64) = (row.try_get("id")?, row.try_get("stock")?);
        let price = add_tax(row.try_get("price")?, row.try_get("tax_rate_bp")?);
        let card = ProductCard {
            url: format!("{}/products/{id}", app.config.frontend_url),
            image_url: row.try_get("image_url")?,
            price: DecimalOut::scaled(price, exponent),
            final_price: price,
            price_text: store.currency.display(price),
            currency: store.currency.code().to_string(),
            available: stock > 0,
            stock,
            name: row.try_get("name")?,
            id: id.clone(),
        };
        by_id.insert(id, card);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

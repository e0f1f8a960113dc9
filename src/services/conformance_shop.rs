//! The shop the Universal Commerce Protocol's conformance suite expects (its
//! `test_data/flower_shop` CSV files), loaded into the default store: prices in US dollars,
//! products by SKU with their stock, discount codes as coupons, shipping rates with the
//! free-shipping threshold. Loading again changes nothing already there.

use std::path::Path;

use feria_db::AnyConnection;

use crate::app::App;
use crate::services::catalog::products::{self, ProductData};
use crate::services::catalog::stores;
use crate::services::catalog::taxonomy::{self, Taxonomy};
use crate::services::coupons::{self, CouponFields, DiscountType};
use crate::services::shipping_rates::{self, RateFields};

/// What loading did.
#[derive(Debug, Default)]
pub struct Loaded {
    pub products: usize,
    pub coupons: usize,
    pub rates: usize,
    /// Rows feria does not take, with why.
    pub skipped: Vec<String>,
}

/// The rows of `dir/name` as maps from header to value.
fn rows(dir: &Path, name: &str) -> anyhow::Result<Vec<std::collections::HashMap<String, String>>> {
    let path = dir.join(name);
    let mut reader = csv::Reader::from_path(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let headers = reader.headers()?.clone();
    reader.records().map(|r| Ok(headers.iter().map(str::to_string).zip(r?.iter().map(|v| v.trim().to_string())).collect())).collect()
}

fn field<'a>(row: &'a std::collections::HashMap<String, String>, name: &str) -> anyhow::Result<&'a str> {
    row.get(name).map(String::as_str).ok_or_else(|| anyhow::anyhow!("missing column {name}"))
}

/// Loads the flower shop of `dir` into the default store, which must have no orders yet (its
/// currency becomes USD).
pub async fn load(app: &App, dir: &Path) -> anyhow::Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut tx = app.db.begin().await?;
    let store = stores::ensure_default(&mut tx).await?;
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE store_id = $1").bind(&store.id).fetch_one(&mut *tx).await?;
    if orders > 0 && store.currency.code() != "USD" {
        anyhow::bail!("the default store already has orders in {}; load the flower shop into a new database", store.currency.code());
    }
    sqlx::query("UPDATE stores SET currency = 'USD', country = 'US' WHERE id = $1").bind(&store.id).execute(&mut *tx).await?;
    load_products(&mut tx, &store.id, dir, &mut loaded).await?;
    tx.commit().await?;
    app.catalog_changed(None).await;

    for row in rows(dir, "discounts.csv")? {
        let code = field(&row, "code")?.to_uppercase();
        let value: i64 = field(&row, "value")?.parse()?;
        let (discount_type, discount_value) = match field(&row, "type")? {
            "percentage" => (DiscountType::Percentage, value * 100),
            "fixed_amount" => (DiscountType::Fixed, value),
            other => {
                loaded.skipped.push(format!("discount {code}: type {other}"));
                continue;
            }
        };
        if coupons::find_by_code(&mut *app.db.reader().acquire().await?, &store.id, &code).await?.is_some() {
            continue;
        }
        let fields = CouponFields {
            code: Some(code),
            description: Some(field(&row, "description")?.to_string()),
            discount_type: Some(discount_type),
            discount_value: Some(discount_value),
            ..CouponFields::default()
        };
        coupons::create(&app.db, &store.id, fields).await.map_err(|e| anyhow::anyhow!("coupon: {e}"))?;
        loaded.coupons += 1;
    }

    // Free shipping from a subtotal applies to the standard rates; by item it is not a feria rule.
    let mut free_from = None;
    for row in rows(dir, "promotions.csv")? {
        match (field(&row, "type")?, field(&row, "min_subtotal")?) {
            ("free_shipping", min) if !min.is_empty() => free_from = Some(min.parse::<i64>()?),
            _ => loaded.skipped.push(format!("promotion {}: {}", field(&row, "id")?, field(&row, "description")?)),
        }
    }
    let existing = shipping_rates::list(&app.db, &store.id).await.map_err(|e| anyhow::anyhow!("shipping rates: {e}"))?;
    for row in rows(dir, "shipping_rates.csv")? {
        let code = field(&row, "id")?.to_lowercase();
        if existing.iter().any(|r| r.code == code) {
            continue;
        }
        let country = field(&row, "country_code")?;
        let level = field(&row, "service_level")?.to_lowercase();
        let fields = RateFields {
            code: Some(code),
            title: Some(field(&row, "title")?.to_string()),
            country: Some((country != "default").then(|| country.to_uppercase())),
            free_from: Some(free_from.filter(|_| level == "standard")),
            service_level: Some(level),
            price: Some(field(&row, "price")?.parse()?),
            is_active: Some(true),
        };
        shipping_rates::create(&app.db, &store.id, fields).await.map_err(|e| anyhow::anyhow!("shipping rate: {e}"))?;
        loaded.rates += 1;
    }
    loaded.skipped.push(
        "customers.csv and addresses.csv: feria does not give a buyer's saved addresses to an agent that only knows their email".into(),
    );
    Ok(loaded)
}

async fn load_products(conn: &mut AnyConnection, store_id: &str, dir: &Path, loaded: &mut Loaded) -> anyhow::Result<()> {
    let stock: std::collections::HashMap<String, i64> = rows(dir, "inventory.csv")?
        .iter()
        .map(|r| Ok((field(r, "product_id")?.to_string(), field(r, "quantity")?.parse()?)))
        .collect::<anyhow::Result<_>>()?;
    let category = taxonomy::find_or_create(conn, Taxonomy::Category, store_id, "Flores").await?;
    let unit = taxonomy::find_or_create(conn, Taxonomy::Unit, store_id, "Unidad").await?;
    for row in rows(dir, "products.csv")? {
        let sku = field(&row, "id")?;
        if products::find_by_sku(conn, store_id, sku).await?.is_some() {
            continue;
        }
        let data = ProductData {
            name: field(&row, "title")?.to_string(),
            description: field(&row, "title")?.to_string(),
            sku: Some(sku.to_string()),
            price: field(&row, "price")?.parse()?,
            tax_rate_bp: 0,
            stock: stock.get(sku).copied().unwrap_or(0),
            is_active: true,
            weight_grams: None,
            dimensions: None,
            category_id: category.id.clone(),
            unit_id: unit.id.clone(),
            tags: Vec::new(),
        };
        products::create(conn, store_id, &data).await.map_err(|e| anyhow::anyhow!("product {sku}: {e:?}"))?;
        loaded.products += 1;
    }
    Ok(())
}

//! Products of a store, with their category, unit, tags and ordered images.

use std::collections::HashMap;

use feria_db::{AnyConnection, AnyRow, Args, Row, placeholders};
use feria_domain::{ids::new_id, time};

use super::taxonomy::{self, Taxonomy};

/// A product with everything the API shows about it.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub store_id: String,
    pub name: String,
    pub description: String,
    pub sku: Option<String>,
    /// Net price in the store currency's minor units.
    pub price: i64,
    /// Tax rate in hundredths of a percent (21 % = 2100).
    pub tax_rate_bp: i64,
    pub stock: i64,
    pub is_active: bool,
    pub weight_grams: Option<i64>,
    pub dimensions: Option<String>,
    pub category: NamedRef,
    pub unit: NamedRef,
    /// Tag names, alphabetical.
    pub tags: Vec<String>,
    /// Images in display order.
    pub images: Vec<Image>,
    pub created_at: String,
    pub updated_at: String,
}

/// A category or unit as embedded in a product.
#[derive(Debug, Clone)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
    /// Category description, or unit abbreviation.
    pub detail: Option<String>,
}

/// A product image.
#[derive(Debug, Clone)]
pub struct Image {
    pub url: String,
    pub storage_key: String,
    pub position: i64,
}

const SELECT: &str = "SELECT p.id, p.store_id, p.name, p.description, p.sku, p.price, p.tax_rate_bp, p.stock, p.is_active,
        p.weight_grams, p.dimensions, p.created_at, p.updated_at,
        c.id AS category_id, c.name AS category_name, c.description AS category_description,
        u.id AS unit_id, u.name AS unit_name, u.abbreviation AS unit_abbreviation
    FROM products p JOIN categories c ON c.id = p.category_id JOIN units u ON u.id = p.unit_id";

fn from_row(row: &AnyRow) -> Result<Product, sqlx::Error> {
    Ok(Product {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        sku: row.try_get("sku")?,
        price: row.try_get("price")?,
        tax_rate_bp: row.try_get("tax_rate_bp")?,
        stock: row.try_get("stock")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        weight_grams: row.try_get("weight_grams")?,
        dimensions: row.try_get("dimensions")?,
        category: NamedRef {
            id: row.try_get("category_id")?,
            name: row.try_get("category_name")?,
            detail: row.try_get("category_description")?,
        },
        unit: NamedRef { id: row.try_get("unit_id")?, name: row.try_get("unit_name")?, detail: row.try_get("unit_abbreviation")? },
        tags: Vec::new(),
        images: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Fills in tags and images for `products` with one query each.
async fn attach_details(conn: &mut AnyConnection, products: &mut [Product]) -> Result<(), sqlx::Error> {
    if products.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = products.iter().map(|p| p.id.as_str()).collect();
    let list = placeholders(1, ids.len());
    let tags_sql = format!(
        "SELECT pt.product_id, t.name FROM product_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.product_id IN ({list}) ORDER BY t.name_key"
    );
    let mut query = sqlx::query(&tags_sql);
    for id in &ids {
        query = query.bind(*id);
    }
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for row in query.fetch_all(&mut *conn).await? {
        tags.entry(row.try_get("product_id")?).or_default().push(row.try_get("name")?);
    }
    let images_sql =
        format!("SELECT product_id, url, storage_key, position FROM product_images WHERE product_id IN ({list}) ORDER BY position");
    let mut query = sqlx::query(&images_sql);
    for id in &ids {
        query = query.bind(*id);
    }
    let mut images: HashMap<String, Vec<Image>> = HashMap::new();
    for row in query.fetch_all(&mut *conn).await? {
        let image = Image { url: row.try_get("url")?, storage_key: row.try_get("storage_key")?, position: row.try_get("position")? };
        images.entry(row.try_get("product_id")?).or_default().push(image);
    }
    for product in products.iter_mut() {
        product.tags = tags.remove(&product.id).unwrap_or_default();
        product.images = images.remove(&product.id).unwrap_or_default();
    }
    Ok(())
}

/// Notes in the change log that `product_id` changed, so every node's search index follows.
pub async fn record_change(conn: &mut AnyConnection, store_id: &str, product_id: &str) -> Result<(), sqlx::Error> {
    record_changes(conn, store_id, &[product_id.to_string()]).await
}

/// [`record_change`] for several products, in one statement.
pub async fn record_changes(conn: &mut AnyConnection, store_id: &str, product_ids: &[String]) -> Result<(), sqlx::Error> {
    if product_ids.is_empty() {
        return Ok(());
    }
    let mut args = Args::default();
    let sql = changes_sql(&mut args, store_id, product_ids);
    sqlx::query_with(&sql, args.into_inner()).execute(conn).await?;
    Ok(())
}

/// The statement of [`record_changes`] (`product_ids` not empty), to join with others.
pub fn changes_sql(args: &mut Args<'_>, store_id: &str, product_ids: &[String]) -> String {
    let (store, at) = (args.add(store_id.to_string()), args.add(time::to_db(time::now())));
    let values: Vec<String> =
        product_ids.iter().map(|id| format!("({}, {store}, {}, {at})", args.add(new_id()), args.add(id.clone()))).collect();
    format!("INSERT INTO catalog_changes (id, store_id, product_id, changed_at) VALUES {}", values.join(", "))
}

/// Notes a change for every product using the category, unit or tag `entry_id` (its name is
/// part of their cached and indexed entries).
pub async fn record_usage_change(conn: &mut AnyConnection, kind: Taxonomy, store_id: &str, entry_id: &str) -> Result<(), sqlx::Error> {
    let users = match kind {
        Taxonomy::Category => "SELECT id AS product_id FROM products WHERE category_id = $4",
        Taxonomy::Unit => "SELECT id AS product_id FROM products WHERE unit_id = $4",
        Taxonomy::Tag => "SELECT product_id FROM product_tags WHERE tag_id = $4",
    };
    let sql = format!(
        "INSERT INTO catalog_changes (id, store_id, product_id, changed_at) SELECT $1 || u.product_id, $2, u.product_id, $3 FROM ({users}) u"
    );
    sqlx::query(&sql).bind(new_id()).bind(store_id).bind(time::to_db(time::now())).bind(entry_id).execute(conn).await?;
    Ok(())
}

/// The given products of the store, in the order of `ids` (unknown ids are skipped).
pub async fn find_many(conn: &mut AnyConnection, store_id: &str, ids: &[String]) -> Result<Vec<Product>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{SELECT} WHERE p.store_id = $1 AND p.id IN ({})", placeholders(2, ids.len()));
    let mut query = sqlx::query(&sql).bind(store_id);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut found = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    attach_details(conn, &mut found).await?;
    let mut by_id: HashMap<String, Product> = found.into_iter().map(|p| (p.id.clone(), p)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// What an order needs of a product: the price and stock as they are now.
#[derive(Debug, Clone)]
pub struct Priced {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub tax_rate_bp: i64,
    pub is_active: bool,
}

/// The store's products with `ids` priced for an order (unknown ids skipped), in one query.
pub async fn priced(conn: &mut AnyConnection, store_id: &str, ids: &[String]) -> Result<Vec<Priced>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, name, price, tax_rate_bp, is_active FROM products WHERE store_id = $1 AND id IN ({})",
        placeholders(2, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(store_id);
    for id in ids {
        query = query.bind(id);
    }
    query
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Priced {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                price: r.try_get("price")?,
                tax_rate_bp: r.try_get("tax_rate_bp")?,
                is_active: r.try_get::<i64, _>("is_active")? != 0,
            })
        })
        .collect()
}

/// Which products a listing shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only active products (the public listings).
    pub active_only: bool,
    pub category_id: Option<String>,
}

/// One page of the store's products, newest first, with the total.
pub async fn list(
    conn: &mut AnyConnection,
    store_id: &str,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Product>), sqlx::Error> {
    let mut conditions = vec!["p.store_id = $1".to_string(), "(p.is_active = 1 OR $2 = 0)".to_string()];
    if filter.category_id.is_some() {
        conditions.push("p.category_id = $3".into());
    }
    let filter_sql = conditions.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM products p WHERE {filter_sql}");
    let n = if filter.category_id.is_some() { 4 } else { 3 };
    let page_sql = format!("{SELECT} WHERE {filter_sql} ORDER BY p.created_at DESC, p.id DESC LIMIT ${n} OFFSET ${}", n + 1);
    let active = feria_db::flag(filter.active_only);
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(store_id).bind(active);
    let mut page = sqlx::query(&page_sql).bind(store_id).bind(active);
    if let Some(category_id) = &filter.category_id {
        count = count.bind(category_id);
        page = page.bind(category_id);
    }
    let total = count.fetch_one(&mut *conn).await?;
    let rows = page.bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    let mut products = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    attach_details(conn, &mut products).await?;
    Ok((total, products))
}

/// One product of the store.
pub async fn find(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<Product>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE p.id = $1 AND p.store_id = $2");
    let Some(row) = sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(&mut *conn).await? else { return Ok(None) };
    let mut products = vec![from_row(&row)?];
    attach_details(conn, &mut products).await?;
    Ok(products.pop())
}

/// The store's product with `sku`.
pub async fn find_by_sku(conn: &mut AnyConnection, store_id: &str, sku: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM products WHERE store_id = $1 AND sku = $2").bind(store_id).bind(sku).fetch_optional(conn).await
}

/// Every field of a product as written (validated by the caller).
#[derive(Debug, Clone)]
pub struct ProductData {
    pub name: String,
    pub description: String,
    pub sku: Option<String>,
    pub price: i64,
    pub tax_rate_bp: i64,
    pub stock: i64,
    pub is_active: bool,
    pub weight_grams: Option<i64>,
    pub dimensions: Option<String>,
    pub category_id: String,
    pub unit_id: String,
    pub tags: Vec<String>,
}

impl ProductData {
    /// The current values of `product`, to apply a partial update on.
    pub fn of(product: &Product) -> ProductData {
        ProductData {
            name: product.name.clone(),
            description: product.description.clone(),
            sku: product.sku.clone(),
            price: product.price,
            tax_rate_bp: product.tax_rate_bp,
            stock: product.stock,
            is_active: product.is_active,
            weight_grams: product.weight_grams,
            dimensions: product.dimensions.clone(),
            category_id: product.category.id.clone(),
            unit_id: product.unit.id.clone(),
            tags: product.tags.clone(),
        }
    }
}

/// Why a write was refused.
#[derive(Debug)]
pub enum WriteError {
    /// The category is not one of the store's.
    UnknownCategory,
    /// The unit is not one of the store's.
    UnknownUnit,
    /// Another product of the store has this SKU.
    SkuTaken,
    /// No such product in the store.
    UnknownProduct,
    /// The caller's role may not make this change (a price, without `prices:write`).
    NotAllowed,
    /// The image store or bucket failed; nothing was saved.
    ImageStorage(crate::services::files::FileError),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> WriteError {
        match feria_db::unique_violation(&e) {
            Some("products_sku_key") => WriteError::SkuTaken,
            _ => WriteError::Database(e),
        }
    }
}

async fn check_refs(conn: &mut AnyConnection, store_id: &str, data: &ProductData) -> Result<(), WriteError> {
    if taxonomy::find(conn, Taxonomy::Category, store_id, &data.category_id).await?.is_none() {
        return Err(WriteError::UnknownCategory);
    }
    if taxonomy::find(conn, Taxonomy::Unit, store_id, &data.unit_id).await?.is_none() {
        return Err(WriteError::UnknownUnit);
    }
    Ok(())
}

async fn set_tags(conn: &mut AnyConnection, store_id: &str, product_id: &str, names: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM product_tags WHERE product_id = $1").bind(product_id).execute(&mut *conn).await?;
    for name in names {
        let tag = taxonomy::find_or_create(conn, Taxonomy::Tag, store_id, name).await?;
        sqlx::query("INSERT INTO product_tags (product_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(product_id)
            .bind(&tag.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Replaces the product's images with `images` (already stored), in order.
pub async fn set_images(
    conn: &mut AnyConnection,
    product_id: &str,
    images: &[crate::services::files::StoredFile],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM product_images WHERE product_id = $1").bind(product_id).execute(&mut *conn).await?;
    let now = time::to_db(time::now());
    for (position, image) in images.iter().enumerate() {
        sqlx::query("INSERT INTO product_images (id, product_id, position, storage_key, url, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(product_id)
            .bind(position as i64)
            .bind(&image.key)
            .bind(&image.url)
            .bind(&now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts a product with its tags (created in the store when new).
pub async fn create(conn: &mut AnyConnection, store_id: &str, data: &ProductData) -> Result<String, WriteError> {
    check_refs(conn, store_id, data).await?;
    let id = new_id();
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO products (id, store_id, category_id, unit_id, name, description, sku, price, tax_rate_bp, stock, is_active,
             weight_grams, dimensions, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(&data.category_id)
    .bind(&data.unit_id)
    .bind(&data.name)
    .bind(&data.description)
    .bind(&data.sku)
    .bind(data.price)
    .bind(data.tax_rate_bp)
    .bind(data.stock)
    .bind(feria_db::flag(data.is_active))
    .bind(data.weight_grams)
    .bind(&data.dimensions)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    set_tags(conn, store_id, &id, &data.tags).await?;
    record_change(conn, store_id, &id).await?;
    Ok(id)
}

/// Overwrites a product's fields and tags; false when the store has no such product.
pub async fn update(conn: &mut AnyConnection, store_id: &str, id: &str, data: &ProductData) -> Result<bool, WriteError> {
    check_refs(conn, store_id, data).await?;
    let updated = sqlx::query(
        "UPDATE products SET category_id = $1, unit_id = $2, name = $3, description = $4, sku = $5, price = $6, tax_rate_bp = $7,
             stock = $8, is_active = $9, weight_grams = $10, dimensions = $11, updated_at = $12
         WHERE id = $13 AND store_id = $14",
    )
    .bind(&data.category_id)
    .bind(&data.unit_id)
    .bind(&data.name)
    .bind(&data.description)
    .bind(&data.sku)
    .bind(data.price)
    .bind(data.tax_rate_bp)
    .bind(data.stock)
    .bind(feria_db::flag(data.is_active))
    .bind(data.weight_grams)
    .bind(&data.dimensions)
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if updated {
        set_tags(conn, store_id, id, &data.tags).await?;
        record_change(conn, store_id, id).await?;
    }
    Ok(updated)
}

/// Deletes a product (its tags and image rows go with it); false when the store has none.
pub async fn delete(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM products WHERE id = $1 AND store_id = $2").bind(id).bind(store_id).execute(&mut *conn).await?;
    let deleted = result.rows_affected() == 1;
    if deleted {
        record_change(conn, store_id, id).await?;
    }
    Ok(deleted)
}

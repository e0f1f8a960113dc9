//! What a shop owner asks about their shop: sales in a period, by day, product or category,
//! and the products about to run out. Read-only; amounts in minor units.

use feria_db::{AnyConnection, Row};

/// Orders that do not count as sales: given up or given back.
const NOT_SOLD: &str = "('CANCELLED', 'REFUNDED')";

/// A period, as stored times: from (inclusive) to (exclusive).
#[derive(Debug, Clone)]
pub struct Period {
    pub from: String,
    pub until: String,
}

/// The shop's figures over a period.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Every order placed in the period.
    pub orders: i64,
    /// Of those, the ones that count as sales (not cancelled or refunded).
    pub sold_orders: i64,
    /// What the sold orders total, tax and shipping included.
    pub revenue: i64,
    /// Units of products sold.
    pub units: i64,
    /// Customers first seen in the period.
    pub new_customers: i64,
    /// Orders per status now, of those placed in the period: (code, name, count).
    pub by_status: Vec<(String, String, i64)>,
    pub active_products: i64,
    /// Active products with at most [`LOW_STOCK_DEFAULT`] units.
    pub low_stock_products: i64,
}

/// Units at or under which a product is "about to run out" unless the owner says otherwise.
pub const LOW_STOCK_DEFAULT: i64 = 5;

/// The store's figures over `period`.
pub async fn business_stats(conn: &mut AnyConnection, store_id: &str, period: &Period) -> Result<Stats, sqlx::Error> {
    let in_period = "o.store_id = $1 AND o.created_at >= $2 AND o.created_at < $3";
    let sold: (i64, i64) = {
        let sql = format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(o.total), 0) AS BIGINT) FROM orders o JOIN order_statuses s ON s.id = o.status_id
             WHERE {in_period} AND s.code NOT IN {NOT_SOLD}"
        );
        let row = sqlx::query(&sql).bind(store_id).bind(&period.from).bind(&period.until).fetch_one(&mut *conn).await?;
        (row.try_get(0)?, row.try_get(1)?)
    };
    let units: i64 = {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM order_items i JOIN orders o ON o.id = i.order_id
             JOIN order_statuses s ON s.id = o.status_id WHERE {in_period} AND s.code NOT IN {NOT_SOLD}"
        );
        sqlx::query_scalar(&sql).bind(store_id).bind(&period.from).bind(&period.until).fetch_one(&mut *conn).await?
    };
    let by_status = {
        let sql = format!(
            "SELECT s.code, s.name, COUNT(*) AS n FROM orders o JOIN order_statuses s ON s.id = o.status_id
             WHERE {in_period} GROUP BY s.code, s.name, s.position ORDER BY s.position"
        );
        let rows = sqlx::query(&sql).bind(store_id).bind(&period.from).bind(&period.until).fetch_all(&mut *conn).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect::<Result<Vec<_>, sqlx::Error>>()?
    };
    let new_customers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE store_id = $1 AND created_at >= $2 AND created_at < $3")
            .bind(store_id)
            .bind(&period.from)
            .bind(&period.until)
            .fetch_one(&mut *conn)
            .await?;
    let products = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN stock <= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM products WHERE store_id = $1 AND is_active = 1",
    )
    .bind(store_id)
    .bind(LOW_STOCK_DEFAULT)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Stats {
        orders: by_status.iter().map(|(_, _, n)| n).sum(),
        sold_orders: sold.0,
        revenue: sold.1,
        units,
        new_customers,
        by_status,
        active_products: products.try_get(0)?,
        low_stock_products: products.try_get(1)?,
    })
}

/// How a sales summary is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Product,
    Category,
}

/// One group of a sales summary.
#[derive(Debug, Clone)]
pub struct SalesRow {
    /// The day (`2026-12-01`, UTC), product id or category id (`None`: deleted or none).
    pub key: Option<String>,
    pub label: String,
    pub orders: i64,
    pub units: i64,
    /// What the lines sold, after discounts, tax included (shipping is per order, not per line).
    pub revenue: i64,
}

/// Sales of `period` grouped `by`, the biggest first (by day: in date order), at most `limit` groups.
pub async fn sales_summary(
    conn: &mut AnyConnection,
    store_id: &str,
    period: &Period,
    by: GroupBy,
    limit: i64,
) -> Result<Vec<SalesRow>, sqlx::Error> {
    let (key, label, join, order) = match by {
        GroupBy::Day => ("SUBSTR(o.created_at, 1, 10)", "SUBSTR(o.created_at, 1, 10)", "", "k"),
        GroupBy::Product => ("i.product_id", "MAX(i.product_name)", "", "revenue DESC, k"),
        GroupBy::Category => (
            "c.id",
            "MAX(c.name)",
            "LEFT JOIN products p ON p.id = i.product_id LEFT JOIN categories c ON c.id = p.category_id",
            "revenue DESC, k",
        ),
    };
    let sql = format!(
        "SELECT {key} AS k, {label} AS label, COUNT(DISTINCT o.id) AS orders, CAST(SUM(i.quantity) AS BIGINT) AS units,
                CAST(SUM(i.net - i.discount + i.tax) AS BIGINT) AS revenue
         FROM order_items i JOIN orders o ON o.id = i.order_id JOIN order_statuses s ON s.id = o.status_id {join}
         WHERE o.store_id = $1 AND o.created_at >= $2 AND o.created_at < $3 AND s.code NOT IN {NOT_SOLD}
         GROUP BY {key} ORDER BY {order} LIMIT $4"
    );
    let rows = sqlx::query(&sql).bind(store_id).bind(&period.from).bind(&period.until).bind(limit).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let key: Option<String> = r.try_get("k")?;
            let label: Option<String> = r.try_get("label")?;
            Ok(SalesRow {
                label: label.unwrap_or_else(|| "Sin categoría".into()),
                key,
                orders: r.try_get("orders")?,
                units: r.try_get("units")?,
                revenue: r.try_get("revenue")?,
            })
        })
        .collect()
}

/// An active product about to run out.
#[derive(Debug, Clone)]
pub struct LowStock {
    pub id: String,
    pub name: String,
    pub sku: Option<String>,
    pub stock: i64,
}

/// The store's active products with at most `threshold` units, fewest first, at most `limit`;
/// with how many there are in all.
pub async fn low_stock(conn: &mut AnyConnection, store_id: &str, threshold: i64, limit: i64) -> Result<(i64, Vec<LowStock>), sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE store_id = $1 AND is_active = 1 AND stock <= $2")
        .bind(store_id)
        .bind(threshold)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "SELECT id, name, sku, stock FROM products WHERE store_id = $1 AND is_active = 1 AND stock <= $2 ORDER BY stock, name, id LIMIT $3",
    )
    .bind(store_id)
    .bind(threshold)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let found = rows
        .iter()
        .map(|r| Ok(LowStock { id: r.try_get("id")?, name: r.try_get("name")?, sku: r.try_get("sku")?, stock: r.try_get("stock")? }))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((total, found))
}

/// A customer who bought in the store, but not since a date.
#[derive(Debug, Clone)]
pub struct Lapsed {
    pub id: String,
    pub name: String,
    pub email: String,
    pub orders: i64,
    pub last_order_at: String,
    pub spent: i64,
}

/// The store's customers whose last sale (cancelled and refunded orders aside) is before
/// `before`, the most recent first; and how many there are.
pub async fn lapsed_customers(
    conn: &mut AnyConnection,
    store_id: &str,
    before: &str,
    limit: i64,
) -> Result<(i64, Vec<Lapsed>), sqlx::Error> {
    let grouped = format!(
        "SELECT c.id, c.name, c.email, COUNT(o.id) AS orders, MAX(o.created_at) AS last_order_at, CAST(SUM(o.total) AS BIGINT) AS spent
         FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_statuses s ON s.id = o.status_id
         WHERE o.store_id = $1 AND s.code NOT IN {NOT_SOLD}
         GROUP BY c.id, c.name, c.email HAVING MAX(o.created_at) < $2"
    );
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ({grouped}) lapsed")).bind(store_id).bind(before).fetch_one(&mut *conn).await?;
    let rows = sqlx::query(&format!("{grouped} ORDER BY last_order_at DESC, c.id LIMIT $3"))
        .bind(store_id)
        .bind(before)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let customers = rows
        .iter()
        .map(|r| {
            Ok(Lapsed {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                email: r.try_get("email")?,
                orders: r.try_get("orders")?,
                last_order_at: r.try_get("last_order_at")?,
                spent: r.try_get("spent")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((total, customers))
}

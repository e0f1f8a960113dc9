//! Low stock: when an order is fanned out, each of its products left with at most
//! [`LOW_STOCK_DEFAULT`] units raises a `low_stock` event for the store's staff, once a day per
//! product however many orders take from it.

use feria_db::{AnyConnection, Args, Row};
use feria_domain::notify::EventKind;
use feria_domain::time;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::events::NewEvent;
use crate::services::orders::Order;
use crate::services::reports::LOW_STOCK_DEFAULT;

/// Of the store's products `ids`, those left with at most [`LOW_STOCK_DEFAULT`] units, by id,
/// as a `low_stock` event shows them.
pub async fn low(conn: &mut AnyConnection, store_id: &str, ids: &[&str]) -> Result<HashMap<String, Value>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut args = Args::default();
    let store = args.add(store_id.to_string());
    let threshold = args.add(LOW_STOCK_DEFAULT);
    let ids: Vec<String> = ids.iter().map(|id| args.add(id.to_string())).collect();
    let sql = format!(
        "SELECT id, name, sku, stock FROM products WHERE store_id = {store} AND is_active = 1 AND stock <= {threshold} AND id IN ({})",
        ids.join(", ")
    );
    let rows = sqlx::query_with(&sql, args.into_inner()).fetch_all(conn).await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let product = json!({
                "id": id, "name": r.try_get::<String, _>("name")?, "sku": r.try_get::<Option<String>, _>("sku")?,
                "stock": r.try_get::<i64, _>("stock")?, "threshold": LOW_STOCK_DEFAULT,
            });
            Ok((id, product))
        })
        .collect()
}

/// The `low_stock` events `order` (of `store_id`) raises, given the store's `low` products (see
/// [`low`]).
pub fn raised(store_id: &str, order: &Order, low: &HashMap<String, Value>) -> Vec<NewEvent> {
    let today = time::to_db(time::now()).get(..10).unwrap_or_default().to_string();
    let mut ids: Vec<&String> = order.lines.iter().map(|l| &l.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| low.get(id))
        .map(|product| NewEvent {
            store_id: Some(store_id.to_string()),
            kind: EventKind::LowStock,
            dedupe_key: format!("low_stock:{}:{today}", product["id"].as_str().unwrap_or_default()),
            data: json!({"product": product}),
            secret: false,
            fan_out_at: None,
        })
        .collect()
}

//! Low stock: when an order is fanned out, each of its products left with at most
//! [`LOW_STOCK_DEFAULT`] units raises a `low_stock` event for the store's staff, once a day per
//! product however many orders take from it.

use feria_db::{AnyConnection, Args, Row};
use feria_domain::notify::EventKind;
use feria_domain::time;
use serde_json::json;

use super::events::NewEvent;
use crate::services::orders::Order;
use crate::services::reports::LOW_STOCK_DEFAULT;

/// The `low_stock` events `order` (of `store_id`) raises.
pub async fn raised(conn: &mut AnyConnection, store_id: &str, order: &Order) -> Result<Vec<NewEvent>, sqlx::Error> {
    if order.lines.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let store = args.add(store_id.to_string());
    let threshold = args.add(LOW_STOCK_DEFAULT);
    let ids: Vec<String> = order.lines.iter().map(|l| args.add(l.product_id.clone())).collect();
    let sql = format!(
        "SELECT id, name, sku, stock FROM products WHERE store_id = {store} AND is_active = 1 AND stock <= {threshold} AND id IN ({})",
        ids.join(", ")
    );
    let rows = sqlx::query_with(&sql, args.into_inner()).fetch_all(conn).await?;
    let today = time::to_db(time::now()).get(..10).unwrap_or_default().to_string();
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let product = json!({
                "id": id, "name": r.try_get::<String, _>("name")?, "sku": r.try_get::<Option<String>, _>("sku")?,
                "stock": r.try_get::<i64, _>("stock")?, "threshold": LOW_STOCK_DEFAULT,
            });
            Ok(NewEvent {
                store_id: Some(store_id.to_string()),
                kind: EventKind::LowStock,
                dedupe_key: format!("low_stock:{id}:{today}"),
                data: json!({"product": product}),
                secret: false,
                fan_out_at: None,
            })
        })
        .collect()
}

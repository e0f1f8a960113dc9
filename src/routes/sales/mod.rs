//! `/api/sales` (seed 001 "Pedidos/Ventas"), also under `/api/stores/{slug}/…`: placing an
//! order as a guest or a logged-in user, reading it, and the user's own orders.

mod edit;
mod place;
mod read;
mod status;
mod tracking;
mod views;

pub use edit::*;
pub use place::*;
pub use read::*;
pub use status::*;
pub use tracking::*;
pub use views::*;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::validate::Validator;
use crate::services::orders::RequestedLine;
use feria_domain::decimal::DecimalText;

/// One requested line. `unitPrice` and `taxRate` are accepted but never trusted: the catalog's
/// apply, and a different `unitPrice` is reported in `warnings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleItemRequest {
    pub product_id: Option<String>,
    /// A whole number ≥ 1.
    #[schema(value_type = Option<i64>)]
    pub quantity: Option<DecimalText>,
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<DecimalText>,
    #[schema(value_type = Option<f64>)]
    pub tax_rate: Option<DecimalText>,
}

/// `{order, warnings}` after placing or editing.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalePlaced {
    pub order: SaleView,
    /// Notes for the client, e.g. a `unitPrice` that was not the catalog's.
    pub warnings: Vec<String>,
}

/// The validated lines of the request.
fn lines(v: &mut Validator, items: Option<Vec<SaleItemRequest>>, exponent: u32) -> Vec<RequestedLine> {
    let items = items.unwrap_or_default();
    if items.is_empty() {
        v.add("items", "Debe tener al menos un producto");
    }
    if items.len() > MAX_LINES {
        v.add("items", format!("Como máximo {MAX_LINES} productos por pedido"));
        return Vec::new();
    }
    let mut lines: Vec<RequestedLine> = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let product_id = v.text(&format!("items[{i}].productId"), item.product_id.as_deref(), 1, 100);
        let quantity = v.quantity(&format!("items[{i}].quantity"), item.quantity.as_ref(), 1).unwrap_or(0);
        // A client price that is not a price at all is ignored like any other client price.
        let client_unit_price = item.unit_price.as_ref().and_then(|p| feria_domain::money::parse_scaled(&p.0, exponent).ok());
        if !product_id.is_empty() && !seen.insert(product_id.clone()) {
            v.add(&format!("items[{i}].productId"), "El producto está repetido; sumá las cantidades en una línea");
        }
        lines.push(RequestedLine { product_id, quantity, client_unit_price });
    }
    lines
}

/// Most lines an order may have.
const MAX_LINES: usize = 100;

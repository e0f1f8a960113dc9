//! Editing a placed order (seed 001 `PUT /api/sales/:id`) while it is still PENDING or
//! CONFIRMED: lines, shipping details, notes and coupon, in one transaction. Stock moves by the
//! difference between the old and the new quantities, a new coupon must still be usable (the
//! one it replaces counts one use less, as uses are the orders applying a coupon), and the
//! totals are recomputed.
//!
//! Lines of products already on the order keep the price and tax rate they were sold at; new
//! products come at the catalog's price. The order row is locked first (then a limited coupon,
//! then products, like placing and cancelling), so an edit and a status change never interleave.

use std::collections::HashMap;

use feria_db::AnyConnection;
use feria_domain::pricing;
use feria_domain::time;

use crate::app::App;
use crate::services::catalog::products;
use crate::services::catalog::stores::Store;
use crate::services::coupons::{self, Coupon, Refusal};
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;
use crate::services::order_writes::{self, SoldLine, StatusEntry, StockMove};
use crate::services::orders::{self, Order, OrderError, RequestedLine, ShippingAddress};
use feria_domain::access::Scope;

/// The statuses in which an order can still be edited.
pub const EDITABLE: [&str; 2] = ["PENDING", "CONFIRMED"];

/// Changes to the shipping snapshot; `None` keeps the current value, and for the optional
/// fields `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ShippingChanges {
    pub recipient: Option<String>,
    pub phone: Option<Option<String>>,
    pub street: Option<String>,
    pub number: Option<String>,
    pub neighborhood: Option<String>,
    pub city: Option<String>,
    pub zip_code: Option<Option<String>>,
    pub details: Option<Option<String>>,
}

impl ShippingChanges {
    fn apply(self, current: ShippingAddress) -> ShippingAddress {
        ShippingAddress {
            recipient: self.recipient.unwrap_or(current.recipient),
            phone: self.phone.unwrap_or(current.phone),
            street: self.street.unwrap_or(current.street),
            number: self.number.unwrap_or(current.number),
            neighborhood: self.neighborhood.unwrap_or(current.neighborhood),
            city: self.city.unwrap_or(current.city),
            zip_code: self.zip_code.unwrap_or(current.zip_code),
            details: self.details.unwrap_or(current.details),
        }
    }
}

/// What changes (validated); `None` keeps the current value.
#[derive(Default)]
pub struct OrderChanges {
    /// The order's new lines, replacing all of the current ones.
    pub lines: Option<Vec<RequestedLine>>,
    pub shipping: ShippingChanges,
    /// `Some(None)` clears the notes.
    pub notes: Option<Option<String>>,
    /// `Some(None)` removes the coupon.
    pub coupon_code: Option<Option<String>>,
}

/// Who edits: an admin (PENDING or CONFIRMED) or the user who placed it (PENDING only).
enum Editor<'a> {
    Admin(&'a str),
    Owner(&'a str),
}

/// An edited order.
pub struct Edited {
    pub order: Order,
    /// Product ids whose stock changed.
    pub products: Vec<String>,
    /// Human notes, e.g. a client price that was not the one applied.
    pub warnings: Vec<String>,
}

/// Applies `changes` to the store's order `order_id` for `caller`: the shop (`orders:write`)
/// edits any order of the store while it is PENDING or CONFIRMED, a buyer their own while it
/// is PENDING.
pub async fn edit_order(
    app: &App,
    caller: &Caller,
    store: &Store,
    order_id: &str,
    changes: OrderChanges,
) -> Result<Done<Edited>, OrderError> {
    let editor = if caller.may(&store.id, Scope::OrdersWrite) { Editor::Admin(&caller.id) } else { Editor::Owner(&caller.id) };
    let mut tx = app.db.begin().await?;
    let edited = edit(&mut tx, store, order_id, editor, changes).await?;
    tx.commit().await?;
    let effects = Effects { stock_changed: edited.products.clone(), ..Effects::default() };
    Ok(Done::new(edited, effects))
}

/// Applies `changes` inside the caller's transaction.
async fn edit(
    conn: &mut AnyConnection,
    store: &Store,
    order_id: &str,
    editor: Editor<'_>,
    changes: OrderChanges,
) -> Result<Edited, OrderError> {
    let now = time::to_db(time::now());
    // Lock the order row before reading it.
    let locked = sqlx::query("UPDATE orders SET updated_at = $1 WHERE id = $2 AND store_id = $3")
        .bind(&now)
        .bind(order_id)
        .bind(&store.id)
        .execute(&mut *conn)
        .await?;
    if locked.rows_affected() != 1 {
        return Err(OrderError::UnknownOrder);
    }
    let order = orders::find(conn, &store.id, order_id).await?.ok_or(OrderError::UnknownOrder)?;
    let (by, allowed): (&str, &[&str]) = match editor {
        Editor::Admin(id) => (id, &EDITABLE),
        Editor::Owner(id) if order.user_id.as_deref() == Some(id) => (id, &EDITABLE[..1]),
        Editor::Owner(_) => return Err(OrderError::UnknownOrder),
    };
    if !allowed.contains(&order.status_code.as_str()) {
        return Err(OrderError::NotEditable(order.status_code));
    }

    let exponent = store.currency.exponent();
    let mut warnings = Vec::new();
    let sold: Vec<SoldLine> = match changes.lines {
        None => order
            .lines
            .iter()
            .map(|l| SoldLine {
                product_id: l.product_id.clone(),
                product_name: l.product_name.clone(),
                unit_price: l.unit_price,
                tax_rate_bp: l.tax_rate_bp,
                quantity: l.quantity,
            })
            .collect(),
        Some(requested) => {
            let ids: Vec<String> = requested.iter().map(|l| l.product_id.clone()).collect();
            let catalog = products::priced(conn, &store.id, &ids).await?;
            let mut sold = Vec::with_capacity(requested.len());
            for (i, r) in requested.into_iter().enumerate() {
                let before = order.lines.iter().find(|l| l.product_id == r.product_id);
                let product = catalog.iter().find(|p| p.id == r.product_id);
                let line = match (before, product) {
                    (Some(l), _) => SoldLine {
                        product_id: r.product_id,
                        product_name: l.product_name.clone(),
                        unit_price: l.unit_price,
                        tax_rate_bp: l.tax_rate_bp,
                        quantity: r.quantity,
                    },
                    (None, Some(p)) => SoldLine {
                        product_id: r.product_id,
                        product_name: p.name.clone(),
                        unit_price: p.price,
                        tax_rate_bp: p.tax_rate_bp,
                        quantity: r.quantity,
                    },
                    (None, None) => return Err(OrderError::UnknownProduct(i)),
                };
                // More units (or a new line) need a product still on sale.
                let more = line.quantity > before.map_or(0, |l| l.quantity);
                if more && !product.is_some_and(|p| p.is_active) {
                    return Err(OrderError::Unavailable(line.product_name));
                }
                if r.client_unit_price.is_some_and(|p| p != line.unit_price) {
                    let price = feria_domain::money::format_scaled(line.unit_price, exponent);
                    warnings.push(format!("El precio de {} en este pedido es {price}; se usó ese precio", line.product_name));
                }
                sold.push(line);
            }
            sold
        }
    };
    let inputs = orders::line_inputs(&sold);
    let subtotal = pricing::totals(&inputs, None, 0)?.subtotal;

    let current_coupon = order.coupon.as_ref().map(|c| c.id.clone());
    let coupon: Option<Coupon> = match changes.coupon_code {
        None => match &current_coupon {
            Some(id) => coupons::find(conn, &store.id, id).await?,
            None => None,
        },
        Some(None) => None,
        Some(Some(code)) => Some(coupons::find_by_code(conn, &store.id, &code).await?.ok_or(OrderError::UnknownCoupon)?),
    };
    if let Some(coupon) = &coupon {
        if current_coupon.as_deref() == Some(coupon.id.as_str()) {
            // Already counted for this order: only the minimum still has to hold.
            if subtotal < coupon.min_order_amount {
                return Err(OrderError::CouponRefused(Refusal::BelowMinimum));
            }
        } else {
            coupon.check(Some(subtotal), &now).map_err(OrderError::CouponRefused)?;
        }
    }
    let totals = pricing::totals(&inputs, coupon.as_ref().map(Coupon::discount), order.shipping)?;

    // A new coupon is claimed before stock moves (lock order); the one it replaces needs
    // nothing: a coupon's uses are the orders applying it.
    let new_coupon = coupon.as_ref().map(|c| c.id.clone());
    if let Some(id) = new_coupon.as_deref().filter(|id| current_coupon.as_deref() != Some(id)) {
        order_writes::claim_coupon(conn, &store.id, id, &now).await?;
    }

    // Stock by the difference, per product.
    let mut units: HashMap<String, (i64, String)> = HashMap::new();
    for l in &order.lines {
        units.entry(l.product_id.clone()).or_insert((0, l.product_name.clone())).0 -= l.quantity;
    }
    for l in &sold {
        units.entry(l.product_id.clone()).or_insert((0, l.product_name.clone())).0 += l.quantity;
    }
    let moves = units.into_iter().map(|(product_id, (units, name))| StockMove { product_id, units, name }).collect();
    let moved = order_writes::move_stock(conn, &store.id, moves, &now).await?;

    let ship = changes.shipping.apply(order.address.clone());
    let notes = changes.notes.unwrap_or(order.notes.clone());
    sqlx::query(
        "UPDATE orders SET coupon_id = $1, subtotal = $2, discount = $3, tax = $4, total = $5, ship_recipient = $6, ship_phone = $7,
         ship_street = $8, ship_number = $9, ship_neighborhood = $10, ship_city = $11, ship_zip_code = $12, ship_details = $13,
         notes = $14, updated_at = $15 WHERE id = $16",
    )
    .bind(&new_coupon)
    .bind(totals.subtotal)
    .bind(totals.discount)
    .bind(totals.tax)
    .bind(totals.total)
    .bind(&ship.recipient)
    .bind(&ship.phone)
    .bind(&ship.street)
    .bind(&ship.number)
    .bind(&ship.neighborhood)
    .bind(&ship.city)
    .bind(&ship.zip_code)
    .bind(&ship.details)
    .bind(&notes)
    .bind(&now)
    .bind(order_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM order_items WHERE order_id = $1").bind(order_id).execute(&mut *conn).await?;
    order_writes::insert_lines(conn, order_id, &sold, &totals).await?;
    let entry = StatusEntry { order_id, status_id: &order.status_id, by: Some(by), note: Some("Pedido modificado"), at: &now };
    order_writes::record_status(conn, entry).await?;
    let order = orders::find(conn, &store.id, order_id).await?.ok_or(OrderError::UnknownOrder)?;
    Ok(Edited { order, products: moved, warnings })
}

//! Changing an order's status: the shop moving it along its workflow, and a cancellation by
//! the shop or by the buyer. Each is one transaction with its history entry and the buyer's
//! notification; entering CANCELLED gives the stock back (see `order_workflow`).

use crate::app::App;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;
use crate::services::order_notifications;
use crate::services::order_workflow::{self, StatusChangeError};
use crate::services::orders::{self, Order};
use feria_domain::access::Scope;

/// Moves the store's order `order_id` to `target` (a status id or code) as the workflow allows
/// (the shop: `orders:write`), recording `note` in its history.
pub async fn set_order_status(
    app: &App,
    caller: &Caller,
    store: &Store,
    order_id: &str,
    target: &str,
    note: Option<&str>,
) -> Result<Done<Order>, StatusChangeError> {
    if !caller.may(&store.id, Scope::OrdersWrite) {
        return Err(StatusChangeError::UnknownOrder);
    }
    move_order(app, store, order_id, None, target, &caller.id, note).await
}

/// Cancels an order: the buyer their own while it is PENDING (only from the status they saw),
/// the shop (`orders:write`) while the workflow allows it. Without a `reason` the history says who
/// cancelled.
pub async fn cancel_order(
    app: &App,
    caller: &Caller,
    store: &Store,
    order_id: &str,
    reason: Option<&str>,
) -> Result<Done<Order>, StatusChangeError> {
    let order = orders::find(&mut *app.db.reader().acquire().await?, &store.id, order_id).await?.ok_or(StatusChangeError::UnknownOrder)?;
    let by_shop = caller.may(&store.id, Scope::OrdersWrite);
    if !by_shop {
        if order.user_id.as_deref() != Some(caller.id.as_str()) {
            return Err(StatusChangeError::UnknownOrder);
        }
        if order.status_code != "PENDING" {
            return Err(StatusChangeError::BuyerCancelsOnlyPending);
        }
    }
    let note = reason.unwrap_or(if by_shop { "Cancelado por la tienda" } else { "Cancelado por el cliente" });
    let from = (!by_shop).then_some(order.status_id.as_str());
    move_order(app, store, order_id, from, order_workflow::CANCELLED, &caller.id, Some(note)).await
}

/// Changes the status (only from `from`, a status id, when given), records it and queues the
/// buyer's notification; answers the order as it is now.
async fn move_order(
    app: &App,
    store: &Store,
    order_id: &str,
    from: Option<&str>,
    target: &str,
    by: &str,
    note: Option<&str>,
) -> Result<Done<Order>, StatusChangeError> {
    let mut tx = app.db.begin().await?;
    let restocked = order_workflow::change_status_from(&mut tx, &store.id, order_id, from, target, Some(by), note).await?;
    let order = orders::find(&mut tx, &store.id, order_id).await?.ok_or(StatusChangeError::UnknownOrder)?;
    let queued = order_notifications::status_changed(&mut tx, app, store, &order).await?;
    tx.commit().await?;
    Ok(Done::new(order, Effects { wake_jobs: queued, stock_changed: restocked, ..Effects::default() }))
}

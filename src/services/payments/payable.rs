//! Who may pay an order, and what it still owes. A guest's order is paid by whoever holds its
//! id (the id is the capability); a user's order by its owner or the shop (`orders:write`). To
//! anyone else an order or payment they may not pay does not exist.

use super::{Payment, PaymentError, order_money};
use crate::app::App;
use crate::services::catalog::stores::Store;
use crate::services::identity::caller::Caller;
use crate::services::order_workflow;
use crate::services::orders::{self, Order};
use feria_domain::access::Scope;

/// Whether `caller` may pay `order` of the store `store_id`.
fn may_pay(order: &Order, store_id: &str, caller: Option<&Caller>) -> bool {
    order
        .user_id
        .as_ref()
        .is_none_or(|owner| caller.is_some_and(|c| c.user_id() == Some(owner.as_str()) || c.may(store_id, Scope::OrdersWrite)))
}

/// The order `order_id` if `caller` may pay it and it still owes something, with what it owes.
pub async fn payable_order(app: &App, store: &Store, caller: Option<&Caller>, order_id: &str) -> Result<(Order, i64), PaymentError> {
    let mut conn = app.db.reader().acquire().await?;
    let order =
        orders::find(&mut conn, &store.id, order_id).await?.filter(|o| may_pay(o, &store.id, caller)).ok_or(PaymentError::UnknownOrder)?;
    if [order_workflow::CANCELLED, super::apply::REFUNDED].contains(&order.status_code.as_str()) {
        return Err(PaymentError::NotPayable(order.status_name));
    }
    let money = order_money(&mut conn, &order.id).await?;
    let owed = order.total - (money.paid - money.refunded);
    if owed <= 0 {
        return Err(PaymentError::AlreadyPaid);
    }
    Ok((order, owed))
}

/// The store's payment `payment_id` if `caller` may pay its order.
pub async fn payment_for(app: &App, store: &Store, caller: Option<&Caller>, payment_id: &str) -> Result<Payment, PaymentError> {
    let mut conn = app.db.reader().acquire().await?;
    let payment = super::find(&mut conn, &store.id, payment_id).await?.ok_or(PaymentError::UnknownPayment)?;
    match orders::find(&mut conn, &store.id, &payment.order_id).await? {
        Some(order) if may_pay(&order, &store.id, caller) => Ok(payment),
        _ => Err(PaymentError::UnknownPayment),
    }
}

/// The store's payment of Mercado Pago preference `preference_id` if `caller` may pay its order.
pub async fn payment_of_preference(
    app: &App,
    store: &Store,
    caller: Option<&Caller>,
    preference_id: &str,
) -> Result<Payment, PaymentError> {
    let mut conn = app.db.reader().acquire().await?;
    let payment = super::find_by_preference(&mut conn, &store.id, preference_id).await?.ok_or(PaymentError::UnknownPreference)?;
    match orders::find(&mut conn, &store.id, &payment.order_id).await? {
        Some(order) if may_pay(&order, &store.id, caller) => Ok(payment),
        _ => Err(PaymentError::UnknownPreference),
    }
}

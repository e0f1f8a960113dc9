//! Cash and bank transfers: no provider tells feria the money arrived, an admin does. Only for
//! orders whose payment method allows manual confirmation.

use feria_db::AnyConnection;
use feria_domain::ids::new_id;

use super::apply::{self, Applied};
use super::{NewPayment, Payment, PaymentError, PaymentStatus, Provider, append_event};
use crate::app::App;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;
use crate::services::order_statuses::Key;
use crate::services::orders::Order;
use crate::services::payment_methods;
use feria_domain::access::Scope;

use super::payable::payable_order;

/// Records that `amount` (minor units) of the store's order `order_id` arrived by hand, with the
/// admin's `reference` (receipt, transfer number): an approved manual payment, only when the
/// order's payment method is confirmed by hand. An amount other than what the order owes is
/// recorded but flagged, and does not mark the order paid.
pub async fn confirm_manual(
    app: &App,
    caller: &Caller,
    store: &Store,
    order_id: &str,
    amount: i64,
    reference: &str,
) -> Result<Done<Payment>, PaymentError> {
    if !caller.may(&store.id, Scope::OrdersWrite) {
        return Err(PaymentError::UnknownOrder);
    }
    let (order, owed) = payable_order(app, store, Some(caller), order_id).await?;
    let method = match &order.payment_method_code {
        Some(code) => payment_methods::find(&mut *app.db.reader().acquire().await?, &store.id, Key::Code(code)).await?,
        None => None,
    };
    if !method.is_some_and(|m| m.allows_manual_confirmation) {
        return Err(PaymentError::ManualNotAllowed);
    }
    let mut tx = app.db.begin().await?;
    let (payment, applied) = confirm(&mut tx, app, store, &order, owed, amount, reference).await?;
    tx.commit().await?;
    Ok(Done::new(payment, Effects::wake_jobs(applied.queued)))
}

async fn confirm(
    conn: &mut AnyConnection,
    app: &App,
    store: &Store,
    order: &Order,
    owed: i64,
    amount: i64,
    reference: &str,
) -> Result<(Payment, Applied), PaymentError> {
    let id = new_id();
    let new = NewPayment {
        store_id: &store.id,
        order_id: &order.id,
        provider: Provider::Manual,
        amount: owed,
        currency: &order.currency,
        provider_payment_id: None,
        preference_id: None,
        external_reference: reference,
        provider_data: None,
    };
    super::insert(conn, &id, new).await?;
    append_event(conn, &id, "approved", amount, "manual", "manual").await?;
    let mismatch = amount != owed;
    sqlx::query("UPDATE payments SET status = $1, amount_mismatch = $2 WHERE id = $3")
        .bind(PaymentStatus::Approved.as_str())
        .bind(feria_db::flag(mismatch))
        .bind(&id)
        .execute(&mut *conn)
        .await?;
    let payment = super::find(conn, &store.id, &id).await?.ok_or(PaymentError::UnknownPayment)?;
    let applied = apply::settle(conn, app, store, &payment, (!mismatch).then_some(amount), false).await?;
    Ok((payment, applied))
}

//! What an order tells people (seed 001 "Sistema de Notificaciones"): an event for the
//! notification hub, written in the order's transaction, so it is never lost and a failing
//! channel (retried by the job queue) never affects the order.

use feria_db::AnyConnection;
use feria_domain::ids::new_id;
use feria_domain::notify::EventKind;
use serde_json::json;

use crate::app::App;
use crate::services::agent_checkout;
use crate::services::catalog::stores::Store;
use crate::services::notifications::{self, NewEvent};
use crate::services::order_workflow;
use crate::services::orders::Order;
use crate::services::payments::Payment;

fn order_event(store: &Store, kind: EventKind, dedupe_key: String, data: serde_json::Value) -> NewEvent {
    NewEvent { store_id: Some(store.id.clone()), kind, dedupe_key, data, secret: false, fan_out_at: None }
}

/// The order was placed: the buyer's confirmation, the staff's inbox, the shop's email and chat.
/// Says whether a job was queued.
pub async fn order_placed(conn: &mut AnyConnection, app: &App, store: &Store, o: &Order) -> Result<bool, sqlx::Error> {
    let event = order_event(store, EventKind::OrderPlaced, format!("order_placed:{}", o.id), json!({"orderId": o.id}));
    notifications::emit(conn, app, event).await
}

/// The order moved to another status (cancelled and refunded have events of their own), and
/// its agent platform, if it was bought through one, gets the order's snapshot. Says whether
/// anything was queued.
pub async fn status_changed(conn: &mut AnyConnection, app: &App, store: &Store, o: &Order) -> Result<bool, sqlx::Error> {
    let pushed = agent_checkout::order_changed(conn, app, store, &o.id).await?;
    let kind = match o.status_code.as_str() {
        order_workflow::CANCELLED => EventKind::OrderCancelled,
        crate::services::payments::apply::REFUNDED => EventKind::OrderRefunded,
        _ => EventKind::OrderStatusChanged,
    };
    // Each change is news, even back to a status the order had before.
    let key = format!("{}:{}:{}", kind.as_str(), o.id, new_id());
    let data = json!({"orderId": o.id, "status": o.status_name, "statusCode": o.status_code});
    Ok(notifications::emit(conn, app, order_event(store, kind, key, data)).await? || pushed)
}

/// The order's payment of `amount` (minor units) by `provider` was approved. Says whether a job
/// was queued.
pub async fn payment_approved(
    conn: &mut AnyConnection,
    app: &App,
    store: &Store,
    o: &Order,
    amount: i64,
    provider: &str,
) -> Result<bool, sqlx::Error> {
    let data = json!({"orderId": o.id, "amount": amount, "provider": provider});
    notifications::emit(conn, app, order_event(store, EventKind::OrderPaid, format!("order_paid:{}", o.id), data)).await
}

/// The provider rejected `payment`: the buyer hears it did not go through (a critical event:
/// whatever their preferences say). Once per payment. Says whether a job was queued.
pub async fn payment_failed(conn: &mut AnyConnection, app: &App, store: &Store, payment: &Payment) -> Result<bool, sqlx::Error> {
    let data = json!({"orderId": payment.order_id, "amount": payment.amount, "provider": payment.provider});
    let event = order_event(store, EventKind::PaymentFailed, format!("payment_failed:{}", payment.id), data);
    notifications::emit(conn, app, event).await
}

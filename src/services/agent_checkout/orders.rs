//! Orders placed through agent checkouts, as their platforms see them: read by id, and pushed
//! whole to the platform's order webhook when placed and at every change (queued as a job in
//! the transaction of the change, so an update is never lost and never blocks it).

use feria_db::{AnyConnection, Row};

use super::{CheckoutError, Session};
use crate::app::App;
use crate::jobs::ucp_order_webhook;
use crate::services::catalog::stores::Store;
use crate::services::order_notifications;
use crate::services::order_workflow::{self, HistoryEntry, StatusChangeError};
use crate::services::orders::{self, Order};
use crate::services::payments::{self, Refund};

/// An agent checkout's order as it is now.
#[derive(Debug, Clone)]
pub struct AgentOrder {
    pub order: Order,
    /// Oldest first.
    pub history: Vec<HistoryEntry>,
    pub refunds: Vec<Refund>,
}

/// The store's order `order_id` with the session it came from, for the platform that placed it:
/// `agent_profile` must be the profile its checkout named (an order no platform named is read
/// by none).
pub async fn find_order(
    app: &App,
    store: &Store,
    order_id: &str,
    agent_profile: Option<&str>,
) -> Result<(Session, AgentOrder), CheckoutError> {
    let mut conn = app.db.reader().acquire().await?;
    let (session, order) = read(&mut conn, store, order_id).await?.ok_or(CheckoutError::UnknownSession)?;
    match (&session.agent_profile, agent_profile) {
        (Some(recorded), Some(asking)) if recorded == asking => Ok((session, order)),
        _ => Err(CheckoutError::UnknownSession),
    }
}

async fn read(conn: &mut AnyConnection, store: &Store, order_id: &str) -> Result<Option<(Session, AgentOrder)>, sqlx::Error> {
    let row = sqlx::query("SELECT data FROM checkout_sessions WHERE order_id = $1 AND store_id = $2")
        .bind(order_id)
        .bind(&store.id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let session = super::decode(&row.try_get::<String, _>("data")?)?;
    let Some(order) = orders::find(conn, &store.id, order_id).await? else { return Ok(None) };
    let history = order_workflow::history(conn, order_id).await?;
    let refunds = payments::order_refunds(conn, order_id).await?;
    Ok(Some((session, AgentOrder { order, history, refunds })))
}

/// Queues the order's snapshot for its platform on `conn` (the transaction of the change) when
/// an agent placed it and the platform takes webhooks; says whether a job was queued.
pub async fn order_changed(conn: &mut AnyConnection, app: &App, store: &Store, order_id: &str) -> Result<bool, sqlx::Error> {
    let Some((session, order)) = read(conn, store, order_id).await? else { return Ok(false) };
    let Some(url) = &session.webhook_url else { return Ok(false) };
    let body = crate::ucp::order::entity(app, &session, &order);
    ucp_order_webhook::enqueue(conn, app, url, &crate::ucp::profile_url(app, store), &body).await?;
    Ok(true)
}

/// Moves an agent's order to SHIPPED along the store's workflow and tells its platform: the
/// UCP conformance suite's shipping simulation (`/testing/simulate-shipping/{id}`).
pub async fn simulate_shipping(app: &App, store: &Store, order_id: &str) -> Result<(), StatusChangeError> {
    let mut tx = app.db.begin().await?;
    if read(&mut tx, store, order_id).await?.is_none() {
        return Err(StatusChangeError::UnknownOrder);
    }
    let note = Some("Envío simulado por la suite de conformidad de UCP");
    order_workflow::advance_to(&mut tx, &store.id, order_id, "SHIPPED", Some("ucp:simulation"), note).await?;
    let order = orders::find(&mut tx, &store.id, order_id).await?.ok_or(StatusChangeError::UnknownOrder)?;
    let queued = order_notifications::status_changed(&mut tx, app, store, &order).await?;
    tx.commit().await?;
    if queued {
        app.job_wake.notify_one();
    }
    Ok(())
}

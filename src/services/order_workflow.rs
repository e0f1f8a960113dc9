//! Moving orders through their store's workflow (ARCHITECTURE.md "Order workflow"): one
//! status change at a time along the allowed transitions, each recorded in the order's history;
//! entering CANCELLED gives the stock back and leaving it takes it again, once each way.

use feria_db::{AnyConnection, Row};
use feria_domain::time;

use crate::services::order_statuses::{self, Key};
use crate::services::order_writes::{self, StatusEntry, StockMove};
use crate::services::orders::OrderError;

/// Why a status change was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum StatusChangeError {
    #[error("no such order")]
    UnknownOrder,
    #[error("no such status")]
    UnknownStatus,
    #[error("transition not allowed from {from}")]
    NotAllowed { from: String, to: String },
    /// A buyer cancels only while the order is PENDING; after that, the shop does.
    #[error("a buyer cancels only a pending order")]
    BuyerCancelsOnlyPending,
    /// Leaving CANCELLED takes the stock again, and there is not enough.
    #[error("not enough stock of {name}")]
    InsufficientStock { name: String, stock: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The id and code of the order's status, if the order is in the store.
async fn current_status(conn: &mut AnyConnection, store_id: &str, order_id: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query("SELECT o.status_id, s.code FROM orders o JOIN order_statuses s ON s.id = o.status_id WHERE o.id = $1 AND o.store_id = $2")
        .bind(order_id)
        .bind(store_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| Ok((r.try_get("status_id")?, r.try_get("code")?)))
        .transpose()
}

/// The code of the status that gives stock back when an order enters it.
pub const CANCELLED: &str = "CANCELLED";

/// Moves order `order_id` to the status `target` (id or code) if the workflow allows it from
/// where the order is now, recording who did it. Entering CANCELLED gives the stock back; the
/// change is conditional on the status read, so of two concurrent changes one wins and the
/// other is refused (stock is given back once). Returns the product ids whose stock changed.
pub async fn change_status(
    conn: &mut AnyConnection,
    store_id: &str,
    order_id: &str,
    target: &str,
    by: Option<&str>,
    note: Option<&str>,
) -> Result<Vec<String>, StatusChangeError> {
    change_status_from(conn, store_id, order_id, None, target, by, note).await
}

/// [`change_status`], only while the order is still in status `expected_from` (an id) when
/// given: a change decided on an earlier read (the order was unpaid, still pending) is refused
/// once the order moved on.
pub async fn change_status_from(
    conn: &mut AnyConnection,
    store_id: &str,
    order_id: &str,
    expected_from: Option<&str>,
    target: &str,
    by: Option<&str>,
    note: Option<&str>,
) -> Result<Vec<String>, StatusChangeError> {
    let (from_id, from_code) = current_status(conn, store_id, order_id).await?.ok_or(StatusChangeError::UnknownOrder)?;
    if expected_from.is_some_and(|expected| expected != from_id) {
        return Err(StatusChangeError::NotAllowed { from: from_code, to: target.to_string() });
    }
    let to = match order_statuses::find(conn, store_id, Key::Id(target)).await? {
        Some(status) => status,
        None => order_statuses::find(conn, store_id, Key::Code(target)).await?.ok_or(StatusChangeError::UnknownStatus)?,
    };
    let from = order_statuses::find(conn, store_id, Key::Id(&from_id)).await?.ok_or(StatusChangeError::UnknownStatus)?;
    if !to.is_active || !from.can_transition_to.contains(&to.id) {
        return Err(StatusChangeError::NotAllowed { from: from_code, to: to.code });
    }
    let now = time::to_db(time::now());
    let moved = sqlx::query("UPDATE orders SET status_id = $1, updated_at = $2 WHERE id = $3 AND status_id = $4")
        .bind(&to.id)
        .bind(&now)
        .bind(order_id)
        .bind(&from_id)
        .execute(&mut *conn)
        .await?;
    if moved.rows_affected() != 1 {
        // Another change got there first; from where it left the order, this one is not valid.
        return Err(StatusChangeError::NotAllowed { from: from_code, to: to.code });
    }
    order_writes::record_status(conn, StatusEntry { order_id, status_id: &to.id, by, note, at: &now }).await?;
    let giving_back = match (from.code == CANCELLED, to.code == CANCELLED) {
        (false, true) => true,
        (true, false) => false,
        _ => return Ok(Vec::new()),
    };
    // The flag says where the stock is, so it moves once each way however the workflow goes.
    let flipped = sqlx::query("UPDATE orders SET stock_returned = $1 WHERE id = $2 AND stock_returned = $3")
        .bind(feria_db::flag(giving_back))
        .bind(order_id)
        .bind(feria_db::flag(!giving_back))
        .execute(&mut *conn)
        .await?;
    if flipped.rows_affected() != 1 {
        return Ok(Vec::new());
    }
    let items = sqlx::query("SELECT product_id, product_name, quantity FROM order_items WHERE order_id = $1")
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?;
    let moves = items
        .iter()
        .map(|r| {
            let quantity = r.try_get::<i64, _>("quantity")?;
            Ok(StockMove {
                product_id: r.try_get("product_id")?,
                units: if giving_back { -quantity } else { quantity },
                name: r.try_get("product_name")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    order_writes::move_stock(conn, store_id, moves, &now).await.map_err(|e| match e {
        OrderError::Database(e) => StatusChangeError::Database(e),
        OrderError::InsufficientStock { name, stock } => StatusChangeError::InsufficientStock { name, stock },
        other => StatusChangeError::Database(sqlx::Error::Protocol(format!("moving stock: {other}"))),
    })
}

/// Moves order `order_id` to the status with code `target` along the shortest way the workflow
/// allows (each step recorded in its history, by `by`), e.g. PENDING → AWAITING_PAYMENT → PAID.
/// Says whether the order moved: `false` when it is there already; `NotAllowed` when the
/// workflow does not lead there from where it is. Never used to cancel (no stock moves).
pub async fn advance_to(
    conn: &mut AnyConnection,
    store_id: &str,
    order_id: &str,
    target: &str,
    by: Option<&str>,
    note: Option<&str>,
) -> Result<bool, StatusChangeError> {
    let (from_id, from_code) = current_status(conn, store_id, order_id).await?.ok_or(StatusChangeError::UnknownOrder)?;
    let steps = order_statuses::path(conn, store_id, &from_id, target)
        .await?
        .ok_or_else(|| StatusChangeError::NotAllowed { from: from_code, to: target.to_string() })?;
    for step in &steps {
        change_status(conn, store_id, order_id, step, by, note).await?;
    }
    Ok(!steps.is_empty())
}

/// One step of an order's history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub status_code: String,
    pub status_name: String,
    pub color: String,
    pub changed_by_id: Option<String>,
    pub changed_by_name: Option<String>,
    pub note: Option<String>,
    pub changed_at: String,
}

/// The order's status history, oldest first.
pub async fn history(conn: &mut AnyConnection, order_id: &str) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.code, s.name, s.color, h.changed_by, u.name AS user_name, h.note, h.changed_at FROM order_status_history h
         JOIN order_statuses s ON s.id = h.status_id LEFT JOIN users u ON u.id = h.changed_by
         WHERE h.order_id = $1 ORDER BY h.changed_at, h.id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                status_code: r.try_get("code")?,
                status_name: r.try_get("name")?,
                color: r.try_get("color")?,
                changed_by_id: r.try_get("changed_by")?,
                changed_by_name: r.try_get("user_name")?,
                note: r.try_get("note")?,
                changed_at: r.try_get("changed_at")?,
            })
        })
        .collect()
}

/// The store's order `order_id` as `caller` may see it (see `orders::for_caller`) with its
/// history, oldest first.
pub async fn tracking(
    app: &crate::app::App,
    caller: &crate::services::identity::caller::Caller,
    store_id: &str,
    order_id: &str,
) -> Result<(crate::services::orders::Order, Vec<HistoryEntry>), OrderError> {
    let order = crate::services::orders::for_caller(app, caller, store_id, order_id).await?;
    let history = history(&mut *app.db.reader().acquire().await?, &order.id).await?;
    Ok((order, history))
}

/// A guest's order `order_id` with its history, when `email` is the one its buyer gave at
/// checkout (any case). An order placed by a signed-in user is read only by them.
pub async fn guest_tracking(
    app: &crate::app::App,
    store_id: &str,
    order_id: &str,
    email: &str,
) -> Result<(crate::services::orders::Order, Vec<HistoryEntry>), OrderError> {
    let mut conn = app.db.reader().acquire().await?;
    let order = crate::services::orders::find(&mut conn, store_id, order_id)
        .await?
        .filter(|o| o.user_id.is_none() && o.customer_email.eq_ignore_ascii_case(email.trim()))
        .ok_or(OrderError::UnknownOrder)?;
    let history = history(&mut conn, &order.id).await?;
    Ok((order, history))
}

//! Applying what a provider says about a payment: events appended once, the payment's status
//! updated, and the order moved through its workflow when its money says so.
//!
//! Approved for the payment's exact amount and currency → the order moves to PAID (along the
//! workflow, e.g. PENDING → AWAITING_PAYMENT → PAID) once its payments cover its total;
//! approved for another amount → the payment is flagged (`amount_mismatch`) and the order is
//! left as it is; rejected or cancelled → nothing moves (the order keeps waiting); refunded or
//! charged back → REFUNDED once everything paid was given back; approved for an order already
//! cancelled or refunded → the payment is flagged `needs_refund` for the owner. The same observation applied
//! twice, even concurrently, appends nothing the second time and moves nothing.

use feria_db::AnyConnection;
use feria_domain::time;
use serde_json::Value;

use super::{Payment, PaymentStatus, append_event, order_money};
use crate::app::App;
use crate::services::agent_checkout;
use crate::services::catalog::stores::Store;
use crate::services::order_notifications;
use crate::services::order_workflow::{self, StatusChangeError};
use crate::services::orders;

/// The status an order enters when its payments cover it.
pub const PAID: &str = "PAID";
/// The status an order enters when everything paid was given back.
pub const REFUNDED: &str = "REFUNDED";

/// What a provider says about one of its payments, in feria's terms.
#[derive(Debug)]
pub struct Observation {
    pub status: PaymentStatus,
    pub status_detail: Option<String>,
    /// The amount charged (minor units), when the provider says.
    pub charged: Option<i64>,
    /// The currency of `charged`.
    pub currency: Option<String>,
    /// Refunded so far according to the provider, minor units.
    pub refunded_total: Option<i64>,
    /// The provider's answer, kept on the payment.
    pub raw: Value,
    /// How feria learnt it: `webhook`, `verify`, `refund`, `manual`.
    pub source: &'static str,
}

/// What applying changed.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Events were appended (the observation was new).
    pub changed: bool,
    /// The order's new status code, when it moved.
    pub order_status: Option<String>,
    /// One line for the webhook log and the admin.
    pub outcome: String,
    /// Notifications were queued (wake the job runner after the commit).
    pub queued: bool,
}

/// Applies `obs` to `payment` inside the caller's transaction.
pub async fn apply(
    conn: &mut AnyConnection,
    app: &App,
    store: &Store,
    payment: &Payment,
    obs: Observation,
) -> Result<Applied, sqlx::Error> {
    super::lock(conn, &payment.id).await?;
    let current = super::find(conn, &store.id, &payment.id).await?.ok_or(sqlx::Error::RowNotFound)?;
    let charged = obs.charged.unwrap_or(current.amount);
    let currency_differs = obs.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&current.currency));
    let was_charged = matches!(obs.status, PaymentStatus::Approved | PaymentStatus::Refunded | PaymentStatus::ChargedBack);
    let mismatch = current.amount_mismatch || (was_charged && (charged != current.amount || currency_differs));
    let mut approved = false;
    let mut given_back = false;
    // The buyer is told of a rejection (a job queued).
    let mut told = false;
    if was_charged {
        approved = append_event(conn, &current.id, "approved", charged, "approved", obs.source).await?;
    }
    match obs.status {
        PaymentStatus::Authorized => {
            append_event(conn, &current.id, "authorized", charged, "authorized", obs.source).await?;
        }
        PaymentStatus::Rejected | PaymentStatus::Cancelled => {
            let kind = obs.status.as_str();
            let news = append_event(conn, &current.id, kind, current.amount, kind, obs.source).await?;
            if news && obs.status == PaymentStatus::Rejected {
                told = order_notifications::payment_failed(conn, app, store, &current).await?;
            }
        }
        PaymentStatus::ChargedBack => {
            let left = current.paid.max(charged) - current.refunded;
            if left > 0 {
                given_back |= append_event(conn, &current.id, "charged_back", left, "charged_back", obs.source).await?;
            }
        }
        _ => {}
    }
    // Refunds the provider reports beyond those recorded (made here or in its dashboard).
    let refunded_total = match obs.status {
        PaymentStatus::Refunded => Some(obs.refunded_total.unwrap_or(charged).max(charged)),
        _ => obs.refunded_total,
    };
    let recorded = super::find(conn, &store.id, &current.id).await?.ok_or(sqlx::Error::RowNotFound)?.refunded;
    if let Some(total) = refunded_total.filter(|t| *t > recorded) {
        let key = format!("refunded-total:{total}");
        given_back |= append_event(conn, &current.id, "refunded", total - recorded, &key, obs.source).await?;
    }
    let now = time::to_db(time::now());
    sqlx::query(
        "UPDATE payments SET status = $1, status_detail = $2, provider_data = $3, amount_mismatch = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(obs.status.as_str())
    .bind(&obs.status_detail)
    .bind(obs.raw.to_string())
    .bind(feria_db::flag(mismatch))
    .bind(&now)
    .bind(&current.id)
    .execute(&mut *conn)
    .await?;
    let changed = approved || given_back || current.status != obs.status.as_str();
    let charged_now = (approved && !mismatch).then_some(charged);
    if approved && mismatch {
        flag_if_order_closed(conn, store, &current).await?;
    }
    let mut applied = settle(conn, app, store, &current, charged_now, given_back).await?;
    applied.changed = changed;
    applied.queued |= told;
    let status = obs.status.as_str();
    applied.outcome = match applied.outcome {
        _ if approved && mismatch => format!(
            "{status}: charged {charged} {} for {} {}, order left as it is",
            obs.currency.as_deref().unwrap_or(&current.currency),
            current.amount,
            current.currency
        ),
        moved if !moved.is_empty() => format!("{status}: {moved}"),
        _ if changed => format!("{status}: recorded"),
        _ => format!("{status}: already applied"),
    };
    Ok(applied)
}

/// After money moved on `payment`: `charged` (minor units) was just approved for it, and/or
/// money was just `given_back`. Moves the order to PAID once its payments cover its total (and
/// tells the shop), or to REFUNDED once everything paid was given back.
pub async fn settle(
    conn: &mut AnyConnection,
    app: &App,
    store: &Store,
    payment: &Payment,
    charged: Option<i64>,
    given_back: bool,
) -> Result<Applied, sqlx::Error> {
    let mut applied = Applied { changed: true, order_status: None, outcome: String::new(), queued: false };
    let money = order_money(conn, &payment.order_id).await?;
    let order = orders::find(conn, &store.id, &payment.order_id).await?.ok_or(sqlx::Error::RowNotFound)?;
    if charged.is_some() && flag_if_order_closed(conn, store, payment).await? {
        applied.outcome = format!("order {} is {}: payment flagged to be refunded", order.order_number, order.status_code);
        return Ok(applied);
    }
    if let Some(amount) = charged
        && order.total > 0
        && money.paid - money.refunded - amount >= order.total
    {
        // Paid already by another payment (say, a payment link paid after a card): this money
        // is not owed, and is flagged to be given back rather than kept silently.
        sqlx::query("UPDATE payments SET needs_refund = 1 WHERE id = $1").bind(&payment.id).execute(&mut *conn).await?;
        tracing::warn!(order = %order.order_number, payment = %payment.id, "money approved for an order already paid; it must be refunded");
        applied.outcome = format!("order {} was already paid: payment flagged to be refunded", order.order_number);
        return Ok(applied);
    }
    let target = if charged.is_some() && money.paid - money.refunded >= order.total {
        PAID
    } else if given_back && money.paid > 0 && money.refunded >= money.paid {
        REFUNDED
    } else {
        if given_back {
            // A partial refund or a chargeback moves no status: an agent's platform still hears of it.
            applied.queued |= agent_checkout::order_changed(conn, app, store, &order.id).await?;
        }
        return Ok(applied);
    };
    let by = format!("payment:{}", payment.provider);
    match order_workflow::advance_to(conn, &store.id, &order.id, target, Some(&by), Some("Pago")).await {
        Ok(true) => {
            let moved = orders::find(conn, &store.id, &order.id).await?.ok_or(sqlx::Error::RowNotFound)?;
            applied.queued |= order_notifications::status_changed(conn, app, store, &moved).await?;
            applied.outcome = format!("order {} → {}", moved.order_number, moved.status_code);
            applied.order_status = Some(moved.status_code);
        }
        Ok(false) => applied.outcome = format!("order {} already {target}", order.order_number),
        Err(StatusChangeError::Database(e)) => return Err(e),
        // Cancelled meanwhile (say, by the sweep of unpaid orders): the money is flagged.
        Err(_) if charged.is_some() && flag_if_order_closed(conn, store, payment).await? => {
            applied.outcome = format!("order {} was closed meanwhile: payment flagged to be refunded", order.order_number);
            return Ok(applied);
        }
        Err(e) => applied.outcome = format!("order {} not moved to {target} ({e})", order.order_number),
    }
    if let (Some(amount), PAID) = (charged, target) {
        applied.queued |= order_notifications::payment_approved(conn, app, store, &order, amount, &payment.provider).await?;
    }
    Ok(applied)
}

/// Money was approved for `payment`: if its order is already cancelled or refunded (paid too
/// late, say on a payment page left open), flags the payment to be given back and says so. It
/// is never kept silently.
async fn flag_if_order_closed(conn: &mut AnyConnection, store: &Store, payment: &Payment) -> Result<bool, sqlx::Error> {
    let order = orders::find(conn, &store.id, &payment.order_id).await?.ok_or(sqlx::Error::RowNotFound)?;
    if ![order_workflow::CANCELLED, REFUNDED].contains(&order.status_code.as_str()) {
        return Ok(false);
    }
    sqlx::query("UPDATE payments SET needs_refund = 1 WHERE id = $1").bind(&payment.id).execute(&mut *conn).await?;
    tracing::warn!(order = %order.order_number, payment = %payment.id, "money approved for a {} order; it must be refunded", order.status_code);
    Ok(true)
}

//! Unpaid online orders give their stock back: an order whose payment method is paid online
//! (Mercado Pago, cards) and that is still in the status that method starts orders in, with
//! no approved or authorised payment, is cancelled `UNPAID_ORDER_TTL` after it was placed.
//! The stock comes back once (the order's `stock_returned` flag) and the buyer is told as for
//! any cancellation. An order with a payment the provider still has pending (a cash ticket)
//! waits. Every node that runs jobs sweeps; two nodes racing for one order agree, and so do a
//! sweep and a payment arriving, since the order is cancelled only from the status it was
//! found unpaid in, after checking again inside the transaction (a payment that is approved
//! after all finds the order cancelled and is flagged to be refunded).

use std::time::Duration;

use feria_db::Row;
use feria_domain::time;

use crate::app::App;
use crate::services::catalog::stores;
use crate::services::order_notifications;
use crate::services::order_workflow::{self, StatusChangeError};
use crate::services::orders;

/// The order `o` has no approved or authorised payment, and no payment the buyer started and
/// the provider still has pending (a cash ticket can take days to be paid).
const UNPAID: &str = "NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id
    AND (p.status = 'pending' AND p.provider_payment_id IS NOT NULL
         OR EXISTS (SELECT 1 FROM payment_events e WHERE e.payment_id = p.id AND e.kind IN ('approved', 'authorized'))))";

/// Orders looked at per sweep.
const BATCH: i64 = 100;
/// Cancels up to one batch of online orders placed more than `ttl` ago and still unpaid.
/// Returns how many it cancelled.
pub async fn expire_unpaid(app: &App, ttl: Duration) -> Result<usize, sqlx::Error> {
    let placed_before = time::to_db(time::now() - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX));
    let due = sqlx::query(&format!(
        "SELECT o.id, o.store_id, o.status_id FROM orders o JOIN payment_methods m ON m.id = o.payment_method_id
         WHERE m.requires_online_payment = 1 AND o.status_id = m.default_order_status_id AND o.created_at < $1
           AND {UNPAID}
           AND EXISTS (SELECT 1 FROM order_status_transitions t JOIN order_statuses c ON c.id = t.to_id
                       WHERE t.from_id = o.status_id AND c.code = 'CANCELLED' AND c.is_active = 1)
         ORDER BY o.created_at LIMIT $2"
    ))
    .bind(&placed_before)
    .bind(BATCH)
    .fetch_all(app.db.reader())
    .await?;
    let note = format!("Sin pago después de {}: cancelado y stock devuelto", humane(ttl));
    let mut cancelled = 0;
    for row in due {
        let (order_id, store_id, status_id): (String, String, String) =
            (row.try_get("id")?, row.try_get("store_id")?, row.try_get("status_id")?);
        let mut tx = app.db.begin().await?;
        let Some(store) = stores::find_by_id(&mut tx, &store_id).await? else { continue };
        // Read again inside the transaction: a payment may have arrived since the list was read.
        let still_unpaid = sqlx::query(&format!("SELECT 1 FROM orders o WHERE o.id = $1 AND {UNPAID}"))
            .bind(&order_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !still_unpaid {
            continue;
        }
        let outcome = order_workflow::change_status_from(
            &mut tx,
            &store_id,
            &order_id,
            Some(&status_id),
            order_workflow::CANCELLED,
            None,
            Some(&note),
        )
        .await;
        match outcome {
            Ok(restocked) => {
                let order = orders::find(&mut tx, &store_id, &order_id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let queued = order_notifications::status_changed(&mut tx, app, &store, &order).await?;
                tx.commit().await?;
                if queued {
                    app.job_wake.notify_one();
                }
                app.stock_changed(&restocked);
                cancelled += 1;
            }
            // Moved meanwhile (paid, cancelled by hand, another node), or this shop's workflow
            // does not cancel from there: left as it is.
            Err(StatusChangeError::Database(e)) => return Err(e),
            Err(e) => tracing::debug!(order = %order_id, error = %e, "unpaid order not cancelled"),
        }
    }
    Ok(cancelled)
}

/// `90m` → "90 minutos", `1h` → "1 hora"…
fn humane(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    match minutes {
        m if m % 60 == 0 && m / 60 == 1 => "1 hora".into(),
        m if m % 60 == 0 => format!("{} horas", m / 60),
        1 => "1 minuto".into(),
        m => format!("{m} minutos"),
    }
}

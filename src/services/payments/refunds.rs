//! Giving money back: a refund of a payment, whole or partial, never more than what was charged
//! and not yet given back. The provider refunds first; the refund is then recorded as an event
//! (keyed by the provider's refund id, so a later webhook reporting the same refund adds
//! nothing) and the order moves to REFUNDED once everything paid was given back.

use feria_domain::time;

use super::apply::{self, Applied};
use super::{Payment, PaymentError, Provider, append_event};
use crate::app::App;
use crate::services::catalog::stores::Store;

/// Why a refund was refused; nothing was refunded.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("nothing left to refund")]
    NothingLeft,
    #[error("at most {left} can be refunded")]
    TooMuch { left: i64 },
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

impl From<sqlx::Error> for RefundError {
    fn from(e: sqlx::Error) -> RefundError {
        RefundError::Payment(PaymentError::Database(e))
    }
}

/// Refunds `amount` (minor units; everything left when `None`) of `payment`. `key` identifies
/// this refund to the provider (its idempotency key). Returns the payment after it.
pub async fn refund(
    app: &App,
    store: &Store,
    payment: &Payment,
    amount: Option<i64>,
    key: &str,
) -> Result<(Payment, Applied), RefundError> {
    let left = payment.paid - payment.refunded;
    if left <= 0 {
        return Err(RefundError::NothingLeft);
    }
    let amount = amount.unwrap_or(left);
    if amount > left || amount <= 0 {
        return Err(RefundError::TooMuch { left });
    }
    let whole = amount == left;
    let (refund_id, refunded) = match payment.provider.as_str() {
        p if p == Provider::MercadoPago.as_str() => super::mercadopago::refund(app, store, payment, amount, whole, key).await?,
        p if p == Provider::Stripe.as_str() => super::stripe::refund(app, payment, amount, whole, key).await?,
        // Cash or a transfer given back by hand.
        _ => (key.to_string(), amount),
    };
    let mut tx = app.db.begin().await?;
    super::lock(&mut tx, &payment.id).await?;
    let appended = append_event(&mut tx, &payment.id, "refunded", refunded, &format!("refund:{refund_id}"), "refund").await?;
    let current = super::find(&mut tx, &store.id, &payment.id).await?.ok_or(PaymentError::UnknownPayment)?;
    if current.refunded >= current.paid {
        sqlx::query("UPDATE payments SET status = 'refunded', updated_at = $1 WHERE id = $2")
            .bind(time::to_db(time::now()))
            .bind(&payment.id)
            .execute(&mut *tx)
            .await?;
    }
    let applied = apply::settle(&mut tx, app, store, &current, None, appended).await?;
    let updated = super::find(&mut tx, &store.id, &payment.id).await?.ok_or(PaymentError::UnknownPayment)?;
    tx.commit().await?;
    if applied.queued {
        app.job_wake.notify_one();
    }
    Ok((updated, applied))
}

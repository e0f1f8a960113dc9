//! Giving money back: a refund of a payment, whole or partial, never more than what was charged
//! and not yet given back. The provider refunds first; the refund is then recorded as an event
//! (keyed by the provider's refund id, so a later webhook reporting the same refund adds
//! nothing) and the order moves to REFUNDED once everything paid was given back.

use feria_domain::time;

use super::apply::{self, Applied};
use super::gateway;
use super::{Payment, PaymentError, Provider, append_event};
use crate::app::App;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;
use feria_domain::access::Scope;

/// Why a refund was refused; nothing was refunded.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("nothing left to refund")]
    NothingLeft,
    /// `left` is what can still be refunded, as a decimal in the payment's currency.
    #[error("at most {left} can be refunded")]
    TooMuch { left: String },
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

impl From<sqlx::Error> for RefundError {
    fn from(e: sqlx::Error) -> RefundError {
        RefundError::Payment(PaymentError::Database(e))
    }
}

/// Refunds `amount` (minor units; everything left when `None`) of the store's payment
/// `payment_id` (`payments:refund`). `client_key`, the client's idempotency key, makes a retry
/// reach the provider with the same key. Returns the payment after it.
pub async fn refund_payment(
    app: &App,
    caller: &Caller,
    store: &Store,
    payment_id: &str,
    amount: Option<i64>,
    client_key: Option<&str>,
) -> Result<Done<Payment>, RefundError> {
    if !caller.may(&store.id, Scope::PaymentsRefund) {
        return Err(PaymentError::UnknownPayment.into());
    }
    let payment = super::find(&mut *app.db.reader().acquire().await?, &store.id, payment_id).await?.ok_or(PaymentError::UnknownPayment)?;
    let key = match client_key {
        Some(client_key) => crate::crypto::sha256_hex(&format!("refund:{}:{client_key}", payment.id)),
        None => feria_domain::ids::new_id(),
    };
    let (payment, applied) = refund(app, store, &payment, amount, &key).await?;
    Ok(Done::new(payment, Effects::wake_jobs(applied.queued)))
}

/// Refunds `amount` of `payment` with `key` as the provider's idempotency key.
async fn refund(app: &App, store: &Store, payment: &Payment, amount: Option<i64>, key: &str) -> Result<(Payment, Applied), RefundError> {
    let left = payment.paid - payment.refunded;
    if left <= 0 {
        return Err(RefundError::NothingLeft);
    }
    let amount = amount.unwrap_or(left);
    if amount > left || amount <= 0 {
        return Err(RefundError::TooMuch { left: feria_domain::money::format_scaled(left, store.currency.exponent()) });
    }
    let whole = amount == left;
    let (refund_id, refunded) = match Provider::parse(&payment.provider).and_then(gateway::of) {
        Some(gateway) => gateway.refund(app, store, payment, amount, whole, key).await?,
        // Cash or a transfer given back by hand.
        None => (key.to_string(), amount),
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
    Ok((updated, applied))
}

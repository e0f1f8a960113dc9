//! Paying orders with Stripe: a PaymentIntent per attempt (amount in minor units), confirmed by
//! the buyer's browser or through feria, and its state re-fetched from Stripe whenever a signed
//! event or a confirmation says it changed.

use feria_domain::ids::new_id;
use feria_providers::stripe::{NewIntent, PaymentIntent, Stripe, StripeError};

use super::apply::{self, Applied, Observation};
use super::{NewPayment, Payment, PaymentError, PaymentStatus, Provider};
use crate::app::App;
use crate::config::StripeConfig;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;

use super::payable::{payable_order, payment_for};

impl From<StripeError> for PaymentError {
    fn from(e: StripeError) -> PaymentError {
        PaymentError::Provider(e.to_string())
    }
}

/// The configured account.
pub fn config(app: &App) -> Result<&StripeConfig, PaymentError> {
    app.config.payments.stripe.as_ref().ok_or(PaymentError::NotConfigured("Stripe"))
}

fn client(app: &App) -> Result<&Stripe, PaymentError> {
    app.payment_clients.stripe.as_ref().ok_or(PaymentError::NotConfigured("Stripe"))
}

/// Creates a PaymentIntent for what the store's order `order_id` owes, if `caller` may pay it,
/// and records the pending payment (only once Stripe answered). Returns the payment and the
/// intent's client secret (for the buyer's browser; never stored).
pub async fn start(app: &App, caller: Option<&Caller>, store: &Store, order_id: &str) -> Result<(Payment, PaymentIntent), PaymentError> {
    let (order, amount) = payable_order(app, store, caller, order_id).await?;
    let order = &order;
    let payment_id = new_id();
    let currency = order.currency.to_ascii_lowercase();
    let description = format!("{} — pedido {}", store.name, order.order_number);
    let metadata = [("order_id", order.id.as_str()), ("payment_id", payment_id.as_str()), ("order_number", order.order_number.as_str())];
    let intent = NewIntent {
        amount,
        currency: &currency,
        description: &description,
        receipt_email: Some(&order.customer_email),
        metadata: &metadata,
    };
    let created = client(app)?.create_intent(&intent, &payment_id).await?;
    let mut conn = app.db.writer().acquire().await?;
    let new = NewPayment {
        store_id: &store.id,
        order_id: &order.id,
        provider: Provider::Stripe,
        amount,
        currency: &order.currency,
        provider_payment_id: Some(&created.id),
        preference_id: None,
        external_reference: &order.id,
        provider_data: Some(&created.raw),
    };
    let payment = super::insert(&mut conn, &payment_id, new).await?;
    Ok((payment, created))
}

/// What Stripe's intent says, in feria's terms.
fn observation(intent: &PaymentIntent, source: &'static str) -> Observation {
    let status = match intent.status.as_str() {
        "succeeded" => PaymentStatus::Approved,
        "requires_capture" => PaymentStatus::Authorized,
        "canceled" => PaymentStatus::Cancelled,
        "requires_payment_method" if intent.failed() => PaymentStatus::Rejected,
        // processing, requires_action, requires_confirmation, and whatever comes next.
        _ => PaymentStatus::Pending,
    };
    let refunded = intent.amount_refunded();
    Observation {
        status: if refunded.is_some_and(|r| r > 0 && r >= intent.amount_received) { PaymentStatus::Refunded } else { status },
        status_detail: intent.raw["last_payment_error"]["code"].as_str().map(str::to_string).or_else(|| Some(intent.status.clone())),
        charged: (intent.amount_received > 0).then_some(intent.amount_received),
        currency: Some(intent.currency.to_ascii_uppercase()),
        refunded_total: refunded,
        raw: intent.raw.clone(),
        source,
    }
}

/// Applies `intent` (fresh from Stripe) to its local payment, in one transaction.
async fn apply_intent(
    app: &App,
    store: &Store,
    intent: &PaymentIntent,
    source: &'static str,
) -> Result<Done<(Payment, Applied)>, PaymentError> {
    let mut tx = app.db.begin().await?;
    let local = super::find_by_provider_id(&mut tx, &store.id, Provider::Stripe, &intent.id).await?.ok_or(PaymentError::Foreign)?;
    let applied = apply::apply(&mut tx, app, store, &local, observation(intent, source)).await?;
    let updated = super::find(&mut tx, &store.id, &local.id).await?.ok_or(PaymentError::UnknownPayment)?;
    tx.commit().await?;
    let effects = Effects::wake_jobs(applied.queued);
    Ok(Done::new((updated, applied), effects))
}

/// Fetches Stripe's intent `intent_id` and applies it. `Foreign` when it is not one of this
/// store's payments.
pub async fn sync(app: &App, store: &Store, intent_id: &str, source: &'static str) -> Result<Done<(Payment, Applied)>, PaymentError> {
    let intent = client(app)?.intent(intent_id).await?;
    apply_intent(app, store, &intent, source).await
}

/// Confirms the intent of the store's Stripe payment `payment_id` (if `caller` may pay its
/// order) with `payment_method` (a `pm_…`), then applies what Stripe says.
pub async fn confirm(
    app: &App,
    caller: Option<&Caller>,
    store: &Store,
    payment_id: &str,
    payment_method: Option<&str>,
) -> Result<Done<(Payment, Applied)>, PaymentError> {
    let payment = payment_for(app, store, caller, payment_id).await?;
    if payment.provider != Provider::Stripe.as_str() {
        return Err(PaymentError::WrongProvider("Stripe"));
    }
    let key = new_id();
    let intent_id = payment.provider_payment_id.as_deref().ok_or(PaymentError::UnknownPayment)?;
    let return_url = format!("{}/payment/success", app.config.frontend_url);
    client(app)?.confirm_intent(intent_id, payment_method, Some(&return_url), &key).await?;
    // The answer to confirm has no expanded charge: the intent is read again for its whole state.
    sync(app, store, intent_id, "confirm").await
}

/// Refunds `amount` (minor units; everything left when `whole`) of a Stripe payment with `key`
/// as Stripe's idempotency key; returns the refund's id and amount.
pub async fn refund(app: &App, payment: &Payment, amount: i64, whole: bool, key: &str) -> Result<(String, i64), PaymentError> {
    let intent_id = payment.provider_payment_id.as_deref().ok_or(PaymentError::UnknownPayment)?;
    let refund = client(app)?.refund(intent_id, (!whole).then_some(amount), key).await?;
    Ok((refund.id, refund.amount))
}

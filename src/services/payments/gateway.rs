//! What the ledger asks of a provider that holds the shop's money: where one of its payments
//! stands now (applied to the local payment and order), and giving money back. Refunds and
//! webhook intake reach providers only through [`PaymentGateway`], so the next provider (Cregis,
//! PayU) plugs in by implementing it; how a buyer starts paying stays provider-specific
//! (a Checkout Pro preference, a PaymentIntent).

use async_trait::async_trait;

use super::apply::Applied;
use super::{Payment, PaymentError, Provider, mercadopago, stripe};
use crate::app::App;
use crate::services::catalog::stores::Store;
use crate::services::effects::Done;

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Fetches the provider's payment `id` and applies it to its local payment, once however
    /// often it is asked. `Foreign` when it is not about an order of the store.
    async fn sync(&self, app: &App, store: &Store, id: &str, source: &'static str) -> Result<Done<(Payment, Applied)>, PaymentError>;

    /// Gives back `amount` (everything left when `whole`) of `payment`, with `key` as the
    /// provider's idempotency key; answers the provider's refund id and the amount refunded.
    async fn refund(
        &self,
        app: &App,
        store: &Store,
        payment: &Payment,
        amount: i64,
        whole: bool,
        key: &str,
    ) -> Result<(String, i64), PaymentError>;
}

struct MercadoPago;
struct Stripe;

#[async_trait]
impl PaymentGateway for MercadoPago {
    async fn sync(&self, app: &App, store: &Store, id: &str, source: &'static str) -> Result<Done<(Payment, Applied)>, PaymentError> {
        mercadopago::sync(app, store, id, source).await
    }

    async fn refund(
        &self,
        app: &App,
        store: &Store,
        payment: &Payment,
        amount: i64,
        whole: bool,
        key: &str,
    ) -> Result<(String, i64), PaymentError> {
        mercadopago::refund(app, store, payment, amount, whole, key).await
    }
}

#[async_trait]
impl PaymentGateway for Stripe {
    async fn sync(&self, app: &App, store: &Store, id: &str, source: &'static str) -> Result<Done<(Payment, Applied)>, PaymentError> {
        stripe::sync(app, store, id, source).await
    }

    async fn refund(
        &self,
        app: &App,
        _store: &Store,
        payment: &Payment,
        amount: i64,
        whole: bool,
        key: &str,
    ) -> Result<(String, i64), PaymentError> {
        stripe::refund(app, payment, amount, whole, key).await
    }
}

/// The gateway of `provider`; `None` for money that moves by hand (cash, transfers).
pub fn of(provider: Provider) -> Option<&'static dyn PaymentGateway> {
    match provider {
        Provider::MercadoPago => Some(&MercadoPago),
        Provider::Stripe => Some(&Stripe),
        Provider::Manual => None,
    }
}

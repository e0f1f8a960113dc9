//! `/api/payments` (seed 001 "Pagos"), also under `/api/stores/{slug}/…`: paying an order with
//! Mercado Pago, its webhook and return URLs, verification, and the admin's view of the ledger.

mod checkout;
mod ledger;
mod mercadopago_admin;
mod refund;
mod return_urls;
mod stripe_checkout;
mod webhooks;

pub use checkout::*;
pub use ledger::*;
pub use mercadopago_admin::*;
pub use refund::*;
pub use return_urls::*;
pub use stripe_checkout::*;
pub use webhooks::*;

use feria_domain::decimal::DecimalOut;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::services::catalog::stores::Store;
use crate::services::payments::Payment;

/// A payment as the API shows it; amounts are decimals in the order's currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub id: String,
    /// The order paid.
    pub sale_id: String,
    /// `mercadopago`, `stripe` or `manual`.
    pub provider: String,
    #[schema(value_type = f64)]
    pub amount: DecimalOut,
    pub currency: String,
    /// `pending`, `authorized`, `approved`, `rejected`, `cancelled`, `refunded` or `charged_back`.
    pub status: String,
    pub status_detail: Option<String>,
    /// The provider's id for the payment, once it has one.
    pub provider_id: Option<String>,
    pub preference_id: Option<String>,
    pub external_reference: String,
    /// The provider charged another amount or currency than the one asked for; the order was
    /// not marked paid.
    pub amount_mismatch: bool,
    /// Money was approved after the order was cancelled or refunded and is not all given back
    /// yet: refund it (`POST /payments/{id}/refund`).
    pub needs_refund: bool,
    /// Charged so far.
    #[schema(value_type = f64)]
    pub paid_amount: DecimalOut,
    /// Given back so far (refunds and chargebacks).
    #[schema(value_type = f64)]
    pub refunded_amount: DecimalOut,
    /// The provider's last answer (admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub provider_data: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl PaymentView {
    pub fn new(p: Payment, store: &Store, with_provider_data: bool) -> PaymentView {
        let exponent = store.currency.exponent();
        PaymentView {
            id: p.id,
            sale_id: p.order_id,
            provider: p.provider,
            amount: DecimalOut::scaled(p.amount, exponent),
            currency: p.currency,
            status: p.status,
            status_detail: p.status_detail,
            provider_id: p.provider_payment_id,
            preference_id: p.preference_id,
            external_reference: p.external_reference,
            amount_mismatch: p.amount_mismatch,
            needs_refund: p.needs_refund && p.paid > p.refunded,
            paid_amount: DecimalOut::scaled(p.paid, exponent),
            refunded_amount: DecimalOut::scaled(p.refunded, exponent),
            provider_data: if with_provider_data { p.provider_data } else { None },
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

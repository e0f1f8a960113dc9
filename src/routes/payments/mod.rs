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
use feria_domain::roles::Role;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::services::identity::caller::Caller;
use crate::http::error::{ApiError, ApiResult, codes};
use crate::services::catalog::stores::Store;
use crate::services::order_workflow;
use crate::services::orders::{self, Order};
use crate::services::payments::PaymentError;
use crate::services::payments::{self, Payment};

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
    fn new(p: Payment, store: &Store, with_provider_data: bool) -> PaymentView {
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

/// The answer for a payment that could not be started or brought up to date.
pub(crate) fn payment_error(e: PaymentError) -> ApiError {
    match e {
        // The shop's set-up, not a failure of feria: a 409 the client can show.
        PaymentError::NotConfigured(provider) => {
            ApiError::conflict(codes::PROVIDER_NOT_CONFIGURED, format!("Los pagos con {provider} no están configurados en esta tienda"))
        }
        PaymentError::Provider(cause) => ApiError::upstream("El proveedor de pagos no respondió correctamente; intentá de nuevo", cause),
        PaymentError::UnknownPayment => ApiError::not_found("El pago no existe"),
        PaymentError::Foreign => ApiError::field("providerId", "No es un pago de los pedidos de esta tienda"),
        PaymentError::Database(e) => ApiError::internal(e),
    }
}

/// Whether `user` may pay the order: anyone for a guest's order (its id is the capability), its
/// owner or an admin for a user's.
fn may_pay(order: &Order, user: Option<&Caller>) -> bool {
    order.user_id.as_ref().is_none_or(|owner| user.is_some_and(|u| &u.id == owner || u.has_role(Role::Admin)))
}

/// The order `id` if the caller may pay it and it still owes something: a guest's order needs
/// only its id; a user's order, its owner (or an admin). Returns it with what it owes.
async fn payable_order(app: &AppState, store: &Store, user: Option<&Caller>, id: &str) -> ApiResult<(Order, i64)> {
    let mut conn = app.db.reader().acquire().await?;
    let order = orders::find(&mut conn, &store.id, id).await?.ok_or_else(|| ApiError::not_found("El pedido no existe"))?;
    if !may_pay(&order, user) {
        return Err(ApiError::not_found("El pedido no existe"));
    }
    if [order_workflow::CANCELLED, payments::apply::REFUNDED].contains(&order.status_code.as_str()) {
        return Err(ApiError::conflict(codes::ORDER_NOT_PAYABLE, format!("El pedido está {}", order.status_name)));
    }
    let money = payments::order_money(&mut conn, &order.id).await?;
    let owed = order.total - (money.paid - money.refunded);
    if owed <= 0 {
        return Err(ApiError::conflict(codes::ORDER_ALREADY_PAID, "El pedido ya está pagado"));
    }
    Ok((order, owed))
}

//! Paying an order by card with Stripe: the PaymentIntent and its confirmation.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::MaybeUser;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::store::CurrentStore;
use crate::services::identity::caller::Caller;
use crate::services::payments::stripe;

use super::PaymentView;

/// An order to pay with Stripe.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentRequest {
    pub sale_id: Option<String>,
}

/// The intent the buyer's browser confirms with Stripe.js.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentCreated {
    pub payment: PaymentView,
    pub payment_intent_id: String,
    /// For the buyer's browser only.
    pub client_secret: Option<String>,
}

/// Starts paying an order with Stripe: a PaymentIntent for what the order owes (in the
/// currency's minor units) and a pending payment. Same access rules as Mercado Pago.
#[utoipa::path(post, path = "/payments/intent", tag = "payments", request_body = IntentRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    responses(
        (status = 201, description = "Intent created", body = IntentCreated),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order is cancelled, refunded or already paid, or the provider is not configured", body = ErrorBody),
        (status = 422, description = "Missing saleId", body = ErrorBody),
        (status = 502, description = "Stripe failed; nothing was recorded", body = ErrorBody),
    ))]
pub async fn intent(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<IntentRequest>,
) -> ApiResult<(StatusCode, Json<IntentCreated>)> {
    let sale =
        body.sale_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).ok_or_else(|| ApiError::field("saleId", "Es obligatorio"))?;
    let (payment, created) = stripe::start(&app, user.as_ref(), &store, &sale).await?;
    let body = IntentCreated {
        payment: PaymentView::new(payment, &store, false),
        payment_intent_id: created.id,
        client_secret: created.client_secret,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// A Stripe payment to confirm.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmRequest {
    /// feria's id of the payment.
    pub payment_id: Option<String>,
    /// Stripe's payment method (`pm_…`), when the browser did not attach one.
    pub payment_method: Option<String>,
}

/// `{payment}` after a confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    pub payment: PaymentView,
}

/// Confirms a Stripe payment's intent and applies what Stripe answers (a succeeded intent pays
/// the order).
#[utoipa::path(post, path = "/payments/confirm", tag = "payments", request_body = ConfirmRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    responses(
        (status = 200, description = "Confirmed (see the payment's status)", body = Confirmed),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 422, description = "Missing paymentId, or not a Stripe payment", body = ErrorBody),
        (status = 502, description = "Stripe refused or failed", body = ErrorBody),
    ))]
pub async fn confirm(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> ApiResult<Json<Confirmed>> {
    let id = body
        .payment_id
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::field("paymentId", "Es obligatorio"))?;
    let (updated, _) = app.settle(stripe::confirm(&app, user.as_ref(), &store, &id, body.payment_method.as_deref()).await?).await;
    let admin = user.as_ref().is_some_and(Caller::is_admin);
    Ok(Json(Confirmed { payment: PaymentView::new(updated, &store, admin) }))
}

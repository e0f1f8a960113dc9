//! Paying an order with Mercado Pago: the preference, checking a payment, a preference's state.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use feria_domain::decimal::DecimalOut;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::MaybeUser;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::{ApiJson, parse_json};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::identity::caller::Caller;
use crate::services::payments::mercadopago;

use super::PaymentView;
use super::return_urls::is_frontend_page;

/// How to pay an order (seed 001).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartPayment {
    /// `mercadopago` (the default).
    pub payment_method: Option<String>,
    /// A page of the frontend (under `FRONTEND_URL`) to come back to instead of the configured
    /// success, failure or pending page.
    pub return_url: Option<String>,
}

/// The Checkout Pro preference the buyer is sent to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceView {
    pub id: String,
    /// Where to send the buyer.
    pub init_point: Option<String>,
    pub sandbox_init_point: Option<String>,
}

/// `{payment, preference}` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStarted {
    pub payment: PaymentView,
    pub preference: PreferenceView,
}

/// Starts paying an order with Mercado Pago: a Checkout Pro preference for what the order still
/// owes, and a pending payment. A guest's order needs only its id; a user's order, its owner
/// (or an admin).
#[utoipa::path(post, path = "/payments/sale/{id}", tag = "payments", params(("id" = String, Path, description = "The order"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    request_body = StartPayment,
    responses(
        (status = 201, description = "Preference created", body = PaymentStarted),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order is cancelled, refunded or already paid, or the provider is not configured", body = ErrorBody),
        (status = 422, description = "Unknown payment method", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed; nothing was recorded", body = ErrorBody),
    ))]
pub async fn start(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<PaymentStarted>)> {
    // The body is optional.
    let body: StartPayment = if body.iter().all(u8::is_ascii_whitespace) { StartPayment::default() } else { parse_json(&body)? };
    let method =
        body.payment_method.as_deref().map(|m| m.trim().to_ascii_lowercase().replace('_', "")).unwrap_or_else(|| "mercadopago".into());
    if method != "mercadopago" {
        return Err(ApiError::field("paymentMethod", "Solo se admite mercadopago aquí"));
    }
    let return_url = body.return_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    if return_url.as_deref().is_some_and(|u| !is_frontend_page(&app, u)) {
        return Err(ApiError::field("returnUrl", "Debe ser una página del frontend de la tienda"));
    }
    let (payment, preference) = mercadopago::start(&app, user.as_ref(), &store, &id, return_url.as_deref()).await?;
    let preference =
        PreferenceView { id: preference.id, init_point: preference.init_point, sandbox_init_point: preference.sandbox_init_point };
    Ok((StatusCode::CREATED, Json(PaymentStarted { payment: PaymentView::new(payment, &store, false), preference })))
}

/// A payment to check with its provider.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// feria's id of the payment.
    pub payment_id: Option<String>,
    /// Mercado Pago's id of the payment, when the return URL gave one.
    pub provider_id: Option<String>,
}

/// The payment after checking it (seed 001).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub payment: PaymentView,
    /// Checking it changed something.
    pub is_updated: bool,
}

/// Asks Mercado Pago for the payment's current state and applies it (as a webhook would): for
/// whoever may pay its order (a guest's: anyone holding the payment id; a user's: its owner or
/// an admin).
#[utoipa::path(post, path = "/payments/verify", tag = "payments", request_body = VerifyRequest,
    responses(
        (status = 200, description = "The payment, up to date", body = Verified),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "No such payment of yours", body = ErrorBody),
        (status = 422, description = "Missing paymentId, or a providerId of another order", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed", body = ErrorBody),
    ))]
pub async fn verify(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> ApiResult<Json<Verified>> {
    let id = body
        .payment_id
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::field("paymentId", "Es obligatorio"))?;
    let asked = body.provider_id.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    let (payment, is_updated) = app.settle(mercadopago::verify(&app, user.as_ref(), &store, &id, asked).await?).await;
    let admin = user.as_ref().is_some_and(Caller::is_admin);
    Ok(Json(Verified { payment: PaymentView::new(payment, &store, admin), is_updated }))
}

/// The preference and the state of its payment (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferenceState {
    pub preference: PreferenceSummary,
    pub payment: PaymentSummary,
}

/// A preference as Mercado Pago has it, with its payment's status (never the payer's details).
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferenceSummary {
    pub id: String,
    pub status: String,
    #[schema(value_type = Vec<Object>)]
    pub items: Value,
}

/// The local payment of a preference.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentSummary {
    pub id: String,
    pub status: String,
    #[schema(value_type = f64)]
    pub amount: DecimalOut,
}

/// A preference of this store, read from Mercado Pago, with its payment's state: for whoever
/// may pay its order (a guest's: anyone holding the preference id; a user's: its owner or an
/// admin).
#[utoipa::path(get, path = "/payments/preference/{id}", tag = "payments", params(("id" = String, Path, description = "The preference")),
    responses(
        (status = 200, description = "The preference", body = PreferenceState),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "No payment of yours in this store has this preference", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed", body = ErrorBody),
    ))]
pub async fn preference(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<PreferenceState>> {
    let (payment, found) = mercadopago::preference(&app, user.as_ref(), &store, &id).await?;
    Ok(Json(PreferenceState {
        preference: PreferenceSummary { id, status: payment.status.clone(), items: found["items"].clone() },
        payment: PaymentSummary {
            id: payment.id,
            status: payment.status,
            amount: DecimalOut::scaled(payment.amount, store.currency.exponent()),
        },
    }))
}

//! Giving money back, and confirming by hand the payments of cash and transfer orders.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, parse_json};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::payments::manual;
use crate::services::payments::refunds;
use crate::services::payments::webhook_intake::header_text;
use feria_domain::decimal::DecimalText;

use super::PaymentView;
use super::stripe_checkout::Confirmed;

/// A refund: the whole of what is left when `amount` is missing.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefundRequest {
    #[schema(value_type = Option<f64>)]
    pub amount: Option<DecimalText>,
    /// Kept for the record.
    pub reason: Option<String>,
}

/// The payment after a refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refunded {
    pub message: String,
    pub payment: PaymentView,
}

/// Gives back all or part of what a payment charged (admin), through its provider (Mercado Pago
/// with `X-Idempotency-Key`, Stripe with `Idempotency-Key`); never more than what is left. When
/// everything paid for the order was given back, the order moves to REFUNDED.
#[utoipa::path(post, path = "/payments/{id}/refund", tag = "payments", security(("bearer" = [])), params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")), request_body = RefundRequest,
    responses(
        (status = 200, description = "Refunded", body = Refunded),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "Nothing charged is left to give back", body = ErrorBody),
        (status = 422, description = "Amount not positive or more than what is left", body = ErrorBody),
        (status = 502, description = "The provider refused or failed; nothing was recorded", body = ErrorBody),
    ))]
pub async fn refund(
    State(app): State<AppState>,
    Staff(admin, _): Staff<scope::PaymentsRefund>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Refunded>> {
    let body: RefundRequest = if body.iter().all(u8::is_ascii_whitespace) { RefundRequest::default() } else { parse_json(&body)? };
    let mut v = Validator::new();
    let amount = v.decimal("amount", body.amount.as_ref(), store.currency.exponent());
    v.finish()?;
    let client_key = header_text(&headers, crate::http::idempotency::HEADER);
    let payment = app.settle(refunds::refund_payment(&app, &admin, &store, &id, amount, client_key).await?).await;
    Ok(Json(Refunded { message: "Reembolso realizado".into(), payment: PaymentView::new(payment, &store, true) }))
}

/// Money that arrived by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualConfirmation {
    #[schema(value_type = f64)]
    pub amount: Option<DecimalText>,
    /// The receipt or transfer number.
    pub reference: Option<String>,
}

/// Confirms by hand that a cash or bank-transfer order was paid (admin): records an approved
/// manual payment and moves the order to PAID through its workflow. Only for orders whose
/// payment method allows manual confirmation. An amount other than what the order owes is
/// recorded but flagged (`amountMismatch`) and leaves the order as it is.
#[utoipa::path(post, path = "/payments/{id}/confirm-manual", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The order (a cash or transfer order has no payment until confirmed)"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    request_body = ManualConfirmation,
    responses(
        (status = 201, description = "Recorded", body = Confirmed),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order's payment method is not confirmed by hand, or it is cancelled or paid", body = ErrorBody),
        (status = 422, description = "Missing amount or reference", body = ErrorBody),
    ))]
pub async fn confirm_manual(
    State(app): State<AppState>,
    Staff(admin, _): Staff<scope::OrdersWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<ManualConfirmation>,
) -> ApiResult<(StatusCode, Json<Confirmed>)> {
    let mut v = Validator::new();
    let amount = v.decimal("amount", body.amount.as_ref(), store.currency.exponent());
    match amount {
        None if body.amount.is_none() => v.add("amount", "Es obligatorio"),
        Some(0) => v.add("amount", "Debe ser mayor que 0"),
        _ => {}
    }
    let reference = v.text("reference", body.reference.as_deref(), 1, 200);
    v.finish()?;
    let payment = app.settle(manual::confirm_manual(&app, &admin, &store, &id, amount.unwrap_or_default(), &reference).await?).await;
    Ok((StatusCode::CREATED, Json(Confirmed { payment: PaymentView::new(payment, &store, true) })))
}

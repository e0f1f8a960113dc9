//! Giving money back, and confirming by hand the payments of cash and transfer orders.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AdminUser;
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::{ApiJson, parse_json};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use crate::services::order_statuses::Key;
use crate::services::payment_methods;
use crate::services::payments::manual;
use crate::services::payments::refunds::{self, RefundError};
use crate::services::payments::{self};
use feria_domain::decimal::DecimalText;

use super::stripe_checkout::Confirmed;
use super::webhooks::header_text;
use super::{PaymentView, payable_order, payment_error};

fn refund_error(e: RefundError, store: &Store) -> ApiError {
    match e {
        RefundError::NothingLeft => ApiError::conflict(codes::NOTHING_TO_REFUND, "El pago no tiene nada cobrado sin devolver"),
        RefundError::TooMuch { left } => ApiError::field(
            "amount",
            format!("Debe ser mayor que 0 y como máximo {}", feria_domain::money::format_scaled(left, store.currency.exponent())),
        ),
        RefundError::Payment(e) => payment_error(e),
    }
}

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
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Refunded>> {
    let body: RefundRequest = if body.iter().all(u8::is_ascii_whitespace) { RefundRequest::default() } else { parse_json(&body)? };
    let mut v = Validator::new();
    let amount = v.decimal("amount", body.amount.as_ref(), store.currency.exponent());
    v.finish()?;
    let payment = payments::find(&mut *app.db.reader().acquire().await?, &store.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("El pago no existe"))?;
    // A retry with the client's Idempotency-Key reaches the provider with the same key.
    let key = match header_text(&headers, crate::http::idempotency::HEADER) {
        Some(client_key) => crate::crypto::sha256_hex(&format!("refund:{}:{client_key}", payment.id)),
        None => feria_domain::ids::new_id(),
    };
    let (payment, _) = refunds::refund(&app, &store, &payment, amount, &key).await.map_err(|e| refund_error(e, &store))?;
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
    AdminUser(admin): AdminUser,
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
    let amount = amount.unwrap_or_default();
    let (order, owed) = payable_order(&app, &store, Some(&admin), &id).await?;
    let method = match &order.payment_method_code {
        Some(code) => payment_methods::find(&mut *app.db.reader().acquire().await?, &store.id, Key::Code(code)).await?,
        None => None,
    };
    if !method.is_some_and(|m| m.allows_manual_confirmation) {
        return Err(ApiError::conflict(codes::MANUAL_CONFIRMATION_NOT_ALLOWED, "El método de pago del pedido no se confirma a mano"));
    }
    let mut tx = app.db.begin().await?;
    let (payment, applied) = manual::confirm(&mut tx, &app, &store, &order, owed, amount, &reference).await.map_err(payment_error)?;
    tx.commit().await?;
    if applied.queued {
        app.job_wake.notify_one();
    }
    Ok((StatusCode::CREATED, Json(Confirmed { payment: PaymentView::new(payment, &store, true) })))
}

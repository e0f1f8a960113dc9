//! Provider webhooks (Mercado Pago, Stripe), taken in by `services::payments::webhook_intake`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::ClientIp;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::store::CurrentStore;
use crate::services::payments::webhook_intake::{self, Delivery, Source};

/// The seed's answer to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub message: String,
}

impl WebhookAnswer {
    fn processed() -> WebhookAnswer {
        WebhookAnswer { message: "Webhook processed successfully".into() }
    }
}

/// Mercado Pago's notifications: the signed JSON webhook (`x-signature` checked against
/// `MERCADOPAGO_WEBHOOK_SECRET`, 5-minute window) and the legacy `?topic=payment&id=` form
/// (which Mercado Pago cannot sign: only a hint). Every notification is logged first; the
/// payment is then fetched from Mercado Pago and applied, once however often it arrives.
#[utoipa::path(post, path = "/payments/webhook", tag = "payments",
    responses(
        (status = 200, description = "Processed (or not about a payment)", body = WebhookAnswer),
        (status = 400, description = "Not a Mercado Pago notification", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature; logged, nothing applied", body = ErrorBody),
        (status = 502, description = "Mercado Pago could not be asked; it will retry", body = ErrorBody),
    ))]
pub async fn mercadopago_webhook(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    app.rate_limiter.spend("webhook-mercadopago", &ip, app.config.limits.webhooks).await?;
    let delivery = Delivery { headers: &headers, raw_query: raw_query.as_deref(), body: &body, ip: &ip };
    app.settle(webhook_intake::take_in(&app, &store, Source::MercadoPago, delivery).await?).await;
    Ok(Json(WebhookAnswer::processed()))
}

/// Stripe's events (`Stripe-Signature` checked against `STRIPE_WEBHOOK_SECRET`: any `v1`, at
/// most 300 s old). Logged first; for a PaymentIntent or a refund the intent is then fetched from
/// Stripe and applied, once however often the event arrives.
#[utoipa::path(post, path = "/payments/webhook/stripe", tag = "payments",
    responses(
        (status = 200, description = "Processed (or not about a payment)", body = WebhookAnswer),
        (status = 400, description = "Not a Stripe event", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature; logged, nothing applied", body = ErrorBody),
        (status = 502, description = "Stripe could not be asked; it will retry", body = ErrorBody),
    ))]
pub async fn stripe_webhook(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    app.rate_limiter.spend("webhook-stripe", &ip, app.config.limits.webhooks).await?;
    let delivery = Delivery { headers: &headers, raw_query: raw_query.as_deref(), body: &body, ip: &ip };
    app.settle(webhook_intake::take_in(&app, &store, Source::Stripe, delivery).await?).await;
    Ok(Json(WebhookAnswer::processed()))
}

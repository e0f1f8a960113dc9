//! Providers' reports on the messages they took: SendGrid's Event Webhook and Twilio's status
//! callbacks, verified by `services::notifications::receipts`. Rate-limited per IP like the
//! payment webhooks.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::ClientIp;
use crate::http::error::{ApiResult, ErrorBody};
use crate::services::notifications::receipts;

/// How many reports changed something.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptAnswer {
    pub applied: usize,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// SendGrid's Event Webhook: a JSON array of events, signed (ECDSA P-256 over timestamp ‖ body)
/// with the key in `SENDGRID_WEBHOOK_PUBLIC_KEY`, at most 300 s old. Moves messages forward
/// (processed → sent, delivered, open → read, bounce, dropped) and stops a category for
/// recipients who unsubscribe or report spam.
#[utoipa::path(post, path = "/api/webhooks/sendgrid", tag = "notifications",
    responses(
        (status = 200, description = "Taken in", body = ReceiptAnswer),
        (status = 400, description = "Not SendGrid events", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature, or no key configured; nothing applied", body = ErrorBody),
    ))]
pub async fn sendgrid(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ReceiptAnswer>> {
    app.rate_limiter.spend("webhook-sendgrid", &ip, app.config.limits.webhooks).await?;
    let timestamp = header(&headers, "x-twilio-email-event-webhook-timestamp");
    let signature = header(&headers, "x-twilio-email-event-webhook-signature");
    Ok(Json(ReceiptAnswer { applied: receipts::sendgrid(&app, timestamp, signature, &body).await? }))
}

/// Twilio's status callback for one of feria's text messages (`m`: the message, as given when
/// sending), a form signed in `X-Twilio-Signature` with `TWILIO_AUTH_TOKEN` over feria's
/// callback URL and the sorted parameters.
#[utoipa::path(post, path = "/api/webhooks/twilio/status", tag = "notifications",
    params(("m" = String, Query, description = "feria's message id")),
    responses(
        (status = 200, description = "Taken in", body = ReceiptAnswer),
        (status = 400, description = "Not a Twilio status callback", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature; nothing applied", body = ErrorBody),
    ))]
pub async fn twilio(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<ReceiptAnswer>> {
    app.rate_limiter.spend("webhook-twilio", &ip, app.config.limits.webhooks).await?;
    let message = form_urlencoded::parse(query.unwrap_or_default().as_bytes()).find(|(k, _)| k == "m").map(|(_, v)| v.into_owned());
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let moved = receipts::twilio(&app, &message.unwrap_or_default(), &params, header(&headers, "x-twilio-signature")).await?;
    Ok(Json(ReceiptAnswer { applied: usize::from(moved) }))
}

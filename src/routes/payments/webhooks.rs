//! Provider webhooks (Mercado Pago, Stripe): logged as received, signatures checked, the
//! payment fetched from the provider and applied.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use feria_providers::mercadopago as mp;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::config::SIGNATURE_TOLERANCE_SECS;
use crate::http::auth::ClientIp;
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::store::CurrentStore;
use crate::services::catalog::stores::Store;
use crate::services::payments::mercadopago;
use crate::services::payments::webhook_log::{self, Received};
use crate::services::payments::{PaymentError, stripe};

use super::payment_error;

/// The query string as a map (first value of each name).
pub(super) fn query_map(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

pub(super) fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Stores a webhook as received, before anything is done with it; returns its log id.
/// `about` is (event type, provider resource id, format).
#[allow(clippy::too_many_arguments)]
async fn log_webhook(
    app: &AppState,
    store: &Store,
    source: &str,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    body: &str,
    ip: &str,
    about: (Option<&str>, Option<&str>, &str),
    signature_valid: bool,
) -> ApiResult<String> {
    let kept = ["x-signature", "x-request-id", "stripe-signature", "user-agent", "content-type", "x-retry"];
    let kept_headers: serde_json::Map<String, Value> =
        kept.iter().filter_map(|h| header_text(headers, h).map(|v| (h.to_string(), Value::String(v.to_string())))).collect();
    let (event_type, resource_id, format) = about;
    let received = Received {
        store_id: &store.id,
        source,
        event_type,
        resource_id,
        format,
        headers: &Value::Object(kept_headers),
        query: &json!(query_map(raw_query)),
        body,
        ip,
        user_agent: header_text(headers, "user-agent"),
        signature_valid,
    };
    Ok(webhook_log::record(&mut *app.db.writer().acquire().await?, &received).await?)
}

/// Marks a logged webhook with what processing did.
async fn finish_webhook(app: &AppState, log_id: &str, processed: bool, outcome: String, changed: bool) -> ApiResult<()> {
    Ok(webhook_log::finish(&mut *app.db.writer().acquire().await?, log_id, processed, &outcome, changed).await?)
}

/// The seed's answer to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub message: String,
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
    let query = query_map(raw_query.as_deref());
    let text = String::from_utf8_lossy(&body).into_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let data_id = query.get("data.id").cloned();
    let (format, event_type, resource_id) = if data_id.is_some() || (json.get("type").is_some() && json.get("data").is_some()) {
        let resource = data_id.clone().or_else(|| mp::id_text(&json["data"]["id"]));
        ("webhook", query.get("type").cloned().or_else(|| json["type"].as_str().map(str::to_string)), resource)
    } else if let (Some(topic), Some(id)) = (query.get("topic"), query.get("id")) {
        ("ipn", Some(topic.clone()), Some(id.clone()))
    } else {
        ("unknown", None, None)
    };
    let signature = match format {
        "webhook" => match mercadopago::config(&app).ok().and_then(|c| c.webhook_secret.as_ref()) {
            None => Err("MERCADOPAGO_WEBHOOK_SECRET is not set".to_string()),
            Some(secret) => mp::verify_signature(
                secret.expose(),
                header_text(&headers, "x-signature"),
                header_text(&headers, "x-request-id"),
                data_id.as_deref(),
                chrono::Utc::now().timestamp(),
                SIGNATURE_TOLERANCE_SECS,
            )
            .map_err(|e| e.to_string()),
        },
        "ipn" => Err("legacy notification (Mercado Pago does not sign them; only fetched)".to_string()),
        _ => Err("not a Mercado Pago notification".to_string()),
    };
    let log_id = log_webhook(
        &app,
        &store,
        "mercadopago",
        &headers,
        raw_query.as_deref(),
        &text,
        &ip,
        (event_type.as_deref(), resource_id.as_deref(), format),
        signature.is_ok(),
    )
    .await?;
    let finish = |processed: bool, outcome: String, changed: bool| finish_webhook(&app, &log_id, processed, outcome, changed);
    match (format, &signature) {
        ("unknown", _) => {
            finish(false, "refused: not a Mercado Pago notification".into(), false).await?;
            return Err(ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, "No es una notificación de Mercado Pago"));
        }
        ("webhook", Err(why)) => {
            finish(false, format!("refused: {why}"), false).await?;
            return Err(ApiError::unauthorized(codes::INVALID_SIGNATURE, "La firma de la notificación no es válida"));
        }
        _ => {}
    }
    let processed = WebhookAnswer { message: "Webhook processed successfully".into() };
    let (Some(resource), Some("payment")) = (resource_id.as_deref(), event_type.as_deref()) else {
        finish(true, format!("ignored: topic {}", event_type.as_deref().unwrap_or("(none)")), false).await?;
        return Ok(Json(processed));
    };
    match mercadopago::sync(&app, &store, resource, "webhook").await {
        Ok((_, applied)) => finish(true, applied.outcome, applied.changed).await?,
        Err(PaymentError::Foreign) => finish(true, "ignored: not a payment of this store's orders".into(), false).await?,
        Err(e) => {
            finish(false, format!("failed: {e}"), false).await?;
            return Err(payment_error(e));
        }
    }
    Ok(Json(processed))
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
    let text = String::from_utf8_lossy(&body).into_owned();
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let event_type = event["type"].as_str().map(str::to_string);
    let object = &event["data"]["object"];
    let intent_id = match object["object"].as_str() {
        Some("payment_intent") => object["id"].as_str(),
        _ => object["payment_intent"].as_str(),
    }
    .map(str::to_string);
    let signature = match stripe::config(&app).ok().and_then(|c| c.webhook_secret.as_ref()) {
        None => Err("STRIPE_WEBHOOK_SECRET is not set".to_string()),
        Some(secret) => feria_providers::stripe::verify_signature(
            secret.expose(),
            header_text(&headers, "stripe-signature"),
            &body,
            chrono::Utc::now().timestamp(),
            SIGNATURE_TOLERANCE_SECS,
        )
        .map_err(|e| e.to_string()),
    };
    let log_id = log_webhook(
        &app,
        &store,
        "stripe",
        &headers,
        raw_query.as_deref(),
        &text,
        &ip,
        (event_type.as_deref(), intent_id.as_deref(), "webhook"),
        signature.is_ok(),
    )
    .await?;
    if let Err(why) = signature {
        finish_webhook(&app, &log_id, false, format!("refused: {why}"), false).await?;
        return Err(ApiError::unauthorized(codes::INVALID_SIGNATURE, "La firma del evento no es válida"));
    }
    if event_type.is_none() {
        finish_webhook(&app, &log_id, false, "refused: not a Stripe event".into(), false).await?;
        return Err(ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, "No es un evento de Stripe"));
    }
    let processed = WebhookAnswer { message: "Webhook processed successfully".into() };
    let about_money =
        event_type.as_deref().is_some_and(|t| t.starts_with("payment_intent.") || t.starts_with("charge.") || t.starts_with("refund."));
    let Some(intent) = intent_id.filter(|_| about_money) else {
        finish_webhook(&app, &log_id, true, format!("ignored: event {}", event_type.as_deref().unwrap_or_default()), false).await?;
        return Ok(Json(processed));
    };
    match stripe::sync(&app, &store, &intent, "webhook").await {
        Ok((_, applied)) => finish_webhook(&app, &log_id, true, applied.outcome, applied.changed).await?,
        Err(PaymentError::Foreign) => {
            finish_webhook(&app, &log_id, true, "ignored: not a payment of this store's orders".into(), false).await?
        }
        Err(e) => {
            finish_webhook(&app, &log_id, false, format!("failed: {e}"), false).await?;
            return Err(payment_error(e));
        }
    }
    Ok(Json(processed))
}

//! `/api/webhooks` (seed 001 webhook log), also under `/api/stores/{slug}/…`: every provider
//! webhook as it arrived and what was done with it (admin).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::{PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::payments::webhook_analysis::{self, Details};
use crate::services::payments::webhook_log::{self, WebhookFilter, WebhookLog};

/// A stored webhook.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub id: String,
    /// `mercadopago` or `stripe`.
    pub source: String,
    /// The provider's topic or event type (`payment`, `payment_intent.succeeded`…).
    pub event_type: Option<String>,
    /// The provider's id of what it is about.
    pub resource_id: Option<String>,
    /// `webhook` (signed JSON), `ipn` (Mercado Pago's legacy query form) or `unknown`.
    pub format: String,
    #[schema(value_type = Object)]
    pub headers: Value,
    #[schema(value_type = Object)]
    pub query: Value,
    /// The body as received.
    pub body: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub signature_valid: bool,
    pub processed: bool,
    /// What processing did, or why it was refused.
    pub outcome: Option<String>,
    /// The first webhook about the same resource, when this one changed nothing.
    pub duplicate_of: Option<String>,
    pub created_at: String,
    pub processed_at: Option<String>,
}

impl From<WebhookLog> for WebhookView {
    fn from(w: WebhookLog) -> WebhookView {
        WebhookView {
            id: w.id,
            source: w.source,
            event_type: w.event_type,
            resource_id: w.resource_id,
            format: w.format,
            headers: w.headers,
            query: w.query,
            body: w.body,
            ip_address: w.ip,
            user_agent: w.user_agent,
            signature_valid: w.signature_valid,
            processed: w.processed,
            outcome: w.outcome,
            duplicate_of: w.duplicate_of,
            created_at: w.created_at,
            processed_at: w.processed_at,
        }
    }
}

/// One page of webhooks.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    pub webhooks: Vec<WebhookView>,
    pub pagination: PageInfo,
}

/// Filters of the webhook list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct WebhookQuery {
    /// `mercadopago` or `stripe`.
    pub source: Option<String>,
    pub processed: Option<bool>,
    pub signature_valid: Option<bool>,
    /// The provider's id of what they are about.
    pub resource_id: Option<String>,
}

/// The store's webhooks, newest first (admin).
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", security(("bearer" = [])), params(WebhookQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = WebhookPage),
        (status = 400, description = "A filter is not true or false", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::PaymentsRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    Query(q): Query<WebhookQuery>,
) -> ApiResult<Json<WebhookPage>> {
    let filter = WebhookFilter {
        source: q.source.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()),
        processed: q.processed,
        signature_valid: q.signature_valid,
        resource_id: q.resource_id.filter(|r| !r.is_empty()),
    };
    let (total, found) = webhook_log::list(&mut *app.db.reader().acquire().await?, &store.id, &filter, page.limit, page.offset()).await?;
    Ok(Json(WebhookPage { webhooks: found.into_iter().map(WebhookView::from).collect(), pagination: PageInfo::new(page, total) }))
}

/// `{webhook}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOne {
    pub webhook: WebhookView,
}

/// One webhook (admin).
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The webhook", body = WebhookOne),
        (status = 404, description = "No such webhook", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _staff: Staff<scope::PaymentsRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<WebhookOne>> {
    let found = webhook_log::find(&mut *app.db.reader().acquire().await?, &store.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("El webhook no existe"))?;
    Ok(Json(WebhookOne { webhook: found.into() }))
}

/// Counts over the store's webhooks.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookStatsView {
    pub total: i64,
    /// Per source.
    #[schema(value_type = Object)]
    pub by_source: Value,
    pub processed: i64,
    /// Refused, or failed and waiting for the provider's retry.
    pub unprocessed: i64,
    pub invalid_signatures: i64,
    /// Processed but changing nothing (the same event again).
    pub duplicates: i64,
    pub last_received_at: Option<String>,
}

/// Counts over the store's webhooks (admin).
#[utoipa::path(get, path = "/webhooks/stats", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts", body = WebhookStatsView),
    ))]
pub async fn stats(
    State(app): State<AppState>,
    _staff: Staff<scope::PaymentsRead>,
    CurrentStore(store): CurrentStore,
) -> ApiResult<Json<WebhookStatsView>> {
    let s = webhook_log::stats(&mut *app.db.reader().acquire().await?, &store.id).await?;
    let by_source: serde_json::Map<String, Value> = s.by_source.into_iter().map(|(k, n)| (k, Value::from(n))).collect();
    Ok(Json(WebhookStatsView {
        total: s.total,
        by_source: Value::Object(by_source),
        processed: s.processed,
        unprocessed: s.unprocessed,
        invalid_signatures: s.invalid_signatures,
        duplicates: s.duplicates,
        last_received_at: s.last_received_at,
    }))
}

/// The webhook as the seed's details show it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSummary {
    pub id: String,
    pub event_type: Option<String>,
    pub processed: bool,
    pub created_at: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// Mercado Pago's whole payment behind a webhook, with feria's reading of it (seed 001).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MercadoPagoDetails {
    pub webhook: WebhookSummary,
    /// The payment as Mercado Pago answers it now.
    #[schema(value_type = Object)]
    pub mercado_pago_data: Value,
    /// Amounts, the idempotency key, the link to the sale, `riskLevel` and `trustScore`.
    #[schema(value_type = Object)]
    pub analysis: Value,
    /// Where the webhook came from and how many others were about the same payment.
    #[schema(value_type = Object)]
    pub traceability: Value,
}

/// Fetches from Mercado Pago the payment a webhook was about and analyses it (admin): amounts,
/// fees, refunds, the link to the order, and a risk level (rules in `webhook_analysis`).
#[utoipa::path(get, path = "/webhooks/{id}/mercadopago-details", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The payment and its analysis", body = MercadoPagoDetails),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 409, description = "Not a Mercado Pago webhook about a payment, or Mercado Pago is not configured", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed", body = ErrorBody),
    ))]
pub async fn mercadopago_details(
    State(app): State<AppState>,
    Staff(staff, _): Staff<scope::PaymentsRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<MercadoPagoDetails>> {
    let Details { log, payment, analysis, traceability } = webhook_analysis::details(&app, &staff, &store, &id).await?;
    let webhook = WebhookSummary {
        id: log.id.clone(),
        event_type: log.event_type.clone(),
        processed: log.processed,
        created_at: log.created_at.clone(),
        ip_address: log.ip.clone(),
        user_agent: log.user_agent.clone(),
    };
    Ok(Json(MercadoPagoDetails { webhook, mercado_pago_data: payment, analysis, traceability }))
}

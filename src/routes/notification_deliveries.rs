//! `/notifications/deliveries` (also under `/api/stores/{slug}/…`): the store's delivery log,
//! one row per message (channel, address, provider, status, attempts, error), and sending a
//! failed one again.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::notifications::delivery_log::{self, Attempt, Delivery, Filter};

/// One message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: String,
    pub notification_id: String,
    /// The event: `order_placed`, `order_status_changed`…
    pub kind: String,
    pub category: String,
    pub recipient_name: String,
    /// `in_app`, `email`, `sms`, `push`, `web_push` or `telegram`.
    pub channel: String,
    pub address: String,
    /// `smtp`, `sendgrid`, `twilio`, `telegram`…
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    /// `queued`, `sending`, `sent`, `delivered`, `read`, `failed`, `bounced` or `skipped`.
    pub status: String,
    pub attempts: i64,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> DeliveryView {
        DeliveryView {
            id: d.id,
            notification_id: d.notification_id,
            kind: d.kind,
            category: d.category,
            recipient_name: d.recipient_name,
            channel: d.channel,
            address: d.address,
            provider: d.provider,
            provider_message_id: d.provider_message_id,
            status: d.status,
            attempts: d.attempts,
            error_code: d.error_code,
            error: d.error,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// One try with a provider.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub provider: String,
    /// `sent`, `retry`, `refused`, `gone`, `attempts_exhausted`, `not_configured`…
    pub outcome: String,
    pub detail: Option<String>,
    pub created_at: String,
}

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> AttemptView {
        AttemptView { provider: a.provider, outcome: a.outcome, detail: a.detail, created_at: a.created_at }
    }
}

/// A page of the log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    pub pagination: PageInfo,
}

/// A message and its tries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    pub delivery: DeliveryView,
    pub attempts: Vec<AttemptView>,
}

/// Filters; each one given narrows the list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryQuery {
    pub status: Option<String>,
    pub channel: Option<String>,
    /// The event, e.g. `order_placed`.
    pub kind: Option<String>,
    /// One recipient's messages of one event.
    pub notification_id: Option<String>,
    /// The exact address: email, phone or chat.
    pub address: Option<String>,
    /// RFC 3339: from this time on.
    pub from: Option<String>,
    /// RFC 3339: before this time.
    pub to: Option<String>,
}

fn filter(q: DeliveryQuery) -> ApiResult<Filter> {
    let mut v = Validator::new();
    let mut text = |field: &str, value: Option<String>| v.optional_text(field, value.as_deref(), 1, 320);
    let (status, channel, kind, notification_id, address) = (
        text("status", q.status),
        text("channel", q.channel),
        text("kind", q.kind),
        text("notificationId", q.notification_id),
        text("address", q.address),
    );
    let mut at = |field: &str, value: Option<String>| v.time(field, value.as_deref()).map(feria_domain::time::to_db);
    let (from, to) = (at("from", q.from), at("to", q.to));
    if status.as_deref().is_some_and(|s| feria_domain::notify::MessageStatus::parse(s).is_none()) {
        v.add("status", "No es un estado (queued, sending, sent, delivered, read, failed, bounced, skipped)");
    }
    if channel.as_deref().is_some_and(|c| feria_domain::notify::Channel::parse(c).is_none()) {
        v.add("channel", "No es un canal (in_app, email, sms, push, web_push, telegram)");
    }
    v.finish()?;
    Ok(Filter { status, channel, kind, notification_id, address, from, to })
}

/// The store's delivery log (`customers:read`).
#[utoipa::path(get, path = "/notifications/deliveries", tag = "notifications", security(("bearer" = [])),
    params(DeliveryQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = DeliveryPage),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::CustomersRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    let (total, found) = delivery_log::page(&app.db, &reader, &store.id, &filter(q)?, page.limit, page.offset()).await?;
    Ok(Json(DeliveryPage { deliveries: found.into_iter().map(Into::into).collect(), pagination: PageInfo::new(page, total) }))
}

/// One message of the store with its tries (`customers:read`).
#[utoipa::path(get, path = "/notifications/deliveries/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The message", body = DeliveryDetail),
        (status = 404, description = "No such message in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::CustomersRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<DeliveryDetail>> {
    let (delivery, attempts) = delivery_log::get(&app.db, &reader, &store.id, &id).await?;
    Ok(Json(DeliveryDetail { delivery: delivery.into(), attempts: attempts.into_iter().map(Into::into).collect() }))
}

/// Sends a failed, bounced or skipped message again (`customers:write`).
#[utoipa::path(post, path = "/notifications/deliveries/{id}/retry", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Queued again", body = DeliveryView),
        (status = 404, description = "No such message in this store", body = ErrorBody),
        (status = 409, description = "The message has not failed", body = ErrorBody),
    ))]
pub async fn retry(
    State(app): State<AppState>,
    Staff(writer, _): Staff<scope::CustomersWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<DeliveryView>> {
    Ok(Json(delivery_log::retry(&app, &writer, &store.id, &id).await?.into()))
}

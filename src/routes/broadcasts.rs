//! `/broadcasts` (also under `/api/stores/{slug}/…`): announcements and emergency messages to a
//! store's customers, staff or owners (or, by the platform's admin, everyone), now or scheduled,
//! with a per-status report; cancelling a scheduled one and resending the failed messages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::notifications::broadcasts::{self, Broadcast, BroadcastAudience, NewBroadcast};

/// A broadcast and, in a single one's answer, how its messages stand.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastView {
    pub id: String,
    /// `announcement` or `emergency`.
    pub kind: String,
    /// `customers`, `staff`, `owners` or `everyone`.
    pub audience: String,
    pub title: String,
    pub body: String,
    pub send_at: String,
    /// `scheduled`, `sent` or `cancelled`.
    pub status: String,
    pub created_at: String,
    /// People reached so far.
    pub recipients: i64,
    /// Messages by status (`queued`, `sent`, `delivered`, `failed`, `bounced`…); the
    /// per-recipient detail is the delivery log filtered by `notificationId`.
    #[schema(value_type = Object)]
    pub messages: BTreeMap<String, i64>,
}

impl From<Broadcast> for BroadcastView {
    fn from(b: Broadcast) -> BroadcastView {
        BroadcastView {
            id: b.id,
            kind: b.kind,
            audience: b.audience,
            title: b.title,
            body: b.body,
            send_at: b.send_at,
            status: b.status,
            created_at: b.created_at,
            recipients: b.recipients,
            messages: b.messages.into_iter().collect(),
        }
    }
}

/// A page of broadcasts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastPage {
    pub broadcasts: Vec<BroadcastView>,
    pub pagination: PageInfo,
}

/// A broadcast to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendBroadcast {
    /// `announcement` (respects preferences and quiet hours) or `emergency` (every channel, at once).
    pub kind: Option<String>,
    /// `customers`, `staff`, `owners`, or `everyone` (the platform's admin only).
    pub audience: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    /// RFC 3339; later than now schedules it.
    pub send_at: Option<String>,
}

/// `{queued}`: messages sent again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    pub queued: u64,
}

/// Sends (or schedules) a broadcast (`settings:write`).
#[utoipa::path(post, path = "/broadcasts", tag = "notifications", security(("bearer" = [])), request_body = SendBroadcast,
    responses(
        (status = 201, description = "Queued or scheduled", body = BroadcastView),
        (status = 403, description = "Not allowed for this audience", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn send(
    State(app): State<AppState>,
    Staff(sender, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<SendBroadcast>,
) -> ApiResult<(StatusCode, Json<BroadcastView>)> {
    let mut v = Validator::new();
    let emergency = match body.kind.as_deref() {
        Some("announcement") => false,
        Some("emergency") => true,
        _ => {
            v.add("kind", "Debe ser announcement o emergency");
            false
        }
    };
    let audience = body.audience.as_deref().and_then(BroadcastAudience::parse);
    if audience.is_none() {
        v.add("audience", "Debe ser customers, staff, owners o everyone");
    }
    let title = v.text("title", body.title.as_deref(), 2, 120);
    let text = v.text("body", body.body.as_deref(), 2, 2000);
    let send_at = v.time("sendAt", body.send_at.as_deref());
    v.finish()?;
    let new = NewBroadcast { emergency, audience: audience.unwrap_or(BroadcastAudience::Customers), title, body: text, send_at };
    let done = broadcasts::send(&app, &sender, &store.id, new).await?;
    Ok((StatusCode::CREATED, Json(app.settle(done).await.into())))
}

/// The store's broadcasts (`settings:write`).
#[utoipa::path(get, path = "/broadcasts", tag = "notifications", security(("bearer" = [])),
    params(("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "One page", body = BroadcastPage)))]
pub async fn list(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<BroadcastPage>> {
    let (total, found) = broadcasts::page(&app.db, &reader, &store.id, page.limit, page.offset()).await?;
    Ok(Json(BroadcastPage { broadcasts: found.into_iter().map(Into::into).collect(), pagination: PageInfo::new(page, total) }))
}

/// One broadcast with its report (`settings:write`).
#[utoipa::path(get, path = "/broadcasts/{id}", tag = "notifications", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The broadcast", body = BroadcastView),
        (status = 404, description = "No such broadcast in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<BroadcastView>> {
    Ok(Json(broadcasts::get(&app.db, &reader, &store.id, &id).await?.into()))
}

/// Cancels a scheduled broadcast before it goes out (`settings:write`).
#[utoipa::path(post, path = "/broadcasts/{id}/cancel", tag = "notifications", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = BroadcastView),
        (status = 404, description = "No such broadcast in this store", body = ErrorBody),
        (status = 409, description = "Already sent or cancelled", body = ErrorBody),
    ))]
pub async fn cancel(
    State(app): State<AppState>,
    Staff(writer, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<BroadcastView>> {
    Ok(Json(broadcasts::cancel(&app.db, &writer, &store.id, &id).await?.into()))
}

/// Sends every failed or bounced message of a broadcast again (`settings:write`).
#[utoipa::path(post, path = "/broadcasts/{id}/retry-failed", tag = "notifications", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "How many were queued again", body = Requeued),
        (status = 404, description = "No such broadcast in this store", body = ErrorBody),
    ))]
pub async fn retry_failed(
    State(app): State<AppState>,
    Staff(writer, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Requeued>> {
    let done = broadcasts::retry_failed(&app, &writer, &store.id, &id).await?;
    Ok(Json(Requeued { queued: app.settle(done).await }))
}

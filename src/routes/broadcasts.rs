//! `/broadcasts` (also under `/api/stores/{slug}/…`): announcements and emergency messages to a
//! store's customers, staff or owners (or, by the platform's admin, everyone), now or scheduled,
//! with a per-status report; cancelling a scheduled one and resending the failed messages.
//! Sent as JSON, or as a multipart form with `attachment` files (images or PDF).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::form::{FormBody, file_bytes, malformed};
use crate::http::json::{PageInfo, Pagination, parse_json};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::files::FileFormat;
use crate::services::notifications::broadcasts::{
    self, Attachment, Broadcast, BroadcastAudience, MAX_ATTACHMENTS, NewAttachment, NewBroadcast,
};

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
    /// `scheduled`, `sending` (its audience being written), `sent` or `cancelled`.
    pub status: String,
    pub created_at: String,
    /// Files sent with it, as links.
    pub attachments: Vec<AttachmentView>,
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
            attachments: b.attachments.into_iter().map(Into::into).collect(),
            recipients: b.recipients,
            messages: b.messages.into_iter().collect(),
        }
    }
}

/// A file attached to a broadcast or an inbox item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub name: String,
    pub url: String,
    pub content_type: String,
    /// Bytes.
    pub size: u64,
}

impl From<Attachment> for AttachmentView {
    fn from(a: Attachment) -> AttachmentView {
        AttachmentView { name: a.name, url: a.url, content_type: a.content_type, size: a.size }
    }
}

/// A page of broadcasts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastPage {
    pub broadcasts: Vec<BroadcastView>,
    pub pagination: PageInfo,
}

/// A broadcast to send. As `multipart/form-data` the same names are form fields, plus up to
/// five `attachment` files (JPEG, PNG, WebP, GIF or PDF, each within `MAX_FILE_SIZE`).
#[derive(Debug, Default, Deserialize, ToSchema)]
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

/// A broadcast's fields and files, from JSON or multipart.
pub struct BroadcastForm {
    fields: SendBroadcast,
    attachments: Vec<NewAttachment>,
    /// Files that are not of a format feria stores.
    refused_files: usize,
}

impl FromRequest<AppState> for BroadcastForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, Self::Rejection> {
        match FormBody::from_request(req, app).await? {
            FormBody::Json(bytes) => Ok(BroadcastForm { fields: parse_json(&bytes)?, attachments: Vec::new(), refused_files: 0 }),
            FormBody::Multipart(multipart) => read_multipart(multipart, app.config.max_file_size).await,
        }
    }
}

async fn read_multipart(mut multipart: Multipart, max_file_size: usize) -> ApiResult<BroadcastForm> {
    let mut form = BroadcastForm { fields: SendBroadcast::default(), attachments: Vec::new(), refused_files: 0 };
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "attachment" {
            let file_name = field.file_name().map(str::to_string);
            let bytes = file_bytes(field, max_file_size).await?;
            match FileFormat::sniff(&bytes) {
                _ if form.attachments.len() + form.refused_files >= MAX_ATTACHMENTS => form.refused_files += 1,
                Some(format) => form.attachments.push(NewAttachment { name: display_name(file_name.as_deref(), format), format, bytes }),
                None => form.refused_files += 1,
            }
            continue;
        }
        let text = field.text().await.map_err(malformed)?;
        let f = &mut form.fields;
        match name.as_str() {
            "kind" => f.kind = Some(text),
            "audience" => f.audience = Some(text),
            "title" => f.title = Some(text),
            "body" => f.body = Some(text),
            "sendAt" => f.send_at = Some(text),
            _ => return Err(ApiError::field(&name, "Campo desconocido")),
        }
    }
    Ok(form)
}

/// The name recipients see for a file sent as `sent` (its last path part, without control
/// characters, up to 100 characters), or `adjunto.<ext>`.
fn display_name(sent: Option<&str>, format: FileFormat) -> String {
    let base = sent.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    let clean = clean.trim();
    if clean.is_empty() { format!("adjunto.{}", format.extension()) } else { clean.to_string() }
}

/// `{queued}`: messages sent again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    pub queued: u64,
}

/// Sends (or schedules) a broadcast (`settings:write`).
#[utoipa::path(post, path = "/broadcasts", tag = "notifications", security(("bearer" = [])),
    request_body(content((SendBroadcast = "application/json"), (SendBroadcast = "multipart/form-data"))),
    responses(
        (status = 201, description = "Queued or scheduled", body = BroadcastView),
        (status = 403, description = "Not allowed for this audience", body = ErrorBody),
        (status = 413, description = "A file over `MAX_FILE_SIZE`", body = ErrorBody),
        (status = 415, description = "Neither JSON nor a multipart form", body = ErrorBody),
        (status = 422, description = "Invalid fields or files", body = ErrorBody),
    ))]
pub async fn send(
    State(app): State<AppState>,
    Staff(sender, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    form: BroadcastForm,
) -> ApiResult<(StatusCode, Json<BroadcastView>)> {
    let body = form.fields;
    let mut v = Validator::new();
    if form.refused_files > 0 {
        v.add("attachment", format!("Hasta {MAX_ATTACHMENTS} archivos JPEG, PNG, WebP, GIF o PDF"));
    }
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
    let new = NewBroadcast {
        emergency,
        audience: audience.unwrap_or(BroadcastAudience::Customers),
        title,
        body: text,
        send_at,
        attachments: form.attachments,
    };
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

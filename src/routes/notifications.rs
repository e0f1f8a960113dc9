//! `/api/notifications`: the signed-in user's in-app inbox, across the stores they buy from or
//! work in (`storeId` narrows it to one).

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::{PageInfo, Pagination, query_flag};
use crate::http::path::IdParam;
use crate::routes::broadcasts::AttachmentView;
use crate::services::identity::caller::Caller;
use crate::services::notifications::inbox::{self, Change, Filter, Item};

/// One inbox item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: String,
    /// The store it is from; null for the platform's (a password reset).
    pub store_id: Option<String>,
    /// What happened: `order_placed`, `order_status_changed`, `order_paid`…
    pub kind: String,
    /// `orders`, `payments`, `account`, `marketing`, `announcements` or `system`.
    pub category: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    /// A broadcast's files, as links.
    pub attachments: Vec<AttachmentView>,
    pub read: bool,
    pub read_at: Option<String>,
    pub archived_at: Option<String>,
    pub created_at: String,
}

impl From<Item> for NotificationView {
    fn from(i: Item) -> NotificationView {
        NotificationView {
            id: i.id,
            store_id: i.store_id,
            kind: i.kind,
            category: i.category,
            title: i.title,
            body: i.body,
            link: i.link,
            attachments: i.attachments.into_iter().map(Into::into).collect(),
            read: i.read_at.is_some(),
            read_at: i.read_at,
            archived_at: i.archived_at,
            created_at: i.created_at,
        }
    }
}

/// A page of the inbox, newest first, and how many items are unread.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxPage {
    pub notifications: Vec<NotificationView>,
    pub unread_count: i64,
    pub pagination: PageInfo,
}

/// `{count}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub count: i64,
}

/// `{updated}`: how many items changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Updated {
    pub updated: u64,
}

/// The `storeId` query parameter, when given.
fn store_id(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let found = form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).find(|(key, _)| key == "storeId");
    match found {
        None => Ok(None),
        Some((_, value)) if !value.is_empty() && value.len() <= 64 => Ok(Some(value.into_owned())),
        Some(_) => Err(ApiError::field("storeId", "Debe ser el id de una tienda")),
    }
}

/// The caller's inbox.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(
        ("page" = Option<i64>, Query, description = "Page, from 1"),
        ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100"),
        ("unread" = Option<bool>, Query, description = "Only unread items"),
        ("archived" = Option<bool>, Query, description = "The archived items instead of the others"),
        ("storeId" = Option<String>, Query, description = "Only one store's items"),
    ),
    responses(
        (status = 200, description = "A page of the inbox", body = InboxPage),
        (status = 422, description = "Bad parameter", body = ErrorBody),
    ))]
pub async fn list(State(app): State<AppState>, caller: Caller, page: Pagination, RawQuery(raw): RawQuery) -> ApiResult<Json<InboxPage>> {
    let filter = Filter {
        unread: query_flag(raw.as_deref(), "unread")?.unwrap_or(false),
        archived: query_flag(raw.as_deref(), "archived")?.unwrap_or(false),
        store_id: store_id(raw.as_deref())?,
    };
    let (total, items) = inbox::page(&app.db, &caller, &filter, page.limit, page.offset()).await?;
    let unread_count = inbox::unread_count(&app.db, &caller, filter.store_id.as_deref()).await?;
    Ok(Json(InboxPage { notifications: items.into_iter().map(Into::into).collect(), unread_count, pagination: PageInfo::new(page, total) }))
}

/// How many inbox items are unread (the badge).
#[utoipa::path(get, path = "/api/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    params(("storeId" = Option<String>, Query, description = "Only one store's items")),
    responses(
        (status = 200, description = "The count", body = UnreadCount),
        (status = 422, description = "Bad parameter", body = ErrorBody),
    ))]
pub async fn unread_count(State(app): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> ApiResult<Json<UnreadCount>> {
    let count = inbox::unread_count(&app.db, &caller, store_id(raw.as_deref())?.as_deref()).await?;
    Ok(Json(UnreadCount { count }))
}

/// Marks an item read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The item", body = NotificationView),
        (status = 404, description = "No such item in the caller's inbox", body = ErrorBody),
    ))]
pub async fn read(State(app): State<AppState>, caller: Caller, IdParam(id): IdParam) -> ApiResult<Json<NotificationView>> {
    Ok(Json(inbox::change(&app.db, &caller, &id, Change::Read).await?.into()))
}

/// Archives an item (and marks it read).
#[utoipa::path(post, path = "/api/notifications/{id}/archive", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The item", body = NotificationView),
        (status = 404, description = "No such item in the caller's inbox", body = ErrorBody),
    ))]
pub async fn archive(State(app): State<AppState>, caller: Caller, IdParam(id): IdParam) -> ApiResult<Json<NotificationView>> {
    Ok(Json(inbox::change(&app.db, &caller, &id, Change::Archive).await?.into()))
}

/// Marks every unread item read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    params(("storeId" = Option<String>, Query, description = "Only one store's items")),
    responses(
        (status = 200, description = "How many changed", body = Updated),
        (status = 422, description = "Bad parameter", body = ErrorBody),
    ))]
pub async fn read_all(State(app): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> ApiResult<Json<Updated>> {
    let updated = inbox::read_all(&app.db, &caller, store_id(raw.as_deref())?.as_deref()).await?;
    Ok(Json(Updated { updated }))
}

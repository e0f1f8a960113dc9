//! The assistant's sessions: open one, read one's messages (its holder only), list the store's
//! (staff with `customers:read`).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{ClientIp, MaybeCaller, Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::routes::sales::date_bound;
use crate::services::assistant;
use crate::services::assistant::sessions::{self, Filter, Session, Stats, StoredMessage};

/// A new session.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewSession {
    /// `customer` (default) or `owner`.
    pub user_type: Option<String>,
    /// Free data kept with the session (`source`: web, mobile, widget), at most 2 KB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// `{session}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCreated {
    pub session: Session,
}

/// Opens a session; a visitor's is reached by its id alone, a signed-in caller's by them only.
/// It counts against the caller's questions a minute.
#[utoipa::path(post, path = "/chatbot/session", tag = "chatbot", request_body = NewSession,
    responses(
        (status = 201, description = "The session", body = SessionCreated),
        (status = 403, description = "Owner mode without being staff of the store", body = ErrorBody),
        (status = 422, description = "Bad userType or metadata", body = ErrorBody),
        (status = 429, description = "Too many sessions and questions", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    CurrentStore(store): CurrentStore,
    ip: ClientIp,
    ApiJson(body): ApiJson<NewSession>,
) -> ApiResult<(StatusCode, Json<SessionCreated>)> {
    let mut v = Validator::new();
    let user_type = super::user_type(&mut v, body.user_type.as_deref());
    let metadata = body.metadata.unwrap_or_else(|| Value::Object(Default::default()));
    if !metadata.is_object() || metadata.to_string().len() > 2048 {
        v.add("metadata", "Debe ser un objeto de hasta 2 KB");
    }
    v.finish()?;
    assistant::spend_allowance(&app, caller.as_ref(), &ip.0).await?;
    let session = sessions::open(&app, &store.id, caller.as_ref(), user_type, metadata).await?;
    Ok((StatusCode::CREATED, Json(SessionCreated { session })))
}

/// `limit` of messages.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Latest messages to show, default 50, at most 100.
    pub limit: Option<String>,
}

/// A session and its latest messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionMessages {
    pub session: Session,
    pub messages: Vec<StoredMessage>,
}

/// A session's messages, oldest first: for whoever holds a visitor's session id, or the
/// signed-in caller who opened it.
#[utoipa::path(get, path = "/chatbot/session/{id}", tag = "chatbot",
    params(("id" = String, Path, description = "Session id"), MessagesQuery),
    responses(
        (status = 200, description = "The session and its messages", body = SessionMessages),
        (status = 404, description = "Unknown, expired, or someone else's", body = ErrorBody),
        (status = 422, description = "Bad limit", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<Json<SessionMessages>> {
    let mut v = Validator::new();
    let limit = Pagination::parse(&mut v, None, Some(q.limit.as_deref().unwrap_or("50"))).limit;
    v.finish()?;
    let session = sessions::find(&app, &store.id, &id, caller.as_ref()).await?;
    let messages = sessions::messages(&app.db, &session.id, limit).await?;
    Ok(Json(SessionMessages { session, messages }))
}

/// Filters of the session list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct SessionsQuery {
    /// `customer` or `owner`.
    pub user_type: Option<String>,
    /// From this date or time (RFC 3339).
    pub date_from: Option<String>,
    /// Through this date, or up to this time.
    pub date_to: Option<String>,
}

/// A page of sessions with seed 001's statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPage {
    pub sessions: Vec<SessionSummary>,
    pub pagination: PageInfo,
    pub stats: Stats,
}

/// A session as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    #[serde(flatten)]
    pub session: Session,
    pub is_active: bool,
}

/// The store's sessions, most recent activity first (staff with `customers:read`).
#[utoipa::path(get, path = "/chatbot/sessions", tag = "chatbot", security(("bearer" = [])),
    params(SessionsQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page and the statistics", body = SessionPage),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<Json<SessionPage>> {
    let mut v = Validator::new();
    let user_type = q.user_type.as_deref().map(|t| super::user_type(&mut v, Some(t)));
    let from = date_bound(&mut v, "dateFrom", q.date_from.as_deref(), false);
    let until = date_bound(&mut v, "dateTo", q.date_to.as_deref(), true);
    v.finish()?;
    let (found, stats) = sessions::page(&app, &store.id, &Filter { user_type, from, until }, page.limit, page.offset()).await?;
    let now = feria_domain::time::to_db(feria_domain::time::now());
    let sessions = found.into_iter().map(|s| SessionSummary { is_active: s.expires_at > now, session: s }).collect();
    Ok(Json(SessionPage { sessions, pagination: PageInfo::new(page, stats.total_sessions), stats }))
}

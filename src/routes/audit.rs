//! `/api/audit-log` (also under `/api/stores/{slug}/…`): the store's writes, for those holding
//! `audit:read`; `/api/admin/audit-log`: every store's and the platform's, for the platform admin.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{AdminUser, Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{PageInfo, Pagination};
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::audit::{self, Filter, Record};

/// Who wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    /// `user` or `key`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's or the API key's id.
    pub id: String,
}

/// One recorded write.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    pub id: String,
    /// Null for platform actions (users, jobs).
    pub store_id: Option<String>,
    pub actor: AuditActor,
    /// `resource.verb`, e.g. `products.update`, `sales.status`, `payments.refund`.
    pub action: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i64,
    /// The resource before the write, as its `GET` route shows it (secrets redacted).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The resource after it (the created one for a creation; null after a delete).
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub request_id: String,
    pub ip: String,
    pub created_at: String,
}

impl From<Record> for AuditEntryView {
    fn from(r: Record) -> AuditEntryView {
        AuditEntryView {
            id: r.id,
            store_id: r.store_id,
            actor: AuditActor { kind: r.actor_type, id: r.actor_id },
            action: r.action,
            resource: r.resource,
            resource_id: r.resource_id,
            method: r.method,
            path: r.path,
            status: r.status,
            before: r.before,
            after: r.after,
            request_id: r.request_id,
            ip: r.ip,
            created_at: r.created_at,
        }
    }
}

/// A page of the log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    pub pagination: PageInfo,
}

/// Filters; each one given narrows the listing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    /// The user's or key's id.
    pub actor_id: Option<String>,
    /// e.g. `products.update`.
    pub action: Option<String>,
    /// e.g. `products`.
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    /// RFC 3339: from this time on.
    pub from: Option<String>,
    /// RFC 3339: before this time.
    pub to: Option<String>,
    /// Only with `/api/admin/audit-log`: one store's entries.
    pub store_id: Option<String>,
}

fn filter(q: AuditQuery) -> ApiResult<Filter> {
    let mut v = Validator::new();
    let mut text = |field: &str, value: Option<String>| v.optional_text(field, value.as_deref(), 1, 200);
    let (actor_id, action, resource, resource_id) =
        (text("actorId", q.actor_id), text("action", q.action), text("resource", q.resource), text("resourceId", q.resource_id));
    let mut at = |field: &str, value: Option<String>| v.time(field, value.as_deref()).map(feria_domain::time::to_db);
    let (from, to) = (at("from", q.from), at("to", q.to));
    v.finish()?;
    Ok(Filter { actor_id, action, resource, resource_id, from, to })
}

/// The store's audit log, newest first (`audit:read`).
#[utoipa::path(get, path = "/audit-log", tag = "audit", security(("bearer" = [])),
    params(AuditQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = AuditPage),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::AuditRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let (total, entries) = audit::page(&app, &reader, Some(&store.id), &filter(q)?, page.limit, page.offset()).await?;
    Ok(Json(AuditPage { entries: entries.into_iter().map(AuditEntryView::from).collect(), pagination: PageInfo::new(page, total) }))
}

/// Every store's and the platform's audit log, newest first (`ADMIN_ROLE`); `storeId` narrows
/// it to one store.
#[utoipa::path(get, path = "/api/admin/audit-log", tag = "audit", security(("bearer" = [])),
    params(AuditQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = AuditPage),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
    ))]
pub async fn platform(
    State(app): State<AppState>,
    AdminUser(admin): AdminUser,
    page: Pagination,
    Query(mut q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let store_id = q.store_id.take().filter(|s| !s.trim().is_empty());
    let (total, entries) = audit::page(&app, &admin, store_id.as_deref(), &filter(q)?, page.limit, page.offset()).await?;
    Ok(Json(AuditPage { entries: entries.into_iter().map(AuditEntryView::from).collect(), pagination: PageInfo::new(page, total) }))
}

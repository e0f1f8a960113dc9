//! `/api/members` (also under `/api/stores/{slug}/…`): who works in the store and with which
//! role (owners, and the platform admin).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use feria_domain::access::StoreRole;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::members::{self, Member};

/// A member of the store.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: String,
    pub name: String,
    pub email: String,
    /// `owner`, `manager` or `staff`.
    pub role: String,
    pub created_at: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> MemberView {
        MemberView { user_id: m.user_id, name: m.name, email: m.email, role: m.role.as_str().into(), created_at: m.created_at }
    }
}

/// `{members}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub members: Vec<MemberView>,
}

/// A user to add: by the email of their feria account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMemberRequest {
    pub email: Option<String>,
    /// `owner`, `manager` or `staff`.
    pub role: Option<String>,
}

/// A new role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// `owner`, `manager` or `staff`.
    pub role: Option<String>,
}

fn role(v: &mut Validator, value: Option<&str>) -> StoreRole {
    let role = value.map(|r| r.trim().to_ascii_lowercase()).and_then(|r| StoreRole::parse(&r));
    if role.is_none() {
        v.add("role", "Debe ser owner, manager o staff");
    }
    role.unwrap_or(StoreRole::Staff)
}

/// The store's members, oldest first (owners).
#[utoipa::path(get, path = "/members", tag = "members", security(("bearer" = [])),
    responses(
        (status = 200, description = "The members", body = MemberList),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Staff(owner, _): Staff<scope::MembersManage>,
    CurrentStore(store): CurrentStore,
) -> ApiResult<Json<MemberList>> {
    let found = members::list(&app, &owner, &store.id).await?;
    Ok(Json(MemberList { members: found.into_iter().map(MemberView::from).collect() }))
}

/// Adds a registered user to the store with a role (owners).
#[utoipa::path(post, path = "/members", tag = "members", security(("bearer" = [])), request_body = NewMemberRequest,
    responses(
        (status = 201, description = "Added", body = MemberView),
        (status = 409, description = "Already a member, or the store has as many members as allowed", body = ErrorBody),
        (status = 422, description = "Invalid role, or no feria account has that email", body = ErrorBody),
    ))]
pub async fn add(
    State(app): State<AppState>,
    Staff(owner, _): Staff<scope::MembersManage>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<NewMemberRequest>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let mut v = Validator::new();
    let email = v.email("email", body.email.as_deref());
    let role = role(&mut v, body.role.as_deref());
    v.finish()?;
    let member = members::add(&app, &owner, &store.id, &email, role).await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// Changes a member's role (owners); the last owner stays an owner.
#[utoipa::path(patch, path = "/members/{id}", tag = "members", security(("bearer" = [])), params(("id" = String, Path, description = "The member's user id")), request_body = RoleRequest,
    responses(
        (status = 200, description = "Changed", body = MemberView),
        (status = 404, description = "Not a member of this store", body = ErrorBody),
        (status = 409, description = "The store's last owner", body = ErrorBody),
        (status = 422, description = "Invalid role", body = ErrorBody),
    ))]
pub async fn change_role(
    State(app): State<AppState>,
    Staff(owner, _): Staff<scope::MembersManage>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<RoleRequest>,
) -> ApiResult<Json<MemberView>> {
    let mut v = Validator::new();
    let role = role(&mut v, body.role.as_deref());
    v.finish()?;
    Ok(Json(members::change_role(&app, &owner, &store.id, &id, role).await?.into()))
}

/// Removes a member (owners); the last owner stays.
#[utoipa::path(delete, path = "/members/{id}", tag = "members", security(("bearer" = [])), params(("id" = String, Path, description = "The member's user id")),
    responses(
        (status = 200, description = "Removed", body = MemberView),
        (status = 404, description = "Not a member of this store", body = ErrorBody),
        (status = 409, description = "The store's last owner", body = ErrorBody),
    ))]
pub async fn remove(
    State(app): State<AppState>,
    Staff(owner, _): Staff<scope::MembersManage>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<MemberView>> {
    Ok(Json(members::remove(&app, &owner, &store.id, &id).await?.into()))
}

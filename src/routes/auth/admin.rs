//! User administration: `GET /api/auth/all`, `PUT` and `DELETE /api/auth/{id}` (admin only).

use axum::Json;
use axum::extract::{Path, State};
use feria_domain::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{MessageResponse, UserView};
use crate::app::AppState;
use crate::http::auth::AdminUser;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, Pagination};
use crate::http::validate::Validator;
use crate::services::identity::users::{self, UserChanges};

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub total: i64,
    pub users: Vec<UserView>,
}

/// Lists users, oldest first.
#[utoipa::path(get, path = "/api/auth/all", tag = "users", security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list_users(State(app): State<AppState>, _admin: AdminUser, page: Pagination) -> ApiResult<Json<UserPage>> {
    let (total, users) = users::page(&app.db, page.limit, page.offset()).await?;
    Ok(Json(UserPage { total, users: users.into_iter().map(UserView::from).collect() }))
}

/// Changes to a user by an admin.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AdminUpdateUserRequest {
    pub name: Option<String>,
    pub email: Option<String>,
    /// Role names: `ADMIN_ROLE`, `USER_ROLE`.
    pub role: Option<Vec<String>>,
}

/// `{message, user}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserUpdated {
    pub message: String,
    pub user: UserView,
}

/// Updates a user's name, email or roles.
#[utoipa::path(put, path = "/api/auth/{id}", tag = "users", security(("bearer" = [])), request_body = AdminUpdateUserRequest,
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Updated", body = UserUpdated),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Email taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn update_user(
    State(app): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AdminUpdateUserRequest>,
) -> ApiResult<Json<UserUpdated>> {
    let mut v = Validator::new();
    let name = v.optional_text("name", body.name.as_deref(), 2, 100);
    let email = body.email.as_deref().map(|e| v.email("email", Some(e)));
    let roles = body.role.map(|names| {
        if names.is_empty() {
            v.add("role", "Debe tener al menos un rol");
        }
        let mut roles: Vec<Role> = Vec::new();
        for name in &names {
            match Role::parse(name) {
                Some(role) if !roles.contains(&role) => roles.push(role),
                Some(_) => {}
                None => v.add("role", format!("Rol desconocido: {name} (válidos: ADMIN_ROLE, USER_ROLE)")),
            }
        }
        roles
    });
    v.finish()?;
    let user = users::edit(&app, &id, UserChanges { name, email, roles, ..UserChanges::default() }).await?;
    Ok(Json(UserUpdated { message: "Usuario actualizado".into(), user: user.into() }))
}

/// Deletes a user. Admins cannot delete themselves.
#[utoipa::path(delete, path = "/api/auth/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Deleted", body = MessageResponse),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Deleting oneself", body = ErrorBody),
    ))]
pub async fn delete_user(
    State(app): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageResponse>> {
    users::delete(&app, &admin, &id).await?;
    Ok(Json(MessageResponse::new("Usuario eliminado")))
}

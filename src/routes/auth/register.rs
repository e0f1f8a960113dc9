//! `POST /api/auth/register`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use feria_domain::roles::Role;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{AuthResponse, UserView};
use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody, FieldError, codes};
use crate::http::json::ApiJson;
use crate::http::validate::Validator;
use crate::services::identity::{sessions, users};

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(value_type = String, example = "Ana Pérez")]
    pub name: Option<String>,
    #[schema(value_type = String, example = "ana@example.com")]
    pub email: Option<String>,
    /// At least 6 characters.
    #[schema(value_type = String, example = "secreto123")]
    pub password: Option<String>,
}

/// Registers a user (role `USER_ROLE`) with a customer profile and opens a session.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in", body = AuthResponse),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn register(State(app): State<AppState>, ApiJson(body): ApiJson<RegisterRequest>) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let mut v = Validator::new();
    let name = v.text("name", body.name.as_deref(), 2, 100);
    let email = v.email("email", body.email.as_deref());
    let password = v.password("password", body.password.as_deref());
    v.finish()?;
    let hash = app.passwords.hash(password).await.map_err(ApiError::internal)?;
    let mut tx = app.db.begin().await?;
    let user = users::create(&mut tx, users::NewUser { name: &name, email: &email, password_hash: &hash, roles: &[Role::User] })
        .await
        .map_err(email_conflict)?;
    let refresh_token = sessions::start(&mut tx, &user.id, app.config.jwt_refresh_expires_in).await?;
    tx.commit().await?;
    let token = app.tokens.issue(&user.id, &user.roles, user.token_version);
    Ok((StatusCode::CREATED, Json(AuthResponse { user: UserView::from(user), token, refresh_token })))
}

/// Maps a unique violation on the email to 409 `email_taken`.
pub(crate) fn email_conflict(err: sqlx::Error) -> ApiError {
    if feria_db::is_unique_violation(&err) {
        let mut conflict = ApiError::conflict(codes::EMAIL_TAKEN, "Ya existe una cuenta con ese email");
        conflict.details.push(FieldError::new("email", "Ya está registrado"));
        conflict
    } else {
        ApiError::internal(err)
    }
}

//! `POST /api/auth/login`, `/refresh`, `/logout`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{AuthResponse, MessageResponse, UserView, limit_credentials};
use crate::app::AppState;
use crate::http::auth::ClientIp;
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::ApiJson;
use crate::http::validate::Validator;
use crate::services::identity::sessions::{self, RefreshError};
use crate::services::identity::users;

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(value_type = String, example = "ana@example.com")]
    pub email: Option<String>,
    #[schema(value_type = String, example = "secreto123")]
    pub password: Option<String>,
}

/// Logs in with email and password. Rate limited per IP and email (`AUTH_RATE_LIMIT_*`).
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = AuthResponse),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    ))]
pub async fn login(State(app): State<AppState>, ip: ClientIp, ApiJson(body): ApiJson<LoginRequest>) -> ApiResult<Json<AuthResponse>> {
    let mut v = Validator::new();
    let email = v.email("email", body.email.as_deref());
    let password = v.text("password", body.password.as_deref(), 1, 128);
    v.finish()?;
    limit_credentials(&app, "login", &ip.0, Some(&email)).await?;
    let user = users::find_by_email(&mut *app.db.reader().acquire().await?, &email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let (true, Some(user)) = (app.passwords.verify(password, hash).await, user) else {
        return Err(ApiError::unauthorized(codes::INVALID_CREDENTIALS, "Email o contraseña incorrectos"));
    };
    let mut tx = app.db.begin().await?;
    let refresh_token = sessions::start(&mut tx, &user.id, app.config.jwt_refresh_expires_in).await?;
    tx.commit().await?;
    let token = app.tokens.issue(&user.id, &user.roles, user.token_version);
    Ok(Json(AuthResponse { user: UserView::from(user), token, refresh_token }))
}

/// A refresh token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    pub refresh_token: Option<String>,
}

fn refresh_token_of(body: RefreshRequest) -> ApiResult<String> {
    let mut v = Validator::new();
    let token = v.text("refreshToken", body.refresh_token.as_deref(), 1, 200);
    v.finish()?;
    Ok(token)
}

/// Exchanges a refresh token for a new access token and a new refresh token. A token can be
/// used once; reusing one revokes every token of that login.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = AuthResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = ErrorBody),
        (status = 422, description = "Missing refreshToken", body = ErrorBody),
    ))]
pub async fn refresh(State(app): State<AppState>, ApiJson(body): ApiJson<RefreshRequest>) -> ApiResult<Json<AuthResponse>> {
    let raw = refresh_token_of(body)?;
    let (user_id, refresh_token) = sessions::rotate(&app.db, &raw, app.config.jwt_refresh_expires_in).await?.map_err(|e| match e {
        RefreshError::Invalid => ApiError::unauthorized(codes::INVALID_REFRESH_TOKEN, "Refresh token inválido o expirado"),
        RefreshError::Reused => {
            ApiError::unauthorized(codes::REFRESH_TOKEN_REUSED, "Refresh token ya utilizado: la sesión fue cerrada por seguridad")
        }
    })?;
    let user = users::find_by_id(&mut *app.db.reader().acquire().await?, &user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(codes::INVALID_REFRESH_TOKEN, "Refresh token inválido o expirado"))?;
    let token = app.tokens.issue(&user.id, &user.roles, user.token_version);
    Ok(Json(AuthResponse { user: UserView::from(user), token, refresh_token }))
}

/// Ends the session the refresh token belongs to, and makes every access token of its user
/// issued so far invalid. Answers the same for unknown tokens.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "Session ended", body = MessageResponse),
        (status = 422, description = "Missing refreshToken", body = ErrorBody),
    ))]
pub async fn logout(State(app): State<AppState>, ApiJson(body): ApiJson<RefreshRequest>) -> ApiResult<Json<MessageResponse>> {
    let raw = refresh_token_of(body)?;
    let mut tx = app.db.begin().await?;
    let user = sessions::end(&mut tx, &raw).await?;
    if let Some(user) = &user {
        users::revoke_access(&mut tx, user).await?;
    }
    tx.commit().await?;
    if let Some(user) = &user {
        app.access.forget(user);
    }
    Ok(Json(MessageResponse::new("Sesión cerrada")))
}

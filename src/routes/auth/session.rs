//! `POST /api/auth/login`, `/refresh`, `/logout`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{AuthResponse, MessageResponse, limit_credentials};
use crate::app::AppState;
use crate::http::auth::ClientIp;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::validate::Validator;
use crate::services::identity::sessions;

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
    Ok(Json(sessions::login(&app, &email, password).await?.into()))
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
    Ok(Json(sessions::refresh(&app, &raw).await?.into()))
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
    sessions::logout(&app, &raw).await?;
    Ok(Json(MessageResponse::new("Sesión cerrada")))
}

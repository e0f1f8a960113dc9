//! `POST /api/auth/forgot-password` and `/reset-password`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{MessageResponse, limit_credentials};
use crate::app::AppState;
use crate::http::auth::ClientIp;
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::ApiJson;
use crate::http::validate::Validator;
use crate::services::identity::password_reset;

/// The seed's answer, the same whether or not the email is registered.
pub const FORGOT_MESSAGE: &str = "Si el email está registrado, recibirás un enlace de recuperación";

/// Whose password was forgotten.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotPasswordRequest {
    #[schema(value_type = String, example = "ana@example.com")]
    pub email: Option<String>,
}

/// Emails a single-use reset link (valid 1 h) if the email belongs to a user.
#[utoipa::path(post, path = "/api/auth/forgot-password", tag = "auth", request_body = ForgotPasswordRequest,
    responses(
        (status = 200, description = "Same answer for known and unknown emails", body = MessageResponse),
        (status = 422, description = "Invalid email", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    ))]
pub async fn forgot_password(
    State(app): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<ForgotPasswordRequest>,
) -> ApiResult<Json<MessageResponse>> {
    let mut v = Validator::new();
    let email = v.email("email", body.email.as_deref());
    v.finish()?;
    limit_credentials(&app, "forgot-password", &ip.0, Some(&email)).await?;
    password_reset::request(&app, &email).await?;
    Ok(Json(MessageResponse::new(FORGOT_MESSAGE)))
}

/// A reset token and the new password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    /// The token from the emailed link.
    #[schema(value_type = String)]
    pub token: Option<String>,
    /// At least 6 characters.
    #[schema(value_type = String)]
    pub password: Option<String>,
}

/// Sets a new password with the emailed token; ends every open session of the user.
#[utoipa::path(post, path = "/api/auth/reset-password", tag = "auth", request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "Password changed", body = MessageResponse),
        (status = 400, description = "Unknown, used or expired token", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    ))]
pub async fn reset_password(
    State(app): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> ApiResult<Json<MessageResponse>> {
    let mut v = Validator::new();
    let token = v.text("token", body.token.as_deref(), 1, 200);
    let password = v.password("password", body.password.as_deref());
    v.finish()?;
    limit_credentials(&app, "reset-password", &ip.0, None).await?;
    let hash = app.passwords.hash(password).await.map_err(ApiError::internal)?;
    if !password_reset::reset(&app, &token, &hash).await? {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_RESET_TOKEN, "El enlace de recuperación no es válido o expiró"));
    }
    Ok(Json(MessageResponse::new("Contraseña actualizada exitosamente")))
}

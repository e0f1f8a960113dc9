//! `POST /api/auth/register`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AuthResponse;
use crate::app::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::validate::Validator;
use crate::services::identity::accounts::{self, NewAccount};

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
    let session = accounts::register(&app, NewAccount { name, email, password }).await?;
    Ok((StatusCode::CREATED, Json(session.into())))
}

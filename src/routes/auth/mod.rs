//! `/api/auth`: registration, login, sessions, password reset, profile and user admin
//! (seed 001 "Autenticación", seed 004 "Auth Service").

pub mod admin;
pub mod password;
pub mod profile;
pub mod register;
pub mod session;

use serde::Serialize;
use utoipa::ToSchema;

use crate::services::identity::sessions::Session;
use crate::services::identity::users::User;

/// A user as the API shows it (seed 001 shape; never the password hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Role names, e.g. `["USER_ROLE"]`.
    pub role: Vec<String>,
    /// Avatar URL, when set.
    pub img: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserView {
    fn from(user: User) -> UserView {
        UserView {
            id: user.id,
            name: user.name,
            email: user.email,
            role: user.roles,
            img: user.img,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// `{user}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserEnvelope {
    pub user: UserView,
}

/// A session: the user, a short-lived access token (JWT) and a refresh token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    pub user: UserView,
    /// Access token (JWT, HS256): send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Opaque refresh token: exchange at `POST /api/auth/refresh`; single use.
    pub refresh_token: String,
}

impl From<Session> for AuthResponse {
    fn from(session: Session) -> AuthResponse {
        AuthResponse { user: session.user.into(), token: session.token, refresh_token: session.refresh_token }
    }
}

/// `{message}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

impl MessageResponse {
    pub fn new(message: &str) -> MessageResponse {
        MessageResponse { message: message.to_string() }
    }
}

/// The strict limit on credential endpoints (`AUTH_RATE_LIMIT_*`): each endpoint counts
/// separately, per IP and email (per IP alone where there is no email).
pub(crate) async fn limit_credentials(
    app: &crate::app::App,
    endpoint: &str,
    ip: &str,
    email: Option<&str>,
) -> Result<(), crate::http::error::ApiError> {
    let key = format!("{ip}|{}", email.unwrap_or(""));
    let decision = app.rate_limiter.hit(endpoint, &key, app.config.auth_rate_limit_max_requests, app.config.auth_rate_limit_window).await;
    if decision.allowed { Ok(()) } else { Err(decision.rejection()) }
}

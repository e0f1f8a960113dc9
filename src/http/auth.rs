//! Who is calling: bearer-token extractors and the caller's IP.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use feria_domain::roles::Role;

use super::error::{ApiError, codes};
use crate::app::AppState;
use crate::services::identity::tokens::TokenError;

/// A caller with a valid access token. Missing token → 401 `unauthorized`; bad signature or
/// shape → 401 `invalid_token`; expired → 401 `token_expired`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub roles: Vec<String>,
}

impl AuthUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str())
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(|| ApiError::unauthorized(codes::UNAUTHORIZED, "Token no proporcionado"))?;
        let claims = app.tokens.verify(token).map_err(|e| match e {
            TokenError::Expired => ApiError::unauthorized(codes::TOKEN_EXPIRED, "El token expiró"),
            TokenError::Invalid => ApiError::unauthorized(codes::INVALID_TOKEN, "Token inválido"),
        })?;
        Ok(AuthUser { id: claims.sub, roles: claims.roles })
    }
}

/// A caller holding `ADMIN_ROLE` (401 without a valid token, 403 without the role).
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, app).await?;
        if !user.has_role(Role::Admin) {
            return Err(ApiError::forbidden());
        }
        Ok(AdminUser(user))
    }
}

/// The caller when a token is sent (checked as for [`AuthUser`]: a bad one is a 401), or
/// `None` without one: for endpoints open to guests.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(MaybeUser(None));
        }
        AuthUser::from_request_parts(parts, app).await.map(|user| MaybeUser(Some(user)))
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// The caller's IP: the socket peer, or the first `X-Forwarded-For` hop when `TRUST_PROXY` is on.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl ClientIp {
    /// Reads the IP from request parts.
    pub fn of(headers: &HeaderMap, extensions: &axum::http::Extensions, trust_proxy: bool) -> ClientIp {
        let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(str::trim);
        if let Some(first) = forwarded.filter(|f| trust_proxy && !f.is_empty()) {
            return ClientIp(first.to_string());
        }
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
        ClientIp(peer.unwrap_or_else(|| "unknown".into()))
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::of(&parts.headers, &parts.extensions, app.config.trust_proxy))
    }
}

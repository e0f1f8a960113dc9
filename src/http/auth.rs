//! Who is calling: bearer-token extractors and the caller's IP.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use feria_domain::roles::Role;

use super::error::{ApiError, codes};
use crate::app::AppState;
use crate::services::identity::caller::Caller;
use crate::services::identity::tokens::TokenError;

/// A caller with a valid access token. Missing token → 401 `unauthorized`; bad signature or
/// shape, or a user that no longer exists → 401 `invalid_token`; expired → 401
/// `token_expired`; issued before a logout, a password change or a role change → 401
/// `token_revoked`. `roles` are the user's current roles.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(|| ApiError::unauthorized(codes::UNAUTHORIZED, "Token no proporcionado"))?;
        let claims = app.tokens.verify(token).map_err(|e| match e {
            TokenError::Expired => ApiError::unauthorized(codes::TOKEN_EXPIRED, "El token expiró"),
            TokenError::Invalid => ApiError::unauthorized(codes::INVALID_TOKEN, "Token inválido"),
        })?;
        match app.access.current(&app.db, &claims.sub).await? {
            None => Err(ApiError::unauthorized(codes::INVALID_TOKEN, "El usuario del token ya no existe")),
            Some((version, _)) if version != claims.ver => {
                Err(ApiError::unauthorized(codes::TOKEN_REVOKED, "La sesión se cerró; iniciá sesión de nuevo"))
            }
            Some((_, roles)) => {
                tracing::Span::current().record("user", claims.sub.as_str());
                Ok(Caller { id: claims.sub, roles })
            }
        }
    }
}

/// A caller holding `ADMIN_ROLE` (401 without a valid token, 403 without the role).
#[derive(Debug, Clone)]
pub struct AdminUser(pub Caller);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let user = Caller::from_request_parts(parts, app).await?;
        if !user.has_role(Role::Admin) {
            return Err(ApiError::forbidden());
        }
        Ok(AdminUser(user))
    }
}

/// The caller when a token is sent (checked as for [`Caller`]: a bad one is a 401), or
/// `None` without one: for endpoints open to guests.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(MaybeUser(None));
        }
        Caller::from_request_parts(parts, app).await.map(|user| MaybeUser(Some(user)))
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// The caller's IP: the socket peer; behind `TRUST_PROXY` = N proxies of the shop's own, the
/// `X-Forwarded-For` entry N hops from the right (the address the outermost of those proxies
/// saw; whatever the client wrote to the left of it is ignored).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl ClientIp {
    /// Reads the IP from request parts.
    pub fn of(headers: &HeaderMap, extensions: &axum::http::Extensions, trusted_proxies: usize) -> ClientIp {
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
        let forwarded = (trusted_proxies > 0).then(|| forwarded_client(headers, trusted_proxies)).flatten();
        ClientIp(forwarded.or(peer).map_or_else(|| "unknown".into(), |ip| ip.to_string()))
    }
}

/// The address `hops` entries from the right of every `X-Forwarded-For` header taken together;
/// with fewer entries, the left-most (the request came through fewer proxies). `None` when the
/// entry is not an IP address.
fn forwarded_client(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let entry = entries.len().checked_sub(hops).map_or(entries.first(), |i| entries.get(i))?;
    entry.parse().ok()
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::of(&parts.headers, &parts.extensions, app.config.trusted_proxies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(forwarded: &[&str], hops: usize) -> Option<String> {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        forwarded_client(&headers, hops).map(|ip| ip.to_string())
    }

    #[test]
    fn the_client_is_counted_from_the_right() {
        // The client wrote 6.6.6.6; the shop's one proxy appended the address it saw.
        assert_eq!(client(&["6.6.6.6, 203.0.113.7"], 1).as_deref(), Some("203.0.113.7"));
        assert_eq!(client(&["6.6.6.6", "203.0.113.7, 10.0.0.2"], 2).as_deref(), Some("203.0.113.7"));
        assert_eq!(client(&["203.0.113.7"], 3).as_deref(), Some("203.0.113.7"));
        assert_eq!(client(&["6.6.6.6, not-an-ip"], 1), None);
        assert_eq!(client(&[], 1), None);
    }
}

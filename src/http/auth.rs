//! Who is calling: bearer-token extractors and the caller's IP.

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use feria_domain::access::Scope;
use feria_domain::roles::Role;

use super::audit::AuditSlot;
use super::error::{ApiError, codes};
use super::store::CurrentStore;
use crate::app::AppState;
use crate::services::audit::Actor;
use crate::services::identity::api_keys::{self, API_KEY_PREFIX};
use crate::services::identity::caller::Caller;
use crate::services::identity::tokens::TokenError;

/// Who sent the request: a user with a valid access token, or a store's API key. Missing
/// token → 401 `unauthorized`; bad signature or shape, a user that no longer exists, or an
/// unknown, revoked or expired key → 401 `invalid_token`; expired → 401 `token_expired`;
/// issued before a logout, a password change or a role change → 401 `token_revoked`. A user
/// acts with their current roles and memberships.
pub async fn authenticate(parts: &Parts, app: &AppState) -> Result<Caller, ApiError> {
    let token = bearer_token(&parts.headers).ok_or_else(|| ApiError::unauthorized(codes::UNAUTHORIZED, "Token no proporcionado"))?;
    if token.starts_with(API_KEY_PREFIX) {
        let caller = api_keys::authenticate(app, token)
            .await?
            .ok_or_else(|| ApiError::unauthorized(codes::INVALID_TOKEN, "La clave de API no existe, venció o fue revocada"))?;
        tracing::Span::current().record("user", format!("key:{}", caller.id));
        return Ok(caller);
    }
    Ok(person(app, token).await?.0)
}

/// The user an access token (a JWT, not an API key) belongs to, acting with their current roles
/// and memberships, and when the token expires (Unix seconds). Errors as [`authenticate`].
pub async fn person(app: &AppState, token: &str) -> Result<(Caller, i64), ApiError> {
    let claims = app.tokens.verify(token).map_err(|e| match e {
        TokenError::Expired => ApiError::unauthorized(codes::TOKEN_EXPIRED, "El token expiró"),
        TokenError::Invalid => ApiError::unauthorized(codes::INVALID_TOKEN, "Token inválido"),
    })?;
    match app.access.current(&app.db, &claims.sub).await? {
        None => Err(ApiError::unauthorized(codes::INVALID_TOKEN, "El usuario del token ya no existe")),
        Some(access) if access.version != claims.ver => {
            Err(ApiError::unauthorized(codes::TOKEN_REVOKED, "La sesión se cerró; iniciá sesión de nuevo"))
        }
        Some(access) => {
            tracing::Span::current().record("user", claims.sub.as_str());
            Ok((Caller::user(claims.sub, access), claims.exp))
        }
    }
}

/// A signed-in user (see [`authenticate`]); an API key is refused (401 `invalid_token`): keys
/// act on a store's resources, not as a person with a cart, addresses or a profile.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, app).await?;
        if caller.key.is_some() {
            return Err(ApiError::unauthorized(codes::INVALID_TOKEN, "Una clave de API no sirve para esta ruta"));
        }
        Ok(caller)
    }
}

/// A signed-in user or an API key: for routes used both by buyers and by the shop, where the
/// service decides what the caller may do.
#[derive(Debug, Clone)]
pub struct AnyCaller(pub Caller);

impl FromRequestParts<AppState> for AnyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, app).await?;
        let CurrentStore(store) = CurrentStore::from_request_parts(parts, app).await?;
        // The shop acting on an order is audited; a buyer on their own is not.
        if caller.may(&store.id, Scope::OrdersRead) {
            AuditSlot::fill(parts, Actor::of(&caller, Some(&store.id)));
        }
        Ok(AnyCaller(caller))
    }
}

/// A caller who may do `S` in the request's store: one of its members whose role allows it,
/// one of its API keys holding the scope, or the platform admin. 401 without valid
/// credentials, 403 without the permission (another store's member or key included).
#[derive(Debug, Clone)]
pub struct Staff<S>(pub Caller, pub PhantomData<S>);

impl<S: ScopeMarker> FromRequestParts<AppState> for Staff<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, app).await?;
        let CurrentStore(store) = CurrentStore::from_request_parts(parts, app).await?;
        if !caller.may(&store.id, S::SCOPE) {
            return Err(ApiError::forbidden());
        }
        AuditSlot::fill(parts, Actor::of(&caller, Some(&store.id)));
        Ok(Staff(caller, PhantomData))
    }
}

/// A scope named as a type, for [`Staff`].
pub trait ScopeMarker: Send + Sync {
    const SCOPE: Scope;
}

/// The scopes as types: `Staff<scope::OrdersWrite>`.
pub mod scope {
    use super::ScopeMarker;
    use feria_domain::access::Scope;

    macro_rules! scopes {
        ($($name:ident),*) => {$(
            #[derive(Debug, Clone)]
            pub struct $name;
            impl ScopeMarker for $name {
                const SCOPE: Scope = Scope::$name;
            }
        )*};
    }

    scopes!(
        CatalogRead,
        CatalogWrite,
        PricesWrite,
        OrdersRead,
        OrdersWrite,
        PaymentsRead,
        PaymentsRefund,
        CustomersRead,
        CustomersWrite,
        SettingsWrite,
        AuditRead,
        MembersManage,
        KeysManage
    );
}

/// The platform admin: a user holding `ADMIN_ROLE` (401 without a valid token, 403 without the
/// role).
#[derive(Debug, Clone)]
pub struct AdminUser(pub Caller);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let user = Caller::from_request_parts(parts, app).await?;
        if !user.has_role(Role::Admin) {
            return Err(ApiError::forbidden());
        }
        AuditSlot::fill(parts, Actor::of(&user, None));
        Ok(AdminUser(user))
    }
}

/// The signed-in user when a token is sent (checked as for [`Caller`]: a bad one is a 401), or
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

/// Whoever calls: a user, a store's API key, or `None` without an `Authorization` header (a
/// bad token is a 401, as for [`Caller`]). For endpoints open to anyone where keys act too.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(MaybeCaller(None));
        }
        authenticate(parts, app).await.map(|caller| MaybeCaller(Some(caller)))
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

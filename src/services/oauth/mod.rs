//! feria as the OAuth 2.1 authorization server of its own MCP endpoints, for remote AI hosts
//! (`mcp-auth.md`): clients registered dynamically or described by a client id metadata
//! document, the authorization code with PKCE (S256) bound to one resource (one store's MCP
//! endpoint), and tokens whose refresh rotates and whose reuse revokes the grant.
//!
//! A grant is an API key of the store (`api_keys.oauth_client_id` names the client), created
//! by the member who consented, within their scopes: it shows in the store's key list, is
//! revoked there, and never acts beyond what its member may do at the moment of each request.

pub mod clients;
pub mod grants;
pub mod logins;

use std::sync::Arc;

use chrono::TimeDelta;
use feria_domain::access::Scope;

use crate::app::App;
use crate::services::catalog::stores::{self, DEFAULT_SLUG, Store};

/// How long an access token is good for.
pub const ACCESS_TTL: TimeDelta = TimeDelta::hours(1);
/// How long a refresh token is good for (each use rotates it).
pub const REFRESH_TTL: TimeDelta = TimeDelta::days(30);
/// How long an authorization code waits to be exchanged.
pub const CODE_TTL: TimeDelta = TimeDelta::minutes(5);
/// How long a sign-in on the consent page lasts.
pub const LOGIN_TTL: TimeDelta = TimeDelta::minutes(30);
/// What a host gets when it asks for no scope: reading the catalog and the orders.
pub const DEFAULT_SCOPES: [Scope; 2] = [Scope::CatalogRead, Scope::OrdersRead];

/// Why an OAuth request was refused, as RFC 6749 names it.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("the resource is not one of this server's MCP endpoints")]
    InvalidTarget,
    #[error("{0}")]
    InvalidRedirectUri(String),
    #[error("{0}")]
    InvalidClientMetadata(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl OAuthError {
    /// The RFC's error code.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::InvalidTarget => "invalid_target",
            OAuthError::InvalidRedirectUri(_) => "invalid_redirect_uri",
            OAuthError::InvalidClientMetadata(_) => "invalid_client_metadata",
            OAuthError::AccessDenied(_) => "access_denied",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::Database(_) => "server_error",
        }
    }
}

/// feria's issuer: its public origin (`API_URL`), without a trailing slash.
pub fn issuer(app: &App) -> String {
    app.config.payments.public_url.trim_end_matches('/').to_string()
}

/// The MCP endpoint of `store` as a resource identifier (RFC 8707).
pub fn resource_of(app: &App, store: &Store) -> String {
    if store.is_default { format!("{}/mcp", issuer(app)) } else { format!("{}/api/stores/{}/mcp", issuer(app), store.slug) }
}

/// The active store whose MCP endpoint `resource` names (scheme and host in any case, a
/// trailing slash tolerated).
pub async fn store_of_resource(app: &App, resource: &str) -> Result<Option<Arc<Store>>, sqlx::Error> {
    let issuer = issuer(app);
    let resource = resource.trim_end_matches('/');
    let Some(path) = resource.get(..issuer.len()).filter(|head| head.eq_ignore_ascii_case(&issuer)).map(|_| &resource[issuer.len()..])
    else {
        return Ok(None);
    };
    let slug = match path {
        "/mcp" => DEFAULT_SLUG,
        _ => match path.strip_prefix("/api/stores/").and_then(|rest| rest.strip_suffix("/mcp")) {
            Some(slug) if !slug.is_empty() && !slug.contains('/') => slug,
            _ => return Ok(None),
        },
    };
    let store = match app.catalog_cache.store(slug) {
        Some(store) => Some(store),
        None => stores::find_by_slug(&mut *app.db.reader().acquire().await?, slug).await?.map(|s| app.catalog_cache.remember_store(s)),
    };
    Ok(store.filter(|s| s.is_active))
}

/// The scopes of a space-separated `scope` parameter: `offline_access` is accepted (refresh
/// tokens are always issued) and anything else unknown refused; none asked for reads as
/// [`DEFAULT_SCOPES`].
pub fn parse_scopes(text: Option<&str>) -> Result<Vec<Scope>, OAuthError> {
    let mut scopes = Vec::new();
    for name in text.unwrap_or("").split_whitespace() {
        if name == "offline_access" {
            continue;
        }
        let scope = Scope::parse(name).ok_or_else(|| OAuthError::InvalidScope(format!("unknown scope {name}")))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        scopes.extend(DEFAULT_SCOPES);
    }
    Ok(scopes)
}

/// The scopes a host may ask for: every scope an API key may hold.
pub fn supported_scopes() -> Vec<&'static str> {
    Scope::ALL.iter().filter(|s| s.grantable_to_keys()).map(|s| s.as_str()).collect()
}

/// What a scope lets the host do, for the consent page.
pub fn describe(scope: Scope) -> &'static str {
    match scope {
        Scope::CatalogRead => "Ver el catálogo, incluidos los productos inactivos y el stock",
        Scope::CatalogWrite => "Cambiar productos y stock",
        Scope::PricesWrite => "Cambiar precios y crear cupones",
        Scope::OrdersRead => "Ver los pedidos y las cifras de ventas",
        Scope::OrdersWrite => "Cambiar el estado de los pedidos",
        Scope::PaymentsRead => "Ver los pagos",
        Scope::PaymentsRefund => "Reembolsar pagos",
        Scope::CustomersRead => "Ver los clientes",
        Scope::CustomersWrite => "Cambiar los datos de los clientes",
        Scope::SettingsWrite => "Cambiar la configuración de la tienda",
        Scope::AuditRead => "Leer el registro de auditoría",
        Scope::MembersManage => "Administrar los miembros",
        Scope::KeysManage => "Administrar las claves de API",
    }
}

//! Discovery: protected-resource metadata (RFC 9728) for each store's MCP endpoint and the
//! authorization server's metadata (RFC 8414).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::{App, AppState};
use crate::http::store::CurrentStore;
use crate::services::catalog::stores::Store;
use crate::services::oauth::{self, DEFAULT_SCOPES};

/// Where the protected-resource metadata of `store`'s MCP endpoint is.
pub fn resource_metadata_url(app: &App, store: &Store) -> String {
    let issuer = oauth::issuer(app);
    let resource = oauth::resource_of(app, store);
    format!("{issuer}/.well-known/oauth-protected-resource{}", &resource[issuer.len()..])
}

fn public(body: serde_json::Value) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// The MCP endpoint of the store in the path (the default store's at the root).
pub async fn protected_resource(State(app): State<AppState>, CurrentStore(store): CurrentStore) -> Response {
    public(json!({
        "resource": oauth::resource_of(&app, &store),
        "authorization_servers": [oauth::issuer(&app)],
        "scopes_supported": DEFAULT_SCOPES.map(|s| s.as_str()),
        "bearer_methods_supported": ["header"],
        "resource_name": format!("{} (feria)", store.name),
    }))
}

pub async fn authorization_server(State(app): State<AppState>) -> Response {
    let issuer = oauth::issuer(&app);
    public(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "scopes_supported": oauth::supported_scopes(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
    }))
}

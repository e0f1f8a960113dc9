//! `/mcp` and `/api/stores/{slug}/mcp`: the MCP server over Streamable HTTP, behind the layer
//! that says who calls on which store.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::server::FeriaMcp;
use super::tools::Ctx;
use crate::app::AppState;
use crate::http::auth::{ClientIp, authenticate};
use crate::http::error::ApiError;
use crate::http::middleware::REQUEST_ID;
use crate::http::store::CurrentStore;

/// The MCP endpoints, stateless in every revision: no session is kept between requests, so any
/// node answers any request and an anonymous client cannot make a node hold state.
pub fn routes(app: &AppState) -> Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_max_request_body_bytes(app.config.body_limit_bytes)
        // feria trusts no address: a request from loopback gets what any other gets, so the
        // Host check against DNS rebinding would protect nothing.
        .disable_allowed_hosts();
    let service = StreamableHttpService::new(|| Ok(FeriaMcp::over_http()), Arc::new(NeverSessionManager::default()), config);
    Router::new()
        .route_service("/mcp", service.clone())
        .route_service("/api/stores/{slug}/mcp", service)
        .route_layer(from_fn_with_state(app.clone(), caller))
}

/// Resolves the store and the caller (anonymous without `Authorization`) into the request's
/// [`Ctx`]. A bad token is a 401 with a Bearer challenge; a store's key used on another store
/// is a 403.
async fn caller(State(app): State<AppState>, CurrentStore(store): CurrentStore, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = if parts.headers.contains_key(header::AUTHORIZATION) {
        match authenticate(&parts, &app).await {
            Ok(caller) => Some(caller),
            Err(error) => return challenge(error),
        }
    } else {
        None
    };
    let request_id = parts.headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let ip = ClientIp::of(&parts.headers, &parts.extensions, app.config.trusted_proxies).0;
    match Ctx::new(app, store, caller, request_id, ip) {
        Ok(ctx) => parts.extensions.insert(ctx),
        Err(refused) => return refused.into_response(),
    };
    next.run(Request::from_parts(parts, body)).await
}

/// A 401 with `WWW-Authenticate: Bearer` (RFC 6750), the error code in it when a token was sent.
fn challenge(error: ApiError) -> Response {
    let value = format!("Bearer error=\"invalid_token\", error_description=\"{}\"", error.code);
    let mut response = error.into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

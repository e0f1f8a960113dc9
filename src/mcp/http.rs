//! `/mcp` and `/api/stores/{slug}/mcp`: the MCP server over Streamable HTTP, behind the layer
//! that says who calls on which store: anonymous, a user's token, a store's API key, or an
//! OAuth access token issued for this endpoint (`services::oauth`).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use feria_domain::access::Scope;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;

use super::server::FeriaMcp;
use super::tools::{self, Access, Ctx};
use crate::app::AppState;
use crate::http::auth::{ClientIp, authenticate, bearer_token};
use crate::http::error::{ApiError, codes};
use crate::http::middleware::REQUEST_ID;
use crate::http::store::CurrentStore;
use crate::routes::oauth::resource_metadata_url;
use crate::services::catalog::stores::Store;
use crate::services::identity::caller::Caller;
use crate::services::oauth::{self, DEFAULT_SCOPES, grants};

/// The prefix of feria's OAuth access tokens.
const OAUTH_TOKEN_PREFIX: &str = "fo_at_";

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

/// What the middleware reads of a JSON-RPC request to decide before MCP runs.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow)]
    method: Option<&'a str>,
    #[serde(borrow)]
    params: Option<PeekParams<'a>>,
}

#[derive(Deserialize)]
struct PeekParams<'a> {
    #[serde(borrow)]
    name: Option<&'a str>,
}

/// The scope a `tools/call` in `body` needs, if it names a tool that needs one.
fn needed_scope(body: &[u8]) -> Option<Scope> {
    let peek: Peek = serde_json::from_slice(body).ok()?;
    if peek.method != Some("tools/call") {
        return None;
    }
    match tools::find(peek.params?.name?)?.access {
        Access::Scope(scope) => Some(scope),
        Access::Public | Access::SignedIn => None,
    }
}

/// Resolves the store and the caller into the request's [`Ctx`]. A bad token is a 401 with a
/// Bearer challenge pointing at the endpoint's protected-resource metadata. A tool the caller
/// may not use is refused here when the caller can do something about it: anonymous callers
/// get a 401 (a host then signs the owner in with OAuth), OAuth callers a 403 naming the scope
/// (a host then asks for it); an API key's missing scope is a tool error, as keys do not grow.
async fn caller(State(app): State<AppState>, CurrentStore(store): CurrentStore, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let challenge = Challenge { app: &app, store: &store };
    let token = bearer_token(&parts.headers).map(str::to_string);
    let (caller, via_oauth) = match token.as_deref() {
        None if parts.headers.contains_key(header::AUTHORIZATION) => return challenge.unauthorized(Some("invalid_request"), &[]),
        None => (None, false),
        Some(token) if token.starts_with(OAUTH_TOKEN_PREFIX) => {
            match grants::authenticate(&app, token, &oauth::resource_of(&app, &store)).await {
                Ok(Ok(caller)) => (Some(caller), true),
                Ok(Err(refusal)) => {
                    tracing::debug!(?refusal, "OAuth access token refused");
                    return challenge.unauthorized(Some("invalid_token"), &[]);
                }
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
        Some(_) => match authenticate(&parts, &app).await {
            Ok(caller) => (Some(caller), false),
            Err(_) => return challenge.unauthorized(Some("invalid_token"), &[]),
        },
    };
    let body = if parts.method == Method::POST && (caller.is_none() || via_oauth) {
        let Ok(bytes) = to_bytes(body, app.config.body_limit_bytes).await else {
            return ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE).into_response();
        };
        if let Some(scope) = needed_scope(&bytes).filter(|s| !caller.as_ref().is_some_and(|c| c.may(&store.id, *s))) {
            return match &caller {
                None => challenge.unauthorized(None, &[scope]),
                Some(caller) => challenge.insufficient(caller, &store.id, scope),
            };
        }
        Body::from(bytes)
    } else {
        body
    };
    let request_id = parts.headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let ip = ClientIp::of(&parts.headers, &parts.extensions, app.config.trusted_proxies).0;
    match Ctx::new(app, store, caller, request_id, ip) {
        Ok(ctx) => parts.extensions.insert(ctx),
        Err(refused) => return refused.into_response(),
    };
    next.run(Request::from_parts(parts, body)).await
}

/// The Bearer challenges of one endpoint (RFC 6750, RFC 9728).
struct Challenge<'a> {
    app: &'a AppState,
    store: &'a Store,
}

impl Challenge<'_> {
    /// 401: no usable token; `scope` lists what to ask for (the default set plus `more`).
    fn unauthorized(&self, error: Option<&str>, more: &[Scope]) -> Response {
        let mut scopes: Vec<&str> = DEFAULT_SCOPES.iter().chain(more).map(|s| s.as_str()).collect();
        scopes.dedup();
        let error = error.map(|e| format!("error=\"{e}\", ")).unwrap_or_default();
        let metadata = resource_metadata_url(self.app, self.store);
        let value = format!("Bearer {error}resource_metadata=\"{metadata}\", scope=\"{}\"", scopes.join(" "));
        let refusal = ApiError::unauthorized(codes::UNAUTHORIZED, "Esta herramienta necesita autorización de la tienda");
        with_challenge(refusal, &value)
    }

    /// 403: the token lacks `needed`; `scope` lists what it holds plus what is needed.
    fn insufficient(&self, caller: &Caller, store_id: &str, needed: Scope) -> Response {
        let mut scopes: Vec<&str> = Scope::ALL.iter().filter(|s| caller.may(store_id, **s)).map(|s| s.as_str()).collect();
        scopes.push(needed.as_str());
        let value = format!(
            "Bearer error=\"insufficient_scope\", error_description=\"this operation needs {}\", scope=\"{}\", resource_metadata=\"{}\"",
            needed.as_str(),
            scopes.join(" "),
            resource_metadata_url(self.app, self.store)
        );
        with_challenge(tools::missing_scope(needed), &value)
    }
}

fn with_challenge(refusal: ApiError, value: &str) -> Response {
    let mut response = refusal.into_response();
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

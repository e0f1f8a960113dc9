//! The Universal Commerce Protocol's REST binding: the shop's profile at `/.well-known/ucp` and
//! the checkout sessions under `/ucp/v1` (the default store; any store under
//! `/api/stores/{slug}`). Described by UCP's own OpenAPI document, not feria's.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::app::AppState;
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::agent_checkout::{self, PaymentChoice, Session};
use crate::services::catalog::stores::Store;
use crate::services::order_workflow::StatusChangeError;
use crate::ucp::{self, UcpError, checkout};

/// The UCP routes, for the default store and for any store.
pub fn routes() -> Router<AppState> {
    let sessions = Router::new()
        .route("/checkout-sessions", post(create))
        .route("/checkout-sessions/{id}", get(read).put(update))
        .route("/checkout-sessions/{id}/complete", post(complete))
        .route("/checkout-sessions/{id}/cancel", post(cancel))
        .route("/orders/{id}", get(order));
    Router::new()
        .route("/testing/simulate-shipping/{id}", post(simulate_shipping))
        .route("/.well-known/ucp", get(profile))
        .route("/api/stores/{slug}/.well-known/ucp", get(profile))
        .nest(ucp::REST_PREFIX, sessions.clone())
        .nest(&format!("/api/stores/{{slug}}{}", ucp::REST_PREFIX), sessions)
}

async fn profile(State(app): State<AppState>, CurrentStore(store): CurrentStore) -> Response {
    match ucp::profile(&app, &store).await {
        Ok(body) => {
            let mut response = axum::Json(body).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            response
        }
        Err(e) => ucp_internal(e),
    }
}

/// A fault: logged, answered as UCP's empty `error_response` with 500.
fn ucp_internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "internal error");
    UcpError::messages(StatusCode::INTERNAL_SERVER_ERROR, Vec::new()).into_response()
}

/// The request's `UCP-Agent` checked and its body read as JSON.
fn request(headers: &HeaderMap, body: &Bytes) -> Result<Value, UcpError> {
    ucp::check_agent(headers.get("ucp-agent").and_then(|v| v.to_str().ok()))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| UcpError::invalid(vec![("$".into(), format!("JSON inválido: {e}"))]))
}

/// A session answered with `status`, or the refusal as UCP reads it.
async fn answer(app: &AppState, store: &Store, status: StatusCode, outcome: Result<Session, agent_checkout::CheckoutError>) -> Response {
    let session = match outcome {
        Ok(session) => session,
        Err(refused) => return checkout::refusal(refused).into_response(),
    };
    match PaymentChoice::offered(app, store).await {
        Ok(offered) => (status, axum::Json(checkout::view(app, &session, &offered))).into_response(),
        Err(e) => ucp_internal(e),
    }
}

async fn create(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, UcpError> {
    let draft = checkout::draft(&request(&headers, &body)?, agent_profile(&headers))?;
    Ok(answer(&app, &store, StatusCode::CREATED, agent_checkout::create(&app, &store, draft).await).await)
}

async fn read(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
) -> Result<Response, UcpError> {
    ucp::check_agent(headers.get("ucp-agent").and_then(|v| v.to_str().ok()))?;
    Ok(answer(&app, &store, StatusCode::OK, agent_checkout::get(&app, &store, &id).await).await)
}

async fn update(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, UcpError> {
    let draft = checkout::draft(&request(&headers, &body)?, agent_profile(&headers))?;
    Ok(answer(&app, &store, StatusCode::OK, agent_checkout::update(&app, &store, &id, draft).await).await)
}

async fn complete(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, UcpError> {
    let instrument = checkout::instrument_of(&request(&headers, &body)?)?;
    Ok(answer(&app, &store, StatusCode::OK, agent_checkout::complete(&app, &store, &id, &instrument).await).await)
}

async fn cancel(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, UcpError> {
    request(&headers, &body)?;
    Ok(answer(&app, &store, StatusCode::OK, agent_checkout::cancel(&app, &store, &id).await).await)
}

/// An order an agent checkout placed, as UCP's order entity; another platform's, or none, is
/// answered as not found (200 with an error message, as the protocol says).
async fn order(State(app): State<AppState>, CurrentStore(store): CurrentStore, IdParam(id): IdParam, headers: HeaderMap) -> Response {
    if let Err(refused) = ucp::check_agent(headers.get("ucp-agent").and_then(|v| v.to_str().ok())) {
        return refused.into_response();
    }
    let profile = agent_profile(&headers);
    match agent_checkout::find_order(&app, &store, &id, profile.as_deref()).await {
        Ok((session, order)) => axum::Json(ucp::order::entity(&app, &session, &order)).into_response(),
        Err(agent_checkout::CheckoutError::UnknownSession) => UcpError::messages(
            StatusCode::OK,
            vec![serde_json::json!({ "type": "error", "code": "not_found", "content": "No existe ese pedido en esta tienda", "severity": "unrecoverable" })],
        )
        .into_response(),
        Err(e) => ucp_internal(e),
    }
}

/// The conformance suite's shipping simulation, on only with `UCP_SIMULATION_SECRET` (404
/// otherwise) and for the request carrying it in `Simulation-Secret` (403 otherwise).
async fn simulate_shipping(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
) -> Response {
    let Some(secret) = &app.config.agents.simulation_secret else { return StatusCode::NOT_FOUND.into_response() };
    let given = headers.get("simulation-secret").and_then(|v| v.to_str().ok()).unwrap_or_default();
    // Digests compared, so the time taken says nothing about the secret.
    if crate::crypto::sha256_hex(given) != crate::crypto::sha256_hex(secret.expose()) {
        return UcpError::protocol(StatusCode::FORBIDDEN, "forbidden", "Simulation-Secret incorrecto").into_response();
    }
    match agent_checkout::simulate_shipping(&app, &store, &id).await {
        Ok(()) => axum::Json(serde_json::json!({ "status": "shipped" })).into_response(),
        Err(StatusChangeError::UnknownOrder) => StatusCode::NOT_FOUND.into_response(),
        Err(StatusChangeError::Database(e)) => ucp_internal(e),
        Err(e) => UcpError::protocol(StatusCode::CONFLICT, "invalid_state", e.to_string()).into_response(),
    }
}

/// The platform profile the request's `UCP-Agent` names.
fn agent_profile(headers: &HeaderMap) -> Option<String> {
    headers.get("ucp-agent").and_then(|v| v.to_str().ok()).and_then(ucp::platform::profile_url)
}

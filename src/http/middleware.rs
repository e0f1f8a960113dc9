//! Middleware: request ids, access log + metrics, global rate limit, error envelope, headers.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

use super::auth::ClientIp;
use super::error::ApiError;
use crate::app::AppState;

/// Header carrying the request id, accepted from the client or generated.
pub const REQUEST_ID: &str = "x-request-id";

/// Generates request ids as UUIDv7.
#[derive(Clone, Copy, Default)]
pub struct MakeUuidV7;

impl MakeRequestId for MakeUuidV7 {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&feria_domain::ids::new_id()).ok().map(RequestId::new)
    }
}

/// Runs each request in its own tracing span — request id, method, route template, and, once
/// the extractors know them, the caller (`user`) and the store — so every log line of a request
/// can be found; logs one line per request and records it in the HTTP metrics.
pub async fn observe(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let path = request.uri().path().to_string();
    let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = method_label(&method),
        route = %route,
        user = tracing::field::Empty,
        store = tracing::field::Empty,
    );
    async move {
        let response = next.run(request).await;
        let elapsed = started.elapsed();
        let status = response.status().as_u16();
        app.http_metrics.record(method_label(&method), &route, status, elapsed);
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(%path, status, latency_ms, "request");
        } else {
            tracing::info!(%path, status, latency_ms, "request");
        }
        response
    }
    .instrument(span)
    .await
}

/// The metrics label of a method: one of a closed set, so clients cannot add series.
fn method_label(method: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    KNOWN.into_iter().find(|known| *known == method.as_str()).unwrap_or("OTHER")
}

/// Paths that load balancers and scrapers call often; they are not rate limited.
const UNLIMITED_PATHS: &[&str] = &["/api/health", "/api/ready", "/metrics"];

/// The per-IP limit for every request (`RATE_LIMIT_*`), with `RateLimit-*` headers on every answer.
pub async fn global_rate_limit(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if UNLIMITED_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let ip = ClientIp::of(request.headers(), request.extensions(), app.config.trusted_proxies);
    let decision = app.rate_limiter.hit("ip", &ip.0, app.config.rate_limit_max_requests, app.config.rate_limit_window).await;
    if !decision.allowed {
        return decision.rejection().into_response();
    }
    let mut response = next.run(request).await;
    for (name, value) in decision.headers() {
        if let Some(name) = name {
            response.headers_mut().entry(name).or_insert(value);
        }
    }
    response
}

/// Gives every error answer that is not already JSON (unknown route, wrong method, timeout,
/// framework rejections) the error envelope, keeping its status and headers.
pub async fn error_envelope(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let mut replacement = ApiError::for_status(status).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    replacement.headers_mut().extend(parts.headers);
    replacement
}

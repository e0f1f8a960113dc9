//! `Idempotency-Key` on POST and PUT requests (ARCHITECTURE.md "HTTP conventions"): the first
//! request with a key runs and, when it succeeds, its answer is kept for 24 hours; the same key
//! with the same request (method, path, body, caller) replays that answer with
//! `Idempotent-Replayed: true`; with another request it is a 422 (409 on the UCP routes, as
//! that protocol says). Kept in the database, so it holds across nodes.
//!
//! Only successful answers are kept: a failed request changed nothing, and may be retried with
//! the same key. A second request arriving while the first still runs gets 409 (retry later).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, FieldError, codes};
use crate::app::AppState;
use crate::services::idempotency::{Claim, claim, digest, settle};
use crate::services::identity::api_keys::API_KEY_PREFIX;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header marking a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// Whose keys a request uses: a logged-in user's own (whatever token they send), or, for
/// anonymous callers, those of their address, so one caller can neither replay nor block
/// another's answer.
struct Caller {
    scope: String,
    /// The platform admin: only their uploads (images, imports) are buffered whole to be kept;
    /// anyone may open a store, so membership alone does not earn 50 MB of buffer.
    admin: bool,
}

impl Caller {
    /// A user whose token still holds (signature, expiry, token version) is scoped by their
    /// id; anyone else by their address.
    async fn of(app: &AppState, parts: &axum::http::request::Parts) -> Caller {
        let claims = super::auth::bearer_token(&parts.headers).and_then(|token| app.tokens.verify(token).ok());
        if let Some(claims) = claims
            && let Ok(Some(access)) = app.access.current(&app.db, &claims.sub).await
            && access.version == claims.ver
        {
            let admin = access.roles.iter().any(|r| r == feria_domain::roles::Role::Admin.as_str());
            return Caller { scope: digest(&[b"user", claims.sub.as_bytes()]), admin };
        }
        // An API key scopes its own keys: another caller cannot present it without knowing it.
        if let Some(key) = super::auth::bearer_token(&parts.headers).filter(|t| t.starts_with(API_KEY_PREFIX)) {
            return Caller { scope: digest(&[b"key", key.as_bytes()]), admin: false };
        }
        let ip = super::auth::ClientIp::of(&parts.headers, &parts.extensions, app.config.trusted_proxies);
        Caller { scope: digest(&[b"ip", ip.0.as_bytes()]), admin: false }
    }

    /// The most body read to fingerprint the request: uploads (multipart) are buffered whole
    /// only for the platform admin; anything else within the general body limit.
    fn body_limit(&self, app: &AppState, headers: &axum::http::HeaderMap) -> usize {
        let multipart = headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"multipart/"));
        if self.admin && multipart {
            crate::router::upload_limit(&app.config).max(app.config.import_max_bytes.saturating_add(64 * 1024))
        } else {
            app.config.body_limit_bytes
        }
    }
}

/// Whether answers of `path` are never kept, so the header is ignored there: those that carry
/// credentials (tokens, a new API key) and event streams (keeping one would hold it back until
/// it ended).
fn never_kept(path: &str) -> bool {
    path.starts_with("/api/auth/") || path.ends_with("/api-keys") || path.ends_with("/stream")
}

/// The middleware: POST and PUT requests carrying `Idempotency-Key` run at most once per key.
pub async fn idempotency(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let writes = request.method() == Method::POST || request.method() == Method::PUT;
    if !writes || !request.headers().contains_key(HEADER) || never_kept(request.uri().path()) {
        return next.run(request).await;
    }
    let ucp = request.uri().path().contains("/ucp/");
    // The Universal Commerce Protocol negotiates its version before anything else, a replay too.
    if ucp && let Err(refused) = crate::ucp::check_agent(request.headers().get("ucp-agent").and_then(|v| v.to_str().ok())) {
        return refused.into_response();
    }
    let key = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or("").to_string();
    if key.is_empty() || key.len() > 255 {
        let detail = FieldError::new("Idempotency-Key", "Debe tener entre 1 y 255 caracteres visibles");
        return ApiError::validation(vec![detail]).into_response();
    }
    let (parts, body) = request.into_parts();
    let caller = Caller::of(&app, &parts).await;
    let Ok(bytes) = to_bytes(body, caller.body_limit(&app, &parts.headers)).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, codes::PAYLOAD_TOO_LARGE, "El cuerpo de la petición es demasiado grande")
            .into_response();
    };
    let scope = caller.scope;
    let target = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let fingerprint = digest(&[parts.method.as_str().as_bytes(), target.as_bytes(), &bytes]);
    let claimed = match app.db.writer().acquire().await {
        Ok(mut conn) => claim(&mut conn, &scope, &key, &fingerprint).await,
        Err(e) => Err(e),
    };
    match claimed {
        Err(e) => ApiError::internal(e).into_response(),
        // The Universal Commerce Protocol answers a reused key with 409.
        Ok(Claim::Mismatch) => ApiError::new(
            if ucp { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY },
            codes::IDEMPOTENCY_KEY_MISMATCH,
            "Esta clave ya se usó con otra petición; usá una clave nueva para una petición distinta",
        )
        .into_response(),
        Ok(Claim::InUse) => ApiError::conflict(
            codes::IDEMPOTENCY_KEY_IN_USE,
            "Una petición con esta clave todavía está en curso; reintentá en unos segundos",
        )
        .into_response(),
        Ok(Claim::Replay { status, content_type, body }) => {
            let mut response = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
            response
        }
        Ok(Claim::Run) => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            keep(&app, &scope, &key, response).await
        }
    }
}

/// Stores a successful answer (a UTF-8 body) under the key and returns it; otherwise frees the key.
async fn keep(app: &AppState, scope: &str, key: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::internal("reading the answer to keep it").into_response();
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let text = std::str::from_utf8(&bytes).ok();
    let answer = text.filter(|_| parts.status.is_success()).map(|t| (parts.status.as_u16(), content_type, t));
    let settled = match app.db.writer().acquire().await {
        Ok(mut conn) => settle(&mut conn, scope, key, answer).await,
        Err(e) => Err(e),
    };
    if let Err(e) = settled {
        // The request itself was done; a later retry may run it again or see it in use.
        tracing::error!(error = %e, "idempotency key not settled");
    }
    Response::from_parts(parts, Body::from(bytes))
}

//! Dynamic client registration (RFC 7591) and the token endpoint: the authorization code with
//! PKCE, and refresh tokens that rotate.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{no_store, oauth_error};
use crate::app::AppState;
use crate::http::auth::ClientIp;
use crate::services::oauth::{OAuthError, clients, grants};

/// Registrations one address may make per hour: hosts register again often, but a client row
/// is stored for each.
const REGISTRATIONS_PER_HOUR: u64 = 30;

pub async fn register(State(app): State<AppState>, ip: ClientIp, body: Bytes) -> Response {
    let decision = app.rate_limiter.hit("oauth-register", &ip.0, REGISTRATIONS_PER_HOUR, Duration::from_secs(3600)).await;
    if !decision.allowed {
        return decision.rejection().into_response();
    }
    let Ok(metadata) = serde_json::from_slice::<Value>(&body) else {
        return oauth_error(StatusCode::BAD_REQUEST, &OAuthError::InvalidClientMetadata("the body must be a JSON object".into()));
    };
    match clients::register(&app, &metadata).await {
        Ok((_, answer)) => no_store((StatusCode::CREATED, axum::Json(answer)).into_response()),
        Err(e @ OAuthError::Database(_)) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, &e),
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, &e),
    }
}

/// `POST /token` (`application/x-www-form-urlencoded`).
pub async fn token(State(app): State<AppState>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client_id) = field("client_id") else {
        return oauth_error(StatusCode::UNAUTHORIZED, &OAuthError::InvalidClient("client_id is required".into()));
    };
    let outcome = match field("grant_type") {
        Some("authorization_code") => match (field("code"), field("code_verifier")) {
            (Some(code), Some(code_verifier)) => {
                let exchange = grants::CodeExchange {
                    client_id,
                    code,
                    code_verifier,
                    redirect_uri: field("redirect_uri"),
                    resource: field("resource"),
                };
                grants::exchange(&app, exchange).await
            }
            _ => Err(OAuthError::InvalidRequest("code and code_verifier are required".into())),
        },
        Some("refresh_token") => match field("refresh_token") {
            Some(refresh_token) => grants::refresh(&app, client_id, refresh_token, field("resource")).await,
            None => Err(OAuthError::InvalidRequest("refresh_token is required".into())),
        },
        _ => Err(OAuthError::UnsupportedGrantType),
    };
    match outcome {
        Ok(tokens) => {
            let scope: Vec<&str> = tokens.scopes.iter().map(|s| s.as_str()).collect();
            no_store(
                axum::Json(json!({
                    "access_token": tokens.access_token,
                    "token_type": "Bearer",
                    "expires_in": tokens.expires_in,
                    "refresh_token": tokens.refresh_token,
                    "scope": scope.join(" "),
                }))
                .into_response(),
            )
        }
        Err(e @ OAuthError::Database(_)) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, &e),
        Err(e @ OAuthError::InvalidClient(_)) => oauth_error(StatusCode::UNAUTHORIZED, &e),
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, &e),
    }
}

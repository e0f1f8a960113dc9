//! feria's OAuth 2.1 authorization server for remote MCP hosts (`mcp-auth.md`): metadata,
//! registration, the sign-in and consent pages, and the token endpoint. These follow the
//! OAuth RFCs' formats (form posts, `{error, error_description}`), not the API's envelope, and
//! are outside the API's OpenAPI document.

mod authorize;
mod metadata;
mod token;

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use serde_json::json;

use crate::app::AppState;
use crate::services::oauth::OAuthError;

pub use metadata::resource_metadata_url;

/// The OAuth routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata::authorization_server))
        .route("/.well-known/oauth-protected-resource", get(metadata::protected_resource))
        .route("/.well-known/oauth-protected-resource/mcp", get(metadata::protected_resource))
        .route("/.well-known/oauth-protected-resource/api/stores/{slug}/mcp", get(metadata::protected_resource))
        .route("/register", post(token::register))
        .route("/token", post(token::token))
        .route("/authorize", get(authorize::show))
        .route("/authorize/login", post(authorize::login))
        .route("/authorize/consent", post(authorize::consent))
}

/// The pages' templates, embedded in the binary (autoescaped: they end in `.html`).
static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("layout.html", include_str!("../../../templates/oauth/layout.html")),
        ("login.html", include_str!("../../../templates/oauth/login.html")),
        ("consent.html", include_str!("../../../templates/oauth/consent.html")),
        ("error.html", include_str!("../../../templates/oauth/error.html")),
    ] {
        env.add_template(name, source).expect("the OAuth page templates parse");
    }
    env
});

/// A page rendered with `context`, never cached, never framed.
fn render(status: StatusCode, name: &str, context: minijinja::Value) -> Response {
    let body = match PAGES.get_template(name).and_then(|t| t.render(context)) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, page = name, "OAuth page not rendered");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    crate::http::page::respond(status, body)
}

/// An error shown on feria's own page (the client or its redirect URI is not trusted yet).
fn error_page(message: &str) -> Response {
    render(StatusCode::BAD_REQUEST, "error.html", minijinja::context! { message })
}

/// `{error, error_description}` with `status`, never cached (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &OAuthError) -> Response {
    if let OAuthError::Database(e) = error {
        tracing::error!(error = %e, "OAuth request failed");
    }
    let description = match error {
        OAuthError::Database(_) => "internal error".to_string(),
        other => other.to_string(),
    };
    no_store((status, axum::Json(json!({ "error": error.code(), "error_description": description }))).into_response())
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

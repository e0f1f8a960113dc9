//! `/notifications/unsubscribe?token=…`: the link at the foot of a non-critical email. Opening it
//! asks for confirmation (mail scanners open links); posting to it, from that page or from a mail
//! client's one-click button (RFC 8058), stops that category by email. An HTML page, outside
//! the API's document like the OAuth pages.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use feria_domain::notify::Category;
use minijinja::context;

use crate::app::AppState;
use crate::services::notifications::{NotifyError, templates, unsubscribe};

pub fn routes() -> Router<AppState> {
    Router::new().route("/notifications/unsubscribe", get(show).post(confirm))
}

/// What the category is about, in the page's words.
fn topic(category: Category) -> &'static str {
    match category {
        Category::Orders => "tus pedidos",
        Category::Payments => "tus pagos",
        Category::Marketing => "promociones",
        Category::Account => "tu cuenta",
        Category::Announcements => "anuncios de las tiendas",
        Category::System => "avisos de la tienda",
    }
}

fn token(raw: Option<&str>) -> String {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn page(status: StatusCode, values: minijinja::Value) -> Response {
    match templates::page("unsubscribe.html", values) {
        Ok(body) => crate::http::page::respond(status, body),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe page not rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn show(State(app): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let token = token(raw.as_deref());
    match unsubscribe::read(&app, &token) {
        Some((_, category)) => page(StatusCode::OK, context! { state => "confirm", topic => topic(category), token }),
        None => page(StatusCode::BAD_REQUEST, context! { state => "invalid" }),
    }
}

async fn confirm(State(app): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    match unsubscribe::apply(&app, &token(raw.as_deref())).await {
        Ok(category) => page(StatusCode::OK, context! { state => "done", topic => topic(category) }),
        Err(NotifyError::BadUnsubscribeToken) => page(StatusCode::BAD_REQUEST, context! { state => "invalid" }),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

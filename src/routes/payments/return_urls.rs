//! Where Mercado Pago sends the buyer back: forwarded to the shop's frontend.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::services::payments::mercadopago;

use crate::services::payments::webhook_intake::query_map;

/// The parameters Mercado Pago adds to a return URL that the frontend gets (protocol §7).
const FORWARDED: &[&str] = &[
    "collection_id",
    "collection_status",
    "payment_id",
    "status",
    "external_reference",
    "payment_type",
    "merchant_order_id",
    "preference_id",
    "site_id",
    "processing_mode",
];

/// Whether `url` is a page of the frontend (`FRONTEND_URL` or below it), so redirecting there
/// cannot send the buyer elsewhere.
pub(super) fn is_frontend_page(app: &AppState, url: &str) -> bool {
    let base = &app.config.frontend_url;
    url == base || url.strip_prefix(base.as_str()).is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
}

/// Where Mercado Pago sends the buyer back: to the frontend's page for the outcome, with the
/// payment's parameters (`"null"` values left out). They are the buyer's input: the frontend
/// should ask `POST /api/payments/verify` for the real state.
fn back_to_frontend(app: &AppState, outcome: &str, raw_query: Option<&str>) -> Response {
    let target = match (mercadopago::config(app).ok(), outcome) {
        (Some(c), "success") => c.success_url.clone(),
        (Some(c), "failure") => c.failure_url.clone(),
        (Some(c), _) => c.pending_url.clone(),
        (None, _) => format!("{}/payment/{outcome}", app.config.frontend_url),
    };
    let query = query_map(raw_query);
    // A page of the frontend the buyer started from (`returnUrl` when paying) replaces the default.
    let target = query.get("returnUrl").filter(|url| is_frontend_page(app, url)).cloned().unwrap_or(target);
    let mut out = form_urlencoded::Serializer::new(String::new());
    for name in FORWARDED {
        if let Some(value) = query.get(*name).filter(|v| !v.is_empty() && *v != "null") {
            out.append_pair(name, value);
        }
    }
    let query = out.finish();
    let separator = if target.contains('?') { '&' } else { '?' };
    let location = if query.is_empty() { target } else { format!("{target}{separator}{query}") };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Mercado Pago's return URL after an approved payment: 302 to the frontend.
#[utoipa::path(get, path = "/payments/success", tag = "payments", responses((status = 302, description = "To the frontend's success page")))]
pub async fn success(State(app): State<AppState>, RawQuery(q): RawQuery) -> Response {
    back_to_frontend(&app, "success", q.as_deref())
}

/// Mercado Pago's return URL after a failed payment: 302 to the frontend.
#[utoipa::path(get, path = "/payments/failure", tag = "payments", responses((status = 302, description = "To the frontend's failure page")))]
pub async fn failure(State(app): State<AppState>, RawQuery(q): RawQuery) -> Response {
    back_to_frontend(&app, "failure", q.as_deref())
}

/// Mercado Pago's return URL for a payment still pending: 302 to the frontend.
#[utoipa::path(get, path = "/payments/pending", tag = "payments", responses((status = 302, description = "To the frontend's pending page")))]
pub async fn pending(State(app): State<AppState>, RawQuery(q): RawQuery) -> Response {
    back_to_frontend(&app, "pending", q.as_deref())
}

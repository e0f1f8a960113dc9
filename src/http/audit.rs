//! Records in the audit log every successful write by a store's members, its API keys and the
//! platform admin. The access extractors say who acted and for which store (they fill the
//! request's [`AuditSlot`]); this middleware reads the resource as its own `GET` route shows it
//! before and after the write, and records the entry once the answer is ready. A write answered
//! with an error changed nothing and is not recorded.

use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;
use tower::ServiceExt;

use super::auth::ClientIp;
use super::middleware::REQUEST_ID;
use crate::app::AppState;
use crate::services::audit::{self, Actor, Entry};
use crate::services::identity::api_keys::API_KEY_PREFIX;

/// Who acted, once an access extractor knows it.
#[derive(Clone, Default)]
pub struct AuditSlot(Arc<Mutex<Option<Actor>>>);

impl AuditSlot {
    /// Marks the request's write as one to record, by `actor` (no-op when not a write).
    pub fn fill(parts: &Parts, actor: Actor) {
        if let Some(slot) = parts.extensions.get::<AuditSlot>() {
            *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(actor);
        }
    }

    fn take(&self) -> Option<Actor> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// POST routes the middleware does not record: those that only read, and the MCP mirror and the
/// model proxy (a tool records its own writes, with what it changed; asking a model changes nothing).
const READING_POSTS: &[&str] =
    &["/sales/by-date-range", "/order-statuses/validate-transition", "/payments/verify", "/mcp/call", "/mcp/anthropic"];

/// What a route template says about the resource written: `(resource, verb, index of the id
/// segment)`, after the `/api` or `/api/stores/{slug}` prefix.
fn describe(template: &str, method: &Method) -> (String, String, Option<usize>) {
    let segments: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let skip = if segments.get(1) == Some(&"stores") && segments.get(2) == Some(&"{slug}") { 3 } else { 1 };
    let rest = &segments[skip.min(segments.len())..];
    let resource = rest.first().map_or("api", |s| s).to_string();
    let id_at = rest.iter().rposition(|s| s.starts_with('{')).map(|i| i + skip);
    let literal_after =
        rest.iter().skip(1).rev().find(|s| !s.starts_with('{')).filter(|_| rest.last().is_some_and(|s| !s.starts_with('{')));
    let verb = match (literal_after, method.as_str()) {
        (Some(literal), _) => literal.to_string(),
        (None, "POST") => "create".into(),
        (None, "DELETE") => "delete".into(),
        _ => "update".into(),
    };
    (resource, verb, id_at)
}

/// The resource as its `GET` route answers the caller now; `None` without such a route or
/// answer. An API key is not accepted on the public catalog's reads (they serve people), so for
/// a key the public answer stands in.
async fn snapshot(app: &AppState, path: &str, authorization: &axum::http::HeaderValue) -> Option<Value> {
    let routes = app.routes.get_or_init(|| crate::router::bare_routes(&app.config)).clone().with_state(app.clone());
    let is_key = authorization.to_str().is_ok_and(|v| v.trim_start_matches("Bearer ").starts_with(API_KEY_PREFIX));
    for auth in [Some(authorization), None] {
        let mut request = Request::builder().method(Method::GET).uri(path);
        if let Some(value) = auth {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = routes.clone().oneshot(request.body(Body::empty()).ok()?).await.ok()?;
        if response.status() == StatusCode::UNAUTHORIZED && auth.is_some() && is_key {
            continue;
        }
        if !response.status().is_success() {
            return None;
        }
        let bytes = to_bytes(response.into_body(), 4 * 1024 * 1024).await.ok()?;
        return serde_json::from_slice(&bytes).ok();
    }
    None
}

/// The middleware.
pub async fn audit(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let authorization = request.headers().get(header::AUTHORIZATION).cloned();
    let template = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let (Some(template), Some(authorization)) = (template, authorization) else { return next.run(request).await };
    if [Method::GET, Method::HEAD, Method::OPTIONS].contains(&method) || READING_POSTS.iter().any(|r| template.ends_with(r)) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    let (resource, verb, id_at) = describe(&template, &method);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let resource_path = id_at.filter(|i| *i < segments.len()).map(|i| format!("/{}", segments[..=i].join("/")));
    let resource_id = id_at.and_then(|i| segments.get(i)).map(|s| s.to_string());
    let before = match &resource_path {
        Some(p) => snapshot(&app, p, &authorization).await,
        None => None,
    };
    let slot = AuditSlot::default();
    request.extensions_mut().insert(slot.clone());
    let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let ip = ClientIp::of(request.headers(), request.extensions(), app.config.trusted_proxies).0;
    let response = next.run(request).await;
    let Some(actor) = slot.take().filter(|_| response.status().is_success()) else { return response };
    let (response, after, resource_id) = match (&resource_path, method == Method::DELETE) {
        (_, true) => (response, None, resource_id),
        (Some(p), false) => {
            let after = snapshot(&app, p, &authorization).await;
            (response, after, resource_id)
        }
        (None, false) => {
            // A creation: the answer is the new resource.
            let (parts, body) = response.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let after: Option<Value> = serde_json::from_slice(&bytes).ok();
            let id = after.as_ref().and_then(created_id);
            (Response::from_parts(parts, Body::from(bytes)), after, id)
        }
    };
    let entry = Entry {
        actor: &actor,
        action: &format!("{resource}.{verb}"),
        resource: &resource,
        resource_id: resource_id.as_deref(),
        method: method.as_str(),
        path: &path,
        status: response.status().as_u16(),
        before,
        after,
        request_id: &request_id,
        ip: &ip,
    };
    if let Err(e) = audit::record(&app, entry).await {
        tracing::error!(error = %e, "a write could not be recorded in the audit log");
    }
    response
}

/// The id of a created resource: its `id`, or that of the one object it wraps.
fn created_id(body: &Value) -> Option<String> {
    let object = body.as_object()?;
    object.get("id").or_else(|| object.values().find_map(|v| v.get("id"))).and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_their_resource_and_verb() {
        let of = |t: &str, m: Method| {
            let (resource, verb, id_at) = describe(t, &m);
            (format!("{resource}.{verb}"), id_at)
        };
        assert_eq!(of("/api/stores/{slug}/products/{id}", Method::PUT), ("products.update".into(), Some(4)));
        assert_eq!(of("/api/products/{id}", Method::DELETE), ("products.delete".into(), Some(2)));
        assert_eq!(of("/api/products", Method::POST), ("products.create".into(), None));
        assert_eq!(of("/api/sales/{id}/status", Method::PATCH), ("sales.status".into(), Some(2)));
        assert_eq!(of("/api/stores/{slug}/payments/{id}/refund", Method::POST), ("payments.refund".into(), Some(4)));
        assert_eq!(of("/api/products/bulk-import", Method::POST), ("products.bulk-import".into(), None));
        assert_eq!(of("/api/stores", Method::POST), ("stores.create".into(), None));
        assert_eq!(of("/api/admin/jobs/{id}/retry", Method::POST), ("admin.retry".into(), Some(3)));
    }
}

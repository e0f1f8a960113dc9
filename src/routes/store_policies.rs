//! `/api/store-policies`, also under `/api/stores/{slug}/…`: what the store tells buyers about
//! shipping, returns, payments and its hours. Anyone reads them; staff with `settings:write`
//! write them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::path::KindParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::store_policies::{self, Policy, PolicyKind};

/// Longest policy, in characters.
const MAX_BODY: usize = 5000;

/// A policy as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    /// `shipping`, `returns`, `payments` or `hours`.
    pub kind: String,
    pub title: String,
    /// Plain text, as the owner wrote it.
    pub body: String,
    pub updated_at: String,
}

impl From<Policy> for PolicyView {
    fn from(p: Policy) -> PolicyView {
        PolicyView { kind: p.kind.as_str().into(), title: p.kind.title().into(), body: p.body, updated_at: p.updated_at }
    }
}

/// The store's policies.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicyView>,
}

/// A policy's text.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PolicyRequest {
    /// 1–5000 characters of plain text.
    pub body: Option<String>,
}

fn kind(text: &str) -> ApiResult<PolicyKind> {
    PolicyKind::parse(text).ok_or_else(|| ApiError::not_found("No hay una política con ese nombre: shipping, returns, payments o hours"))
}

/// The store's policies that were written (public).
#[utoipa::path(get, path = "/store-policies", tag = "store-policies",
    responses((status = 200, description = "The policies written, shipping, returns, payments, hours", body = PolicyList)))]
pub async fn list(State(app): State<AppState>, CurrentStore(store): CurrentStore) -> ApiResult<Json<PolicyList>> {
    let policies = store_policies::list(&app.db, &store.id).await?;
    Ok(Json(PolicyList { policies: policies.into_iter().map(Into::into).collect() }))
}

/// Writes one of the store's policies, replacing its text.
#[utoipa::path(put, path = "/store-policies/{kind}", tag = "store-policies", security(("bearer" = [])),
    params(("kind" = String, Path, description = "shipping, returns, payments or hours")), request_body = PolicyRequest,
    responses(
        (status = 200, description = "The policy as written", body = PolicyView),
        (status = 404, description = "No such kind of policy", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
    ))]
pub async fn set(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    KindParam(name): KindParam,
    ApiJson(body): ApiJson<PolicyRequest>,
) -> ApiResult<Json<PolicyView>> {
    let kind = kind(&name)?;
    let mut v = Validator::new();
    let text = v.text("body", body.body.as_deref(), 1, MAX_BODY);
    v.finish()?;
    Ok(Json(store_policies::set(&app.db, &store.id, kind, &text).await?.into()))
}

/// Removes one of the store's policies.
#[utoipa::path(delete, path = "/store-policies/{kind}", tag = "store-policies", security(("bearer" = [])),
    params(("kind" = String, Path, description = "shipping, returns, payments or hours")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "The store has no such policy", body = ErrorBody),
    ))]
pub async fn remove(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    KindParam(name): KindParam,
) -> ApiResult<StatusCode> {
    if store_policies::remove(&app.db, &store.id, kind(&name)?).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("La tienda no tiene esa política"))
    }
}

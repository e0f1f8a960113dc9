//! `/api/api-keys` (also under `/api/stores/{slug}/…`): keys for integrations, each with its
//! scopes in one store (owners, and the platform admin). A key is shown once, when created;
//! send it as `Authorization: Bearer fk_…`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use feria_domain::access::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::identity::api_keys::{self, ApiKey, NewKey};

/// An API key (never the key itself).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The key's first characters, to tell it apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// The user who created it.
    pub created_by: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Recorded at most once a minute.
    pub last_used_at: Option<String>,
    pub created_at: String,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> ApiKeyView {
        ApiKeyView {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.as_str().to_string()).collect(),
            created_by: k.created_by,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
        }
    }
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewKeyRequest {
    /// What the key is for, up to 100 characters.
    pub name: Option<String>,
    /// At least one of `catalog:read`, `catalog:write`, `prices:write`, `orders:read`,
    /// `orders:write`, `payments:read`, `payments:refund`, `customers:read`,
    /// `customers:write`, `settings:write`, `audit:read`; or a space-separated string of them.
    #[schema(value_type = Vec<String>)]
    pub scopes: Option<serde_json::Value>,
    /// RFC 3339; in the future. Without it the key does not expire.
    pub expires_at: Option<String>,
}

/// The new key: `key` is shown only now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyCreated {
    pub key: String,
    pub api_key: ApiKeyView,
}

/// A page of keys, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyPage {
    pub api_keys: Vec<ApiKeyView>,
    pub pagination: PageInfo,
}

/// The requested scopes: a list or one space-separated string (OAuth style).
fn scopes(v: &mut Validator, value: Option<&serde_json::Value>) -> Vec<Scope> {
    let names: Vec<&str> = match value {
        Some(serde_json::Value::String(s)) => s.split_whitespace().collect(),
        Some(serde_json::Value::Array(list)) => list.iter().take(Scope::ALL.len() + 1).filter_map(|n| n.as_str()).collect(),
        _ => Vec::new(),
    };
    let mut found = Vec::new();
    for name in names.iter().take(Scope::ALL.len() + 1) {
        match Scope::parse(name.trim()) {
            Some(scope) if !found.contains(&scope) => found.push(scope),
            Some(_) => {}
            None => v.add("scopes", format!("No es un permiso: {}", name.chars().take(40).collect::<String>())),
        }
    }
    if found.is_empty() {
        v.add("scopes", "Indicá al menos un permiso");
    }
    found
}

/// Creates an API key with scopes, optionally expiring (owners). Its scopes cannot exceed
/// the creator's, and never manage members or keys.
#[utoipa::path(post, path = "/api-keys", tag = "api-keys", security(("bearer" = [])), request_body = NewKeyRequest,
    responses(
        (status = 201, description = "Created; the key is shown only now", body = KeyCreated),
        (status = 409, description = "The store holds as many keys as allowed", body = ErrorBody),
        (status = 422, description = "Invalid name, scopes or expiry", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    Staff(owner, _): Staff<scope::KeysManage>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<NewKeyRequest>,
) -> ApiResult<(StatusCode, Json<KeyCreated>)> {
    let mut v = Validator::new();
    let name = v.text("name", body.name.as_deref(), 1, 100);
    let scopes = scopes(&mut v, body.scopes.as_ref());
    let expires_at = match body.expires_at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(at) if at.with_timezone(&chrono::Utc) > feria_domain::time::now() => {
                Some(feria_domain::time::to_db(at.with_timezone(&chrono::Utc)))
            }
            Ok(_) => {
                v.add("expiresAt", "Debe ser una fecha futura");
                None
            }
            Err(_) => {
                v.add("expiresAt", "Debe ser una fecha RFC 3339");
                None
            }
        },
    };
    v.finish()?;
    let (key, secret) = api_keys::create(&app, &owner, &store.id, NewKey { name, scopes, expires_at }).await?;
    Ok((StatusCode::CREATED, Json(KeyCreated { key: secret, api_key: key.into() })))
}

/// The store's API keys, newest first (owners).
#[utoipa::path(get, path = "/api-keys", tag = "api-keys", security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of keys", body = KeyPage),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Staff(owner, _): Staff<scope::KeysManage>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<KeyPage>> {
    let (total, keys) = api_keys::page(&app, &owner, &store.id, page.limit, page.offset()).await?;
    Ok(Json(KeyPage { api_keys: keys.into_iter().map(ApiKeyView::from).collect(), pagination: PageInfo::new(page, total) }))
}

/// Revokes an API key at once (owners); revoking again changes nothing.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "api-keys", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Revoked", body = ApiKeyView),
        (status = 404, description = "No such key in this store", body = ErrorBody),
    ))]
pub async fn revoke(
    State(app): State<AppState>,
    Staff(owner, _): Staff<scope::KeysManage>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ApiKeyView>> {
    Ok(Json(api_keys::revoke(&app, &owner, &store.id, &id).await?.into()))
}

//! Path parameters by name, so one handler serves `/api/x/{id}` and `/api/stores/{slug}/x/{id}`.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use super::error::ApiError;

/// The `{id}` path parameter.
#[derive(Debug, Clone)]
pub struct IdParam(pub String);

/// The `{name}` path parameter (percent-decoded).
#[derive(Debug, Clone)]
pub struct NameParam(pub String);

/// The `{code}` path parameter (percent-decoded).
#[derive(Debug, Clone)]
pub struct CodeParam(pub String);

async fn named(parts: &mut Parts, name: &str) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, &()).await.map_err(|e| ApiError::internal(format!("path parameters: {e}")))?;
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
        .ok_or_else(|| ApiError::internal(format!("route has no {{{name}}} parameter")))
}

impl<S: Send + Sync> FromRequestParts<S> for IdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        named(parts, "id").await.map(IdParam)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for NameParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        named(parts, "name").await.map(NameParam)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CodeParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        named(parts, "code").await.map(CodeParam)
    }
}

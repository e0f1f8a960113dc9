//! Path parameters by name, so one handler serves `/api/x/{id}` and `/api/stores/{slug}/x/{id}`.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use super::error::ApiError;

/// The `{id}` path parameter.
#[derive(Debug, Clone)]
pub struct IdParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params =
            RawPathParams::from_request_parts(parts, state).await.map_err(|e| ApiError::internal(format!("path parameters: {e}")))?;
        params
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, value)| IdParam(value.to_string()))
            .ok_or_else(|| ApiError::internal("route has no {id} parameter"))
    }
}

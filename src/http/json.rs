//! Request extractors whose failures answer with the error envelope.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, FieldError, codes};
use super::validate::Validator;

/// A JSON body: 415 without a JSON content type, 413 past the body limit, 400 when the JSON
/// is malformed, 422 (naming the field) when it does not fit the expected shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Se esperaba un cuerpo con Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| ApiError::for_status(rejection.status()))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON bytes into `T` with the envelope's 400/422 distinction.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(StatusCode::BAD_REQUEST, codes::MALFORMED_JSON, format!("El cuerpo no es JSON válido: {inner}"))
        } else {
            let field = if path == "." { "body".to_string() } else { path };
            ApiError::validation(vec![FieldError::new(field, inner.to_string())])
        }
    })
}

/// For `Option<Option<T>>` fields: an absent field stays `None`, an explicit `null` becomes
/// `Some(None)` (use with `#[serde(default, deserialize_with = "…")]`).
pub fn double_option<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The boolean query parameter `name` (`true`/`1` or `false`/`0`) of the query string `raw`;
/// `None` when absent, 422 naming it when it is something else.
pub fn query_flag(raw: Option<&str>, name: &str) -> Result<Option<bool>, ApiError> {
    match form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).find(|(key, _)| key == name) {
        None => Ok(None),
        Some((_, value)) => match value.as_ref() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(ApiError::field(name, "Debe ser true o false")),
        },
    }
}

/// Page numbers of a listing (seed 001's `pagination`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub total_pages: i64,
}

impl PageInfo {
    pub fn new(page: Pagination, total: i64) -> PageInfo {
        PageInfo { page: page.page, limit: page.limit, total, total_pages: (total + page.limit - 1) / page.limit }
    }
}

/// `page` (from 1, at most [`Pagination::MAX_PAGE`]) and `limit` (default 10, at most 100)
/// from the query string.
#[derive(Debug, Clone, Copy)]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
}

impl Pagination {
    pub const MAX_LIMIT: i64 = 100;
    /// The deepest page served: client numbers never size more than 10,000 pages of rows.
    pub const MAX_PAGE: i64 = 10_000;

    /// Rows to skip (bounded by `MAX_PAGE × MAX_LIMIT`, so it never overflows).
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }

    /// Reads `page` and `limit` from their text, recording problems in `v` (then the defaults
    /// are returned). A `limit` above 100 is served as 100.
    pub fn parse(v: &mut Validator, page: Option<&str>, limit: Option<&str>) -> Pagination {
        let page = page_number(v, "page", page, 1, Self::MAX_PAGE);
        let limit = page_number(v, "limit", limit, 10, i64::MAX).min(Self::MAX_LIMIT);
        Pagination { page, limit }
    }
}

fn page_number(v: &mut Validator, field: &str, value: Option<&str>, default: i64, max: i64) -> i64 {
    let Some(text) = value else { return default };
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => n,
        Ok(n) if n > max => {
            v.add(field, format!("Debe ser como máximo {max}"));
            default
        }
        _ => {
            v.add(field, "Debe ser un número entero mayor o igual a 1");
            default
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (mut page, mut limit) = (None, None);
        for (key, value) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "page" => page = Some(value),
                "limit" => limit = Some(value),
                _ => {}
            }
        }
        let mut v = Validator::new();
        let pagination = Pagination::parse(&mut v, page.as_deref(), limit.as_deref());
        v.finish()?;
        Ok(pagination)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        quantity: u32,
    }

    #[test]
    fn malformed_is_400_and_wrong_shape_names_the_field() {
        let err = parse_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!((err.status, err.code), (StatusCode::BAD_REQUEST, codes::MALFORMED_JSON));
        let err = parse_json::<Body>(br#"{"name": "x", "items": [{"quantity": -1}]}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.details[0].field, "items[0].quantity");
    }
}

/// `{message}` after a delete.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub message: String,
}

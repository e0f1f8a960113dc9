//! A body sent as JSON or as `multipart/form-data` (fields and files): how resources with
//! uploads (a product's images, a broadcast's attachments) are written.

use axum::body::Bytes;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};

use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult, codes};

/// A JSON body or a multipart form, by its `Content-Type`; anything else is refused (415).
pub enum FormBody {
    Json(Bytes),
    Multipart(Multipart),
}

impl FromRequest<AppState> for FormBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let multipart = Multipart::from_request(req, app).await.map_err(|r| ApiError::for_status(r.status()))?;
            Ok(FormBody::Multipart(multipart))
        } else if content_type.starts_with("application/json") {
            let bytes = Bytes::from_request(req, app).await.map_err(|r| ApiError::for_status(r.status()))?;
            Ok(FormBody::Json(bytes))
        } else {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Se esperaba multipart/form-data o application/json",
            ))
        }
    }
}

/// A malformed or oversized multipart body, as an answer.
pub fn malformed(e: MultipartError) -> ApiError {
    ApiError::for_status(e.status())
}

/// The bytes of a file field, refused (413) beyond `max_bytes`.
pub async fn file_bytes(field: Field<'_>, max_bytes: usize) -> ApiResult<Bytes> {
    let bytes = field.bytes().await.map_err(malformed)?;
    if bytes.len() > max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            format!("El archivo supera el máximo de {max_bytes} bytes"),
        ));
    }
    Ok(bytes)
}

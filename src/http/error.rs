//! The one error envelope: `{"error": "...", "code": "...", "details": [{"field", "message"}]}`.
//!
//! Every error code feria answers with is a constant in [`codes`]; messages are Spanish, for
//! the shop's users; codes are stable snake_case, for programs.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Machine-readable error codes, one per kind of failure.
pub mod codes {
    pub const BAD_REQUEST: &str = "bad_request";
    pub const MALFORMED_JSON: &str = "malformed_json";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const INVALID_TOKEN: &str = "invalid_token";
    pub const TOKEN_EXPIRED: &str = "token_expired";
    pub const TOKEN_REVOKED: &str = "token_revoked";
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    pub const INVALID_REFRESH_TOKEN: &str = "invalid_refresh_token";
    pub const REFRESH_TOKEN_REUSED: &str = "refresh_token_reused";
    pub const INVALID_RESET_TOKEN: &str = "invalid_reset_token";
    pub const FORBIDDEN: &str = "forbidden";
    pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
    pub const NOT_FOUND: &str = "not_found";
    pub const ROUTE_NOT_FOUND: &str = "route_not_found";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    pub const CONFLICT: &str = "conflict";
    pub const EMAIL_TAKEN: &str = "email_taken";
    pub const CANNOT_DELETE_SELF: &str = "cannot_delete_self";
    pub const NAME_TAKEN: &str = "name_taken";
    pub const SLUG_TAKEN: &str = "slug_taken";
    pub const SKU_TAKEN: &str = "sku_taken";
    pub const CODE_TAKEN: &str = "code_taken";
    pub const DEFAULT_REQUIRED: &str = "default_required";
    pub const INSUFFICIENT_STOCK: &str = "insufficient_stock";
    pub const INVALID_TRANSITION: &str = "invalid_transition";
    pub const ORDER_NOT_EDITABLE: &str = "order_not_editable";
    pub const PRODUCT_UNAVAILABLE: &str = "product_unavailable";
    pub const COUPON_NOT_FOUND: &str = "coupon_not_found";
    pub const COUPON_INACTIVE: &str = "coupon_inactive";
    pub const COUPON_EXPIRED: &str = "coupon_expired";
    pub const COUPON_USED_UP: &str = "coupon_used_up";
    pub const COUPON_BELOW_MINIMUM: &str = "coupon_below_minimum";
    pub const IN_USE: &str = "in_use";
    pub const NOT_RETRYABLE: &str = "not_retryable";
    pub const ALREADY_SENT: &str = "already_sent";
    pub const STORE_NOT_FOUND: &str = "store_not_found";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const VALIDATION_FAILED: &str = "validation_failed";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const INTERNAL: &str = "internal_error";
    pub const NOT_READY: &str = "not_ready";
    pub const UPSTREAM_ERROR: &str = "upstream_error";
    pub const PROVIDER_NOT_CONFIGURED: &str = "provider_not_configured";
    pub const INVALID_SIGNATURE: &str = "invalid_signature";
    pub const ORDER_NOT_PAYABLE: &str = "order_not_payable";
    pub const ORDER_ALREADY_PAID: &str = "order_already_paid";
    pub const NOTHING_TO_REFUND: &str = "nothing_to_refund";
    pub const IDEMPOTENCY_KEY_IN_USE: &str = "idempotency_key_in_use";
    pub const IDEMPOTENCY_KEY_MISMATCH: &str = "idempotency_key_mismatch";
    pub const NOT_A_PAYMENT_WEBHOOK: &str = "not_a_payment_webhook";
    pub const MANUAL_CONFIRMATION_NOT_ALLOWED: &str = "manual_confirmation_not_allowed";
    pub const AMOUNT_TOO_LARGE: &str = "amount_too_large";
    pub const TOO_MANY: &str = "too_many";
    pub const ALREADY_MEMBER: &str = "already_member";
    pub const LAST_OWNER: &str = "last_owner";
}

/// One problem with one input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the client sent it (`email`, `items[0].quantity`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// The error envelope as sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A message for people.
    #[schema(example = "Los datos enviados no son válidos")]
    pub error: String,
    /// A stable code for programs.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Per-field problems; empty when the error is not about fields.
    pub details: Vec<FieldError>,
}

/// An error answer: status, code, message, field details and any extra headers.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldError>,
    /// Extra response headers (e.g. `Retry-After`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: Vec::new(), headers: Vec::new() }
    }

    /// 422 with the given field problems.
    pub fn validation(details: Vec<FieldError>) -> ApiError {
        ApiError {
            details,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, codes::VALIDATION_FAILED, "Los datos enviados no son válidos")
        }
    }

    /// 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::validation(vec![FieldError::new(field, message)])
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, "No tenés permiso para realizar esta acción")
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// 500 that logs the cause and tells the client nothing about it.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL, "Error interno del servidor")
    }

    /// 502: a service feria depends on (object storage, a payment provider…) failed; the cause
    /// is logged, the client is told which service in `message`.
    pub fn upstream(message: impl Into<String>, cause: impl std::fmt::Display) -> ApiError {
        tracing::warn!(error = %cause, "upstream service failed");
        ApiError::new(StatusCode::BAD_GATEWAY, codes::UPSTREAM_ERROR, message)
    }

    /// The envelope for a status that no handler described (404 route, 405, 408, 413, …).
    pub fn for_status(status: StatusCode) -> ApiError {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => (codes::ROUTE_NOT_FOUND, "La ruta solicitada no existe"),
            StatusCode::METHOD_NOT_ALLOWED => (codes::METHOD_NOT_ALLOWED, "Método no permitido para esta ruta"),
            StatusCode::REQUEST_TIMEOUT => (codes::REQUEST_TIMEOUT, "La petición tardó demasiado"),
            StatusCode::PAYLOAD_TOO_LARGE => (codes::PAYLOAD_TOO_LARGE, "El cuerpo de la petición es demasiado grande"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (codes::UNSUPPORTED_MEDIA_TYPE, "Tipo de contenido no soportado"),
            StatusCode::UNAUTHORIZED => (codes::UNAUTHORIZED, "Autenticación requerida"),
            StatusCode::FORBIDDEN => (codes::FORBIDDEN, "No tenés permiso para realizar esta acción"),
            StatusCode::TOO_MANY_REQUESTS => (codes::RATE_LIMITED, "Demasiadas peticiones, intenta más tarde"),
            s if s.is_server_error() => (codes::INTERNAL, "Error interno del servidor"),
            _ => (codes::BAD_REQUEST, "Petición inválida"),
        };
        ApiError::new(status, code, message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        ApiError::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.message, code: self.code.to_string(), details: self.details };
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

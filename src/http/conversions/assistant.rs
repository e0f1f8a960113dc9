//! The assistant's errors as API errors.

use axum::http::StatusCode;

use crate::http::error::{ApiError, codes};
use crate::services::assistant::AssistantError;

impl From<AssistantError> for ApiError {
    fn from(err: AssistantError) -> ApiError {
        match err {
            AssistantError::SessionNotFound => ApiError::not_found("Sesión de chat no encontrada o vencida"),
            AssistantError::OwnerOnly => {
                ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, "El modo dueño es para el equipo de la tienda y sus claves de API")
            }
            AssistantError::Forbidden => ApiError::forbidden(),
            AssistantError::NoEmbedder => ApiError::conflict(
                codes::PROVIDER_NOT_CONFIGURED,
                "Ningún proveedor configurado genera embeddings (OPENAI_API_KEY u OPENAI_COMPATIBLE_API_URL)",
            ),
            AssistantError::Invalid(field, message) => ApiError::field(field, message),
            AssistantError::Api(e) => e,
            AssistantError::Database(e) => ApiError::internal(e),
        }
    }
}

//! Notification hub errors as API errors.

use crate::http::error::{ApiError, codes};
use axum::http::StatusCode;

use crate::services::notifications::NotifyError;
use crate::services::notifications::receipts::ReceiptError;

impl From<NotifyError> for ApiError {
    fn from(err: NotifyError) -> ApiError {
        match err {
            NotifyError::UnknownNotification => ApiError::not_found("Notificación no encontrada"),
            NotifyError::UnknownTemplate => ApiError::not_found("No hay plantilla para ese evento, público, canal e idioma"),
            NotifyError::BadTemplate(problem) => ApiError::field("source", format!("La plantilla no sirve: {problem}")),
            NotifyError::UnknownOrder => ApiError::field("orderId", "No existe ese pedido en esta tienda"),
            NotifyError::UnknownBroadcast => ApiError::not_found("Difusión no encontrada en esta tienda"),
            NotifyError::AlreadySent => ApiError::conflict(codes::ALREADY_SENT, "La difusión ya salió o fue cancelada"),
            NotifyError::UnknownDevice => ApiError::not_found("Dispositivo no encontrado"),
            NotifyError::UnknownMessage => ApiError::not_found("Mensaje no encontrado en esta tienda"),
            NotifyError::NotRetryable => {
                ApiError::conflict(codes::NOT_RETRYABLE, "Solo se reenvían mensajes fallidos, rebotados u omitidos")
            }
            NotifyError::UnknownWorkflowStep => ApiError::not_found("Ese evento no tiene ese paso, o la tienda no puede cambiarlo"),
            NotifyError::Invalid(field, message) => ApiError::field(field, message),
            NotifyError::Forbidden => ApiError::forbidden(),
            NotifyError::QuietHoursNeedTimezone => ApiError::field("timezone", "Las horas de silencio necesitan una zona horaria"),
            NotifyError::BadUnsubscribeToken => ApiError::field("token", "El enlace no es válido"),
            NotifyError::Template(e) => ApiError::internal(e),
            NotifyError::Storage(e) => e.into(),
            NotifyError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<ReceiptError> for ApiError {
    fn from(err: ReceiptError) -> ApiError {
        match err {
            ReceiptError::BadSignature => ApiError::unauthorized(codes::INVALID_SIGNATURE, "La firma del aviso no es válida"),
            ReceiptError::Malformed => {
                ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, "El aviso no tiene el formato del proveedor")
            }
            ReceiptError::Database(e) => ApiError::internal(e),
        }
    }
}

//! Notification hub errors as API errors.

use crate::http::error::ApiError;
use crate::services::notifications::NotifyError;

impl From<NotifyError> for ApiError {
    fn from(err: NotifyError) -> ApiError {
        match err {
            NotifyError::UnknownNotification => ApiError::not_found("Notificación no encontrada"),
            NotifyError::QuietHoursNeedTimezone => ApiError::field("timezone", "Las horas de silencio necesitan una zona horaria"),
            NotifyError::BadUnsubscribeToken => ApiError::field("token", "El enlace no es válido"),
            NotifyError::Template(e) => ApiError::internal(e),
            NotifyError::Database(e) => ApiError::internal(e),
        }
    }
}

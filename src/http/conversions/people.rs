//! Customer, user and session errors as API errors.

use crate::http::error::{ApiError, FieldError, codes};
use crate::services::customers::CustomerError;
use crate::services::identity::sessions::SessionError;
use crate::services::identity::users::UserError;

impl From<CustomerError> for ApiError {
    fn from(err: CustomerError) -> ApiError {
        match err {
            CustomerError::NotFound => ApiError::not_found("Cliente no encontrado"),
            CustomerError::NeighborhoodNotFound => ApiError::not_found("Barrio no encontrado"),
            CustomerError::UnknownNeighborhood => ApiError::field("neighborhoodId", "El barrio no existe en esta tienda"),
            CustomerError::UnknownUser => ApiError::field("userId", "El usuario no existe"),
            CustomerError::Taken => {
                ApiError::conflict(codes::CONFLICT, "Ese usuario ya es cliente de esta tienda, o ya hay un cliente invitado con ese email")
            }
            CustomerError::InUse => ApiError::conflict(codes::IN_USE, "El cliente tiene pedidos y no se puede eliminar; desactivalo"),
            CustomerError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(err: UserError) -> ApiError {
        match err {
            UserError::NotFound => ApiError::not_found("Usuario no encontrado"),
            UserError::Gone => ApiError::unauthorized(codes::INVALID_TOKEN, "El usuario del token ya no existe"),
            UserError::EmailTaken => {
                let mut conflict = ApiError::conflict(codes::EMAIL_TAKEN, "Ya existe una cuenta con ese email");
                conflict.details.push(FieldError::new("email", "Ya está registrado"));
                conflict
            }
            UserError::WrongPassword => ApiError::field("currentPassword", "La contraseña actual no es correcta"),
            UserError::CannotDeleteSelf => ApiError::conflict(codes::CANNOT_DELETE_SELF, "No podés eliminar tu propia cuenta"),
            UserError::Hashing(e) => ApiError::internal(e),
            UserError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(err: SessionError) -> ApiError {
        match err {
            SessionError::InvalidCredentials => ApiError::unauthorized(codes::INVALID_CREDENTIALS, "Email o contraseña incorrectos"),
            SessionError::InvalidRefreshToken => ApiError::unauthorized(codes::INVALID_REFRESH_TOKEN, "Refresh token inválido o expirado"),
            SessionError::RefreshTokenReused => {
                ApiError::unauthorized(codes::REFRESH_TOKEN_REUSED, "Refresh token ya utilizado: la sesión fue cerrada por seguridad")
            }
            SessionError::Database(e) => ApiError::internal(e),
        }
    }
}

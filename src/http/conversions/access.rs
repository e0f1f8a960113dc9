//! Member, API key and audit log errors as API errors.

use crate::http::error::{ApiError, codes};
use crate::services::audit::AuditError;
use crate::services::catalog::members::{MAX_MEMBERS, MemberError};
use crate::services::identity::api_keys::{KeyError, MAX_KEYS_PER_STORE};

impl From<MemberError> for ApiError {
    fn from(e: MemberError) -> ApiError {
        match e {
            MemberError::NotAllowed => ApiError::forbidden(),
            MemberError::NoSuchUser => ApiError::field("email", "No hay una cuenta de feria con ese email: pedile que se registre"),
            MemberError::AlreadyMember => ApiError::conflict(codes::ALREADY_MEMBER, "Ya es miembro de la tienda"),
            MemberError::UnknownMember => ApiError::not_found("No es miembro de esta tienda"),
            MemberError::LastOwner => ApiError::conflict(codes::LAST_OWNER, "La tienda necesita al menos un dueño"),
            MemberError::TooMany => ApiError::conflict(codes::TOO_MANY, format!("La tienda ya tiene {MAX_MEMBERS} miembros, el máximo")),
            MemberError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> ApiError {
        match e {
            KeyError::NotAllowed => ApiError::forbidden(),
            KeyError::ScopeNotGrantable(scope) => ApiError::field("scopes", format!("No podés dar el permiso {scope} a una clave")),
            KeyError::TooMany => ApiError::conflict(
                codes::TOO_MANY,
                format!("La tienda ya tiene {MAX_KEYS_PER_STORE} claves, el máximo; revocá y borrá alguna"),
            ),
            KeyError::UnknownKey => ApiError::not_found("La clave no existe en esta tienda"),
            KeyError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> ApiError {
        match e {
            AuditError::NotAllowed => ApiError::forbidden(),
            AuditError::Database(e) => ApiError::internal(e),
        }
    }
}

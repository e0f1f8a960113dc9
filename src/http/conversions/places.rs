//! City, neighborhood and address errors as API errors.

use crate::http::error::{ApiError, FieldError, codes};
use crate::services::addresses::AddressError;
use crate::services::geography::GeographyError;

/// 409 `name_taken`, naming the `name` field.
fn name_taken(message: &str) -> ApiError {
    let mut conflict = ApiError::conflict(codes::NAME_TAKEN, message);
    conflict.details.push(FieldError::new("name", "Ya está en uso"));
    conflict
}

impl From<GeographyError> for ApiError {
    fn from(err: GeographyError) -> ApiError {
        match err {
            GeographyError::CityNotFound => ApiError::not_found("Ciudad no encontrada"),
            GeographyError::NeighborhoodNotFound => ApiError::not_found("Barrio no encontrado"),
            GeographyError::UnknownCity => ApiError::field("cityId", "La ciudad no existe en esta tienda"),
            GeographyError::CityTaken => name_taken("Ya existe una ciudad con ese nombre"),
            GeographyError::NeighborhoodTaken => name_taken("Ya existe un barrio con ese nombre en esa ciudad"),
            GeographyError::CityInUse => ApiError::conflict(codes::IN_USE, "La ciudad tiene barrios asociados y no se puede eliminar"),
            GeographyError::NeighborhoodInUse => {
                ApiError::conflict(codes::IN_USE, "El barrio tiene clientes o direcciones asociados y no se puede eliminar")
            }
            GeographyError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<AddressError> for ApiError {
    fn from(err: AddressError) -> ApiError {
        match err {
            AddressError::NotFound => ApiError::not_found("Dirección no encontrada"),
            AddressError::UnknownNeighborhood => ApiError::field("selectedNeighborhoodId", "El barrio no existe en esta tienda"),
            AddressError::CityMismatch => ApiError::field("cityId", "El barrio no pertenece a esa ciudad"),
            AddressError::Database(e) => ApiError::internal(e),
        }
    }
}

//! Catalog, cart and import errors as API errors.

use axum::http::StatusCode;

use crate::http::error::{ApiError, FieldError, codes};
use crate::services::cart::CartError;
use crate::services::catalog::products::WriteError;
use crate::services::files::FileError;

/// The message of every "no such product" answer.
pub const PRODUCT_NOT_FOUND: &str = "Producto no encontrado";

impl From<CartError> for ApiError {
    fn from(err: CartError) -> ApiError {
        match err {
            CartError::UnknownProduct => ApiError::not_found("Producto no encontrado"),
            CartError::Unavailable { name } => ApiError::conflict(codes::PRODUCT_UNAVAILABLE, format!("{name} no está disponible")),
            CartError::InsufficientStock { name, stock } => {
                ApiError::conflict(codes::INSUFFICIENT_STOCK, format!("No hay stock suficiente de {name}: quedan {stock}"))
            }
            CartError::TooMany { max } => ApiError::field("quantity", format!("Como máximo {max} unidades de un producto")),
            CartError::NotInCart => ApiError::not_found("El producto no está en el carrito"),
            CartError::TooLarge => ApiError::conflict(codes::AMOUNT_TOO_LARGE, "El total del carrito supera el máximo permitido"),
            CartError::UnknownUser => ApiError::internal("cart of a missing user"),
            CartError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(err: WriteError) -> ApiError {
        match err {
            WriteError::UnknownCategory => ApiError::field("category", "La categoría no existe en esta tienda"),
            WriteError::UnknownUnit => ApiError::field("unit", "La unidad no existe en esta tienda"),
            WriteError::SkuTaken => {
                let mut conflict = ApiError::conflict(codes::SKU_TAKEN, "Ya existe un producto con ese SKU");
                conflict.details.push(FieldError::new("sku", "Ya está en uso en esta tienda"));
                conflict
            }
            WriteError::UnknownProduct => ApiError::not_found(PRODUCT_NOT_FOUND),
            WriteError::NotAllowed => {
                ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, "Tu rol en la tienda no puede fijar ni cambiar precios")
            }
            WriteError::ImageStorage(e) => e.into(),
            WriteError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<FileError> for ApiError {
    fn from(e: FileError) -> ApiError {
        match e {
            FileError::Local(e) => ApiError::internal(format!("storing a file: {e}")),
            FileError::Bucket(e) => ApiError::upstream("El almacenamiento de archivos no respondió; no se guardó nada", e),
        }
    }
}

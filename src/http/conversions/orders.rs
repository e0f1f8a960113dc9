//! Order errors as API errors.

use crate::http::error::{ApiError, FieldError, codes};
use crate::services::coupons::Refusal;
use crate::services::order_workflow::StatusChangeError;
use crate::services::orders::OrderError;

/// The message of every "no such order" answer (not yours, not in this store, or none).
const ORDER_NOT_FOUND: &str = "Pedido no encontrado";

impl From<OrderError> for ApiError {
    fn from(err: OrderError) -> ApiError {
        match err {
            OrderError::UnknownProduct(i) => ApiError::field(&format!("items[{i}].productId"), "El producto no existe en esta tienda"),
            OrderError::Unavailable(name) => ApiError::conflict(codes::PRODUCT_UNAVAILABLE, format!("{name} no está disponible")),
            OrderError::InsufficientStock { name, stock } => {
                ApiError::conflict(codes::INSUFFICIENT_STOCK, format!("No hay stock suficiente de {name}: quedan {stock}"))
            }
            OrderError::UnknownCoupon => ApiError::field("couponCode", "El cupón no existe"),
            OrderError::CouponRefused(refusal) => {
                let code = match refusal {
                    Refusal::Inactive => codes::COUPON_INACTIVE,
                    Refusal::Expired => codes::COUPON_EXPIRED,
                    Refusal::UsedUp => codes::COUPON_USED_UP,
                    Refusal::BelowMinimum => codes::COUPON_BELOW_MINIMUM,
                };
                let message = refusal.reason();
                let mut conflict = ApiError::conflict(code, message);
                conflict.details.push(FieldError::new("couponCode", message));
                conflict
            }
            OrderError::UnknownPaymentMethod => ApiError::field("paymentMethodCode", "El método de pago no existe o no está activo"),
            OrderError::NoDefaultStatus => ApiError::internal("the store has no default order status"),
            OrderError::UnknownOrder => ApiError::not_found(ORDER_NOT_FOUND),
            OrderError::NotEditable(status) => ApiError::conflict(
                codes::ORDER_NOT_EDITABLE,
                format!("Un pedido en {status} ya no se puede modificar; solo PENDING (o CONFIRMED para la tienda)"),
            ),
            OrderError::TooLarge => ApiError::field("items", "El total del pedido supera el máximo permitido"),
            OrderError::UnknownAddress => ApiError::field("selectedAddressId", "No es una de tus direcciones"),
            OrderError::NoAddress => ApiError::field("shippingAddress", "Es obligatoria: no tenés una dirección guardada"),
            OrderError::UnknownShippingOption(code) => {
                ApiError::field("shippingOption", format!("No hay una opción de envío {code} para ese destino"))
            }
            OrderError::UnknownNeighborhood => ApiError::field("shippingAddress.neighborhoodId", "El barrio no existe en esta tienda"),
            OrderError::GuestDetailsMissing => ApiError::field("customerData", "Es obligatorio"),
            OrderError::SignInForSavedAddress => {
                ApiError::unauthorized(codes::UNAUTHORIZED, "Iniciá sesión para usar una dirección guardada")
            }
            OrderError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<StatusChangeError> for ApiError {
    fn from(err: StatusChangeError) -> ApiError {
        match err {
            StatusChangeError::UnknownOrder => ApiError::not_found(ORDER_NOT_FOUND),
            StatusChangeError::UnknownStatus => ApiError::field("status", "El estado no existe en esta tienda"),
            StatusChangeError::NotAllowed { from, to } => {
                ApiError::conflict(codes::INVALID_TRANSITION, format!("Un pedido en {from} no puede pasar a {to}"))
            }
            StatusChangeError::InsufficientStock { name, stock } => ApiError::conflict(
                codes::INSUFFICIENT_STOCK,
                format!("No hay stock suficiente de {name} para reabrir el pedido: quedan {stock}"),
            ),
            StatusChangeError::BuyerCancelsOnlyPending => {
                ApiError::conflict(codes::INVALID_TRANSITION, "Solo podés cancelar un pedido pendiente; contactá a la tienda")
            }
            StatusChangeError::Database(e) => ApiError::internal(e),
        }
    }
}

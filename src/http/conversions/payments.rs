//! Payment and refund errors as API errors.

use crate::http::error::{ApiError, codes};
use crate::services::payments::PaymentError;
use crate::services::payments::refunds::RefundError;
use crate::services::payments::webhook_intake::WebhookError;

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> ApiError {
        match e {
            // The shop's set-up, not a failure of feria: a 409 the client can show.
            PaymentError::NotConfigured(provider) => {
                ApiError::conflict(codes::PROVIDER_NOT_CONFIGURED, format!("Los pagos con {provider} no están configurados en esta tienda"))
            }
            PaymentError::Provider(cause) => {
                ApiError::upstream("El proveedor de pagos no respondió correctamente; intentá de nuevo", cause)
            }
            PaymentError::UnknownPayment => ApiError::not_found("El pago no existe"),
            PaymentError::Foreign => ApiError::field("providerId", "No es un pago de los pedidos de esta tienda"),
            PaymentError::OtherOrder => ApiError::field("providerId", "Es un pago de otro pedido"),
            PaymentError::UnknownOrder => ApiError::not_found("El pedido no existe"),
            PaymentError::NotPayable(status) => ApiError::conflict(codes::ORDER_NOT_PAYABLE, format!("El pedido está {status}")),
            PaymentError::AlreadyPaid => ApiError::conflict(codes::ORDER_ALREADY_PAID, "El pedido ya está pagado"),
            PaymentError::ManualNotAllowed => {
                ApiError::conflict(codes::MANUAL_CONFIRMATION_NOT_ALLOWED, "El método de pago del pedido no se confirma a mano")
            }
            PaymentError::WrongProvider(provider) => ApiError::field("paymentId", format!("No es un pago con {provider}")),
            PaymentError::UnknownPreference => ApiError::not_found("La preferencia no existe"),
            PaymentError::UnknownWebhook => ApiError::not_found("El webhook no existe"),
            PaymentError::NotAPaymentWebhook => {
                ApiError::conflict(codes::NOT_A_PAYMENT_WEBHOOK, "El webhook no es de Mercado Pago sobre un pago")
            }
            PaymentError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<RefundError> for ApiError {
    fn from(e: RefundError) -> ApiError {
        match e {
            RefundError::NothingLeft => ApiError::conflict(codes::NOTHING_TO_REFUND, "El pago no tiene nada cobrado sin devolver"),
            RefundError::TooMuch { left } => ApiError::field("amount", format!("Debe ser mayor que 0 y como máximo {left}")),
            RefundError::Payment(e) => e.into(),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> ApiError {
        match e {
            WebhookError::NotFromProvider(provider) => {
                ApiError::new(axum::http::StatusCode::BAD_REQUEST, codes::BAD_REQUEST, format!("No es una notificación de {provider}"))
            }
            WebhookError::BadSignature => ApiError::unauthorized(codes::INVALID_SIGNATURE, "La firma de la notificación no es válida"),
            WebhookError::Payment(e) => e.into(),
        }
    }
}

//! Store settings errors (order statuses, payment methods, shipping rates, coupons, stores, categories, tags, units) as API errors.

use crate::http::error::{ApiError, FieldError, codes};
use crate::services::catalog::stores::StoreError;
use crate::services::catalog::taxonomy::TaxonomyError;
use crate::services::coupons::CouponError;
use crate::services::order_statuses::StatusError;
use crate::services::payment_methods::MethodError;
use crate::services::shipping_rates::RateError;

/// 409 with `code`, naming the field already used in the store.
fn taken(code: &'static str, message: impl Into<String>, field: &str, detail: &str) -> ApiError {
    let mut conflict = ApiError::conflict(code, message);
    conflict.details.push(FieldError::new(field, detail));
    conflict
}

impl From<StatusError> for ApiError {
    fn from(err: StatusError) -> ApiError {
        match err {
            StatusError::NotFound => ApiError::not_found("Estado de pedido no encontrado"),
            StatusError::UnknownTarget(target) => {
                ApiError::field("canTransitionTo", format!("No existe el estado {target} en esta tienda"))
            }
            StatusError::SelfTransition => ApiError::field("canTransitionTo", "Un estado no puede transicionar a sí mismo"),
            StatusError::DefaultRequired => ApiError::conflict(
                codes::DEFAULT_REQUIRED,
                "El estado predeterminado debe seguir activo y predeterminado hasta que otro lo sea, y no se puede eliminar",
            ),
            StatusError::CodeTaken => {
                taken(codes::CODE_TAKEN, "Ya existe un estado con ese código", "code", "Ya está en uso en esta tienda")
            }
            StatusError::InUse => {
                ApiError::conflict(codes::IN_USE, "El estado tiene pedidos o métodos de pago asociados y no se puede eliminar")
            }
            StatusError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<MethodError> for ApiError {
    fn from(err: MethodError) -> ApiError {
        match err {
            MethodError::NotFound => ApiError::not_found("Método de pago no encontrado"),
            MethodError::UnknownStatus => ApiError::field("defaultOrderStatusId", "El estado de pedido no existe en esta tienda"),
            MethodError::CodeTaken => {
                taken(codes::CODE_TAKEN, "Ya existe un método de pago con ese código", "code", "Ya está en uso en esta tienda")
            }
            MethodError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<RateError> for ApiError {
    fn from(err: RateError) -> ApiError {
        match err {
            RateError::NotFound => ApiError::not_found("Tarifa de envío no encontrada"),
            RateError::CodeTaken => {
                taken(codes::CODE_TAKEN, "Ya existe una tarifa de envío con ese código", "code", "Ya está en uso en esta tienda")
            }
            RateError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<CouponError> for ApiError {
    fn from(err: CouponError) -> ApiError {
        match err {
            CouponError::NotFound => ApiError::not_found("Cupón no encontrado"),
            CouponError::CodeTaken => {
                taken(codes::CODE_TAKEN, "Ya existe un cupón con ese código", "code", "Ya está en uso en esta tienda")
            }
            CouponError::InUse => ApiError::conflict(codes::IN_USE, "El cupón fue usado en pedidos; desactivalo en lugar de eliminarlo"),
            CouponError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::SlugTaken => taken(codes::SLUG_TAKEN, "Ya existe una tienda con ese slug", "slug", "Ya está en uso"),
            StoreError::TooMany => ApiError::conflict(
                codes::TOO_MANY,
                format!("Ya sos dueño de {} tiendas, el máximo por persona", crate::services::catalog::stores::MAX_OWNED_STORES),
            ),
            StoreError::NotAllowed => ApiError::forbidden(),
            StoreError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<TaxonomyError> for ApiError {
    fn from(err: TaxonomyError) -> ApiError {
        match err {
            TaxonomyError::NotFound(kind) => ApiError::not_found(format!("{} no encontrada", kind.noun())),
            TaxonomyError::NameTaken(kind) => taken(
                codes::NAME_TAKEN,
                format!("Ya existe una {} con ese nombre", kind.noun().to_lowercase()),
                "name",
                "Ya está en uso en esta tienda",
            ),
            TaxonomyError::InUse(kind) => {
                ApiError::conflict(codes::IN_USE, format!("{} tiene productos asociados y no se puede eliminar", kind.noun()))
            }
            TaxonomyError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<crate::services::llm_proxy::ProxyError> for ApiError {
    fn from(e: crate::services::llm_proxy::ProxyError) -> ApiError {
        use crate::services::llm_proxy::ProxyError;
        match e {
            ProxyError::NotConfigured => {
                ApiError::conflict(codes::PROVIDER_NOT_CONFIGURED, "La tienda no configuró Anthropic (ANTHROPIC_API_KEY)")
            }
            ProxyError::Invalid(field, message) => ApiError::field(field, message),
            ProxyError::Provider(e) => ApiError::upstream("Anthropic no respondió", e),
            ProxyError::Database(e) => ApiError::from(e),
        }
    }
}

//! Path parameters by name, so one handler serves `/api/x/{id}` and `/api/stores/{slug}/x/{id}`.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use axum::http::StatusCode;

use super::error::{ApiError, codes};

/// The path's parameters; a path that is not UTF-8 once percent-decoded is a 400.
pub async fn raw_params(parts: &mut Parts) -> Result<RawPathParams, ApiError> {
    RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, "La ruta tiene caracteres inválidos (no es UTF-8)"))
}

async fn named(parts: &mut Parts, name: &str) -> Result<String, ApiError> {
    let params = raw_params(parts).await?;
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
        .ok_or_else(|| ApiError::internal(format!("route has no {{{name}}} parameter")))
}

/// Declares an extractor for the path parameter called `$name` (percent-decoded).
macro_rules! path_param {
    ($(#[$doc:meta])* $extractor:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $extractor(pub String);

        impl<S: Send + Sync> FromRequestParts<S> for $extractor {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
                named(parts, $name).await.map($extractor)
            }
        }
    };
}

path_param!(
    /// The `{id}` path parameter.
    IdParam, "id"
);
path_param!(
    /// The `{name}` path parameter.
    NameParam, "name"
);
path_param!(
    /// The `{code}` path parameter.
    CodeParam, "code"
);
path_param!(
    /// The `{email}` path parameter.
    EmailParam, "email"
);
path_param!(
    /// The `{kind}` path parameter.
    KindParam, "kind"
);
path_param!(
    /// The `{audience}` path parameter.
    AudienceParam, "audience"
);
path_param!(
    /// The `{channel}` path parameter.
    ChannelParam, "channel"
);
path_param!(
    /// The `{locale}` path parameter.
    LocaleParam, "locale"
);
path_param!(
    /// The `{step}` path parameter.
    StepParam, "step"
);

//! The parts of the OpenAPI document no single route declares: the bearer scheme, the
//! `{slug}` of per-store paths, and the error answers shared by whole classes of operations.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder};

/// Declares the `bearer` scheme (a JWT access token).
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Completes the collected document: the `{slug}` parameter of per-store paths and the
/// shared error answers of every operation.
pub fn complete(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let per_store = path.starts_with("/api/stores/{slug}/");
        if per_store {
            let slug = ParameterBuilder::new()
                .name("slug")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("The store's slug"))
                .schema(Some(Object::with_type(Type::String)))
                .build();
            item.parameters.get_or_insert_with(Vec::new).push(slug);
        }
        let has_path_params = path.contains('{');
        for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
            add_shared_errors(operation, has_path_params);
        }
    }
}

/// The error answers an operation can give besides its own: by the framework (a path that is
/// not UTF-8, a timeout, the rate limit), by its body, its parameters and its security.
fn add_shared_errors(operation: &mut Operation, has_path_params: bool) {
    let mut shared = vec![
        ("400", "Malformed request (path not UTF-8, body not JSON)"),
        ("408", "The request took too long; nothing changed"),
        ("429", "Too many requests"),
    ];
    if operation.request_body.is_some() {
        shared.extend([("413", "The body is too large"), ("415", "Unsupported content type"), ("422", "Invalid fields")]);
    }
    if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        shared.push(("422", "Invalid parameters"));
    }
    if has_path_params {
        shared.push(("404", "Not found (unknown store or id)"));
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        shared.extend([
            ("401", "Not logged in, or the token is invalid, expired or revoked"),
            ("403", "The caller's role does not allow it"),
        ]);
    }
    for (status, description) in shared {
        operation.responses.responses.entry(status.to_string()).or_insert_with(|| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
        });
    }
}

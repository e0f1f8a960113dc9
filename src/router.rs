//! Every route in one place, the OpenAPI document collected from them, and the middleware stack.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{from_fn, from_fn_with_state};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::config::Environment;
use crate::http::middleware::{MakeUuidV7, REQUEST_ID, error_envelope, global_rate_limit, observe};
use crate::http::openapi::BearerAuth;
use crate::routes::auth::{admin, password, profile, register, session};
use crate::routes::taxonomy::{categories, tags, units};
use crate::routes::{
    addresses, api_keys, audit, broadcasts, cart, chatbot, coupons, customers, docs, geography, health, import, jobs, mcp, members,
    metrics, notification_deliveries, notification_devices, notification_preferences, notification_receipts, notification_templates,
    notification_workflows, notifications, order_statuses, payment_methods, payments, products, sales, shipping_rates, store_policies,
    stores, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "feria", description = "Self-hosted commerce API for Latin-American merchants.", license(name = "MIT")),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Registration, login, sessions, password reset and profile"),
        (name = "users", description = "User administration (ADMIN_ROLE)"),
        (name = "stores", description = "Stores: the tenant boundary of the catalog"),
        (name = "members", description = "A store's members and their roles (owner, manager, staff)"),
        (name = "api-keys", description = "A store's API keys for integrations, with scopes"),
        (name = "audit", description = "Who wrote what, when: every write by a store's members, its keys and the platform admin"),
        (name = "products", description = "Products, per store"),
        (name = "import", description = "Bulk import and export of products (CSV, XLSX)"),
        (name = "categories", description = "Product categories, per store"),
        (name = "tags", description = "Product tags, per store"),
        (name = "units", description = "Units of measure, per store"),
        (name = "jobs", description = "Background jobs: inspect and retry (ADMIN_ROLE)"),
        (name = "chatbot", description = "The shopping assistant (seed 001): grounded answers, sessions, model, budget and usage"),
        (name = "mcp", description = "The MCP tools over REST (seed 001); the MCP server itself is at /mcp"),
        (name = "notifications", description = "The signed-in user's in-app inbox"),
        (name = "monitoring", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

/// Catalog routes relative to a store: mounted at `/api` (the default store) and at
/// `/api/stores/{slug}` (any store).
fn store_scoped(upload_limit: usize, import_limit: usize) -> OpenApiRouter<AppState> {
    let import_routes = OpenApiRouter::new().routes(routes!(import::bulk_import)).layer(DefaultBodyLimit::max(import_limit));
    let products_routes = OpenApiRouter::new()
        .routes(routes!(products::list, products::create))
        .routes(routes!(products::by_category))
        .routes(routes!(products::search))
        .routes(routes!(products::get, products::update, products::delete))
        .layer(DefaultBodyLimit::max(upload_limit));
    OpenApiRouter::new()
        .merge(products_routes)
        .merge(import_routes)
        .routes(routes!(import::import_status))
        .routes(routes!(import::template))
        .routes(routes!(import::export))
        .routes(routes!(categories::list, categories::create))
        .routes(routes!(categories::get, categories::update, categories::delete))
        .routes(routes!(tags::list, tags::create))
        .routes(routes!(tags::get, tags::update, tags::delete))
        .routes(routes!(units::list, units::create))
        .routes(routes!(units::get, units::update, units::delete))
        .routes(routes!(geography::list_cities, geography::create_city))
        .routes(routes!(geography::get_city, geography::update_city, geography::delete_city))
        .routes(routes!(geography::city_by_name))
        .routes(routes!(geography::list_neighborhoods, geography::create_neighborhood))
        .routes(routes!(geography::get_neighborhood, geography::update_neighborhood, geography::delete_neighborhood))
        .routes(routes!(geography::neighborhoods_by_city))
        .routes(routes!(order_statuses::list, order_statuses::create))
        .routes(routes!(order_statuses::active))
        .routes(routes!(order_statuses::default_status))
        .routes(routes!(order_statuses::by_code))
        .routes(routes!(order_statuses::validate_transition))
        .routes(routes!(order_statuses::get, order_statuses::update, order_statuses::delete))
        .routes(routes!(order_statuses::set_transitions))
        .routes(routes!(payment_methods::list, payment_methods::create))
        .routes(routes!(payment_methods::active))
        .routes(routes!(payment_methods::by_code))
        .routes(routes!(payment_methods::get, payment_methods::update, payment_methods::delete))
        .routes(routes!(shipping_rates::list, shipping_rates::create))
        .routes(routes!(shipping_rates::quote))
        .routes(routes!(shipping_rates::get, shipping_rates::update, shipping_rates::delete))
        .routes(routes!(store_policies::list))
        .routes(routes!(store_policies::set, store_policies::remove))
        .routes(routes!(chatbot::query))
        .routes(routes!(chatbot::query_stream))
        .routes(routes!(chatbot::sessions::create))
        .routes(routes!(chatbot::sessions::get))
        .routes(routes!(chatbot::sessions::list))
        .routes(routes!(chatbot::settings::current_llm))
        .routes(routes!(chatbot::settings::change_llm))
        .routes(routes!(chatbot::settings::set_budget))
        .routes(routes!(chatbot::settings::usage_report))
        .routes(routes!(chatbot::embeddings::generate))
        .routes(routes!(chatbot::embeddings::validate))
        .routes(routes!(coupons::list, coupons::create))
        .routes(routes!(coupons::get, coupons::update, coupons::delete))
        .routes(routes!(coupons::validate))
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::update, customers::delete))
        .routes(routes!(customers::by_neighborhood))
        .routes(routes!(customers::by_email))
        .routes(routes!(addresses::list, addresses::create))
        .routes(routes!(addresses::get, addresses::update, addresses::delete))
        .routes(routes!(addresses::set_default))
        .routes(routes!(cart::get, cart::clear))
        .routes(routes!(cart::add))
        .routes(routes!(cart::set, cart::remove))
        .routes(routes!(sales::list, sales::create))
        .routes(routes!(sales::my_orders))
        .routes(routes!(sales::by_customer))
        .routes(routes!(sales::by_date_range))
        .routes(routes!(sales::get, sales::update))
        .routes(routes!(sales::set_status))
        .routes(routes!(sales::cancel))
        .routes(routes!(sales::tracking))
        .routes(routes!(payments::list))
        .routes(routes!(payments::start))
        .routes(routes!(payments::mercadopago_webhook))
        .routes(routes!(payments::success))
        .routes(routes!(payments::failure))
        .routes(routes!(payments::pending))
        .routes(routes!(payments::verify))
        .routes(routes!(payments::preference))
        .routes(routes!(payments::by_sale))
        .routes(routes!(payments::get))
        .routes(routes!(payments::refund))
        .routes(routes!(payments::confirm_manual))
        .routes(routes!(payments::intent))
        .routes(routes!(payments::confirm))
        .routes(routes!(payments::stripe_webhook))
        .routes(routes!(webhooks::list))
        .routes(routes!(webhooks::stats))
        .routes(routes!(webhooks::get))
        .routes(routes!(webhooks::mercadopago_details))
        .routes(routes!(payments::mercadopago_payments))
        .routes(routes!(payments::mercadopago_charges))
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::change_role, members::remove))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(audit::list))
        .merge(OpenApiRouter::new().routes(routes!(broadcasts::list, broadcasts::send)).layer(DefaultBodyLimit::max(upload_limit)))
        .routes(routes!(broadcasts::get))
        .routes(routes!(broadcasts::cancel))
        .routes(routes!(broadcasts::retry_failed))
        .routes(routes!(notification_templates::list))
        .routes(routes!(notification_templates::get, notification_templates::save, notification_templates::reset))
        .routes(routes!(notification_templates::preview))
        .routes(routes!(notification_templates::test))
        .routes(routes!(notification_workflows::list))
        .routes(routes!(notification_workflows::get, notification_workflows::save, notification_workflows::reset))
        .routes(routes!(notification_deliveries::list))
        .routes(routes!(notification_deliveries::get))
        .routes(routes!(notification_deliveries::retry))
        .routes(routes!(mcp::list))
        .routes(routes!(mcp::call))
        .routes(routes!(mcp::anthropic))
}

/// The largest product write (or broadcast, with fewer files): every image at the size limit,
/// plus the form fields.
pub fn upload_limit(config: &crate::config::Config) -> usize {
    config.max_file_size.saturating_mul(products::MAX_IMAGES).saturating_add(config.body_limit_bytes)
}

/// The largest bulk import upload, with room for the multipart framing.
fn import_limit(config: &crate::config::Config) -> usize {
    config.import_max_bytes.saturating_add(64 * 1024)
}

/// The API's routes alone, without middleware: what the audit log reads a resource through.
pub fn bare_routes(config: &crate::config::Config) -> Router<AppState> {
    api(upload_limit(config), import_limit(config)).0
}

/// The API routes and the OpenAPI document describing them.
pub fn api(upload_limit: usize, import_limit: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api", store_scoped(upload_limit, import_limit))
        .nest("/api/stores/{slug}", store_scoped(upload_limit, import_limit))
        .routes(routes!(stores::list_stores, stores::create_store))
        .routes(routes!(stores::get_store))
        .routes(routes!(register::register))
        .routes(routes!(session::login))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(password::forgot_password))
        .routes(routes!(password::reset_password))
        .routes(routes!(profile::me))
        .routes(routes!(profile::get_profile, profile::update_profile))
        .routes(routes!(notifications::list))
        .routes(routes!(notification_receipts::sendgrid))
        .routes(routes!(notification_receipts::twilio))
        .routes(routes!(notification_preferences::get, notification_preferences::update))
        .routes(routes!(notification_devices::list, notification_devices::register))
        .routes(routes!(notification_devices::remove))
        .routes(routes!(notification_devices::web_push_key))
        .routes(routes!(notifications::unread_count))
        .routes(routes!(notifications::read_all))
        .routes(routes!(notifications::read))
        .routes(routes!(notifications::archive))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::update_user, admin::delete_user))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::retry_job))
        .routes(routes!(audit::platform))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(metrics::metrics))
        .split_for_parts();
    crate::http::openapi::complete(&mut openapi);
    (router, openapi)
}

/// The whole HTTP application with its middleware, ready to serve.
pub fn build(app: AppState) -> Router {
    let (api, document) = api(upload_limit(&app.config), import_limit(&app.config));
    let document = document.to_json().expect("the OpenAPI document serialises");
    let config = &app.config;
    let request_id = HeaderName::from_static(REQUEST_ID);
    let hsts = (config.environment == Environment::Production).then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    api.merge(docs::routes(document))
        .merge(crate::mcp::http::routes(&app))
        .merge(crate::routes::ucp::routes())
        .merge(crate::routes::oauth::routes())
        .merge(crate::routes::unsubscribe::routes())
        .merge(crate::routes::live::routes())
        .nest_service(crate::services::files::PUBLIC_PREFIX, ServeDir::new(&config.uploads_dir))
        .layer(from_fn_with_state(app.clone(), crate::http::audit::audit))
        .layer(from_fn_with_state(app.clone(), crate::http::idempotency::idempotency))
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(from_fn(error_envelope))
        .layer(from_fn_with_state(app.clone(), global_rate_limit))
        .layer(from_fn_with_state(app.clone(), observe))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(tower::util::option_layer(hsts))
        .layer(cors(&config.cors_origins))
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeUuidV7))
        .with_state(app)
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = if origins.iter().any(|o| o == "*") {
        CorsLayer::new().allow_origin(Any)
    } else {
        CorsLayer::new().allow_origin(AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok())))
    };
    let exposed = ["x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"];
    layer
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(REQUEST_ID),
        ])
        .expose_headers(exposed.map(HeaderName::from_static))
        .max_age(Duration::from_secs(3600))
}

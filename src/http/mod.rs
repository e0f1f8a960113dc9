//! HTTP plumbing shared by every route: errors, extractors, middleware, limits and metrics.

pub mod audit;
pub mod auth;
pub mod conversions;
pub mod error;
pub mod form;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod page;
pub mod path;
pub mod rate_limit;
pub mod store;
pub mod validate;

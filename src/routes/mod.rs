//! One module per resource; each handler sits beside its request and response types.

pub mod addresses;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod cart;
pub mod coupons;
pub mod customers;
pub mod docs;
pub mod geography;
pub mod health;
pub mod import;
pub mod jobs;
pub mod mcp;
pub mod members;
pub mod metrics;
pub mod oauth;
pub mod order_statuses;
pub mod payment_methods;
pub mod payments;
pub mod products;
pub mod sales;
pub mod shipping_rates;
pub mod stores;
pub mod taxonomy;
pub mod ucp;
pub mod webhooks;

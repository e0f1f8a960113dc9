//! The one integration-test binary: feria over real HTTP, on SQLite, or on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod fake_mercadopago;
mod fake_platform;
mod fake_s3;
mod fake_smtp;
mod fake_stripe;
mod fake_telegram;
mod harness;

mod addresses;
mod agent_checkout;
mod agent_orders;
mod auth_flow;
mod auth_tokens;
mod cart;
mod catalog_taxonomy;
mod cli;
mod coupons;
mod customers;
mod demo;
mod errors;
mod geography;
mod hostile;
mod idempotency;
mod import;
mod jobs;
mod mcp;
mod monitoring;
mod oauth;
mod openapi;
mod order_notifications;
mod order_statuses;
mod password_reset;
mod payment_methods;
mod payments_manual;
mod payments_mercadopago;
mod payments_stripe;
mod platform;
mod products;
mod rate_limit;
mod sales;
mod sales_edit;
mod search;
mod services_direct;
mod store_access;
mod users_admin;

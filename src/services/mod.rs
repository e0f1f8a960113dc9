//! Use cases: each takes typed inputs and the caller, owns its transaction and returns its
//! result with the after-commit effects ([`effects::Done`]).

pub mod addresses;
pub mod agent_checkout;
pub mod assistant;
pub mod audit;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod conformance_shop;
pub mod coupons;
pub mod customers;
pub mod effects;
pub mod files;
pub mod geography;
pub mod health;
pub mod idempotency;
pub mod identity;
pub mod llm_proxy;
pub mod notifications;
pub mod oauth;
pub mod order_edits;
pub mod order_expiry;
pub mod order_notifications;
pub mod order_status_change;
pub mod order_statuses;
pub mod order_workflow;
pub mod order_writes;
pub mod orders;
pub mod payment_methods;
pub mod payments;
pub mod reports;
pub mod shipping_rates;
pub mod store_defaults;
pub mod store_policies;
pub mod sweeps;

/// The key names are unique by (categories, tags, units, cities, neighborhoods): trimmed and
/// lower-cased.
pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

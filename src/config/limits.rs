//! Budgets that keep one client from hoarding what others need: guest orders and provider
//! webhooks per address, and how long an unpaid online order holds its stock.

use std::time::Duration;

use super::Reader;

/// A number of requests per window.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max: u64,
    pub window: Duration,
}

/// The budgets of [`Config::limits`](super::Config).
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Orders a guest may place from one address (`ORDER_RATE_LIMIT_*`).
    pub guest_orders: Budget,
    /// Webhooks one address may send to one provider's endpoint (`WEBHOOK_RATE_LIMIT_*`).
    pub webhooks: Budget,
    /// An order to be paid online (Mercado Pago, cards) still unpaid after this long is
    /// cancelled and its stock given back (`UNPAID_ORDER_TTL`).
    pub unpaid_order_ttl: Duration,
}

pub(super) const SETTINGS: &[&str] = &[
    "ORDER_RATE_LIMIT_WINDOW_MS",
    "ORDER_RATE_LIMIT_MAX_REQUESTS",
    "WEBHOOK_RATE_LIMIT_WINDOW_MS",
    "WEBHOOK_RATE_LIMIT_MAX_REQUESTS",
    "UNPAID_ORDER_TTL",
];

fn budget(r: &mut Reader<'_>, prefix: &str, max: u64, window_ms: u64) -> Budget {
    let window = r.millis(&format!("{prefix}_WINDOW_MS"), window_ms);
    if window.is_zero() {
        r.problems.push(format!("{prefix}_WINDOW_MS: must be greater than 0"));
    }
    Budget { max: r.parse(&format!("{prefix}_MAX_REQUESTS"), max, "a whole number"), window }
}

pub(super) fn read(r: &mut Reader<'_>) -> LimitsConfig {
    let unpaid_order_ttl = r.duration("UNPAID_ORDER_TTL", Duration::from_secs(3600));
    if unpaid_order_ttl < Duration::from_secs(60) {
        r.problems.push("UNPAID_ORDER_TTL: must be at least 1m (buyers need time to pay)".into());
    }
    LimitsConfig {
        guest_orders: budget(r, "ORDER_RATE_LIMIT", 30, 900_000),
        webhooks: budget(r, "WEBHOOK_RATE_LIMIT", 600, 60_000),
        unpaid_order_ttl,
    }
}

pub(super) fn summary(l: &LimitsConfig) -> Vec<(&'static str, String)> {
    vec![
        ("ORDER_RATE_LIMIT_WINDOW_MS", l.guest_orders.window.as_millis().to_string()),
        ("ORDER_RATE_LIMIT_MAX_REQUESTS", l.guest_orders.max.to_string()),
        ("WEBHOOK_RATE_LIMIT_WINDOW_MS", l.webhooks.window.as_millis().to_string()),
        ("WEBHOOK_RATE_LIMIT_MAX_REQUESTS", l.webhooks.max.to_string()),
        ("UNPAID_ORDER_TTL", format!("{}s", l.unpaid_order_ttl.as_secs())),
    ]
}

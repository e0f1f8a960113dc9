//! What every node that runs jobs tidies up each minute: unpaid online orders give their stock
//! back (`order_expiry`) and the assistant's long-expired conversations are deleted. Nodes
//! racing for the same rows agree (each sweep decides inside its own statements).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::app::App;
use crate::services::{assistant, order_expiry};

/// How often a node sweeps.
const EVERY: Duration = Duration::from_secs(60);

/// Sweeps every minute until `shutdown` changes.
pub async fn run(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match order_expiry::expire_unpaid(&app, app.config.limits.unpaid_order_ttl).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "unpaid orders cancelled, stock given back"),
            Err(e) => tracing::warn!(error = %e, "could not sweep unpaid orders"),
        }
        match assistant::sessions::purge_expired(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "expired assistant conversations deleted"),
            Err(e) => tracing::warn!(error = %e, "could not sweep expired assistant sessions"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

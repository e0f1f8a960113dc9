//! Job handlers, one file per kind, and the runner set-up shared by `serve` and `worker`.

pub mod assistant_embeddings;
pub mod import_products;
pub mod notify_deliver;
pub mod notify_digest;
pub mod notify_fanout;
pub mod ucp_order_webhook;

use std::sync::Arc;

use feria_jobs::{JobHandler, Runner, RunnerConfig};

use crate::app::AppState;
use crate::services::notifications::system_alerts::DeadJobAlert;

/// Jobs a runner claims at a time. The fan-outs among them are read and written together, so a
/// larger batch costs less per event: 128 takes about a fifth less CPU per order's fan-out than
/// 32 did, and 256 no less than 128. Deliveries in it go [`notify_deliver::AT_ONCE`] at a time.
const BATCH: i64 = 128;

/// A runner with every handler feria has, named `worker_id`.
pub fn runner(app: &AppState, worker_id: String) -> anyhow::Result<Runner> {
    let handlers: Vec<Arc<dyn JobHandler>> = vec![
        Arc::new(notify_fanout::NotifyFanout { app: app.clone() }),
        Arc::new(notify_deliver::NotifyDeliver::new(app.clone())?),
        Arc::new(notify_digest::NotifyDigest { app: app.clone() }),
        Arc::new(import_products::ImportProducts { app: app.clone() }),
        Arc::new(assistant_embeddings::AssistantEmbeddings { app: app.clone() }),
        Arc::new(ucp_order_webhook::UcpOrderWebhook { app: app.clone() }),
    ];
    let jobs = &app.config.jobs;
    let config = RunnerConfig {
        worker_id,
        poll_interval: jobs.poll_interval,
        batch_size: BATCH,
        lease: std::time::Duration::from_secs(300),
        backoff_base: jobs.backoff_base,
        backoff_cap: jobs.backoff_cap,
    };
    let alert = Arc::new(DeadJobAlert { app: app.clone() });
    Ok(Runner::new(app.db.clone(), config, handlers, app.job_wake.clone(), app.job_stats.clone()).on_dead(alert))
}

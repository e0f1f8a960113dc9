//! `notify_fanout`: turns one notification event into its notifications and messages.

use feria_db::AnyConnection;
use feria_domain::time::{self, Timestamp};
use feria_jobs::{Completion, JobHandler};
use serde::{Deserialize, Serialize};

use crate::app::{App, AppState};
use crate::services::notifications::fanout;

pub const KIND: &str = "notify_fanout";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    event_id: String,
}

/// Queues the fan-out of event `event_id` on `conn` (the emitter's transaction), due at
/// `run_at` (a scheduled broadcast) or now.
pub async fn enqueue(conn: &mut AnyConnection, app: &App, event_id: &str, run_at: Option<Timestamp>) -> Result<String, sqlx::Error> {
    let payload = Payload { event_id: event_id.to_string() };
    feria_jobs::enqueue_at(conn, KIND, &payload, app.config.jobs.max_attempts, run_at.unwrap_or_else(time::now)).await
}

pub struct NotifyFanout {
    pub app: AppState,
}

#[async_trait::async_trait]
impl JobHandler for NotifyFanout {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let payload: Payload = serde_json::from_value(payload.clone()).map_err(|e| format!("bad payload: {e}"))?;
        let done = fanout::fan_out(&self.app, &payload.event_id).await.map_err(|e| e.to_string())?;
        if done.queued > 0 {
            self.app.job_wake.notify_one();
        }
        Ok(Completion::Done)
    }
}

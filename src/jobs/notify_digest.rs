//! `notify_digest`: closes a digest window at its end and emits the event that sums it up.

use feria_db::AnyConnection;
use feria_domain::time::Timestamp;
use feria_jobs::{Completion, JobHandler};
use serde::{Deserialize, Serialize};

use crate::app::{App, AppState};
use crate::services::notifications::digests;

pub const KIND: &str = "notify_digest";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    digest_id: String,
}

/// Queues the closing of digest `digest_id` at `run_at`, on `conn` (the fan-out that opened it).
pub async fn enqueue(conn: &mut AnyConnection, app: &App, digest_id: &str, run_at: Timestamp) -> Result<String, sqlx::Error> {
    let payload = Payload { digest_id: digest_id.to_string() };
    feria_jobs::enqueue_at(conn, KIND, &payload, app.config.jobs.max_attempts, run_at).await
}

pub struct NotifyDigest {
    pub app: AppState,
}

#[async_trait::async_trait]
impl JobHandler for NotifyDigest {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let payload: Payload = serde_json::from_value(payload.clone()).map_err(|e| format!("bad payload: {e}"))?;
        let (app, id) = (self.app.clone(), payload.digest_id);
        let writer = app.clone();
        app.db
            .write(Box::new(move |conn| Box::pin(async move { digests::close(conn, &writer, &id).await })))
            .await
            .map_err(|e| e.to_string())?;
        self.app.job_wake.notify_one();
        Ok(Completion::Done)
    }
}

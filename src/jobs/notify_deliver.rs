//! `notify_deliver`: sends one notification message through its channel's provider.

use feria_db::AnyConnection;
use feria_domain::time::{self, Timestamp};
use feria_jobs::{Completion, JobHandler};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::app::{App, AppState};
use crate::services::notifications::deliver::{self, Delivered};
use crate::services::notifications::providers::Providers;

pub const KIND: &str = "notify_deliver";

/// Messages of a batch sent at the same time.
pub const AT_ONCE: usize = 32;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    message_id: String,
}

/// The payload of the delivery of message `message_id` (for [`feria_jobs::enqueue_many`]).
pub fn payload(message_id: &str) -> serde_json::Value {
    serde_json::json!(Payload { message_id: message_id.to_string() })
}

/// Queues the delivery of message `message_id` on `conn` (the caller's transaction), due at
/// `run_at` (the end of the recipient's quiet hours) or now.
pub async fn enqueue(conn: &mut AnyConnection, app: &App, message_id: &str, run_at: Option<Timestamp>) -> Result<String, sqlx::Error> {
    let payload = Payload { message_id: message_id.to_string() };
    feria_jobs::enqueue_at(conn, KIND, &payload, app.config.jobs.max_attempts, run_at.unwrap_or_else(time::now)).await
}

pub struct NotifyDeliver {
    app: AppState,
    providers: Providers,
}

impl NotifyDeliver {
    pub fn new(app: AppState) -> anyhow::Result<NotifyDeliver> {
        let providers = Providers::from_app(&app)?;
        Ok(NotifyDeliver { app, providers })
    }
}

#[async_trait::async_trait]
impl JobHandler for NotifyDeliver {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let payload: Payload = serde_json::from_value(payload.clone()).map_err(|e| format!("bad payload: {e}"))?;
        match deliver::deliver(&self.app, &self.providers, &payload.message_id).await.map_err(|e| e.to_string())? {
            Delivered::Settled => Ok(Completion::Done),
            Delivered::Retry(reason) => Err(reason),
        }
    }

    /// The batch's messages are sent [`AT_ONCE`] at a time: each mostly waits on its provider.
    async fn run_many(&self, payloads: &[&serde_json::Value]) -> Vec<Result<Completion, String>> {
        let sends: Vec<_> = payloads.iter().map(|payload| self.run(payload)).collect();
        futures::stream::iter(sends).buffered(AT_ONCE).collect().await
    }
}

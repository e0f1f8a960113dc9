//! `assistant_embeddings`: a store's product embeddings brought up to date (only products whose
//! text changed, or all of them when forced). A provider error is retried with the runner's
//! backoff; what was embedded before it stays.

use feria_jobs::{Completion, JobHandler};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::services::assistant::embeddings;

pub const KIND: &str = "assistant_embeddings";

#[derive(Serialize, Deserialize)]
pub struct Payload {
    pub store_id: String,
    pub force: bool,
}

/// Runs `assistant_embeddings` jobs.
pub struct AssistantEmbeddings {
    pub app: AppState,
}

#[async_trait::async_trait]
impl JobHandler for AssistantEmbeddings {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let payload: Payload = serde_json::from_value(payload.clone()).map_err(|e| format!("bad payload: {e}"))?;
        let done = embeddings::refresh(&self.app, &payload.store_id, payload.force).await?;
        tracing::info!(
            store = payload.store_id,
            embedded = done.embedded,
            unchanged = done.unchanged,
            removed = done.removed,
            "product embeddings refreshed"
        );
        Ok(Completion::Done)
    }
}

//! `notify_fanout`: turns one notification event into its notifications and messages.

use feria_jobs::{Completion, JobHandler};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::services::notifications::fanout;

pub const KIND: &str = "notify_fanout";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    event_id: String,
}

/// The payload of the fan-out of event `event_id` (queued with the event, see
/// `notifications::events::record`).
pub fn payload(event_id: &str) -> serde_json::Value {
    serde_json::json!(Payload { event_id: event_id.to_string() })
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
        self.run_many(&[payload]).await.pop().unwrap_or(Ok(Completion::Done))
    }

    /// The events of the batch are fanned out together (one write).
    async fn run_many(&self, payloads: &[&serde_json::Value]) -> Vec<Result<Completion, String>> {
        let ids: Vec<Result<String, String>> = payloads
            .iter()
            .map(|p| serde_json::from_value::<Payload>((*p).clone()).map(|p| p.event_id).map_err(|e| format!("bad payload: {e}")))
            .collect();
        let valid: Vec<String> = ids.iter().filter_map(|id| id.as_ref().ok().cloned()).collect();
        let (done, failed) = match fanout::fan_out_many(&self.app, &valid).await {
            Ok(outcome) => outcome,
            Err(e) => return payloads.iter().map(|_| Err(e.to_string())).collect(),
        };
        if done.queued > 0 || done.raised > 0 {
            self.app.job_wake.notify_one();
        }
        ids.into_iter()
            .map(|id| {
                let id = id?;
                match failed.iter().find(|(failed, _)| *failed == id) {
                    Some((_, e)) => Err(e.to_string()),
                    None => Ok(Completion::Done),
                }
            })
            .collect()
    }
}

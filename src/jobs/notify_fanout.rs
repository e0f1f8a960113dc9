//! `notify_fanout`: turns one notification event into its notifications and messages.

use feria_jobs::{Completion, JobHandler};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::services::notifications::fanout::{self, Portion};

pub const KIND: &str = "notify_fanout";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    event_id: String,
    /// A large audience's chunk: the recipients after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

/// The payload of the fan-out of event `event_id` (queued with the event, see
/// `notifications::events::record`), or of its chunk after recipient `after`.
pub fn payload(event_id: &str, after: Option<&str>) -> serde_json::Value {
    serde_json::json!(Payload { event_id: event_id.to_string(), after: after.map(str::to_string) })
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
        let parsed: Vec<Result<Portion, String>> = payloads
            .iter()
            .map(|p| {
                let p = serde_json::from_value::<Payload>((*p).clone()).map_err(|e| format!("bad payload: {e}"))?;
                Ok(Portion { event_id: p.event_id, after: p.after })
            })
            .collect();
        let valid: Vec<Portion> = parsed.iter().filter_map(|p| p.as_ref().ok().cloned()).collect();
        let (done, failed) = match fanout::fan_out_many(&self.app, &valid).await {
            Ok(outcome) => outcome,
            Err(e) => return payloads.iter().map(|_| Err(e.to_string())).collect(),
        };
        if done.queued > 0 || done.raised > 0 || done.continued > 0 {
            self.app.job_wake.notify_one();
        }
        let mut valid_index = 0;
        parsed
            .into_iter()
            .map(|portion| {
                portion?;
                let index = valid_index;
                valid_index += 1;
                match failed.iter().find(|(failed, _)| *failed == index) {
                    Some((_, e)) => Err(e.to_string()),
                    None => Ok(Completion::Done),
                }
            })
            .collect()
    }
}

//! `ucp_order_webhook`: one order snapshot POSTed to an agent platform's order webhook, signed
//! as UCP says (RFC 9421, ES256, with `Content-Digest`). The event id, timestamp and body are
//! fixed when queued, so every retry carries the same bytes; the signature is made at each send.
//! Any answer but 2xx is retried with the runner's backoff.

use std::time::Duration;

use feria_db::AnyConnection;
use feria_domain::ids::new_id;
use feria_jobs::{Completion, JobHandler};
use feria_providers::documents;
use feria_providers::message_signatures::content_digest;
use serde::{Deserialize, Serialize};

use crate::app::{App, AppState};

pub const KIND: &str = "ucp_order_webhook";

/// How long a platform has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Serialize, Deserialize)]
struct Payload {
    url: String,
    /// `Webhook-Id`.
    event_id: String,
    /// `Webhook-Timestamp`, unix seconds.
    timestamp: i64,
    /// feria's profile URL for the store (`UCP-Agent`).
    profile: String,
    /// The order entity, serialised once.
    body: String,
}

/// Queues `order` (the entity's JSON) for `url` on `conn` (the caller's transaction), from the
/// store whose profile is at `profile`.
pub async fn enqueue(
    conn: &mut AnyConnection,
    app: &App,
    url: &str,
    profile: &str,
    order: &serde_json::Value,
) -> Result<String, sqlx::Error> {
    let payload = Payload {
        url: url.to_string(),
        event_id: new_id(),
        timestamp: feria_domain::time::now().timestamp(),
        profile: profile.to_string(),
        body: order.to_string(),
    };
    feria_jobs::enqueue(conn, KIND, &payload, app.config.jobs.max_attempts).await
}

/// Runs `ucp_order_webhook` jobs.
pub struct UcpOrderWebhook {
    pub app: AppState,
}

#[async_trait::async_trait]
impl JobHandler for UcpOrderWebhook {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let p: Payload = serde_json::from_value(payload.clone()).map_err(|e| format!("bad payload: {e}"))?;
        let (authority, path, query) = documents::signing_target(&p.url).ok_or("bad webhook URL")?;
        let digest = content_digest(p.body.as_bytes());
        let agent = format!("profile=\"{}\"", p.profile);
        let key = self.app.config.agents.signing_keys.first().ok_or("no signing key")?;
        let mut components = vec![("@method", "POST"), ("@authority", authority.as_str()), ("@path", path.as_str())];
        if let Some(query) = &query {
            components.push(("@query", query.as_str()));
        }
        components.extend([("content-digest", digest.as_str()), ("content-type", "application/json"), ("ucp-agent", agent.as_str())]);
        let signature = key.sign(&components, feria_domain::time::now().timestamp());
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Webhook-Id".to_string(), p.event_id),
            ("Webhook-Timestamp".to_string(), p.timestamp.to_string()),
            ("UCP-Agent".to_string(), agent),
            ("Content-Digest".to_string(), digest),
        ];
        headers.extend(signature);
        documents::post(&p.url, &headers, p.body.into_bytes(), TIMEOUT, self.app.serves_on_loopback())
            .await
            .map_err(|e| format!("order webhook to {authority}: {e}"))?;
        Ok(Completion::Done)
    }
}

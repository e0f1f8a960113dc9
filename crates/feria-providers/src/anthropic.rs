//! Anthropic's Messages API (`../shared/protocols/llm-providers.md` §3): `POST {base}/v1/messages`
//! with `x-api-key` and `anthropic-version`. The body is passed through as the caller built it;
//! the answer comes back as Anthropic wrote it, with its status.

use std::time::Duration;

use serde_json::Value;

/// The API version header every request carries.
const VERSION: &str = "2023-06-01";

/// A client of one account: API base URL and key.
pub struct Anthropic {
    base_url: String,
    api_key: String,
    http: reqwest::Client,
}

/// Why no answer came back.
#[derive(Debug, thiserror::Error)]
pub enum AnthropicError {
    /// No answer (connection, timeout); the key is never in it.
    #[error("Anthropic unreachable: {0}")]
    Unreachable(String),
    /// An answer that is not JSON.
    #[error("Anthropic answered {0} without JSON")]
    NotJson(u16),
}

/// Anthropic's answer: its HTTP status and JSON body (a message, or `{type: "error", error}`).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Anthropic {
    pub fn new(base_url: &str, api_key: &str, timeout: Duration) -> Result<Anthropic, AnthropicError> {
        let http = crate::http::client(timeout).map_err(|e| AnthropicError::Unreachable(e.to_string()))?;
        Ok(Anthropic { base_url: base_url.trim_end_matches('/').to_string(), api_key: api_key.to_string(), http })
    }

    /// Sends a Messages request.
    pub async fn messages(&self, body: &Value) -> Result<Answer, AnthropicError> {
        let response = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", VERSION)
            .json(body)
            .send()
            .await
            .map_err(|e| AnthropicError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body = response.json().await.map_err(|_| AnthropicError::NotJson(status))?;
        Ok(Answer { status, body })
    }
}

//! What every messaging channel does: deliver one message to an address it understands. The
//! job runner holds channels behind [`Messenger`], so SMS, push and chat providers plug in the
//! same way as email and Telegram.

use std::time::Duration;

use async_trait::async_trait;

/// Why a notification provider did not take a message, as the sender acts on it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DeliveryError {
    /// The address is no use any more (an uninstalled app's token, a number that replied STOP):
    /// forget it.
    #[error("address gone ({0})")]
    Gone(String),
    /// Try again later; `after` when the provider said when.
    #[error("provider busy ({status})")]
    Retry { status: u16, after: Option<Duration> },
    /// The message or the credentials are wrong: trying again will not help.
    #[error("provider refused ({status} {code})")]
    Refused { status: u16, code: String },
    /// No answer (connection, timeout).
    #[error("provider unreachable: {0}")]
    Unreachable(String),
}

/// A notification provider's answer, read whole.
pub(crate) struct Answer {
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub after: Option<Duration>,
    pub headers: reqwest::header::HeaderMap,
    /// The JSON body (`Null` when there is none).
    pub body: serde_json::Value,
}

impl Answer {
    /// Sends `request` and reads the answer; no answer at all is `Unreachable`.
    pub async fn of(request: reqwest::RequestBuilder) -> Result<Answer, DeliveryError> {
        let response = request.send().await.map_err(|e| DeliveryError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok()).map(Duration::from_secs);
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        Ok(Answer { status, after, headers, body })
    }
}

/// One message to deliver.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The channel's address: an email address, a chat id.
    pub to: String,
    /// For channels that have one (email).
    pub subject: Option<String>,
    pub text: String,
    /// For channels that show it (email; Telegram's HTML subset is `text`).
    pub html: Option<String>,
}

/// A channel that delivers messages.
#[async_trait]
pub trait Messenger: Send + Sync {
    /// The channel's name: `email`, `telegram`.
    fn channel(&self) -> &'static str;

    /// Delivers `message`; an error says why, for the job's retry and log.
    async fn deliver(&self, message: &Outgoing) -> Result<(), String>;
}

#[async_trait]
impl Messenger for crate::email::SmtpMailer {
    fn channel(&self) -> &'static str {
        "email"
    }

    async fn deliver(&self, m: &Outgoing) -> Result<(), String> {
        let message = crate::email::EmailMessage {
            to: m.to.clone(),
            subject: m.subject.clone().unwrap_or_default(),
            text: m.text.clone(),
            html: m.html.clone().unwrap_or_default(),
        };
        self.send(&message).await.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl Messenger for crate::telegram::TelegramBot {
    fn channel(&self) -> &'static str {
        "telegram"
    }

    async fn deliver(&self, m: &Outgoing) -> Result<(), String> {
        self.send_message(&m.to, &m.text).await.map_err(|e| e.to_string())
    }
}

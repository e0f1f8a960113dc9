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
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The channel's address: an email address, a chat id, a phone number.
    pub to: String,
    /// For channels that have one (email).
    pub subject: Option<String>,
    pub text: String,
    /// For channels that show it (email; Telegram's HTML subset is `text`).
    pub html: Option<String>,
    /// Email: the one-click unsubscribe URL.
    pub unsubscribe: Option<String>,
    /// The sender's id for the message, for providers that report back about it.
    pub reference: Option<String>,
}

/// A provider took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id for it, when it gives one (status callbacks name it).
    pub id: Option<String>,
}

/// A provider that delivers messages on one channel.
#[async_trait]
pub trait Messenger: Send + Sync {
    /// The provider's name as the delivery log shows it: `smtp`, `telegram`.
    fn provider(&self) -> &'static str;

    /// Delivers `message`; an error says whether trying again may help.
    async fn deliver(&self, message: &Outgoing) -> Result<Accepted, DeliveryError>;
}

#[async_trait]
impl Messenger for crate::email::SmtpMailer {
    fn provider(&self) -> &'static str {
        "smtp"
    }

    async fn deliver(&self, m: &Outgoing) -> Result<Accepted, DeliveryError> {
        let message = crate::email::EmailMessage {
            to: m.to.clone(),
            subject: m.subject.clone().unwrap_or_default(),
            text: m.text.clone(),
            html: m.html.clone().unwrap_or_default(),
            unsubscribe: m.unsubscribe.clone(),
        };
        self.send(&message).await.map(|()| Accepted { id: None }).map_err(DeliveryError::from)
    }
}

/// SMTP: a 5xx reply or a bad address is final; a 4xx reply is tried again, as is no answer.
impl From<crate::email::EmailError> for DeliveryError {
    fn from(e: crate::email::EmailError) -> DeliveryError {
        use crate::email::EmailError;
        match e {
            EmailError::Smtp { code: Some(status), permanent: true, message } => DeliveryError::Refused { status, code: message },
            EmailError::Smtp { code: Some(status), .. } => DeliveryError::Retry { status, after: None },
            EmailError::Smtp { code: None, message, .. } => DeliveryError::Unreachable(message),
            EmailError::Address(address, why) => DeliveryError::Refused { status: 0, code: format!("bad address {address}: {why}") },
            EmailError::Build(why) => DeliveryError::Refused { status: 0, code: why },
        }
    }
}

#[async_trait]
impl Messenger for crate::telegram::TelegramBot {
    fn provider(&self) -> &'static str {
        "telegram"
    }

    /// 429 and 5xx are tried again (after `retry_after`); a chat that blocked the bot (403) is gone.
    async fn deliver(&self, m: &Outgoing) -> Result<Accepted, DeliveryError> {
        use crate::telegram::TelegramError;
        match self.send_message(&m.to, &m.text).await {
            Ok(()) => Ok(Accepted { id: None }),
            Err(TelegramError::Unreachable(why)) => Err(DeliveryError::Unreachable(why)),
            Err(TelegramError::Refused { code, description, retry_after }) => {
                let status = u16::try_from(code).unwrap_or(500);
                Err(match status {
                    429 | 500.. => DeliveryError::Retry { status, after: retry_after.map(Duration::from_secs) },
                    403 => DeliveryError::Gone(description),
                    _ => DeliveryError::Refused { status, code: description },
                })
            }
        }
    }
}

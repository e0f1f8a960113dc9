//! Email over SMTP (plain, STARTTLS or implicit TLS), multipart text + HTML.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS at all (a local relay or a test server).
    Plain,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl SmtpSecurity {
    /// Parses `plain`, `starttls` or `tls`.
    pub fn parse(s: &str) -> Option<SmtpSecurity> {
        match s.to_ascii_lowercase().as_str() {
            "plain" | "none" => Some(SmtpSecurity::Plain),
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" | "ssl" => Some(SmtpSecurity::Tls),
            _ => None,
        }
    }
}

/// Where and how to send mail. `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    pub security: SmtpSecurity,
    /// The From header, `Name <addr>` or a bare address.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("security", &self.security)
            .field("from", &self.from)
            .finish()
    }
}

/// One message to one recipient.
#[derive(Debug, Clone)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL (RFC 8058), for emails people may stop.
    pub unsubscribe: Option<String>,
}

/// The `List-Unsubscribe` and `List-Unsubscribe-Post` headers (RFC 2369, RFC 8058) for `url`.
pub fn unsubscribe_headers(url: &str) -> [(&'static str, String); 2] {
    [("List-Unsubscribe", format!("<{url}>")), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_string())]
}

/// Why an email could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("invalid address {0}: {1}")]
    Address(String, String),
    #[error("could not build the message: {0}")]
    Build(String),
    /// The server's reply `code` (none: no answer); `permanent` for a 5xx reply.
    #[error("SMTP error: {message}")]
    Smtp { code: Option<u16>, permanent: bool, message: String },
}

impl From<lettre::transport::smtp::Error> for EmailError {
    fn from(e: lettre::transport::smtp::Error) -> EmailError {
        EmailError::Smtp { code: e.status().map(u16::from), permanent: e.is_permanent(), message: e.to_string() }
    }
}

/// A connection-pooling SMTP client.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Builds the client; nothing is sent or connected yet.
    pub fn new(settings: &SmtpSettings) -> Result<SmtpMailer, EmailError> {
        let from: Mailbox = settings.from.parse().map_err(|e| EmailError::Address(settings.from.clone(), format!("{e}")))?;
        let builder = match settings.security {
            SmtpSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(EmailError::from)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(EmailError::from)?,
        };
        let mut builder = builder.port(settings.port).timeout(Some(Duration::from_secs(20)));
        if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer { transport: builder.build(), from })
    }

    /// Sends one message.
    pub async fn send(&self, message: &EmailMessage) -> Result<(), EmailError> {
        let to: Mailbox = message.to.parse().map_err(|e| EmailError::Address(message.to.clone(), format!("{e}")))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(&message.subject);
        for (name, value) in message.unsubscribe.as_deref().map(unsubscribe_headers).into_iter().flatten() {
            builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(name), value));
        }
        let email = builder
            .multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone()))
            .map_err(|e| EmailError::Build(e.to_string()))?;
        self.transport.send(email).await.map_err(EmailError::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_names() {
        assert_eq!(SmtpSecurity::parse("STARTTLS"), Some(SmtpSecurity::StartTls));
        assert_eq!(SmtpSecurity::parse("ssl"), Some(SmtpSecurity::Tls));
        assert_eq!(SmtpSecurity::parse("plain"), Some(SmtpSecurity::Plain));
        assert_eq!(SmtpSecurity::parse("carrier-pigeon"), None);
    }
}

//! `send_email`: delivers one email over SMTP. The body is sealed in the payload because it
//! may carry secrets (a password-reset link).

use feria_db::AnyConnection;
use feria_jobs::{Completion, JobHandler};
use feria_providers::email::SmtpMailer;
use feria_providers::messaging::{Messenger, Outgoing};
use serde::{Deserialize, Serialize};

use crate::app::{App, AppState};

pub const KIND: &str = "send_email";

/// An email to queue.
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    to: String,
    subject: String,
    /// `Body` as JSON, sealed with the application's encryption key.
    sealed_body: String,
}

#[derive(Serialize, Deserialize)]
struct Body {
    text: String,
    html: String,
}

/// Queues `email` on `conn` (the caller's transaction).
pub async fn enqueue(conn: &mut AnyConnection, app: &App, email: &Email) -> Result<String, sqlx::Error> {
    let body = serde_json::to_vec(&Body { text: email.text.clone(), html: email.html.clone() }).expect("strings serialise");
    let payload = Payload { to: email.to.clone(), subject: email.subject.clone(), sealed_body: app.sealer.seal(&body) };
    feria_jobs::enqueue(conn, KIND, &payload, app.config.jobs.max_attempts).await
}

/// Runs `send_email` jobs; skips them when no SMTP server is configured.
pub struct SendEmail {
    app: AppState,
    mailer: Option<Box<dyn Messenger>>,
}

impl SendEmail {
    pub fn new(app: AppState) -> anyhow::Result<SendEmail> {
        let mailer = match &app.config.email {
            Some(email) => Some(Box::new(SmtpMailer::new(&email.smtp)?) as Box<dyn Messenger>),
            None => None,
        };
        Ok(SendEmail { app, mailer })
    }
}

#[async_trait::async_trait]
impl JobHandler for SendEmail {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let payload: Payload = serde_json::from_value(payload.clone()).map_err(|e| format!("bad payload: {e}"))?;
        let Some(mailer) = &self.mailer else {
            return Ok(Completion::Skipped("email is not configured (EMAIL_SMTP_HOST)".into()));
        };
        let body = self.app.sealer.open(&payload.sealed_body).ok_or("the body cannot be opened with the current ENCRYPTION_KEY")?;
        let body: Body = serde_json::from_slice(&body).map_err(|e| format!("bad body: {e}"))?;
        let message = Outgoing { to: payload.to, subject: Some(payload.subject), text: body.text, html: Some(body.html) };
        mailer.deliver(&message).await?;
        Ok(Completion::Done)
    }
}

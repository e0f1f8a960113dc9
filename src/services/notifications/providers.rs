//! The providers behind each channel, built once per job runner from the configuration: email
//! by SMTP and then SendGrid (the next one is tried when one is busy, down or refuses), text
//! messages by Twilio, Telegram's bot for the shop's chat.

use std::collections::BTreeMap;

use async_trait::async_trait;
use feria_domain::notify::Channel;
use feria_providers::email::{EmailMessage, SmtpMailer};
use feria_providers::messaging::{Accepted, DeliveryError, Messenger, Outgoing};
use feria_providers::sendgrid::SendGrid;
use feria_providers::telegram::TelegramBot;
use feria_providers::twilio::Twilio;

use std::time::Duration;

use feria_providers::fcm::{self, Fcm};
use feria_providers::google_oauth::ServiceAccount;
use feria_providers::webpush::{
    self,
    send::{Subscription, Urgency},
    vapid::Vapid,
};

use super::devices::Target;
use crate::app::App;

/// The key SendGrid's events carry our message id under.
pub const SENDGRID_MESSAGE_ARG: &str = "feria_message_id";

/// The path Twilio reports a text message's progress to (`?m=<message id>`).
pub const TWILIO_STATUS_PATH: &str = "/api/webhooks/twilio/status";

/// Each channel's providers, in the order they are tried, and the push senders.
#[derive(Default)]
pub struct Providers {
    email: Vec<Box<dyn Messenger>>,
    sms: Vec<Box<dyn Messenger>>,
    telegram: Vec<Box<dyn Messenger>>,
    fcm: Option<Fcm>,
    web_push: Option<WebPushSender>,
}

/// What web pushes go out with.
struct WebPushSender {
    vapid: Vapid,
    ttl: u32,
    timeout: Duration,
    allow_loopback: bool,
}

/// A push for one device.
pub struct DevicePush<'a> {
    pub title: &'a str,
    pub body: &'a str,
    /// Strings for the app or the service worker (`notificationId`, `kind`).
    pub data: &'a BTreeMap<String, String>,
}

impl Providers {
    pub fn from_app(app: &App) -> anyhow::Result<Providers> {
        let config = &app.config;
        let n = &config.notifications;
        let mut providers = Providers::default();
        if let Some(email) = &config.email {
            providers.email.push(Box::new(SmtpMailer::new(&email.smtp)?));
        }
        if let Some(sg) = &n.sendgrid {
            let client = SendGrid::new(&sg.api_url, sg.api_key.expose(), &sg.from_email, &sg.from_name, n.provider_timeout)?;
            providers.email.push(Box::new(SendGridEmail(client)));
        }
        if let Some(tw) = &n.twilio {
            let client = Twilio::new(&tw.api_url, &tw.account_sid, tw.auth_token.expose(), &tw.phone_number, n.provider_timeout)?;
            let callback = format!("{}{TWILIO_STATUS_PATH}", config.payments.public_url);
            providers.sms.push(Box::new(TwilioSms { client, callback }));
        }
        if let Some(t) = &n.telegram_bot {
            providers.telegram.push(Box::new(TelegramBot::new(&t.api_url, t.token.expose())?));
        }
        if let Some(key) = &n.push.firebase_key {
            let account = ServiceAccount::from_json(key.expose())?;
            providers.fcm = Some(Fcm::new(&n.push.fcm_api_url, account, n.provider_timeout)?);
        }
        if let Some(vapid) = &app.vapid {
            let allow_loopback = app.serves_on_loopback();
            providers.web_push =
                Some(WebPushSender { vapid: vapid.clone(), ttl: n.push.web_push_ttl, timeout: n.provider_timeout, allow_loopback });
        }
        Ok(providers)
    }

    /// Whether pushes to `target`'s kind can be sent.
    pub fn pushes(&self, channel: Channel) -> bool {
        match channel {
            Channel::Push => self.fcm.is_some(),
            Channel::WebPush => self.web_push.is_some(),
            _ => false,
        }
    }

    /// Sends `push` to one device; the provider's name and its answer (FCM's message name).
    pub async fn push(&self, target: &Target, push: &DevicePush<'_>) -> (&'static str, Result<Option<String>, DeliveryError>) {
        let not_configured = || Err(DeliveryError::Refused { status: 0, code: "not configured".into() });
        match target {
            Target::Fcm { token } => {
                let Some(fcm) = &self.fcm else { return ("fcm", not_configured()) };
                let message = fcm::Push { token, title: push.title, body: push.body, data: push.data };
                ("fcm", fcm.send(&message).await.map(Some))
            }
            Target::WebPush { endpoint, p256dh, auth } => {
                let Some(sender) = &self.web_push else { return ("web_push", not_configured()) };
                let payload = serde_json::json!({"title": push.title, "body": push.body, "data": push.data}).to_string();
                let subscription = Subscription { endpoint, p256dh, auth };
                let sent = webpush::send::send(
                    &sender.vapid,
                    &subscription,
                    payload.as_bytes(),
                    sender.ttl,
                    Urgency::High,
                    sender.timeout,
                    sender.allow_loopback,
                )
                .await;
                ("web_push", sent.map(|()| None))
            }
        }
    }

    /// The providers of `channel`, in order (none: the channel is not configured).
    pub fn of(&self, channel: Channel) -> &[Box<dyn Messenger>] {
        match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
            Channel::Telegram => &self.telegram,
            Channel::InApp | Channel::Push | Channel::WebPush => &[],
        }
    }
}

/// Hands `message` to the first of `providers` that takes it. A gone address stops there (no
/// provider can reach it); otherwise the last provider's refusal is the answer. Answers the
/// provider that took it, or the one whose refusal is returned.
pub async fn send(providers: &[Box<dyn Messenger>], message: &Outgoing) -> (&'static str, Result<Accepted, DeliveryError>) {
    let mut last = ("-", Err(DeliveryError::Unreachable("no provider".into())));
    for provider in providers {
        let result = provider.deliver(message).await;
        let gone = matches!(result, Err(DeliveryError::Gone(_)));
        if let Err(e) = &result {
            tracing::warn!(provider = provider.provider(), error = %e, "notification provider did not take a message");
        }
        last = (provider.provider(), result);
        if last.1.is_ok() || gone {
            break;
        }
    }
    last
}

/// SendGrid, tagging each email with our message id for its Event Webhook.
struct SendGridEmail(SendGrid);

#[async_trait]
impl Messenger for SendGridEmail {
    fn provider(&self) -> &'static str {
        "sendgrid"
    }

    async fn deliver(&self, m: &Outgoing) -> Result<Accepted, DeliveryError> {
        let message = EmailMessage {
            to: m.to.clone(),
            subject: m.subject.clone().unwrap_or_default(),
            text: m.text.clone(),
            html: m.html.clone().unwrap_or_default(),
            unsubscribe: m.unsubscribe.clone(),
        };
        let args: BTreeMap<String, String> = m.reference.iter().map(|id| (SENDGRID_MESSAGE_ARG.to_string(), id.clone())).collect();
        let id = self.0.send(&message, &args).await?;
        Ok(Accepted { id: Some(id).filter(|id| !id.is_empty()) })
    }
}

/// Twilio, asking for status callbacks that name our message.
struct TwilioSms {
    client: Twilio,
    /// feria's status callback URL, without the message.
    callback: String,
}

#[async_trait]
impl Messenger for TwilioSms {
    fn provider(&self) -> &'static str {
        "twilio"
    }

    async fn deliver(&self, m: &Outgoing) -> Result<Accepted, DeliveryError> {
        let callback = m.reference.as_ref().map(|id| format!("{}?m={id}", self.callback));
        let sid = self.client.send_sms(&m.to, &m.text, callback.as_deref()).await?;
        Ok(Accepted { id: Some(sid) })
    }
}

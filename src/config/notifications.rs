//! The notification hub's providers: email (SMTP, then SendGrid), SMS (Twilio), Telegram, and
//! where the shop hears about orders.

use std::time::Duration;

use feria_providers::email::{SmtpSecurity, SmtpSettings};

use super::{Reader, Secret};

/// Email delivery settings; `None` in [`Config::email`] means email is not configured.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub smtp: SmtpSettings,
}

/// The Telegram bot that tells the shop about orders.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub token: Secret,
    pub chat_id: String,
    /// `https://api.telegram.org` unless pointed elsewhere.
    pub api_url: String,
}

/// SendGrid's Mail Send API (seed 000 names), the email provider after SMTP.
#[derive(Debug, Clone)]
pub struct SendGridConfig {
    pub api_key: Secret,
    pub from_email: String,
    pub from_name: String,
    /// `https://api.sendgrid.com` unless pointed elsewhere (`SENDGRID_API_URL`).
    pub api_url: String,
    /// The Event Webhook's verification key (base64 SubjectPublicKeyInfo); without it the
    /// webhook is refused.
    pub webhook_key: Option<String>,
}

/// Twilio's Messages API for text messages (seed 000/003 names).
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    /// The sender (`TWILIO_PHONE_NUMBER`).
    pub phone_number: String,
    /// `https://api.twilio.com` unless pointed elsewhere (`TWILIO_API_URL`).
    pub api_url: String,
}

/// Push to apps (Firebase Cloud Messaging, HTTP v1) and to browsers (web push with VAPID).
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// The service account's JSON key (`FIREBASE_SERVICE_ACCOUNT_KEY`).
    pub firebase_key: Option<Secret>,
    /// `https://fcm.googleapis.com` unless pointed elsewhere (`FCM_API_URL`).
    pub fcm_api_url: String,
    /// The VAPID private key (32 bytes, base64url); in development, derived from
    /// `ENCRYPTION_KEY` when unset.
    pub vapid_private_key: Option<Secret>,
    /// The contact push services may write to (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// How long a push service keeps a push for an offline browser (`WEB_PUSH_TTL`, seconds).
    pub web_push_ttl: u32,
}

/// Where the shop hears about orders (seed 001 "Sistema de Notificaciones") and the providers.
#[derive(Debug, Clone)]
pub struct NotificationsConfig {
    /// `NOTIFICATION_CHANNELS` has `email`.
    pub email: bool,
    /// `NOTIFICATION_CHANNELS` has `telegram`.
    pub telegram: bool,
    /// The shop's address for new-order emails (`EMAIL_TO`).
    pub email_to: Option<String>,
    pub telegram_bot: Option<TelegramConfig>,
    pub sendgrid: Option<SendGridConfig>,
    pub twilio: Option<TwilioConfig>,
    pub push: PushConfig,
    /// The most live WebSockets one node keeps open (`LIVE_MAX_CONNECTIONS`).
    pub live_max_sockets: usize,
    /// How long a call to a notification provider may take (`NOTIFICATION_PROVIDER_TIMEOUT_MS`).
    pub provider_timeout: Duration,
}

/// `NOTIFICATION_CHANNELS` (comma-separated `email`, `telegram`; default both), `EMAIL_TO`, and
/// the Telegram bot, which needs both `TELEGRAM_BOT_TOKEN` and `TELEGRAM_CHAT_ID`.
pub(super) fn read_notifications(r: &mut Reader<'_>) -> NotificationsConfig {
    let channels = r.text("NOTIFICATION_CHANNELS").unwrap_or_else(|| "email,telegram".into()).to_ascii_lowercase();
    let mut email = false;
    let mut telegram = false;
    for channel in channels.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        match channel {
            "email" => email = true,
            "telegram" => telegram = true,
            other => r.problems.push(format!("NOTIFICATION_CHANNELS: '{other}' is not a channel (email, telegram)")),
        }
    }
    let email_to = r.text("EMAIL_TO").map(|e| e.to_ascii_lowercase());
    if email_to.as_deref().is_some_and(|e| !crate::http::validate::is_email(e)) {
        r.problems.push("EMAIL_TO: not an email address".into());
    }
    let telegram_bot = match (r.text("TELEGRAM_BOT_TOKEN"), r.text("TELEGRAM_CHAT_ID")) {
        (Some(token), Some(chat_id)) => Some(TelegramConfig {
            token: Secret::new(token),
            chat_id,
            api_url: r.text("TELEGRAM_API_URL").unwrap_or_else(|| "https://api.telegram.org".into()),
        }),
        (None, None) => None,
        _ => {
            r.problems.push("TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID: set both or neither".into());
            None
        }
    };
    let sendgrid = r.text("SENDGRID_API_KEY").map(|key| {
        let from_email = r.text("SENDGRID_FROM_EMAIL").unwrap_or_else(|| {
            r.problems.push("SENDGRID_FROM_EMAIL: required when SENDGRID_API_KEY is set".into());
            String::new()
        });
        SendGridConfig {
            api_key: Secret::new(key),
            from_email,
            from_name: r.text("SENDGRID_FROM_NAME").unwrap_or_default(),
            api_url: r.text("SENDGRID_API_URL").unwrap_or_else(|| "https://api.sendgrid.com".into()),
            webhook_key: r.text("SENDGRID_WEBHOOK_PUBLIC_KEY"),
        }
    });
    if let Some(key) = sendgrid.as_ref().and_then(|s| s.webhook_key.as_deref())
        && feria_providers::sendgrid::event_key(key).is_none()
    {
        r.problems.push("SENDGRID_WEBHOOK_PUBLIC_KEY: not a base64 P-256 public key".into());
    }
    let twilio = match (r.text("TWILIO_ACCOUNT_SID"), r.text("TWILIO_AUTH_TOKEN"), r.text("TWILIO_PHONE_NUMBER")) {
        (Some(account_sid), Some(token), Some(phone_number)) => Some(TwilioConfig {
            account_sid,
            auth_token: Secret::new(token),
            phone_number,
            api_url: r.text("TWILIO_API_URL").unwrap_or_else(|| "https://api.twilio.com".into()),
        }),
        (None, None, None) => None,
        _ => {
            r.problems.push("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER: set all three or none".into());
            None
        }
    };
    let firebase_key = r.text("FIREBASE_SERVICE_ACCOUNT_KEY");
    if firebase_key.as_deref().is_some_and(|k| feria_providers::google_oauth::ServiceAccount::from_json(k).is_err()) {
        r.problems.push("FIREBASE_SERVICE_ACCOUNT_KEY: not a service account's JSON key".into());
    }
    let vapid_private_key = r.text("VAPID_PRIVATE_KEY");
    let vapid_subject = r.text("VAPID_SUBJECT").unwrap_or_else(|| "mailto:webpush@feria.invalid".into());
    if let Some(key) = &vapid_private_key
        && feria_providers::webpush::vapid::Vapid::new(key, &vapid_subject).is_err()
    {
        r.problems.push("VAPID_PRIVATE_KEY, VAPID_SUBJECT: a 32-byte base64url key and a mailto: or https: contact".into());
    }
    let push = PushConfig {
        firebase_key: firebase_key.map(Secret::new),
        fcm_api_url: r.text("FCM_API_URL").unwrap_or_else(|| "https://fcm.googleapis.com".into()),
        vapid_private_key: vapid_private_key.map(Secret::new),
        vapid_subject,
        web_push_ttl: r.parse("WEB_PUSH_TTL", 86_400, "seconds"),
    };
    let provider_timeout = r.millis("NOTIFICATION_PROVIDER_TIMEOUT_MS", 10_000);
    let live_max_sockets = r.parse("LIVE_MAX_CONNECTIONS", 10_000, "a number of connections");
    NotificationsConfig { email, telegram, email_to, telegram_bot, sendgrid, twilio, push, live_max_sockets, provider_timeout }
}

pub(super) fn read_email(r: &mut Reader<'_>) -> Option<EmailConfig> {
    let host = r.text("EMAIL_SMTP_HOST")?;
    let security_raw = r.text("EMAIL_SMTP_SECURITY").unwrap_or_else(|| "starttls".into());
    let security = SmtpSecurity::parse(&security_raw).unwrap_or_else(|| {
        r.problems.push(format!("EMAIL_SMTP_SECURITY: '{security_raw}' is not plain, starttls or tls"));
        SmtpSecurity::StartTls
    });
    let default_port = match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Plain => 25,
    };
    let port = r.parse("EMAIL_SMTP_PORT", default_port, "a port number");
    let from = r.text("EMAIL_FROM").unwrap_or_else(|| {
        r.problems.push("EMAIL_FROM: required when EMAIL_SMTP_HOST is set".into());
        String::new()
    });
    let user = r.text("EMAIL_SMTP_USER");
    let password = r.text("EMAIL_SMTP_PASS");
    if user.is_some() != password.is_some() {
        r.problems.push("EMAIL_SMTP_USER and EMAIL_SMTP_PASS: set both or neither".into());
    }
    Some(EmailConfig { smtp: SmtpSettings { host, port, user, password, security, from } })
}

//! Delivering one message (the `notify_deliver` job): render it as it reads now, hand it to the
//! channel's provider, record the try. A busy or unreachable provider is tried again by the job
//! queue until the attempts run out; a refusal, a gone address or running out of attempts
//! fails the message and moves on to the next channel of its step, if any.

use std::collections::BTreeMap;

use feria_domain::notify::{Channel, EventKind, MessageStatus};
use feria_domain::time;
use feria_providers::messaging::{DeliveryError, Outgoing};
use serde_json::json;

use super::content::{self, Subject};
use super::events::NewEvent;
use super::messages::{self, Message, Outcome};
use super::providers::{self, DevicePush, Providers};
use super::store_templates::{self, Key};
use super::{NotifyError, devices, events, template_tests, templates, unsubscribe};
use crate::app::App;
use crate::jobs::notify_deliver;

/// The error code of a message whose provider stayed busy or unreachable through every attempt.
const EXHAUSTED: &str = "attempts_exhausted";

/// How a delivery went, for the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Sent, or settled for good (failed, skipped, or already handled).
    Settled,
    /// Try again later: the provider was busy or unreachable (the reason).
    Retry(String),
}

/// Delivers message `id`.
pub async fn deliver(app: &App, providers: &Providers, id: &str) -> Result<Delivered, NotifyError> {
    let mut conn = app.db.reader().acquire().await?;
    let Some(message) = messages::load(&mut conn, id).await? else { return Ok(Delivered::Settled) };
    // A message that ran out of attempts goes again when its dead job is retried by an admin.
    let exhausted = message.status == MessageStatus::Failed && message.error_code.as_deref() == Some(EXHAUSTED);
    if !matches!(message.status, MessageStatus::Queued | MessageStatus::Sending) && !exhausted {
        return Ok(Delivered::Settled);
    }
    let Some(event) = events::load(&mut conn, app, &message.event_id).await? else {
        return settle(app, &message, ended(MessageStatus::Failed, None, "gone", "the event is gone or cannot be opened")).await;
    };
    let subject = Subject::load(&mut conn, &event).await?;
    drop(conn);
    let unsubscribe = (message.channel == Channel::Email && !message.kind.critical())
        .then(|| unsubscribe::link(app, &message.recipient_key, message.kind.category()))
        .flatten();
    let values = minijinja::context! { unsubscribe => &unsubscribe, ..content::values(&event, &subject, &message.recipient_name) };
    let locale = templates::locale(Some(&message.locale));
    let key = Key { kind: message.kind, voice: message.voice, channel: message.channel, locale };
    let custom = store_templates::overrides(&mut *app.db.reader().acquire().await?, message.store_id.as_deref(), message.kind).await?;
    // A template's test carries its text.
    let rendered = match template_tests::carried(&event.data) {
        Some(content) => Some(content),
        None => store_templates::render(&custom, key, &values)?,
    };
    let Some(content) = rendered else {
        return settle(app, &message, ended(MessageStatus::Failed, None, "no_template", "no template for this channel")).await;
    };
    let pushing = matches!(message.channel, Channel::Push | Channel::WebPush);
    let configured = if pushing { providers.pushes(message.channel) } else { !providers.of(message.channel).is_empty() };
    if !configured {
        let skipped = ended(MessageStatus::Skipped, None, "not_configured", "no provider is configured for this channel");
        return settle(app, &message, skipped).await;
    }
    let (provider, result) = if pushing {
        push_to_devices(app, providers, &message, &content).await?
    } else {
        let reference = Some(message.id.clone());
        let outgoing = Outgoing {
            to: message.address.clone(),
            subject: content.subject,
            text: content.text,
            html: content.html,
            unsubscribe,
            reference,
        };
        let (provider, result) = providers::send(providers.of(message.channel), &outgoing).await;
        (provider, result.map(|accepted| accepted.id))
    };
    let name = Some(provider);
    match result {
        Ok(id) => {
            let sent =
                Outcome { status: MessageStatus::Sent, provider: name, provider_message_id: id.as_deref(), error_code: None, detail: None };
            settle(app, &message, sent).await
        }
        Err(e @ (DeliveryError::Retry { .. } | DeliveryError::Unreachable(_)))
            if !exhausted && message.attempts + 1 < app.config.jobs.max_attempts =>
        {
            let detail = e.to_string();
            let retry = ended(MessageStatus::Queued, name, "retry", &detail);
            messages::record_try(&mut *app.db.writer().acquire().await?, &message.id, &retry).await?;
            Ok(Delivered::Retry(detail))
        }
        Err(e) => {
            let code = match e {
                DeliveryError::Gone(_) => "gone",
                DeliveryError::Refused { .. } => "refused",
                DeliveryError::Retry { .. } | DeliveryError::Unreachable(_) => EXHAUSTED,
            };
            let detail = e.to_string();
            if let (DeliveryError::Refused { status: 401 | 403, .. }, Some(provider)) = (&e, name) {
                credentials_refused(app, provider, &detail).await?;
            }
            let settled = settle(app, &message, ended(MessageStatus::Failed, name, code, &detail)).await?;
            // Out of attempts: the job ends dead too, so the queue shows it.
            Ok(if code == EXHAUSTED { Delivered::Retry(detail) } else { settled })
        }
    }
}

/// Pushes `content` to every device of the message's user (its address) on its channel: sent
/// when one device took it; a device its provider calls gone is forgotten; with none left the
/// message fails and its step moves on.
async fn push_to_devices(
    app: &App,
    providers: &Providers,
    message: &Message,
    content: &templates::Content,
) -> Result<(&'static str, Result<Option<String>, DeliveryError>), NotifyError> {
    let found = devices::of_user(&mut *app.db.reader().acquire().await?, &message.address, message.channel).await?;
    let data: BTreeMap<String, String> = [("notificationId", message.notification_id.as_str()), ("kind", message.kind.as_str())]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    let push = DevicePush { title: content.subject.as_deref().unwrap_or_default(), body: &content.text, data: &data };
    let (mut provider, mut taken, mut refusal) = ("-", None, DeliveryError::Gone("no devices".into()));
    for device in found {
        let (name, result) = providers.push(&device.target, &push).await;
        provider = name;
        match result {
            Ok(id) => {
                devices::used(&app.db, &device.id).await?;
                taken.get_or_insert(id);
            }
            Err(DeliveryError::Gone(why)) => {
                devices::forget(&app.db, &device.id).await?;
                tracing::info!(device = %device.id, %why, "push device gone, forgotten");
            }
            // A reason to try again outranks a refusal, which outranks "gone".
            Err(e) => {
                let retryable = |e: &DeliveryError| matches!(e, DeliveryError::Retry { .. } | DeliveryError::Unreachable(_));
                if retryable(&e) || !retryable(&refusal) {
                    refusal = e;
                }
            }
        }
    }
    Ok((provider, taken.ok_or(refusal)))
}

/// `provider` refused feria's credentials: the platform's admins hear they must be renewed, once
/// a day per provider (a browser's push service refusing one subscription is not that).
async fn credentials_refused(app: &App, provider: &str, detail: &str) -> Result<(), NotifyError> {
    let name = match provider {
        "sendgrid" => "SendGrid",
        "smtp" => "SMTP",
        "twilio" => "Twilio",
        "fcm" => "Firebase Cloud Messaging",
        "telegram" => "Telegram",
        _ => return Ok(()),
    };
    let today = time::to_db(time::now()).get(..10).unwrap_or_default().to_string();
    let event = NewEvent {
        store_id: None,
        kind: EventKind::ChannelNeedsReauth,
        dedupe_key: format!("channel_needs_reauth:{provider}:{today}"),
        data: json!({"channel": {"name": name, "provider": provider, "reason": detail}}),
        secret: false,
        fan_out_at: None,
    };
    let mut tx = app.db.begin().await?;
    let queued = events::emit(&mut tx, app, event).await?;
    tx.commit().await?;
    if queued {
        app.job_wake.notify_one();
    }
    Ok(())
}

/// A try that did not send: `status` with a reason `code` and its `detail`.
fn ended<'a>(status: MessageStatus, provider: Option<&'a str>, code: &'a str, detail: &'a str) -> Outcome<'a> {
    Outcome { status, provider, provider_message_id: None, error_code: Some(code), detail: Some(detail) }
}

/// Records the final outcome of `message` and, when it did not go out, queues the next channel
/// of its step (with the rest as its own fallbacks). Through the group commit: the deliveries
/// of a batch, settled at the same moment, share one commit on SQLite.
async fn settle(app: &App, message: &Message, outcome: Outcome<'_>) -> Result<Delivered, NotifyError> {
    let owned = |text: Option<&str>| text.map(str::to_string);
    let (status, provider, provider_id, code, detail) =
        (outcome.status, owned(outcome.provider), owned(outcome.provider_message_id), owned(outcome.error_code), owned(outcome.detail));
    let (id, notification_id, store, next) =
        (message.id.clone(), message.notification_id.clone(), message.store_id.clone(), message.next.clone());
    let max_attempts = app.config.jobs.max_attempts;
    let queued = app
        .db
        .write(Box::new(move |conn| {
            Box::pin(async move {
                let outcome = Outcome {
                    status,
                    provider: provider.as_deref(),
                    provider_message_id: provider_id.as_deref(),
                    error_code: code.as_deref(),
                    detail: detail.as_deref(),
                };
                messages::record_try(conn, &id, &outcome).await?;
                let Some(((channel, address), rest)) = next.split_first().filter(|_| status != MessageStatus::Sent) else {
                    return Ok::<_, NotifyError>(false);
                };
                let Some(new) =
                    messages::insert(conn, &notification_id, store.as_deref(), (*channel, address), rest, MessageStatus::Queued).await?
                else {
                    return Ok(false);
                };
                feria_jobs::enqueue_many(conn, notify_deliver::KIND, &[(notify_deliver::payload(&new), time::now())], max_attempts).await?;
                Ok(true)
            })
        }))
        .await?;
    if queued {
        app.job_wake.notify_one();
    }
    Ok(Delivered::Settled)
}

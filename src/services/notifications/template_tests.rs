//! A test of a template, sent to whoever asks: the template in use, rendered with one of the
//! store's orders (or sample values), goes to the caller on its channel (their email, their
//! phone from their settings, their devices, their inbox, the shop's chat) like any message: it
//! is in the delivery log with its attempts. Its event carries the rendered text and fans out to
//! nobody else.

use feria_domain::ids::new_id;
use feria_domain::notify::{Channel, MessageStatus};
use serde_json::json;

use super::events::{self, NewEvent};
use super::messages::{self, MessageRow, NotificationRow};
use super::recipients::{self, Recipient};
use super::store_templates::{self, Key};
use super::templates::Content;
use super::{NotifyError, devices, preferences};
use crate::app::App;
use crate::jobs::notify_deliver;
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;
use crate::services::identity::users;

/// A test on its way: the message (see the delivery log) and where it goes.
#[derive(Debug, Clone)]
pub struct TestSent {
    pub message_id: String,
    pub address: String,
}

/// The rendered text a test event carries, for its delivery.
pub fn carried(data: &serde_json::Value) -> Option<Content> {
    let rendered = data.get("test")?.get("rendered")?;
    Some(Content {
        subject: rendered["subject"].as_str().map(str::to_string),
        text: rendered["text"].as_str()?.to_string(),
        html: rendered["html"].as_str().map(str::to_string),
    })
}

/// Sends the store's template `key` (with order `order_id`, or sample values) to `caller`.
pub async fn send(app: &App, caller: &Caller, store_id: &str, key: Key, order_id: Option<&str>) -> Result<Done<TestSent>, NotifyError> {
    let content = store_templates::preview(&app.db, caller, store_id, key, None, order_id).await?;
    if !recipients::configured(app, key.channel) {
        return Err(NotifyError::Invalid("channel", format!("{} no está configurado en este servidor", key.channel.as_str())));
    }
    let mut conn = app.db.reader().acquire().await?;
    let user = users::find_by_id(&mut conn, &caller.id).await?.ok_or(NotifyError::Forbidden)?;
    let address = match key.channel {
        Channel::Email => user.email.clone(),
        Channel::InApp => user.id.clone(),
        Channel::Sms => preferences::of(&mut conn, &user.id)
            .await?
            .settings
            .phone
            .ok_or_else(|| NotifyError::Invalid("channel", "Cargá tu teléfono en tus preferencias para recibir SMS".into()))?,
        Channel::Push | Channel::WebPush => {
            let theirs = devices::channels_of(&mut conn, &[user.id.as_str()]).await?.remove(&user.id).unwrap_or_default();
            if !theirs.contains(&key.channel) {
                return Err(NotifyError::Invalid("channel", "No tenés ningún dispositivo registrado para ese canal".into()));
            }
            user.id.clone()
        }
        Channel::Telegram => app.config.notifications.telegram_bot.as_ref().map(|b| b.chat_id.clone()).unwrap_or_default(),
    };
    drop(conn);
    let test_id = new_id();
    let rendered = json!({"subject": content.subject, "text": content.text, "html": content.html});
    let event = NewEvent {
        store_id: Some(store_id.to_string()),
        kind: key.kind,
        dedupe_key: format!("template_test:{test_id}"),
        data: json!({"orderId": order_id, "test": {"rendered": rendered}}),
        secret: false,
        fan_out_at: None,
    };
    let recipient = Recipient {
        key: format!("user:{}", user.id),
        user_id: Some(user.id.clone()),
        name: user.name.clone(),
        locale: key.locale,
        addresses: Vec::new(),
    };
    let mut tx = app.db.begin().await?;
    let event_id = events::record(&mut tx, app, event.clone()).await?.ok_or(NotifyError::UnknownTemplate)?;
    let event =
        events::Event { id: event_id, store_id: event.store_id, kind: key.kind, data: event.data, fanned_out: false, fanout_cursor: None };
    let notification = NotificationRow {
        id: new_id(),
        event: &event,
        recipient: &recipient,
        voice: key.voice,
        in_app: &content,
        in_inbox: key.channel == Channel::InApp,
    };
    messages::insert_notifications(&mut tx, std::slice::from_ref(&notification)).await?;
    let in_app = key.channel == Channel::InApp;
    let message = MessageRow {
        id: new_id(),
        notification_id: notification.id.clone(),
        store_id: Some(store_id),
        channel: key.channel,
        address: &address,
        next: &[],
        status: if in_app { MessageStatus::Delivered } else { MessageStatus::Queued },
    };
    messages::insert_messages(&mut tx, std::slice::from_ref(&message)).await?;
    if !in_app {
        notify_deliver::enqueue(&mut tx, app, &message.id, None).await?;
    }
    tx.commit().await?;
    let sent = TestSent { message_id: message.id, address };
    Ok(Done::new(sent, Effects::wake_jobs(true)))
}

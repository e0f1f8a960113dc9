//! Fanning an event out (the `notify_fanout` job): its workflow's steps give recipients and
//! channels; each recipient gets one notification and each usable channel one message, queued
//! for delivery (`notify_deliver`) except in-app, which is the inbox row itself. The writes are
//! one transaction that first claims the event, so a crash leaves either nothing or everything,
//! and a second run does nothing.

use feria_domain::notify::{Channel, MessageStatus};
use feria_domain::time::{self, Timestamp};

use super::content::{self, Subject};
use super::events::{self, Event};
use super::live::LiveEvent;
use super::recipients::{self, Recipient};
use super::store_templates::{self, Key};
use super::templates::{self, Content};
use super::workflows::{self, Step};
use super::{NotifyError, broadcasts, devices, messages, preferences};
use std::collections::HashMap;

use feria_db::AnyConnection;
use serde_json::json;

use crate::app::{App, AppState};
use crate::jobs::notify_deliver;

/// What a fan-out did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FannedOut {
    pub notifications: usize,
    /// Messages queued for a provider.
    pub queued: usize,
    /// In-app messages, in inboxes at once.
    pub in_app: usize,
    /// Who got a new inbox item: user and notification.
    pub inboxed: Vec<(String, String)>,
}

/// One recipient's share of a step: their notification's in-app text and the channels to use.
struct Planned {
    recipient: Recipient,
    voice: templates::Voice,
    in_app: Content,
    channels: Vec<(Channel, String)>,
    fallback: bool,
    /// The end of the recipient's quiet hours, when in them: text messages and pushes wait.
    hold_until: Option<Timestamp>,
}

/// Fans out the event `event_id` unless it was already. Recipients are read and texts rendered
/// first, on a reader; the inserts then go through the group commit (on SQLite they share a
/// commit with the orders being placed at the same moment).
pub async fn fan_out(app: &AppState, event_id: &str) -> Result<FannedOut, NotifyError> {
    let mut conn = app.db.reader().acquire().await?;
    let Some(event) = events::load(&mut conn, app, event_id).await? else { return Ok(FannedOut::default()) };
    if event.fanned_out {
        return Ok(FannedOut::default());
    }
    let plan = plan(&mut conn, app, &event).await?;
    drop(conn);
    let (db, writer) = (app.db.clone(), app.clone());
    let done = db.write(Box::new(move |conn| Box::pin(async move { write(conn, &writer, &event, plan).await }))).await?;
    let events =
        done.inboxed.iter().map(|(user, id)| LiveEvent { user_id: user.clone(), payload: json!({"type": "notification", "id": id}) });
    app.live.publish(events.collect()).await;
    Ok(done)
}

/// Claims the event and writes its notifications and messages, queuing their deliveries.
async fn write(conn: &mut AnyConnection, app: &App, event: &Event, plan: Vec<Planned>) -> Result<FannedOut, NotifyError> {
    let mut done = FannedOut::default();
    let claimed = sqlx::query("UPDATE notification_events SET fanned_out_at = $1 WHERE id = $2 AND fanned_out_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(&event.id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(done);
    }
    let store = event.store_id.as_deref();
    for planned in plan {
        let channels = &planned.channels;
        let in_inbox = channels.iter().any(|(c, _)| *c == Channel::InApp);
        let notification = messages::notification(conn, event, &planned.recipient, planned.voice, &planned.in_app, in_inbox).await?;
        done.notifications += 1;
        let sends: Vec<(usize, usize)> =
            if planned.fallback { vec![(0, channels.len())] } else { (0..channels.len()).map(|i| (i, i + 1)).collect() };
        for (first, end) in sends {
            let (channel, address) = &channels[first];
            if *channel == Channel::InApp {
                if messages::insert(conn, &notification, store, (*channel, address), &[], MessageStatus::Delivered).await?.is_some() {
                    done.in_app += 1;
                    if let Some(user) = &planned.recipient.user_id {
                        done.inboxed.push((user.clone(), notification.clone()));
                    }
                }
                continue;
            }
            let next = &channels[first + 1..end];
            if let Some(id) = messages::insert(conn, &notification, store, (*channel, address), next, MessageStatus::Queued).await? {
                let run_at = planned.hold_until.filter(|_| intrusive(*channel));
                notify_deliver::enqueue(conn, app, &id, run_at).await?;
                done.queued += 1;
            }
        }
    }
    Ok(done)
}

/// Who the event's workflow reaches, on which channels (as their preferences allow), with what
/// in-app text.
async fn plan(conn: &mut AnyConnection, app: &App, event: &Event) -> Result<Vec<Planned>, NotifyError> {
    if let Some(broadcast) = event.data["broadcastId"].as_str()
        && broadcasts::cancelled(conn, broadcast).await?
    {
        return Ok(Vec::new());
    }
    let subject = Subject::load(conn, event).await?;
    let custom = store_templates::overrides(conn, event.store_id.as_deref(), event.kind).await?;
    let (category, critical, now) = (event.kind.category(), event.kind.critical(), time::now());
    let mut plan = Vec::new();
    for step in workflows::shipped(event.kind) {
        let found = recipients::resolve(conn, app, step.audience, &subject, event.store_id.as_deref()).await?;
        let users: Vec<&str> = found.iter().filter_map(|r| r.user_id.as_deref()).collect();
        let mut chosen = preferences::of_many(conn, &users).await?;
        let mut pushes = devices::channels_of(conn, &users).await?;
        for mut recipient in found {
            let mut hold_until = None;
            let preferences = recipient.user_id.as_ref().map(|user| chosen.remove(user).unwrap_or_default());
            if let Some(user) = &recipient.user_id {
                for channel in pushes.remove(user).unwrap_or_default() {
                    recipient.addresses.push((channel, user.clone()));
                }
            }
            if let Some(p) = &preferences {
                recipient.locale = templates::locale(p.settings.locale.as_deref());
                if let Some(phone) = &p.settings.phone {
                    recipient.addresses.retain(|(c, _)| *c != Channel::Sms);
                    recipient.addresses.push((Channel::Sms, phone.clone()));
                }
                hold_until = p.quiet_hours().and_then(|q| q.until(now)).filter(|_| !critical);
            }
            let stopped = match (&preferences, recipient.address(Channel::Email)) {
                (None, Some(email)) if !critical => preferences::suppressed(conn, email, category).await?,
                _ => false,
            };
            let wanted = |channel: Channel| {
                critical
                    || match &preferences {
                        Some(p) => p.allows(category, channel),
                        None => preferences::default_allows(category, channel) && !(channel == Channel::Email && stopped),
                    }
            };
            let values = content::values(event, &subject, &recipient.name);
            let channels: Vec<_> = usable_channels(app, event, step, &recipient, &values, &custom)?
                .into_iter()
                .filter(|(channel, _)| wanted(*channel))
                .collect();
            if channels.is_empty() {
                continue;
            }
            let voice = step.audience.voice();
            let key = Key { kind: event.kind, voice, channel: Channel::InApp, locale: recipient.locale };
            let in_app = store_templates::render(&custom, key, &values)?.unwrap_or_default();
            plan.push(Planned { recipient, voice, in_app, channels, fallback: step.fallback, hold_until });
        }
    }
    Ok(plan)
}

/// Channels that interrupt (a phone buzzing): they wait out quiet hours.
fn intrusive(channel: Channel) -> bool {
    matches!(channel, Channel::Sms | Channel::Push | Channel::WebPush)
}

/// The step's channels, in order, that feria can send on, the recipient can be reached on, and
/// the event has a template for; with the address on each.
fn usable_channels(
    app: &App,
    event: &Event,
    step: &Step,
    recipient: &Recipient,
    values: &minijinja::Value,
    custom: &HashMap<(String, String, String), String>,
) -> Result<Vec<(Channel, String)>, NotifyError> {
    let mut usable = Vec::new();
    for channel in step.channels {
        let Some(address) = recipient.address(*channel) else { continue };
        if !recipients::configured(app, *channel) {
            continue;
        }
        let key = Key { kind: event.kind, voice: step.audience.voice(), channel: *channel, locale: recipient.locale };
        let content: Option<Content> = store_templates::render(custom, key, values)?;
        if content.is_some() {
            usable.push((*channel, address.to_string()));
        }
    }
    Ok(usable)
}

//! Fanning an event out (the `notify_fanout` job): its workflow's steps give recipients and
//! channels; each recipient gets one notification and each usable channel one message, queued
//! for delivery (`notify_deliver`) except in-app, which is the inbox row itself. The writes are
//! one transaction that first claims the event, so a crash leaves either nothing or everything,
//! and a second run does nothing.

use feria_domain::notify::{Channel, MessageStatus};
use feria_domain::time;

use super::content::{self, Subject};
use super::events::{self, Event};
use super::recipients::{self, Recipient};
use super::templates::{self, Content};
use super::workflows::{self, Step};
use super::{NotifyError, messages};
use crate::app::App;
use crate::jobs::notify_deliver;

/// What a fan-out did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FannedOut {
    pub notifications: usize,
    /// Messages queued for a provider.
    pub queued: usize,
    /// In-app messages, in inboxes at once.
    pub in_app: usize,
}

/// One recipient's share of a step: their notification's in-app text and the channels to use.
struct Planned {
    recipient: Recipient,
    voice: templates::Voice,
    in_app: Content,
    channels: Vec<(Channel, String)>,
    fallback: bool,
}

/// Fans out the event `event_id` unless it was already. Recipients are read and texts rendered
/// first, on a reader; only the inserts hold the writer (SQLite's is one for the whole node).
pub async fn fan_out(app: &App, event_id: &str) -> Result<FannedOut, NotifyError> {
    let mut done = FannedOut::default();
    let mut conn = app.db.reader().acquire().await?;
    let Some(event) = events::load(&mut conn, app, event_id).await? else { return Ok(done) };
    if event.fanned_out {
        return Ok(done);
    }
    let plan = plan(&mut conn, app, &event).await?;
    drop(conn);

    let mut tx = app.db.begin().await?;
    let claimed = sqlx::query("UPDATE notification_events SET fanned_out_at = $1 WHERE id = $2 AND fanned_out_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(&event.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(done);
    }
    let store = event.store_id.as_deref();
    for planned in plan {
        let notification = messages::notification(&mut tx, &event, &planned.recipient, planned.voice, &planned.in_app).await?;
        done.notifications += 1;
        let channels = &planned.channels;
        let sends: Vec<(usize, usize)> =
            if planned.fallback { vec![(0, channels.len())] } else { (0..channels.len()).map(|i| (i, i + 1)).collect() };
        for (first, end) in sends {
            let (channel, address) = &channels[first];
            if *channel == Channel::InApp {
                if messages::insert(&mut tx, &notification, store, (*channel, address), &[], MessageStatus::Delivered).await?.is_some() {
                    sqlx::query("UPDATE notifications SET in_inbox = 1 WHERE id = $1").bind(&notification).execute(&mut *tx).await?;
                    done.in_app += 1;
                }
                continue;
            }
            let next = &channels[first + 1..end];
            if let Some(id) = messages::insert(&mut tx, &notification, store, (*channel, address), next, MessageStatus::Queued).await? {
                notify_deliver::enqueue(&mut tx, app, &id).await?;
                done.queued += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(done)
}

/// Who the event's workflow reaches, on which channels, with what in-app text.
async fn plan(conn: &mut feria_db::AnyConnection, app: &App, event: &Event) -> Result<Vec<Planned>, NotifyError> {
    let subject = Subject::load(conn, event).await?;
    let mut plan = Vec::new();
    for step in workflows::shipped(event.kind) {
        for recipient in recipients::resolve(conn, app, step.audience, &subject, event.store_id.as_deref()).await? {
            let values = content::values(event, &subject, &recipient.name);
            let channels = usable_channels(app, event, step, &recipient, &values)?;
            if channels.is_empty() {
                continue;
            }
            let voice = step.audience.voice();
            let in_app = templates::render(event.kind, voice, recipient.locale, Channel::InApp, &values)?.unwrap_or_default();
            plan.push(Planned { recipient, voice, in_app, channels, fallback: step.fallback });
        }
    }
    Ok(plan)
}

/// The step's channels, in order, that feria can send on, the recipient can be reached on, and
/// the event has a template for; with the address on each.
fn usable_channels(
    app: &App,
    event: &Event,
    step: &Step,
    recipient: &Recipient,
    values: &minijinja::Value,
) -> Result<Vec<(Channel, String)>, NotifyError> {
    let mut usable = Vec::new();
    for channel in step.channels {
        let Some(address) = recipient.address(*channel) else { continue };
        if !recipients::configured(app, *channel) {
            continue;
        }
        let content: Option<Content> = templates::render(event.kind, step.audience.voice(), recipient.locale, *channel, values)?;
        if content.is_some() {
            usable.push((*channel, address.to_string()));
        }
    }
    Ok(usable)
}

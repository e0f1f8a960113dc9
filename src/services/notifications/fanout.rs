//! Fanning an event out (the `notify_fanout` job): its workflow's steps give recipients and
//! channels; each recipient gets one notification and each usable channel one message, queued
//! for delivery (`notify_deliver`) except in-app, which is the inbox row itself. A runner's batch
//! of events is written in one transaction that first claims them, so a crash leaves either
//! nothing or everything, and a second run does nothing.

use feria_domain::notify::{Channel, EventKind, MessageStatus};
use feria_domain::time::{self, Timestamp};

use super::content::{self, Subject};
use super::events::{self, Event, NewEvent};
use super::live::LiveEvent;
use super::messages::{MessageRow, NotificationRow};
use super::recipients::{self, Recipient};
use super::store_templates::{self, Key};
use super::store_workflows::{self, StepSettings};
use super::templates::{self, Content};
use super::workflows;
use super::{NotifyError, broadcasts, devices, digests, low_stock, messages, preferences};
use std::collections::{HashMap, HashSet};

use feria_db::{AnyConnection, Args};
use feria_domain::ids::new_id;
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
    /// Events this one raised (a product running low), queued for their own fan-out.
    pub raised: usize,
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

/// Fans out the event `event_id` unless it was already (see [`fan_out_many`]).
pub async fn fan_out(app: &AppState, event_id: &str) -> Result<FannedOut, NotifyError> {
    let (done, mut failed) = fan_out_many(app, &[event_id.to_string()]).await?;
    match failed.pop() {
        Some((_, e)) => Err(e),
        None => Ok(done),
    }
}

/// Fans out the events `event_ids` (a runner's batch) that were not already. Each is read and
/// planned on a reader (recipients, texts rendered); those whose plan failed are answered apart
/// with their error. The rest are claimed and written in one write through the group commit (on
/// SQLite it shares a commit with the orders being placed at the same moment), a statement per
/// table for all of them.
pub async fn fan_out_many(app: &AppState, event_ids: &[String]) -> Result<(FannedOut, Vec<(String, NotifyError)>), NotifyError> {
    let mut conn = app.db.reader().acquire().await?;
    let (mut planned, mut failed) = (Vec::new(), Vec::new());
    for id in event_ids {
        let found = match events::load(&mut conn, app, id).await {
            Ok(found) => found,
            Err(e) => {
                failed.push((id.clone(), e.into()));
                continue;
            }
        };
        let Some(event) = found.filter(|e| !e.fanned_out) else { continue };
        match plan(&mut conn, app, &event).await {
            Ok(plan) => planned.push((event, plan)),
            Err(e) => failed.push((id.clone(), e)),
        }
    }
    drop(conn);
    if planned.is_empty() {
        return Ok((FannedOut::default(), failed));
    }
    let (db, writer) = (app.db.clone(), app.clone());
    let done = db.write(Box::new(move |conn| Box::pin(async move { write(conn, &writer, planned).await }))).await?;
    let events =
        done.inboxed.iter().map(|(user, id)| LiveEvent { user_id: user.clone(), payload: json!({"type": "notification", "id": id}) });
    app.live.publish(events.collect()).await;
    Ok((done, failed))
}

/// Claims the events not fanned out yet and writes their notifications and messages, queuing
/// their deliveries.
async fn write(conn: &mut AnyConnection, app: &App, planned: Vec<(Event, Plan)>) -> Result<FannedOut, NotifyError> {
    let mut done = FannedOut::default();
    let mut args = Args::default();
    let now = args.add(time::to_db(time::now()));
    let ids: Vec<String> = planned.iter().map(|(e, _)| args.add(e.id.clone())).collect();
    let sql = format!(
        "UPDATE notification_events SET fanned_out_at = {now} WHERE id IN ({}) AND fanned_out_at IS NULL RETURNING id",
        ids.join(", ")
    );
    let claimed: Vec<String> = sqlx::query_scalar_with(&sql, args.into_inner()).fetch_all(&mut *conn).await?;
    let (mut notifications, mut messages) = (Vec::new(), Vec::new());
    for (event, plan) in &planned {
        if !claimed.contains(&event.id) {
            continue;
        }
        for raised in &plan.raised {
            done.raised += usize::from(events::emit(conn, app, raised.clone()).await?);
        }
        let store = event.store_id.as_deref();
        if let Some(store) = store {
            for gathered in &plan.gathered {
                digests::gather(conn, app, store, event.kind, gathered.step, gathered.minutes, gathered.total).await?;
            }
        }
        // A recipient of several steps (the staff's inbox and their alert) has one notification.
        let mut theirs: HashMap<&str, usize> = HashMap::new();
        let mut sent_on = HashSet::new();
        for planned in &plan.recipients {
            let channels = &planned.channels;
            let in_inbox = channels.iter().any(|(c, _)| *c == Channel::InApp);
            let index = *theirs.entry(&planned.recipient.key).or_insert_with(|| {
                notifications.push(NotificationRow {
                    id: new_id(),
                    event,
                    recipient: &planned.recipient,
                    voice: planned.voice,
                    in_app: &planned.in_app,
                    in_inbox: false,
                });
                notifications.len() - 1
            });
            let notification = &mut notifications[index];
            notification.in_inbox |= in_inbox;
            let notification_id = notification.id.clone();
            let sends: Vec<(usize, usize)> =
                if planned.fallback { vec![(0, channels.len())] } else { (0..channels.len()).map(|i| (i, i + 1)).collect() };
            for (first, end) in sends {
                let (channel, address) = &channels[first];
                if !sent_on.insert((notification_id.clone(), *channel)) {
                    continue;
                }
                let in_app = *channel == Channel::InApp;
                let status = if in_app { MessageStatus::Delivered } else { MessageStatus::Queued };
                let row = MessageRow {
                    id: new_id(),
                    notification_id: notification_id.clone(),
                    store_id: store,
                    channel: *channel,
                    address,
                    next: if in_app { &[] } else { &channels[first + 1..end] },
                    status,
                };
                let run_at = planned.hold_until.filter(|_| intrusive(*channel)).unwrap_or_else(time::now);
                messages.push((row, planned.recipient.user_id.as_deref(), run_at));
            }
        }
    }
    // Only new notifications get messages (a forced second run finds them all there).
    let inserted = messages::insert_notifications(conn, &notifications).await?;
    done.notifications = inserted.len();
    messages.retain(|(row, _, _)| inserted.contains(&row.notification_id));
    let mut deliveries = Vec::new();
    for (row, user, run_at) in &messages {
        if row.channel == Channel::InApp {
            done.in_app += 1;
            if let Some(user) = user {
                done.inboxed.push((user.to_string(), row.notification_id.clone()));
            }
        } else {
            deliveries.push((notify_deliver::payload(&row.id), *run_at));
            done.queued += 1;
        }
    }
    let rows: Vec<MessageRow> = messages.into_iter().map(|(row, _, _)| row).collect();
    messages::insert_messages(conn, &rows).await?;
    feria_jobs::enqueue_many(conn, notify_deliver::KIND, &deliveries, app.config.jobs.max_attempts).await?;
    Ok(done)
}

/// What a fan-out will write: the recipients' notifications, and the steps whose notifications
/// a digest gathers instead.
#[derive(Default)]
struct Plan {
    recipients: Vec<Planned>,
    gathered: Vec<Gathered>,
    /// Events the event raises (products an order left low on stock).
    raised: Vec<NewEvent>,
}

/// An event counted into a step's open digest (or opening one that closes in `minutes`).
struct Gathered {
    step: &'static str,
    minutes: i64,
    /// The order's total, if the event is about one.
    total: i64,
}

/// Whether `step`, as the store set it, runs for `event`: it is on and the event meets its
/// conditions.
fn runs(settings: &StepSettings, event: &Event, subject: &Subject) -> bool {
    let total = subject.order.as_ref().map_or(0, |o| o.total);
    settings.enabled
        && settings.min_total.is_none_or(|min| total >= min)
        && settings.statuses.as_ref().is_none_or(|codes| event.data["statusCode"].as_str().is_some_and(|c| codes.iter().any(|s| s == c)))
}

/// Who the event's workflow reaches, on which channels (as the store set its steps and the
/// recipients' preferences allow), with what in-app text. A digest's event reaches its step only.
async fn plan(conn: &mut AnyConnection, app: &App, event: &Event) -> Result<Plan, NotifyError> {
    let mut plan = Plan::default();
    // A template's test was written with its one message.
    if event.data["test"].is_object() {
        return Ok(plan);
    }
    if let Some(broadcast) = event.data["broadcastId"].as_str()
        && broadcasts::cancelled(conn, broadcast).await?
    {
        return Ok(plan);
    }
    let subject = Subject::load(conn, event).await?;
    let custom = store_templates::overrides(conn, event.store_id.as_deref(), event.kind).await?;
    let mut stored = store_workflows::of_event(conn, event.store_id.as_deref(), event.kind).await?;
    let digest_of = event.data["digest"]["step"].as_str();
    if let (EventKind::OrderPlaced, None, Some(store), Some(order)) = (event.kind, digest_of, &event.store_id, &subject.order) {
        plan.raised = low_stock::raised(conn, store, order).await?;
    }
    let (category, critical, now) = (event.kind.category(), event.kind.critical(), time::now());
    for step in workflows::shipped(event.kind) {
        let settings = match stored.remove(step.name) {
            Some((settings, _)) if workflows::configurable(event.kind, step) => settings,
            _ => StepSettings::shipped(step),
        };
        match digest_of {
            Some(name) if name != step.name => continue,
            Some(_) => {}
            None if !runs(&settings, event, &subject) => continue,
            None if settings.digest_minutes > 0 => {
                let total = subject.order.as_ref().map_or(0, |o| o.total);
                plan.gathered.push(Gathered { step: step.name, minutes: settings.digest_minutes, total });
                continue;
            }
            None => {}
        }
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
            let voice = step.audience.voice();
            let key = Key { kind: event.kind, voice, channel: Channel::InApp, locale: recipient.locale };
            let in_app = store_templates::render(&custom, key, &values)?;
            let reachable = settings.channels.iter().filter(|c| wanted(**c));
            let channels = usable_channels(app, (key, in_app.is_some()), reachable, &recipient, &values, &custom)?;
            if channels.is_empty() {
                continue;
            }
            let in_app = in_app.unwrap_or_default();
            plan.recipients.push(Planned { recipient, voice, in_app, channels, fallback: step.fallback, hold_until });
        }
    }
    Ok(plan)
}

/// Channels that interrupt (a phone buzzing): they wait out quiet hours.
fn intrusive(channel: Channel) -> bool {
    matches!(channel, Channel::Sms | Channel::Push | Channel::WebPush)
}

/// Of `channels` (in order), those feria can send on, the recipient can be reached on, and the
/// event has a template for (`in_app`'s key, but for each channel; whether the in-app one
/// rendered is known); with the address on each.
fn usable_channels<'a>(
    app: &App,
    (in_app, has_in_app): (Key, bool),
    channels: impl Iterator<Item = &'a Channel>,
    recipient: &Recipient,
    values: &minijinja::Value,
    custom: &HashMap<(String, String, String), String>,
) -> Result<Vec<(Channel, String)>, NotifyError> {
    let mut usable = Vec::new();
    for channel in channels {
        let Some(address) = recipient.address(*channel) else { continue };
        if !recipients::configured(app, *channel) {
            continue;
        }
        let has_text = match channel {
            Channel::InApp => has_in_app,
            _ => store_templates::render(custom, Key { channel: *channel, ..in_app }, values)?.is_some(),
        };
        if has_text {
            usable.push((*channel, address.to_string()));
        }
    }
    Ok(usable)
}

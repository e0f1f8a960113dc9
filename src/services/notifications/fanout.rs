//! Fanning an event out (the `notify_fanout` job): its workflow's steps give recipients and
//! channels; each recipient gets one notification and each usable channel one message, queued
//! for delivery (`notify_deliver`) except in-app, which is the inbox row itself. A runner's batch
//! of events is written in one transaction that first claims them, so a crash leaves either
//! nothing or everything, and a second run does nothing. A large audience (a broadcast to every
//! customer) goes a chunk at a time, each chunk's write queuing the next one's job.

use feria_domain::notify::{Channel, EventKind, MessageStatus};
use feria_domain::time::{self, Timestamp};

use super::content::{self, Subject};
use super::events::{self, Event, NewEvent};
use super::fanout_reads::Reads;
use super::live::LiveEvent;
use super::messages::{MessageRow, NotificationRow};
use super::recipients::{self, Recipient};
use super::store_templates::{self, Key, Overrides};
use super::store_workflows::StepSettings;
use super::templates::{self, Content};
use super::workflows;
use super::{NotifyError, broadcasts, digests, messages, preferences};
use std::collections::{HashMap, HashSet};

use feria_db::{AnyConnection, Args};
use feria_domain::ids::new_id;
use serde_json::json;

use crate::app::{App, AppState};
use crate::jobs::{notify_deliver, notify_fanout};

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
    /// Next chunks of large audiences queued.
    pub continued: usize,
}

/// A fan-out job's share of an event: all of it, or, for a large audience, the chunk of
/// recipients after the one `after` names (see [`recipients::CHUNK`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portion {
    pub event_id: String,
    /// `None`: the event's first fan-out (every step, and a large audience's first chunk).
    pub after: Option<String>,
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
    let (done, mut failed) = fan_out_many(app, &[Portion { event_id: event_id.to_string(), after: None }]).await?;
    match failed.pop() {
        Some((_, e)) => Err(e),
        None => Ok(done),
    }
}

/// Fans out the `portions` of events (a runner's batch) that were not already. Each is read and
/// planned on a reader (recipients, texts rendered); those whose plan failed are answered apart
/// with their error, by their index in `portions`. The rest are claimed and written in one
/// write through the group commit (on SQLite it shares a commit with the orders being placed at
/// the same moment), a statement per table for all of them.
pub async fn fan_out_many(app: &AppState, portions: &[Portion]) -> Result<(FannedOut, Vec<(usize, NotifyError)>), NotifyError> {
    let mut conn = app.db.reader().acquire().await?;
    let ids: Vec<&str> = portions.iter().map(|p| p.event_id.as_str()).collect();
    let mut reads = Reads::load(&mut conn, app, &ids).await?;
    let (mut planned, mut failed) = (Vec::new(), Vec::new());
    for (index, portion) in portions.iter().enumerate() {
        let pending = |e: &&Event| match &portion.after {
            None => !e.fanned_out,
            Some(after) => e.fanout_cursor.as_ref() == Some(after),
        };
        let Some(event) = reads.event(&portion.event_id).filter(pending).cloned() else { continue };
        match plan(&mut conn, app, &mut reads, &event, portion.after.as_deref()).await {
            Ok(plan) => planned.push((event, plan)),
            Err(e) => failed.push((index, e)),
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

/// Claims the events not fanned out yet (and the chunks not written yet) and writes their
/// notifications and messages, queuing their deliveries and their next chunks.
async fn write(conn: &mut AnyConnection, app: &App, planned: Vec<(Event, Plan)>) -> Result<FannedOut, NotifyError> {
    let mut done = FannedOut::default();
    let claimed = claim(conn, &planned).await?;
    let (mut notifications, mut messages) = (Vec::new(), Vec::new());
    let mut next_chunks = Vec::new();
    for (event, plan) in &planned {
        if !claimed.contains(&event.id) {
            continue;
        }
        if let (Some(cursor), true) = (&plan.chunk.reached, plan.chunk.full) {
            next_chunks.push((notify_fanout::payload(&event.id, Some(cursor)), time::now()));
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
    done.continued = next_chunks.len();
    feria_jobs::enqueue_many(conn, notify_fanout::KIND, &next_chunks, app.config.jobs.max_attempts).await?;
    Ok(done)
}

/// The events of `planned` this write may go on with: a first fan-out claims its event (once:
/// `fanned_out_at`); a chunk moves its event's cursor on from where it was planned (once per
/// chunk), to the last recipient it reached while more follow, else to none (the fan-out is
/// over). Answers their ids.
async fn claim(conn: &mut AnyConnection, planned: &[(Event, Plan)]) -> Result<HashSet<String>, sqlx::Error> {
    let mut claimed = HashSet::new();
    let mut args = Args::default();
    let now = args.add(time::to_db(time::now()));
    let firsts: Vec<String> = planned.iter().filter(|(_, p)| p.chunk.after.is_none()).map(|(e, _)| args.add(e.id.clone())).collect();
    if !firsts.is_empty() {
        let sql = format!(
            "UPDATE notification_events SET fanned_out_at = {now} WHERE id IN ({}) AND fanned_out_at IS NULL RETURNING id",
            firsts.join(", ")
        );
        claimed.extend(sqlx::query_scalar_with::<_, String, _>(&sql, args.into_inner()).fetch_all(&mut *conn).await?);
    }
    for (event, plan) in planned {
        let chunk = &plan.chunk;
        if chunk.after.is_none() && !chunk.full {
            continue;
        }
        let moved = sqlx::query(
            "UPDATE notification_events SET fanout_cursor = $1
             WHERE id = $2 AND fanned_out_at IS NOT NULL AND COALESCE(fanout_cursor, '') = $3",
        )
        .bind(chunk.reached.as_deref().filter(|_| chunk.full))
        .bind(&event.id)
        .bind(plan.chunk.after.as_deref().unwrap_or(""))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if chunk.after.is_some() && moved == 1 {
            claimed.insert(event.id.clone());
        }
    }
    Ok(claimed)
}

/// What a fan-out will write: the recipients' notifications, and the steps whose notifications
/// a digest gathers instead.
#[derive(Default)]
struct Plan {
    recipients: Vec<Planned>,
    gathered: Vec<Gathered>,
    /// Events the event raises (products an order left low on stock).
    raised: Vec<NewEvent>,
    /// Which chunk of a large audience it covers.
    chunk: Chunk,
}

/// A chunk of a large audience: after which recipient it starts (`None`: the event's first
/// fan-out), the last one it reached, and whether it was full (then another follows).
/// `reached` is `Some` whenever `full` is.
#[derive(Default)]
struct Chunk {
    after: Option<String>,
    reached: Option<String>,
    full: bool,
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
async fn plan(conn: &mut AnyConnection, app: &App, reads: &mut Reads, event: &Event, after: Option<&str>) -> Result<Plan, NotifyError> {
    let mut plan = Plan { chunk: Chunk { after: after.map(str::to_string), ..Chunk::default() }, ..Plan::default() };
    // A template's test was written with its one message.
    if event.data["test"].is_object() {
        return Ok(plan);
    }
    if let Some(broadcast) = event.data["broadcastId"].as_str()
        && broadcasts::cancelled(conn, broadcast).await?
    {
        return Ok(plan);
    }
    let subject = reads.subject(event);
    let custom = reads.overrides(conn, event.store_id.as_deref(), event.kind).await?;
    let mut stored = reads.steps(conn, event.store_id.as_deref(), event.kind).await?;
    let digest_of = event.data["digest"]["step"].as_str();
    if let (EventKind::OrderPlaced, None, None, Some(store), Some(order)) = (event.kind, digest_of, after, &event.store_id, &subject.order)
    {
        plan.raised = reads.low_stock(store, order);
    }
    let (category, critical, now) = (event.kind.category(), event.kind.critical(), time::now());
    for step in workflows::shipped(event.kind) {
        let chunked = recipients::chunked(step.audience, &subject);
        // A later chunk is the large audience's step alone.
        if after.is_some() && !chunked {
            continue;
        }
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
        let found = if chunked {
            let (found, reached) = recipients::resolve_chunk(conn, &subject, event.store_id.as_deref(), after).await?;
            plan.chunk.full = found.len() == recipients::CHUNK;
            plan.chunk.reached = reached;
            found
        } else {
            reads.recipients(conn, app, step.audience, &subject, event.store_id.as_deref()).await?
        };
        let users: Vec<&str> = found.iter().filter_map(|r| r.user_id.as_deref()).collect();
        let (mut chosen, mut pushes) = reads.preferences(conn, &users).await?;
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
                (None, Some(email)) if !critical && recipients::configured(app, Channel::Email) => {
                    preferences::suppressed(conn, email, category).await?
                }
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
    custom: &Overrides,
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

//! Announcements ("cerramos el feriado") and emergencies (seed 003) to an audience: a store's
//! customers, staff or owners, or every user of the platform (the platform's admin only). An
//! announcement respects preferences and quiet hours; an emergency goes at once on every
//! channel (in-app, email, SMS, push) whatever they say. Sent now or at `send_at` (cancellable
//! until then); the report counts each recipient's messages by status, and failed ones can be
//! sent again. Attachments (images, PDF documents) go to the catalog's file store and reach
//! every channel as links: listed in the email and the in-app item, appended to the text.

use feria_db::{AnyRow, Db, Row};
use feria_domain::access::Scope;
use feria_domain::ids::new_id;
use feria_domain::notify::{EventKind, MessageStatus};
use feria_domain::roles::Role;
use feria_domain::time::{self, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::events::{self, NewEvent};
use super::{NotifyError, messages};
use crate::app::App;
use crate::jobs::notify_deliver;
use crate::services::effects::{Done, Effects};
use crate::services::files::{FileFormat, StoredFile};
use crate::services::identity::caller::Caller;

/// Who a broadcast is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastAudience {
    Customers,
    Staff,
    Owners,
    /// Every user of the platform.
    Everyone,
}

impl BroadcastAudience {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastAudience::Customers => "customers",
            BroadcastAudience::Staff => "staff",
            BroadcastAudience::Owners => "owners",
            BroadcastAudience::Everyone => "everyone",
        }
    }

    pub fn parse(text: &str) -> Option<BroadcastAudience> {
        [BroadcastAudience::Customers, BroadcastAudience::Staff, BroadcastAudience::Owners, BroadcastAudience::Everyone]
            .into_iter()
            .find(|a| a.as_str() == text)
    }
}

/// Most files a broadcast may attach.
pub const MAX_ATTACHMENTS: usize = 5;

/// A file to attach, already recognised as one feria stores.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// The file's name as the recipients see it.
    pub name: String,
    pub format: FileFormat,
    pub bytes: axum::body::Bytes,
}

/// An attached file as its recipients get it: a link to the file store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub name: String,
    pub url: String,
    pub content_type: String,
    pub size: u64,
}

/// The attachments an event's `data` carries (none for events that are not broadcasts).
pub fn attachments(data: &Value) -> Vec<Attachment> {
    serde_json::from_value(data["attachments"].clone()).unwrap_or_default()
}

/// A broadcast to send.
#[derive(Debug, Clone)]
pub struct NewBroadcast {
    pub emergency: bool,
    pub audience: BroadcastAudience,
    pub title: String,
    pub body: String,
    /// Later than now: scheduled.
    pub send_at: Option<Timestamp>,
    /// At most [`MAX_ATTACHMENTS`].
    pub attachments: Vec<NewAttachment>,
}

/// A broadcast and how its messages stand.
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub id: String,
    pub store_id: Option<String>,
    pub kind: String,
    pub audience: String,
    pub title: String,
    pub body: String,
    pub send_at: String,
    /// `scheduled` (until it goes out), `sending` (while its audience is written a chunk at a
    /// time), `sent` or `cancelled`.
    pub status: String,
    pub created_at: String,
    pub attachments: Vec<Attachment>,
    /// Recipients reached so far.
    pub recipients: i64,
    /// Messages by status.
    pub messages: Vec<(String, i64)>,
}

const COLUMNS: &str = "b.id, b.store_id, b.kind, b.audience, b.title, b.body, b.send_at, b.status, b.created_at, b.event_id, e.fanned_out_at, e.fanout_cursor, e.data";

/// Whether `caller` may send to `audience` in `store_id`: a store's settings writers for its
/// own people, the platform's admin for everyone.
fn may_send(caller: &Caller, store_id: &str, audience: BroadcastAudience) -> bool {
    match audience {
        BroadcastAudience::Everyone => caller.roles.iter().any(|r| r == Role::Admin.as_str()),
        _ => caller.may(store_id, Scope::SettingsWrite),
    }
}

/// Creates and queues (or schedules) a broadcast in `store_id`.
pub async fn send(app: &App, caller: &Caller, store_id: &str, new: NewBroadcast) -> Result<Done<Broadcast>, NotifyError> {
    if !may_send(caller, store_id, new.audience) {
        return Err(NotifyError::Forbidden);
    }
    let files: Vec<_> = new.attachments.iter().map(|a| (a.format, &a.bytes[..])).collect();
    let stored = app.files.put_all("broadcasts", &files).await?;
    match record(app, caller, store_id, &new, &stored).await {
        Ok(id) => {
            let broadcast = get(&app.db, caller, store_id, &id).await?;
            Ok(Done::new(broadcast, Effects::wake_jobs(new.send_at.is_none_or(|at| at <= time::now()))))
        }
        Err(e) => {
            app.files.delete_all(&stored).await;
            Err(e)
        }
    }
}

/// Writes broadcast `new` (its files already `stored`) with its event; answers its id.
async fn record(app: &App, caller: &Caller, store_id: &str, new: &NewBroadcast, stored: &[StoredFile]) -> Result<String, NotifyError> {
    let now = time::now();
    let send_at = new.send_at.filter(|at| *at > now);
    let id = new_id();
    let kind = if new.emergency { EventKind::Emergency } else { EventKind::Announcement };
    let attached: Vec<Attachment> = new
        .attachments
        .iter()
        .zip(stored)
        .map(|(file, at)| Attachment {
            name: file.name.clone(),
            // A local store's files are served by feria itself: the link names its address.
            url: if at.url.starts_with('/') { format!("{}{}", app.config.payments.public_url, at.url) } else { at.url.clone() },
            content_type: file.format.content_type().to_string(),
            size: file.bytes.len() as u64,
        })
        .collect();
    let mut tx = app.db.begin().await?;
    let event = NewEvent {
        store_id: Some(store_id.to_string()),
        kind,
        dedupe_key: format!("broadcast:{id}"),
        data: json!({
            "broadcastId": id, "audience": new.audience.as_str(), "title": new.title, "body": new.body, "attachments": attached,
        }),
        secret: false,
        fan_out_at: send_at,
    };
    let event_id = events::record(&mut tx, app, event).await?.ok_or(NotifyError::UnknownBroadcast)?;
    sqlx::query(
        "INSERT INTO notification_broadcasts (id, store_id, created_by, kind, audience, title, body, send_at, status, event_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'scheduled', $9, $10, $10)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(&caller.id)
    .bind(if new.emergency { "emergency" } else { "announcement" })
    .bind(new.audience.as_str())
    .bind(&new.title)
    .bind(&new.body)
    .bind(time::to_db(send_at.unwrap_or(now)))
    .bind(&event_id)
    .bind(time::to_db(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn broadcast(row: &AnyRow) -> Result<Broadcast, sqlx::Error> {
    let fanned_out: Option<String> = row.try_get("fanned_out_at")?;
    let status: String = row.try_get("status")?;
    let data: String = row.try_get("data")?;
    Ok(Broadcast {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        kind: row.try_get("kind")?,
        audience: row.try_get("audience")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        send_at: row.try_get("send_at")?,
        status: match (status.as_str(), fanned_out, row.try_get::<Option<String>, _>("fanout_cursor")?) {
            ("scheduled", Some(_), Some(_)) => "sending".into(),
            ("scheduled", Some(_), None) => "sent".into(),
            _ => status,
        },
        created_at: row.try_get("created_at")?,
        attachments: attachments(&serde_json::from_str(&data).unwrap_or(Value::Null)),
        recipients: 0,
        messages: Vec::new(),
    })
}

/// The store's broadcast `id` with its report.
pub async fn get(db: &Db, caller: &Caller, store_id: &str, id: &str) -> Result<Broadcast, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    let mut conn = db.reader().acquire().await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM notification_broadcasts b JOIN notification_events e ON e.id = b.event_id WHERE b.id = $1 AND b.store_id = $2"
    );
    let row = sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(&mut *conn).await?.ok_or(NotifyError::UnknownBroadcast)?;
    let mut found = broadcast(&row)?;
    let event_id: String = row.try_get("event_id")?;
    found.recipients =
        sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE event_id = $1").bind(&event_id).fetch_one(&mut *conn).await?;
    let counts = sqlx::query(
        "SELECT m.status, COUNT(*) AS n FROM notification_messages m JOIN notifications n ON n.id = m.notification_id
         WHERE n.event_id = $1 GROUP BY m.status ORDER BY m.status",
    )
    .bind(&event_id)
    .fetch_all(&mut *conn)
    .await?;
    found.messages = counts.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect::<Result<_, sqlx::Error>>()?;
    Ok(found)
}

/// The store's broadcasts, newest first, with the total (without their reports).
pub async fn page(db: &Db, caller: &Caller, store_id: &str, limit: i64, offset: i64) -> Result<(i64, Vec<Broadcast>), NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_broadcasts WHERE store_id = $1")
        .bind(store_id)
        .fetch_one(db.reader())
        .await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM notification_broadcasts b JOIN notification_events e ON e.id = b.event_id
         WHERE b.store_id = $1 ORDER BY b.created_at DESC, b.id DESC LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(&sql).bind(store_id).bind(limit).bind(offset).fetch_all(db.reader()).await?;
    Ok((total, rows.iter().map(broadcast).collect::<Result<_, _>>()?))
}

/// Cancels a broadcast that has not gone out yet.
pub async fn cancel(db: &Db, caller: &Caller, store_id: &str, id: &str) -> Result<Broadcast, NotifyError> {
    let current = get(db, caller, store_id, id).await?;
    if current.status != "scheduled" {
        return Err(NotifyError::AlreadySent);
    }
    let cancelled = sqlx::query(
        "UPDATE notification_broadcasts SET status = 'cancelled', updated_at = $1
         WHERE id = $2 AND store_id = $3 AND status = 'scheduled'
           AND event_id IN (SELECT id FROM notification_events WHERE fanned_out_at IS NULL)",
    )
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(db.writer())
    .await?
    .rows_affected();
    if cancelled == 0 {
        return Err(NotifyError::AlreadySent);
    }
    get(db, caller, store_id, id).await
}

/// Whether the broadcast behind an event was cancelled (its fan-out then does nothing).
pub async fn cancelled(conn: &mut feria_db::AnyConnection, broadcast_id: &str) -> Result<bool, sqlx::Error> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM notification_broadcasts WHERE id = $1").bind(broadcast_id).fetch_optional(conn).await?;
    Ok(status.as_deref() == Some("cancelled"))
}

/// Sends again every failed or bounced message of the broadcast; how many were queued.
pub async fn retry_failed(app: &App, caller: &Caller, store_id: &str, id: &str) -> Result<Done<u64>, NotifyError> {
    get(&app.db, caller, store_id, id).await?;
    let mut tx = app.db.begin().await?;
    let failed: Vec<String> = sqlx::query_scalar(
        "SELECT m.id FROM notification_messages m JOIN notifications n ON n.id = m.notification_id
         JOIN notification_broadcasts b ON b.event_id = n.event_id
         WHERE b.id = $1 AND m.status IN ($2, $3)",
    )
    .bind(id)
    .bind(MessageStatus::Failed.as_str())
    .bind(MessageStatus::Bounced.as_str())
    .fetch_all(&mut *tx)
    .await?;
    for message in &failed {
        if messages::requeue(&mut tx, message, store_id).await? {
            notify_deliver::enqueue(&mut tx, app, message, None).await?;
        }
    }
    tx.commit().await?;
    Ok(Done::new(failed.len() as u64, Effects::wake_jobs(!failed.is_empty())))
}

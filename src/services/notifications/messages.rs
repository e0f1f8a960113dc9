//! The rows of a delivery: a notification per recipient, a message per channel, an attempt per
//! try. Inserting is idempotent on (event, recipient) and (notification, channel).

use std::collections::HashSet;

use feria_db::{AnyConnection, Args, Row};
use feria_domain::notify::{Channel, EventKind, MessageStatus};
use feria_domain::{ids::new_id, time};

use super::events::Event;
use super::recipients::Recipient;
use super::templates::{Content, Voice};

/// Rows per `INSERT` (at most 14 values each: under both databases' limit on bound values).
const ROWS_PER_STATEMENT: usize = 50;

/// A notification to insert: `event` told to `recipient`, with its in-app text, shown in their
/// inbox when `in_inbox`.
pub struct NotificationRow<'a> {
    pub id: String,
    pub event: &'a Event,
    pub recipient: &'a Recipient,
    pub voice: Voice,
    pub in_app: &'a Content,
    pub in_inbox: bool,
}

/// A message to insert: `notification_id` on `channel` to `address`, with `next` to try if it
/// fails.
pub struct MessageRow<'a> {
    pub id: String,
    pub notification_id: String,
    pub store_id: Option<&'a str>,
    pub channel: Channel,
    pub address: &'a str,
    pub next: &'a [(Channel, String)],
    pub status: MessageStatus,
}

fn next_json(next: &[(Channel, String)]) -> String {
    let next: Vec<[&str; 2]> = next.iter().map(|(c, a)| [c.as_str(), a.as_str()]).collect();
    serde_json::to_string(&next).expect("strings serialise")
}

/// Inserts `rows`, a few hundred a statement, but those whose event and recipient have one
/// already; answers the ids of the ones inserted.
pub async fn insert_notifications(conn: &mut AnyConnection, rows: &[NotificationRow<'_>]) -> Result<HashSet<String>, sqlx::Error> {
    let now = time::to_db(time::now());
    let mut inserted = HashSet::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut args = Args::default();
        let at = args.add(now.clone());
        let values: Vec<String> = chunk
            .iter()
            .map(|r| {
                let values = [
                    args.add(r.id.clone()),
                    args.add(r.event.id.clone()),
                    args.add(r.event.store_id.clone()),
                    args.add(r.recipient.key.clone()),
                    args.add(r.recipient.user_id.clone()),
                    args.add(r.recipient.name.clone()),
                    args.add(r.voice.as_str()),
                    args.add(r.event.kind.as_str()),
                    args.add(r.event.kind.category().as_str()),
                    args.add(r.recipient.locale),
                    args.add(r.in_app.subject.clone().unwrap_or_else(|| r.event.kind.as_str().to_string())),
                    args.add(r.in_app.text.clone()),
                    args.add(i64::from(r.in_inbox)),
                    at.clone(),
                ];
                format!("({})", values.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO notifications (id, event_id, store_id, recipient_key, user_id, recipient_name, voice, kind, category, locale,
                                        title, body, in_inbox, created_at)
             VALUES {} ON CONFLICT (event_id, recipient_key) DO NOTHING RETURNING id",
            values.join(", ")
        );
        let ids: Vec<String> = sqlx::query_scalar_with(&sql, args.into_inner()).fetch_all(&mut *conn).await?;
        inserted.extend(ids);
    }
    Ok(inserted)
}

/// Inserts `rows` (none already there for their notification and channel), a few hundred a
/// statement.
pub async fn insert_messages(conn: &mut AnyConnection, rows: &[MessageRow<'_>]) -> Result<(), sqlx::Error> {
    let now = time::to_db(time::now());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut args = Args::default();
        let at = args.add(now.clone());
        let values: Vec<String> = chunk
            .iter()
            .map(|r| {
                let values = [
                    args.add(r.id.clone()),
                    args.add(r.notification_id.clone()),
                    args.add(r.store_id.map(str::to_string)),
                    args.add(r.channel.as_str()),
                    args.add(r.address.to_string()),
                    args.add(next_json(r.next)),
                    args.add(r.status.as_str()),
                    args.add(r.status.rank()),
                ];
                format!("({}, 0, {at}, {at})", values.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO notification_messages (id, notification_id, store_id, channel, address, next_channels, status, status_rank,
                                                attempts, created_at, updated_at)
             VALUES {} ON CONFLICT (notification_id, channel) DO NOTHING",
            values.join(", ")
        );
        sqlx::query_with(&sql, args.into_inner()).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds the message of `notification_id` on `channel` to `address`, with `next` to try if it
/// fails; `None` when that channel already has one.
pub async fn insert(
    conn: &mut AnyConnection,
    notification_id: &str,
    store_id: Option<&str>,
    (channel, address): (Channel, &str),
    next: &[(Channel, String)],
    status: MessageStatus,
) -> Result<Option<String>, sqlx::Error> {
    let id = new_id();
    let now = time::to_db(time::now());
    let inserted = sqlx::query(
        "INSERT INTO notification_messages (id, notification_id, store_id, channel, address, next_channels, status, status_rank,
                                            attempts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9) ON CONFLICT (notification_id, channel) DO NOTHING",
    )
    .bind(&id)
    .bind(notification_id)
    .bind(store_id)
    .bind(channel.as_str())
    .bind(address)
    .bind(next_json(next))
    .bind(status.as_str())
    .bind(status.rank())
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some(id))
}

/// A message with what rendering it needs.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub notification_id: String,
    pub event_id: String,
    pub store_id: Option<String>,
    pub kind: EventKind,
    /// `user:<id>`, `email:<address>` or `shop`.
    pub recipient_key: String,
    pub voice: Voice,
    pub locale: String,
    pub recipient_name: String,
    pub channel: Channel,
    pub address: String,
    pub next: Vec<(Channel, String)>,
    pub status: MessageStatus,
    /// Why it last did not go out.
    pub error_code: Option<String>,
    pub attempts: i64,
}

pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<Message>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT m.id, m.notification_id, n.event_id, m.store_id, n.kind, n.recipient_key, n.voice, n.locale, n.recipient_name, m.channel, m.address,
                m.next_channels, m.status, m.error_code, m.attempts
         FROM notification_messages m JOIN notifications n ON n.id = m.notification_id WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (Some(kind), Some(channel), Some(status)) = (
        EventKind::parse(&row.try_get::<String, _>("kind")?),
        Channel::parse(&row.try_get::<String, _>("channel")?),
        MessageStatus::parse(&row.try_get::<String, _>("status")?),
    ) else {
        return Ok(None);
    };
    let next: Vec<[String; 2]> = serde_json::from_str(&row.try_get::<String, _>("next_channels")?).unwrap_or_default();
    Ok(Some(Message {
        id: row.try_get("id")?,
        notification_id: row.try_get("notification_id")?,
        event_id: row.try_get("event_id")?,
        store_id: row.try_get("store_id")?,
        kind,
        recipient_key: row.try_get("recipient_key")?,
        voice: Voice::parse(&row.try_get::<String, _>("voice")?).unwrap_or(Voice::Customer),
        locale: row.try_get("locale")?,
        recipient_name: row.try_get("recipient_name")?,
        channel,
        address: row.try_get("address")?,
        next: next.into_iter().filter_map(|[c, a]| Some((Channel::parse(&c)?, a))).collect(),
        status,
        error_code: row.try_get("error_code")?,
        attempts: row.try_get("attempts")?,
    }))
}

/// How a try went, for the attempts log and the message's row.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub status: MessageStatus,
    pub provider: Option<&'a str>,
    pub provider_message_id: Option<&'a str>,
    /// A short machine-readable reason (`gone`, `refused`, `retry`, `not_configured`).
    pub error_code: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Records one try of message `id` and leaves the message at `outcome.status` (the sender owns
/// the row while it sends, so this may move it back to `queued` for a retry).
pub async fn record_try(conn: &mut AnyConnection, id: &str, outcome: &Outcome<'_>) -> Result<(), sqlx::Error> {
    let now = time::to_db(time::now());
    sqlx::query(
        "UPDATE notification_messages SET status = $1, status_rank = $2, attempts = attempts + 1, provider = $3,
                provider_message_id = COALESCE($4, provider_message_id), error_code = $5, error = $6, updated_at = $7
         WHERE id = $8",
    )
    .bind(outcome.status.as_str())
    .bind(outcome.status.rank())
    .bind(outcome.provider)
    .bind(outcome.provider_message_id)
    .bind(outcome.error_code)
    .bind(outcome.detail)
    .bind(&now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO notification_attempts (id, message_id, provider, outcome, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(id)
    .bind(outcome.provider.unwrap_or("-"))
    .bind(outcome.error_code.unwrap_or(outcome.status.as_str()))
    .bind(outcome.detail)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves message `id` to `status` only if that is further along than where it is; says whether
/// it moved. For reports that arrive late or twice (provider callbacks).
pub async fn advance(conn: &mut AnyConnection, id: &str, status: MessageStatus, error_code: Option<&str>) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE notification_messages SET status = $1, status_rank = $2, error_code = COALESCE($3, error_code), updated_at = $4
         WHERE id = $5 AND status_rank < $2",
    )
    .bind(status.as_str())
    .bind(status.rank())
    .bind(error_code)
    .bind(time::to_db(time::now()))
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// Puts message `id` back in the queue with a fresh set of attempts, if it ended without going
/// out (failed, bounced or skipped) and belongs to `store_id`; says whether it did. The caller
/// queues its delivery in the same transaction.
pub async fn requeue(conn: &mut AnyConnection, id: &str, store_id: &str) -> Result<bool, sqlx::Error> {
    let ended = [MessageStatus::Failed, MessageStatus::Bounced, MessageStatus::Skipped].map(MessageStatus::as_str);
    let moved = sqlx::query(
        "UPDATE notification_messages SET status = $1, status_rank = $2, attempts = 0, error_code = NULL, error = NULL, updated_at = $3
         WHERE id = $4 AND store_id = $5 AND status IN ($6, $7, $8)",
    )
    .bind(MessageStatus::Queued.as_str())
    .bind(MessageStatus::Queued.rank())
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .bind(ended[0])
    .bind(ended[1])
    .bind(ended[2])
    .execute(conn)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

//! A signed-in user's in-app inbox: their notifications that went in-app, newest first, with
//! an unread count; marking read (one or all) and archiving. Only ever the caller's own rows: an
//! id of someone else's notification is answered like an unknown one.

use feria_db::{AnyRow, Db, Row};
use feria_domain::notify::{Channel, MessageStatus};
use feria_domain::time;

use super::broadcasts::{self, Attachment};
use super::{NotifyError, messages};
use crate::services::identity::caller::Caller;

/// One inbox item.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub store_id: Option<String>,
    pub kind: String,
    pub category: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    /// A broadcast's files.
    pub attachments: Vec<Attachment>,
    pub read_at: Option<String>,
    pub archived_at: Option<String>,
    pub created_at: String,
}

/// An item's columns, with its event's data when it is a broadcast (which may attach files).
const COLUMNS: &str = "id, store_id, kind, category, title, body, link, read_at, archived_at, created_at,
    (SELECT e.data FROM notification_events e
     WHERE e.id = notifications.event_id AND notifications.kind IN ('announcement', 'emergency')) AS broadcast_data";

fn item(row: &AnyRow) -> Result<Item, sqlx::Error> {
    Ok(Item {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        kind: row.try_get("kind")?,
        category: row.try_get("category")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        link: row.try_get("link")?,
        attachments: match row.try_get::<Option<String>, _>("broadcast_data")? {
            Some(data) => broadcasts::attachments(&serde_json::from_str(&data).unwrap_or_default()),
            None => Vec::new(),
        },
        read_at: row.try_get("read_at")?,
        archived_at: row.try_get("archived_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Which items to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only unread ones.
    pub unread: bool,
    /// The archived ones instead of the others.
    pub archived: bool,
    /// One store's.
    pub store_id: Option<String>,
}

/// A page of the caller's inbox and its total.
pub async fn page(db: &Db, caller: &Caller, filter: &Filter, limit: i64, offset: i64) -> Result<(i64, Vec<Item>), NotifyError> {
    let archived = if filter.archived { "archived_at IS NOT NULL" } else { "archived_at IS NULL" };
    let unread = if filter.unread { "AND read_at IS NULL" } else { "" };
    let scope = format!("user_id = $1 AND in_inbox = 1 AND {archived} {unread} AND ($2 IS NULL OR store_id = $2)");
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM notifications WHERE {scope}"))
        .bind(&caller.id)
        .bind(&filter.store_id)
        .fetch_one(db.reader())
        .await?;
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE {scope} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4");
    let rows = sqlx::query(&sql).bind(&caller.id).bind(&filter.store_id).bind(limit).bind(offset).fetch_all(db.reader()).await?;
    Ok((total, rows.iter().map(item).collect::<Result<_, _>>()?))
}

/// How many of the caller's inbox items (in one store, when given) are unread and not archived.
pub async fn unread_count(db: &Db, caller: &Caller, store_id: Option<&str>) -> Result<i64, NotifyError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications
         WHERE user_id = $1 AND in_inbox = 1 AND read_at IS NULL AND archived_at IS NULL AND ($2 IS NULL OR store_id = $2)",
    )
    .bind(&caller.id)
    .bind(store_id)
    .fetch_one(db.reader())
    .await?)
}

/// The caller's inbox item `id`.
pub async fn find(db: &Db, caller: &Caller, id: &str) -> Result<Option<Item>, NotifyError> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1 AND user_id = $2 AND in_inbox = 1");
    let row = sqlx::query(&sql).bind(id).bind(&caller.id).fetch_optional(db.reader()).await?;
    Ok(row.as_ref().map(item).transpose()?)
}

/// What to do with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Read,
    Archive,
}

/// Marks the caller's item `id` read or archived (archiving also reads it); the item as it is
/// now. Doing it twice keeps the first time.
pub async fn change(db: &Db, caller: &Caller, id: &str, change: Change) -> Result<Item, NotifyError> {
    let now = time::to_db(time::now());
    let set = match change {
        Change::Read => "read_at = COALESCE(read_at, $1)",
        Change::Archive => "read_at = COALESCE(read_at, $1), archived_at = COALESCE(archived_at, $1)",
    };
    let mut tx = db.begin().await?;
    let sql = format!("UPDATE notifications SET {set} WHERE id = $2 AND user_id = $3 AND in_inbox = 1");
    if sqlx::query(&sql).bind(&now).bind(id).bind(&caller.id).execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(NotifyError::UnknownNotification);
    }
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM notifications WHERE id = $1")).bind(id).fetch_one(&mut *tx).await?;
    let item = item(&row)?;
    let in_app: Option<String> = sqlx::query_scalar("SELECT id FROM notification_messages WHERE notification_id = $1 AND channel = $2")
        .bind(id)
        .bind(Channel::InApp.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(message) = in_app {
        messages::advance(&mut tx, &message, MessageStatus::Read, None).await?;
    }
    tx.commit().await?;
    Ok(item)
}

/// Marks every unread item of the caller (in one store, when given) read; how many changed.
pub async fn read_all(db: &Db, caller: &Caller, store_id: Option<&str>) -> Result<u64, NotifyError> {
    let now = time::to_db(time::now());
    let mut tx = db.begin().await?;
    let scope = "user_id = $2 AND in_inbox = 1 AND read_at IS NULL AND ($3 IS NULL OR store_id = $3)";
    sqlx::query(&format!(
        "UPDATE notification_messages SET status = $1, status_rank = $4, updated_at = $5
         WHERE channel = 'in_app' AND status_rank < $4 AND notification_id IN (SELECT id FROM notifications WHERE {scope})"
    ))
    .bind(MessageStatus::Read.as_str())
    .bind(&caller.id)
    .bind(store_id)
    .bind(MessageStatus::Read.rank())
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let changed = sqlx::query(&format!("UPDATE notifications SET read_at = $1 WHERE {scope}"))
        .bind(&now)
        .bind(&caller.id)
        .bind(store_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(changed)
}

//! A store's delivery log: every message its events produced, with status, provider, attempts
//! and errors, filtered; retrying the ones that failed. Read with `customers:read` (it shows
//! customers' addresses), retried with `customers:write`. A store sees only its own messages.

use feria_db::{AnyRow, Db, Row};
use feria_domain::access::Scope;

use super::{NotifyError, messages};
use crate::app::App;
use crate::jobs::notify_deliver;
use crate::services::identity::caller::Caller;

/// One message as the log shows it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub notification_id: String,
    pub kind: String,
    pub category: String,
    pub recipient_name: String,
    pub channel: String,
    pub address: String,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One try with a provider.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub provider: String,
    pub outcome: String,
    pub detail: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "m.id, m.notification_id, n.kind, n.category, n.recipient_name, m.channel, m.address, m.provider,
                       m.provider_message_id, m.status, m.attempts, m.error_code, m.error, m.created_at, m.updated_at";

fn delivery(row: &AnyRow) -> Result<Delivery, sqlx::Error> {
    Ok(Delivery {
        id: row.try_get("id")?,
        notification_id: row.try_get("notification_id")?,
        kind: row.try_get("kind")?,
        category: row.try_get("category")?,
        recipient_name: row.try_get("recipient_name")?,
        channel: row.try_get("channel")?,
        address: row.try_get("address")?,
        provider: row.try_get("provider")?,
        provider_message_id: row.try_get("provider_message_id")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        error_code: row.try_get("error_code")?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Which messages to list; each filter given narrows the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub kind: Option<String>,
    pub notification_id: Option<String>,
    /// The exact address (email, phone, chat).
    pub address: Option<String>,
    /// Storage-form timestamps: from (inclusive), to (exclusive).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A page of the store's log, newest first, with the total.
pub async fn page(
    db: &Db,
    caller: &Caller,
    store_id: &str,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Delivery>), NotifyError> {
    if !caller.may(store_id, Scope::CustomersRead) {
        return Err(NotifyError::Forbidden);
    }
    let scope = "FROM notification_messages m JOIN notifications n ON n.id = m.notification_id
                 WHERE m.store_id = $1 AND ($2 IS NULL OR m.status = $2) AND ($3 IS NULL OR m.channel = $3)
                   AND ($4 IS NULL OR n.kind = $4) AND ($5 IS NULL OR m.notification_id = $5) AND ($6 IS NULL OR m.address = $6)
                   AND ($7 IS NULL OR m.created_at >= $7) AND ($8 IS NULL OR m.created_at < $8)";
    let count = format!("SELECT COUNT(*) AS total {scope}");
    let total: i64 = sqlx::query_scalar(&count)
        .bind(store_id)
        .bind(&f.status)
        .bind(&f.channel)
        .bind(&f.kind)
        .bind(&f.notification_id)
        .bind(&f.address)
        .bind(&f.from)
        .bind(&f.to)
        .fetch_one(db.reader())
        .await?;
    let list = format!("SELECT {COLUMNS} {scope} ORDER BY m.created_at DESC, m.id DESC LIMIT $9 OFFSET $10");
    let rows = sqlx::query(&list)
        .bind(store_id)
        .bind(&f.status)
        .bind(&f.channel)
        .bind(&f.kind)
        .bind(&f.notification_id)
        .bind(&f.address)
        .bind(&f.from)
        .bind(&f.to)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.reader())
        .await?;
    Ok((total, rows.iter().map(delivery).collect::<Result<_, _>>()?))
}

/// The store's message `id` with its tries, oldest first.
pub async fn get(db: &Db, caller: &Caller, store_id: &str, id: &str) -> Result<(Delivery, Vec<Attempt>), NotifyError> {
    if !caller.may(store_id, Scope::CustomersRead) {
        return Err(NotifyError::Forbidden);
    }
    let mut conn = db.reader().acquire().await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM notification_messages m JOIN notifications n ON n.id = m.notification_id WHERE m.id = $1 AND m.store_id = $2"
    );
    let row = sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(&mut *conn).await?;
    let found = delivery(&row.ok_or(NotifyError::UnknownMessage)?)?;
    let rows = sqlx::query(
        "SELECT provider, outcome, detail, created_at FROM notification_attempts WHERE message_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let attempts = rows
        .iter()
        .map(|r| {
            Ok(Attempt {
                provider: r.try_get("provider")?,
                outcome: r.try_get("outcome")?,
                detail: r.try_get("detail")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((found, attempts))
}

/// Sends the store's failed (or bounced, or skipped) message `id` again, with a fresh set of
/// attempts; the message as it is now, queued.
pub async fn retry(app: &App, caller: &Caller, store_id: &str, id: &str) -> Result<Delivery, NotifyError> {
    if !caller.may(store_id, Scope::CustomersWrite) {
        return Err(NotifyError::Forbidden);
    }
    let mut tx = app.db.begin().await?;
    let moved = messages::requeue(&mut tx, id, store_id).await?;
    if !moved {
        let exists: Option<String> = sqlx::query_scalar("SELECT status FROM notification_messages WHERE id = $1 AND store_id = $2")
            .bind(id)
            .bind(store_id)
            .fetch_optional(&mut *tx)
            .await?;
        return Err(if exists.is_some() { NotifyError::NotRetryable } else { NotifyError::UnknownMessage });
    }
    notify_deliver::enqueue(&mut tx, app, id, None).await?;
    tx.commit().await?;
    app.job_wake.notify_one();
    Ok(get(&app.db, caller, store_id, id).await?.0)
}

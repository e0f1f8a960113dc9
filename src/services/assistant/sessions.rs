//! Conversations with the assistant (seed 001's sessions). A visitor's session is reached by
//! its unguessable id; a signed-in caller's only by that caller. Sessions expire after
//! `CHAT_SESSION_TTL` without messages and are deleted `CHAT_SESSION_RETENTION` later.

use feria_db::{AnyConnection, Db};
use feria_domain::ids::new_id;
use feria_domain::time;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use utoipa::ToSchema;

use super::{AssistantError, Source, UserType, usage};
use crate::app::App;
use crate::crypto::random_token;
use crate::services::identity::caller::Caller;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// In the store's list a visitor's session shows only its start and `…`: the whole id is
    /// the visitor's only credential.
    pub id: String,
    pub user_type: UserType,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub message_count: i64,
    pub created_at: String,
    pub last_activity: String,
    pub expires_at: String,
    #[serde(skip)]
    pub caller_id: Option<String>,
}

/// A message as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredMessage {
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    pub timestamp: String,
    pub sources: Vec<Source>,
}

const COLUMNS: &str = "id, user_type, metadata, message_count, created_at, last_activity, expires_at, caller_id";

fn session_of(r: &sqlx::any::AnyRow) -> Result<Session, sqlx::Error> {
    let user_type: String = r.try_get("user_type")?;
    Ok(Session {
        id: r.try_get("id")?,
        user_type: if user_type == "owner" { UserType::Owner } else { UserType::Customer },
        metadata: serde_json::from_str(&r.try_get::<String, _>("metadata")?).unwrap_or(Value::Null),
        message_count: r.try_get("message_count")?,
        created_at: r.try_get("created_at")?,
        last_activity: r.try_get("last_activity")?,
        expires_at: r.try_get("expires_at")?,
        caller_id: r.try_get("caller_id")?,
    })
}

fn expiry(app: &App, from: chrono::DateTime<chrono::Utc>) -> String {
    time::to_db(from + chrono::TimeDelta::from_std(app.config.chat.session_ttl).unwrap_or(chrono::TimeDelta::days(1)))
}

/// A new session for `caller` (a visitor when `None`), not yet stored.
pub fn fresh(app: &App, store_id: &str, caller: Option<&Caller>, user_type: UserType, metadata: Value) -> Result<Session, AssistantError> {
    if user_type == UserType::Owner {
        super::check_owner_mode(caller, store_id)?;
    }
    let now = time::now();
    Ok(Session {
        // A visitor holds nothing but this id: it must not be guessable.
        id: format!("chat_{}", random_token()),
        user_type,
        metadata,
        message_count: 0,
        created_at: time::to_db(now),
        last_activity: time::to_db(now),
        expires_at: expiry(app, now),
        caller_id: caller.map(|c| c.id.clone()),
    })
}

/// Stores a new session of the store, with `message_count` messages.
pub async fn insert(conn: &mut AnyConnection, store_id: &str, session: &Session, message_count: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_sessions (id, store_id, caller_id, user_type, metadata, message_count, created_at, last_activity, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&session.id)
    .bind(store_id)
    .bind(&session.caller_id)
    .bind(session.user_type.as_str())
    .bind(session.metadata.to_string())
    .bind(message_count)
    .bind(&session.created_at)
    .bind(&session.last_activity)
    .bind(&session.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens a session for `caller` (a visitor when `None`).
pub async fn open(
    app: &App,
    store_id: &str,
    caller: Option<&Caller>,
    user_type: UserType,
    metadata: Value,
) -> Result<Session, AssistantError> {
    let session = fresh(app, store_id, caller, user_type, metadata)?;
    insert(&mut *app.db.writer().acquire().await?, store_id, &session, 0).await?;
    Ok(session)
}

/// The session `id` of the store, if `caller` may use it: a visitor's session by whoever holds
/// its id, a signed-in caller's by that caller only. Expired sessions are not found.
pub async fn find(app: &App, store_id: &str, id: &str, caller: Option<&Caller>) -> Result<Session, AssistantError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM chat_sessions WHERE id = $1 AND store_id = $2 AND expires_at > $3"))
        .bind(id)
        .bind(store_id)
        .bind(time::to_db(time::now()))
        .fetch_optional(app.db.reader())
        .await?;
    let session = row.as_ref().map(session_of).transpose()?.ok_or(AssistantError::SessionNotFound)?;
    match &session.caller_id {
        Some(owner) if caller.is_none_or(|c| &c.id != owner) => Err(AssistantError::SessionNotFound),
        _ => Ok(session),
    }
}

/// The last `limit` messages of the session, oldest first.
pub async fn messages(db: &Db, session_id: &str, limit: i64) -> Result<Vec<StoredMessage>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, role, content, sources, created_at FROM chat_messages WHERE session_id = $1 ORDER BY position DESC LIMIT $2",
    )
    .bind(session_id)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut messages = rows
        .iter()
        .map(|r| {
            Ok(StoredMessage {
                id: r.try_get("id")?,
                role: r.try_get("role")?,
                content: r.try_get("content")?,
                timestamp: r.try_get("created_at")?,
                sources: serde_json::from_str(&r.try_get::<String, _>("sources")?).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    messages.reverse();
    Ok(messages)
}

/// A question and its answer, to be stored.
pub struct Turn<'a> {
    /// The session is new: stored with its first turn.
    pub is_new: bool,
    pub question: String,
    pub answer: String,
    pub sources: &'a [Source],
    /// The model calls that wrote the answer.
    pub usage: Vec<usage::Entry>,
}

/// Stores a turn: the session when it is new, the question and the answer, the session's
/// extended life and what the model calls cost, in one transaction; turns of many sessions are
/// committed together on SQLite (`Db::write`). The messages' positions come from the session's
/// count as updated in that transaction, so two questions answered at once in one session both
/// keep their turns.
pub async fn record_turn(app: &App, store_id: &str, session: &Session, turn: Turn<'_>) -> Result<(), sqlx::Error> {
    let now = time::now();
    let (at, expires) = (time::to_db(now), expiry(app, now));
    let Turn { is_new, question, answer, sources, usage } = turn;
    let store_id = store_id.to_string();
    let session = Session { last_activity: at.clone(), expires_at: expires.clone(), ..session.clone() };
    // PostgreSQL refuses NUL in text; nobody reads one.
    let (question, answer) = (question.replace('\0', ""), answer.replace('\0', ""));
    let sources = serde_json::to_string(sources).unwrap_or_else(|_| "[]".into());
    app.db
        .write(Box::new(move |conn| {
            Box::pin(async move {
                for entry in &usage {
                    entry.insert(conn).await?;
                }
                let count: i64 = if is_new {
                    insert(conn, &store_id, &session, 2).await?;
                    2
                } else {
                    sqlx::query_scalar(
                        "UPDATE chat_sessions SET message_count = message_count + 2, last_activity = $2, expires_at = $3 WHERE id = $1
                         RETURNING message_count",
                    )
                    .bind(&session.id)
                    .bind(&at)
                    .bind(&expires)
                    .fetch_one(&mut *conn)
                    .await?
                };
                sqlx::query(
                    "INSERT INTO chat_messages (id, session_id, position, role, content, sources, created_at)
                     VALUES ($1, $2, $3, 'user', $4, '[]', $5), ($6, $2, $7, 'assistant', $8, $9, $5)",
                )
                .bind(new_id())
                .bind(&session.id)
                .bind(count - 2)
                .bind(&question)
                .bind(&at)
                .bind(new_id())
                .bind(count - 1)
                .bind(&answer)
                .bind(&sources)
                .execute(&mut *conn)
                .await?;
                Ok::<_, sqlx::Error>(())
            })
        }))
        .await
}

/// Sessions deleted per statement of a sweep.
const PURGE_BATCH: i64 = 500;

/// Deletes the sessions (with their messages) that expired more than `CHAT_SESSION_RETENTION`
/// ago, up to ten batches a sweep; returns how many.
pub async fn purge_expired(app: &App) -> Result<u64, sqlx::Error> {
    let retention = chrono::TimeDelta::from_std(app.config.chat.session_retention).unwrap_or(chrono::TimeDelta::MAX);
    let before = time::to_db(time::now().checked_sub_signed(retention).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC));
    let mut purged = 0;
    for _ in 0..10 {
        let deleted = sqlx::query(
            "DELETE FROM chat_sessions WHERE id IN (SELECT id FROM chat_sessions WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)",
        )
        .bind(&before)
        .bind(PURGE_BATCH)
        .execute(app.db.writer())
        .await?
        .rows_affected();
        purged += deleted;
        if deleted < PURGE_BATCH as u64 {
            break;
        }
    }
    Ok(purged)
}

/// Which sessions the admin listing shows.
pub struct Filter {
    pub user_type: Option<UserType>,
    pub from: Option<String>,
    pub until: Option<String>,
}

/// Seed 001's session statistics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total_sessions: i64,
    pub active_sessions: i64,
    pub avg_messages_per_session: f64,
}

/// A page of the store's sessions, most recent activity first, with the statistics of all
/// that pass the filter. Visitors' ids are cut short (see [`Session::id`]).
pub async fn page(app: &App, store_id: &str, filter: &Filter, limit: i64, offset: i64) -> Result<(Vec<Session>, Stats), sqlx::Error> {
    let mut conditions = String::from("store_id = $1");
    let mut binds: Vec<String> = vec![store_id.to_string()];
    for (column, op, value) in [
        ("user_type", "=", filter.user_type.map(|u| u.as_str().to_string())),
        ("created_at", ">=", filter.from.clone()),
        ("created_at", "<", filter.until.clone()),
    ] {
        if let Some(value) = value {
            binds.push(value);
            conditions.push_str(&format!(" AND {column} {op} ${}", binds.len()));
        }
    }
    let now = time::to_db(time::now());
    let stats_sql = format!(
        "SELECT COUNT(*) AS total, CAST(COALESCE(SUM(CASE WHEN expires_at > ${} THEN 1 ELSE 0 END), 0) AS BIGINT) AS active,
                CAST(COALESCE(SUM(message_count), 0) AS BIGINT) AS messages
         FROM chat_sessions WHERE {conditions}",
        binds.len() + 1
    );
    let mut stats_query = sqlx::query(&stats_sql);
    for b in &binds {
        stats_query = stats_query.bind(b);
    }
    let row = stats_query.bind(&now).fetch_one(app.db.reader()).await?;
    let (total, active, messages): (i64, i64, i64) = (row.try_get("total")?, row.try_get("active")?, row.try_get("messages")?);
    let page_sql = format!(
        "SELECT {COLUMNS} FROM chat_sessions WHERE {conditions} ORDER BY last_activity DESC, id LIMIT ${} OFFSET ${}",
        binds.len() + 1,
        binds.len() + 2
    );
    let mut page_query = sqlx::query(&page_sql);
    for b in &binds {
        page_query = page_query.bind(b);
    }
    let rows = page_query.bind(limit).bind(offset).fetch_all(app.db.reader()).await?;
    let mut sessions = rows.iter().map(session_of).collect::<Result<Vec<_>, _>>()?;
    for session in sessions.iter_mut().filter(|s| s.caller_id.is_none()) {
        session.id = format!("{}…", &session.id[..session.id.len().min(12)]);
    }
    let average = if total == 0 { 0.0 } else { (messages as f64 / total as f64 * 100.0).round() / 100.0 };
    Ok((sessions, Stats { total_sessions: total, active_sessions: active, avg_messages_per_session: average }))
}

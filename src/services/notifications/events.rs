//! Emitting an event: one row and one fan-out job, in the caller's transaction, so the event is
//! kept exactly when what it tells is (an order placed, a status changed) and a request never
//! waits for recipients, templates or providers.

use std::collections::HashMap;

use feria_db::{AnyConnection, AnyRow, Args, Backend, Row};
use feria_domain::notify::EventKind;
use feria_domain::{ids::new_id, time};
use feria_jobs::INSERT_JOB;
use serde_json::Value;

use crate::app::App;
use crate::jobs::notify_fanout;

/// An event to tell people about.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The store it happened in; `None` for the platform.
    pub store_id: Option<String>,
    pub kind: EventKind,
    /// Emitting an event with a key already used changes nothing.
    pub dedupe_key: String,
    /// What templates and recipients read (ids, amounts, names).
    pub data: Value,
    /// `data` holds a secret (a reset link): it is stored sealed with ENCRYPTION_KEY.
    pub secret: bool,
    /// When to fan it out (a scheduled broadcast); `None`: now.
    pub fan_out_at: Option<feria_domain::time::Timestamp>,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub store_id: Option<String>,
    pub kind: EventKind,
    pub data: Value,
    pub fanned_out: bool,
    /// Where its fan-out got to, for a large audience fanned out in chunks.
    pub fanout_cursor: Option<String>,
}

/// Stores `event` and queues its fan-out on `conn` (the caller's transaction), in one round
/// trip. Answers the new event's id; `None` when the dedupe key was seen before (nothing queued).
pub async fn record(conn: &mut AnyConnection, app: &App, event: NewEvent) -> Result<Option<String>, sqlx::Error> {
    let id = new_id();
    let json = event.data.to_string();
    let data = if event.secret { app.sealer.seal(json.as_bytes()) } else { json };
    let mut args = Args::default();
    let values = [
        args.add(id.clone()),
        args.add(event.store_id.clone()),
        args.add(event.kind.as_str()),
        args.add(event.dedupe_key.clone()),
        args.add(data),
        args.add(i64::from(event.secret)),
        args.add(time::to_db(time::now())),
    ]
    .join(", ");
    let insert = format!(
        "INSERT INTO notification_events (id, store_id, kind, dedupe_key, data, sealed, created_at) VALUES ({values})
         ON CONFLICT (dedupe_key) DO NOTHING"
    );
    let run_at = event.fan_out_at.unwrap_or_else(time::now);
    let (_, job) =
        feria_jobs::job_select(&mut args, notify_fanout::KIND, &notify_fanout::payload(&id, None), app.config.jobs.max_attempts, run_at);
    // The fan-out job only when the event was new.
    let sql = match Backend::of(conn) {
        Backend::Postgres => {
            format!("WITH event AS ({insert} RETURNING id) {INSERT_JOB} {job} WHERE EXISTS (SELECT 1 FROM event) RETURNING id")
        }
        Backend::Sqlite => format!("{insert};\n{INSERT_JOB} {job} WHERE changes() = 1 RETURNING id"),
    };
    // Every statement's rows (a single fetch would stop after SQLite's first statement).
    let queued = sqlx::query_with(&sql, args.into_inner()).fetch_all(&mut *conn).await?;
    Ok((!queued.is_empty()).then_some(id))
}

/// [`record`], saying only whether a job was queued.
pub async fn emit(conn: &mut AnyConnection, app: &App, event: NewEvent) -> Result<bool, sqlx::Error> {
    Ok(record(conn, app, event).await?.is_some())
}

/// The event `id`, its data opened; `None` when it is gone or its kind unknown (an older
/// feria's row) or its seal cannot be opened with the current key.
pub async fn load(conn: &mut AnyConnection, app: &App, id: &str) -> Result<Option<Event>, sqlx::Error> {
    Ok(load_many(conn, app, &[id]).await?.remove(id))
}

/// The events `ids` (a runner's batch) in one query, by id; those [`load`] would answer `None`
/// for are left out.
pub async fn load_many(conn: &mut AnyConnection, app: &App, ids: &[&str]) -> Result<HashMap<String, Event>, sqlx::Error> {
    let mut found = HashMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    let sql = format!(
        "SELECT id, store_id, kind, data, sealed, fanned_out_at, fanout_cursor FROM notification_events WHERE id IN ({})",
        feria_db::placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    for row in query.fetch_all(&mut *conn).await? {
        if let Some(event) = from_row(app, &row)? {
            found.insert(event.id.clone(), event);
        }
    }
    Ok(found)
}

fn from_row(app: &App, row: &AnyRow) -> Result<Option<Event>, sqlx::Error> {
    let Some(kind) = EventKind::parse(&row.try_get::<String, _>("kind")?) else { return Ok(None) };
    let stored: String = row.try_get("data")?;
    let json = if row.try_get::<i64, _>("sealed")? != 0 {
        match app.sealer.open(&stored).and_then(|bytes| String::from_utf8(bytes).ok()) {
            Some(json) => json,
            None => return Ok(None),
        }
    } else {
        stored
    };
    Ok(Some(Event {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        kind,
        data: serde_json::from_str(&json).unwrap_or(Value::Null),
        fanned_out: row.try_get::<Option<String>, _>("fanned_out_at")?.is_some(),
        fanout_cursor: row.try_get("fanout_cursor")?,
    }))
}

//! Digests: while a step's window is open, its events are only counted (and their orders'
//! totals added up); when it closes (`notify_digest`), one event of the same kind tells the
//! step's recipients the sum ("12 pedidos nuevos"). At most one window per store, event kind and
//! step is open (a unique index), so concurrent fan-outs count into the same one.

use chrono::TimeDelta;
use feria_db::{AnyConnection, Row};
use feria_domain::ids::new_id;
use feria_domain::notify::EventKind;
use feria_domain::time;
use serde_json::json;

use super::events::{self, NewEvent};
use crate::app::App;
use crate::jobs::notify_digest;

/// Counts an event of `kind` (about an order of `total`, or 0) into the open digest of `step`
/// in the store, opening one that closes in `minutes` (and queuing its closing) if none is.
pub async fn gather(
    conn: &mut AnyConnection,
    app: &App,
    store_id: &str,
    kind: EventKind,
    step: &str,
    minutes: i64,
    total: i64,
) -> Result<(), sqlx::Error> {
    let now = time::now();
    let due_at = now + TimeDelta::minutes(minutes);
    let row = sqlx::query(
        "INSERT INTO notification_digests (id, store_id, kind, step, events, total, opened_at, due_at)
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7)
         ON CONFLICT (store_id, kind, step) WHERE closed_at IS NULL
         DO UPDATE SET events = notification_digests.events + 1, total = notification_digests.total + $5
         RETURNING id, events",
    )
    .bind(new_id())
    .bind(store_id)
    .bind(kind.as_str())
    .bind(step)
    .bind(total)
    .bind(time::to_db(now))
    .bind(time::to_db(due_at))
    .fetch_one(&mut *conn)
    .await?;
    if row.try_get::<i64, _>("events")? == 1 {
        notify_digest::enqueue(conn, app, &row.try_get::<String, _>("id")?, due_at).await?;
    }
    Ok(())
}

/// Closes digest `id` and emits its event (once: a second close does nothing). The event's data
/// is `{"digest": {"step", "count", "total"}}`; its fan-out reaches that step only.
pub async fn close(conn: &mut AnyConnection, app: &App, id: &str) -> Result<(), sqlx::Error> {
    let closed = sqlx::query(
        "UPDATE notification_digests SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL RETURNING store_id, kind, step, events, total",
    )
    .bind(time::to_db(time::now()))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = closed else { return Ok(()) };
    let Some(kind) = EventKind::parse(&row.try_get::<String, _>("kind")?) else { return Ok(()) };
    let step: String = row.try_get("step")?;
    let data = json!({"digest": {"step": step, "count": row.try_get::<i64, _>("events")?, "total": row.try_get::<i64, _>("total")?}});
    let event = NewEvent {
        store_id: Some(row.try_get("store_id")?),
        kind,
        dedupe_key: format!("digest:{id}"),
        data,
        secret: false,
        fan_out_at: None,
    };
    if let Some(event_id) = events::record(conn, app, event).await? {
        sqlx::query("UPDATE notification_digests SET event_id = $1 WHERE id = $2").bind(event_id).bind(id).execute(conn).await?;
    }
    Ok(())
}

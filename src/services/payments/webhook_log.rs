//! Every provider webhook as it arrived (seed 001 webhook log): stored before it is processed,
//! then marked with what processing did.

use feria_db::{AnyConnection, AnyRow, Row};
use feria_domain::{ids::new_id, time};
use serde_json::Value;

/// A webhook as received.
pub struct Received<'a> {
    pub store_id: &'a str,
    /// `mercadopago` or `stripe`.
    pub source: &'a str,
    pub event_type: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    /// `webhook` (signed JSON), `ipn` (Mercado Pago's legacy query form) or `unknown`.
    pub format: &'a str,
    /// The headers worth keeping (signature, request id, user agent, content type).
    pub headers: &'a Value,
    pub query: &'a Value,
    pub body: &'a str,
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
    pub signature_valid: bool,
}

/// A stored webhook.
#[derive(Debug, Clone)]
pub struct WebhookLog {
    pub id: String,
    pub source: String,
    pub event_type: Option<String>,
    pub resource_id: Option<String>,
    pub format: String,
    pub headers: Value,
    pub query: Value,
    pub body: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub signature_valid: bool,
    pub processed: bool,
    pub outcome: Option<String>,
    pub duplicate_of: Option<String>,
    pub created_at: String,
    pub processed_at: Option<String>,
}

const COLUMNS: &str = "id, source, event_type, resource_id, format, headers, query, body, ip, user_agent, signature_valid, processed,
    outcome, duplicate_of, created_at, processed_at";

fn from_row(row: &AnyRow) -> Result<WebhookLog, sqlx::Error> {
    let json =
        |name: &str| -> Result<Value, sqlx::Error> { Ok(serde_json::from_str(&row.try_get::<String, _>(name)?).unwrap_or(Value::Null)) };
    Ok(WebhookLog {
        id: row.try_get("id")?,
        source: row.try_get("source")?,
        event_type: row.try_get("event_type")?,
        resource_id: row.try_get("resource_id")?,
        format: row.try_get("format")?,
        headers: json("headers")?,
        query: json("query")?,
        body: row.try_get("body")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        signature_valid: row.try_get::<i64, _>("signature_valid")? != 0,
        processed: row.try_get::<i64, _>("processed")? != 0,
        outcome: row.try_get("outcome")?,
        duplicate_of: row.try_get("duplicate_of")?,
        created_at: row.try_get("created_at")?,
        processed_at: row.try_get("processed_at")?,
    })
}

/// How much of a body or query that is not validly signed is kept: enough to see what was
/// sent, never whatever size an anonymous sender chooses.
const UNSIGNED_KEPT_BYTES: usize = 4096;

/// How much of the event type, resource id and user agent is kept (they come from the sender
/// before any signature is checked, and the resource id is indexed).
const FIELD_KEPT_BYTES: usize = 255;

/// `text` cut to at most `max` bytes on a character boundary, saying how long it was.
fn capped(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let end = (0..=max).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    format!("{}… [{} bytes in all; not signed, cut]", &text[..end], text.len()).into()
}

/// Stores a webhook before anything is done with it; returns its id. Of a webhook without a
/// valid signature only the first 4 KiB of body and query are kept.
pub async fn record(conn: &mut AnyConnection, w: &Received<'_>) -> Result<String, sqlx::Error> {
    let id = new_id();
    let max = if w.signature_valid { usize::MAX } else { UNSIGNED_KEPT_BYTES };
    let query = w.query.to_string();
    let query = if query.len() <= max { query } else { serde_json::json!({ "cut": capped(&query, max) }).to_string() };
    sqlx::query(
        "INSERT INTO webhook_logs (id, store_id, source, event_type, resource_id, format, headers, query, body, ip, user_agent,
         signature_valid, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&id)
    .bind(w.store_id)
    .bind(w.source)
    .bind(w.event_type.map(|t| capped(t, FIELD_KEPT_BYTES).into_owned()))
    .bind(w.resource_id.map(|r| capped(r, FIELD_KEPT_BYTES).into_owned()))
    .bind(w.format)
    .bind(w.headers.to_string())
    .bind(query)
    .bind(capped(w.body, max).into_owned())
    .bind(w.ip)
    .bind(w.user_agent.map(|u| capped(u, FIELD_KEPT_BYTES).into_owned()))
    .bind(feria_db::flag(w.signature_valid))
    .bind(time::to_db(time::now()))
    .execute(conn)
    .await?;
    Ok(id)
}

/// Marks a webhook with what processing did. `processed` is false when it must be retried
/// (the provider will send it again). A webhook that changed nothing points to the first
/// webhook about the same resource that was processed or is still being processed
/// (`duplicate_of`): the one that changed something may not have been marked yet when copies
/// arrive at the same moment.
pub async fn finish(conn: &mut AnyConnection, id: &str, processed: bool, outcome: &str, changed: bool) -> Result<(), sqlx::Error> {
    let duplicate_of: Option<String> = if changed || !processed {
        None
    } else {
        sqlx::query_scalar(
            "SELECT o.id FROM webhook_logs o JOIN webhook_logs w ON w.id = $1
             WHERE o.source = w.source AND o.resource_id = w.resource_id AND o.store_id = w.store_id AND o.id <> w.id
               AND (o.processed = 1 OR o.processed_at IS NULL)
             ORDER BY o.created_at, o.id LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    };
    sqlx::query("UPDATE webhook_logs SET processed = $1, outcome = $2, duplicate_of = $3, processed_at = $4 WHERE id = $5")
        .bind(feria_db::flag(processed))
        .bind(outcome)
        .bind(duplicate_of)
        .bind(time::to_db(time::now()))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The store's webhook `id`.
pub async fn find(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<WebhookLog>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM webhook_logs WHERE id = $1 AND store_id = $2"))
        .bind(id)
        .bind(store_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Which webhooks a listing shows; `None` shows all.
#[derive(Debug, Default)]
pub struct WebhookFilter {
    pub source: Option<String>,
    pub processed: Option<bool>,
    pub signature_valid: Option<bool>,
    pub resource_id: Option<String>,
}

/// One page of the store's webhooks, newest first, with the total.
pub async fn list(
    conn: &mut AnyConnection,
    store_id: &str,
    filter: &WebhookFilter,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<WebhookLog>), sqlx::Error> {
    let condition = "store_id = $1 AND ($2 = '' OR source = $2) AND ($3 < 0 OR processed = $3) AND ($4 < 0 OR signature_valid = $4)
        AND ($5 = '' OR resource_id = $5)";
    let tri = |v: Option<bool>| v.map(feria_db::flag).unwrap_or(-1);
    let (source, resource) = (filter.source.clone().unwrap_or_default(), filter.resource_id.clone().unwrap_or_default());
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM webhook_logs WHERE {condition}"))
        .bind(store_id)
        .bind(&source)
        .bind(tri(filter.processed))
        .bind(tri(filter.signature_valid))
        .bind(&resource)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("SELECT {COLUMNS} FROM webhook_logs WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7");
    let rows = sqlx::query(&sql)
        .bind(store_id)
        .bind(&source)
        .bind(tri(filter.processed))
        .bind(tri(filter.signature_valid))
        .bind(&resource)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// Counts over the store's webhooks.
#[derive(Debug, Clone, Default)]
pub struct WebhookStats {
    pub total: i64,
    /// Per source (`mercadopago`, `stripe`).
    pub by_source: Vec<(String, i64)>,
    pub processed: i64,
    /// Not processed: refused, or failed and waiting for the provider's retry.
    pub unprocessed: i64,
    pub invalid_signatures: i64,
    /// Processed but changing nothing (the same event again).
    pub duplicates: i64,
    pub last_received_at: Option<String>,
}

/// The store's webhook counts.
pub async fn stats(conn: &mut AnyConnection, store_id: &str) -> Result<WebhookStats, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS total, CAST(COALESCE(SUM(processed), 0) AS BIGINT) AS processed,
                CAST(COALESCE(SUM(1 - signature_valid), 0) AS BIGINT) AS invalid,
                CAST(COALESCE(SUM(CASE WHEN duplicate_of IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) AS duplicates,
                MAX(created_at) AS last_received_at
         FROM webhook_logs WHERE store_id = $1",
    )
    .bind(store_id)
    .fetch_one(&mut *conn)
    .await?;
    let total: i64 = row.try_get("total")?;
    let processed: i64 = row.try_get("processed")?;
    let by_source = sqlx::query("SELECT source, COUNT(*) AS n FROM webhook_logs WHERE store_id = $1 GROUP BY source ORDER BY source")
        .bind(store_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("source")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(WebhookStats {
        total,
        by_source,
        processed,
        unprocessed: total - processed,
        invalid_signatures: row.try_get("invalid")?,
        duplicates: row.try_get("duplicates")?,
        last_received_at: row.try_get("last_received_at")?,
    })
}

/// The other webhooks about the same resource as `log` (same source), oldest first.
pub async fn about_same(conn: &mut AnyConnection, store_id: &str, log: &WebhookLog) -> Result<Vec<WebhookLog>, sqlx::Error> {
    let Some(resource) = &log.resource_id else { return Ok(Vec::new()) };
    let sql = format!(
        "SELECT {COLUMNS} FROM webhook_logs WHERE store_id = $1 AND source = $2 AND resource_id = $3 AND id <> $4 ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).bind(store_id).bind(&log.source).bind(resource).bind(&log.id).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

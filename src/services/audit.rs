//! The audit log: every write by a store's members, its API keys and the platform admin — who,
//! in which store, what, on which resource, the resource before and after (secrets redacted),
//! the request id and when. Read by those holding `audit:read` in the store, and by the
//! platform admin for every store and the platform's own actions.

use feria_db::{AnyRow, Row};
use feria_domain::access::Scope;
use feria_domain::{ids::new_id, time};
use serde_json::Value;

use crate::app::App;
use crate::services::identity::caller::Caller;

/// Largest snapshot kept, in bytes of JSON; a larger one is replaced by a note of its size.
const MAX_SNAPSHOT_BYTES: usize = 16 * 1024;
/// What a redacted value reads as.
const REDACTED: &str = "[redacted]";

/// Who acted, as the log records it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user` or `key`.
    pub kind: &'static str,
    pub id: String,
    /// The store acted on; `None` for platform actions.
    pub store_id: Option<String>,
}

impl Actor {
    pub fn of(caller: &Caller, store_id: Option<&str>) -> Actor {
        Actor { kind: if caller.key.is_some() { "key" } else { "user" }, id: caller.id.clone(), store_id: store_id.map(str::to_string) }
    }
}

/// One write to record.
pub struct Entry<'a> {
    pub actor: &'a Actor,
    /// `resource.verb`, e.g. `products.update`, `sales.status`.
    pub action: &'a str,
    pub resource: &'a str,
    pub resource_id: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: &'a str,
    pub ip: &'a str,
}

/// A recorded write.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub store_id: Option<String>,
    pub actor_type: String,
    pub actor_id: String,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: String,
    pub ip: String,
    pub created_at: String,
}

/// Filters of a listing; each one given narrows it.
#[derive(Debug, Default)]
pub struct Filter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    /// RFC 3339 bounds: from (inclusive), to (exclusive).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("not allowed")]
    NotAllowed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records `entry`.
pub async fn record(app: &App, entry: Entry<'_>) -> Result<(), sqlx::Error> {
    let snapshot = |value: Option<Value>| value.map(|v| bounded(redact(v)));
    sqlx::query(
        "INSERT INTO audit_log (id, store_id, actor_type, actor_id, action, resource, resource_id, method, path, status,
                                before_data, after_data, request_id, ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(new_id())
    .bind(&entry.actor.store_id)
    .bind(entry.actor.kind)
    .bind(&entry.actor.id)
    .bind(entry.action)
    .bind(entry.resource)
    .bind(entry.resource_id)
    .bind(entry.method)
    .bind(entry.path)
    .bind(i64::from(entry.status))
    .bind(snapshot(entry.before))
    .bind(snapshot(entry.after))
    .bind(entry.request_id)
    .bind(entry.ip)
    .bind(time::to_db(time::now()))
    .execute(app.db.writer())
    .await?;
    Ok(())
}

/// A page of the log, newest first: of the store `store_id` (`audit:read` there), or with
/// `None` of everything (the platform admin only).
pub async fn page(
    app: &App,
    caller: &Caller,
    store_id: Option<&str>,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Record>), AuditError> {
    let allowed = match store_id {
        Some(store) => caller.may(store, Scope::AuditRead),
        None => caller.key.is_none() && caller.is_admin(),
    };
    if !allowed {
        return Err(AuditError::NotAllowed);
    }
    let mut conditions = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let mut condition = |sql: &str, value: Option<&String>| {
        if let Some(value) = value {
            values.push(value.clone());
            conditions.push(format!("{sql} ${}", values.len()));
        }
    };
    condition("store_id =", store_id.map(str::to_string).as_ref());
    condition("actor_id =", filter.actor_id.as_ref());
    condition("action =", filter.action.as_ref());
    condition("resource =", filter.resource.as_ref());
    condition("resource_id =", filter.resource_id.as_ref());
    condition("created_at >=", filter.from.as_ref());
    condition("created_at <", filter.to.as_ref());
    let filters = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let mut conn = app.db.reader().acquire().await?;
    let count_sql = format!("SELECT COUNT(*) FROM audit_log {filters}");
    let mut count = sqlx::query_scalar(&count_sql);
    for value in &values {
        count = count.bind(value);
    }
    let total: i64 = count.fetch_one(&mut *conn).await?;
    let n = values.len();
    let sql = format!("SELECT * FROM audit_log {filters} ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}", n + 1, n + 2);
    let mut query = sqlx::query(&sql);
    for value in &values {
        query = query.bind(value);
    }
    let rows = query.bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

fn from_row(row: &AnyRow) -> Result<Record, sqlx::Error> {
    let json = |column: &str| -> Result<Option<Value>, sqlx::Error> {
        let text: Option<String> = row.try_get(column)?;
        Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t))))
    };
    Ok(Record {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        actor_type: row.try_get("actor_type")?,
        actor_id: row.try_get("actor_id")?,
        action: row.try_get("action")?,
        resource: row.try_get("resource")?,
        resource_id: row.try_get("resource_id")?,
        method: row.try_get("method")?,
        path: row.try_get("path")?,
        status: row.try_get("status")?,
        before: json("before_data")?,
        after: json("after_data")?,
        request_id: row.try_get("request_id")?,
        ip: row.try_get("ip")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Whether a field's name says it holds a secret.
fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "key" || ["password", "passwordhash", "secret", "token"].iter().any(|s| name.ends_with(s))
}

/// `value` with secrets replaced: fields named like one (`password`, `…token`, `…secret`,
/// `key`) and any text that is an API key.
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if is_secret_field(&k) && !v.is_null() { Value::String(REDACTED.into()) } else { redact(v) };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        Value::String(s) if s.starts_with(crate::services::identity::api_keys::API_KEY_PREFIX) => Value::String(REDACTED.into()),
        other => other,
    }
}

/// The snapshot as stored: its JSON, or a note of its size when too large.
fn bounded(value: Value) -> String {
    let text = value.to_string();
    if text.len() <= MAX_SNAPSHOT_BYTES { text } else { serde_json::json!({"truncated": true, "bytes": text.len()}).to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_wherever_they_are() {
        let raw = json!({
            "key": "fk_abc", "apiKey": {"id": "1", "prefix": "fk_abcdef"}, "password": "x", "refreshToken": "r",
            "webhookSecret": "w", "name": "Vacío", "nested": [{"accessToken": "t", "price": "10.00"}], "note": null
        });
        let clean = redact(raw);
        assert_eq!(clean["key"], REDACTED);
        assert_eq!(clean["apiKey"]["prefix"], REDACTED, "a key's text is a secret wherever it is");
        assert_eq!(clean["apiKey"]["id"], "1");
        assert_eq!(
            (clean["password"].as_str(), clean["refreshToken"].as_str(), clean["webhookSecret"].as_str()),
            (Some(REDACTED), Some(REDACTED), Some(REDACTED))
        );
        assert_eq!(clean["nested"][0]["accessToken"], REDACTED);
        assert_eq!(clean["nested"][0]["price"], "10.00");
        assert_eq!(clean["name"], "Vacío");
        assert!(!clean.to_string().contains("fk_abc"));
    }

    #[test]
    fn large_snapshots_are_noted_not_kept() {
        let big = Value::String("x".repeat(MAX_SNAPSHOT_BYTES * 2));
        assert!(bounded(big).contains("\"truncated\":true"));
        assert_eq!(bounded(json!({"a": 1})), r#"{"a":1}"#);
    }
}

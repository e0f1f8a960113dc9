//! A store's own wording: per event × audience (customer, staff) × channel × locale, the
//! channel's blocks in minijinja, replacing the shipped text for that channel only. A template is
//! checked when saved (it compiles, has the channel's blocks, and renders with sample values:
//! an unknown variable is refused), previewed against one of the store's orders, and removed to
//! go back to feria's text. Needs `settings:write`.

use std::collections::HashMap;

use feria_db::{AnyConnection, Db, Row};
use feria_domain::access::Scope;
use feria_domain::notify::{Channel, EventKind};
use feria_domain::time;

use super::NotifyError;
use super::content::{self, Subject};
use super::events::Event;
use super::templates::{self, Content, Voice};
use crate::services::identity::caller::Caller;

/// The most text a store's template may hold.
pub const MAX_SOURCE: usize = 20_000;

/// Which template: event, audience, channel, language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub kind: EventKind,
    pub voice: Voice,
    pub channel: Channel,
    pub locale: &'static str,
}

/// A template as the store sees it.
#[derive(Debug, Clone)]
pub struct StoreTemplate {
    pub key: Key,
    /// The text in use: the store's own, or feria's.
    pub source: String,
    pub custom: bool,
    pub updated_at: Option<String>,
}

/// Checks `source` for `key`: compiles, has every block of the channel, renders with sample
/// values. The problem, in words, when it does not.
pub fn check(key: Key, source: &str) -> Result<(), String> {
    if source.len() > MAX_SOURCE {
        return Err(format!("más de {MAX_SOURCE} caracteres"));
    }
    for block in templates::blocks(key.channel) {
        if !source.contains(&format!("block {block}")) {
            return Err(format!("falta el bloque {{% block {block} %}}"));
        }
    }
    match templates::render_from(Some(source), key.kind, key.voice, key.locale, key.channel, &templates::sample_values()) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("un bloque obligatorio quedó vacío".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A store's own texts for an event, by (voice, channel, locale).
pub type Overrides = HashMap<(String, String, String), String>;

/// The store's own texts for event `kind`.
pub async fn overrides(conn: &mut AnyConnection, store_id: Option<&str>, kind: EventKind) -> Result<Overrides, sqlx::Error> {
    let Some(store_id) = store_id else { return Ok(HashMap::new()) };
    let rows = sqlx::query("SELECT voice, channel, locale, source FROM notification_templates WHERE store_id = $1 AND kind = $2")
        .bind(store_id)
        .bind(kind.as_str())
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| Ok(((r.try_get("voice")?, r.try_get("channel")?, r.try_get("locale")?), r.try_get("source")?))).collect()
}

/// The store's own text for `key`, if it has one.
fn pick(overrides: &Overrides, key: Key) -> Option<&str> {
    overrides.get(&(key.voice.as_str().to_string(), key.channel.as_str().to_string(), key.locale.to_string())).map(String::as_str)
}

/// Renders `key` from the store's own text when it has one, else (or when that fails with these
/// values: it was checked only with sample ones) from feria's.
pub fn render(custom: &Overrides, key: Key, values: &minijinja::Value) -> Result<Option<Content>, minijinja::Error> {
    if let Some(source) = pick(custom, key) {
        match templates::render_from(Some(source), key.kind, key.voice, key.locale, key.channel, values) {
            Ok(content) => return Ok(content),
            Err(e) => {
                tracing::warn!(error = %e, kind = key.kind.as_str(), channel = key.channel.as_str(), "a store's template failed; feria's is used")
            }
        }
    }
    templates::render(key.kind, key.voice, key.locale, key.channel, values)
}

/// The template for `key` in the store: its own or feria's.
pub async fn get(db: &Db, caller: &Caller, store_id: &str, key: Key) -> Result<StoreTemplate, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    let row = sqlx::query(
        "SELECT source, updated_at FROM notification_templates WHERE store_id = $1 AND kind = $2 AND voice = $3 AND channel = $4 AND locale = $5",
    )
    .bind(store_id)
    .bind(key.kind.as_str())
    .bind(key.voice.as_str())
    .bind(key.channel.as_str())
    .bind(key.locale)
    .fetch_optional(db.reader())
    .await?;
    match row {
        Some(row) => Ok(StoreTemplate { key, source: row.try_get("source")?, custom: true, updated_at: row.try_get("updated_at")? }),
        None => {
            let source = templates::shipped_source(key.kind, key.voice, key.locale).ok_or(NotifyError::UnknownTemplate)?;
            Ok(StoreTemplate { key, source: source.to_string(), custom: false, updated_at: None })
        }
    }
}

/// Every template the store can reword (the events, audiences, channels and locales feria has a
/// text for), saying which are its own.
pub async fn list(db: &Db, caller: &Caller, store_id: &str) -> Result<Vec<(Key, bool)>, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    let rows = sqlx::query("SELECT kind, voice, channel, locale FROM notification_templates WHERE store_id = $1")
        .bind(store_id)
        .fetch_all(db.reader())
        .await?;
    let own: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("voice")?, r.try_get("channel")?, r.try_get("locale")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let sample = templates::sample_values();
    let mut keys = Vec::new();
    for (kind, voice, locale) in templates::shipped() {
        for channel in Channel::ALL {
            if templates::render(kind, voice, locale, *channel, &sample)?.is_some() {
                let key = Key { kind, voice, channel: *channel, locale };
                let custom =
                    own.iter().any(|(k, v, c, l)| k == kind.as_str() && v == voice.as_str() && c == channel.as_str() && l == locale);
                keys.push((key, custom));
            }
        }
    }
    Ok(keys)
}

/// Saves the store's own `source` for `key` once it passes [`check`].
pub async fn save(db: &Db, caller: &Caller, store_id: &str, key: Key, source: &str) -> Result<StoreTemplate, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    check(key, source).map_err(NotifyError::BadTemplate)?;
    sqlx::query(
        "INSERT INTO notification_templates (store_id, kind, voice, channel, locale, source, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (store_id, kind, voice, channel, locale) DO UPDATE SET source = $6, updated_by = $7, updated_at = $8",
    )
    .bind(store_id)
    .bind(key.kind.as_str())
    .bind(key.voice.as_str())
    .bind(key.channel.as_str())
    .bind(key.locale)
    .bind(source)
    .bind(&caller.id)
    .bind(time::to_db(time::now()))
    .execute(db.writer())
    .await?;
    get(db, caller, store_id, key).await
}

/// Removes the store's own text for `key` (feria's is used again); the template now.
pub async fn reset(db: &Db, caller: &Caller, store_id: &str, key: Key) -> Result<StoreTemplate, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    sqlx::query("DELETE FROM notification_templates WHERE store_id = $1 AND kind = $2 AND voice = $3 AND channel = $4 AND locale = $5")
        .bind(store_id)
        .bind(key.kind.as_str())
        .bind(key.voice.as_str())
        .bind(key.channel.as_str())
        .bind(key.locale)
        .execute(db.writer())
        .await?;
    get(db, caller, store_id, key).await
}

/// Renders `source` (or the template in use) for `key` with the store's order `order_id` (or
/// sample values without one), as the recipient `Ana` would get it.
pub async fn preview(
    db: &Db,
    caller: &Caller,
    store_id: &str,
    key: Key,
    source: Option<&str>,
    order_id: Option<&str>,
) -> Result<Content, NotifyError> {
    let current = get(db, caller, store_id, key).await?;
    let source = source.unwrap_or(&current.source);
    check(key, source).map_err(NotifyError::BadTemplate)?;
    let values = match order_id {
        None => templates::sample_values(),
        Some(order_id) => {
            let data = serde_json::json!({"orderId": order_id});
            let event = Event {
                id: String::new(),
                store_id: Some(store_id.to_string()),
                kind: key.kind,
                data,
                fanned_out: false,
                fanout_cursor: None,
            };
            let subject = Subject::load(&mut *db.reader().acquire().await?, &event).await?;
            let Some(order) = &subject.order else { return Err(NotifyError::UnknownOrder) };
            let name = order.customer_name.clone();
            minijinja::context! { ..content::values(&event, &subject, &name), ..templates::sample_values() }
        }
    };
    let rendered = templates::render_from(Some(source), key.kind, key.voice, key.locale, key.channel, &values);
    rendered.map_err(|e| NotifyError::BadTemplate(e.to_string()))?.ok_or(NotifyError::UnknownTemplate)
}

//! A store's say over its workflows, per event and step: whether the step runs, its channels in
//! order (for an alert, the order they are tried in), conditions (the order's total at least an
//! amount; only some statuses) and a digest window that gathers the step's notifications into
//! one ("12 pedidos nuevos"). Steps of critical events and of broadcasts are not the store's to
//! change. Needs `settings:write`.

use std::collections::HashMap;

use feria_db::{AnyConnection, Db, Row};
use feria_domain::access::Scope;
use feria_domain::notify::{Channel, EventKind};
use feria_domain::time;

use super::NotifyError;
use super::workflows::{self, Audience, Step};
use crate::services::identity::caller::Caller;

/// The longest digest window, in minutes (a day).
pub const MAX_DIGEST_MINUTES: i64 = 1440;
/// The most statuses a condition may name.
pub const MAX_STATUSES: usize = 50;

/// How a step runs in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSettings {
    pub enabled: bool,
    /// A subset of the shipped step's channels, in the order to use them.
    pub channels: Vec<Channel>,
    /// Gather the step's notifications for this long into one (0: each goes out at once).
    pub digest_minutes: i64,
    /// Only orders whose total (minor units) is at least this.
    pub min_total: Option<i64>,
    /// Only these status codes (a status change).
    pub statuses: Option<Vec<String>>,
}

impl StepSettings {
    /// feria's settings for `step`.
    pub fn shipped(step: &Step) -> StepSettings {
        StepSettings { enabled: true, channels: step.channels.to_vec(), digest_minutes: 0, min_total: None, statuses: None }
    }
}

/// A step of an event's workflow as the store has it.
#[derive(Debug, Clone)]
pub struct StoreStep {
    pub kind: EventKind,
    pub step: Step,
    pub settings: StepSettings,
    /// The store changed it.
    pub custom: bool,
    pub updated_at: Option<String>,
}

/// Whether an event of `kind` is about an order (it has a total to compare).
pub fn about_an_order(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::OrderPlaced
            | EventKind::OrderPaid
            | EventKind::OrderStatusChanged
            | EventKind::OrderCancelled
            | EventKind::OrderRefunded
            | EventKind::PaymentFailed
    )
}

/// Whether `step` may gather its notifications: those to the people who run the shop.
pub fn digestible(step: &Step) -> bool {
    matches!(step.audience, Audience::Staff | Audience::Shop)
}

/// The store's settings of `kind`'s steps, by step name (only the steps it changed).
pub async fn of_event(
    conn: &mut AnyConnection,
    store_id: Option<&str>,
    kind: EventKind,
) -> Result<HashMap<String, (StepSettings, String)>, sqlx::Error> {
    let Some(store_id) = store_id else { return Ok(HashMap::new()) };
    let rows = sqlx::query(
        "SELECT step, enabled, channels, digest_minutes, min_total, statuses, updated_at FROM notification_workflows
         WHERE store_id = $1 AND kind = $2",
    )
    .bind(store_id)
    .bind(kind.as_str())
    .fetch_all(conn)
    .await?;
    let mut found = HashMap::new();
    for row in rows {
        let channels: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("channels")?).unwrap_or_default();
        let statuses: Option<String> = row.try_get("statuses")?;
        let settings = StepSettings {
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            channels: channels.iter().filter_map(|c| Channel::parse(c)).collect(),
            digest_minutes: row.try_get("digest_minutes")?,
            min_total: row.try_get("min_total")?,
            statuses: statuses.and_then(|s| serde_json::from_str(&s).ok()),
        };
        found.insert(row.try_get("step")?, (settings, row.try_get("updated_at")?));
    }
    Ok(found)
}

/// The step `name` of `kind`, when the store may change it.
fn configurable_step(kind: EventKind, name: &str) -> Result<&'static Step, NotifyError> {
    workflows::shipped(kind).iter().find(|s| s.name == name && workflows::configurable(kind, s)).ok_or(NotifyError::UnknownWorkflowStep)
}

/// Every step the store may change, with its settings there.
pub async fn list(db: &Db, caller: &Caller, store_id: &str) -> Result<Vec<StoreStep>, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    let mut conn = db.reader().acquire().await?;
    let mut steps = Vec::new();
    for kind in EventKind::ALL {
        let mut stored = of_event(&mut conn, Some(store_id), *kind).await?;
        for step in workflows::shipped(*kind).iter().filter(|s| workflows::configurable(*kind, s)) {
            steps.push(store_step(*kind, step, stored.remove(step.name)));
        }
    }
    Ok(steps)
}

fn store_step(kind: EventKind, step: &Step, stored: Option<(StepSettings, String)>) -> StoreStep {
    match stored {
        Some((settings, updated_at)) => StoreStep { kind, step: *step, settings, custom: true, updated_at: Some(updated_at) },
        None => StoreStep { kind, step: *step, settings: StepSettings::shipped(step), custom: false, updated_at: None },
    }
}

/// The step `name` of `kind` in the store.
pub async fn get(db: &Db, caller: &Caller, store_id: &str, kind: EventKind, name: &str) -> Result<StoreStep, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    let step = configurable_step(kind, name)?;
    let mut stored = of_event(&mut *db.reader().acquire().await?, Some(store_id), kind).await?;
    Ok(store_step(kind, step, stored.remove(name)))
}

/// Saves the store's settings of step `name` of `kind`, once they fit the step: its own
/// channels, each once; a digest only for the shop's people; a total only for order events;
/// statuses only for a status change, each one of the store's.
pub async fn save(
    db: &Db,
    caller: &Caller,
    store_id: &str,
    kind: EventKind,
    name: &str,
    settings: StepSettings,
) -> Result<StoreStep, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    let step = configurable_step(kind, name)?;
    check(db, store_id, kind, step, &settings).await?;
    let channels: Vec<&str> = settings.channels.iter().map(|c| c.as_str()).collect();
    sqlx::query(
        "INSERT INTO notification_workflows (store_id, kind, step, enabled, channels, digest_minutes, min_total, statuses, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (store_id, kind, step) DO UPDATE SET enabled = $4, channels = $5, digest_minutes = $6, min_total = $7,
             statuses = $8, updated_by = $9, updated_at = $10",
    )
    .bind(store_id)
    .bind(kind.as_str())
    .bind(name)
    .bind(i64::from(settings.enabled))
    .bind(serde_json::to_string(&channels).expect("strings serialise"))
    .bind(settings.digest_minutes)
    .bind(settings.min_total)
    .bind(settings.statuses.as_ref().map(|s| serde_json::to_string(s).expect("strings serialise")))
    .bind(&caller.id)
    .bind(time::to_db(time::now()))
    .execute(db.writer())
    .await?;
    get(db, caller, store_id, kind, name).await
}

async fn check(db: &Db, store_id: &str, kind: EventKind, step: &Step, settings: &StepSettings) -> Result<(), NotifyError> {
    let invalid = |field: &'static str, message: &str| Err(NotifyError::Invalid(field, message.to_string()));
    if settings.channels.is_empty() {
        return invalid("channels", "Elegí al menos un canal (o desactivá el paso)");
    }
    for (i, channel) in settings.channels.iter().enumerate() {
        if !step.channels.contains(channel) {
            let allowed: Vec<&str> = step.channels.iter().map(|c| c.as_str()).collect();
            return invalid("channels", &format!("Este paso usa solo {}", allowed.join(", ")));
        }
        if settings.channels[..i].contains(channel) {
            return invalid("channels", &format!("{} está repetido", channel.as_str()));
        }
    }
    if !(0..=MAX_DIGEST_MINUTES).contains(&settings.digest_minutes) {
        return invalid("digestMinutes", &format!("Debe estar entre 0 y {MAX_DIGEST_MINUTES}"));
    }
    if settings.digest_minutes > 0 && !digestible(step) {
        return invalid("digestMinutes", "Solo se agrupan los avisos al equipo de la tienda");
    }
    if let Some(total) = settings.min_total {
        if !about_an_order(kind) {
            return invalid("minTotal", "Solo los eventos de pedidos tienen un total");
        }
        if total < 0 {
            return invalid("minTotal", "No puede ser negativo");
        }
    }
    if let Some(statuses) = &settings.statuses {
        if kind != EventKind::OrderStatusChanged {
            return invalid("statuses", "Solo los cambios de estado tienen estados");
        }
        if statuses.is_empty() || statuses.len() > MAX_STATUSES {
            return invalid("statuses", &format!("Entre 1 y {MAX_STATUSES} estados"));
        }
        let known: Vec<String> =
            sqlx::query_scalar("SELECT code FROM order_statuses WHERE store_id = $1").bind(store_id).fetch_all(db.reader()).await?;
        if let Some(unknown) = statuses.iter().find(|s| !known.contains(s)) {
            return invalid("statuses", &format!("La tienda no tiene el estado {unknown}"));
        }
    }
    Ok(())
}

/// Goes back to feria's settings for step `name` of `kind`.
pub async fn reset(db: &Db, caller: &Caller, store_id: &str, kind: EventKind, name: &str) -> Result<StoreStep, NotifyError> {
    if !caller.may(store_id, Scope::SettingsWrite) {
        return Err(NotifyError::Forbidden);
    }
    configurable_step(kind, name)?;
    sqlx::query("DELETE FROM notification_workflows WHERE store_id = $1 AND kind = $2 AND step = $3")
        .bind(store_id)
        .bind(kind.as_str())
        .bind(name)
        .execute(db.writer())
        .await?;
    get(db, caller, store_id, kind, name).await
}

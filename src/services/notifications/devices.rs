//! A person's push devices: apps (an FCM registration token) and browsers (a web push
//! subscription). Registering the same token or endpoint again moves it to whoever registers it
//! (a shared tablet); a provider saying it is gone deletes it.

use std::collections::HashMap;

use feria_db::{AnyConnection, AnyRow, Db, Row, placeholders};
use feria_domain::notify::Channel;
use feria_domain::{ids::new_id, time};

use super::NotifyError;
use crate::services::identity::caller::Caller;

/// The most devices one person keeps; registering another forgets the least recently used.
pub const MAX_PER_USER: i64 = 20;

/// What a device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An app's registration token.
    Fcm { token: String },
    /// A browser's subscription.
    WebPush { endpoint: String, p256dh: String, auth: String },
}

impl Target {
    fn kind(&self) -> &'static str {
        match self {
            Target::Fcm { .. } => "fcm",
            Target::WebPush { .. } => "web_push",
        }
    }

    /// The channel it serves.
    pub fn channel(&self) -> Channel {
        match self {
            Target::Fcm { .. } => Channel::Push,
            Target::WebPush { .. } => Channel::WebPush,
        }
    }
}

/// A registered device.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub target: Target,
    pub name: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

const COLUMNS: &str = "id, kind, address, p256dh, auth, name, created_at, last_used_at";

fn device(row: &AnyRow) -> Result<Device, sqlx::Error> {
    let address: String = row.try_get("address")?;
    let target = match row.try_get::<String, _>("kind")?.as_str() {
        "fcm" => Target::Fcm { token: address },
        _ => Target::WebPush {
            endpoint: address,
            p256dh: row.try_get::<Option<String>, _>("p256dh")?.unwrap_or_default(),
            auth: row.try_get::<Option<String>, _>("auth")?.unwrap_or_default(),
        },
    };
    Ok(Device {
        id: row.try_get("id")?,
        target,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// Registers `target` for the caller (moving it from whoever had it); the device.
pub async fn register(db: &Db, caller: &Caller, target: Target, name: Option<String>) -> Result<Device, NotifyError> {
    let now = time::to_db(time::now());
    let (address, p256dh, auth) = match &target {
        Target::Fcm { token } => (token.clone(), None, None),
        Target::WebPush { endpoint, p256dh, auth } => (endpoint.clone(), Some(p256dh.clone()), Some(auth.clone())),
    };
    let mut tx = db.begin().await?;
    let sql = format!(
        "INSERT INTO notification_devices (id, user_id, kind, address, p256dh, auth, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (kind, address) DO UPDATE SET user_id = $2, p256dh = $5, auth = $6, name = $7, created_at = $8, last_used_at = NULL
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(new_id())
        .bind(&caller.id)
        .bind(target.kind())
        .bind(&address)
        .bind(p256dh)
        .bind(auth)
        .bind(name)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
    let registered = device(&row)?;
    // Over the cap: forget the least recently used (never the one just registered).
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notification_devices WHERE user_id = $1").bind(&caller.id).fetch_one(&mut *tx).await?;
    if count > MAX_PER_USER {
        sqlx::query(
            "DELETE FROM notification_devices WHERE id IN (
                 SELECT id FROM notification_devices WHERE user_id = $1 AND id <> $2
                 ORDER BY COALESCE(last_used_at, created_at), id LIMIT $3)",
        )
        .bind(&caller.id)
        .bind(&registered.id)
        .bind(count - MAX_PER_USER)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(registered)
}

/// The caller's devices, newest first.
pub async fn mine(db: &Db, caller: &Caller) -> Result<Vec<Device>, NotifyError> {
    let sql = format!("SELECT {COLUMNS} FROM notification_devices WHERE user_id = $1 ORDER BY created_at DESC, id DESC");
    let rows = sqlx::query(&sql).bind(&caller.id).fetch_all(db.reader()).await?;
    Ok(rows.iter().map(device).collect::<Result<_, _>>()?)
}

/// Removes the caller's device `id`.
pub async fn remove(db: &Db, caller: &Caller, id: &str) -> Result<(), NotifyError> {
    let gone = sqlx::query("DELETE FROM notification_devices WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(&caller.id)
        .execute(db.writer())
        .await?
        .rows_affected();
    if gone == 0 { Err(NotifyError::UnknownDevice) } else { Ok(()) }
}

/// The devices of user `user_id` for `channel` (push or web push).
pub async fn of_user(conn: &mut AnyConnection, user_id: &str, channel: Channel) -> Result<Vec<Device>, sqlx::Error> {
    let kind = if channel == Channel::Push { "fcm" } else { "web_push" };
    let sql = format!(
        "SELECT {COLUMNS} FROM notification_devices WHERE user_id = $1 AND kind = $2 ORDER BY created_at DESC LIMIT {MAX_PER_USER}"
    );
    let rows = sqlx::query(&sql).bind(user_id).bind(kind).fetch_all(conn).await?;
    rows.iter().map(device).collect()
}

/// Which push channels each of `user_ids` has devices for (absent: none), 500 users a query.
pub async fn channels_of(conn: &mut AnyConnection, user_ids: &[&str]) -> Result<HashMap<String, Vec<Channel>>, sqlx::Error> {
    let mut found: HashMap<String, Vec<Channel>> = HashMap::new();
    for chunk in user_ids.chunks(500) {
        let sql = format!("SELECT DISTINCT user_id, kind FROM notification_devices WHERE user_id IN ({})", placeholders(1, chunk.len()));
        let rows = chunk.iter().fold(sqlx::query(&sql), |q, id| q.bind(*id)).fetch_all(&mut *conn).await?;
        for row in rows {
            let channel = if row.try_get::<String, _>("kind")? == "fcm" { Channel::Push } else { Channel::WebPush };
            found.entry(row.try_get("user_id")?).or_default().push(channel);
        }
    }
    Ok(found)
}

/// A provider said device `id` is gone: forget it.
pub async fn forget(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM notification_devices WHERE id = $1").bind(id).execute(db.writer()).await?;
    Ok(())
}

/// Device `id` took a push.
pub async fn used(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE notification_devices SET last_used_at = $1 WHERE id = $2")
        .bind(time::to_db(time::now()))
        .bind(id)
        .execute(db.writer())
        .await?;
    Ok(())
}

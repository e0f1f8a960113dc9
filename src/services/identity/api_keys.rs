//! A store's API keys: `fk_` followed by 32 random bytes, shown once when created. Only their
//! SHA-256 is stored (a key is random, not a password: a slow hash would add nothing but cost
//! per request). A key acts in its store within its scopes until it expires or is revoked.
//!
//! Checked on every request that sends one, so each node keeps what it read for one second
//! (a node that revokes forgets at once). `last_used_at` is written at most once a minute per
//! key and node, so a busy integration does not turn every read into a write.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use feria_db::{AnyRow, Db, Row};
use feria_domain::access::Scope;
use feria_domain::{ids::new_id, time};

use super::caller::{Caller, KeyGrant};
use crate::app::App;
use crate::crypto::{random_token, sha256_hex};

/// How every API key starts (what tells it apart from an access token).
pub const API_KEY_PREFIX: &str = "fk_";
/// How long a node trusts what it read of a key.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// How often a key's `last_used_at` is written, at most.
const USE_RECORDED_EVERY: Duration = Duration::from_secs(60);
/// Keys a node remembers at once.
const MAX_CACHED: usize = 10_000;
/// Keys a store may hold, revoked ones included (each is a row read by the owner's listing).
pub const MAX_KEYS_PER_STORE: i64 = 200;

/// An API key as the store sees it (never the key itself).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub store_id: String,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_by: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
}

/// A key to create (validated).
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<String>,
}

/// Why a key operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not allowed")]
    NotAllowed,
    /// Keys never manage members or keys, and never get a scope their creator lacks.
    #[error("scope {0} cannot be granted")]
    ScopeNotGrantable(&'static str),
    #[error("the store holds too many keys")]
    TooMany,
    #[error("no such key")]
    UnknownKey,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

const COLUMNS: &str = "id, store_id, name, prefix, scopes, created_by, expires_at, revoked_at, last_used_at, created_at";

fn from_row(row: &AnyRow) -> Result<ApiKey, sqlx::Error> {
    let scopes: String = row.try_get("scopes")?;
    let names: Vec<String> = serde_json::from_str(&scopes).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scopes: names.iter().filter_map(|n| Scope::parse(n)).collect(),
        created_by: row.try_get("created_by")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Creates a key for the store; answers it with the key itself, which is never shown again.
pub async fn create(app: &App, caller: &Caller, store_id: &str, new: NewKey) -> Result<(ApiKey, String), KeyError> {
    if !caller.may(store_id, Scope::KeysManage) {
        return Err(KeyError::NotAllowed);
    }
    if let Some(scope) = new.scopes.iter().find(|s| !s.grantable_to_keys() || !caller.may(store_id, **s)) {
        return Err(KeyError::ScopeNotGrantable(scope.as_str()));
    }
    let secret = format!("{API_KEY_PREFIX}{}", random_token());
    let names: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
    let mut tx = app.db.begin().await?;
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE store_id = $1").bind(store_id).fetch_one(&mut *tx).await?;
    if held >= MAX_KEYS_PER_STORE {
        return Err(KeyError::TooMany);
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO api_keys (id, store_id, name, prefix, key_hash, scopes, created_by, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(&new.name)
    .bind(&secret[..API_KEY_PREFIX.len() + 6])
    .bind(sha256_hex(&secret))
    .bind(serde_json::to_string(&names).expect("scope names serialise"))
    .bind(caller.user_id())
    .bind(&new.expires_at)
    .bind(time::to_db(time::now()))
    .execute(&mut *tx)
    .await?;
    let key = find(&mut tx, store_id, &id).await?.ok_or(KeyError::UnknownKey)?;
    tx.commit().await?;
    Ok((key, secret))
}

async fn find(conn: &mut feria_db::AnyConnection, store_id: &str, id: &str) -> Result<Option<ApiKey>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1 AND store_id = $2");
    sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// A page of the store's keys, newest first.
pub async fn page(app: &App, caller: &Caller, store_id: &str, limit: i64, offset: i64) -> Result<(i64, Vec<ApiKey>), KeyError> {
    if !caller.may(store_id, Scope::KeysManage) {
        return Err(KeyError::NotAllowed);
    }
    let mut conn = app.db.reader().acquire().await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE store_id = $1").bind(store_id).fetch_one(&mut *conn).await?;
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE store_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3");
    let rows = sqlx::query(&sql).bind(store_id).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// Revokes the store's key `id` (at once on this node, within a second on the others);
/// revoking again changes nothing.
pub async fn revoke(app: &App, caller: &Caller, store_id: &str, id: &str) -> Result<ApiKey, KeyError> {
    if !caller.may(store_id, Scope::KeysManage) {
        return Err(KeyError::NotAllowed);
    }
    let mut tx = app.db.begin().await?;
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND store_id = $3 AND revoked_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(id)
        .bind(store_id)
        .execute(&mut *tx)
        .await?;
    let key = find(&mut tx, store_id, id).await?.ok_or(KeyError::UnknownKey)?;
    tx.commit().await?;
    app.api_keys.forget_all();
    Ok(key)
}

/// Revokes the keys `user_id` created (in `store_id` only, when given), inside the caller's
/// transaction: a key never outlives its creator's right to manage keys. Call
/// `KeyCache::forget_all` after the commit.
pub async fn revoke_created_by(conn: &mut feria_db::AnyConnection, store_id: Option<&str>, user_id: &str) -> Result<u64, sqlx::Error> {
    const REVOKE: &str = "UPDATE api_keys SET revoked_at = $1 WHERE created_by = $2 AND revoked_at IS NULL";
    let now = time::to_db(time::now());
    let done = match store_id {
        Some(store) => sqlx::query(&format!("{REVOKE} AND store_id = $3")).bind(now).bind(user_id).bind(store).execute(conn).await?,
        None => sqlx::query(REVOKE).bind(now).bind(user_id).execute(conn).await?,
    };
    Ok(done.rows_affected())
}

/// The node's recent reads of API keys, by hash.
#[derive(Default)]
pub struct KeyCache {
    read: Mutex<HashMap<String, (Instant, Option<ApiKey>)>>,
    /// When this node last wrote each key's use.
    used: Mutex<HashMap<String, Instant>>,
}

impl KeyCache {
    /// Drops every key read (after a revocation this node committed).
    pub fn forget_all(&self) {
        self.read.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    async fn lookup(&self, db: &Db, hash: &str) -> Result<Option<ApiKey>, sqlx::Error> {
        if let Some((at, key)) = self.read.lock().unwrap_or_else(|p| p.into_inner()).get(hash)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(key.clone());
        }
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1");
        let row = sqlx::query(&sql).bind(hash).fetch_optional(&mut *db.reader().acquire().await?).await?;
        let key = row.as_ref().map(from_row).transpose()?;
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        if read.len() >= MAX_CACHED {
            read.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
        }
        // Under a flood of made-up keys the cache stays at its cap: they are simply not kept.
        if read.len() < MAX_CACHED {
            read.insert(hash.to_string(), (Instant::now(), key.clone()));
        }
        Ok(key)
    }

    /// Whether this node should write the key's use now.
    fn due(&self, id: &str) -> bool {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        match used.get(id) {
            Some(at) if at.elapsed() < USE_RECORDED_EVERY => false,
            _ => {
                if used.len() >= MAX_CACHED {
                    used.retain(|_, at| at.elapsed() < USE_RECORDED_EVERY);
                }
                used.insert(id.to_string(), Instant::now());
                true
            }
        }
    }
}

/// The caller a key `token` stands for, if it is a key that exists, is not revoked and has
/// not expired.
pub async fn authenticate(app: &App, token: &str) -> Result<Option<Caller>, sqlx::Error> {
    let Some(key) = app.api_keys.lookup(&app.db, &sha256_hex(token)).await? else { return Ok(None) };
    let now = time::to_db(time::now());
    if key.revoked_at.is_some() || key.expires_at.as_deref().is_some_and(|at| at <= now.as_str()) {
        return Ok(None);
    }
    if app.api_keys.due(&key.id) {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2").bind(&now).bind(&key.id).execute(app.db.writer()).await?;
    }
    Ok(Some(Caller {
        id: key.id,
        roles: Vec::new(),
        memberships: Vec::new(),
        key: Some(KeyGrant { store_id: key.store_id, scopes: key.scopes }),
    }))
}

//! Whether an access token still holds: its user exists and its token version is the user's
//! current one (raised on logout, a password change or reset and a role change). The roles and
//! store memberships a request acts with are the user's current ones, not those the token was
//! issued with.
//!
//! Checked on every authenticated request, so each node keeps what it read for one second:
//! a node that revokes forgets at once; other nodes follow within that second.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use feria_db::Db;

use super::caller::UserAccess;
use super::users;

/// How long a node trusts what it read.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Entries held before the stale ones are swept.
const SWEEP_AT: usize = 50_000;

/// A user's current access; `None` when the user does not exist.
pub type Access = Option<UserAccess>;

/// The node's recent reads of users' access.
#[derive(Default)]
pub struct AccessCache {
    read: Mutex<HashMap<String, (Instant, Access)>>,
    /// Counts the forgets: a read that started before one is not kept (it may be older than
    /// the change that was forgotten).
    forgets: AtomicU64,
}

impl AccessCache {
    /// User `id`'s current access, read at most once a second per node.
    pub async fn current(&self, db: &Db, id: &str) -> Result<Access, sqlx::Error> {
        if let Some((at, access)) = self.read.lock().unwrap_or_else(|p| p.into_inner()).get(id)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(access.clone());
        }
        let forgets = self.forgets.load(Ordering::Acquire);
        let access = users::access_of(&mut *db.reader().acquire().await?, id).await?;
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        if self.forgets.load(Ordering::Acquire) != forgets {
            return Ok(access);
        }
        if read.len() >= SWEEP_AT {
            read.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
        }
        read.insert(id.to_string(), (Instant::now(), access.clone()));
        Ok(access)
    }

    /// Drops what this node read of user `id` (after a change it committed).
    pub fn forget(&self, id: &str) {
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        self.forgets.fetch_add(1, Ordering::AcqRel);
        read.remove(id);
    }
}

//! Opening the database: backend detection, SQLite pragmas and the single writer.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::Tx;
use crate::group_commit::{GroupCommit, Work};

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine behind a connection.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == "PostgreSQL" { Backend::Postgres } else { Backend::Sqlite }
    }
}

/// Connection counts of the two pools, for metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub read_size: u32,
    pub read_idle: u32,
    pub write_size: u32,
    pub write_idle: u32,
}

/// The database: a pool for reads and a handle for writes.
///
/// On SQLite the write pool has exactly one connection, so write transactions queue in
/// the application instead of failing with `SQLITE_BUSY`; readers run in parallel under WAL.
/// On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    /// SQLite only: the writes [`Db::write`] commits together.
    group: Option<GroupCommit>,
}

const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a SQLite file and its
    /// folder when missing. `max_connections` sizes the read pool (PostgreSQL: the only pool).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)
            .ok_or_else(|| sqlx::Error::Configuration(format!("unsupported database URL scheme in {}", redact_url(url)).into()))?;
        match backend {
            Backend::Postgres => {
                let pool =
                    AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
                Ok(Db { read: pool.clone(), write: pool, backend, group: None })
            }
            Backend::Sqlite => {
                let url = prepare_sqlite_url(url)?;
                let options = AnyConnectOptions::from_str(&url)?;
                let write = sqlite_pool(1).connect_with(options.clone()).await?;
                let read = sqlite_pool(max_connections).connect_with(options).await?;
                let group = Some(GroupCommit::start(write.clone()));
                Ok(Db { read, write, backend, group })
            }
        }
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for queries that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for writes outside an explicit transaction.
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Starts a write transaction (on SQLite, on the single writer connection, taking the write
    /// lock at once: a deferred transaction that read first could not take it later if another
    /// process sharing the file wrote in between, and would fail without waiting).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// Runs `work` in a write transaction and commits it, for the hot writes of many clients
    /// (placing orders). On SQLite it is committed together with the writes waiting at the same
    /// moment, each in its own savepoint (see `group_commit`); on PostgreSQL, alone. An `Err`
    /// from `work` rolls back its changes only. The result is returned once committed.
    pub async fn write<T, E>(&self, work: Work<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
    {
        if let Some(group) = &self.group {
            return group.write(work).await;
        }
        let mut tx = self.begin().await?;
        let done = work(&mut tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Round-trips a trivial query on the read pool and returns its latency.
    pub async fn ping(&self) -> Result<Duration, sqlx::Error> {
        let started = Instant::now();
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(started.elapsed())
    }

    /// Current pool sizes.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            read_size: self.read.size(),
            read_idle: self.read.num_idle() as u32,
            write_size: self.write.size(),
            write_idle: self.write.num_idle() as u32,
        }
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// A pool of connections to the SQLite file. They are not pinged before use: a connection to a
/// local file does not drop, and the ping is a round trip to the connection's worker thread on
/// every query.
fn sqlite_pool(max: u32) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().max_connections(max).acquire_timeout(Duration::from_secs(30)).test_before_acquire(false);
    options.after_connect(|conn, _meta| {
        Box::pin(async move {
            conn.execute(SQLITE_PRAGMAS).await?;
            Ok(())
        })
    })
}

/// The backend a URL names, if feria supports it.
pub fn backend_of(url: &str) -> Option<Backend> {
    if url.starts_with("sqlite:") {
        Some(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Backend::Postgres)
    } else {
        None
    }
}

/// Makes sure the SQLite file's folder exists and asks sqlx to create the file.
fn prepare_sqlite_url(url: &str) -> Result<String, sqlx::Error> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if let Some(dir) = Path::new(path).parent().filter(|d| path != ":memory:" && !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| sqlx::Error::Configuration(format!("cannot create {}: {e}", dir.display()).into()))?;
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The URL with any password replaced by `***`, fit for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_backends_and_redacts() {
        assert_eq!(backend_of("sqlite://./data/feria.db"), Some(Backend::Sqlite));
        assert_eq!(backend_of("postgres://u@h/db"), Some(Backend::Postgres));
        assert_eq!(backend_of("mysql://h/db"), None);
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/x.db", dir.path().display());
        let prepared = prepare_sqlite_url(&url).unwrap();
        assert!(prepared.ends_with("/sub/x.db?mode=rwc"), "{prepared}");
        assert!(dir.path().join("sub").is_dir());
    }
}

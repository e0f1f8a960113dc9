//! Group commit for SQLite's single writer: writes that arrive while the writer is busy are
//! run one after another in one transaction, each in its own savepoint, and committed together.
//!
//! A write transaction on its own costs three trips to SQLite's connection thread (BEGIN, the
//! work, COMMIT) and a commit that appends every page it touched to the WAL; under load the
//! writer, not the CPU, bounds how many orders a second a shop takes. Grouped, a write costs its
//! work and a savepoint, and pages touched by several writes (a product's stock, the last page
//! of `orders`) reach the WAL once per group.
//!
//! Nothing is answered before its group commits: a caller gets its result only once the
//! transaction holding its write is durable, or an error when that commit failed. A write that
//! fails (or panics) is rolled back to its savepoint and does not affect the others.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures::FutureExt;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use tokio::sync::{mpsc, oneshot};

/// The most writes committed together; bounds how long one group holds the writer.
const MAX_GROUP: usize = 32;

/// A write's work, borrowing the connection it runs on.
pub type Work<T, E> = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>> + Send>;

/// Hands a write's result to its caller: its own result when its group committed (or when it
/// failed and was rolled back), or the group's commit error.
type Deliver = Box<dyn FnOnce(Option<&sqlx::Error>) + Send>;

/// A queued write, type-erased: runs the work and says whether it is to be kept.
type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> Pin<Box<dyn Future<Output = (bool, Deliver)> + Send + 'c>> + Send>;

/// The queue of writes waiting for the SQLite writer.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the task that runs queued writes on `writer` (a pool of one connection); it ends
    /// when every handle is dropped.
    pub(crate) fn start(writer: AnyPool) -> GroupCommit {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, jobs));
        GroupCommit { queue }
    }

    /// Queues `work` and waits for its group to commit.
    pub(crate) async fn write<T, E>(&self, work: Work<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = work(conn).await;
                let keep = result.is_ok();
                let deliver: Deliver = Box::new(move |failed| {
                    let result = match failed {
                        Some(e) if keep => Err(E::from(copy(e))),
                        _ => result,
                    };
                    let _ = answer.send(result);
                });
                (keep, deliver)
            })
        });
        self.queue.send(job).map_err(|_| E::from(sqlx::Error::PoolClosed))?;
        // The sender is dropped unanswered only when the work panicked.
        answered.await.map_err(|_| E::from(sqlx::Error::WorkerCrashed))?
    }
}

/// A commit error for each caller of a failed group (`sqlx::Error` is not `Clone`).
fn copy(e: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!("the write's transaction failed to commit: {e}")))
}

async fn run(writer: AnyPool, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while jobs.recv_many(&mut group, MAX_GROUP).await > 0 {
        let mut pending = group.drain(..);
        match writer.acquire().await {
            Ok(mut conn) => {
                while pending.len() > 0 {
                    commit_group(&mut conn, &mut pending).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit: no writer connection");
                // Dropping the jobs unrun answers their callers with an error.
            }
        }
    }
}

/// Runs the `pending` writes in one transaction until they are all done or the transaction
/// fails (the writes not yet run then go to the next transaction).
async fn commit_group(conn: &mut AnyConnection, pending: &mut impl Iterator<Item = Job>) {
    // The write lock at once (see `Db::begin`).
    let mut tx = match conn.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "group commit: cannot begin");
            pending.for_each(drop);
            return;
        }
    };
    let mut kept: Vec<Deliver> = Vec::new();
    let failure = loop {
        let Some(job) = pending.next() else { break tx.commit().await.err() };
        if let Err(e) = tx.execute("SAVEPOINT write").await {
            break Some(e);
        }
        match AssertUnwindSafe(job(&mut tx)).catch_unwind().await {
            Ok((true, deliver)) => kept.push(deliver),
            Ok((false, deliver)) => {
                let undone = tx.execute("ROLLBACK TO write").await;
                deliver(None);
                if let Err(e) = undone {
                    break Some(e);
                }
            }
            Err(_) => {
                tracing::error!("group commit: a write panicked; rolled back");
                if let Err(e) = tx.execute("ROLLBACK TO write").await {
                    break Some(e);
                }
            }
        }
    };
    // On failure the transaction is rolled back (when `tx` was not consumed by the commit, by
    // dropping it) and every write kept in it fails.
    for deliver in kept {
        deliver(failure.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use crate::Db;

    #[derive(Debug)]
    enum Failed {
        Refused,
        Db(sqlx::Error),
    }

    impl From<sqlx::Error> for Failed {
        fn from(e: sqlx::Error) -> Failed {
            Failed::Db(e)
        }
    }

    /// Inserts `v`, then fails (`v` % 3 == 1), panics (`v` % 3 == 2 and `v` < 10) or succeeds.
    async fn write(db: &Db, v: i64) -> Result<i64, Failed> {
        db.write(Box::new(move |conn| {
            Box::pin(async move {
                sqlx::query("INSERT INTO t (v) VALUES ($1)").bind(v).execute(&mut *conn).await?;
                match v % 3 {
                    1 => Err(Failed::Refused),
                    2 if v < 10 => panic!("write {v} panicked"),
                    _ => Ok(v),
                }
            })
        }))
        .await
    }

    /// Writes arriving together are grouped; a failed or panicking write leaves no trace and
    /// does not affect the others, and a write is visible to readers once answered.
    #[tokio::test]
    async fn failed_writes_are_undone_alone_and_answered_writes_are_committed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display()), 2).await.unwrap();
        sqlx::query("CREATE TABLE t (v BIGINT NOT NULL UNIQUE)").execute(db.writer()).await.unwrap();
        // Holding the writer makes the 60 writes queue up and run as groups.
        let held = db.begin().await.unwrap();
        let writes: Vec<_> = (0..60)
            .map(|v| {
                tokio::spawn({
                    let db = db.clone();
                    async move { (v, write(&db, v).await) }
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        held.commit().await.unwrap();
        for w in writes {
            let (v, result) = w.await.unwrap();
            match (v % 3, result) {
                (0, Ok(got)) => {
                    assert_eq!(got, v);
                    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t WHERE v = $1").bind(v).fetch_one(db.reader()).await.unwrap();
                    assert_eq!(seen, 1, "write {v} answered but not visible");
                }
                (1, Err(Failed::Refused)) => {}
                (2, Err(Failed::Db(sqlx::Error::WorkerCrashed))) if v < 10 => {}
                (2, Ok(_)) if v >= 10 => {}
                (_, other) => panic!("write {v}: unexpected {other:?}"),
            }
        }
        let kept: Vec<i64> = sqlx::query_scalar("SELECT v FROM t ORDER BY v").fetch_all(db.reader()).await.unwrap();
        let expected: Vec<i64> = (0..60).filter(|v| v % 3 == 0 || (v % 3 == 2 && *v >= 10)).collect();
        assert_eq!(kept, expected);
        // The writer outlives the panics, and a duplicate (a failing statement) is undone alone.
        assert!(matches!(write(&db, 0).await, Err(Failed::Db(e)) if crate::is_unique_violation(&e)));
        assert_eq!(write(&db, 60).await.unwrap(), 60);
    }
}

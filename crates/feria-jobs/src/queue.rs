//! The `jobs` table: inserting, claiming and settling rows.

use std::time::Duration;

use chrono::TimeDelta;
use feria_db::{AnyConnection, Backend, Db, Row};
use feria_domain::{ids::new_id, time};
use rand::Rng;
use serde::Serialize;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a runner until `locked_until`.
    Running,
    /// Finished successfully.
    Done,
    /// Finished without doing anything, on purpose (e.g. provider not configured).
    Skipped,
    /// Failed `max_attempts` times; kept for an admin to look at.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Skipped => "skipped",
            JobState::Dead => "dead",
        }
    }

    /// Parses a state name; `None` for anything else.
    pub fn parse(s: &str) -> Option<JobState> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "done" => Some(JobState::Done),
            "skipped" => Some(JobState::Skipped),
            "dead" => Some(JobState::Dead),
            _ => None,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_at, last_error, created_at, updated_at";

fn job_from_row(row: &feria_db::AnyRow) -> Result<JobRow, sqlx::Error> {
    let payload: String = row.try_get("payload")?;
    Ok(JobRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        state: JobState::parse(&row.try_get::<String, _>("state")?).unwrap_or(JobState::Queued),
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: row.try_get("run_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The start of a statement inserting jobs: `{INSERT_JOB} {job_select(…)}`.
pub const INSERT_JOB: &str = "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)";

/// The `SELECT` of one job row of `kind` due at `run_at`, its values added to `args`, and the new
/// job's id. A statement can put a condition after it (`… WHERE …`) to insert the job only when
/// something else happened in the same round trip.
pub fn job_select(
    args: &mut feria_db::Args<'_>,
    kind: &str,
    payload: &serde_json::Value,
    max_attempts: i64,
    run_at: time::Timestamp,
) -> (String, String) {
    let id = new_id();
    let now = args.add(time::to_db(time::now()));
    let select = format!(
        "SELECT {}, {}, {}, 'queued', 0, {}, {}, {now}, {now}",
        args.add(id.clone()),
        args.add(kind.to_string()),
        args.add(payload.to_string()),
        args.add(max_attempts.max(1)),
        args.add(time::to_db(run_at))
    );
    (id, select)
}

/// Inserts a job of `kind` due now, on `conn` (pass the caller's open transaction).
pub async fn enqueue(conn: &mut AnyConnection, kind: &str, payload: &impl Serialize, max_attempts: i64) -> Result<String, sqlx::Error> {
    enqueue_at(conn, kind, payload, max_attempts, time::now()).await
}

/// Inserts a job of `kind` due at `run_at`, on `conn`.
pub async fn enqueue_at(
    conn: &mut AnyConnection,
    kind: &str,
    payload: &impl Serialize,
    max_attempts: i64,
    run_at: time::Timestamp,
) -> Result<String, sqlx::Error> {
    let payload = serde_json::to_value(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut args = feria_db::Args::default();
    let (id, select) = job_select(&mut args, kind, &payload, max_attempts, run_at);
    sqlx::query_with(&format!("{INSERT_JOB} {select}"), args.into_inner()).execute(conn).await?;
    Ok(id)
}

/// Jobs inserted per statement by [`enqueue_many`] (6 values each: under both databases' limit
/// on bound values).
const JOBS_PER_STATEMENT: usize = 50;

/// Inserts jobs of `kind`, one per `(payload, run_at)`, on `conn`, a few hundred per statement;
/// returns their ids in order.
pub async fn enqueue_many(
    conn: &mut AnyConnection,
    kind: &str,
    jobs: &[(serde_json::Value, time::Timestamp)],
    max_attempts: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut ids = Vec::with_capacity(jobs.len());
    for chunk in jobs.chunks(JOBS_PER_STATEMENT) {
        let mut args = feria_db::Args::default();
        let selects: Vec<String> = chunk
            .iter()
            .map(|(payload, run_at)| {
                let (id, select) = job_select(&mut args, kind, payload, max_attempts, *run_at);
                ids.push(id);
                select
            })
            .collect();
        let sql = format!("{INSERT_JOB} {}", selects.join(" UNION ALL "));
        sqlx::query_with(&sql, args.into_inner()).execute(&mut *conn).await?;
    }
    Ok(ids)
}

/// One job by id.
pub async fn find(db: &Db, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.reader()).await?;
    row.as_ref().map(job_from_row).transpose()
}

/// One page of jobs, newest first, optionally only those in `state`, with the total count.
pub async fn list(db: &Db, state: Option<JobState>, limit: i64, offset: i64) -> Result<(i64, Vec<JobRow>), sqlx::Error> {
    let filter = if state.is_some() { "WHERE state = $1" } else { "WHERE $1 IS NULL" };
    let state = state.map(JobState::as_str);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM jobs {filter}")).bind(state).fetch_one(db.reader()).await?;
    let sql = format!("SELECT {COLUMNS} FROM jobs {filter} ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3");
    let rows = sqlx::query(&sql).bind(state).bind(limit).bind(offset).fetch_all(db.reader()).await?;
    Ok((total, rows.iter().map(job_from_row).collect::<Result<_, _>>()?))
}

/// Puts a dead job back in the queue with a fresh set of attempts, due now. Returns the job,
/// or `None` when no dead job has that id.
pub async fn retry_dead(db: &Db, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let now = time::to_db(time::now());
    let sql = format!(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL
         WHERE id = $2 AND state = 'dead' RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql).bind(now).bind(id).fetch_optional(db.writer()).await?;
    row.as_ref().map(job_from_row).transpose()
}

/// How many jobs wait or run, and how many are dead.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueCounts {
    pub pending: i64,
    pub dead: i64,
}

/// Counts pending (queued or running) and dead jobs.
pub async fn counts(db: &Db) -> Result<QueueCounts, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN state IN ('queued', 'running') THEN 1 ELSE 0 END), 0) AS pending,
                COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead
         FROM jobs WHERE state IN ('queued', 'running', 'dead')",
    )
    .fetch_one(db.reader())
    .await?;
    Ok(QueueCounts { pending: row.try_get("pending")?, dead: row.try_get("dead")? })
}

/// Claims up to `limit` due jobs for `worker`, leasing them for `lease`.
///
/// A job is due when queued with `run_at` passed, or running with an expired lease (its
/// runner died); a claim takes up to `limit` of each. One statement does it, through the group commit (on SQLite it shares a commit
/// with the writes of requests served at the same moment): atomic on SQLite, and on PostgreSQL
/// the inner `FOR UPDATE SKIP LOCKED` lets concurrent runners take disjoint rows.
pub(crate) async fn claim(db: &Db, worker: &str, limit: i64, lease: Duration) -> Result<Vec<JobRow>, sqlx::Error> {
    let now = time::now();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // Queued and lapsed jobs are looked up apart, each along the (state, run_at) index, so that a
    // backlog of queued jobs is not read and sorted whole at each claim (an `OR` would).
    let sql = format!(
        "WITH due AS (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $3 ORDER BY run_at LIMIT $4 {lock}),
              lapsed AS (SELECT id FROM jobs WHERE state = 'running' AND locked_until < $3 LIMIT $4 {lock})
         UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3
         WHERE id IN (SELECT id FROM due UNION ALL SELECT id FROM lapsed)
         RETURNING {COLUMNS}"
    );
    let worker = worker.to_string();
    let until = time::to_db(now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX));
    let rows = db
        .write(Box::new(move |conn| {
            Box::pin(async move { sqlx::query(&sql).bind(worker).bind(until).bind(time::to_db(now)).bind(limit).fetch_all(conn).await })
        }))
        .await?;
    rows.iter().map(job_from_row).collect()
}

/// A claimed job the handler finished without error: `Done` or `Skipped`, with an optional note.
pub(crate) struct Finished {
    pub id: String,
    pub state: JobState,
    pub note: Option<String>,
}

/// Marks claimed jobs finished, in one write through the group commit (a runner's batch: one
/// write for all of them rather than one each); the `Done` ones in one statement.
pub(crate) async fn finish(db: &Db, worker: &str, jobs: Vec<Finished>) -> Result<(), sqlx::Error> {
    if jobs.is_empty() {
        return Ok(());
    }
    let now = time::to_db(time::now());
    let worker = worker.to_string();
    db.write(Box::new(move |conn| {
        Box::pin(async move {
            let (done, skipped): (Vec<Finished>, Vec<Finished>) = jobs.into_iter().partition(|j| j.state == JobState::Done);
            let mut args = feria_db::Args::default();
            let (at, by) = (args.add(now.clone()), args.add(worker.clone()));
            let ids: Vec<String> = done.into_iter().map(|j| args.add(j.id)).collect();
            if !ids.is_empty() {
                let sql = format!(
                    "UPDATE jobs SET state = 'done', last_error = NULL, locked_by = NULL, locked_until = NULL, updated_at = {at}, finished_at = {at}
                     WHERE id IN ({}) AND locked_by = {by}",
                    ids.join(", ")
                );
                sqlx::query_with(&sql, args.into_inner()).execute(&mut *conn).await?;
            }
            for job in skipped {
                sqlx::query(
                    "UPDATE jobs SET state = $1, last_error = $2, locked_by = NULL, locked_until = NULL, updated_at = $3, finished_at = $3
                     WHERE id = $4 AND locked_by = $5",
                )
                .bind(job.state.as_str())
                .bind(job.note)
                .bind(&now)
                .bind(job.id)
                .bind(&worker)
                .execute(&mut *conn)
                .await?;
            }
            Ok::<_, sqlx::Error>(())
        })
    }))
    .await
}

/// Records a failed attempt: back to the queue after a backoff, or dead when out of attempts.
/// Returns the state the job is left in.
pub(crate) async fn fail(
    db: &Db,
    job: &JobRow,
    worker: &str,
    error: &str,
    backoff_base: Duration,
    backoff_cap: Duration,
) -> Result<JobState, sqlx::Error> {
    let now = time::now();
    let (state, run_at, finished) = if job.attempts >= job.max_attempts {
        (JobState::Dead, now, Some(time::to_db(now)))
    } else {
        let delay = backoff_delay(job.attempts, backoff_base, backoff_cap, rand::thread_rng().r#gen::<f64>());
        (JobState::Queued, now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX), None)
    };
    sqlx::query(
        "UPDATE jobs SET state = $1, run_at = $2, last_error = $3, locked_by = NULL, locked_until = NULL, updated_at = $4, finished_at = $5
         WHERE id = $6 AND locked_by = $7",
    )
    .bind(state.as_str())
    .bind(time::to_db(run_at))
    .bind(error)
    .bind(time::to_db(now))
    .bind(finished)
    .bind(&job.id)
    .bind(worker)
    .execute(db.writer())
    .await?;
    Ok(state)
}

/// Delay before retry number `attempt` (1-based): `base × 2^(attempt-1)`, capped at `cap`,
/// then scaled into `[½, 1]` of itself by `jitter` (a number in `[0, 1)`) so that jobs failing
/// together do not retry together.
pub fn backoff_delay(attempt: i64, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exponent = attempt.clamp(1, 32) as u32 - 1;
    let full = base.saturating_mul(2u32.saturating_pow(exponent)).min(cap);
    full.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff_delay(1, base, cap, 1.0), Duration::from_secs(1));
        assert_eq!(backoff_delay(3, base, cap, 1.0), Duration::from_secs(4));
        assert_eq!(backoff_delay(3, base, cap, 0.0), Duration::from_secs(2));
        assert_eq!(backoff_delay(20, base, cap, 1.0), cap);
        assert_eq!(backoff_delay(1000, base, cap, 0.5), cap.mul_f64(0.75));
    }
}

//! Running a request at most once per idempotency key: the key is claimed with a fingerprint
//! of the request, a successful answer is kept for 24 hours and replayed to the same request,
//! and another request under the key is told apart. Kept in the database, so it holds across
//! nodes. The HTTP `Idempotency-Key` middleware and UCP's MCP binding (`meta["idempotency-key"]`)
//! both keep their keys here.

use std::time::Duration;

use feria_db::{AnyConnection, Row};
use feria_domain::time;
use sha2::{Digest, Sha256};

/// How long a key is kept.
const KEPT: Duration = Duration::from_secs(24 * 3600);
/// A request still marked running after this long died with its node; its key is free again.
const ABANDONED: Duration = Duration::from_secs(120);

/// What claiming a key found.
pub enum Claim {
    /// This request runs.
    Run,
    /// The first request's answer.
    Replay { status: u16, content_type: Option<String>, body: String },
    /// The key was used for another request.
    Mismatch,
    /// The first request with this key is still running.
    InUse,
}

/// A fingerprint of a request from its `parts` (each length-prefixed, so they cannot run together).
pub fn digest(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

/// Claims `key` in `scope` for the request `fingerprint`; expired and abandoned keys go first.
pub async fn claim(conn: &mut AnyConnection, scope: &str, key: &str, fingerprint: &str) -> Result<Claim, sqlx::Error> {
    let now = time::now();
    let expired = time::to_db(now - chrono::Duration::from_std(KEPT).expect("24 h fits"));
    let abandoned = time::to_db(now - chrono::Duration::from_std(ABANDONED).expect("2 min fits"));
    let now = time::to_db(now);
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1 OR (state = 'running' AND updated_at < $2)")
        .bind(&expired)
        .bind(&abandoned)
        .execute(&mut *conn)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, updated_at) VALUES ($1, $2, $3, 'running', $4, $4)
         ON CONFLICT (scope, key) DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(fingerprint)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Run);
    }
    let Some(row) =
        sqlx::query("SELECT fingerprint, state, status, content_type, body FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?
    else {
        // Released between the insert and the read: the first request failed. Run this one.
        return Box::pin(claim(conn, scope, key, fingerprint)).await;
    };
    if row.try_get::<String, _>("fingerprint")? != fingerprint {
        return Ok(Claim::Mismatch);
    }
    if row.try_get::<String, _>("state")? != "done" {
        return Ok(Claim::InUse);
    }
    Ok(Claim::Replay {
        status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(200),
        content_type: row.try_get("content_type")?,
        body: row.try_get("body")?,
    })
}

/// Keeps a successful answer under the key, or frees the key after a failure.
pub async fn settle(
    conn: &mut AnyConnection,
    scope: &str,
    key: &str,
    answer: Option<(u16, Option<&str>, &str)>,
) -> Result<(), sqlx::Error> {
    match answer {
        Some((status, content_type, body)) => {
            sqlx::query(
                "UPDATE idempotency_keys SET state = 'done', status = $1, content_type = $2, body = $3, updated_at = $4 WHERE scope = $5 AND key = $6",
            )
            .bind(i64::from(status))
            .bind(content_type)
            .bind(body)
            .bind(time::to_db(time::now()))
            .bind(scope)
            .bind(key)
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2").bind(scope).bind(key).execute(conn).await?;
        }
    }
    Ok(())
}

//! Sessions: logging in and out, and refresh tokens (opaque, stored as SHA-256, rotated on
//! every use).
//!
//! Tokens issued from one login form a family. Presenting a token that was already rotated
//! means someone kept a copy: the whole family is revoked, so both the thief and the owner
//! must log in again.

use std::time::Duration;

use chrono::TimeDelta;
use feria_db::{AnyConnection, Db, Row};
use feria_domain::{ids::new_id, time};

use super::users::{self, User};
use crate::app::App;
use crate::crypto::{random_token, sha256_hex};

/// Why a session could not be opened or renewed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("wrong email or password")]
    InvalidCredentials,
    /// Unknown, expired or revoked (logged out), or its user is gone.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// Already rotated: the family is now revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// An open session: the user, an access token and a refresh token.
pub struct Session {
    pub user: User,
    pub token: String,
    pub refresh_token: String,
}

impl Session {
    /// The session of `user` with a fresh access token.
    pub fn issue(app: &App, user: User, refresh_token: String) -> Session {
        let token = app.tokens.issue(&user.id, &user.roles, user.token_version);
        Session { user, token, refresh_token }
    }
}

/// The user with this email (lower-cased) and password.
pub async fn verify_credentials(app: &App, email: &str, password: String) -> Result<User, SessionError> {
    let user = users::find_by_email(&mut *app.db.reader().acquire().await?, email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let (true, Some(user)) = (app.passwords.verify(password, hash).await, user) else { return Err(SessionError::InvalidCredentials) };
    Ok(user)
}

/// Logs in with an email (lower-cased) and a password.
pub async fn login(app: &App, email: &str, password: String) -> Result<Session, SessionError> {
    let user = verify_credentials(app, email, password).await?;
    let mut tx = app.db.begin().await?;
    let refresh_token = start(&mut tx, &user.id, app.config.jwt_refresh_expires_in).await?;
    tx.commit().await?;
    Ok(Session::issue(app, user, refresh_token))
}

/// Exchanges the refresh token `raw` for a new session of its family.
pub async fn refresh(app: &App, raw: &str) -> Result<Session, SessionError> {
    let (user_id, refresh_token) = rotate(&app.db, raw, app.config.jwt_refresh_expires_in).await?;
    let user = users::find_by_id(&mut *app.db.reader().acquire().await?, &user_id).await?.ok_or(SessionError::InvalidRefreshToken)?;
    Ok(Session::issue(app, user, refresh_token))
}

/// Ends the session `raw` belongs to; when `raw` was its live token, every access token of its
/// user issued so far stops holding too.
pub async fn logout(app: &App, raw: &str) -> Result<(), sqlx::Error> {
    let mut tx = app.db.begin().await?;
    let user = end(&mut tx, raw).await?;
    if let Some(user) = &user {
        users::revoke_access(&mut tx, user).await?;
    }
    tx.commit().await?;
    if let Some(user) = &user {
        app.access.forget(user);
    }
    Ok(())
}

/// Starts a new family for `user_id`; returns the raw token for the client.
pub async fn start(conn: &mut AnyConnection, user_id: &str, ttl: Duration) -> Result<String, sqlx::Error> {
    insert(conn, user_id, &new_id(), ttl).await
}

async fn insert(conn: &mut AnyConnection, user_id: &str, family_id: &str, ttl: Duration) -> Result<String, sqlx::Error> {
    let raw = random_token();
    let now = time::now();
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(family_id)
    .bind(sha256_hex(&raw))
    .bind(time::to_db(now + TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX)))
    .bind(time::to_db(now))
    .execute(conn)
    .await?;
    Ok(raw)
}

/// Exchanges `raw` for a new token of the same family; returns (user id, new raw token).
async fn rotate(db: &Db, raw: &str, ttl: Duration) -> Result<(String, String), SessionError> {
    let mut tx = db.begin().await?;
    let Some(row) =
        sqlx::query("SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(sha256_hex(raw))
            .fetch_optional(&mut *tx)
            .await?
    else {
        return Err(SessionError::InvalidRefreshToken);
    };
    let id: String = row.try_get("id")?;
    let user_id: String = row.try_get("user_id")?;
    let family_id: String = row.try_get("family_id")?;
    let expires_at: String = row.try_get("expires_at")?;
    let rotated_at: Option<String> = row.try_get("rotated_at")?;
    let revoked_at: Option<String> = row.try_get("revoked_at")?;
    let now = time::to_db(time::now());
    if rotated_at.is_some() {
        revoke_family(&mut tx, &family_id).await?;
        tx.commit().await?;
        tracing::warn!(user = %user_id, family = %family_id, "refresh token reused: session family revoked");
        return Err(SessionError::RefreshTokenReused);
    }
    if revoked_at.is_some() || expires_at <= now {
        return Err(SessionError::InvalidRefreshToken);
    }
    // Conditional: of two concurrent rotations of the same token, only one wins.
    let won = sqlx::query("UPDATE refresh_tokens SET rotated_at = $1 WHERE id = $2 AND rotated_at IS NULL AND revoked_at IS NULL")
        .bind(&now)
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !won {
        revoke_family(&mut tx, &family_id).await?;
        tx.commit().await?;
        return Err(SessionError::RefreshTokenReused);
    }
    let next = insert(&mut tx, &user_id, &family_id, ttl).await?;
    tx.commit().await?;
    Ok((user_id, next))
}

async fn revoke_family(conn: &mut AnyConnection, family_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(family_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends the session `raw` belongs to (its whole family). Unknown tokens are ignored. Returns
/// the user when `raw` was the session's live token (an old, rotated, revoked or expired one
/// ends the session but says nobody logged out).
async fn end(conn: &mut AnyConnection, raw: &str) -> Result<Option<String>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT family_id, user_id, revoked_at, rotated_at, expires_at FROM refresh_tokens WHERE token_hash = $1")
        .bind(sha256_hex(raw))
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let live = row.try_get::<Option<String>, _>("revoked_at")?.is_none()
        && row.try_get::<Option<String>, _>("rotated_at")?.is_none()
        && row.try_get::<String, _>("expires_at")? > time::to_db(time::now());
    revoke_family(conn, &row.try_get::<String, _>("family_id")?).await?;
    live.then(|| row.try_get("user_id")).transpose()
}

/// Revokes every refresh token of `user_id` (after a password change or reset).
pub async fn end_all(conn: &mut AnyConnection, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(time::to_db(time::now()))
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

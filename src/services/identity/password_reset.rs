//! Forgotten passwords: a single-use, expiring token sent by email as a link.

use chrono::TimeDelta;
use feria_db::Row;
use feria_domain::notify::EventKind;
use feria_domain::{ids::new_id, time};

use crate::app::App;
use crate::crypto::{random_token, sha256_hex};
use crate::services::identity::{sessions, users};
use crate::services::notifications::{self, NewEvent};

/// Creates a reset token for `email` and queues the email, if such a user exists.
/// Says nothing either way: the caller answers the same message regardless.
pub async fn request(app: &App, email: &str) -> Result<(), sqlx::Error> {
    let mut tx = app.db.begin().await?;
    let Some(user) = users::find_by_email(&mut tx, email).await? else {
        return Ok(());
    };
    let raw = random_token();
    let raw_hash = sha256_hex(&raw);
    let now = time::now();
    let expires = now + TimeDelta::from_std(app.config.password_reset_ttl).unwrap_or(TimeDelta::MAX);
    sqlx::query("INSERT INTO password_resets (id, user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(&user.id)
        .bind(&raw_hash)
        .bind(time::to_db(expires))
        .bind(time::to_db(now))
        .execute(&mut *tx)
        .await?;
    let link = format!("{}/reset-password?token={raw}", app.config.frontend_url);
    let minutes = app.config.password_reset_ttl.as_secs() / 60;
    // The link is a credential: the event's data is sealed.
    let data = serde_json::json!({"userId": user.id, "link": link, "minutes": minutes});
    let event = NewEvent {
        store_id: None,
        kind: EventKind::PasswordReset,
        dedupe_key: format!("password_reset:{raw_hash}"),
        data,
        secret: true,
        fan_out_at: None,
    };
    notifications::emit(&mut tx, app, event).await?;
    tx.commit().await?;
    app.job_wake.notify_one();
    Ok(())
}

/// Sets a new password with a reset token. Returns false when the token is unknown, used or
/// expired. A successful reset also ends every session of the user.
pub async fn reset(app: &App, raw: &str, new_password_hash: &str) -> Result<bool, sqlx::Error> {
    let now = time::to_db(time::now());
    let mut tx = app.db.begin().await?;
    let row = sqlx::query(
        "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
    )
    .bind(&now)
    .bind(sha256_hex(raw))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(false) };
    let user_id: String = row.try_get("user_id")?;
    let changes = users::UserChanges { password_hash: Some(new_password_hash.to_string()), ..Default::default() };
    if users::update(&mut tx, &user_id, changes).await?.is_none() {
        return Ok(false);
    }
    sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(&now)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    sessions::end_all(&mut tx, &user_id).await?;
    tx.commit().await?;
    app.access.forget(&user_id);
    Ok(true)
}

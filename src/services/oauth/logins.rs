//! Who is signed in on the consent page: a random id in a cookie, its hash here, for
//! [`super::LOGIN_TTL`].

use feria_domain::time;

use super::LOGIN_TTL;
use crate::app::App;
use crate::crypto::{random_token, sha256_hex};
use crate::services::identity::caller::Caller;
use crate::services::identity::sessions::{self, SessionError};

/// Signs `email` in with `password`; returns the cookie value.
pub async fn sign_in(app: &App, email: &str, password: String) -> Result<String, SessionError> {
    let user = sessions::verify_credentials(app, email, password).await?;
    let id = random_token();
    let now = time::now();
    sqlx::query("DELETE FROM oauth_logins WHERE expires_at < $1").bind(time::to_db(now)).execute(app.db.writer()).await?;
    sqlx::query("INSERT INTO oauth_logins (id_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(sha256_hex(&id))
        .bind(&user.id)
        .bind(time::to_db(now + LOGIN_TTL))
        .execute(app.db.writer())
        .await?;
    Ok(id)
}

/// The user signed in with cookie value `id`, with their current access; `None` when the
/// sign-in expired or the user is gone.
pub async fn signed_in(app: &App, id: &str) -> Result<Option<Caller>, sqlx::Error> {
    let user: Option<String> = sqlx::query_scalar("SELECT user_id FROM oauth_logins WHERE id_hash = $1 AND expires_at > $2")
        .bind(sha256_hex(id))
        .bind(time::to_db(time::now()))
        .fetch_optional(&mut *app.db.reader().acquire().await?)
        .await?;
    let Some(user) = user else { return Ok(None) };
    Ok(app.access.current(&app.db, &user).await?.map(|access| Caller::user(user, access)))
}

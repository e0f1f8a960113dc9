//! Creating accounts outside the public API: `feria user create` and the first admin from
//! `ADMIN_EMAIL`/`ADMIN_PASSWORD`.

use feria_domain::roles::Role;

use crate::app::App;
use crate::http::validate::Validator;
use crate::services::identity::users;

/// Creates a user with `roles` after the same checks registration makes.
pub async fn create_user(app: &App, name: &str, email: &str, password: &str, roles: &[Role]) -> anyhow::Result<users::User> {
    let mut v = Validator::new();
    let name = v.text("name", Some(name), 2, 100);
    let email = v.email("email", Some(email));
    let password = v.password("password", Some(password));
    if let Err(e) = v.finish() {
        let problems: Vec<String> = e.details.iter().map(|d| format!("{}: {}", d.field, d.message)).collect();
        anyhow::bail!("invalid user: {}", problems.join("; "));
    }
    let hash = app.passwords.hash(password).await?;
    let mut tx = app.db.begin().await?;
    let user = users::create(&mut tx, users::NewUser { name: &name, email: &email, password_hash: &hash, roles }).await.map_err(|e| {
        if feria_db::is_unique_violation(&e) { anyhow::anyhow!("a user with email {email} already exists") } else { e.into() }
    })?;
    tx.commit().await?;
    Ok(user)
}

/// Creates the admin named by `ADMIN_EMAIL`/`ADMIN_PASSWORD` if no user has that email yet.
/// Returns true when it created one.
pub async fn ensure_configured_admin(app: &App) -> anyhow::Result<bool> {
    let (Some(email), Some(password)) = (&app.config.admin_email, &app.config.admin_password) else { return Ok(false) };
    if users::find_by_email(&mut *app.db.reader().acquire().await?, email).await?.is_some() {
        return Ok(false);
    }
    match create_user(app, "Administrador", email, password.expose(), &[Role::Admin, Role::User]).await {
        Ok(_) => {
            tracing::info!(%email, "created the first admin from ADMIN_EMAIL");
            Ok(true)
        }
        // Another node created it between our check and insert.
        Err(_) if users::find_by_email(&mut *app.db.reader().acquire().await?, email).await?.is_some() => Ok(false),
        Err(e) => Err(e),
    }
}

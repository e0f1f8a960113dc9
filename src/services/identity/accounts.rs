//! One's own account: registering, and reading or changing one's profile.

use feria_db::Db;
use feria_domain::roles::Role;

use super::caller::Caller;
use super::sessions::{self, Session};
use super::users::{self, User, UserChanges, UserError, email_taken};
use crate::app::App;

/// A new account's validated fields.
pub struct NewAccount {
    pub name: String,
    /// Lower-cased.
    pub email: String,
    pub password: String,
}

/// Registers a user (role `USER_ROLE`) with a customer profile in the default store and opens
/// a session.
pub async fn register(app: &App, new: NewAccount) -> Result<Session, UserError> {
    let hash = app.passwords.hash(new.password).await.map_err(UserError::Hashing)?;
    let mut tx = app.db.begin().await?;
    let account = users::NewUser { name: &new.name, email: &new.email, password_hash: &hash, roles: &[Role::User] };
    let user = users::create(&mut tx, account).await.map_err(email_taken)?;
    let refresh_token = sessions::start(&mut tx, &user.id, app.config.jwt_refresh_expires_in).await?;
    tx.commit().await?;
    Ok(Session::issue(app, user, refresh_token))
}

/// The caller's user.
pub async fn me(db: &Db, caller: &Caller) -> Result<User, UserError> {
    users::find_by_id(&mut *db.reader().acquire().await?, &caller.id).await?.ok_or(UserError::Gone)
}

/// A user with the phone of their customer profile.
pub struct Profile {
    pub user: User,
    pub phone: Option<String>,
}

/// The caller's profile.
pub async fn profile(db: &Db, caller: &Caller) -> Result<Profile, UserError> {
    let mut conn = db.reader().acquire().await?;
    let user = users::find_by_id(&mut conn, &caller.id).await?.ok_or(UserError::Gone)?;
    let phone = users::customer_phone(&mut conn, &user.id).await?;
    Ok(Profile { user, phone })
}

/// Validated changes to one's own profile; `None` keeps a field, and `Some(None)` clears the
/// avatar or the phone.
pub struct ProfileChanges {
    pub name: Option<String>,
    pub img: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub password: Option<PasswordChange>,
}

/// A new password, with the current one that allows it.
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// Changes the caller's profile. A new password needs the current one and ends the user's
/// other sessions and access tokens.
pub async fn update_profile(app: &App, caller: &Caller, changes: ProfileChanges) -> Result<Profile, UserError> {
    let user = me(&app.db, caller).await?;
    let password_hash = match changes.password {
        Some(PasswordChange { current, new }) => {
            if !app.passwords.verify(current, Some(user.password_hash.clone())).await {
                return Err(UserError::WrongPassword);
            }
            Some(app.passwords.hash(new).await.map_err(UserError::Hashing)?)
        }
        None => None,
    };
    let changing_password = password_hash.is_some();
    let mut tx = app.db.begin().await?;
    let fields = UserChanges { name: changes.name, img: changes.img, password_hash, ..UserChanges::default() };
    let updated = users::update(&mut tx, &user.id, fields).await.map_err(email_taken)?.ok_or(UserError::Gone)?;
    if let Some(phone) = &changes.phone {
        users::set_customer_phone(&mut tx, &user.id, phone.as_deref()).await?;
    }
    if changing_password {
        sessions::end_all(&mut tx, &user.id).await?;
    }
    let phone = users::customer_phone(&mut tx, &user.id).await?;
    tx.commit().await?;
    app.access.forget(&user.id);
    Ok(Profile { user: updated, phone })
}

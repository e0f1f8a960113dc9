//! Users and the customer profile each registered user gets.

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::{ids::new_id, roles::Role, time};

use super::caller::{Caller, Membership, UserAccess};
use crate::app::App;
use feria_domain::access::StoreRole;

/// A user as stored (the password hash never leaves the service layer).
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub img: Option<String>,
    /// Access tokens carry it; raising it makes every token issued before invalid.
    pub token_version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// Why a user could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("no such user")]
    NotFound,
    /// The caller's own user no longer exists.
    #[error("the caller's user is gone")]
    Gone,
    #[error("email taken")]
    EmailTaken,
    /// The current password given to change it is wrong.
    #[error("wrong current password")]
    WrongPassword,
    #[error("an admin cannot delete their own user")]
    CannotDeleteSelf,
    #[error("password hashing failed: {0}")]
    Hashing(anyhow::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A unique violation (on the email) as a taken email.
pub(super) fn email_taken(err: sqlx::Error) -> UserError {
    if feria_db::unique_violation(&err) == Some("users_email_key") { UserError::EmailTaken } else { UserError::Database(err) }
}

const COLUMNS: &str = "id, name, email, password_hash, roles, img, token_version, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    let roles: String = row.try_get("roles")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        roles: serde_json::from_str(&roles).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        img: row.try_get("img")?,
        token_version: row.try_get("token_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn roles_json(roles: &[Role]) -> String {
    serde_json::to_string(&roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()).expect("a list of strings serialises")
}

pub async fn find_by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

pub async fn find_by_email(conn: &mut AnyConnection, email: &str) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    sqlx::query(&sql).bind(email).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// One page of users, oldest first, with the total count.
pub async fn page(db: &Db, limit: i64, offset: i64) -> Result<(i64, Vec<User>), sqlx::Error> {
    let mut conn = db.reader().acquire().await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *conn).await?;
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2");
    let rows = sqlx::query(&sql).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// What a new user is made of.
pub struct NewUser<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a [Role],
}

/// Inserts a user and its customer profile in the default store. A taken email is a unique
/// violation.
pub async fn create(conn: &mut AnyConnection, new: NewUser<'_>) -> Result<User, sqlx::Error> {
    let now = time::to_db(time::now());
    let id = new_id();
    let sql = format!(
        "INSERT INTO users (id, name, email, password_hash, roles, img, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, NULL, $6, $6) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(&id)
        .bind(new.name)
        .bind(new.email)
        .bind(new.password_hash)
        .bind(roles_json(new.roles))
        .bind(&now)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO customers (id, store_id, user_id, name, email, phone, is_guest, created_at, updated_at)
         VALUES ($1, (SELECT id FROM stores WHERE is_default = 1), $2, $3, $4, NULL, $5, $6, $6)",
    )
    .bind(new_id())
    .bind(&id)
    .bind(new.name)
    .bind(new.email)
    .bind(feria_db::flag(false))
    .bind(&now)
    .execute(conn)
    .await?;
    from_row(&row)
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub img: Option<Option<String>>,
    pub password_hash: Option<String>,
}

/// Applies `changes` to user `id` (and keeps the linked customers' names and emails in step).
/// New roles or a new password revoke every access token issued before. Returns the updated
/// user, or `None` when it does not exist.
pub async fn update(conn: &mut AnyConnection, id: &str, changes: UserChanges) -> Result<Option<User>, sqlx::Error> {
    let Some(current) = find_by_id(conn, id).await? else { return Ok(None) };
    let current_roles = serde_json::to_string(&current.roles).expect("strings serialise");
    let roles = changes.roles.map(|r| roles_json(&r)).unwrap_or_else(|| current_roles.clone());
    let revokes = roles != current_roles || changes.password_hash.is_some();
    let name = changes.name.unwrap_or(current.name);
    let email = changes.email.unwrap_or(current.email);
    let img = changes.img.unwrap_or(current.img);
    let password_hash = changes.password_hash.unwrap_or(current.password_hash);
    let now = time::to_db(time::now());
    let sql = format!(
        "UPDATE users SET name = $1, email = $2, roles = $3, img = $4, password_hash = $5, updated_at = $6,
         token_version = token_version + $8 WHERE id = $7 RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(&name)
        .bind(&email)
        .bind(roles)
        .bind(img)
        .bind(password_hash)
        .bind(&now)
        .bind(id)
        .bind(i64::from(revokes))
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query("UPDATE customers SET name = $1, email = $2, updated_at = $3 WHERE user_id = $4")
        .bind(&name)
        .bind(&email)
        .bind(&now)
        .bind(id)
        .execute(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// An admin's changes to user `id` (name, email, roles); new roles end its access tokens.
pub async fn edit(app: &App, id: &str, changes: UserChanges) -> Result<User, UserError> {
    if !feria_domain::ids::is_valid_id(id) {
        return Err(UserError::NotFound);
    }
    let mut tx = app.db.begin().await?;
    let user = update(&mut tx, id, changes).await.map_err(email_taken)?.ok_or(UserError::NotFound)?;
    tx.commit().await?;
    app.access.forget(id);
    Ok(user)
}

/// Makes every access token of user `id` issued so far invalid (logout).
pub async fn revoke_access(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// What decides whether an access token of user `id` still holds and what it may do: the
/// token version, the platform roles and the store memberships; `None` when the user does not
/// exist.
pub async fn access_of(conn: &mut AnyConnection, id: &str) -> Result<Option<UserAccess>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT token_version, roles FROM users WHERE id = $1").bind(id).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let roles: String = row.try_get("roles")?;
    let memberships = sqlx::query("SELECT store_id, role FROM store_members WHERE user_id = $1")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|m| {
            let role: String = m.try_get("role")?;
            let role = StoreRole::parse(&role).ok_or_else(|| sqlx::Error::Decode(format!("unknown store role {role}").into()))?;
            Ok(Membership { store_id: m.try_get("store_id")?, role })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some(UserAccess {
        version: row.try_get("token_version")?,
        roles: serde_json::from_str(&roles).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        memberships,
    }))
}

/// Deletes user `id` (an admin's act; never the admin's own user). Its customer profiles stay
/// (orders keep their customer) but are unlinked.
pub async fn delete(app: &App, caller: &Caller, id: &str) -> Result<(), UserError> {
    if id == caller.id {
        return Err(UserError::CannotDeleteSelf);
    }
    if !feria_domain::ids::is_valid_id(id) {
        return Err(UserError::NotFound);
    }
    let mut tx = app.db.begin().await?;
    // Its API keys go with it (they would outlive it as `created_by` null otherwise).
    super::api_keys::revoke_created_by(&mut tx, None, id).await?;
    if sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected() != 1 {
        return Err(UserError::NotFound);
    }
    tx.commit().await?;
    app.access.forget(id);
    app.api_keys.forget_all();
    Ok(())
}

/// Phone of the user's customer profile (the first one, the default store's).
pub async fn customer_phone(conn: &mut AnyConnection, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    let phone: Option<Option<String>> = sqlx::query_scalar("SELECT phone FROM customers WHERE user_id = $1 ORDER BY created_at LIMIT 1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(phone.flatten())
}

/// Sets the phone of the user's customer profiles (one per store the user is a customer of).
pub async fn set_customer_phone(conn: &mut AnyConnection, user_id: &str, phone: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET phone = $1, updated_at = $2 WHERE user_id = $3")
        .bind(phone)
        .bind(time::to_db(time::now()))
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

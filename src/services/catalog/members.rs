//! A store's members: users with a role in it (`owner`, `manager`, `staff`). Only those who
//! manage members (owners, and the platform admin) add, change or remove them; a store always
//! keeps at least one owner. A member removed, or no longer an owner, takes the API keys they
//! created with them. A member's access changes at once on this node and within a
//! second on the others (it is read with the user's token version).

use feria_db::{AnyConnection, Row};
use feria_domain::access::{Scope, StoreRole};
use feria_domain::time;

use crate::app::App;
use crate::services::identity::caller::Caller;
use crate::services::identity::{api_keys, users};

/// Members a store may have.
pub const MAX_MEMBERS: i64 = 100;

/// A member of a store.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub role: StoreRole,
    pub created_at: String,
}

/// Why a change of members was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("not allowed")]
    NotAllowed,
    #[error("no user has that email")]
    NoSuchUser,
    #[error("already a member")]
    AlreadyMember,
    #[error("not a member")]
    UnknownMember,
    #[error("a store keeps at least one owner")]
    LastOwner,
    #[error("the store has as many members as allowed")]
    TooMany,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Adds `user_id` to the store with `role` (inside the caller's transaction).
pub async fn insert(conn: &mut AnyConnection, store_id: &str, user_id: &str, role: StoreRole) -> Result<(), sqlx::Error> {
    let now = time::to_db(time::now());
    sqlx::query("INSERT INTO store_members (store_id, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(store_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(&now)
        .execute(conn)
        .await?;
    Ok(())
}

async fn all(conn: &mut AnyConnection, store_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.user_id, u.name, u.email, m.role, m.created_at FROM store_members m JOIN users u ON u.id = m.user_id
         WHERE m.store_id = $1 ORDER BY m.created_at, m.user_id",
    )
    .bind(store_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get("role")?;
            Ok(Member {
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
                email: r.try_get("email")?,
                role: StoreRole::parse(&role).ok_or_else(|| sqlx::Error::Decode(format!("unknown store role {role}").into()))?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The store's members, oldest first.
pub async fn list(app: &App, caller: &Caller, store_id: &str) -> Result<Vec<Member>, MemberError> {
    if !caller.may(store_id, Scope::MembersManage) {
        return Err(MemberError::NotAllowed);
    }
    Ok(all(&mut *app.db.reader().acquire().await?, store_id).await?)
}

/// Adds the registered user with `email` to the store as `role`; answers the member.
pub async fn add(app: &App, caller: &Caller, store_id: &str, email: &str, role: StoreRole) -> Result<Member, MemberError> {
    if !caller.may(store_id, Scope::MembersManage) {
        return Err(MemberError::NotAllowed);
    }
    let mut tx = app.db.begin().await?;
    let user = users::find_by_email(&mut tx, &email.trim().to_lowercase()).await?.ok_or(MemberError::NoSuchUser)?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM store_members WHERE store_id = $1").bind(store_id).fetch_one(&mut *tx).await?;
    if count >= MAX_MEMBERS {
        return Err(MemberError::TooMany);
    }
    insert(&mut tx, store_id, &user.id, role).await.map_err(|e| match feria_db::unique_violation(&e) {
        Some("store_members_pkey") => MemberError::AlreadyMember,
        _ => e.into(),
    })?;
    let member = all(&mut tx, store_id).await?.into_iter().find(|m| m.user_id == user.id).ok_or(MemberError::UnknownMember)?;
    tx.commit().await?;
    app.access.forget(&user.id);
    Ok(member)
}

/// Gives member `user_id` the role `role`.
pub async fn change_role(app: &App, caller: &Caller, store_id: &str, user_id: &str, role: StoreRole) -> Result<Member, MemberError> {
    if !caller.may(store_id, Scope::MembersManage) {
        return Err(MemberError::NotAllowed);
    }
    let mut tx = app.db.begin().await?;
    let members = all(&mut tx, store_id).await?;
    let current = members.iter().find(|m| m.user_id == user_id).ok_or(MemberError::UnknownMember)?;
    if current.role == StoreRole::Owner && role != StoreRole::Owner && owners(&members) == 1 {
        return Err(MemberError::LastOwner);
    }
    sqlx::query("UPDATE store_members SET role = $1, updated_at = $2 WHERE store_id = $3 AND user_id = $4")
        .bind(role.as_str())
        .bind(time::to_db(time::now()))
        .bind(store_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if !role.allows(Scope::KeysManage) {
        api_keys::revoke_created_by(&mut tx, Some(store_id), user_id).await?;
    }
    tx.commit().await?;
    app.access.forget(user_id);
    app.api_keys.forget_all();
    Ok(Member { role, ..current.clone() })
}

/// Removes member `user_id` from the store.
pub async fn remove(app: &App, caller: &Caller, store_id: &str, user_id: &str) -> Result<Member, MemberError> {
    if !caller.may(store_id, Scope::MembersManage) {
        return Err(MemberError::NotAllowed);
    }
    let mut tx = app.db.begin().await?;
    let members = all(&mut tx, store_id).await?;
    let current = members.iter().find(|m| m.user_id == user_id).ok_or(MemberError::UnknownMember)?;
    if current.role == StoreRole::Owner && owners(&members) == 1 {
        return Err(MemberError::LastOwner);
    }
    sqlx::query("DELETE FROM store_members WHERE store_id = $1 AND user_id = $2").bind(store_id).bind(user_id).execute(&mut *tx).await?;
    api_keys::revoke_created_by(&mut tx, Some(store_id), user_id).await?;
    tx.commit().await?;
    app.access.forget(user_id);
    app.api_keys.forget_all();
    Ok(current.clone())
}

fn owners(members: &[Member]) -> usize {
    members.iter().filter(|m| m.role == StoreRole::Owner).count()
}

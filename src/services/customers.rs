//! Customers of a store: registered users (linked by `user_id`, one customer per user and
//! store) and guests (no user; one per email and store, reused at every checkout).

use feria_db::{AnyConnection, AnyRow, Args, Db, Row};
use feria_domain::{ids::new_id, time};

use crate::services::geography::{self, Neighborhood};

/// One customer, with its neighborhood (when it has one).
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: String,
    pub neighborhood: Option<Neighborhood>,
    pub is_active: bool,
    pub user_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, name, email, phone, address, neighborhood_id, is_active, user_id, created_at, updated_at";

async fn from_rows(conn: &mut AnyConnection, store_id: &str, rows: Vec<AnyRow>) -> Result<Vec<Customer>, sqlx::Error> {
    let ids: Vec<String> = rows.iter().filter_map(|r| r.try_get::<Option<String>, _>("neighborhood_id").ok().flatten()).collect();
    let neighborhoods = geography::neighborhoods_by_id(conn, store_id, &ids).await?;
    let mut customers = Vec::with_capacity(rows.len());
    for row in rows {
        let neighborhood_id: Option<String> = row.try_get("neighborhood_id")?;
        let neighborhood = neighborhood_id.and_then(|id| neighborhoods.get(&id).cloned());
        customers.push(Customer {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            phone: row.try_get("phone")?,
            address: row.try_get("address")?,
            neighborhood,
            is_active: row.try_get::<i64, _>("is_active")? != 0,
            user_id: row.try_get("user_id")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        });
    }
    Ok(customers)
}

/// Which of a store's customers a listing shows.
#[derive(Debug, Default)]
pub struct Filter {
    pub neighborhood_id: Option<String>,
    /// Part of the name or email (any case).
    pub search: Option<String>,
}

/// One page of the store's customers matching `filter`, by name, with the total.
pub async fn page(db: &Db, store_id: &str, filter: &Filter, limit: i64, offset: i64) -> Result<(i64, Vec<Customer>), CustomerError> {
    let mut conn = db.reader().acquire().await?;
    if let Some(id) = &filter.neighborhood_id {
        geography::find_neighborhood(&mut conn, store_id, id).await?.ok_or(CustomerError::NeighborhoodNotFound)?;
    }
    let condition = "store_id = $1 AND ($2 = '' OR neighborhood_id = $2)
        AND ($3 = '' OR LOWER(name) LIKE $3 ESCAPE '\\' OR email LIKE $3 ESCAPE '\\')";
    let neighborhood = filter.neighborhood_id.as_deref().unwrap_or("");
    let pattern = filter.search.as_deref().map(like_pattern).unwrap_or_default();
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM customers WHERE {condition}"))
        .bind(store_id)
        .bind(neighborhood)
        .bind(&pattern)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE {condition} ORDER BY name, id LIMIT $4 OFFSET $5");
    let rows = sqlx::query(&sql).bind(store_id).bind(neighborhood).bind(&pattern).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, from_rows(&mut conn, store_id, rows).await?))
}

/// `%text%` in lower case for `LIKE … ESCAPE '\'`, the pattern characters in `text` escaped.
fn like_pattern(text: &str) -> String {
    let escaped: String = text
        .trim()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// The store's customer found by `lookup` (a use case: not finding it is an error).
pub async fn get(db: &Db, store_id: &str, lookup: Lookup<'_>) -> Result<Customer, CustomerError> {
    find(&mut *db.reader().acquire().await?, store_id, lookup).await?.ok_or(CustomerError::NotFound)
}

/// How a customer is looked up.
pub enum Lookup<'a> {
    Id(&'a str),
    /// The registered customer with this email, else the guest.
    Email(&'a str),
    /// The customer of this registered user.
    User(&'a str),
}

/// The store's customer found by `lookup`.
pub async fn find(conn: &mut AnyConnection, store_id: &str, lookup: Lookup<'_>) -> Result<Option<Customer>, sqlx::Error> {
    let (condition, value) = match lookup {
        Lookup::Id(id) => ("id = $2", id.to_string()),
        Lookup::Email(email) => ("email = $2", email.trim().to_lowercase()),
        Lookup::User(id) => ("user_id = $2", id.to_string()),
    };
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE store_id = $1 AND {condition} ORDER BY user_id IS NULL, created_at LIMIT 1");
    let rows = sqlx::query(&sql).bind(store_id).bind(value).fetch_all(&mut *conn).await?;
    Ok(from_rows(conn, store_id, rows).await?.pop())
}

/// The fields of a customer (validated); `None` keeps the current value, and for the nullable
/// ones `Some(None)` clears them.
#[derive(Debug, Default)]
pub struct CustomerFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<Option<String>>,
    pub address: Option<String>,
    pub neighborhood_id: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub user_id: Option<Option<String>>,
}

/// Why a customer could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("no such customer in the store")]
    NotFound,
    /// Listing by a neighborhood the store does not have.
    #[error("no such neighborhood to list by")]
    NeighborhoodNotFound,
    #[error("no such neighborhood in the store")]
    UnknownNeighborhood,
    #[error("no such user")]
    UnknownUser,
    /// The user already is a customer of the store, or a guest with that email exists.
    #[error("already a customer")]
    Taken,
    /// The customer has orders.
    #[error("the customer is in use")]
    InUse,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

async fn check_references(conn: &mut AnyConnection, store_id: &str, f: &CustomerFields) -> Result<(), CustomerError> {
    if let Some(Some(id)) = &f.neighborhood_id {
        geography::find_neighborhood(conn, store_id, id).await?.ok_or(CustomerError::UnknownNeighborhood)?;
    }
    if let Some(Some(user_id)) = &f.user_id {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE id = $1").bind(user_id).fetch_optional(&mut *conn).await?;
        found.ok_or(CustomerError::UnknownUser)?;
    }
    Ok(())
}

/// A unique or foreign-key violation as the error it means.
fn violation(err: sqlx::Error) -> CustomerError {
    if matches!(
        feria_db::unique_violation(&err),
        Some("customers_store_guest_email_key" | "customers_store_user_key" | "customers_user_id_key")
    ) {
        CustomerError::Taken
    } else if feria_db::is_foreign_key_violation(&err) {
        CustomerError::InUse
    } else {
        CustomerError::Database(err)
    }
}

/// Creates a customer (`name` and `email` set).
pub async fn create(db: &Db, store_id: &str, f: CustomerFields) -> Result<Customer, CustomerError> {
    let mut tx = db.begin().await?;
    let conn = &mut *tx;
    check_references(conn, store_id, &f).await?;
    let id = new_id();
    let user_id = f.user_id.flatten();
    sqlx::query(&format!(
        "INSERT INTO customers ({COLUMNS}, is_guest, store_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)"
    ))
    .bind(&id)
    .bind(f.name.unwrap_or_default())
    .bind(f.email.unwrap_or_default())
    .bind(f.phone.flatten())
    .bind(f.address.unwrap_or_default())
    .bind(f.neighborhood_id.flatten())
    .bind(feria_db::flag(f.is_active.unwrap_or(true)))
    .bind(&user_id)
    .bind(time::to_db(time::now()))
    .bind(feria_db::flag(user_id.is_none()))
    .bind(store_id)
    .execute(&mut *conn)
    .await
    .map_err(violation)?;
    let created = find(conn, store_id, Lookup::Id(&id)).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(created)
}

/// Applies `f` to the store's customer `id`.
pub async fn update(db: &Db, store_id: &str, id: &str, f: CustomerFields) -> Result<Customer, CustomerError> {
    let mut tx = db.begin().await?;
    let conn = &mut *tx;
    let current = find(conn, store_id, Lookup::Id(id)).await?.ok_or(CustomerError::NotFound)?;
    check_references(conn, store_id, &f).await?;
    let user_id = f.user_id.unwrap_or(current.user_id);
    sqlx::query(
        "UPDATE customers SET name = $1, email = $2, phone = $3, address = $4, neighborhood_id = $5, is_active = $6, user_id = $7,
         is_guest = $8, updated_at = $9 WHERE id = $10 AND store_id = $11",
    )
    .bind(f.name.unwrap_or(current.name))
    .bind(f.email.unwrap_or(current.email))
    .bind(f.phone.unwrap_or(current.phone))
    .bind(f.address.unwrap_or(current.address))
    .bind(f.neighborhood_id.unwrap_or(current.neighborhood.map(|n| n.id)))
    .bind(feria_db::flag(f.is_active.unwrap_or(current.is_active)))
    .bind(&user_id)
    .bind(feria_db::flag(user_id.is_none()))
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(&mut *conn)
    .await
    .map_err(violation)?;
    let updated = find(conn, store_id, Lookup::Id(id)).await?.ok_or(CustomerError::NotFound)?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the store's customer `id`; refused once it has orders.
pub async fn delete(db: &Db, store_id: &str, id: &str) -> Result<(), CustomerError> {
    let mut tx = db.begin().await?;
    let deleted = sqlx::query("DELETE FROM customers WHERE id = $1 AND store_id = $2")
        .bind(id)
        .bind(store_id)
        .execute(&mut *tx)
        .await
        .map_err(violation)?;
    if deleted.rows_affected() != 1 {
        return Err(CustomerError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// The store's customer of user `user_id`, created from the user's account the first time
/// (safe when two requests do it at once).
pub async fn for_user(conn: &mut AnyConnection, store_id: &str, user_id: &str) -> Result<Customer, sqlx::Error> {
    let existing = || format!("SELECT {COLUMNS} FROM customers WHERE store_id = $1 AND user_id = $2");
    if let Some(row) = sqlx::query(&existing()).bind(store_id).bind(user_id).fetch_optional(&mut *conn).await? {
        return Ok(from_rows(conn, store_id, vec![row]).await?.remove(0));
    }
    sqlx::query(
        "INSERT INTO customers (id, store_id, user_id, name, email, phone, address, is_active, is_guest, created_at, updated_at)
         SELECT $1, $2, u.id, u.name, u.email,
                (SELECT c.phone FROM customers c WHERE c.user_id = u.id ORDER BY c.created_at LIMIT 1), '', 1, 0, $3, $3
         FROM users u WHERE u.id = $4
         ON CONFLICT (store_id, user_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(store_id)
    .bind(time::to_db(time::now()))
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(&existing()).bind(store_id).bind(user_id).fetch_one(&mut *conn).await?;
    Ok(from_rows(conn, store_id, vec![row]).await?.remove(0))
}

/// A guest at checkout.
#[derive(Debug, Clone)]
pub struct Guest {
    pub name: String,
    /// Trimmed and lower-cased.
    pub email: String,
    pub phone: Option<String>,
}

/// The statement finding or creating the store's guest customer with `g`'s email (two
/// checkouts at once agree on one, through the partial unique index on guests' emails). An
/// existing guest's stored name and phone are kept: anyone can check out with any email, and
/// the order keeps the details given with it. Returns `('customer', id)`; it is joined to the
/// statement that writes the order.
pub fn guest_sql(args: &mut Args<'_>, store: &str, g: &Guest, at: &str) -> String {
    format!(
        "INSERT INTO customers (id, store_id, user_id, name, email, phone, address, is_active, is_guest, created_at, updated_at)
         VALUES ({}, {store}, NULL, {}, {}, {}, '', 1, 1, {at}, {at})
         ON CONFLICT (store_id, email) WHERE user_id IS NULL
         DO UPDATE SET updated_at = excluded.updated_at
         RETURNING 'customer' AS kind, id AS value",
        args.add(new_id()),
        args.add(g.name.clone()),
        args.add(g.email.clone()),
        args.add(g.phone.clone())
    )
}

//! Shipping addresses of a customer. A customer with addresses has exactly one default: the
//! first address becomes it, marking another moves it, and deleting it passes it to the newest
//! remaining address (a partial unique index keeps it to one).

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::{ids::new_id, time};

use crate::services::customers::{self, Lookup};
use crate::services::geography::{self, Neighborhood};
use crate::services::identity::caller::Caller;

/// One address, with its neighborhood (and through it, its city).
#[derive(Debug, Clone)]
pub struct Address {
    pub id: String,
    pub customer_id: String,
    pub recipient_name: String,
    pub phone: String,
    pub street_address: String,
    pub neighborhood: Neighborhood,
    pub postal_code: Option<String>,
    pub additional_info: Option<String>,
    pub alias: Option<String>,
    pub is_default: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Address {
    /// One line to print on a label: street, neighborhood, city and postal code.
    pub fn full_address(&self) -> String {
        let mut line = format!("{}, {}, {}", self.street_address, self.neighborhood.name, self.neighborhood.city.name);
        if let Some(code) = self.postal_code.as_deref().filter(|c| !c.is_empty()) {
            line.push_str(&format!(" (CP {code})"));
        }
        line
    }
}

const COLUMNS: &str = "id, customer_id, recipient_name, phone, street_address, neighborhood_id, postal_code, additional_info, alias,
    is_default, created_at, updated_at";

async fn from_rows(conn: &mut AnyConnection, store_id: &str, rows: Vec<AnyRow>) -> Result<Vec<Address>, sqlx::Error> {
    let ids: Vec<String> = rows.iter().map(|r| r.try_get("neighborhood_id")).collect::<Result<_, _>>()?;
    let neighborhoods = geography::neighborhoods_by_id(conn, store_id, &ids).await?;
    let mut addresses = Vec::with_capacity(rows.len());
    for row in rows {
        let neighborhood_id: String = row.try_get("neighborhood_id")?;
        let neighborhood = neighborhoods.get(&neighborhood_id).cloned().ok_or(sqlx::Error::RowNotFound)?;
        addresses.push(Address {
            id: row.try_get("id")?,
            customer_id: row.try_get("customer_id")?,
            recipient_name: row.try_get("recipient_name")?,
            phone: row.try_get("phone")?,
            street_address: row.try_get("street_address")?,
            neighborhood,
            postal_code: row.try_get("postal_code")?,
            additional_info: row.try_get("additional_info")?,
            alias: row.try_get("alias")?,
            is_default: row.try_get::<i64, _>("is_default")? != 0,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        });
    }
    Ok(addresses)
}

/// One page of the caller's addresses in the store, the default first, then newest, with the
/// total (none before the caller is a customer of the store).
pub async fn page(db: &Db, store_id: &str, caller: &Caller, limit: i64, offset: i64) -> Result<(i64, Vec<Address>), AddressError> {
    let mut conn = db.reader().acquire().await?;
    let Some(customer) = customers::find(&mut conn, store_id, Lookup::User(&caller.id)).await? else { return Ok((0, Vec::new())) };
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM addresses WHERE customer_id = $1").bind(&customer.id).fetch_one(&mut *conn).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM addresses WHERE customer_id = $1 ORDER BY is_default DESC, created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let rows = sqlx::query(&sql).bind(&customer.id).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, from_rows(&mut conn, store_id, rows).await?))
}

/// The customer's address `id` (never another customer's).
pub async fn find(conn: &mut AnyConnection, store_id: &str, customer_id: &str, id: &str) -> Result<Option<Address>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM addresses WHERE id = $1 AND customer_id = $2");
    let rows = sqlx::query(&sql).bind(id).bind(customer_id).fetch_all(&mut *conn).await?;
    Ok(from_rows(conn, store_id, rows).await?.pop())
}

/// The caller's address `id` in the store (another user's is not found).
pub async fn get(db: &Db, store_id: &str, caller: &Caller, id: &str) -> Result<Address, AddressError> {
    let mut conn = db.reader().acquire().await?;
    let customer = customers::find(&mut conn, store_id, Lookup::User(&caller.id)).await?.ok_or(AddressError::NotFound)?;
    find(&mut conn, store_id, &customer.id, id).await?.ok_or(AddressError::NotFound)
}

/// The customer's default address.
pub async fn find_default(conn: &mut AnyConnection, store_id: &str, customer_id: &str) -> Result<Option<Address>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM addresses WHERE customer_id = $1 AND is_default = 1");
    let rows = sqlx::query(&sql).bind(customer_id).fetch_all(&mut *conn).await?;
    Ok(from_rows(conn, store_id, rows).await?.pop())
}

/// The fields of an address (validated); `None` keeps the current value, and for the optional
/// texts `Some(None)` clears them.
#[derive(Debug, Default)]
pub struct AddressFields {
    pub recipient_name: Option<String>,
    pub phone: Option<String>,
    pub street_address: Option<String>,
    pub neighborhood_id: Option<String>,
    /// When given, the neighborhood must be in this city.
    pub city_id: Option<String>,
    pub postal_code: Option<Option<String>>,
    pub additional_info: Option<Option<String>>,
    pub alias: Option<Option<String>>,
    pub is_default: Option<bool>,
}

/// Why an address could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// Not one of the caller's addresses.
    #[error("no such address")]
    NotFound,
    #[error("no such neighborhood in the store")]
    UnknownNeighborhood,
    #[error("the neighborhood is not in that city")]
    CityMismatch,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

async fn check_place(conn: &mut AnyConnection, store_id: &str, neighborhood_id: &str, city_id: Option<&str>) -> Result<(), AddressError> {
    let neighborhood = geography::find_neighborhood(conn, store_id, neighborhood_id).await?.ok_or(AddressError::UnknownNeighborhood)?;
    if city_id.is_some_and(|c| c != neighborhood.city.id) {
        return Err(AddressError::CityMismatch);
    }
    Ok(())
}

async fn clear_default(conn: &mut AnyConnection, customer_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE addresses SET is_default = 0 WHERE customer_id = $1 AND is_default = 1").bind(customer_id).execute(conn).await?;
    Ok(())
}

/// Adds an address for the caller (all required fields set), making the caller a customer of
/// the store when not yet one; the first address is the default.
pub async fn create(db: &Db, store_id: &str, caller: &Caller, f: AddressFields) -> Result<Address, AddressError> {
    let mut tx = db.begin().await?;
    let customer = customers::for_user(&mut tx, store_id, &caller.id).await?;
    let created = insert(&mut tx, store_id, &customer.id, f).await?;
    tx.commit().await?;
    Ok(created)
}

/// Inserts an address of the customer; the first one is the default.
async fn insert(conn: &mut AnyConnection, store_id: &str, customer_id: &str, f: AddressFields) -> Result<Address, AddressError> {
    let neighborhood_id = f.neighborhood_id.unwrap_or_default();
    check_place(conn, store_id, &neighborhood_id, f.city_id.as_deref()).await?;
    let has_default = find_default(conn, store_id, customer_id).await?.is_some();
    let is_default = f.is_default.unwrap_or(false) || !has_default;
    if is_default {
        clear_default(conn, customer_id).await?;
    }
    let id = new_id();
    sqlx::query(&format!("INSERT INTO addresses ({COLUMNS}, store_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)"))
        .bind(&id)
        .bind(customer_id)
        .bind(f.recipient_name.unwrap_or_default())
        .bind(f.phone.unwrap_or_default())
        .bind(f.street_address.unwrap_or_default())
        .bind(&neighborhood_id)
        .bind(f.postal_code.flatten())
        .bind(f.additional_info.flatten())
        .bind(f.alias.flatten())
        .bind(feria_db::flag(is_default))
        .bind(time::to_db(time::now()))
        .bind(store_id)
        .execute(&mut *conn)
        .await?;
    Ok(find(conn, store_id, customer_id, &id).await?.ok_or(sqlx::Error::RowNotFound)?)
}

/// Applies `f` to the caller's address `id`. Unmarking the default is ignored: another address
/// must be marked instead.
pub async fn update(db: &Db, store_id: &str, caller: &Caller, id: &str, f: AddressFields) -> Result<Address, AddressError> {
    let mut tx = db.begin().await?;
    let customer = customers::for_user(&mut tx, store_id, &caller.id).await?;
    let updated = apply(&mut tx, store_id, &customer.id, id, f).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Makes the caller's address `id` their default.
pub async fn make_default(db: &Db, store_id: &str, caller: &Caller, id: &str) -> Result<Address, AddressError> {
    update(db, store_id, caller, id, AddressFields { is_default: Some(true), ..AddressFields::default() }).await
}

/// Writes `f` over the customer's address `id`.
async fn apply(conn: &mut AnyConnection, store_id: &str, customer_id: &str, id: &str, f: AddressFields) -> Result<Address, AddressError> {
    let current = find(conn, store_id, customer_id, id).await?.ok_or(AddressError::NotFound)?;
    let neighborhood_id = f.neighborhood_id.unwrap_or(current.neighborhood.id);
    check_place(conn, store_id, &neighborhood_id, f.city_id.as_deref()).await?;
    let is_default = current.is_default || f.is_default == Some(true);
    if is_default && !current.is_default {
        clear_default(conn, customer_id).await?;
    }
    sqlx::query(
        "UPDATE addresses SET recipient_name = $1, phone = $2, street_address = $3, neighborhood_id = $4, postal_code = $5,
         additional_info = $6, alias = $7, is_default = $8, updated_at = $9 WHERE id = $10 AND customer_id = $11",
    )
    .bind(f.recipient_name.unwrap_or(current.recipient_name))
    .bind(f.phone.unwrap_or(current.phone))
    .bind(f.street_address.unwrap_or(current.street_address))
    .bind(&neighborhood_id)
    .bind(f.postal_code.unwrap_or(current.postal_code))
    .bind(f.additional_info.unwrap_or(current.additional_info))
    .bind(f.alias.unwrap_or(current.alias))
    .bind(feria_db::flag(is_default))
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(customer_id)
    .execute(&mut *conn)
    .await?;
    find(conn, store_id, customer_id, id).await?.ok_or(AddressError::NotFound)
}

/// Deletes the caller's address `id`, passing the default on to the newest remaining one.
pub async fn delete(db: &Db, store_id: &str, caller: &Caller, id: &str) -> Result<(), AddressError> {
    let mut tx = db.begin().await?;
    let customer = customers::for_user(&mut tx, store_id, &caller.id).await?;
    let was_default: Option<i64> = sqlx::query_scalar("SELECT is_default FROM addresses WHERE id = $1 AND customer_id = $2")
        .bind(id)
        .bind(&customer.id)
        .fetch_optional(&mut *tx)
        .await?;
    let was_default = was_default.ok_or(AddressError::NotFound)?;
    sqlx::query("DELETE FROM addresses WHERE id = $1 AND customer_id = $2").bind(id).bind(&customer.id).execute(&mut *tx).await?;
    if was_default != 0 {
        sqlx::query(
            "UPDATE addresses SET is_default = 1 WHERE id = (SELECT id FROM addresses WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)",
        )
        .bind(&customer.id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

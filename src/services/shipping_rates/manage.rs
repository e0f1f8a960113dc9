//! Listing and changing a store's shipping rates.

use feria_db::{AnyConnection, Db};
use feria_domain::{ids::new_id, time};

use super::{COLUMNS, ShippingOption, ShippingRate, from_row};

/// Why a rate could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    #[error("no such shipping rate in the store")]
    NotFound,
    #[error("shipping rate code taken")]
    CodeTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The fields of a rate, validated; `None` keeps the current value (on create `code`, `title`,
/// `service_level` and `price` must be set; `country` and `free_from` default to none and
/// `is_active` to true).
#[derive(Debug, Default)]
pub struct RateFields {
    /// Lower case; unique in the store.
    pub code: Option<String>,
    pub title: Option<String>,
    /// ISO 3166-1 alpha-2, upper case; `Some(None)`: the level's default rate.
    pub country: Option<Option<String>>,
    /// Lower case (`standard`, `express`).
    pub service_level: Option<String>,
    /// Minor units, ≥ 0.
    pub price: Option<i64>,
    /// Minor units, ≥ 0; `Some(None)`: never free.
    pub free_from: Option<Option<i64>>,
    pub is_active: Option<bool>,
}

/// Every rate of the store, active or not: by service level, each country's own rates before
/// the level's default one, then by code.
pub async fn list(db: &Db, store_id: &str) -> Result<Vec<ShippingRate>, RateError> {
    // `CASE` rather than `NULLS LAST`: the same order on both databases.
    let sql = format!(
        "SELECT {COLUMNS} FROM shipping_rates WHERE store_id = $1
         ORDER BY service_level, CASE WHEN country IS NULL THEN 1 ELSE 0 END, country, code"
    );
    let rows = sqlx::query(&sql).bind(store_id).fetch_all(db.reader()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The store's rate `id`.
pub async fn find(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<ShippingRate>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM shipping_rates WHERE store_id = $1 AND id = $2");
    sqlx::query(&sql).bind(store_id).bind(id).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// The store's rate `id` (a use case: not finding it is an error).
pub async fn get(db: &Db, store_id: &str, id: &str) -> Result<ShippingRate, RateError> {
    find(&mut *db.reader().acquire().await?, store_id, id).await?.ok_or(RateError::NotFound)
}

/// The priced options for an order of `subtotal` (minor units) shipped to `country`
/// (see [`super::options`]).
pub async fn quote(db: &Db, store_id: &str, country: Option<&str>, subtotal: i64) -> Result<Vec<ShippingOption>, RateError> {
    Ok(super::options(&mut *db.reader().acquire().await?, store_id, country, subtotal).await?)
}

/// A unique violation as a taken code.
fn violation(err: sqlx::Error) -> RateError {
    if feria_db::unique_violation(&err) == Some("shipping_rates_code_key") { RateError::CodeTaken } else { RateError::Database(err) }
}

/// Creates a rate in the store.
pub async fn create(db: &Db, store_id: &str, fields: RateFields) -> Result<ShippingRate, RateError> {
    let code = fields.code.unwrap_or_default();
    let mut tx = db.begin().await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO shipping_rates (id, store_id, code, title, country, service_level, price, free_from, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(code)
    .bind(fields.title.unwrap_or_default())
    .bind(fields.country.flatten())
    .bind(fields.service_level.unwrap_or_default())
    .bind(fields.price.unwrap_or_default())
    .bind(fields.free_from.flatten())
    .bind(feria_db::flag(fields.is_active.unwrap_or(true)))
    .bind(time::to_db(time::now()))
    .execute(&mut *tx)
    .await
    .map_err(violation)?;
    let created = find(&mut tx, store_id, &id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(created)
}

/// Applies `fields` to the store's rate `id`.
pub async fn update(db: &Db, store_id: &str, id: &str, fields: RateFields) -> Result<ShippingRate, RateError> {
    let mut tx = db.begin().await?;
    let current = find(&mut tx, store_id, id).await?.ok_or(RateError::NotFound)?;
    let code = fields.code.unwrap_or(current.code);
    sqlx::query(
        "UPDATE shipping_rates SET code = $1, title = $2, country = $3, service_level = $4, price = $5, free_from = $6, is_active = $7,
         updated_at = $8 WHERE id = $9 AND store_id = $10",
    )
    .bind(code)
    .bind(fields.title.unwrap_or(current.title))
    .bind(fields.country.unwrap_or(current.country))
    .bind(fields.service_level.unwrap_or(current.service_level))
    .bind(fields.price.unwrap_or(current.price))
    .bind(fields.free_from.unwrap_or(current.free_from))
    .bind(feria_db::flag(fields.is_active.unwrap_or(current.is_active)))
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(&mut *tx)
    .await
    .map_err(violation)?;
    let updated = find(&mut tx, store_id, id).await?.ok_or(RateError::NotFound)?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the store's rate `id` and returns it as it was.
pub async fn delete(db: &Db, store_id: &str, id: &str) -> Result<ShippingRate, RateError> {
    let mut tx = db.begin().await?;
    let rate = find(&mut tx, store_id, id).await?.ok_or(RateError::NotFound)?;
    sqlx::query("DELETE FROM shipping_rates WHERE id = $1 AND store_id = $2").bind(id).bind(store_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(rate)
}

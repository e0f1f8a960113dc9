//! Cities and their neighborhoods, per store: where a store delivers and where its customers
//! live. Names are unique ignoring case: cities within the store, neighborhoods within a city.

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::{ids::new_id, time};

use crate::services::name_key;

/// A city of a store.
#[derive(Debug, Clone)]
pub struct City {
    pub id: String,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A neighborhood with its city.
#[derive(Debug, Clone)]
pub struct Neighborhood {
    pub id: String,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub city: City,
    pub created_at: String,
    pub updated_at: String,
}

/// The fields of a new city or neighborhood.
pub struct NewPlace {
    pub name: String,
    pub description: String,
    pub is_active: bool,
}

/// Changes to a city or neighborhood; `None` keeps a field.
#[derive(Default)]
pub struct PlaceChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
    /// Neighborhoods only: move it to another city of the store.
    pub city_id: Option<String>,
}

/// Why a place could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum GeographyError {
    #[error("no such city in the store")]
    CityNotFound,
    #[error("no such neighborhood in the store")]
    NeighborhoodNotFound,
    /// The city a neighborhood should be in is not one of the store's.
    #[error("unknown city for the neighborhood")]
    UnknownCity,
    #[error("city name taken")]
    CityTaken,
    #[error("the city has neighborhoods")]
    CityInUse,
    #[error("neighborhood name taken in the city")]
    NeighborhoodTaken,
    #[error("the neighborhood has customers or addresses")]
    NeighborhoodInUse,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A duplicate name or a remaining reference, as a city error.
fn city_violation(err: sqlx::Error) -> GeographyError {
    if feria_db::unique_violation(&err) == Some("cities_name_key") {
        GeographyError::CityTaken
    } else if feria_db::is_foreign_key_violation(&err) {
        GeographyError::CityInUse
    } else {
        GeographyError::Database(err)
    }
}

/// A duplicate name or a remaining reference, as a neighborhood error.
fn neighborhood_violation(err: sqlx::Error) -> GeographyError {
    if feria_db::unique_violation(&err) == Some("neighborhoods_name_key") {
        GeographyError::NeighborhoodTaken
    } else if feria_db::is_foreign_key_violation(&err) {
        GeographyError::NeighborhoodInUse
    } else {
        GeographyError::Database(err)
    }
}

const CITY_COLUMNS: &str = "c.id, c.name, c.description, c.is_active, c.created_at, c.updated_at";
const NEIGHBORHOOD_SELECT: &str = "SELECT n.id AS n_id, n.name AS n_name, n.description AS n_description, n.is_active AS n_is_active,
    n.created_at AS n_created_at, n.updated_at AS n_updated_at, c.id, c.name, c.description, c.is_active, c.created_at, c.updated_at
    FROM neighborhoods n JOIN cities c ON c.id = n.city_id";

fn city_from(row: &AnyRow) -> Result<City, sqlx::Error> {
    Ok(City {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn neighborhood_from(row: &AnyRow) -> Result<Neighborhood, sqlx::Error> {
    Ok(Neighborhood {
        id: row.try_get("n_id")?,
        name: row.try_get("n_name")?,
        description: row.try_get("n_description")?,
        is_active: row.try_get::<i64, _>("n_is_active")? != 0,
        city: city_from(row)?,
        created_at: row.try_get("n_created_at")?,
        updated_at: row.try_get("n_updated_at")?,
    })
}

/// One page of the store's cities by name, with the total.
pub async fn cities(db: &Db, store_id: &str, limit: i64, offset: i64) -> Result<(i64, Vec<City>), GeographyError> {
    let mut conn = db.reader().acquire().await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cities WHERE store_id = $1").bind(store_id).fetch_one(&mut *conn).await?;
    let sql = format!("SELECT {CITY_COLUMNS} FROM cities c WHERE c.store_id = $1 ORDER BY c.name_key, c.id LIMIT $2 OFFSET $3");
    let rows = sqlx::query(&sql).bind(store_id).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(city_from).collect::<Result<_, _>>()?))
}

/// The store's city `id`, if any.
async fn find_city(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<City>, sqlx::Error> {
    let sql = format!("SELECT {CITY_COLUMNS} FROM cities c WHERE c.id = $1 AND c.store_id = $2");
    sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(conn).await?.as_ref().map(city_from).transpose()
}

/// The store's city `id`.
pub async fn city(db: &Db, store_id: &str, id: &str) -> Result<City, GeographyError> {
    find_city(&mut *db.reader().acquire().await?, store_id, id).await?.ok_or(GeographyError::CityNotFound)
}

/// The store's city called `name` (ignoring case and surrounding spaces).
pub async fn city_named(db: &Db, store_id: &str, name: &str) -> Result<City, GeographyError> {
    let sql = format!("SELECT {CITY_COLUMNS} FROM cities c WHERE c.store_id = $1 AND c.name_key = $2");
    let row = sqlx::query(&sql).bind(store_id).bind(name_key(name)).fetch_optional(db.reader()).await?;
    Ok(city_from(&row.ok_or(GeographyError::CityNotFound)?)?)
}

/// Creates a city in the store.
pub async fn create_city(db: &Db, store_id: &str, new: NewPlace) -> Result<City, GeographyError> {
    let mut tx = db.begin().await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO cities (id, store_id, name, name_key, description, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(new.name.trim())
    .bind(name_key(&new.name))
    .bind(&new.description)
    .bind(feria_db::flag(new.is_active))
    .bind(time::to_db(time::now()))
    .execute(&mut *tx)
    .await
    .map_err(city_violation)?;
    let city = find_city(&mut tx, store_id, &id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(city)
}

/// Applies `changes` to the store's city `id`.
pub async fn update_city(db: &Db, store_id: &str, id: &str, changes: PlaceChanges) -> Result<City, GeographyError> {
    let mut tx = db.begin().await?;
    let current = find_city(&mut tx, store_id, id).await?.ok_or(GeographyError::CityNotFound)?;
    let name = changes.name.unwrap_or(current.name);
    sqlx::query(
        "UPDATE cities SET name = $1, name_key = $2, description = $3, is_active = $4, updated_at = $5 WHERE id = $6 AND store_id = $7",
    )
    .bind(name.trim())
    .bind(name_key(&name))
    .bind(changes.description.unwrap_or(current.description))
    .bind(feria_db::flag(changes.is_active.unwrap_or(current.is_active)))
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(&mut *tx)
    .await
    .map_err(city_violation)?;
    let city = find_city(&mut tx, store_id, id).await?.ok_or(GeographyError::CityNotFound)?;
    tx.commit().await?;
    Ok(city)
}

/// Deletes the store's city `id`; refused while it has neighborhoods.
pub async fn delete_city(db: &Db, store_id: &str, id: &str) -> Result<(), GeographyError> {
    let mut tx = db.begin().await?;
    let deleted = sqlx::query("DELETE FROM cities WHERE id = $1 AND store_id = $2")
        .bind(id)
        .bind(store_id)
        .execute(&mut *tx)
        .await
        .map_err(city_violation)?;
    if deleted.rows_affected() != 1 {
        return Err(GeographyError::CityNotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// One page of the store's neighborhoods (of its city `city_id`, when given) by city and name,
/// with the total.
pub async fn neighborhoods(
    db: &Db,
    store_id: &str,
    city_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Neighborhood>), GeographyError> {
    let mut conn = db.reader().acquire().await?;
    if let Some(city_id) = city_id {
        find_city(&mut conn, store_id, city_id).await?.ok_or(GeographyError::CityNotFound)?;
    }
    let filter = "n.store_id = $1 AND ($2 = '' OR n.city_id = $2)";
    let city = city_id.unwrap_or("");
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM neighborhoods n WHERE {filter}"))
        .bind(store_id)
        .bind(city)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("{NEIGHBORHOOD_SELECT} WHERE {filter} ORDER BY c.name_key, n.name_key, n.id LIMIT $3 OFFSET $4");
    let rows = sqlx::query(&sql).bind(store_id).bind(city).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(neighborhood_from).collect::<Result<_, _>>()?))
}

/// The store's neighborhood `id`.
pub async fn find_neighborhood(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<Neighborhood>, sqlx::Error> {
    let sql = format!("{NEIGHBORHOOD_SELECT} WHERE n.id = $1 AND n.store_id = $2");
    sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(conn).await?.as_ref().map(neighborhood_from).transpose()
}

/// The store's neighborhood `id` (a use case: not finding it is an error).
pub async fn neighborhood(db: &Db, store_id: &str, id: &str) -> Result<Neighborhood, GeographyError> {
    find_neighborhood(&mut *db.reader().acquire().await?, store_id, id).await?.ok_or(GeographyError::NeighborhoodNotFound)
}

/// The store's neighborhoods with `ids` (unknown ones left out), by id, in one query.
pub async fn neighborhoods_by_id(
    conn: &mut AnyConnection,
    store_id: &str,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Neighborhood>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let sql = format!("{NEIGHBORHOOD_SELECT} WHERE n.store_id = $1 AND n.id IN ({})", feria_db::placeholders(2, ids.len()));
    let mut query = sqlx::query(&sql).bind(store_id);
    for id in ids {
        query = query.bind(id);
    }
    let found = query.fetch_all(conn).await?.iter().map(neighborhood_from).collect::<Result<Vec<_>, _>>()?;
    Ok(found.into_iter().map(|n| (n.id.clone(), n)).collect())
}

/// Whether `city_id` is one of the store's cities.
async fn check_city(conn: &mut AnyConnection, store_id: &str, city_id: &str) -> Result<(), GeographyError> {
    find_city(conn, store_id, city_id).await?.map(drop).ok_or(GeographyError::UnknownCity)
}

/// Creates a neighborhood in the store's city `city_id`.
pub async fn create_neighborhood(db: &Db, store_id: &str, city_id: &str, new: NewPlace) -> Result<Neighborhood, GeographyError> {
    let mut tx = db.begin().await?;
    check_city(&mut tx, store_id, city_id).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO neighborhoods (id, store_id, city_id, name, name_key, description, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(city_id)
    .bind(new.name.trim())
    .bind(name_key(&new.name))
    .bind(&new.description)
    .bind(feria_db::flag(new.is_active))
    .bind(time::to_db(time::now()))
    .execute(&mut *tx)
    .await
    .map_err(neighborhood_violation)?;
    let created = find_neighborhood(&mut tx, store_id, &id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(created)
}

/// Applies `changes` to the store's neighborhood `id`, possibly moving it to another city.
pub async fn update_neighborhood(db: &Db, store_id: &str, id: &str, changes: PlaceChanges) -> Result<Neighborhood, GeographyError> {
    let mut tx = db.begin().await?;
    let current = find_neighborhood(&mut tx, store_id, id).await?.ok_or(GeographyError::NeighborhoodNotFound)?;
    let city_id = changes.city_id.unwrap_or(current.city.id);
    check_city(&mut tx, store_id, &city_id).await?;
    let name = changes.name.unwrap_or(current.name);
    sqlx::query(
        "UPDATE neighborhoods SET city_id = $1, name = $2, name_key = $3, description = $4, is_active = $5, updated_at = $6
         WHERE id = $7 AND store_id = $8",
    )
    .bind(&city_id)
    .bind(name.trim())
    .bind(name_key(&name))
    .bind(changes.description.unwrap_or(current.description))
    .bind(feria_db::flag(changes.is_active.unwrap_or(current.is_active)))
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(&mut *tx)
    .await
    .map_err(neighborhood_violation)?;
    let updated = find_neighborhood(&mut tx, store_id, id).await?.ok_or(GeographyError::NeighborhoodNotFound)?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the store's neighborhood `id`; refused while customers or addresses use it.
pub async fn delete_neighborhood(db: &Db, store_id: &str, id: &str) -> Result<(), GeographyError> {
    let mut tx = db.begin().await?;
    let deleted = sqlx::query("DELETE FROM neighborhoods WHERE id = $1 AND store_id = $2")
        .bind(id)
        .bind(store_id)
        .execute(&mut *tx)
        .await
        .map_err(neighborhood_violation)?;
    if deleted.rows_affected() != 1 {
        return Err(GeographyError::NeighborhoodNotFound);
    }
    tx.commit().await?;
    Ok(())
}

//! Categories, tags and units: three per-store lists of named entries with the same shape
//! (units add an abbreviation). Names are unique per store, ignoring case.

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::{ids::new_id, time};

use crate::services::effects::{CatalogChange, Done, Effects};
use crate::services::name_key;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taxonomy {
    Category,
    Tag,
    Unit,
}

impl Taxonomy {
    fn table(self) -> &'static str {
        match self {
            Taxonomy::Category => "categories",
            Taxonomy::Tag => "tags",
            Taxonomy::Unit => "units",
        }
    }

    /// The Spanish noun, for messages ("Categoría no encontrada").
    pub fn noun(self) -> &'static str {
        match self {
            Taxonomy::Category => "Categoría",
            Taxonomy::Tag => "Etiqueta",
            Taxonomy::Unit => "Unidad",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            Taxonomy::Unit => "id, store_id, name, description, abbreviation, is_active, created_at, updated_at",
            _ => "id, store_id, name, description, CAST(NULL AS TEXT) AS abbreviation, is_active, created_at, updated_at",
        }
    }
}

/// One category, tag or unit.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub store_id: String,
    pub name: String,
    pub description: String,
    /// Units only (`kg`, `u`); always `None` for categories and tags.
    pub abbreviation: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Why an entry could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("no such {0:?} in the store")]
    NotFound(Taxonomy),
    #[error("{0:?} name taken")]
    NameTaken(Taxonomy),
    /// Products still use it.
    #[error("the {0:?} is in use")]
    InUse(Taxonomy),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A unique or foreign-key violation as the error it means.
fn violation(kind: Taxonomy, err: sqlx::Error) -> TaxonomyError {
    if feria_db::unique_violation(&err).is_some_and(|key| key == format!("{}_name_key", kind.table())) {
        TaxonomyError::NameTaken(kind)
    } else if feria_db::is_foreign_key_violation(&err) {
        TaxonomyError::InUse(kind)
    } else {
        TaxonomyError::Database(err)
    }
}

fn from_row(row: &AnyRow) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        abbreviation: row.try_get("abbreviation")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// One page of a store's entries by name, with the total; `only_active` hides inactive ones.
pub async fn list(
    conn: &mut AnyConnection,
    kind: Taxonomy,
    store_id: &str,
    only_active: bool,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Entry>), sqlx::Error> {
    let filter = "store_id = $1 AND (is_active = 1 OR $2 = 1)";
    let include_inactive = feria_db::flag(!only_active);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {} WHERE {filter}", kind.table()))
        .bind(store_id)
        .bind(include_inactive)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("SELECT {} FROM {} WHERE {filter} ORDER BY name_key, id LIMIT $3 OFFSET $4", kind.columns(), kind.table());
    let rows = sqlx::query(&sql).bind(store_id).bind(include_inactive).bind(limit).bind(offset).fetch_all(conn).await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// One page of the store's entries by name, with the total. Seed 001: the tag list shows
/// active tags; categories and units list them all.
pub async fn entries(db: &Db, kind: Taxonomy, store_id: &str, limit: i64, offset: i64) -> Result<(i64, Vec<Entry>), TaxonomyError> {
    Ok(list(&mut *db.reader().acquire().await?, kind, store_id, kind == Taxonomy::Tag, limit, offset).await?)
}

/// One entry of the store.
pub async fn find(conn: &mut AnyConnection, kind: Taxonomy, store_id: &str, id: &str) -> Result<Option<Entry>, sqlx::Error> {
    let sql = format!("SELECT {} FROM {} WHERE id = $1 AND store_id = $2", kind.columns(), kind.table());
    sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// One entry of the store (a use case: not finding it is an error).
pub async fn entry(db: &Db, kind: Taxonomy, store_id: &str, id: &str) -> Result<Entry, TaxonomyError> {
    find(&mut *db.reader().acquire().await?, kind, store_id, id).await?.ok_or(TaxonomyError::NotFound(kind))
}

/// A new entry's fields.
pub struct NewEntry {
    pub name: String,
    pub description: String,
    pub abbreviation: Option<String>,
    pub is_active: bool,
}

/// Creates an entry; its name must be new in the store (ignoring case).
pub async fn create_entry(db: &Db, kind: Taxonomy, store_id: &str, new: NewEntry) -> Result<Entry, TaxonomyError> {
    let mut tx = db.begin().await?;
    let now = time::to_db(time::now());
    let id = new_id();
    let (extra_column, extra_value) = if kind == Taxonomy::Unit { (", abbreviation", ", $8") } else { ("", "") };
    let sql = format!(
        "INSERT INTO {} (id, store_id, name, name_key, description, is_active, created_at, updated_at{extra_column})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7{extra_value})",
        kind.table()
    );
    let mut query = sqlx::query(&sql)
        .bind(&id)
        .bind(store_id)
        .bind(&new.name)
        .bind(name_key(&new.name))
        .bind(&new.description)
        .bind(feria_db::flag(new.is_active))
        .bind(&now);
    if kind == Taxonomy::Unit {
        query = query.bind(&new.abbreviation);
    }
    query.execute(&mut *tx).await.map_err(|e| violation(kind, e))?;
    let created = find(&mut tx, kind, store_id, &id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(created)
}

/// Changes to an entry; `None` keeps a field.
#[derive(Default)]
pub struct EntryChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub abbreviation: Option<Option<String>>,
    pub is_active: Option<bool>,
}

/// Applies `changes`; `None` when the store has no such entry.
pub async fn update(
    conn: &mut AnyConnection,
    kind: Taxonomy,
    store_id: &str,
    id: &str,
    changes: EntryChanges,
) -> Result<Option<Entry>, sqlx::Error> {
    let Some(current) = find(conn, kind, store_id, id).await? else { return Ok(None) };
    let name = changes.name.unwrap_or(current.name);
    let extra = if kind == Taxonomy::Unit { ", abbreviation = $8" } else { "" };
    let sql = format!(
        "UPDATE {} SET name = $1, name_key = $2, description = $3, is_active = $4, updated_at = $5{extra} WHERE id = $6 AND store_id = $7",
        kind.table()
    );
    let mut query = sqlx::query(&sql)
        .bind(&name)
        .bind(name_key(&name))
        .bind(changes.description.unwrap_or(current.description))
        .bind(feria_db::flag(changes.is_active.unwrap_or(current.is_active)))
        .bind(time::to_db(time::now()))
        .bind(id)
        .bind(store_id);
    if kind == Taxonomy::Unit {
        query = query.bind(changes.abbreviation.unwrap_or(current.abbreviation));
    }
    query.execute(&mut *conn).await?;
    super::products::record_usage_change(conn, kind, store_id, id).await?;
    find(conn, kind, store_id, id).await
}

/// Applies `changes` to an entry of the store; every product using it may read differently.
pub async fn update_entry(db: &Db, kind: Taxonomy, store_id: &str, id: &str, changes: EntryChanges) -> Result<Done<Entry>, TaxonomyError> {
    let mut tx = db.begin().await?;
    let updated =
        update(&mut tx, kind, store_id, id, changes).await.map_err(|e| violation(kind, e))?.ok_or(TaxonomyError::NotFound(kind))?;
    tx.commit().await?;
    Ok(Done::new(updated, Effects::catalog(CatalogChange::Everything)))
}

/// Deletes an entry of the store; refused while products use it.
pub async fn delete_entry(db: &Db, kind: Taxonomy, store_id: &str, id: &str) -> Result<Done<()>, TaxonomyError> {
    let mut tx = db.begin().await?;
    super::products::record_usage_change(&mut tx, kind, store_id, id).await?;
    let sql = format!("DELETE FROM {} WHERE id = $1 AND store_id = $2", kind.table());
    let deleted = sqlx::query(&sql).bind(id).bind(store_id).execute(&mut *tx).await.map_err(|e| violation(kind, e))?;
    if deleted.rows_affected() != 1 {
        return Err(TaxonomyError::NotFound(kind));
    }
    tx.commit().await?;
    Ok(Done::new((), Effects::catalog(CatalogChange::Everything)))
}

/// The store's entry named `name` (ignoring case), created active with no description when
/// missing. Concurrent callers agree on one row (`ON CONFLICT DO NOTHING`, then read).
pub async fn find_or_create(conn: &mut AnyConnection, kind: Taxonomy, store_id: &str, name: &str) -> Result<Entry, sqlx::Error> {
    let now = time::to_db(time::now());
    let insert = format!(
        "INSERT INTO {} (id, store_id, name, name_key, description, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, '', 1, $5, $5) ON CONFLICT (store_id, name_key) DO NOTHING",
        kind.table()
    );
    sqlx::query(&insert).bind(new_id()).bind(store_id).bind(name.trim()).bind(name_key(name)).bind(now).execute(&mut *conn).await?;
    let by_name = format!("SELECT {} FROM {} WHERE store_id = $1 AND name_key = $2", kind.columns(), kind.table());
    from_row(&sqlx::query(&by_name).bind(store_id).bind(name_key(name)).fetch_one(conn).await?)
}

//! Stores: every catalog row belongs to one. A default store exists from the first start; the
//! seed-001 endpoints act on it, and `/api/stores/{slug}/…` reaches any store.

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::access::StoreRole;
use feria_domain::currency::Currency;
use feria_domain::{ids::new_id, time};

use super::members;
use crate::app::App;
use crate::services::identity::caller::Caller;

/// Slug of the store created at first start.
pub const DEFAULT_SLUG: &str = "default";

/// A store as stored.
#[derive(Debug, Clone)]
pub struct Store {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub currency: Currency,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Whether shown prices already include tax.
    pub tax_inclusive: bool,
    pub is_active: bool,
    pub is_default: bool,
    pub owner_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, name, slug, currency, country, tax_inclusive, is_active, is_default, owner_id, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Store, sqlx::Error> {
    let currency: String = row.try_get("currency")?;
    Ok(Store {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        currency: Currency::parse(&currency).ok_or_else(|| sqlx::Error::Decode(format!("unknown currency {currency}").into()))?,
        country: row.try_get("country")?,
        tax_inclusive: row.try_get::<i64, _>("tax_inclusive")? != 0,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        is_default: row.try_get::<i64, _>("is_default")? != 0,
        owner_id: row.try_get("owner_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The store with `slug`.
pub async fn find_by_slug(conn: &mut AnyConnection, slug: &str) -> Result<Option<Store>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM stores WHERE slug = $1");
    sqlx::query(&sql).bind(slug).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// The store with `id`.
pub async fn find_by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Store>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM stores WHERE id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// Every store, oldest first, with the total.
pub async fn list(conn: &mut AnyConnection, limit: i64, offset: i64) -> Result<(i64, Vec<Store>), sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stores").fetch_one(&mut *conn).await?;
    let sql = format!("SELECT {COLUMNS} FROM stores ORDER BY created_at, id LIMIT $1 OFFSET $2");
    let rows = sqlx::query(&sql).bind(limit).bind(offset).fetch_all(conn).await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// One page of stores, oldest first, with the total.
pub async fn page(db: &Db, limit: i64, offset: i64) -> Result<(i64, Vec<Store>), sqlx::Error> {
    list(&mut *db.reader().acquire().await?, limit, offset).await
}

/// Why a store could not be created.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store slug taken")]
    SlugTaken,
    #[error("the user owns as many stores as allowed")]
    TooMany,
    /// An API key cannot open a store.
    #[error("not allowed")]
    NotAllowed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a new store is made of.
pub struct NewStore<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    pub currency: Currency,
    pub country: &'a str,
    pub tax_inclusive: bool,
    pub owner_id: Option<&'a str>,
}

/// Inserts a store; a taken slug is a unique violation.
pub async fn create(conn: &mut AnyConnection, new: NewStore<'_>) -> Result<Store, sqlx::Error> {
    insert(conn, &new, false).await
}

/// Stores a user who is not the platform admin may own.
pub const MAX_OWNED_STORES: i64 = 10;

/// Opens a store for `caller`, who becomes its owner, with the order workflow and payment
/// methods every store starts with. Whether it may sell before the platform approves it comes
/// with the marketplace.
pub async fn open(app: &App, caller: &Caller, new: NewStore<'_>) -> Result<Store, StoreError> {
    let owner = caller.user_id().ok_or(StoreError::NotAllowed)?;
    let mut tx = app.db.begin().await?;
    let owned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM store_members WHERE user_id = $1 AND role = 'owner'")
        .bind(owner)
        .fetch_one(&mut *tx)
        .await?;
    if owned >= MAX_OWNED_STORES && !caller.is_admin() {
        return Err(StoreError::TooMany);
    }
    let new = NewStore { owner_id: Some(owner), ..new };
    let store = create(&mut tx, new).await.map_err(|e| match feria_db::unique_violation(&e) {
        Some("stores_slug_key") => StoreError::SlugTaken,
        _ => e.into(),
    })?;
    members::insert(&mut tx, &store.id, owner, StoreRole::Owner).await?;
    crate::services::store_defaults::seed_new_store(&mut tx, &store.id).await?;
    tx.commit().await?;
    app.access.forget(owner);
    Ok(store)
}

async fn insert(conn: &mut AnyConnection, new: &NewStore<'_>, is_default: bool) -> Result<Store, sqlx::Error> {
    let now = time::to_db(time::now());
    let sql = format!(
        "INSERT INTO stores (id, name, slug, currency, country, tax_inclusive, is_active, is_default, owner_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(new_id())
        .bind(new.name)
        .bind(new.slug)
        .bind(new.currency.code())
        .bind(new.country)
        .bind(feria_db::flag(new.tax_inclusive))
        .bind(feria_db::flag(true))
        .bind(feria_db::flag(is_default))
        .bind(new.owner_id)
        .bind(&now)
        .fetch_one(conn)
        .await?;
    from_row(&row)
}

/// Creates the default store (ARS, Argentina, prices net of tax) unless it exists; safe when
/// several nodes start together.
pub async fn ensure_default(conn: &mut AnyConnection) -> Result<Store, sqlx::Error> {
    if let Some(store) = find_by_slug(conn, DEFAULT_SLUG).await? {
        return Ok(store);
    }
    let new =
        NewStore { name: "Mi tienda", slug: DEFAULT_SLUG, currency: Currency::ARS, country: "AR", tax_inclusive: false, owner_id: None };
    match insert(conn, &new, true).await {
        Ok(store) => Ok(store),
        Err(e) if feria_db::unique_violation(&e) == Some("stores_slug_key") => find_by_slug(conn, DEFAULT_SLUG).await?.ok_or(e),
        Err(e) => Err(e),
    }
}

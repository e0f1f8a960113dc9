//! Discount coupons of a store. Codes are upper-cased and unique in the store. Amounts are
//! minor units; a percentage is in hundredths of a percent. A coupon is counted only when an
//! order using it is placed.

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::coupon::Discount;
use feria_domain::{ids::new_id, time};

/// `percentage` or `fixed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountType {
    Percentage,
    Fixed,
}

impl DiscountType {
    pub fn as_str(self) -> &'static str {
        match self {
            DiscountType::Percentage => "percentage",
            DiscountType::Fixed => "fixed",
        }
    }

    pub fn parse(s: &str) -> Option<DiscountType> {
        match s {
            "percentage" => Some(DiscountType::Percentage),
            "fixed" => Some(DiscountType::Fixed),
            _ => None,
        }
    }
}

/// One coupon.
#[derive(Debug, Clone)]
pub struct Coupon {
    pub id: String,
    pub code: String,
    pub description: String,
    pub discount_type: DiscountType,
    /// Hundredths of a percent, or minor units.
    pub discount_value: i64,
    pub min_order_amount: i64,
    /// Percentage coupons only.
    pub max_discount_amount: Option<i64>,
    pub usage_limit: Option<i64>,
    /// Orders applying it (looked up by code: counted only for a limited coupon, see `find_by_code`).
    pub used_count: i64,
    pub is_active: bool,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Why a coupon cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Inactive,
    Expired,
    UsedUp,
    /// The order is below `min_order_amount`.
    BelowMinimum,
}

impl Refusal {
    /// Why, for the buyer.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Inactive => "El cupón no está activo",
            Refusal::Expired => "El cupón está vencido",
            Refusal::UsedUp => "El cupón alcanzó su límite de usos",
            Refusal::BelowMinimum => "El pedido no alcanza el monto mínimo del cupón",
        }
    }
}

impl Coupon {
    pub fn discount(&self) -> Discount {
        match self.discount_type {
            DiscountType::Percentage => Discount::Percentage { basis_points: self.discount_value, cap: self.max_discount_amount },
            DiscountType::Fixed => Discount::Fixed(self.discount_value),
        }
    }

    /// Whether it can be used now on an order of `amount` (minor units), or why not.
    pub fn check(&self, amount: Option<i64>, now: &str) -> Result<(), Refusal> {
        if !self.is_active {
            Err(Refusal::Inactive)
        } else if self.expires_at.as_deref().is_some_and(|at| at <= now) {
            Err(Refusal::Expired)
        } else if self.usage_limit.is_some_and(|limit| self.used_count >= limit) {
            Err(Refusal::UsedUp)
        } else if amount.is_some_and(|a| a < self.min_order_amount) {
            Err(Refusal::BelowMinimum)
        } else {
            Ok(())
        }
    }
}

/// The stored columns of a coupon.
const COLUMNS: &str = "id, code, description, discount_type, discount_value, min_order_amount, max_discount_amount, usage_limit,
    is_active, expires_at, created_at, updated_at";

/// `SELECT` of a coupon: [`COLUMNS`] plus `used_count`, given as SQL. A coupon's uses are the
/// orders that applied it, counted, so placing an order never has to update (and lock) the
/// coupon row.
fn select(used_count: &str) -> String {
    format!(
        "SELECT id, code, description, discount_type, discount_value, min_order_amount, max_discount_amount, usage_limit, is_active,
         expires_at, created_at, updated_at, {used_count} AS used_count FROM coupons"
    )
}

/// Every use counted.
const USES: &str = "(SELECT COUNT(*) FROM orders o WHERE o.coupon_id = coupons.id)";

fn from_row(row: &AnyRow) -> Result<Coupon, sqlx::Error> {
    let kind: String = row.try_get("discount_type")?;
    Ok(Coupon {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        description: row.try_get("description")?,
        discount_type: DiscountType::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("discount type {kind}").into()))?,
        discount_value: row.try_get("discount_value")?,
        min_order_amount: row.try_get("min_order_amount")?,
        max_discount_amount: row.try_get("max_discount_amount")?,
        usage_limit: row.try_get("usage_limit")?,
        used_count: row.try_get("used_count")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Listing filters: `active` keeps coupons with that flag; expired ones are left out unless
/// `include_expired`.
#[derive(Debug, Clone, Copy)]
pub struct ListFilter {
    pub active: Option<bool>,
    pub include_expired: bool,
}

/// Why a coupon could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CouponError {
    #[error("no such coupon in the store")]
    NotFound,
    #[error("coupon code taken")]
    CodeTaken,
    /// Deleting for good a coupon orders applied.
    #[error("the coupon was used by orders")]
    InUse,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A unique or foreign-key violation as the error it means.
fn violation(err: sqlx::Error) -> CouponError {
    if feria_db::unique_violation(&err) == Some("coupons_code_key") {
        CouponError::CodeTaken
    } else if feria_db::is_foreign_key_violation(&err) {
        CouponError::InUse
    } else {
        CouponError::Database(err)
    }
}

/// One page of the store's coupons, newest first, with the total.
pub async fn page(db: &Db, store_id: &str, filter: ListFilter, limit: i64, offset: i64) -> Result<(i64, Vec<Coupon>), CouponError> {
    let mut conn = db.reader().acquire().await?;
    let condition = "store_id = $1 AND ($2 = -1 OR is_active = $2) AND ($3 = 1 OR expires_at IS NULL OR expires_at > $4)";
    let active = filter.active.map_or(-1, i64::from);
    let include_expired = feria_db::flag(filter.include_expired);
    let now = time::to_db(time::now());
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM coupons WHERE {condition}"))
        .bind(store_id)
        .bind(active)
        .bind(include_expired)
        .bind(&now)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("{} WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6", select(USES));
    let rows = sqlx::query(&sql)
        .bind(store_id)
        .bind(active)
        .bind(include_expired)
        .bind(&now)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// The store's coupon with this id.
pub async fn find(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<Coupon>, sqlx::Error> {
    let sql = format!("{} WHERE id = $1 AND store_id = $2", select(USES));
    sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// The store's coupon `id` (a use case: not finding it is an error).
pub async fn get(db: &Db, store_id: &str, id: &str) -> Result<Coupon, CouponError> {
    find(&mut *db.reader().acquire().await?, store_id, id).await?.ok_or(CouponError::NotFound)
}

/// The store's coupon with this code (ignoring case), for checkout: its `used_count` is counted
/// only when it has a usage limit (0 otherwise).
pub async fn find_by_code(conn: &mut AnyConnection, store_id: &str, code: &str) -> Result<Option<Coupon>, sqlx::Error> {
    // Checkout asks by code many times per order; counting the uses of a popular unlimited
    // coupon would cost a scan of its orders each time for nothing.
    let uses = format!("CASE WHEN usage_limit IS NULL THEN 0 ELSE {USES} END");
    let sql = format!("{} WHERE code = $1 AND store_id = $2", select(&uses));
    sqlx::query(&sql).bind(code.trim().to_uppercase()).bind(store_id).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// A code checked at checkout: its coupon, and what it takes off the order or why it cannot
/// be used now.
pub struct CodeCheck {
    pub coupon: Coupon,
    /// The discount on the order's amount (0 without one), in minor units.
    pub outcome: Result<i64, Refusal>,
}

/// Checks the store's coupon `code` for an order of `amount` (minor units); `None` when the
/// store has no such code.
pub async fn check_code(db: &Db, store_id: &str, code: &str, amount: Option<i64>) -> Result<Option<CodeCheck>, sqlx::Error> {
    let Some(coupon) = find_by_code(&mut *db.reader().acquire().await?, store_id, code).await? else { return Ok(None) };
    let outcome = coupon.check(amount, &time::to_db(time::now())).map(|()| amount.map_or(0, |a| coupon.discount().amount_off(a)));
    Ok(Some(CodeCheck { coupon, outcome }))
}

/// The fields of a coupon (already validated); `None` keeps the current value. For the
/// nullable ones, `Some(None)` clears them.
#[derive(Debug, Default)]
pub struct CouponFields {
    pub code: Option<String>,
    pub description: Option<String>,
    pub discount_type: Option<DiscountType>,
    pub discount_value: Option<i64>,
    pub min_order_amount: Option<i64>,
    pub max_discount_amount: Option<Option<i64>>,
    pub usage_limit: Option<Option<i64>>,
    pub is_active: Option<bool>,
    pub expires_at: Option<Option<String>>,
}

/// Creates a coupon (`code`, `discount_type` and `discount_value` set).
pub async fn create(db: &Db, store_id: &str, f: CouponFields) -> Result<Coupon, CouponError> {
    let mut tx = db.begin().await?;
    let id = new_id();
    sqlx::query(&format!("INSERT INTO coupons ({COLUMNS}, store_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)"))
        .bind(&id)
        .bind(f.code.unwrap_or_default())
        .bind(f.description.unwrap_or_default())
        .bind(f.discount_type.unwrap_or(DiscountType::Percentage).as_str())
        .bind(f.discount_value.unwrap_or_default())
        .bind(f.min_order_amount.unwrap_or(0))
        .bind(f.max_discount_amount.flatten())
        .bind(f.usage_limit.flatten())
        .bind(feria_db::flag(f.is_active.unwrap_or(true)))
        .bind(f.expires_at.flatten())
        .bind(time::to_db(time::now()))
        .bind(store_id)
        .execute(&mut *tx)
        .await
        .map_err(violation)?;
    let created = find(&mut tx, store_id, &id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(created)
}

/// Updates the store's coupon `id` with the changes `validate` makes of it as it is, read in
/// the update's transaction (the rules of a coupon depend on the fields it keeps).
pub async fn update<E: From<CouponError>>(
    db: &Db,
    store_id: &str,
    id: &str,
    validate: impl FnOnce(&Coupon) -> Result<CouponFields, E>,
) -> Result<Coupon, E> {
    let mut tx = db.begin().await.map_err(CouponError::from)?;
    let current = find(&mut tx, store_id, id).await.map_err(CouponError::from)?.ok_or(CouponError::NotFound)?;
    let changes = validate(&current)?;
    let saved = save(&mut tx, store_id, &merged(&current, &changes)).await?;
    tx.commit().await.map_err(CouponError::from)?;
    Ok(saved)
}

/// `changes` applied to `current`: what an update stores.
fn merged(current: &Coupon, changes: &CouponFields) -> Coupon {
    Coupon {
        code: changes.code.clone().unwrap_or_else(|| current.code.clone()),
        description: changes.description.clone().unwrap_or_else(|| current.description.clone()),
        discount_type: changes.discount_type.unwrap_or(current.discount_type),
        discount_value: changes.discount_value.unwrap_or(current.discount_value),
        min_order_amount: changes.min_order_amount.unwrap_or(current.min_order_amount),
        max_discount_amount: changes.max_discount_amount.unwrap_or(current.max_discount_amount),
        usage_limit: changes.usage_limit.unwrap_or(current.usage_limit),
        is_active: changes.is_active.unwrap_or(current.is_active),
        expires_at: changes.expires_at.clone().unwrap_or_else(|| current.expires_at.clone()),
        ..current.clone()
    }
}

/// Stores `coupon` (from [`merged`]) over the row with its id.
async fn save(conn: &mut AnyConnection, store_id: &str, coupon: &Coupon) -> Result<Coupon, CouponError> {
    sqlx::query(
        "UPDATE coupons SET code = $1, description = $2, discount_type = $3, discount_value = $4, min_order_amount = $5,
         max_discount_amount = $6, usage_limit = $7, is_active = $8, expires_at = $9, updated_at = $10 WHERE id = $11 AND store_id = $12",
    )
    .bind(&coupon.code)
    .bind(&coupon.description)
    .bind(coupon.discount_type.as_str())
    .bind(coupon.discount_value)
    .bind(coupon.min_order_amount)
    .bind(coupon.max_discount_amount)
    .bind(coupon.usage_limit)
    .bind(feria_db::flag(coupon.is_active))
    .bind(&coupon.expires_at)
    .bind(time::to_db(time::now()))
    .bind(&coupon.id)
    .bind(store_id)
    .execute(&mut *conn)
    .await
    .map_err(violation)?;
    Ok(find(conn, store_id, &coupon.id).await?.ok_or(sqlx::Error::RowNotFound)?)
}

/// Deletes the store's coupon `id` for good (`force`; refused once orders applied it), or only
/// deactivates it.
pub async fn delete(db: &Db, store_id: &str, id: &str, force: bool) -> Result<(), CouponError> {
    let sql = if force {
        "DELETE FROM coupons WHERE id = $1 AND store_id = $2"
    } else {
        "UPDATE coupons SET is_active = 0 WHERE id = $1 AND store_id = $2"
    };
    let mut tx = db.begin().await?;
    let done = sqlx::query(sql).bind(id).bind(store_id).execute(&mut *tx).await.map_err(violation)?;
    if done.rows_affected() != 1 {
        return Err(CouponError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

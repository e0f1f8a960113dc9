//! Payment methods of a store: how a shopper pays, whether that happens online, whether an admin
//! may confirm the payment by hand, and the status a new order paid this way starts in.

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::{ids::new_id, time};

use crate::services::order_statuses::{self, Filter, Key, StatusRef};

/// One payment method.
#[derive(Debug, Clone)]
pub struct PaymentMethod {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub default_order_status: StatusRef,
    pub requires_online_payment: bool,
    pub allows_manual_confirmation: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// The methods every store starts with: code, name, description, default status code,
/// online payment, manual confirmation.
const DEFAULT_METHODS: &[(&str, &str, &str, &str, bool, bool)] = &[
    ("CASH", "Efectivo", "Pago en efectivo al recibir o retirar", "PENDING", false, true),
    ("BANK_TRANSFER", "Transferencia bancaria", "Transferencia a la cuenta de la tienda", "AWAITING_PAYMENT", false, true),
    ("MERCADO_PAGO", "Mercado Pago", "Pago en línea con Mercado Pago", "AWAITING_PAYMENT", true, false),
    ("CREDIT_CARD", "Tarjeta de crédito", "Pago en línea con tarjeta de crédito", "AWAITING_PAYMENT", true, false),
    ("DEBIT_CARD", "Tarjeta de débito", "Pago en línea con tarjeta de débito", "AWAITING_PAYMENT", true, false),
];

const SELECT: &str = "SELECT m.id, m.code, m.name, m.description, m.is_active, m.requires_online_payment, m.allows_manual_confirmation,
    m.created_at, m.updated_at, s.id AS s_id, s.code AS s_code, s.name AS s_name, s.description AS s_description, s.color AS s_color
    FROM payment_methods m JOIN order_statuses s ON s.id = m.default_order_status_id";

fn from_row(row: &AnyRow) -> Result<PaymentMethod, sqlx::Error> {
    Ok(PaymentMethod {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        default_order_status: StatusRef {
            id: row.try_get("s_id")?,
            code: row.try_get("s_code")?,
            name: row.try_get("s_name")?,
            description: row.try_get("s_description")?,
            color: row.try_get("s_color")?,
        },
        requires_online_payment: row.try_get::<i64, _>("requires_online_payment")? != 0,
        allows_manual_confirmation: row.try_get::<i64, _>("allows_manual_confirmation")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// One page of the store's methods by code, with the total.
pub async fn page(db: &Db, store_id: &str, filter: Filter, limit: i64, offset: i64) -> Result<(i64, Vec<PaymentMethod>), MethodError> {
    let mut conn = db.reader().acquire().await?;
    let condition = "m.store_id = $1 AND (m.is_active = 1 OR $2 = 0)";
    let active_only = feria_db::flag(filter == Filter::ActiveOnly);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM payment_methods m WHERE {condition}"))
        .bind(store_id)
        .bind(active_only)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("{SELECT} WHERE {condition} ORDER BY m.code LIMIT $3 OFFSET $4");
    let rows = sqlx::query(&sql).bind(store_id).bind(active_only).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// The store's method with this id, or with this code (ignoring case).
pub async fn find(conn: &mut AnyConnection, store_id: &str, key: Key<'_>) -> Result<Option<PaymentMethod>, sqlx::Error> {
    let (condition, value) = match key {
        Key::Id(id) => ("m.id = $2", id.to_string()),
        Key::Code(code) => ("m.code = $2", code.trim().to_uppercase()),
        Key::Default => return Ok(None),
    };
    let sql = format!("{SELECT} WHERE m.store_id = $1 AND {condition}");
    sqlx::query(&sql).bind(store_id).bind(value).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// The store's method with this id or code (a use case: not finding it is an error).
pub async fn get(db: &Db, store_id: &str, key: Key<'_>) -> Result<PaymentMethod, MethodError> {
    find(&mut *db.reader().acquire().await?, store_id, key).await?.ok_or(MethodError::NotFound)
}

/// The fields of a method; `None` keeps the current value (on create all but `description`
/// and `is_active` must be set).
#[derive(Debug, Default)]
pub struct MethodFields {
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_active: Option<bool>,
    /// Id or code of one of the store's order statuses.
    pub default_order_status: Option<String>,
    pub requires_online_payment: Option<bool>,
    pub allows_manual_confirmation: Option<bool>,
}

/// Why a method could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MethodError {
    #[error("no such payment method in the store")]
    NotFound,
    #[error("no such order status in the store")]
    UnknownStatus,
    #[error("payment method code taken")]
    CodeTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The id of the store's status with id or code `key`.
async fn status_id(conn: &mut AnyConnection, store_id: &str, key: &str) -> Result<Option<String>, sqlx::Error> {
    if let Some(status) = order_statuses::find(conn, store_id, Key::Id(key)).await? {
        return Ok(Some(status.id));
    }
    Ok(order_statuses::find(conn, store_id, Key::Code(key)).await?.map(|s| s.id))
}

/// A unique violation as a taken code.
fn violation(err: sqlx::Error) -> MethodError {
    if feria_db::unique_violation(&err) == Some("payment_methods_code_key") { MethodError::CodeTaken } else { MethodError::Database(err) }
}

/// Creates a method in the store.
pub async fn create(db: &Db, store_id: &str, fields: MethodFields) -> Result<PaymentMethod, MethodError> {
    let mut tx = db.begin().await?;
    let key = fields.default_order_status.as_deref().unwrap_or_default();
    let status = status_id(&mut tx, store_id, key).await?.ok_or(MethodError::UnknownStatus)?;
    let created = insert(&mut tx, store_id, fields, &status).await.map_err(violation)?;
    tx.commit().await?;
    Ok(created)
}

/// Inserts a method starting orders in status `status_id`; a taken code is a unique violation.
async fn insert(conn: &mut AnyConnection, store_id: &str, fields: MethodFields, status_id: &str) -> Result<PaymentMethod, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO payment_methods (id, store_id, code, name, description, is_active, default_order_status_id, requires_online_payment,
         allows_manual_confirmation, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(fields.code.unwrap_or_default())
    .bind(fields.name.unwrap_or_default())
    .bind(fields.description.unwrap_or_default())
    .bind(feria_db::flag(fields.is_active.unwrap_or(true)))
    .bind(status_id)
    .bind(feria_db::flag(fields.requires_online_payment.unwrap_or(false)))
    .bind(feria_db::flag(fields.allows_manual_confirmation.unwrap_or(false)))
    .bind(time::to_db(time::now()))
    .execute(&mut *conn)
    .await?;
    find(conn, store_id, Key::Id(&id)).await?.ok_or(sqlx::Error::RowNotFound)
}

/// Applies `fields` to the store's method `id`.
pub async fn update(db: &Db, store_id: &str, id: &str, fields: MethodFields) -> Result<PaymentMethod, MethodError> {
    let mut tx = db.begin().await?;
    let current = find(&mut tx, store_id, Key::Id(id)).await?.ok_or(MethodError::NotFound)?;
    let status = match fields.default_order_status.as_deref() {
        Some(key) => status_id(&mut tx, store_id, key).await?.ok_or(MethodError::UnknownStatus)?,
        None => current.default_order_status.id,
    };
    sqlx::query(
        "UPDATE payment_methods SET code = $1, name = $2, description = $3, is_active = $4, default_order_status_id = $5,
         requires_online_payment = $6, allows_manual_confirmation = $7, updated_at = $8 WHERE id = $9 AND store_id = $10",
    )
    .bind(fields.code.unwrap_or(current.code))
    .bind(fields.name.unwrap_or(current.name))
    .bind(fields.description.unwrap_or(current.description))
    .bind(feria_db::flag(fields.is_active.unwrap_or(current.is_active)))
    .bind(status)
    .bind(feria_db::flag(fields.requires_online_payment.unwrap_or(current.requires_online_payment)))
    .bind(feria_db::flag(fields.allows_manual_confirmation.unwrap_or(current.allows_manual_confirmation)))
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(&mut *tx)
    .await
    .map_err(violation)?;
    let updated = find(&mut tx, store_id, Key::Id(id)).await?.ok_or(MethodError::NotFound)?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the store's method `id` and returns it as it was.
pub async fn delete(db: &Db, store_id: &str, id: &str) -> Result<PaymentMethod, MethodError> {
    let mut tx = db.begin().await?;
    let method = find(&mut tx, store_id, Key::Id(id)).await?.ok_or(MethodError::NotFound)?;
    sqlx::query("DELETE FROM payment_methods WHERE id = $1 AND store_id = $2").bind(id).bind(store_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(method)
}

/// Inserts the default methods into one store; its order statuses must exist.
pub async fn seed_store(conn: &mut AnyConnection, store_id: &str) -> Result<(), sqlx::Error> {
    for (code, name, description, status, online, manual) in DEFAULT_METHODS {
        let fields = MethodFields {
            code: Some(code.to_string()),
            name: Some(name.to_string()),
            description: Some(description.to_string()),
            is_active: Some(true),
            requires_online_payment: Some(*online),
            allows_manual_confirmation: Some(*manual),
            ..MethodFields::default()
        };
        // A store whose admins removed a default status keeps the methods it can have.
        if let Some(status) = status_id(conn, store_id, status).await? {
            insert(conn, store_id, fields, &status).await?;
        }
    }
    Ok(())
}

//! Order statuses: the order workflow of each store, as data. Each status lists the statuses an
//! order may move to from it; an empty list means the status is terminal. Exactly one status of
//! a store is the default (new orders start there unless the payment method says otherwise).

use std::collections::HashMap;

use feria_db::{AnyConnection, AnyRow, Db, Row};
use feria_domain::{ids::new_id, time};

/// A status as embedded in what refers to it (a payment method, a new order).
#[derive(Debug, Clone)]
pub struct StatusRef {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub color: String,
}

/// One status of a store's workflow.
#[derive(Debug, Clone)]
pub struct OrderStatus {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    /// `#RRGGBB`.
    pub color: String,
    /// Display order.
    pub position: i64,
    pub is_active: bool,
    pub is_default: bool,
    /// Ids of the statuses an order may move to from this one.
    pub can_transition_to: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The workflow every store starts with (ARCHITECTURE.md "Domain rules"): code, name,
/// description, color, and the codes it leads to. The first is the default.
const DEFAULT_WORKFLOW: &[(&str, &str, &str, &str, &[&str])] = &[
    ("PENDING", "Pendiente", "Pedido recibido, a confirmar", "#F59E0B", &["AWAITING_PAYMENT", "CONFIRMED", "CANCELLED"]),
    ("AWAITING_PAYMENT", "Esperando pago", "Esperando la acreditación del pago", "#F97316", &["PAID", "CANCELLED"]),
    ("CONFIRMED", "Confirmado", "Confirmado; se paga al recibir o por transferencia", "#3B82F6", &["PROCESSING", "CANCELLED"]),
    ("PAID", "Pagado", "Pago acreditado", "#10B981", &["PROCESSING", "CANCELLED", "REFUNDED"]),
    ("PROCESSING", "En preparación", "Preparando el pedido", "#6366F1", &["SHIPPED", "CANCELLED", "REFUNDED"]),
    ("SHIPPED", "Enviado", "En camino al cliente", "#8B5CF6", &["DELIVERED", "REFUNDED"]),
    ("DELIVERED", "Entregado", "Recibido por el cliente", "#059669", &["REFUNDED"]),
    ("CANCELLED", "Cancelado", "Pedido cancelado; el stock se repone", "#EF4444", &[]),
    ("REFUNDED", "Reembolsado", "Pago devuelto al cliente", "#6B7280", &[]),
];

const COLUMNS: &str = "id, code, name, description, color, position, is_active, is_default, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<OrderStatus, sqlx::Error> {
    Ok(OrderStatus {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        color: row.try_get("color")?,
        position: row.try_get("position")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        is_default: row.try_get::<i64, _>("is_default")? != 0,
        can_transition_to: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Fills in the transitions of `statuses`.
async fn with_transitions(
    conn: &mut AnyConnection,
    store_id: &str,
    mut statuses: Vec<OrderStatus>,
) -> Result<Vec<OrderStatus>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT t.from_id, t.to_id FROM order_status_transitions t JOIN order_statuses s ON s.id = t.from_id
         JOIN order_statuses d ON d.id = t.to_id WHERE s.store_id = $1 ORDER BY d.position, d.code",
    )
    .bind(store_id)
    .fetch_all(conn)
    .await?;
    let mut targets: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        targets.entry(row.try_get("from_id")?).or_default().push(row.try_get("to_id")?);
    }
    for status in &mut statuses {
        status.can_transition_to = targets.remove(&status.id).unwrap_or_default();
    }
    Ok(statuses)
}

/// Which entries a listing shows (statuses, payment methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    ActiveOnly,
}

/// One page of the store's statuses in display order, with the total.
pub async fn list(
    conn: &mut AnyConnection,
    store_id: &str,
    filter: Filter,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<OrderStatus>), sqlx::Error> {
    let condition = "store_id = $1 AND (is_active = 1 OR $2 = 0)";
    let active_only = feria_db::flag(filter == Filter::ActiveOnly);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM order_statuses WHERE {condition}"))
        .bind(store_id)
        .bind(active_only)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("SELECT {COLUMNS} FROM order_statuses WHERE {condition} ORDER BY position, code LIMIT $3 OFFSET $4");
    let rows = sqlx::query(&sql).bind(store_id).bind(active_only).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    let statuses = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok((total, with_transitions(conn, store_id, statuses).await?))
}

/// One page of the store's statuses in display order, with the total.
pub async fn page(db: &Db, store_id: &str, filter: Filter, limit: i64, offset: i64) -> Result<(i64, Vec<OrderStatus>), StatusError> {
    Ok(list(&mut *db.reader().acquire().await?, store_id, filter, limit, offset).await?)
}

/// How a status (or a payment method, by id or code) is looked up.
pub enum Key<'a> {
    Id(&'a str),
    Code(&'a str),
    Default,
}

/// The store's status with this id or code, or its default.
pub async fn find(conn: &mut AnyConnection, store_id: &str, key: Key<'_>) -> Result<Option<OrderStatus>, sqlx::Error> {
    let (condition, value) = match key {
        Key::Id(id) => ("id = $2", id.to_string()),
        Key::Code(code) => ("code = $2", code.trim().to_uppercase()),
        Key::Default => ("is_default = 1 AND $2 = ''", String::new()),
    };
    let sql = format!("SELECT {COLUMNS} FROM order_statuses WHERE store_id = $1 AND {condition}");
    let Some(row) = sqlx::query(&sql).bind(store_id).bind(value).fetch_optional(&mut *conn).await? else { return Ok(None) };
    Ok(with_transitions(conn, store_id, vec![from_row(&row)?]).await?.pop())
}

/// The store's status with this id or code, or its default (a use case: not finding it is an
/// error).
pub async fn get(db: &Db, store_id: &str, key: Key<'_>) -> Result<OrderStatus, StatusError> {
    find(&mut *db.reader().acquire().await?, store_id, key).await?.ok_or(StatusError::NotFound)
}

/// The shortest way through the store's workflow from status `from_id` to the active status
/// with code `to_code`: the ids of the statuses to enter, in order (empty when already there),
/// or `None` when the workflow does not lead there.
pub async fn path(conn: &mut AnyConnection, store_id: &str, from_id: &str, to_code: &str) -> Result<Option<Vec<String>>, sqlx::Error> {
    let (_, statuses) = list(conn, store_id, Filter::ActiveOnly, i64::MAX, 0).await?;
    let Some(target) = statuses.iter().find(|s| s.code == to_code) else { return Ok(None) };
    let next: HashMap<&str, &[String]> = statuses.iter().map(|s| (s.id.as_str(), s.can_transition_to.as_slice())).collect();
    // Breadth first, remembering how each status was reached.
    let mut came_from: HashMap<&str, &str> = HashMap::from([(from_id, "")]);
    let mut frontier = std::collections::VecDeque::from([from_id]);
    while let Some(at) = frontier.pop_front() {
        if at == target.id {
            let mut steps = Vec::new();
            let mut step = at;
            while step != from_id {
                steps.push(step.to_string());
                step = came_from[step];
            }
            steps.reverse();
            return Ok(Some(steps));
        }
        for to in next.get(at).copied().unwrap_or_default() {
            if next.contains_key(to.as_str()) && !came_from.contains_key(to.as_str()) {
                came_from.insert(to, at);
                frontier.push_back(to);
            }
        }
    }
    Ok(None)
}

/// The store's default status (one query, without its transitions).
pub async fn default_ref(conn: &mut AnyConnection, store_id: &str) -> Result<Option<StatusRef>, sqlx::Error> {
    let row = sqlx::query("SELECT id, code, name, description, color FROM order_statuses WHERE store_id = $1 AND is_default = 1")
        .bind(store_id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        Ok(StatusRef {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            color: r.try_get("color")?,
        })
    })
    .transpose()
}

/// The fields of a status; `None` keeps the current value (on create: the default one).
#[derive(Debug, Default)]
pub struct StatusFields {
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub position: Option<i64>,
    pub is_active: Option<bool>,
    pub is_default: Option<bool>,
    /// Codes or ids of the statuses it leads to.
    pub can_transition_to: Option<Vec<String>>,
}

/// Why a status could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("no such status in the store")]
    NotFound,
    #[error("unknown transition target {0}")]
    UnknownTarget(String),
    #[error("a status cannot lead to itself")]
    SelfTransition,
    #[error("the default status must stay active and default until another one is made default")]
    DefaultRequired,
    #[error("status code taken")]
    CodeTaken,
    /// Orders or payment methods still refer to it.
    #[error("the status is in use")]
    InUse,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StatusError {
    /// A unique or foreign-key violation as the error it means.
    fn violation(self) -> StatusError {
        match self {
            StatusError::Database(e) if feria_db::unique_violation(&e) == Some("order_statuses_code_key") => StatusError::CodeTaken,
            StatusError::Database(e) if feria_db::is_foreign_key_violation(&e) => StatusError::InUse,
            other => other,
        }
    }
}

/// Resolves codes or ids to the store's status ids, in the given order, without repeats.
async fn resolve_targets(conn: &mut AnyConnection, store_id: &str, targets: &[String]) -> Result<Vec<String>, StatusError> {
    let rows = sqlx::query("SELECT id, code FROM order_statuses WHERE store_id = $1").bind(store_id).fetch_all(&mut *conn).await?;
    let mut by_key: HashMap<String, String> = HashMap::new();
    for row in rows {
        let (id, code): (String, String) = (row.try_get("id")?, row.try_get("code")?);
        by_key.insert(code, id.clone());
        by_key.insert(id.clone(), id);
    }
    let mut ids: Vec<String> = Vec::new();
    for target in targets {
        let key = target.trim();
        let id = by_key.get(key).or_else(|| by_key.get(&key.to_uppercase())).ok_or_else(|| StatusError::UnknownTarget(key.to_string()))?;
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    Ok(ids)
}

async fn set_transitions(conn: &mut AnyConnection, from_id: &str, to_ids: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM order_status_transitions WHERE from_id = $1").bind(from_id).execute(&mut *conn).await?;
    for to_id in to_ids {
        sqlx::query("INSERT INTO order_status_transitions (from_id, to_id) VALUES ($1, $2)")
            .bind(from_id)
            .bind(to_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn clear_default(conn: &mut AnyConnection, store_id: &str, except: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE order_statuses SET is_default = 0 WHERE store_id = $1 AND id <> $2")
        .bind(store_id)
        .bind(except)
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates a status (`code` and `name` must be set).
pub async fn create(db: &Db, store_id: &str, fields: StatusFields) -> Result<OrderStatus, StatusError> {
    let mut tx = db.begin().await?;
    let created = insert(&mut tx, store_id, fields).await.map_err(StatusError::violation)?;
    tx.commit().await?;
    Ok(created)
}

/// Inserts a status; a taken code is a unique violation.
async fn insert(conn: &mut AnyConnection, store_id: &str, fields: StatusFields) -> Result<OrderStatus, StatusError> {
    let targets = resolve_targets(conn, store_id, fields.can_transition_to.as_deref().unwrap_or_default()).await?;
    let position = match fields.position {
        Some(p) => p,
        None => {
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(position), 0) + 1 FROM order_statuses WHERE store_id = $1")
                .bind(store_id)
                .fetch_one(&mut *conn)
                .await?
        }
    };
    let id = new_id();
    let is_default = fields.is_default.unwrap_or(false);
    if is_default && fields.is_active == Some(false) {
        return Err(StatusError::DefaultRequired);
    }
    sqlx::query(&format!("INSERT INTO order_statuses ({COLUMNS}, store_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)"))
        .bind(&id)
        .bind(fields.code.unwrap_or_default())
        .bind(fields.name.unwrap_or_default())
        .bind(fields.description.unwrap_or_default())
        .bind(fields.color.unwrap_or_else(|| "#6B7280".into()))
        .bind(position)
        .bind(feria_db::flag(fields.is_active.unwrap_or(true)))
        .bind(feria_db::flag(is_default))
        .bind(time::to_db(time::now()))
        .bind(store_id)
        .execute(&mut *conn)
        .await?;
    if is_default {
        clear_default(conn, store_id, &id).await?;
    }
    set_transitions(conn, &id, &targets).await?;
    Ok(find(conn, store_id, Key::Id(&id)).await?.ok_or(sqlx::Error::RowNotFound)?)
}

/// Applies `fields` to the store's status `id`.
pub async fn update(db: &Db, store_id: &str, id: &str, fields: StatusFields) -> Result<OrderStatus, StatusError> {
    let mut tx = db.begin().await?;
    let updated = apply(&mut tx, store_id, id, fields).await.map_err(StatusError::violation)?;
    tx.commit().await?;
    Ok(updated)
}

/// Writes `fields` over the store's status `id`; a taken code is a unique violation.
async fn apply(conn: &mut AnyConnection, store_id: &str, id: &str, fields: StatusFields) -> Result<OrderStatus, StatusError> {
    let current = find(conn, store_id, Key::Id(id)).await?.ok_or(StatusError::NotFound)?;
    let is_default = fields.is_default.unwrap_or(current.is_default);
    let is_active = fields.is_active.unwrap_or(current.is_active);
    if current.is_default && (!is_default || !is_active) {
        return Err(StatusError::DefaultRequired);
    }
    if let Some(targets) = &fields.can_transition_to {
        let ids = resolve_targets(conn, store_id, targets).await?;
        if ids.iter().any(|t| t == id) {
            return Err(StatusError::SelfTransition);
        }
        set_transitions(conn, id, &ids).await?;
    }
    sqlx::query(
        "UPDATE order_statuses SET code = $1, name = $2, description = $3, color = $4, position = $5, is_active = $6, is_default = $7,
         updated_at = $8 WHERE id = $9 AND store_id = $10",
    )
    .bind(fields.code.unwrap_or(current.code))
    .bind(fields.name.unwrap_or(current.name))
    .bind(fields.description.unwrap_or(current.description))
    .bind(fields.color.unwrap_or(current.color))
    .bind(fields.position.unwrap_or(current.position))
    .bind(feria_db::flag(is_active))
    .bind(feria_db::flag(is_default))
    .bind(time::to_db(time::now()))
    .bind(id)
    .bind(store_id)
    .execute(&mut *conn)
    .await?;
    if is_default {
        clear_default(conn, store_id, id).await?;
    }
    find(conn, store_id, Key::Id(id)).await?.ok_or(StatusError::NotFound)
}

/// Deletes the store's status `id`; never the default one, nor one orders still use.
pub async fn delete(db: &Db, store_id: &str, id: &str) -> Result<(), StatusError> {
    let mut tx = db.begin().await?;
    let current = find(&mut tx, store_id, Key::Id(id)).await?.ok_or(StatusError::NotFound)?;
    if current.is_default {
        return Err(StatusError::DefaultRequired);
    }
    sqlx::query("DELETE FROM order_statuses WHERE id = $1 AND store_id = $2")
        .bind(id)
        .bind(store_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StatusError::from(e).violation())?;
    tx.commit().await?;
    Ok(())
}

/// Whether an order may move from status `from` to status `to` (ids or codes) in the store.
pub async fn can_transition(db: &Db, store_id: &str, from: &str, to: &str) -> Result<bool, StatusError> {
    let mut conn = db.reader().acquire().await?;
    let (Ok(from), Ok(to)) =
        (resolve_targets(&mut conn, store_id, &[from.to_string()]).await, resolve_targets(&mut conn, store_id, &[to.to_string()]).await)
    else {
        return Ok(false);
    };
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM order_status_transitions WHERE from_id = $1 AND to_id = $2")
        .bind(&from[0])
        .bind(&to[0])
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// Inserts the default workflow into one store that has none.
pub async fn seed_store(conn: &mut AnyConnection, store_id: &str) -> Result<(), sqlx::Error> {
    let now = time::to_db(time::now());
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (position, (code, name, description, color, _)) in DEFAULT_WORKFLOW.iter().enumerate() {
        let id = new_id();
        sqlx::query(&format!("INSERT INTO order_statuses ({COLUMNS}, store_id) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8, $9)"))
            .bind(&id)
            .bind(*code)
            .bind(*name)
            .bind(*description)
            .bind(*color)
            .bind(position as i64 + 1)
            .bind(feria_db::flag(position == 0))
            .bind(&now)
            .bind(store_id)
            .execute(&mut *conn)
            .await?;
        ids.insert(code, id);
    }
    for (code, _, _, _, targets) in DEFAULT_WORKFLOW {
        let targets: Vec<String> = targets.iter().map(|t| ids[t].clone()).collect();
        set_transitions(conn, &ids[code], &targets).await?;
    }
    Ok(())
}

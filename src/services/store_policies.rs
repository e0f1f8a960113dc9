//! A store's policies as its owner writes them: shipping, returns, payments and opening hours,
//! plain text shown to buyers and read by agents (`feria://policies/{kind}`).

use feria_db::{Db, Row};
use feria_domain::time;

/// What a policy is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Shipping,
    Returns,
    Payments,
    Hours,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 4] = [PolicyKind::Shipping, PolicyKind::Returns, PolicyKind::Payments, PolicyKind::Hours];

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Shipping => "shipping",
            PolicyKind::Returns => "returns",
            PolicyKind::Payments => "payments",
            PolicyKind::Hours => "hours",
        }
    }

    pub fn parse(text: &str) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Its title for buyers.
    pub fn title(self) -> &'static str {
        match self {
            PolicyKind::Shipping => "Envíos",
            PolicyKind::Returns => "Cambios y devoluciones",
            PolicyKind::Payments => "Medios de pago",
            PolicyKind::Hours => "Horarios de atención",
        }
    }
}

/// A policy as written.
#[derive(Debug, Clone)]
pub struct Policy {
    pub kind: PolicyKind,
    pub body: String,
    pub updated_at: String,
}

/// The store's policies, in [`PolicyKind::ALL`]'s order (those never written are absent).
pub async fn list(db: &Db, store_id: &str) -> Result<Vec<Policy>, sqlx::Error> {
    let rows = sqlx::query("SELECT kind, body, updated_at FROM store_policies WHERE store_id = $1")
        .bind(store_id)
        .fetch_all(&mut *db.reader().acquire().await?)
        .await?;
    let mut policies = Vec::new();
    for row in rows {
        let Some(kind) = PolicyKind::parse(&row.try_get::<String, _>("kind")?) else { continue };
        policies.push(Policy { kind, body: row.try_get("body")?, updated_at: row.try_get("updated_at")? });
    }
    policies.sort_by_key(|p| PolicyKind::ALL.iter().position(|k| *k == p.kind));
    Ok(policies)
}

/// Writes the store's `kind` policy (replacing what it said).
pub async fn set(db: &Db, store_id: &str, kind: PolicyKind, body: &str) -> Result<Policy, sqlx::Error> {
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO store_policies (store_id, kind, body, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (store_id, kind) DO UPDATE SET body = $3, updated_at = $4",
    )
    .bind(store_id)
    .bind(kind.as_str())
    .bind(body)
    .bind(&now)
    .execute(db.writer())
    .await?;
    Ok(Policy { kind, body: body.to_string(), updated_at: now })
}

/// Removes the store's `kind` policy; says whether there was one.
pub async fn remove(db: &Db, store_id: &str, kind: PolicyKind) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM store_policies WHERE store_id = $1 AND kind = $2")
        .bind(store_id)
        .bind(kind.as_str())
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected() == 1)
}

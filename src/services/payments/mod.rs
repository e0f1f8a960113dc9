//! The payment ledger: one payment per attempt to pay an order, and the append-only events of
//! its money (authorized, approved, rejected, cancelled, refunded, charged back). An order's
//! paid and refunded amounts are sums of events; nothing else is counted.

pub mod apply;
pub mod gateway;
pub mod manual;
pub mod mercadopago;
pub mod payable;
pub mod refunds;
pub mod stripe;
pub mod webhook_analysis;
pub mod webhook_intake;
pub mod webhook_log;

use feria_db::{AnyConnection, AnyRow, Backend, Row};
use feria_domain::{ids::new_id, time};
use serde_json::Value;

/// Why a payment could not be started or brought up to date; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
    #[error("payment provider failed: {0}")]
    Provider(String),
    #[error("no such payment")]
    UnknownPayment,
    #[error("the provider's payment is not for this store's orders")]
    Foreign,
    #[error("the provider's payment is for another order")]
    OtherOrder,
    #[error("no such order")]
    UnknownOrder,
    #[error("the order is {0}")]
    NotPayable(String),
    #[error("the order is paid")]
    AlreadyPaid,
    #[error("the order's payment method is not confirmed by hand")]
    ManualNotAllowed,
    #[error("not a {0} payment")]
    WrongProvider(&'static str),
    #[error("no such preference")]
    UnknownPreference,
    #[error("no such webhook")]
    UnknownWebhook,
    #[error("not a Mercado Pago webhook about a payment")]
    NotAPaymentWebhook,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Who moves the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    MercadoPago,
    Stripe,
    /// Cash or bank transfer, confirmed by an admin.
    Manual,
}

impl Provider {
    pub fn parse(name: &str) -> Option<Provider> {
        [Provider::MercadoPago, Provider::Stripe, Provider::Manual].into_iter().find(|p| p.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::MercadoPago => "mercadopago",
            Provider::Stripe => "stripe",
            Provider::Manual => "manual",
        }
    }
}

/// A payment's state, as feria understands every provider's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    Authorized,
    Approved,
    Rejected,
    Cancelled,
    Refunded,
    ChargedBack,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Approved => "approved",
            PaymentStatus::Rejected => "rejected",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::ChargedBack => "charged_back",
        }
    }

    /// Reads a stored or requested status.
    pub fn parse(text: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Pending,
            PaymentStatus::Authorized,
            PaymentStatus::Approved,
            PaymentStatus::Rejected,
            PaymentStatus::Cancelled,
            PaymentStatus::Refunded,
            PaymentStatus::ChargedBack,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Mercado Pago's `status` (protocol §3.1); anything unknown is pending.
    pub fn from_mercadopago(status: &str) -> PaymentStatus {
        match status {
            "approved" => PaymentStatus::Approved,
            "authorized" => PaymentStatus::Authorized,
            "rejected" => PaymentStatus::Rejected,
            "cancelled" => PaymentStatus::Cancelled,
            "refunded" => PaymentStatus::Refunded,
            "charged_back" => PaymentStatus::ChargedBack,
            // pending, in_process, in_mediation and whatever comes next.
            _ => PaymentStatus::Pending,
        }
    }
}

/// A payment as stored, with the sums of its events.
#[derive(Debug, Clone)]
pub struct Payment {
    pub id: String,
    pub order_id: String,
    pub provider: String,
    /// What was asked for, minor units.
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub status_detail: Option<String>,
    pub provider_payment_id: Option<String>,
    pub preference_id: Option<String>,
    pub external_reference: String,
    /// The provider charged an amount (or currency) other than the one asked for.
    pub amount_mismatch: bool,
    /// Money was approved after its order was cancelled or refunded: it must be given back.
    pub needs_refund: bool,
    /// The provider's last answer about it.
    pub provider_data: Option<Value>,
    /// Charged, minor units (approved events).
    pub paid: i64,
    /// Given back, minor units (refunds and chargebacks).
    pub refunded: i64,
    pub created_at: String,
    pub updated_at: String,
}

const SELECT: &str = "SELECT p.id, p.order_id, p.provider, p.amount, p.currency, p.status, p.status_detail, p.provider_payment_id,
    p.preference_id, p.external_reference, p.amount_mismatch, p.needs_refund, p.provider_data, p.created_at, p.updated_at,
    CAST((SELECT COALESCE(SUM(e.amount), 0) FROM payment_events e WHERE e.payment_id = p.id AND e.kind = 'approved') AS BIGINT) AS paid,
    CAST((SELECT COALESCE(SUM(e.amount), 0) FROM payment_events e WHERE e.payment_id = p.id AND e.kind IN ('refunded', 'charged_back')) AS BIGINT)
    AS refunded
    FROM payments p";

fn from_row(row: &AnyRow) -> Result<Payment, sqlx::Error> {
    let data: Option<String> = row.try_get("provider_data")?;
    Ok(Payment {
        id: row.try_get("id")?,
        order_id: row.try_get("order_id")?,
        provider: row.try_get("provider")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        status: row.try_get("status")?,
        status_detail: row.try_get("status_detail")?,
        provider_payment_id: row.try_get("provider_payment_id")?,
        preference_id: row.try_get("preference_id")?,
        external_reference: row.try_get("external_reference")?,
        amount_mismatch: row.try_get::<i64, _>("amount_mismatch")? != 0,
        needs_refund: row.try_get::<i64, _>("needs_refund")? != 0,
        provider_data: data.and_then(|d| serde_json::from_str(&d).ok()),
        paid: row.try_get("paid")?,
        refunded: row.try_get("refunded")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A payment to record.
pub struct NewPayment<'a> {
    pub store_id: &'a str,
    pub order_id: &'a str,
    pub provider: Provider,
    pub amount: i64,
    pub currency: &'a str,
    pub provider_payment_id: Option<&'a str>,
    pub preference_id: Option<&'a str>,
    pub external_reference: &'a str,
    pub provider_data: Option<&'a Value>,
}

/// Records a pending payment under `id`.
pub async fn insert(conn: &mut AnyConnection, id: &str, p: NewPayment<'_>) -> Result<Payment, sqlx::Error> {
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO payments (id, store_id, order_id, provider, amount, currency, status, provider_payment_id, preference_id,
         external_reference, provider_data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $11)",
    )
    .bind(id)
    .bind(p.store_id)
    .bind(p.order_id)
    .bind(p.provider.as_str())
    .bind(p.amount)
    .bind(p.currency)
    .bind(p.provider_payment_id)
    .bind(p.preference_id)
    .bind(p.external_reference)
    .bind(p.provider_data.map(Value::to_string))
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    find(conn, p.store_id, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// The store's payment `id`.
pub async fn find(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<Payment>, sqlx::Error> {
    let row =
        sqlx::query(&format!("{SELECT} WHERE p.id = $1 AND p.store_id = $2")).bind(id).bind(store_id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// The store's payment the provider knows as `provider_payment_id`.
pub async fn find_by_provider_id(
    conn: &mut AnyConnection,
    store_id: &str,
    provider: Provider,
    provider_payment_id: &str,
) -> Result<Option<Payment>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE p.store_id = $1 AND p.provider = $2 AND p.provider_payment_id = $3");
    let row = sqlx::query(&sql).bind(store_id).bind(provider.as_str()).bind(provider_payment_id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// The order's newest attempt with `provider` that no provider payment has claimed yet.
pub async fn newest_unclaimed(conn: &mut AnyConnection, order_id: &str, provider: Provider) -> Result<Option<Payment>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE p.order_id = $1 AND p.provider = $2 AND p.provider_payment_id IS NULL ORDER BY p.created_at DESC, p.id DESC LIMIT 1"
    );
    sqlx::query(&sql).bind(order_id).bind(provider.as_str()).fetch_optional(conn).await?.as_ref().map(from_row).transpose()
}

/// The store's newest payment created for a Mercado Pago preference.
pub async fn find_by_preference(conn: &mut AnyConnection, store_id: &str, preference_id: &str) -> Result<Option<Payment>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE p.store_id = $1 AND p.preference_id = $2 ORDER BY p.created_at DESC, p.id DESC LIMIT 1");
    let row = sqlx::query(&sql).bind(store_id).bind(preference_id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// Which payments a listing shows.
#[derive(Debug, Default)]
pub struct PaymentFilter {
    pub status: Option<String>,
    pub order_id: Option<String>,
}

/// One page of the store's payments, newest first, with the total.
pub async fn list(
    conn: &mut AnyConnection,
    store_id: &str,
    filter: &PaymentFilter,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Payment>), sqlx::Error> {
    let condition = "p.store_id = $1 AND ($2 = '' OR p.status = $2) AND ($3 = '' OR p.order_id = $3)";
    let status = filter.status.clone().unwrap_or_default();
    let order = filter.order_id.clone().unwrap_or_default();
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM payments p WHERE {condition}"))
        .bind(store_id)
        .bind(&status)
        .bind(&order)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("{SELECT} WHERE {condition} ORDER BY p.created_at DESC, p.id DESC LIMIT $4 OFFSET $5");
    let rows = sqlx::query(&sql).bind(store_id).bind(&status).bind(&order).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(from_row).collect::<Result<_, _>>()?))
}

/// An order's money: what was charged and given back over all its payments, minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderMoney {
    pub paid: i64,
    pub refunded: i64,
}

/// The sums of the events of every payment of the order.
pub async fn order_money(conn: &mut AnyConnection, order_id: &str) -> Result<OrderMoney, sqlx::Error> {
    let row = sqlx::query(
        // SUM of BIGINT is NUMERIC on PostgreSQL: cast back.
        "SELECT CAST(COALESCE(SUM(CASE WHEN e.kind = 'approved' THEN e.amount ELSE 0 END), 0) AS BIGINT) AS paid,
                CAST(COALESCE(SUM(CASE WHEN e.kind IN ('refunded', 'charged_back') THEN e.amount ELSE 0 END), 0) AS BIGINT) AS refunded
         FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE p.order_id = $1",
    )
    .bind(order_id)
    .fetch_one(conn)
    .await?;
    Ok(OrderMoney { paid: row.try_get("paid")?, refunded: row.try_get("refunded")? })
}

/// Money given back on an order: one refund or chargeback of one of its payments.
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    /// Minor units, positive.
    pub amount: i64,
    pub created_at: String,
}

/// The refunds and chargebacks of every payment of the order, oldest first.
pub async fn order_refunds(conn: &mut AnyConnection, order_id: &str) -> Result<Vec<Refund>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT e.id, e.amount, e.created_at FROM payment_events e JOIN payments p ON p.id = e.payment_id
         WHERE p.order_id = $1 AND e.kind IN ('refunded', 'charged_back') ORDER BY e.created_at, e.id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(Refund { id: r.try_get("id")?, amount: r.try_get("amount")?, created_at: r.try_get("created_at")? })).collect()
}

/// Locks the payment's row on PostgreSQL, so changes to one payment's money are applied one
/// after the other (SQLite's single writer already does that).
pub async fn lock(conn: &mut AnyConnection, payment_id: &str) -> Result<(), sqlx::Error> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SELECT id FROM payments WHERE id = $1 FOR UPDATE").bind(payment_id).fetch_all(conn).await?;
    }
    Ok(())
}

/// Appends an event unless one with the same `event_key` exists for the payment; says whether
/// it was appended (applying the same provider event twice appends once).
pub async fn append_event(
    conn: &mut AnyConnection,
    payment_id: &str,
    kind: &str,
    amount: i64,
    event_key: &str,
    source: &str,
) -> Result<bool, sqlx::Error> {
    let appended = sqlx::query(
        "INSERT INTO payment_events (id, payment_id, kind, amount, event_key, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (payment_id, event_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(payment_id)
    .bind(kind)
    .bind(amount)
    .bind(event_key)
    .bind(source)
    .bind(time::to_db(time::now()))
    .execute(conn)
    .await?;
    Ok(appended.rows_affected() == 1)
}

/// The store's payment `id` with the body of the last webhook about it, as received.
pub async fn with_last_webhook(app: &crate::app::App, store_id: &str, id: &str) -> Result<(Payment, Option<Value>), PaymentError> {
    let mut conn = app.db.reader().acquire().await?;
    let payment = find(&mut conn, store_id, id).await?.ok_or(PaymentError::UnknownPayment)?;
    let webhook = match &payment.provider_payment_id {
        Some(resource) => {
            let filter = webhook_log::WebhookFilter {
                resource_id: Some(resource.clone()),
                source: Some(payment.provider.clone()),
                ..webhook_log::WebhookFilter::default()
            };
            let (_, last) = webhook_log::list(&mut conn, store_id, &filter, 1, 0).await?;
            last.first().map(|w| serde_json::from_str(&w.body).unwrap_or(Value::String(w.body.clone())))
        }
        None => None,
    };
    Ok((payment, webhook))
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus;

    #[test]
    fn mercado_pago_statuses_map_and_unknown_ones_are_pending() {
        let mapped: Vec<&str> = [
            "approved",
            "authorized",
            "in_process",
            "in_mediation",
            "rejected",
            "cancelled",
            "refunded",
            "charged_back",
            "pending",
            "something_new",
        ]
        .iter()
        .map(|s| PaymentStatus::from_mercadopago(s).as_str())
        .collect();
        assert_eq!(
            mapped,
            ["approved", "authorized", "pending", "pending", "rejected", "cancelled", "refunded", "charged_back", "pending", "pending"]
        );
        assert_eq!(PaymentStatus::parse("charged_back"), Some(PaymentStatus::ChargedBack));
        assert_eq!(PaymentStatus::parse("paid"), None);
    }
}

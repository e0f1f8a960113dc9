//! The statements that write orders, shared by placing, editing and cancelling. Each builds its
//! SQL while binding its values ([`Args`]), so placing writes an order in one round trip: under
//! load, the time a transaction holds rows other orders need (a product's stock) is mostly
//! round trips and the commit.
//!
//! Only what must be serialised is locked. A product's stock row, by every order taking from it.
//! A coupon row, only when the coupon has a usage limit (its uses are the orders applying it,
//! counted, so an unlimited coupon is never locked). Order numbers come from a per-store
//! sequence on PostgreSQL (no lock; a number can be lost when a transaction fails after taking
//! it, so a store may see a gap) and from the store's counter row on SQLite, whose single writer
//! serialises every transaction anyway.
//!
//! Lock order, for every writer: a limited coupon first, then products by id (locked explicitly
//! in id order on PostgreSQL).

use feria_db::{AnyConnection, Args, Backend, Row};
use feria_domain::ids::new_id;
use feria_domain::pricing::Totals;

use crate::services::catalog::products;
use crate::services::coupons::{self, Refusal};
use crate::services::customers::{self, Guest};
use crate::services::orders::{Order, OrderError};

/// A line as stored on an order: the product as it was sold.
pub struct SoldLine {
    pub product_id: String,
    pub product_name: String,
    pub unit_price: i64,
    pub tax_rate_bp: i64,
    pub quantity: i64,
}

/// Units of a product to take from its stock (negative: to give back), with its name for errors.
pub struct StockMove {
    pub product_id: String,
    pub units: i64,
    pub name: String,
}

/// `UPDATE products` taking each move's units in one statement, returning `('taken', id)` per
/// product changed. Taking needs the stock and the product on sale; giving back always applies.
fn stock_sql(args: &mut Args<'_>, backend: Backend, store: &str, now: &str, moves: &[StockMove]) -> String {
    let when: String = moves.iter().map(|m| format!(" WHEN {} THEN {}", args.add(m.product_id.clone()), args.add(m.units))).collect();
    let units = format!("CASE id{when} END");
    let list = moves.iter().map(|m| args.add(m.product_id.clone())).collect::<Vec<_>>().join(", ");
    let lock = match backend {
        Backend::Postgres => format!(" AND id IN (SELECT id FROM products WHERE id IN ({list}) ORDER BY id FOR UPDATE)"),
        Backend::Sqlite => String::new(),
    };
    format!(
        "UPDATE products SET stock = stock - {units}, updated_at = {now}
         WHERE store_id = {store} AND id IN ({list}){lock} AND ({units} < 0 OR (stock >= {units} AND is_active = 1))
         RETURNING 'taken' AS kind, id AS value"
    )
}

/// `('claimed', id)` when the coupon can be used now: active, not expired, and fewer orders
/// than its usage limit apply it (the order being written not among them yet; counted only for
/// a limited coupon).
fn claim_sql(args: &mut Args<'_>, coupon_id: &str, now: &str) -> String {
    let id = args.add(coupon_id.to_string());
    format!(
        "SELECT 'claimed' AS kind, id AS value FROM coupons WHERE id = {id} AND is_active = 1 AND (expires_at IS NULL OR expires_at > {now})
         AND CASE WHEN usage_limit IS NULL THEN 1 WHEN (SELECT COUNT(*) FROM orders o WHERE o.coupon_id = {id}) < usage_limit THEN 1 ELSE 0 END = 1"
    )
}

/// On PostgreSQL, locks the coupon row when the coupon has a usage limit, so that orders using
/// it count its uses one after another (the next statement sees the uses committed before the
/// lock was granted). A limit set while an order is being placed applies from the next order.
async fn lock_if_limited(conn: &mut AnyConnection, coupon_id: &str) -> Result<(), sqlx::Error> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SELECT id FROM coupons WHERE id = $1 AND usage_limit IS NOT NULL FOR UPDATE").bind(coupon_id).fetch_all(conn).await?;
    }
    Ok(())
}

/// The per-store sequence of order numbers on PostgreSQL.
fn sequence_name(store_id: &str) -> String {
    // Store ids are UUIDs: hex digits and dashes.
    let safe: String = store_id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("order_numbers_{safe}")
}

/// Creates the store's order-number sequence on PostgreSQL when missing, continuing after the
/// store's counter if it had one; nothing on SQLite.
pub async fn ensure_number_sequence(conn: &mut AnyConnection, store_id: &str) -> Result<(), sqlx::Error> {
    if Backend::of(conn) != Backend::Postgres {
        return Ok(());
    }
    let last: Option<i64> =
        sqlx::query_scalar("SELECT last_number FROM order_counters WHERE store_id = $1").bind(store_id).fetch_optional(&mut *conn).await?;
    let sql = format!("CREATE SEQUENCE IF NOT EXISTS {} START WITH {}", sequence_name(store_id), last.unwrap_or(0) + 1);
    match sqlx::query(&sql).execute(conn).await {
        // Another node created it at the same moment.
        Err(e) if feria_db::is_unique_violation(&e) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// `INSERT INTO order_items`, inserting only when `guard` (a `WHERE …` or "") holds.
fn lines_sql(args: &mut Args<'_>, order_id: &str, lines: &[SoldLine], totals: &Totals, guard: &str) -> String {
    let order = args.add(order_id.to_string());
    let values: Vec<String> = lines
        .iter()
        .zip(&totals.lines)
        .enumerate()
        .map(|(position, (l, t))| {
            let values = [
                args.add(new_id()),
                order.clone(),
                args.add(position as i64),
                args.add(l.product_id.clone()),
                args.add(l.product_name.clone()),
                args.add(l.unit_price),
                args.add(l.quantity),
                args.add(l.tax_rate_bp),
                args.add(t.net),
                args.add(t.discount),
                args.add(t.tax),
            ];
            format!("({})", values.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO order_items (id, order_id, position, product_id, product_name, unit_price, quantity, tax_rate_bp, net, discount, tax)
         SELECT * FROM (VALUES {}) AS v{guard}",
        values.join(", ")
    )
}

/// `INSERT INTO order_status_history`, inserting only when `guard` (a `WHERE …` or "") holds.
fn status_sql(args: &mut Args<'_>, entry: &StatusEntry<'_>, guard: &str) -> String {
    let StatusEntry { order_id, status_id, by, note, at } = *entry;
    format!(
        "INSERT INTO order_status_history (id, order_id, status_id, changed_by, note, changed_at) SELECT {}, {}, {}, {}, {}, {}{guard}",
        args.add(new_id()),
        args.add(order_id.to_string()),
        args.add(status_id.to_string()),
        args.add(by.map(str::to_string)),
        args.add(note.map(str::to_string)),
        args.add(at.to_string())
    )
}

/// The SQL giving a new order's number and customer id, and what it selects from.
struct Computed<'a> {
    number: &'a str,
    customer: &'a str,
    from: &'a str,
}

/// `INSERT INTO orders … SELECT … {from}` with the order number and customer given as SQL.
fn order_sql(args: &mut Args<'_>, store: &str, o: &Order, payment_method_id: Option<&str>, computed: Computed<'_>) -> String {
    let Computed { number, customer, from } = computed;
    let ship = &o.address;
    let values = [
        args.add(o.id.clone()),
        store.to_string(),
        number.to_string(),
        customer.to_string(),
        args.add(o.user_id.clone()),
        args.add(o.status_id.clone()),
        args.add(payment_method_id.map(str::to_string)),
        args.add(o.coupon.as_ref().map(|c| c.id.clone())),
        args.add(o.currency.clone()),
        args.add(o.subtotal),
        args.add(o.discount),
        args.add(o.tax),
        args.add(o.shipping),
        args.add(o.total),
        args.add(ship.street.clone()),
        args.add(ship.number.clone()),
        args.add(ship.neighborhood.clone()),
        args.add(ship.city.clone()),
        args.add(ship.zip_code.clone()),
        args.add(ship.details.clone()),
        args.add(ship.recipient.clone()),
        args.add(ship.phone.clone()),
        args.add(o.notes.clone()),
        args.add(o.customer_name.clone()),
        args.add(o.customer_email.clone()),
        args.add(o.customer_phone.clone()),
        args.add(o.created_at.clone()),
        args.add(o.updated_at.clone()),
    ];
    format!(
        "INSERT INTO orders (id, store_id, order_number, customer_id, user_id, status_id, payment_method_id, coupon_id, currency,
         subtotal, discount, tax, shipping, total, ship_street, ship_number, ship_neighborhood, ship_city, ship_zip_code, ship_details,
         ship_recipient, ship_phone, notes, customer_name, customer_email, customer_phone, created_at, updated_at) SELECT {} {from} RETURNING 'number' AS kind, order_number AS value",
        values.join(", ")
    )
}

/// An entry of an order's status history.
#[derive(Clone, Copy)]
pub struct StatusEntry<'a> {
    pub order_id: &'a str,
    pub status_id: &'a str,
    pub by: Option<&'a str>,
    pub note: Option<&'a str>,
    pub at: &'a str,
}

/// A new order's number and customer, as written.
pub struct Written {
    pub number: String,
    pub customer_id: String,
}

/// Writes a new order in one round trip (two with a usage-limited coupon on PostgreSQL): takes
/// its lines' stock, checks its coupon can still be used, finds or creates a `guest`'s customer
/// (otherwise the order's `customer_id` is used), numbers it (`ORD-000001` onwards, see the
/// module) and inserts it with its lines, its first history entry and the catalog notes for its
/// products. When a product lacks stock or is off sale, or the coupon cannot be used, says which
/// (the caller rolls back).
#[allow(clippy::too_many_arguments)]
pub async fn write_new(
    conn: &mut AnyConnection,
    store_id: &str,
    order: &Order,
    payment_method_id: Option<&str>,
    coupon_limited: bool,
    guest: Option<&Guest>,
    lines: &[SoldLine],
    totals: &Totals,
) -> Result<Written, OrderError> {
    let backend = Backend::of(conn);
    let coupon_id = order.coupon.as_ref().map(|c| c.id.as_str());
    let moves: Vec<StockMove> =
        lines.iter().map(|l| StockMove { product_id: l.product_id.clone(), units: l.quantity, name: l.product_name.clone() }).collect();
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    let first = StatusEntry {
        order_id: &order.id,
        status_id: &order.status_id,
        by: order.user_id.as_deref(),
        note: Some("Pedido creado"),
        at: &order.created_at,
    };
    if let Some(id) = coupon_id.filter(|_| coupon_limited) {
        lock_if_limited(conn, id).await?;
    }
    let mut args = Args::default();
    let (store, at) = (args.add(store_id.to_string()), args.add(order.created_at.clone()));
    let stock = stock_sql(&mut args, backend, &store, &at, &moves);
    let claim = coupon_id.map(|id| claim_sql(&mut args, id, &at));
    let mut with_customer = String::new();
    let sql = match backend {
        // One statement. The order is numbered and inserted only if every line's stock was taken
        // and the coupon can be used; sub-statements cannot see each other's rows, so the lines
        // and history are guarded on the order's insert.
        Backend::Postgres => {
            let expected = args.add(moves.len() as i64);
            let claimed = args.add(i64::from(claim.is_some()));
            let claim = claim.unwrap_or_else(|| "SELECT 'claimed' AS kind, '' AS value WHERE 1 = 0".into());
            let number = "'ORD-' || CASE WHEN counted.n < 1000000 THEN lpad(counted.n::text, 6, '0') ELSE counted.n::text END";
            let counted = format!(
                "FROM (SELECT nextval('{}') AS n WHERE (SELECT COUNT(*) FROM taken) = {expected}
                 AND (SELECT COUNT(*) FROM claimed) = {claimed}) AS counted",
                sequence_name(store_id)
            );
            let customer = match guest {
                Some(g) => {
                    with_customer = format!("customer AS ({}), ", customers::guest_sql(&mut args, &store, g, &at));
                    "(SELECT value FROM customer)".to_string()
                }
                None => args.add(order.customer_id.clone()),
            };
            let placed = order_sql(&mut args, &store, order, payment_method_id, Computed { number, customer: &customer, from: &counted });
            let guard = " WHERE EXISTS (SELECT 1 FROM placed)";
            let items = lines_sql(&mut args, &order.id, lines, totals, guard);
            let history = status_sql(&mut args, &first, guard);
            let changes = products::changes_sql(&mut args, store_id, &ids);
            let customer_row = if guest.is_some() { " UNION ALL SELECT kind, value FROM customer" } else { "" };
            format!(
                "WITH taken AS ({stock}), claimed AS ({claim}), {with_customer}placed AS ({placed}), items AS ({items}),
                 history AS ({history}), changes AS ({changes})
                 SELECT kind, value FROM taken UNION ALL SELECT kind, value FROM claimed UNION ALL SELECT kind, value FROM placed{customer_row}"
            )
        }
        // One writer: the statements run in turn with nothing in between; a failure is rolled
        // back by the caller.
        Backend::Sqlite => {
            let counter = format!(
                "INSERT INTO order_counters (store_id, last_number) VALUES ({store}, 1)
                 ON CONFLICT (store_id) DO UPDATE SET last_number = last_number + 1"
            );
            let number = format!("printf('ORD-%06d', (SELECT last_number FROM order_counters WHERE store_id = {store}))");
            let (upsert, customer) = match guest {
                Some(g) => {
                    let upsert = customers::guest_sql(&mut args, &store, g, &at);
                    let email = args.add(g.email.clone());
                    (Some(upsert), format!("(SELECT id FROM customers WHERE store_id = {store} AND email = {email} AND user_id IS NULL)"))
                }
                None => (None, args.add(order.customer_id.clone())),
            };
            let placed =
                order_sql(&mut args, &store, order, payment_method_id, Computed { number: &number, customer: &customer, from: "" });
            let rest = [
                counter,
                placed,
                lines_sql(&mut args, &order.id, lines, totals, ""),
                status_sql(&mut args, &first, ""),
                products::changes_sql(&mut args, store_id, &ids),
            ];
            upsert.into_iter().chain([stock]).chain(claim).chain(rest).collect::<Vec<_>>().join(";\n")
        }
    };
    let rows = sqlx::query_with(&sql, args.into_inner()).fetch_all(&mut *conn).await?;
    let mut taken = Vec::new();
    let (mut claimed, mut number, mut customer_id) = (false, None, None);
    for row in rows {
        let value: String = row.try_get("value")?;
        match row.try_get::<String, _>("kind")?.as_str() {
            "taken" => taken.push(value),
            "claimed" => claimed = true,
            "customer" => customer_id = Some(value),
            _ => number = Some(value),
        }
    }
    if let Some(short) = moves.iter().find(|m| !taken.contains(&m.product_id)) {
        return Err(shortage(conn, short).await?);
    }
    if let Some(id) = coupon_id.filter(|_| !claimed) {
        return Err(coupon_refusal(conn, store_id, id, &order.created_at).await?);
    }
    let number = number.ok_or(OrderError::Database(sqlx::Error::RowNotFound))?;
    Ok(Written { number, customer_id: customer_id.unwrap_or_else(|| order.customer_id.clone()) })
}

/// Why `m` could not be taken: the product's stock (unchanged by the failed update) or it being
/// off sale or gone.
async fn shortage(conn: &mut AnyConnection, m: &StockMove) -> Result<OrderError, sqlx::Error> {
    let row = sqlx::query("SELECT stock, is_active FROM products WHERE id = $1").bind(&m.product_id).fetch_optional(conn).await?;
    Ok(match row {
        Some(r) if r.try_get::<i64, _>("is_active")? != 0 => {
            OrderError::InsufficientStock { name: m.name.clone(), stock: r.try_get("stock")? }
        }
        _ => OrderError::Unavailable(m.name.clone()),
    })
}

/// Why the coupon could not be claimed.
async fn coupon_refusal(conn: &mut AnyConnection, store_id: &str, coupon_id: &str, now: &str) -> Result<OrderError, sqlx::Error> {
    let current = coupons::find(conn, store_id, coupon_id).await?;
    Ok(OrderError::CouponRefused(current.and_then(|c| c.check(None, now).err()).unwrap_or(Refusal::Inactive)))
}

/// Moves stock by `moves` (positive takes, negative gives back) in one statement; taking fails
/// the whole change when a product lacks stock or is off sale, giving back to a product that no
/// longer exists is skipped. Notes the products as changed for the catalog; returns their ids.
pub async fn move_stock(conn: &mut AnyConnection, store_id: &str, mut moves: Vec<StockMove>, now: &str) -> Result<Vec<String>, OrderError> {
    moves.retain(|m| m.units != 0);
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = moves.iter().map(|m| m.product_id.clone()).collect();
    products::record_changes(conn, store_id, &ids).await?;
    let backend = Backend::of(conn);
    let mut args = Args::default();
    let (store, at) = (args.add(store_id.to_string()), args.add(now.to_string()));
    let sql = stock_sql(&mut args, backend, &store, &at, &moves);
    let moved: Vec<String> = sqlx::query_with(&sql, args.into_inner())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("value"))
        .collect::<Result<_, _>>()?;
    if let Some(short) = moves.iter().find(|m| m.units > 0 && !moved.contains(&m.product_id)) {
        return Err(shortage(conn, short).await?);
    }
    Ok(ids)
}

/// Checks the store's coupon `coupon_id` can be applied to one more order (locking it first
/// when it is limited), or says why not. Call it before moving stock (lock order).
pub async fn claim_coupon(conn: &mut AnyConnection, store_id: &str, coupon_id: &str, now: &str) -> Result<(), OrderError> {
    lock_if_limited(conn, coupon_id).await?;
    let mut args = Args::default();
    let at = args.add(now.to_string());
    let sql = claim_sql(&mut args, coupon_id, &at);
    if sqlx::query_with(&sql, args.into_inner()).fetch_optional(&mut *conn).await?.is_some() {
        return Ok(());
    }
    Err(coupon_refusal(conn, store_id, coupon_id, now).await?)
}

/// Inserts an order's lines with their amounts (`totals.lines`, same order).
pub async fn insert_lines(conn: &mut AnyConnection, order_id: &str, lines: &[SoldLine], totals: &Totals) -> Result<(), sqlx::Error> {
    let mut args = Args::default();
    let sql = lines_sql(&mut args, order_id, lines, totals, "");
    sqlx::query_with(&sql, args.into_inner()).execute(conn).await?;
    Ok(())
}

/// Appends to an order's status history.
pub async fn record_status(conn: &mut AnyConnection, entry: StatusEntry<'_>) -> Result<(), sqlx::Error> {
    let mut args = Args::default();
    let sql = status_sql(&mut args, &entry, "");
    sqlx::query_with(&sql, args.into_inner()).execute(conn).await?;
    Ok(())
}

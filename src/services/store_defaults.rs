//! What every store starts with: the default order workflow and payment methods, and (on
//! PostgreSQL) its order-number sequence.

use feria_db::{AnyConnection, Db};

use super::{order_statuses, order_writes, payment_methods};

/// Seeds a store just created, in its transaction.
pub async fn seed_new_store(conn: &mut AnyConnection, store_id: &str) -> Result<(), sqlx::Error> {
    order_statuses::seed_store(conn, store_id).await?;
    payment_methods::seed_store(conn, store_id).await?;
    order_writes::ensure_number_sequence(conn, store_id).await
}

/// Seeds what is missing in stores created before statuses, methods or number sequences existed
/// (the default store on its first start, too), one transaction per store. Safe when several nodes start
/// together: a store another node is seeding fails on a unique code here and is left to it.
pub async fn seed_missing(db: &Db) -> Result<usize, sqlx::Error> {
    let stores: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM stores s WHERE NOT EXISTS (SELECT 1 FROM order_statuses o WHERE o.store_id = s.id)
         OR NOT EXISTS (SELECT 1 FROM payment_methods m WHERE m.store_id = s.id)",
    )
    .fetch_all(db.writer())
    .await?;
    let all: Vec<String> = sqlx::query_scalar("SELECT id FROM stores").fetch_all(db.writer()).await?;
    for store_id in &all {
        order_writes::ensure_number_sequence(&mut *db.writer().acquire().await?, store_id).await?;
    }
    let mut seeded = 0;
    for store_id in &stores {
        let mut tx = db.begin().await?;
        match seed_what_is_missing(&mut tx, store_id).await {
            Ok(()) => {
                tx.commit().await?;
                seeded += 1;
            }
            Err(e) if feria_db::is_unique_violation(&e) => tx.rollback().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(seeded)
}

async fn seed_what_is_missing(conn: &mut AnyConnection, store_id: &str) -> Result<(), sqlx::Error> {
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE store_id = $1");
    let statuses: i64 = sqlx::query_scalar(&count("order_statuses")).bind(store_id).fetch_one(&mut *conn).await?;
    if statuses == 0 {
        order_statuses::seed_store(conn, store_id).await?;
    }
    let methods: i64 = sqlx::query_scalar(&count("payment_methods")).bind(store_id).fetch_one(&mut *conn).await?;
    if methods == 0 {
        payment_methods::seed_store(conn, store_id).await?;
    }
    Ok(())
}

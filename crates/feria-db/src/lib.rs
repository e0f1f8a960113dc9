//! feria storage: one code path over SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! SQL written here and in callers stays inside the subset both databases share: `$1`
//! placeholders, `TEXT` and `BIGINT` columns, `RETURNING`, `ON CONFLICT`. Flags are `BIGINT`
//! 0/1 (bind with [`flag`]): the `Any` driver cannot decode a SQLite `BOOLEAN` column. Where
//! the two databases really differ (row locking), callers branch on [`Backend`].

mod connect;
mod errors;
pub mod migrations;

pub use connect::{Backend, Db, PoolStats, backend_of, redact_url};
pub use errors::{is_foreign_key_violation, is_unique_violation};
pub use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction, any::AnyRow};

/// The stored form of a boolean flag column (`BIGINT` 0/1).
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// `$first, $first+1, …` for `n` values (an `IN (…)` list).
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A write transaction on the database.
pub type Tx = Transaction<'static, Any>;

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_from_first() {
        assert_eq!(super::placeholders(3, 3), "$3, $4, $5");
    }
}

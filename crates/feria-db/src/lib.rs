//! feria storage: one code path over SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! SQL written here and in callers stays inside the subset both databases share: `$1`
//! placeholders, `TEXT` and `BIGINT` columns, `RETURNING`, `ON CONFLICT`. Flags are `BIGINT`
//! 0/1 (bind with [`flag`]): the `Any` driver cannot decode a SQLite `BOOLEAN` column. Where
//! the two databases really differ (row locking, sequences, several statements in one round
//! trip), callers branch on [`Backend`] (`Backend::of` a connection).

mod connect;
mod errors;
mod group_commit;
pub mod migrations;

pub use connect::{Backend, Db, PoolStats, backend_of, redact_url};
pub use errors::{is_foreign_key_violation, is_unique_violation, unique_violation};
pub use group_commit::Work;
pub use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction, any::AnyRow};

/// The stored form of a boolean flag column (`BIGINT` 0/1).
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// `$first, $first+1, …` for `n` values (an `IN (…)` list).
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A query's arguments, each added with the placeholder that refers to it (`$1`, `$2`, … in
/// the order added), so a statement can be written while its values are bound.
#[derive(Default)]
pub struct Args<'q>(sqlx::any::AnyArguments<'q>);

impl<'q> Args<'q> {
    /// Adds `value`; returns its placeholder.
    pub fn add<T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>>(&mut self, value: T) -> String {
        use sqlx::Arguments;
        // Encoding into the `Any` driver's own values does not fail for the types it supports.
        self.0.add(value).expect("a value the Any driver supports");
        format!("${}", self.0.len())
    }

    /// The arguments, for `sqlx::query_with`.
    pub fn into_inner(self) -> sqlx::any::AnyArguments<'q> {
        self.0
    }
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

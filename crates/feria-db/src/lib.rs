//! feria storage: one code path over SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! SQL written here and in callers stays inside the subset both databases share: `$1`
//! placeholders, `TEXT`/`BIGINT`/`BOOLEAN` columns, `RETURNING`, `ON CONFLICT`. Where the two
//! really differ (row locking), callers branch on [`Backend`].

mod connect;
mod errors;
pub mod migrations;

pub use connect::{Backend, Db, PoolStats, backend_of, redact_url};
pub use errors::is_unique_violation;
pub use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction, any::AnyRow};

/// A write transaction on the database.
pub type Tx = Transaction<'static, Any>;

//! The catalog: stores (the tenant boundary) and what they sell.

pub mod stores;
pub mod taxonomy;

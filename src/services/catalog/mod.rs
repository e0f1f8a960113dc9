//! The catalog: stores (the tenant boundary) and what they sell.

pub mod cache;
pub mod demo;
pub mod import;
pub mod import_file;
pub mod members;
pub mod product_writes;
pub mod products;
pub mod search;
pub mod stores;
pub mod taxonomy;

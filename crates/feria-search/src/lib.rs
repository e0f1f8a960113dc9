//! The product search index: an embedded tantivy index, derived from the database and
//! rebuildable at any time. It knows nothing of SQL; the application feeds it [`ProductDoc`]s.
//!
//! Text is analysed for Spanish: lower-cased, accents folded (`jamón` = `jamon`) and stemmed
//! (`carnes` = `carne`). Words of five letters or more also match at one edit (`chorizzo`).
//! A match in the name weighs more than one in the tags, which weighs more than the description.

mod analysis;
mod facets;
mod index;
mod query;
mod typos;

pub use index::{SearchError, SearchIndex};
pub use query::{Facets, Hits, ProductDoc, SearchQuery, SortBy};

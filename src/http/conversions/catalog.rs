//! Catalog, cart and import errors as API errors.

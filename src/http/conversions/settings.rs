//! Store settings errors (order statuses, payment methods, coupons, stores, categories, tags, units) as API errors.

//! Recognising constraint violations the same way on both databases.

/// True when `err` is a unique-constraint violation.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// The unique constraints (and unique indexes) of the schema with the `table.column` list
/// SQLite names in its message, which does not carry the constraint's name.
const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("users_email_key", "users.email"),
    ("customers_user_id_key", "customers.user_id"),
    ("refresh_tokens_hash_key", "refresh_tokens.token_hash"),
    ("password_resets_hash_key", "password_resets.token_hash"),
    ("stores_slug_key", "stores.slug"),
    ("shipping_rates_code_key", "shipping_rates.store_id, shipping_rates.code"),
    ("categories_name_key", "categories.store_id, categories.name_key"),
    ("tags_name_key", "tags.store_id, tags.name_key"),
    ("units_name_key", "units.store_id, units.name_key"),
    ("products_sku_key", "products.store_id, products.sku"),
    ("cities_name_key", "cities.store_id, cities.name_key"),
    ("neighborhoods_name_key", "neighborhoods.city_id, neighborhoods.name_key"),
    ("order_statuses_code_key", "order_statuses.store_id, order_statuses.code"),
    ("payment_methods_code_key", "payment_methods.store_id, payment_methods.code"),
    ("coupons_code_key", "coupons.store_id, coupons.code"),
    ("customers_store_user_key", "customers.store_id, customers.user_id"),
    ("customers_store_guest_email_key", "customers.store_id, customers.email"),
    ("addresses_one_default_key", "addresses.customer_id"),
    ("carts_store_user_key", "carts.store_id, carts.user_id"),
    ("orders_number_key", "orders.store_id, orders.order_number"),
    ("payments_provider_payment_key", "payments.provider, payments.provider_payment_id"),
    ("payment_events_key", "payment_events.payment_id, payment_events.event_key"),
    ("store_members_pkey", "store_members.store_id, store_members.user_id"),
    ("api_keys_hash_key", "api_keys.key_hash"),
];

/// The name of the unique constraint `err` violates (as in the migrations, e.g.
/// `products_sku_key`), on either database; `None` when it is not a unique violation or the
/// constraint is not known.
pub fn unique_violation(err: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(e) = err else { return None };
    if !e.is_unique_violation() {
        return None;
    }
    if let Some(name) = e.constraint() {
        return UNIQUE_KEYS.iter().find(|(known, _)| *known == name).map(|(known, _)| *known);
    }
    // SQLite: "UNIQUE constraint failed: products.store_id, products.sku".
    let columns = e.message().strip_prefix("UNIQUE constraint failed: ")?;
    UNIQUE_KEYS.iter().find(|(_, known)| *known == columns).map(|(name, _)| *name)
}

/// True when `err` is a foreign-key violation.
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

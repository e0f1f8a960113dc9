//! Versioned migrations, written in the SQL subset SQLite and PostgreSQL share.
//!
//! Each migration runs in its own transaction and is recorded in `schema_migrations`;
//! on PostgreSQL an advisory lock keeps two nodes starting together from racing.

use crate::{Backend, Db};

/// One schema change: a version, a name and the statements that make it.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

/// Every migration, in order. Append only; never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "identity",
        statements: &[
            "CREATE TABLE users (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                email TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                roles TEXT NOT NULL,
                img TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT users_email_key UNIQUE (email)
            )",
            "CREATE TABLE customers (
                id TEXT PRIMARY KEY,
                user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
                name TEXT NOT NULL,
                email TEXT NOT NULL,
                phone TEXT,
                is_guest BIGINT NOT NULL CHECK (is_guest IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )",
            "CREATE UNIQUE INDEX customers_user_id_key ON customers (user_id)",
            "CREATE TABLE refresh_tokens (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                family_id TEXT NOT NULL,
                token_hash TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                created_at TEXT NOT NULL,
                rotated_at TEXT,
                revoked_at TEXT,
                CONSTRAINT refresh_tokens_hash_key UNIQUE (token_hash)
            )",
            "CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)",
            "CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id)",
            "CREATE TABLE password_resets (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT,
                created_at TEXT NOT NULL,
                CONSTRAINT password_resets_hash_key UNIQUE (token_hash)
            )",
        ],
    },
    Migration {
        version: 2,
        name: "jobs",
        statements: &[
            "CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                max_attempts BIGINT NOT NULL,
                run_at TEXT NOT NULL,
                locked_by TEXT,
                locked_until TEXT,
                last_error TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                finished_at TEXT
            )",
            "CREATE INDEX jobs_due_idx ON jobs (state, run_at)",
        ],
    },
    Migration {
        version: 3,
        name: "stores_and_taxonomies",
        statements: &[
            "CREATE TABLE stores (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                slug TEXT NOT NULL,
                currency TEXT NOT NULL,
                country TEXT NOT NULL,
                tax_inclusive BIGINT NOT NULL CHECK (tax_inclusive IN (0, 1)),
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                is_default BIGINT NOT NULL CHECK (is_default IN (0, 1)),
                owner_id TEXT REFERENCES users (id) ON DELETE SET NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT stores_slug_key UNIQUE (slug)
            )",
            "CREATE TABLE categories (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                description TEXT NOT NULL,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT categories_name_key UNIQUE (store_id, name_key)
            )",
            "CREATE TABLE tags (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                description TEXT NOT NULL,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT tags_name_key UNIQUE (store_id, name_key)
            )",
            "CREATE TABLE units (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                description TEXT NOT NULL,
                abbreviation TEXT,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT units_name_key UNIQUE (store_id, name_key)
            )",
        ],
    },
    Migration {
        version: 4,
        name: "products",
        statements: &[
            "CREATE TABLE products (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                category_id TEXT NOT NULL REFERENCES categories (id),
                unit_id TEXT NOT NULL REFERENCES units (id),
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                sku TEXT,
                price BIGINT NOT NULL CHECK (price > 0),
                tax_rate_bp BIGINT NOT NULL CHECK (tax_rate_bp BETWEEN 0 AND 10000),
                stock BIGINT NOT NULL CHECK (stock >= 0),
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                weight_grams BIGINT CHECK (weight_grams >= 0),
                dimensions TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT products_sku_key UNIQUE (store_id, sku)
            )",
            "CREATE INDEX products_store_created_idx ON products (store_id, created_at)",
            "CREATE INDEX products_category_idx ON products (category_id)",
            "CREATE INDEX products_unit_idx ON products (unit_id)",
            "CREATE TABLE product_tags (
                product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
                tag_id TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
                PRIMARY KEY (product_id, tag_id)
            )",
            "CREATE INDEX product_tags_tag_idx ON product_tags (tag_id)",
            "CREATE TABLE product_images (
                id TEXT PRIMARY KEY,
                product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
                position BIGINT NOT NULL,
                storage_key TEXT NOT NULL,
                url TEXT NOT NULL,
                created_at TEXT NOT NULL
            )",
            "CREATE INDEX product_images_product_idx ON product_images (product_id, position)",
        ],
    },
    Migration {
        version: 5,
        name: "catalog_changes",
        statements: &[
            "CREATE TABLE catalog_changes (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL,
                product_id TEXT NOT NULL,
                changed_at TEXT NOT NULL
            )",
            "CREATE INDEX catalog_changes_at_idx ON catalog_changes (changed_at)",
        ],
    },
    Migration {
        version: 6,
        name: "product_imports",
        statements: &["CREATE TABLE product_imports (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                format TEXT NOT NULL,
                file_path TEXT NOT NULL,
                state TEXT NOT NULL,
                rows_total BIGINT NOT NULL,
                rows_processed BIGINT NOT NULL,
                created_count BIGINT NOT NULL,
                updated_count BIGINT NOT NULL,
                error_count BIGINT NOT NULL,
                errors TEXT NOT NULL,
                failure TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                finished_at TEXT
            )"],
    },
    Migration {
        version: 7,
        name: "geography",
        statements: &[
            "CREATE TABLE cities (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                description TEXT NOT NULL,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT cities_name_key UNIQUE (store_id, name_key)
            )",
            "CREATE TABLE neighborhoods (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                city_id TEXT NOT NULL REFERENCES cities (id),
                name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                description TEXT NOT NULL,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT neighborhoods_name_key UNIQUE (city_id, name_key)
            )",
            "CREATE INDEX neighborhoods_city_idx ON neighborhoods (city_id)",
        ],
    },
    Migration {
        version: 8,
        name: "order_statuses",
        statements: &[
            "CREATE TABLE order_statuses (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                code TEXT NOT NULL,
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                color TEXT NOT NULL,
                position BIGINT NOT NULL,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                is_default BIGINT NOT NULL CHECK (is_default IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT order_statuses_code_key UNIQUE (store_id, code)
            )",
            "CREATE TABLE order_status_transitions (
                from_id TEXT NOT NULL REFERENCES order_statuses (id) ON DELETE CASCADE,
                to_id TEXT NOT NULL REFERENCES order_statuses (id) ON DELETE CASCADE,
                PRIMARY KEY (from_id, to_id)
            )",
        ],
    },
    Migration {
        version: 9,
        name: "payment_methods",
        statements: &["CREATE TABLE payment_methods (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                code TEXT NOT NULL,
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                default_order_status_id TEXT NOT NULL REFERENCES order_statuses (id),
                requires_online_payment BIGINT NOT NULL CHECK (requires_online_payment IN (0, 1)),
                allows_manual_confirmation BIGINT NOT NULL CHECK (allows_manual_confirmation IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT payment_methods_code_key UNIQUE (store_id, code)
            )"],
    },
    Migration {
        version: 10,
        name: "coupons",
        statements: &["CREATE TABLE coupons (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                code TEXT NOT NULL,
                description TEXT NOT NULL,
                discount_type TEXT NOT NULL CHECK (discount_type IN ('percentage', 'fixed')),
                discount_value BIGINT NOT NULL,
                min_order_amount BIGINT NOT NULL,
                max_discount_amount BIGINT,
                usage_limit BIGINT,
                used_count BIGINT NOT NULL,
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                expires_at TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT coupons_code_key UNIQUE (store_id, code)
            )"],
    },
    Migration {
        version: 11,
        name: "customers_per_store",
        statements: &[
            // Customers so far were the default store's (created at registration).
            "ALTER TABLE customers ADD COLUMN store_id TEXT REFERENCES stores (id) ON DELETE CASCADE",
            "UPDATE customers SET store_id = (SELECT id FROM stores WHERE is_default = 1)",
            "ALTER TABLE customers ADD COLUMN address TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE customers ADD COLUMN neighborhood_id TEXT REFERENCES neighborhoods (id)",
            "ALTER TABLE customers ADD COLUMN is_active BIGINT NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1))",
            "DROP INDEX customers_user_id_key",
            "CREATE UNIQUE INDEX customers_store_user_key ON customers (store_id, user_id)",
            "CREATE UNIQUE INDEX customers_store_guest_email_key ON customers (store_id, email) WHERE user_id IS NULL",
            "CREATE INDEX customers_store_email_idx ON customers (store_id, email)",
            "CREATE INDEX customers_neighborhood_idx ON customers (neighborhood_id)",
        ],
    },
    Migration {
        version: 12,
        name: "addresses",
        statements: &[
            "CREATE TABLE addresses (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
                recipient_name TEXT NOT NULL,
                phone TEXT NOT NULL,
                street_address TEXT NOT NULL,
                neighborhood_id TEXT NOT NULL REFERENCES neighborhoods (id),
                postal_code TEXT,
                additional_info TEXT,
                alias TEXT,
                is_default BIGINT NOT NULL CHECK (is_default IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )",
            "CREATE INDEX addresses_customer_idx ON addresses (customer_id)",
            "CREATE UNIQUE INDEX addresses_one_default_key ON addresses (customer_id) WHERE is_default = 1",
            "CREATE INDEX addresses_neighborhood_idx ON addresses (neighborhood_id)",
        ],
    },
    Migration {
        version: 13,
        name: "carts",
        statements: &[
            "CREATE TABLE carts (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT carts_store_user_key UNIQUE (store_id, user_id)
            )",
            "CREATE TABLE cart_items (
                cart_id TEXT NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
                product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
                quantity BIGINT NOT NULL CHECK (quantity > 0),
                unit_price BIGINT NOT NULL,
                tax_rate_bp BIGINT NOT NULL,
                added_at TEXT NOT NULL,
                PRIMARY KEY (cart_id, product_id)
            )",
        ],
    },
    Migration {
        version: 14,
        name: "orders",
        statements: &[
            "CREATE TABLE order_counters (
                store_id TEXT PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
                last_number BIGINT NOT NULL
            )",
            "CREATE TABLE orders (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                order_number TEXT NOT NULL,
                customer_id TEXT NOT NULL REFERENCES customers (id),
                user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
                status_id TEXT NOT NULL REFERENCES order_statuses (id),
                payment_method_id TEXT REFERENCES payment_methods (id),
                coupon_id TEXT REFERENCES coupons (id),
                currency TEXT NOT NULL,
                subtotal BIGINT NOT NULL,
                discount BIGINT NOT NULL,
                tax BIGINT NOT NULL,
                shipping BIGINT NOT NULL,
                total BIGINT NOT NULL,
                ship_street TEXT NOT NULL,
                ship_number TEXT NOT NULL,
                ship_neighborhood TEXT NOT NULL,
                ship_city TEXT NOT NULL,
                ship_zip_code TEXT,
                ship_details TEXT,
                ship_recipient TEXT NOT NULL,
                ship_phone TEXT,
                notes TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT orders_number_key UNIQUE (store_id, order_number)
            )",
            "CREATE INDEX orders_store_created_idx ON orders (store_id, created_at)",
            "CREATE INDEX orders_customer_idx ON orders (customer_id)",
            "CREATE INDEX orders_user_idx ON orders (user_id)",
            "CREATE TABLE order_items (
                id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
                position BIGINT NOT NULL,
                product_id TEXT NOT NULL,
                product_name TEXT NOT NULL,
                unit_price BIGINT NOT NULL,
                quantity BIGINT NOT NULL,
                tax_rate_bp BIGINT NOT NULL,
                net BIGINT NOT NULL,
                discount BIGINT NOT NULL,
                tax BIGINT NOT NULL
            )",
            "CREATE INDEX order_items_order_idx ON order_items (order_id)",
            "CREATE TABLE order_status_history (
                id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
                status_id TEXT NOT NULL REFERENCES order_statuses (id),
                changed_by TEXT,
                note TEXT,
                changed_at TEXT NOT NULL
            )",
            "CREATE INDEX order_status_history_order_idx ON order_status_history (order_id)",
        ],
    },
    Migration {
        version: 15,
        name: "coupon_uses_counted_from_orders",
        statements: &["CREATE INDEX orders_coupon_idx ON orders (coupon_id)", "ALTER TABLE coupons DROP COLUMN used_count"],
    },
    Migration {
        version: 16,
        name: "payments",
        statements: &[
            // One row per attempt to pay an order; its status is the provider's latest, mapped.
            "CREATE TABLE payments (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
                provider TEXT NOT NULL,
                amount BIGINT NOT NULL,
                currency TEXT NOT NULL,
                status TEXT NOT NULL,
                status_detail TEXT,
                provider_payment_id TEXT,
                preference_id TEXT,
                external_reference TEXT NOT NULL,
                amount_mismatch BIGINT NOT NULL DEFAULT 0 CHECK (amount_mismatch IN (0, 1)),
                provider_data TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT payments_provider_payment_key UNIQUE (provider, provider_payment_id)
            )",
            "CREATE INDEX payments_order_idx ON payments (order_id)",
            "CREATE INDEX payments_store_created_idx ON payments (store_id, created_at)",
            "CREATE INDEX payments_preference_idx ON payments (preference_id)",
            // Append-only: what happened to a payment's money. `event_key` makes applying the same
            // provider event twice a no-op.
            "CREATE TABLE payment_events (
                id TEXT PRIMARY KEY,
                payment_id TEXT NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                amount BIGINT NOT NULL,
                event_key TEXT NOT NULL,
                source TEXT NOT NULL,
                note TEXT,
                created_at TEXT NOT NULL,
                CONSTRAINT payment_events_key UNIQUE (payment_id, event_key)
            )",
            // Every provider webhook as received, stored before it is processed.
            "CREATE TABLE webhook_logs (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                event_type TEXT,
                resource_id TEXT,
                format TEXT NOT NULL,
                headers TEXT NOT NULL,
                query TEXT NOT NULL,
                body TEXT NOT NULL,
                ip TEXT,
                user_agent TEXT,
                signature_valid BIGINT NOT NULL CHECK (signature_valid IN (0, 1)),
                processed BIGINT NOT NULL DEFAULT 0 CHECK (processed IN (0, 1)),
                outcome TEXT,
                duplicate_of TEXT,
                created_at TEXT NOT NULL,
                processed_at TEXT
            )",
            "CREATE INDEX webhook_logs_store_created_idx ON webhook_logs (store_id, created_at)",
            "CREATE INDEX webhook_logs_resource_idx ON webhook_logs (source, resource_id)",
        ],
    },
    Migration {
        version: 17,
        name: "idempotency_keys",
        statements: &[
            // A client's `Idempotency-Key` and the answer it got; `scope` is a digest of who
            // sent it, so two clients choosing the same key never see each other's answers.
            "CREATE TABLE idempotency_keys (
                scope TEXT NOT NULL,
                key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                state TEXT NOT NULL,
                status BIGINT,
                content_type TEXT,
                body TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (scope, key)
            )",
            "CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)",
        ],
    },
    Migration {
        version: 18,
        name: "order_buyer_snapshot",
        statements: &[
            // The buyer as they were at checkout: a later checkout with the same email, or an
            // edit of the customer, never rewrites an order's name, email or phone.
            "ALTER TABLE orders ADD COLUMN customer_name TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE orders ADD COLUMN customer_email TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE orders ADD COLUMN customer_phone TEXT",
            "UPDATE orders SET
                customer_name = COALESCE((SELECT c.name FROM customers c WHERE c.id = orders.customer_id), ''),
                customer_email = COALESCE((SELECT c.email FROM customers c WHERE c.id = orders.customer_id), ''),
                customer_phone = (SELECT c.phone FROM customers c WHERE c.id = orders.customer_id)",
        ],
    },
    Migration {
        version: 19,
        name: "order_stock_returned",
        statements: &[
            // Whether a cancelled order's stock is back on the shelf: it moves once each way,
            // however the workflow goes in and out of CANCELLED.
            "ALTER TABLE orders ADD COLUMN stock_returned BIGINT NOT NULL DEFAULT 0 CHECK (stock_returned IN (0, 1))",
            "UPDATE orders SET stock_returned = 1 WHERE status_id IN (SELECT id FROM order_statuses WHERE code = 'CANCELLED')",
            // Money approved for an order already cancelled or refunded: the owner must give it back.
            "ALTER TABLE payments ADD COLUMN needs_refund BIGINT NOT NULL DEFAULT 0 CHECK (needs_refund IN (0, 1))",
        ],
    },
    Migration {
        version: 20,
        name: "user_token_version",
        statements: &[
            // Carried by access tokens: raised on logout, a password change or reset and a role
            // change, so every token issued before stops working at once.
            "ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0",
        ],
    },
    Migration {
        version: 21,
        name: "store_members_and_api_keys",
        statements: &[
            "CREATE TABLE store_members (
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'staff')),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT store_members_pkey PRIMARY KEY (store_id, user_id)
            )",
            "CREATE INDEX store_members_user ON store_members (user_id)",
            // Whoever opened a store owns it.
            "INSERT INTO store_members (store_id, user_id, role, created_at, updated_at)
             SELECT id, owner_id, 'owner', created_at, updated_at FROM stores WHERE owner_id IS NOT NULL",
            // Only the SHA-256 of a key is kept; `prefix` (its first characters) tells keys apart.
            "CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                prefix TEXT NOT NULL,
                key_hash TEXT NOT NULL,
                scopes TEXT NOT NULL,
                created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
                expires_at TEXT,
                revoked_at TEXT,
                last_used_at TEXT,
                created_at TEXT NOT NULL,
                CONSTRAINT api_keys_hash_key UNIQUE (key_hash)
            )",
            "CREATE INDEX api_keys_store ON api_keys (store_id, created_at)",
        ],
    },
    Migration {
        version: 22,
        name: "audit_log",
        statements: &[
            // Every write by a store's members, its keys and the platform admin. `store_id` is
            // null for platform actions (users, jobs). Snapshots are JSON with secrets redacted.
            "CREATE TABLE audit_log (
                id TEXT PRIMARY KEY,
                store_id TEXT REFERENCES stores (id) ON DELETE CASCADE,
                actor_type TEXT NOT NULL CHECK (actor_type IN ('user', 'key')),
                actor_id TEXT NOT NULL,
                action TEXT NOT NULL,
                resource TEXT NOT NULL,
                resource_id TEXT,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                status BIGINT NOT NULL,
                before_data TEXT,
                after_data TEXT,
                request_id TEXT NOT NULL,
                ip TEXT NOT NULL,
                created_at TEXT NOT NULL
            )",
            "CREATE INDEX audit_log_store_time ON audit_log (store_id, created_at)",
            "CREATE INDEX audit_log_time ON audit_log (created_at)",
        ],
    },
    Migration {
        version: 23,
        name: "agent checkout sessions",
        statements: &[
            // A checkout an agent builds (UCP): the session as last priced, kept whole as JSON
            // (its lines, buyer, destination, totals and messages are only ever read together).
            "CREATE TABLE checkout_sessions (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                status TEXT NOT NULL,
                data TEXT NOT NULL,
                order_id TEXT REFERENCES orders (id),
                expires_at TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )",
            "CREATE INDEX checkout_sessions_expiry ON checkout_sessions (status, expires_at)",
        ],
    },
    Migration {
        version: 24,
        name: "oauth for remote MCP hosts",
        statements: &[
            // Clients of feria's authorization server: registered (`dcr_…`) or client id
            // metadata documents (the id is their HTTPS URL), cached.
            "CREATE TABLE oauth_clients (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                redirect_uris TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('registered', 'metadata_document')),
                created_at TEXT NOT NULL,
                fetched_at TEXT NOT NULL
            )",
            // A grant is an API key of the store created by the user who consented, bound to
            // the client: it shows in the store's key list and is revoked there.
            "ALTER TABLE api_keys ADD COLUMN oauth_client_id TEXT",
            "CREATE INDEX api_keys_oauth_client ON api_keys (oauth_client_id, created_by, store_id)",
            "CREATE TABLE oauth_codes (
                code_hash TEXT PRIMARY KEY,
                client_id TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
                resource TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                code_challenge TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT
            )",
            // Access and refresh tokens of a grant (hashed); a refresh token rotated out keeps
            // its row so that presenting it again revokes the grant.
            "CREATE TABLE oauth_tokens (
                token_hash TEXT PRIMARY KEY,
                key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
                resource TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                rotated_at TEXT,
                created_at TEXT NOT NULL
            )",
            "CREATE INDEX oauth_tokens_key ON oauth_tokens (key_id)",
            // Who is signed in on the consent page (a cookie holds the id).
            "CREATE TABLE oauth_logins (
                id_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                expires_at TEXT NOT NULL
            )",
        ],
    },
    Migration {
        version: 25,
        name: "language model usage",
        statements: &[
            // Every call to a language model: who asked, for which store, and the tokens it
            // cost (what the assistant's usage and budget reports are read from).
            "CREATE TABLE llm_usage (
                id TEXT PRIMARY KEY,
                store_id TEXT REFERENCES stores (id) ON DELETE CASCADE,
                actor_type TEXT NOT NULL,
                actor_id TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                mode TEXT NOT NULL,
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                status BIGINT NOT NULL,
                created_at TEXT NOT NULL
            )",
            "CREATE INDEX llm_usage_store_time ON llm_usage (store_id, created_at)",
        ],
    },
    Migration {
        version: 26,
        name: "agent orders and shipping rates",
        statements: &[
            // Every status change asks whether an agent placed the order (to push it to the
            // agent's platform).
            "CREATE INDEX checkout_sessions_order ON checkout_sessions (order_id)",
            // How a store ships: per service level, a rate for one country (ISO 3166-1
            // alpha-2) replaces the level's default rate (country NULL); free from a subtotal.
            "CREATE TABLE shipping_rates (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                code TEXT NOT NULL,
                title TEXT NOT NULL,
                country TEXT,
                service_level TEXT NOT NULL,
                price BIGINT NOT NULL CHECK (price >= 0),
                free_from BIGINT CHECK (free_from >= 0),
                is_active BIGINT NOT NULL CHECK (is_active IN (0, 1)),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT shipping_rates_code_key UNIQUE (store_id, code)
            )",
        ],
    },
    Migration {
        version: 27,
        name: "store policies",
        statements: &[
            // What a store tells its buyers about shipping, returns, payments and its hours, as
            // the owner wrote it (agents and the assistant read it).
            "CREATE TABLE store_policies (
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('shipping', 'returns', 'payments', 'hours')),
                body TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (store_id, kind)
            )",
        ],
    },
    Migration {
        version: 28,
        name: "shopping assistant",
        statements: &[
            // A store's choice of model, keys of its own (sealed JSON, provider → key) and the
            // monthly spend after which its assistant answers keyless (millionths of a dollar).
            "CREATE TABLE assistant_settings (
                store_id TEXT PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
                provider TEXT,
                model TEXT,
                temperature_hundredths BIGINT CHECK (temperature_hundredths BETWEEN 0 AND 200),
                max_tokens BIGINT CHECK (max_tokens > 0),
                sealed_keys TEXT,
                monthly_budget_micros BIGINT CHECK (monthly_budget_micros >= 0),
                updated_at TEXT NOT NULL
            )",
            // A conversation with the assistant. `caller_id` is the user or key that opened it
            // (NULL: a visitor, who holds the unguessable id); it expires after its last message.
            "CREATE TABLE chat_sessions (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                caller_id TEXT,
                user_type TEXT NOT NULL CHECK (user_type IN ('customer', 'owner')),
                metadata TEXT NOT NULL,
                message_count BIGINT NOT NULL,
                created_at TEXT NOT NULL,
                last_activity TEXT NOT NULL,
                expires_at TEXT NOT NULL
            )",
            "CREATE INDEX chat_sessions_store_activity ON chat_sessions (store_id, last_activity)",
            "CREATE TABLE chat_messages (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
                position BIGINT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
                content TEXT NOT NULL,
                sources TEXT NOT NULL,
                created_at TEXT NOT NULL,
                CONSTRAINT chat_messages_position_key UNIQUE (session_id, position)
            )",
            // A product's embedding (little-endian f32, base64) for the text it was made from.
            "CREATE TABLE product_embeddings (
                product_id TEXT PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                model TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                vector TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )",
            "CREATE INDEX product_embeddings_store ON product_embeddings (store_id)",
            // What each call cost and how it went, for the usage report and the budget.
            "ALTER TABLE llm_usage ADD COLUMN cached_input_tokens BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE llm_usage ADD COLUMN latency_ms BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE llm_usage ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE llm_usage ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok'",
        ],
    },
    Migration {
        version: 29,
        name: "expired assistant sessions are swept",
        statements: &["CREATE INDEX chat_sessions_expires ON chat_sessions (expires_at)"],
    },
    Migration {
        version: 30,
        name: "notification hub",
        statements: &[
            // Something happened that people may need to hear about. `dedupe_key` makes emitting
            // the same fact twice a no-op; `data` is JSON, sealed with ENCRYPTION_KEY when it
            // carries a secret (a password-reset link). `fanned_out_at`: recipients were resolved.
            "CREATE TABLE notification_events (
                id TEXT PRIMARY KEY,
                store_id TEXT REFERENCES stores (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                dedupe_key TEXT NOT NULL,
                data TEXT NOT NULL,
                sealed BIGINT NOT NULL CHECK (sealed IN (0, 1)),
                created_at TEXT NOT NULL,
                fanned_out_at TEXT,
                CONSTRAINT notification_events_dedupe_key UNIQUE (dedupe_key)
            )",
            // One event told to one recipient (`user:<id>`, `email:<address>` for a guest, `shop`
            // for the shop's own email and chat), with its in-app text. `voice`: the wording
            // (customer, staff); `in_inbox`: shown in the user's inbox.
            "CREATE TABLE notifications (
                id TEXT PRIMARY KEY,
                event_id TEXT NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
                store_id TEXT REFERENCES stores (id) ON DELETE CASCADE,
                recipient_key TEXT NOT NULL,
                user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
                recipient_name TEXT NOT NULL,
                voice TEXT NOT NULL,
                kind TEXT NOT NULL,
                category TEXT NOT NULL,
                locale TEXT NOT NULL,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                link TEXT,
                in_inbox BIGINT NOT NULL CHECK (in_inbox IN (0, 1)),
                read_at TEXT,
                archived_at TEXT,
                created_at TEXT NOT NULL,
                CONSTRAINT notifications_recipient_key UNIQUE (event_id, recipient_key)
            )",
            "CREATE INDEX notifications_inbox ON notifications (user_id, in_inbox, created_at)",
            // A notification on one channel. `status_rank` only grows (a late "sent" never
            // undoes "delivered"); `next_channels` are tried, in order, if this one fails.
            "CREATE TABLE notification_messages (
                id TEXT PRIMARY KEY,
                notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
                store_id TEXT REFERENCES stores (id) ON DELETE CASCADE,
                channel TEXT NOT NULL,
                address TEXT NOT NULL,
                next_channels TEXT NOT NULL,
                status TEXT NOT NULL,
                status_rank BIGINT NOT NULL,
                attempts BIGINT NOT NULL,
                provider TEXT,
                provider_message_id TEXT,
                error_code TEXT,
                error TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT notification_messages_channel_key UNIQUE (notification_id, channel)
            )",
            "CREATE INDEX notification_messages_store ON notification_messages (store_id, created_at)",
            "CREATE INDEX notification_messages_provider_id ON notification_messages (provider_message_id)",
            // Every try of a message with a provider, as it went.
            "CREATE TABLE notification_attempts (
                id TEXT PRIMARY KEY,
                message_id TEXT NOT NULL REFERENCES notification_messages (id) ON DELETE CASCADE,
                provider TEXT NOT NULL,
                outcome TEXT NOT NULL,
                detail TEXT,
                created_at TEXT NOT NULL
            )",
            "CREATE INDEX notification_attempts_message ON notification_attempts (message_id)",
        ],
    },
    Migration {
        version: 31,
        name: "notification preferences",
        statements: &[
            // A person's choice for one category on one channel; absent: feria's default.
            "CREATE TABLE notification_preferences (
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                category TEXT NOT NULL,
                channel TEXT NOT NULL,
                enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
                updated_at TEXT NOT NULL,
                CONSTRAINT notification_preferences_pkey PRIMARY KEY (user_id, category, channel)
            )",
            // How a person is reached: language, time zone (IANA), quiet hours (minutes from
            // local midnight) and the phone for text messages.
            "CREATE TABLE notification_settings (
                user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                locale TEXT,
                timezone TEXT,
                quiet_start BIGINT CHECK (quiet_start BETWEEN 0 AND 1439),
                quiet_end BIGINT CHECK (quiet_end BETWEEN 0 AND 1439),
                phone TEXT,
                updated_at TEXT NOT NULL
            )",
            // Addresses without an account that asked not to get a category by email (the
            // unsubscribe link), or that bounced or complained.
            "CREATE TABLE notification_suppressions (
                address TEXT NOT NULL,
                category TEXT NOT NULL,
                reason TEXT NOT NULL,
                created_at TEXT NOT NULL,
                CONSTRAINT notification_suppressions_pkey PRIMARY KEY (address, category)
            )",
        ],
    },
    Migration {
        version: 32,
        name: "notification devices",
        statements: &[
            // Where a person's pushes go: an app's FCM registration token, or a browser's web push
            // subscription (endpoint and keys). One row per token or endpoint: registering it
            // again, even by someone else, moves it.
            "CREATE TABLE notification_devices (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('fcm', 'web_push')),
                address TEXT NOT NULL,
                p256dh TEXT,
                auth TEXT,
                name TEXT,
                created_at TEXT NOT NULL,
                last_used_at TEXT,
                CONSTRAINT notification_devices_address_key UNIQUE (kind, address)
            )",
            "CREATE INDEX notification_devices_user ON notification_devices (user_id, kind)",
        ],
    },
    Migration {
        version: 33,
        name: "broadcasts",
        statements: &[
            // An announcement or an emergency message to an audience of a store (or, by the
            // platform's admin, of every user), sent now or at `send_at`. Its event carries the
            // text; its notifications and messages are the per-recipient report.
            "CREATE TABLE notification_broadcasts (
                id TEXT PRIMARY KEY,
                store_id TEXT REFERENCES stores (id) ON DELETE CASCADE,
                created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
                kind TEXT NOT NULL CHECK (kind IN ('announcement', 'emergency')),
                audience TEXT NOT NULL CHECK (audience IN ('customers', 'staff', 'owners', 'everyone')),
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                send_at TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
                event_id TEXT NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )",
            "CREATE INDEX notification_broadcasts_store ON notification_broadcasts (store_id, created_at)",
        ],
    },
    Migration {
        version: 34,
        name: "store notification templates",
        statements: &[
            // A store's own wording of one event for one channel, audience and language: the
            // channel's blocks (title/body, subject/html/text, sms, telegram), checked when saved.
            "CREATE TABLE notification_templates (
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                voice TEXT NOT NULL CHECK (voice IN ('customer', 'staff')),
                channel TEXT NOT NULL,
                locale TEXT NOT NULL,
                source TEXT NOT NULL,
                updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT notification_templates_pkey PRIMARY KEY (store_id, kind, voice, channel, locale)
            )",
        ],
    },
    Migration {
        version: 35,
        name: "notification workflow settings and digests",
        statements: &[
            // A store's settings of one step of an event's workflow: on or off, its channels in
            // order (JSON), a digest window, conditions (a minimum order total in minor units;
            // the status codes a status change must reach, JSON).
            "CREATE TABLE notification_workflows (
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                step TEXT NOT NULL,
                enabled BIGINT NOT NULL CHECK (enabled IN (0, 1)),
                channels TEXT NOT NULL,
                digest_minutes BIGINT NOT NULL CHECK (digest_minutes >= 0),
                min_total BIGINT,
                statuses TEXT,
                updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT notification_workflows_pkey PRIMARY KEY (store_id, kind, step)
            )",
            // The events of one step gathered while its window is open: how many and their
            // orders' total. At `due_at` it closes into one event of its own (`event_id`).
            "CREATE TABLE notification_digests (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                step TEXT NOT NULL,
                events BIGINT NOT NULL,
                total BIGINT NOT NULL,
                opened_at TEXT NOT NULL,
                due_at TEXT NOT NULL,
                closed_at TEXT,
                event_id TEXT REFERENCES notification_events (id) ON DELETE SET NULL
            )",
            "CREATE UNIQUE INDEX notification_digests_open_key ON notification_digests (store_id, kind, step) WHERE closed_at IS NULL",
            // Who started an import (told when it finishes); none for an API key.
            "ALTER TABLE product_imports ADD COLUMN started_by TEXT REFERENCES users (id) ON DELETE SET NULL",
        ],
    },
    Migration {
        version: 36,
        name: "notification fan-out in chunks",
        statements: &[
            // How far a large audience's fan-out got: the last customer or user written. Each
            // chunk moves it on from where it found it, so a chunk written twice is refused.
            "ALTER TABLE notification_events ADD COLUMN fanout_cursor TEXT",
            // A store's customers one chunk after another.
            "CREATE INDEX customers_store_id_idx ON customers (store_id, id)",
        ],
    },
];

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// Applies every pending migration (at most up to `target` when given); returns the versions applied.
pub async fn migrate(db: &Db, target: Option<i64>) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query(CREATE_LEDGER).execute(db.writer()).await?;
    let mut applied_now = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| target.is_none_or(|t| m.version <= t)) {
        let mut tx = db.begin().await?;
        if db.backend() == Backend::Postgres {
            // Serialises concurrent migrators; released at commit.
            sqlx::query("SELECT pg_advisory_xact_lock(727274)").execute(&mut *tx).await?;
        }
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(migration.version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            tx.rollback().await?;
            continue;
        }
        for statement in migration.statements {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(feria_domain::time::to_db(feria_domain::time::now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version = migration.version, name = migration.name, "migration applied");
        applied_now.push(migration.version);
    }
    Ok(applied_now)
}

/// Versions not applied yet.
pub async fn pending(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query(CREATE_LEDGER).execute(db.writer()).await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations").fetch_all(db.reader()).await?;
    Ok(MIGRATIONS.iter().map(|m| m.version).filter(|v| !applied.contains(v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh_sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display()), 2).await.unwrap();
        (dir, db)
    }

    #[test]
    fn versions_are_strictly_increasing() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version);
        }
    }

    /// Every migration applies on top of the previous ones, and running again is a no-op.
    #[tokio::test]
    async fn each_step_applies_in_order_then_nothing_is_pending() {
        let (_dir, db) = fresh_sqlite().await;
        for m in MIGRATIONS {
            assert_eq!(migrate(&db, Some(m.version)).await.unwrap(), vec![m.version], "migration {}", m.name);
        }
        assert!(pending(&db).await.unwrap().is_empty());
        assert!(migrate(&db, None).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn named_unique_constraints_are_enforced() {
        let (_dir, db) = fresh_sqlite().await;
        migrate(&db, None).await.unwrap();
        let insert = "INSERT INTO users (id, name, email, password_hash, roles, created_at, updated_at) VALUES ($1, 'a', 'a@x.io', 'h', '[]', 't', 't')";
        sqlx::query(insert).bind("1").execute(db.writer()).await.unwrap();
        let err = sqlx::query(insert).bind("2").execute(db.writer()).await.unwrap_err();
        assert!(crate::is_unique_violation(&err), "{err}");
        assert_eq!(crate::unique_violation(&err), Some("users_email_key"));
        let store = "INSERT INTO stores (id, slug, name, currency, country, tax_inclusive, is_active, is_default, created_at, updated_at)
                     VALUES ($1, $2, 'S', 'ARS', 'AR', 1, 1, 0, 't', 't')";
        sqlx::query(store).bind("s1").bind("tienda").execute(db.writer()).await.unwrap();
        let err = sqlx::query(store).bind("s2").bind("tienda").execute(db.writer()).await.unwrap_err();
        assert_eq!(crate::unique_violation(&err), Some("stores_slug_key"));
    }
}

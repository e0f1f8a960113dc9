//! The shopping cart of a user in a store. Each line keeps the price and tax rate the product
//! had when it was first added; totals follow `feria_domain::pricing`.

use feria_db::{AnyConnection, Row};
use std::collections::HashMap;
use std::sync::Arc;

use feria_domain::pricing::{self, LineInput, Totals};
use feria_domain::{ids::new_id, time};

use crate::app::App;
use crate::services::catalog::products::{self, Product};
use crate::services::identity::caller::Caller;
use crate::services::identity::users;

/// A cart and its lines, oldest first.
#[derive(Debug, Clone)]
pub struct Cart {
    pub id: String,
    pub lines: Vec<CartLine>,
    pub created_at: String,
    pub updated_at: String,
}

/// One product in a cart.
#[derive(Debug, Clone)]
pub struct CartLine {
    pub product_id: String,
    pub quantity: i64,
    /// Net unit price when added, minor units.
    pub unit_price: i64,
    /// Hundredths of a percent.
    pub tax_rate_bp: i64,
}

/// Why a quantity cannot go in the cart.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("no such product in the store")]
    UnknownProduct,
    #[error("the product is not on sale")]
    Unavailable { name: String },
    #[error("not enough stock")]
    InsufficientStock { name: String, stock: i64 },
    #[error("more than {max} units of one product")]
    TooMany { max: i64 },
    #[error("the product is not in the cart")]
    NotInCart,
    #[error("the cart's total passes the maximum")]
    TooLarge,
    #[error("the cart's user no longer exists")]
    UnknownUser,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The caller's cart in the store, priced (reading never creates one).
pub async fn current(app: &App, caller: &Caller, store_id: &str) -> Result<PricedCart, CartError> {
    let cart = find(&mut *app.db.reader().acquire().await?, store_id, &caller.id).await?;
    priced(app, store_id, &caller.id, cart).await
}

/// Changes the quantity of `product_id` in the caller's cart in the store (created on first
/// use); answers the cart after it.
pub async fn update(app: &App, caller: &Caller, store_id: &str, product_id: &str, how: Change) -> Result<PricedCart, CartError> {
    let mut tx = app.db.begin().await?;
    let current = for_user(&mut tx, store_id, &caller.id).await?;
    change(&mut tx, store_id, &current, product_id, how).await?;
    let updated = for_user(&mut tx, store_id, &caller.id).await?;
    tx.commit().await?;
    priced(app, store_id, &caller.id, Some(updated)).await
}

/// Removes `product_id`, which must be in the caller's cart; answers the cart after it.
pub async fn remove(app: &App, caller: &Caller, store_id: &str, product_id: &str) -> Result<PricedCart, CartError> {
    let mut tx = app.db.begin().await?;
    let current = for_user(&mut tx, store_id, &caller.id).await?;
    if !current.lines.iter().any(|l| l.product_id == product_id) {
        return Err(CartError::NotInCart);
    }
    change(&mut tx, store_id, &current, product_id, Change::Set(0)).await?;
    let updated = for_user(&mut tx, store_id, &caller.id).await?;
    tx.commit().await?;
    priced(app, store_id, &caller.id, Some(updated)).await
}

/// Empties the caller's cart in the store; answers its id.
pub async fn empty(app: &App, caller: &Caller, store_id: &str) -> Result<String, CartError> {
    let mut tx = app.db.begin().await?;
    let current = for_user(&mut tx, store_id, &caller.id).await?;
    sqlx::query("DELETE FROM cart_items WHERE cart_id = $1").bind(&current.id).execute(&mut *tx).await?;
    touch(&mut tx, &current.id).await?;
    tx.commit().await?;
    Ok(current.id)
}

/// A cart with its products as they are now and its totals at the prices of when each line
/// was added. Lines of products no longer in the store are left out.
pub struct PricedCart {
    /// `None` until the user first puts something in it.
    pub id: Option<String>,
    pub owner: users::User,
    pub lines: Vec<PricedLine>,
    pub totals: Totals,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// One priced line.
pub struct PricedLine {
    pub product: Arc<Product>,
    pub line: CartLine,
    /// Net × quantity plus its tax.
    pub total: i64,
}

async fn priced(app: &App, store_id: &str, user_id: &str, cart: Option<Cart>) -> Result<PricedCart, CartError> {
    let (id, cart_lines, created_at, updated_at) = match cart {
        Some(c) => (Some(c.id), c.lines, Some(c.created_at), Some(c.updated_at)),
        None => (None, Vec::new(), None, None),
    };
    let owner = users::find_by_id(&mut *app.db.reader().acquire().await?, user_id).await?.ok_or(CartError::UnknownUser)?;
    let ids: Vec<String> = cart_lines.iter().map(|l| l.product_id.clone()).collect();
    let mut found: HashMap<String, Arc<Product>> =
        app.catalog_cache.products(&app.db, store_id, &ids).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
    let kept: Vec<(Arc<Product>, CartLine)> = cart_lines.into_iter().filter_map(|l| Some((found.remove(&l.product_id)?, l))).collect();
    let inputs: Vec<LineInput> =
        kept.iter().map(|(_, l)| LineInput { unit_price: l.unit_price, quantity: l.quantity, tax_rate_bp: l.tax_rate_bp }).collect();
    let totals = pricing::totals(&inputs, None, 0).map_err(|_| CartError::TooLarge)?;
    let lines = kept
        .into_iter()
        .zip(&totals.lines)
        .map(|((product, line), amounts)| PricedLine { product, line, total: amounts.total() })
        .collect();
    Ok(PricedCart { id, owner, lines, totals, created_at, updated_at })
}

/// The user's cart in the store, created empty the first time (two first requests agree).
async fn for_user(conn: &mut AnyConnection, store_id: &str, user_id: &str) -> Result<Cart, sqlx::Error> {
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO carts (id, store_id, user_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (store_id, user_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(store_id)
    .bind(user_id)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    find(conn, store_id, user_id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// The user's cart in the store, if they ever put something in it (reading never creates one).
async fn find(conn: &mut AnyConnection, store_id: &str, user_id: &str) -> Result<Option<Cart>, sqlx::Error> {
    let Some(row) = sqlx::query("SELECT id, created_at, updated_at FROM carts WHERE store_id = $1 AND user_id = $2")
        .bind(store_id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let id: String = row.try_get("id")?;
    let lines = sqlx::query(
        "SELECT product_id, quantity, unit_price, tax_rate_bp FROM cart_items WHERE cart_id = $1 ORDER BY added_at, product_id",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(CartLine {
            product_id: r.try_get("product_id")?,
            quantity: r.try_get("quantity")?,
            unit_price: r.try_get("unit_price")?,
            tax_rate_bp: r.try_get("tax_rate_bp")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some(Cart { id, lines, created_at: row.try_get("created_at")?, updated_at: row.try_get("updated_at")? }))
}

/// How a quantity changes.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Adds to what is there.
    Add(i64),
    /// Sets it; 0 removes the line.
    Set(i64),
}

/// Changes the quantity of `product_id` in `cart`, checking the product is on sale and has the
/// stock for the resulting quantity. A new line snapshots the current price and tax rate.
async fn change(conn: &mut AnyConnection, store_id: &str, cart: &Cart, product_id: &str, change: Change) -> Result<(), CartError> {
    let existing = cart.lines.iter().find(|l| l.product_id == product_id).map(|l| l.quantity);
    let quantity = match change {
        Change::Add(n) => existing.unwrap_or(0).saturating_add(n),
        Change::Set(n) => n,
    };
    if !(0..=pricing::MAX_QUANTITY).contains(&quantity) {
        return Err(CartError::TooMany { max: pricing::MAX_QUANTITY });
    }
    if quantity == 0 {
        sqlx::query("DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2")
            .bind(&cart.id)
            .bind(product_id)
            .execute(&mut *conn)
            .await?;
    } else {
        let product =
            products::find_many(conn, store_id, &[product_id.to_string()]).await?.into_iter().next().ok_or(CartError::UnknownProduct)?;
        if !product.is_active {
            return Err(CartError::Unavailable { name: product.name });
        }
        if quantity > product.stock {
            return Err(CartError::InsufficientStock { name: product.name, stock: product.stock });
        }
        sqlx::query(
            "INSERT INTO cart_items (cart_id, product_id, quantity, unit_price, tax_rate_bp, added_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity",
        )
        .bind(&cart.id)
        .bind(product_id)
        .bind(quantity)
        .bind(product.price)
        .bind(product.tax_rate_bp)
        .bind(time::to_db(time::now()))
        .execute(&mut *conn)
        .await?;
    }
    touch(conn, &cart.id).await
}

async fn touch(conn: &mut AnyConnection, cart_id: &str) -> Result<(), CartError> {
    sqlx::query("UPDATE carts SET updated_at = $1 WHERE id = $2").bind(time::to_db(time::now())).bind(cart_id).execute(conn).await?;
    Ok(())
}

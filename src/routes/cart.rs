//! `/api/cart` (seed 001 "Carrito"), also under `/api/stores/{slug}/…`: the logged-in user's
//! cart in the store. Every change answers the whole cart with its totals.

use axum::Json;
use axum::extract::State;
use feria_domain::money::add_tax;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::routes::products::ProductView;
use crate::services::cart::{self, Change, PricedCart};
use crate::services::catalog::stores::Store;
use crate::services::identity::caller::Caller;
use feria_domain::decimal::{DecimalOut, DecimalText};

/// The cart's owner (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct CartUser {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Vec<String>,
    pub img: Option<String>,
}

/// One product in the cart, priced as when it was added.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItemView {
    pub product: ProductView,
    pub quantity: i64,
    /// Net unit price when added.
    #[schema(value_type = f64)]
    pub price_at_time: DecimalOut,
    /// Percent, when added.
    #[schema(value_type = f64)]
    pub tax_rate: DecimalOut,
    #[schema(value_type = f64)]
    pub unit_price_with_tax: DecimalOut,
    /// Net × quantity plus its tax.
    #[schema(value_type = f64)]
    pub subtotal_with_tax: DecimalOut,
}

/// The cart with its totals (seed 001). A user who never added anything has an empty cart
/// without an id or dates yet.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    pub id: Option<String>,
    pub user_id: String,
    pub user: CartUser,
    pub items: Vec<CartItemView>,
    /// Units across every line.
    pub total_items: i64,
    #[schema(value_type = f64)]
    pub subtotal_without_tax: DecimalOut,
    #[schema(value_type = f64)]
    pub total_tax_amount: DecimalOut,
    #[schema(value_type = f64)]
    pub total: DecimalOut,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// `{productId, quantity}` to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddItem {
    pub product_id: Option<String>,
    /// A whole number ≥ 1.
    #[schema(value_type = Option<i64>)]
    pub quantity: Option<DecimalText>,
}

/// `{quantity}` to set; 0 removes the product.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetQuantity {
    /// A whole number ≥ 0.
    #[schema(value_type = Option<i64>)]
    pub quantity: Option<DecimalText>,
}

/// The emptied cart (seed 001).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmptyCart {
    pub id: String,
    pub items: Vec<CartItemView>,
    pub total_items: i64,
    #[schema(value_type = f64)]
    pub total: DecimalOut,
}

/// `{message, cart}` after emptying.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartCleared {
    pub message: String,
    pub cart: EmptyCart,
}

impl CartView {
    pub fn new(cart: PricedCart, store: &Store) -> CartView {
        let exponent = store.currency.exponent();
        let money = |v: i64| DecimalOut::scaled(v, exponent);
        let user = cart.owner;
        CartView {
            id: cart.id,
            user_id: user.id.clone(),
            user: CartUser { id: user.id, name: user.name, email: user.email, role: user.roles, img: user.img },
            total_items: cart.lines.iter().map(|l| l.line.quantity).sum(),
            items: cart
                .lines
                .iter()
                .map(|l| CartItemView {
                    product: ProductView::new(&l.product, store),
                    quantity: l.line.quantity,
                    price_at_time: money(l.line.unit_price),
                    tax_rate: DecimalOut::scaled(l.line.tax_rate_bp, 2),
                    unit_price_with_tax: money(add_tax(l.line.unit_price, l.line.tax_rate_bp)),
                    subtotal_with_tax: money(l.total),
                })
                .collect(),
            subtotal_without_tax: money(cart.totals.subtotal),
            total_tax_amount: money(cart.totals.tax),
            total: money(cart.totals.total),
            created_at: cart.created_at,
            updated_at: cart.updated_at,
        }
    }
}

/// The logged-in user's cart.
#[utoipa::path(get, path = "/cart", tag = "cart", security(("bearer" = [])),
    responses(
        (status = 200, description = "The cart", body = CartView),
    ))]
pub async fn get(State(app): State<AppState>, user: Caller, CurrentStore(store): CurrentStore) -> ApiResult<Json<CartView>> {
    Ok(Json(CartView::new(cart::current(&app, &user, &store.id).await?, &store)))
}

/// Adds a product, or more of it.
#[utoipa::path(post, path = "/cart/items", tag = "cart", security(("bearer" = [])), request_body = AddItem,
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such product in this store", body = ErrorBody),
        (status = 409, description = "Not enough stock, or not on sale", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn add(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<AddItem>,
) -> ApiResult<Json<CartView>> {
    let mut v = Validator::new();
    let product_id = v.text("productId", body.product_id.as_deref(), 1, 100);
    let quantity = v.quantity("quantity", body.quantity.as_ref(), 1).unwrap_or(0);
    v.finish()?;
    let updated = cart::update(&app, &user, &store.id, &product_id, Change::Add(quantity)).await?;
    Ok(Json(CartView::new(updated, &store)))
}

/// Sets the quantity of a product (0 removes it).
#[utoipa::path(put, path = "/cart/items/{id}", tag = "cart", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id")), request_body = SetQuantity,
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such product in this store", body = ErrorBody),
        (status = 409, description = "Not enough stock, or not on sale", body = ErrorBody),
        (status = 422, description = "Invalid quantity", body = ErrorBody),
    ))]
pub async fn set(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    IdParam(product_id): IdParam,
    ApiJson(body): ApiJson<SetQuantity>,
) -> ApiResult<Json<CartView>> {
    let mut v = Validator::new();
    let quantity = v.quantity("quantity", body.quantity.as_ref(), 0).unwrap_or(0);
    v.finish()?;
    let updated = cart::update(&app, &user, &store.id, &product_id, Change::Set(quantity)).await?;
    Ok(Json(CartView::new(updated, &store)))
}

/// Removes a product from the cart.
#[utoipa::path(delete, path = "/cart/items/{id}", tag = "cart", security(("bearer" = [])),
    params(("id" = String, Path, description = "Product id")),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "The product is not in the cart", body = ErrorBody),
    ))]
pub async fn remove(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    IdParam(product_id): IdParam,
) -> ApiResult<Json<CartView>> {
    let updated = cart::remove(&app, &user, &store.id, &product_id).await?;
    Ok(Json(CartView::new(updated, &store)))
}

/// Empties the cart.
#[utoipa::path(delete, path = "/cart", tag = "cart", security(("bearer" = [])),
    responses(
        (status = 200, description = "Emptied", body = CartCleared),
    ))]
pub async fn clear(State(app): State<AppState>, user: Caller, CurrentStore(store): CurrentStore) -> ApiResult<Json<CartCleared>> {
    let id = cart::empty(&app, &user, &store.id).await?;
    Ok(Json(CartCleared {
        message: "Carrito vaciado".into(),
        cart: EmptyCart { id, items: Vec::new(), total_items: 0, total: DecimalOut::scaled(0, store.currency.exponent()) },
    }))
}

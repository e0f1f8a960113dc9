//! The signed-in shopper's cart: what the API's `/cart` routes show and do, for agents and the
//! assistant acting for that shopper.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{Access, Answer, Ctx, Hints, READ, Tool};
use crate::http::error::{ApiError, ApiResult, codes};
use crate::http::validate::Validator;
use crate::routes::cart::CartView;
use crate::services::cart::{self, Change};
use crate::services::identity::caller::Caller;

/// No input.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NoInput {}

fn shopper(ctx: &Ctx) -> ApiResult<&Caller> {
    ctx.caller
        .as_ref()
        .filter(|c| c.user_id().is_some())
        .ok_or_else(|| ApiError::unauthorized(codes::UNAUTHORIZED, "Iniciá sesión para usar tu carrito"))
}

pub struct ViewCart;

impl Tool for ViewCart {
    const NAME: &'static str = "view_cart";
    const TITLE: &'static str = "Mi carrito";
    const DESCRIPTION: &'static str =
        "El carrito de quien inició sesión en esta tienda: productos, cantidades, precios al agregarlos y totales con impuestos.";
    const ACCESS: Access = Access::SignedIn;
    const HINTS: Hints = READ;
    type Input = NoInput;
    type Output = CartView;

    async fn run(ctx: &Ctx, _input: NoInput) -> ApiResult<Answer<CartView>> {
        let current = cart::current(&ctx.app, shopper(ctx)?, &ctx.store.id).await?;
        Answer::of(&CartView::new(current, &ctx.store))
    }
}

/// A product and how many to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddInput {
    /// The product's id, as the catalog tools return it.
    pub product_id: String,
    /// Units to add, 1 by default.
    pub quantity: Option<i64>,
}

pub struct AddToCart;

impl Tool for AddToCart {
    const NAME: &'static str = "add_to_cart";
    const TITLE: &'static str = "Agregar al carrito";
    const DESCRIPTION: &'static str = "Agrega unidades de un producto (por id) al carrito de quien inició sesión; responde el carrito. Falla si no hay stock suficiente o el producto no está a la venta.";
    const ACCESS: Access = Access::SignedIn;
    const HINTS: Hints = Hints { read_only: false, destructive: false, idempotent: false };
    type Input = AddInput;
    type Output = CartView;

    async fn run(ctx: &Ctx, input: AddInput) -> ApiResult<Answer<CartView>> {
        let mut v = Validator::new();
        let product_id = v.text("productId", Some(&input.product_id), 1, 100);
        let quantity = input.quantity.unwrap_or(1);
        if !(1..=1000).contains(&quantity) {
            v.add("quantity", "Debe ser un entero entre 1 y 1000");
        }
        v.finish()?;
        let updated = cart::update(&ctx.app, shopper(ctx)?, &ctx.store.id, &product_id, Change::Add(quantity)).await?;
        Answer::of(&CartView::new(updated, &ctx.store))
    }
}

//! Placing an order, as a guest or a logged-in user.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{ClientIp, MaybeUser};
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::ApiJson;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::routes::customers::is_phone;
use crate::services::catalog::stores::Store;
use crate::services::identity::users;
use crate::services::orders::{self, Buyer, NewOrder, OrderError, ShippingAddress};
use crate::services::{addresses, customers, geography, order_notifications};

use super::{SaleItemRequest, SalePlaced, SaleView, lines, order_error};

/// A shipping address given with the order (seed 001), or by one of the store's neighborhoods.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRequest {
    pub street: Option<String>,
    pub number: Option<String>,
    /// A name; or send `neighborhoodId` instead of `neighborhood` and `city`.
    pub neighborhood: Option<String>,
    pub city: Option<String>,
    pub neighborhood_id: Option<String>,
    pub zip_code: Option<String>,
    pub details: Option<String>,
    /// Defaults to the customer's name.
    pub recipient_name: Option<String>,
    pub phone: Option<String>,
}

/// A guest's details.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerData {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// An order to place. A guest sends `customerData` and `shippingAddress`; a logged-in user
/// sends `selectedAddressId`, a `shippingAddress`, or nothing (their default address).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleRequest {
    pub items: Option<Vec<SaleItemRequest>>,
    pub coupon_code: Option<String>,
    pub payment_method_code: Option<String>,
    pub selected_address_id: Option<String>,
    pub shipping_address: Option<ShippingRequest>,
    pub customer_data: Option<CustomerData>,
    /// Up to 500 characters.
    pub notes: Option<String>,
}

/// The address snapshot from a `shippingAddress` (neighborhood and city by name or by id).
async fn shipping_from(
    conn: &mut feria_db::AnyConnection,
    v: &mut Validator,
    store: &Store,
    s: ShippingRequest,
    recipient: &str,
    phone: Option<String>,
) -> Result<ShippingAddress, sqlx::Error> {
    let street = v.text("shippingAddress.street", s.street.as_deref(), 2, 200);
    let number = v.text("shippingAddress.number", s.number.as_deref(), 1, 20);
    let (neighborhood, city) = match s.neighborhood_id.as_deref().map(str::trim) {
        Some(id) => match geography::find_neighborhood(conn, &store.id, id).await? {
            Some(n) => (n.name, n.city.name),
            None => {
                v.add("shippingAddress.neighborhoodId", "El barrio no existe en esta tienda");
                (String::new(), String::new())
            }
        },
        None => (
            v.text("shippingAddress.neighborhood", s.neighborhood.as_deref(), 2, 100),
            v.text("shippingAddress.city", s.city.as_deref(), 2, 100),
        ),
    };
    let phone = s.phone.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).or(phone);
    if phone.as_deref().is_some_and(|p| !is_phone(p)) {
        v.add("shippingAddress.phone", "No es un teléfono válido");
    }
    Ok(ShippingAddress {
        recipient: s.recipient_name.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).unwrap_or_else(|| recipient.to_string()),
        phone,
        street,
        number,
        neighborhood,
        city,
        zip_code: s.zip_code.map(|z| z.trim().to_string()).filter(|z| !z.is_empty()),
        details: s.details.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
    })
}

/// The snapshot of one of the user's saved addresses.
fn saved(a: addresses::Address) -> ShippingAddress {
    ShippingAddress {
        recipient: a.recipient_name,
        phone: Some(a.phone),
        street: a.street_address,
        number: String::new(),
        neighborhood: a.neighborhood.name,
        city: a.neighborhood.city.name,
        zip_code: a.postal_code,
        details: a.additional_info,
    }
}

/// Places an order (guests too).
#[utoipa::path(post, path = "/sales", tag = "sales", request_body = SaleRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    responses(
        (status = 201, description = "Placed", body = SalePlaced),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 409, description = "Not enough stock, a product not on sale, or a coupon that cannot be used", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown product, address, coupon or payment method", body = ErrorBody),
        (status = 429, description = "Too many guest orders from this address (`ORDER_RATE_LIMIT_*`)", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    ClientIp(ip): ClientIp,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<SaleRequest>,
) -> ApiResult<(StatusCode, Json<SalePlaced>)> {
    if user.is_none() {
        // A guest's order holds stock until it is paid or expires: one address may not hoard it.
        app.rate_limiter.spend("guest-order", &ip, app.config.limits.guest_orders).await?;
    }
    let mut v = Validator::new();
    let lines = lines(&mut v, body.items, store.currency.exponent());
    let notes = v.optional_text("notes", body.notes.as_deref(), 0, 500).filter(|n| !n.is_empty());
    // Everything that only reads happens before the write transaction (on SQLite it holds the
    // single writer).
    let mut conn = app.db.reader().acquire().await?;
    let (buyer, shipping) = match &user {
        Some(user) => {
            let customer = customers::find(&mut conn, &store.id, customers::Lookup::User(&user.id)).await?;
            let (name, phone) = match &customer {
                Some(c) => (c.name.clone(), c.phone.clone()),
                None => (users::find_by_id(&mut conn, &user.id).await?.map(|u| u.name).unwrap_or_default(), None),
            };
            let customer_id = customer.map(|c| c.id).unwrap_or_default();
            let shipping = match (body.selected_address_id.as_deref(), body.shipping_address) {
                (Some(id), _) => match addresses::find(&mut conn, &store.id, &customer_id, id).await? {
                    Some(address) => Some(saved(address)),
                    None => {
                        v.add("selectedAddressId", "No es una de tus direcciones");
                        None
                    }
                },
                (None, Some(s)) => Some(shipping_from(&mut conn, &mut v, &store, s, &name, phone).await?),
                (None, None) => match addresses::find_default(&mut conn, &store.id, &customer_id).await? {
                    Some(address) => Some(saved(address)),
                    None => {
                        v.add("shippingAddress", "Es obligatoria: no tenés una dirección guardada");
                        None
                    }
                },
            };
            (Buyer::User(user.id.clone()), shipping)
        }
        None => {
            if body.selected_address_id.is_some() {
                return Err(ApiError::unauthorized(codes::UNAUTHORIZED, "Iniciá sesión para usar una dirección guardada"));
            }
            let data = body.customer_data.unwrap_or(CustomerData { name: None, email: None, phone: None });
            let name = v.text("customerData.name", data.name.as_deref(), 2, 100);
            let email = v.email("customerData.email", data.email.as_deref());
            let phone = data.phone.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
            if phone.as_deref().is_some_and(|p| !is_phone(p)) {
                v.add("customerData.phone", "No es un teléfono válido");
            }
            let shipping = match body.shipping_address {
                Some(s) => Some(shipping_from(&mut conn, &mut v, &store, s, &name, phone.clone()).await?),
                None => {
                    v.add("shippingAddress", "Es obligatoria");
                    None
                }
            };
            (Buyer::Guest(customers::Guest { name, email, phone }), shipping)
        }
    };
    v.finish()?;
    let new = NewOrder {
        buyer,
        lines,
        shipping: shipping.ok_or_else(|| ApiError::internal("shipping address missing after validation"))?,
        coupon_code: body.coupon_code.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
        payment_method_code: body.payment_method_code.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
        notes,
    };
    let quote = orders::quote(&mut conn, &store, &new).await.map_err(order_error)?;
    drop(conn);
    let (shop, writer) = (store.clone(), app.clone());
    let (placed, queued) = app
        .db
        .write(Box::new(move |conn| {
            Box::pin(async move {
                let placed = orders::place(conn, &shop, new, quote).await?;
                let queued = order_notifications::order_placed(conn, &writer, &shop, &placed.order).await?;
                Ok::<_, OrderError>((placed, queued))
            })
        }))
        .await
        .map_err(order_error)?;
    if queued {
        app.job_wake.notify_one();
    }
    app.stock_changed(&placed.products);
    Ok((StatusCode::CREATED, Json(SalePlaced { order: SaleView::new(placed.order, &store), warnings: placed.warnings })))
}

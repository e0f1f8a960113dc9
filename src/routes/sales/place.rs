//! Placing an order, as a guest or a logged-in user.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{ClientIp, MaybeUser};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::http::validate::is_phone;
use crate::services::catalog::stores::Store;
use crate::services::checkout::{self, Checkout, Delivery, GivenAddress, Place};
use crate::services::customers;
use crate::services::shipping_rates::ShippingChoice;

use super::{SaleItemRequest, SalePlaced, SaleView, lines};

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
    /// The code of one of the store's shipping rates (`GET /shipping-rates/quote`), charged at
    /// the store's price for its country; without it no shipping is charged.
    pub shipping_option: Option<String>,
}

/// The validated texts of a `shippingAddress` (neighborhood and city by name or by id).
fn given_address(v: &mut Validator, s: ShippingRequest) -> GivenAddress {
    let street = v.text("shippingAddress.street", s.street.as_deref(), 2, 200);
    let number = v.text("shippingAddress.number", s.number.as_deref(), 1, 20);
    let place = match s.neighborhood_id.map(|id| id.trim().to_string()) {
        Some(id) => Place::Neighborhood(id),
        None => Place::Named {
            neighborhood: v.text("shippingAddress.neighborhood", s.neighborhood.as_deref(), 2, 100),
            city: v.text("shippingAddress.city", s.city.as_deref(), 2, 100),
        },
    };
    GivenAddress {
        street,
        number,
        place,
        zip_code: filled(s.zip_code),
        details: filled(s.details),
        recipient: filled(s.recipient_name),
        phone: phone(v, "shippingAddress.phone", s.phone),
    }
}

/// A trimmed text, `None` when blank.
fn filled(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// An optional phone number, checked.
fn phone(v: &mut Validator, field: &str, phone: Option<String>) -> Option<String> {
    let phone = filled(phone);
    if phone.as_deref().is_some_and(|p| !is_phone(p)) {
        v.add(field, "No es un teléfono válido");
    }
    phone
}

/// The validated checkout of a request; a guest's details only when `guest`.
fn checkout(body: SaleRequest, store: &Store, guest: bool) -> ApiResult<Checkout> {
    let mut v = Validator::new();
    let lines = lines(&mut v, body.items, store.currency.exponent());
    let notes = v.optional_text("notes", body.notes.as_deref(), 0, 500).filter(|n| !n.is_empty());
    // A guest asking for a saved address is told to sign in, whatever else they sent.
    let guest = (guest && body.selected_address_id.is_none()).then(|| {
        let data = body.customer_data.unwrap_or(CustomerData { name: None, email: None, phone: None });
        let name = v.text("customerData.name", data.name.as_deref(), 2, 100);
        let email = v.email("customerData.email", data.email.as_deref());
        customers::Guest { name, email, phone: phone(&mut v, "customerData.phone", data.phone) }
    });
    let delivery = match (body.selected_address_id, body.shipping_address) {
        (Some(id), _) => Delivery::Saved(id),
        (None, Some(given)) => Delivery::Given(given_address(&mut v, given)),
        (None, None) => {
            if guest.is_some() {
                v.add("shippingAddress", "Es obligatoria");
            }
            Delivery::Default
        }
    };
    v.finish()?;
    Ok(Checkout {
        lines,
        delivery,
        guest,
        coupon_code: filled(body.coupon_code),
        payment_method_code: filled(body.payment_method_code),
        notes,
        shipping_option: filled(body.shipping_option)
            .map(|code| ShippingChoice { code: code.to_lowercase(), country: Some(store.country.clone()) }),
    })
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
    let checkout = checkout(body, &store, user.is_none())?;
    let placed = app.settle(checkout::place_order(&app, user.as_ref(), &store, checkout).await?).await;
    Ok((StatusCode::CREATED, Json(SalePlaced { order: SaleView::new(placed.order, &store), warnings: placed.warnings })))
}

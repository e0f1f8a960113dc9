//! Editing an order while the workflow allows it.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AnyCaller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::http::validate::is_phone;
use crate::services::order_edits::{self, OrderChanges, ShippingChanges};

use super::{SaleItemRequest, SalePlaced, SaleView, lines};

/// Changes to the order's shipping snapshot; each field sent replaces the current one, and an
/// empty `recipientPhone`, `zipCode` or `details` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingDetailsRequest {
    pub recipient_name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub recipient_phone: Option<Option<String>>,
    pub street: Option<String>,
    pub number: Option<String>,
    pub neighborhood: Option<String>,
    pub city: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub zip_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub details: Option<Option<String>>,
}

/// A full edit of an order (seed 001); every field is optional and only what is sent changes.
/// `items` replaces all the lines; `couponCode` swaps the coupon (`""` or `null` removes it);
/// `notes` `""` or `null` clears them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleUpdateRequest {
    pub items: Option<Vec<SaleItemRequest>>,
    pub shipping_details: Option<ShippingDetailsRequest>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub coupon_code: Option<Option<String>>,
}

fn shipping_changes(v: &mut Validator, s: ShippingDetailsRequest) -> ShippingChanges {
    let recipient_phone = v.clearable_text("shippingDetails.recipientPhone", s.recipient_phone, 20);
    if recipient_phone.as_ref().and_then(Option::as_deref).is_some_and(|p| !is_phone(p)) {
        v.add("shippingDetails.recipientPhone", "No es un teléfono válido");
    }
    ShippingChanges {
        recipient: v.optional_text("shippingDetails.recipientName", s.recipient_name.as_deref(), 2, 100),
        phone: recipient_phone,
        street: v.optional_text("shippingDetails.street", s.street.as_deref(), 2, 200),
        number: v.optional_text("shippingDetails.number", s.number.as_deref(), 1, 20),
        neighborhood: v.optional_text("shippingDetails.neighborhood", s.neighborhood.as_deref(), 2, 100),
        city: v.optional_text("shippingDetails.city", s.city.as_deref(), 2, 100),
        zip_code: v.clearable_text("shippingDetails.zipCode", s.zip_code, 20),
        details: v.clearable_text("shippingDetails.details", s.details, 500),
    }
}

/// Edits an order while it is PENDING (its owner) or PENDING/CONFIRMED (admin): lines, shipping
/// details, notes, coupon. Stock moves by the difference and the totals are recomputed; lines
/// already on the order keep the price they were sold at, new ones take the catalog's.
#[utoipa::path(put, path = "/sales/{id}", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)), request_body = SaleUpdateRequest,
    responses(
        (status = 200, description = "Edited", body = SalePlaced),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
        (status = 409, description = "Not editable in its status, not enough stock, a product not on sale, or a coupon that cannot be used", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown product or coupon", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    AnyCaller(user): AnyCaller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<SaleUpdateRequest>,
) -> ApiResult<Json<SalePlaced>> {
    let mut v = Validator::new();
    let changes = OrderChanges {
        lines: body.items.map(|items| lines(&mut v, Some(items), store.currency.exponent())),
        shipping: body.shipping_details.map(|s| shipping_changes(&mut v, s)).unwrap_or_default(),
        notes: v.clearable_text("notes", body.notes, 500),
        coupon_code: body.coupon_code.map(|c| c.map(|c| c.trim().to_string()).filter(|c| !c.is_empty())),
    };
    v.finish()?;
    let edited = app.settle(order_edits::edit_order(&app, &user, &store, &id, changes).await?).await;
    Ok(Json(SalePlaced { order: SaleView::new(edited.order, &store), warnings: edited.warnings }))
}

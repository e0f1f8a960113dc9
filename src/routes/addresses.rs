//! `/api/addresses` (seed 001 "Direcciones"), also under `/api/stores/{slug}/…`: the logged-in
//! user's shipping addresses in the store. Another user's address is always a 404.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::Deleted;
use crate::http::json::{ApiJson, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::http::validate::is_phone;
use crate::routes::geography::{CityView, NeighborhoodView};
use crate::services::addresses::{self, Address, AddressFields};
use crate::services::identity::caller::Caller;

/// An address as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    pub id: String,
    pub customer_id: String,
    pub recipient_name: String,
    pub phone: String,
    pub street_address: String,
    pub neighborhood: NeighborhoodView,
    pub city: CityView,
    pub postal_code: Option<String>,
    pub additional_info: Option<String>,
    pub is_default: bool,
    pub alias: Option<String>,
    /// Street, neighborhood, city and postal code in one line.
    pub full_address: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Address> for AddressView {
    fn from(a: Address) -> AddressView {
        let full_address = a.full_address();
        let neighborhood: NeighborhoodView = a.neighborhood.into();
        let city = neighborhood.city.clone();
        AddressView {
            id: a.id,
            customer_id: a.customer_id,
            recipient_name: a.recipient_name,
            phone: a.phone,
            street_address: a.street_address,
            neighborhood,
            city,
            postal_code: a.postal_code,
            additional_info: a.additional_info,
            is_default: a.is_default,
            alias: a.alias,
            full_address,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// One page of addresses.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressPage {
    pub total: i64,
    pub addresses: Vec<AddressView>,
}

/// Fields of an address. On create `recipientName`, `phone`, `streetAddress` and
/// `selectedNeighborhoodId` are required; on update all are optional (`null` clears the
/// optional texts).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressRequest {
    /// 2–100 characters.
    pub recipient_name: Option<String>,
    /// 6–20 of digits, spaces, `+`, `-`, `(`, `)`.
    pub phone: Option<String>,
    /// 3–200 characters.
    pub street_address: Option<String>,
    /// One of the store's neighborhoods.
    pub selected_neighborhood_id: Option<String>,
    /// When sent, the neighborhood must be in this city.
    pub city_id: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub additional_info: Option<Option<String>>,
    /// Make it the default address (the first one always is).
    pub is_default: Option<bool>,
    /// A short name: `Casa`, `Trabajo`.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub alias: Option<Option<String>>,
}

/// `{message, address: {id, isDefault}}` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct DefaultSet {
    pub message: String,
    pub address: DefaultAddress,
}

/// The address now default.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultAddress {
    pub id: String,
    pub is_default: bool,
}

fn fields(body: AddressRequest, creating: bool) -> ApiResult<AddressFields> {
    let mut v = Validator::new();
    let text = |v: &mut Validator, field: &str, value: Option<&str>, min: usize, max: usize| {
        if creating { Some(v.text(field, value, min, max)) } else { v.optional_text(field, value, min, max) }
    };
    let recipient_name = text(&mut v, "recipientName", body.recipient_name.as_deref(), 2, 100);
    let phone = text(&mut v, "phone", body.phone.as_deref(), 6, 20);
    if phone.as_deref().is_some_and(|p| (6..=20).contains(&p.chars().count()) && !is_phone(p)) {
        v.add("phone", "No es un teléfono válido");
    }
    let street_address = text(&mut v, "streetAddress", body.street_address.as_deref(), 3, 200);
    let neighborhood_id = body.selected_neighborhood_id.map(|n| n.trim().to_string());
    if creating && neighborhood_id.as_deref().is_none_or(str::is_empty) {
        v.add("selectedNeighborhoodId", "Es obligatorio");
    }
    let postal_code = v.clearable_text("postalCode", body.postal_code, 20);
    let additional_info = v.clearable_text("additionalInfo", body.additional_info, 500);
    let alias = v.clearable_text("alias", body.alias, 50);
    v.finish()?;
    Ok(AddressFields {
        recipient_name,
        phone,
        street_address,
        neighborhood_id,
        city_id: body.city_id.map(|c| c.trim().to_string()),
        postal_code,
        additional_info,
        alias,
        is_default: body.is_default,
    })
}

/// Saves a new address for the logged-in user.
#[utoipa::path(post, path = "/addresses", tag = "addresses", security(("bearer" = [])), request_body = AddressRequest,
    responses(
        (status = 201, description = "Created", body = AddressView),
        (status = 422, description = "Invalid fields, unknown neighborhood or a city that does not match", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<AddressRequest>,
) -> ApiResult<(StatusCode, Json<AddressView>)> {
    let fields = fields(body, true)?;
    let created = addresses::create(&app.db, &store.id, &user, fields).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The logged-in user's addresses, the default first.
#[utoipa::path(get, path = "/addresses", tag = "addresses", security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of addresses", body = AddressPage),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<AddressPage>> {
    let (total, found) = addresses::page(&app.db, &store.id, &user, page.limit, page.offset()).await?;
    Ok(Json(AddressPage { total, addresses: found.into_iter().map(Into::into).collect() }))
}

/// One of the logged-in user's addresses.
#[utoipa::path(get, path = "/addresses/{id}", tag = "addresses", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The address", body = AddressView),
        (status = 404, description = "Not one of your addresses", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<AddressView>> {
    Ok(Json(addresses::get(&app.db, &store.id, &user, &id).await?.into()))
}

/// Updates one of the logged-in user's addresses; fields not sent are kept.
#[utoipa::path(put, path = "/addresses/{id}", tag = "addresses", security(("bearer" = [])), params(("id" = String, Path)), request_body = AddressRequest,
    responses(
        (status = 200, description = "Updated", body = AddressView),
        (status = 404, description = "Not one of your addresses", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown neighborhood or a city that does not match", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<AddressRequest>,
) -> ApiResult<Json<AddressView>> {
    let fields = fields(body, false)?;
    Ok(Json(addresses::update(&app.db, &store.id, &user, &id, fields).await?.into()))
}

/// Deletes one of the logged-in user's addresses (the newest remaining one becomes the default).
#[utoipa::path(delete, path = "/addresses/{id}", tag = "addresses", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "Not one of your addresses", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Deleted>> {
    addresses::delete(&app.db, &store.id, &user, &id).await?;
    Ok(Json(Deleted { message: "Dirección eliminada".into() }))
}

/// Makes one of the logged-in user's addresses the default.
#[utoipa::path(patch, path = "/addresses/{id}/default", tag = "addresses", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Now the default", body = DefaultSet),
        (status = 404, description = "Not one of your addresses", body = ErrorBody),
    ))]
pub async fn set_default(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<DefaultSet>> {
    let updated = addresses::make_default(&app.db, &store.id, &user, &id).await?;
    Ok(Json(DefaultSet {
        message: "Dirección marcada como predeterminada".into(),
        address: DefaultAddress { id: updated.id, is_default: updated.is_default },
    }))
}

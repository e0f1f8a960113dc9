//! `/api/customers` (seed 001 "Clientes"), also under `/api/stores/{slug}/…`; admins only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::Deleted;
use crate::http::json::{ApiJson, Pagination};
use crate::http::path::{EmailParam, IdParam};
use crate::http::store::CurrentStore;
use crate::http::validate::{Validator, is_phone};
use crate::routes::geography::NeighborhoodView;
use crate::services::customers::{self, Customer, CustomerFields, Lookup};

/// A customer as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: String,
    pub neighborhood: Option<NeighborhoodView>,
    pub is_active: bool,
    /// The registered user, or null for a guest.
    pub user_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> CustomerView {
        CustomerView {
            id: c.id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            address: c.address,
            neighborhood: c.neighborhood.map(Into::into),
            is_active: c.is_active,
            user_id: c.user_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One page of customers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub total: i64,
    pub customers: Vec<CustomerView>,
}

/// Fields of a customer. On create `name`, `email`, `phone`, `address` and `neighborhoodId`
/// are required (seed 001); on update all are optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRequest {
    /// 2–100 characters.
    pub name: Option<String>,
    pub email: Option<String>,
    /// 6–20 of digits, spaces, `+`, `-`, `(`, `)`.
    pub phone: Option<String>,
    /// 3–200 characters.
    pub address: Option<String>,
    /// One of the store's neighborhoods.
    pub neighborhood_id: Option<String>,
    /// Default true.
    pub is_active: Option<bool>,
    /// Links a registered user (one customer per user and store); `null` unlinks.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub user_id: Option<Option<String>>,
}

fn fields(body: CustomerRequest, creating: bool) -> ApiResult<CustomerFields> {
    let mut v = Validator::new();
    let name =
        if creating { Some(v.text("name", body.name.as_deref(), 2, 100)) } else { v.optional_text("name", body.name.as_deref(), 2, 100) };
    let email = (creating || body.email.is_some()).then(|| v.email("email", body.email.as_deref()));
    let phone =
        if creating { Some(v.text("phone", body.phone.as_deref(), 6, 20)) } else { v.optional_text("phone", body.phone.as_deref(), 6, 20) };
    if phone.as_deref().is_some_and(|p| (6..=20).contains(&p.chars().count()) && !is_phone(p)) {
        v.add("phone", "No es un teléfono válido");
    }
    let address = if creating {
        Some(v.text("address", body.address.as_deref(), 3, 200))
    } else {
        v.optional_text("address", body.address.as_deref(), 3, 200)
    };
    let neighborhood_id = body.neighborhood_id.map(|n| n.trim().to_string());
    if creating && neighborhood_id.as_deref().is_none_or(str::is_empty) {
        v.add("neighborhoodId", "Es obligatorio");
    }
    v.finish()?;
    Ok(CustomerFields {
        name,
        email,
        phone: phone.map(Some),
        address,
        neighborhood_id: neighborhood_id.map(Some),
        is_active: body.is_active,
        user_id: body.user_id.map(|u| u.map(|u| u.trim().to_string())),
    })
}

async fn page_of(app: &AppState, store_id: &str, neighborhood: Option<&str>, page: Pagination) -> ApiResult<Json<CustomerPage>> {
    let (total, found) = customers::page(
        &app.db,
        store_id,
        &customers::Filter { neighborhood_id: neighborhood.map(str::to_string), search: None },
        page.limit,
        page.offset(),
    )
    .await?;
    Ok(Json(CustomerPage { total, customers: found.into_iter().map(Into::into).collect() }))
}

/// Lists the store's customers by name (admin).
#[utoipa::path(get, path = "/customers", tag = "customers", security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of customers", body = CustomerPage),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<CustomerPage>> {
    page_of(&app, &store.id, None, page).await
}

/// Lists the customers of one neighborhood (admin).
#[utoipa::path(get, path = "/customers/by-neighborhood/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Neighborhood id"), ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "A page of customers", body = CustomerPage),
        (status = 404, description = "No such neighborhood in this store", body = ErrorBody),
    ))]
pub async fn by_neighborhood(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    page: Pagination,
) -> ApiResult<Json<CustomerPage>> {
    page_of(&app, &store.id, Some(&id), page).await
}

/// The customer with this email: the registered one when there is one, else the guest (admin).
#[utoipa::path(get, path = "/customers/by-email/{email}", tag = "customers", security(("bearer" = [])), params(("email" = String, Path)),
    responses(
        (status = 200, description = "The customer", body = CustomerView),
        (status = 404, description = "No customer with that email", body = ErrorBody),
    ))]
pub async fn by_email(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersRead>,
    CurrentStore(store): CurrentStore,
    EmailParam(email): EmailParam,
) -> ApiResult<Json<CustomerView>> {
    Ok(Json(customers::get(&app.db, &store.id, Lookup::Email(&email)).await?.into()))
}

/// One customer (admin).
#[utoipa::path(get, path = "/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The customer", body = CustomerView),
        (status = 404, description = "No such customer in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<CustomerView>> {
    Ok(Json(customers::get(&app.db, &store.id, Lookup::Id(&id)).await?.into()))
}

/// Creates a customer (admin; for initial loads).
#[utoipa::path(post, path = "/customers", tag = "customers", security(("bearer" = [])), request_body = CustomerRequest,
    responses(
        (status = 201, description = "Created", body = CustomerView),
        (status = 409, description = "The user already is a customer, or a guest has that email", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown neighborhood or user", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<CustomerRequest>,
) -> ApiResult<(StatusCode, Json<CustomerView>)> {
    let fields = fields(body, true)?;
    let created = customers::create(&app.db, &store.id, fields).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Updates a customer (admin); fields not sent are kept.
#[utoipa::path(put, path = "/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = String, Path)), request_body = CustomerRequest,
    responses(
        (status = 200, description = "Updated", body = CustomerView),
        (status = 404, description = "No such customer in this store", body = ErrorBody),
        (status = 409, description = "The user already is a customer, or a guest has that email", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown neighborhood or user", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<CustomerRequest>,
) -> ApiResult<Json<CustomerView>> {
    let fields = fields(body, false)?;
    Ok(Json(customers::update(&app.db, &store.id, &id, fields).await?.into()))
}

/// Deletes a customer (admin); refused once it has orders.
#[utoipa::path(delete, path = "/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such customer in this store", body = ErrorBody),
        (status = 409, description = "The customer has orders", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    _staff: Staff<scope::CustomersWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Deleted>> {
    customers::delete(&app.db, &store.id, &id).await?;
    Ok(Json(Deleted { message: "Cliente eliminado".into() }))
}

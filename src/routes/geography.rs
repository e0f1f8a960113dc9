//! `/api/cities` and `/api/neighborhoods` (seed 001 "Ciudades", "Barrios"), also under
//! `/api/stores/{slug}/…`. Reads are public; writes are for admins.

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
use crate::http::path::{IdParam, NameParam};
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::geography::{self, City, Neighborhood, NewPlace, PlaceChanges};

/// A city as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CityView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<City> for CityView {
    fn from(c: City) -> CityView {
        CityView {
            id: c.id,
            name: c.name,
            description: c.description,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A neighborhood with its city.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NeighborhoodView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub city: CityView,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Neighborhood> for NeighborhoodView {
    fn from(n: Neighborhood) -> NeighborhoodView {
        NeighborhoodView {
            id: n.id,
            name: n.name,
            description: n.description,
            city: n.city.into(),
            is_active: n.is_active,
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

/// One page of cities.
#[derive(Debug, Serialize, ToSchema)]
pub struct CityPage {
    pub total: i64,
    pub cities: Vec<CityView>,
}

/// One page of neighborhoods.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeighborhoodPage {
    pub total: i64,
    pub neighborhoods: Vec<NeighborhoodView>,
}

/// Fields of a city or neighborhood. On create `name` and `description` are required (and
/// `cityId` for a neighborhood); on update every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaceRequest {
    /// 2–100 characters; unique in the store (cities) or in the city (neighborhoods), ignoring case.
    pub name: Option<String>,
    /// Up to 500 characters.
    pub description: Option<String>,
    /// Neighborhoods only: the id of one of the store's cities.
    pub city_id: Option<String>,
    /// Default true.
    pub is_active: Option<bool>,
}

/// Validates a create (`creating`) or an update.
fn place_fields(v: &mut Validator, body: &PlaceRequest, creating: bool) -> PlaceChanges {
    let (name, description) = if creating {
        (Some(v.text("name", body.name.as_deref(), 2, 100)), Some(v.text("description", body.description.as_deref(), 1, 500)))
    } else {
        (v.optional_text("name", body.name.as_deref(), 2, 100), v.optional_text("description", body.description.as_deref(), 1, 500))
    };
    PlaceChanges { name, description, is_active: body.is_active, city_id: body.city_id.as_ref().map(|c| c.trim().to_string()) }
}

fn new_place(changes: PlaceChanges) -> NewPlace {
    NewPlace {
        name: changes.name.unwrap_or_default(),
        description: changes.description.unwrap_or_default(),
        is_active: changes.is_active.unwrap_or(true),
    }
}

/// Lists the store's cities by name.
#[utoipa::path(get, path = "/cities", tag = "cities",
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of cities", body = CityPage),
        (status = 404, description = "Unknown store", body = ErrorBody),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list_cities(State(app): State<AppState>, CurrentStore(store): CurrentStore, page: Pagination) -> ApiResult<Json<CityPage>> {
    let (total, cities) = geography::cities(&app.db, &store.id, page.limit, page.offset()).await?;
    Ok(Json(CityPage { total, cities: cities.into_iter().map(Into::into).collect() }))
}

/// One city of the store.
#[utoipa::path(get, path = "/cities/{id}", tag = "cities", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The city", body = CityView),
        (status = 404, description = "No such city in this store", body = ErrorBody),
    ))]
pub async fn get_city(State(app): State<AppState>, CurrentStore(store): CurrentStore, IdParam(id): IdParam) -> ApiResult<Json<CityView>> {
    Ok(Json(geography::city(&app.db, &store.id, &id).await?.into()))
}

/// The city with this name (ignoring case).
#[utoipa::path(get, path = "/cities/by-name/{name}", tag = "cities", params(("name" = String, Path, description = "The city's name")),
    responses(
        (status = 200, description = "The city", body = CityView),
        (status = 404, description = "No city with that name in this store", body = ErrorBody),
    ))]
pub async fn city_by_name(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    NameParam(name): NameParam,
) -> ApiResult<Json<CityView>> {
    Ok(Json(geography::city_named(&app.db, &store.id, &name).await?.into()))
}

/// Creates a city (admin).
#[utoipa::path(post, path = "/cities", tag = "cities", security(("bearer" = [])), request_body = PlaceRequest,
    responses(
        (status = 201, description = "Created", body = CityView),
        (status = 409, description = "Name already used in the store", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create_city(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<PlaceRequest>,
) -> ApiResult<(StatusCode, Json<CityView>)> {
    let mut v = Validator::new();
    let fields = place_fields(&mut v, &body, true);
    if fields.city_id.is_some() {
        v.add("cityId", "Solo los barrios pertenecen a una ciudad");
    }
    v.finish()?;
    let city = geography::create_city(&app.db, &store.id, new_place(fields)).await?;
    Ok((StatusCode::CREATED, Json(city.into())))
}

/// Updates a city (admin).
#[utoipa::path(put, path = "/cities/{id}", tag = "cities", security(("bearer" = [])), params(("id" = String, Path)), request_body = PlaceRequest,
    responses(
        (status = 200, description = "Updated", body = CityView),
        (status = 404, description = "No such city in this store", body = ErrorBody),
        (status = 409, description = "Name already used in the store", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn update_city(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<PlaceRequest>,
) -> ApiResult<Json<CityView>> {
    let mut v = Validator::new();
    let fields = place_fields(&mut v, &body, false);
    if fields.city_id.is_some() {
        v.add("cityId", "Solo los barrios pertenecen a una ciudad");
    }
    v.finish()?;
    Ok(Json(geography::update_city(&app.db, &store.id, &id, fields).await?.into()))
}

/// Deletes a city (admin); refused while it has neighborhoods.
#[utoipa::path(delete, path = "/cities/{id}", tag = "cities", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such city in this store", body = ErrorBody),
        (status = 409, description = "The city has neighborhoods", body = ErrorBody),
    ))]
pub async fn delete_city(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Deleted>> {
    geography::delete_city(&app.db, &store.id, &id).await?;
    Ok(Json(Deleted { message: "Ciudad eliminada".into() }))
}

/// Lists the store's neighborhoods by city and name.
#[utoipa::path(get, path = "/neighborhoods", tag = "neighborhoods",
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of neighborhoods", body = NeighborhoodPage),
        (status = 404, description = "Unknown store", body = ErrorBody),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list_neighborhoods(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<NeighborhoodPage>> {
    let (total, found) = geography::neighborhoods(&app.db, &store.id, None, page.limit, page.offset()).await?;
    Ok(Json(NeighborhoodPage { total, neighborhoods: found.into_iter().map(Into::into).collect() }))
}

/// Lists the neighborhoods of one city.
#[utoipa::path(get, path = "/neighborhoods/by-city/{id}", tag = "neighborhoods",
    params(("id" = String, Path, description = "City id"), ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "A page of neighborhoods", body = NeighborhoodPage),
        (status = 404, description = "No such city in this store", body = ErrorBody),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn neighborhoods_by_city(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(city_id): IdParam,
    page: Pagination,
) -> ApiResult<Json<NeighborhoodPage>> {
    let (total, found) = geography::neighborhoods(&app.db, &store.id, Some(&city_id), page.limit, page.offset()).await?;
    Ok(Json(NeighborhoodPage { total, neighborhoods: found.into_iter().map(Into::into).collect() }))
}

/// One neighborhood of the store.
#[utoipa::path(get, path = "/neighborhoods/{id}", tag = "neighborhoods", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The neighborhood", body = NeighborhoodView),
        (status = 404, description = "No such neighborhood in this store", body = ErrorBody),
    ))]
pub async fn get_neighborhood(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<NeighborhoodView>> {
    Ok(Json(geography::neighborhood(&app.db, &store.id, &id).await?.into()))
}

/// Creates a neighborhood in one of the store's cities (admin).
#[utoipa::path(post, path = "/neighborhoods", tag = "neighborhoods", security(("bearer" = [])), request_body = PlaceRequest,
    responses(
        (status = 201, description = "Created", body = NeighborhoodView),
        (status = 409, description = "Name already used in that city", body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown city", body = ErrorBody),
    ))]
pub async fn create_neighborhood(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<PlaceRequest>,
) -> ApiResult<(StatusCode, Json<NeighborhoodView>)> {
    let mut v = Validator::new();
    let mut fields = place_fields(&mut v, &body, true);
    let city_id = fields.city_id.take().unwrap_or_default();
    if city_id.is_empty() {
        v.add("cityId", "Es obligatorio");
    }
    v.finish()?;
    let created = geography::create_neighborhood(&app.db, &store.id, &city_id, new_place(fields)).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Updates a neighborhood, possibly moving it to another city (admin).
#[utoipa::path(put, path = "/neighborhoods/{id}", tag = "neighborhoods", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = PlaceRequest,
    responses(
        (status = 200, description = "Updated", body = NeighborhoodView),
        (status = 404, description = "No such neighborhood in this store", body = ErrorBody),
        (status = 409, description = "Name already used in that city", body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown city", body = ErrorBody),
    ))]
pub async fn update_neighborhood(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<PlaceRequest>,
) -> ApiResult<Json<NeighborhoodView>> {
    let mut v = Validator::new();
    let fields = place_fields(&mut v, &body, false);
    v.finish()?;
    Ok(Json(geography::update_neighborhood(&app.db, &store.id, &id, fields).await?.into()))
}

/// Deletes a neighborhood (admin); refused while customers or addresses use it.
#[utoipa::path(delete, path = "/neighborhoods/{id}", tag = "neighborhoods", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such neighborhood in this store", body = ErrorBody),
        (status = 409, description = "Still used by customers or addresses", body = ErrorBody),
    ))]
pub async fn delete_neighborhood(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Deleted>> {
    geography::delete_neighborhood(&app.db, &store.id, &id).await?;
    Ok(Json(Deleted { message: "Barrio eliminado".into() }))
}

//! `/api/order-statuses` (seed 001 "Estados de Pedido"), also under `/api/stores/{slug}/…`.
//! The workflow is data: `canTransitionTo` lists where an order may go next (empty: terminal).
//! `/active`, `/default` and `/code/{code}` are public; everything else is for admins.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::Deleted;
use crate::http::json::{ApiJson, Pagination, query_flag};
use crate::http::path::{CodeParam, IdParam};
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::order_statuses::{self, Filter, Key, OrderStatus, StatusFields};

/// An order status as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusView {
    pub id: String,
    /// Upper-case, unique in the store (`PENDING`, `PAID`…).
    pub code: String,
    pub name: String,
    pub description: String,
    /// `#RRGGBB` or `#RGB`.
    pub color: String,
    /// Display order.
    pub order: i64,
    pub is_active: bool,
    pub is_default: bool,
    /// Ids of the statuses an order may move to; empty means terminal.
    pub can_transition_to: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<OrderStatus> for OrderStatusView {
    fn from(s: OrderStatus) -> OrderStatusView {
        OrderStatusView {
            id: s.id,
            code: s.code,
            name: s.name,
            description: s.description,
            color: s.color,
            order: s.position,
            is_active: s.is_active,
            is_default: s.is_default,
            can_transition_to: s.can_transition_to,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// One page of statuses.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusPage {
    pub total: i64,
    pub order_statuses: Vec<OrderStatusView>,
}

/// Fields of a status. On create `code` and `name` are required; on update all are optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusRequest {
    /// 2–30 of `A-Z`, `0-9`, `_` (lower case is upper-cased); unique in the store.
    pub code: Option<String>,
    /// 2–100 characters.
    pub name: Option<String>,
    /// Up to 500 characters.
    pub description: Option<String>,
    /// `#RRGGBB` or `#RGB`.
    pub color: Option<String>,
    /// Display order, ≥ 0 (default: after the last).
    pub order: Option<i64>,
    /// Default true.
    pub is_active: Option<bool>,
    /// Making one status the default unmarks the previous one.
    pub is_default: Option<bool>,
    /// Codes or ids of the statuses it leads to.
    pub can_transition_to: Option<Vec<String>>,
}

/// `{canTransitionTo}` for `PATCH /{id}/transitions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransitionsRequest {
    /// Codes or ids of the statuses it leads to; empty makes it terminal.
    pub can_transition_to: Vec<String>,
}

/// Two statuses (ids or codes) to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransitionCheck {
    pub from_status_id: String,
    pub to_status_id: String,
}

/// Whether the transition is allowed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransitionValidity {
    pub is_valid: bool,
}

fn is_color(c: &str) -> bool {
    (c.len() == 4 || c.len() == 7) && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit())
}

/// Validates the request; `creating` makes `code` and `name` required.
fn fields(body: OrderStatusRequest, creating: bool) -> ApiResult<StatusFields> {
    let mut v = Validator::new();
    let code = v.code("code", body.code.as_deref(), creating);
    let name =
        if creating { Some(v.text("name", body.name.as_deref(), 2, 100)) } else { v.optional_text("name", body.name.as_deref(), 2, 100) };
    let description = body.description.map(|d| d.trim().to_string());
    if description.as_ref().is_some_and(|d| d.chars().count() > 500) {
        v.add("description", "Debe tener como máximo 500 caracteres");
    }
    let color = body.color.map(|c| c.trim().to_string());
    if color.as_deref().is_some_and(|c| !is_color(c)) {
        v.add("color", "Debe ser un color hexadecimal como #1E90FF");
    }
    if body.order.is_some_and(|o| o < 0) {
        v.add("order", "Debe ser un número entero mayor o igual a 0");
    }
    v.finish()?;
    Ok(StatusFields {
        code,
        name,
        description,
        color,
        position: body.order,
        is_active: body.is_active,
        is_default: body.is_default,
        can_transition_to: body.can_transition_to,
    })
}

async fn page_of(app: &AppState, store_id: &str, filter: Filter, page: Pagination) -> ApiResult<Json<OrderStatusPage>> {
    let (total, found) = order_statuses::page(&app.db, store_id, filter, page.limit, page.offset()).await?;
    Ok(Json(OrderStatusPage { total, order_statuses: found.into_iter().map(Into::into).collect() }))
}

async fn one(app: &AppState, store_id: &str, key: Key<'_>) -> ApiResult<Json<OrderStatusView>> {
    Ok(Json(order_statuses::get(&app.db, store_id, key).await?.into()))
}

/// Lists the store's statuses in display order (admin).
#[utoipa::path(get, path = "/order-statuses", tag = "order-statuses", security(("bearer" = [])),
    params(
        ("page" = Option<i64>, Query, description = "Page, from 1"),
        ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100"),
        ("activeOnly" = Option<bool>, Query, description = "Only active statuses"),
    ),
    responses(
        (status = 200, description = "A page of statuses", body = OrderStatusPage),
        (status = 422, description = "Bad parameter", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<OrderStatusPage>> {
    let filter = if query_flag(raw.as_deref(), "activeOnly")? == Some(true) { Filter::ActiveOnly } else { Filter::All };
    page_of(&app, &store.id, filter, page).await
}

/// Lists the store's active statuses (public).
#[utoipa::path(get, path = "/order-statuses/active", tag = "order-statuses",
    params(("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "A page of active statuses", body = OrderStatusPage),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn active(State(app): State<AppState>, CurrentStore(store): CurrentStore, page: Pagination) -> ApiResult<Json<OrderStatusPage>> {
    page_of(&app, &store.id, Filter::ActiveOnly, page).await
}

/// The store's default status (public).
#[utoipa::path(get, path = "/order-statuses/default", tag = "order-statuses",
    responses(
        (status = 200, description = "The default status", body = OrderStatusView),
        (status = 404, description = "The store has no default status", body = ErrorBody),
    ))]
pub async fn default_status(State(app): State<AppState>, CurrentStore(store): CurrentStore) -> ApiResult<Json<OrderStatusView>> {
    one(&app, &store.id, Key::Default).await
}

/// The status with this code (public; case-insensitive).
#[utoipa::path(get, path = "/order-statuses/code/{code}", tag = "order-statuses", params(("code" = String, Path)),
    responses(
        (status = 200, description = "The status", body = OrderStatusView),
        (status = 404, description = "No status with that code", body = ErrorBody),
    ))]
pub async fn by_code(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    CodeParam(code): CodeParam,
) -> ApiResult<Json<OrderStatusView>> {
    one(&app, &store.id, Key::Code(&code)).await
}

/// One status (admin).
#[utoipa::path(get, path = "/order-statuses/{id}", tag = "order-statuses", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The status", body = OrderStatusView),
        (status = 404, description = "No such status in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<OrderStatusView>> {
    one(&app, &store.id, Key::Id(&id)).await
}

/// Creates a status (admin).
#[utoipa::path(post, path = "/order-statuses", tag = "order-statuses", security(("bearer" = [])), request_body = OrderStatusRequest,
    responses(
        (status = 201, description = "Created", body = OrderStatusView),
        (status = 409, description = "Code taken, or an inactive default", body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown transition target", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<OrderStatusRequest>,
) -> ApiResult<(StatusCode, Json<OrderStatusView>)> {
    let fields = fields(body, true)?;
    let created = order_statuses::create(&app.db, &store.id, fields).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Updates a status (admin); fields not sent are kept.
#[utoipa::path(put, path = "/order-statuses/{id}", tag = "order-statuses", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = OrderStatusRequest,
    responses(
        (status = 200, description = "Updated", body = OrderStatusView),
        (status = 404, description = "No such status in this store", body = ErrorBody),
        (status = 409, description = "Code taken, or the default would stop being default or active", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown or self transition target", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<OrderStatusRequest>,
) -> ApiResult<Json<OrderStatusView>> {
    let fields = fields(body, false)?;
    Ok(Json(order_statuses::update(&app.db, &store.id, &id, fields).await?.into()))
}

/// Replaces only the statuses this one leads to (admin): codes or ids, all existing, not itself.
#[utoipa::path(patch, path = "/order-statuses/{id}/transitions", tag = "order-statuses", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TransitionsRequest,
    responses(
        (status = 200, description = "Updated", body = OrderStatusView),
        (status = 404, description = "No such status in this store", body = ErrorBody),
        (status = 422, description = "Unknown or self transition target", body = ErrorBody),
    ))]
pub async fn set_transitions(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<TransitionsRequest>,
) -> ApiResult<Json<OrderStatusView>> {
    let fields = StatusFields { can_transition_to: Some(body.can_transition_to), ..StatusFields::default() };
    Ok(Json(order_statuses::update(&app.db, &store.id, &id, fields).await?.into()))
}

/// Deletes a status (admin); never the default one.
#[utoipa::path(delete, path = "/order-statuses/{id}", tag = "order-statuses", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such status in this store", body = ErrorBody),
        (status = 409, description = "The default status, or one with orders", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Deleted>> {
    order_statuses::delete(&app.db, &store.id, &id).await?;
    Ok(Json(Deleted { message: "Estado de pedido eliminado".into() }))
}

/// Whether an order may move from one status to another (admin; ids or codes).
#[utoipa::path(post, path = "/order-statuses/validate-transition", tag = "order-statuses", security(("bearer" = [])),
    request_body = TransitionCheck,
    responses(
        (status = 200, description = "The answer", body = TransitionValidity),
        (status = 422, description = "Missing ids", body = ErrorBody),
    ))]
pub async fn validate_transition(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<TransitionCheck>,
) -> ApiResult<Json<TransitionValidity>> {
    let is_valid = order_statuses::can_transition(&app.db, &store.id, &body.from_status_id, &body.to_status_id).await?;
    Ok(Json(TransitionValidity { is_valid }))
}

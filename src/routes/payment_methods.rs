//! `/api/payment-methods` (seed 001 "Métodos de Pago"), also under `/api/stores/{slug}/…`.
//! `/active` and `/code/{code}` are public (checkout shows them); the rest is for admins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, Pagination};
use crate::http::path::{CodeParam, IdParam};
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::order_statuses::StatusRef;
use crate::services::order_statuses::{Filter, Key};
use crate::services::payment_methods::{self, MethodFields, PaymentMethod};

/// The order status a method starts orders in (seed 001 embeds it as `defaultOrderStatusId`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusRefView {
    /// The status id.
    #[serde(rename = "_id")]
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub color: String,
}

impl From<StatusRef> for StatusRefView {
    fn from(s: StatusRef) -> StatusRefView {
        StatusRefView { id: s.id, code: s.code, name: s.name, description: s.description, color: s.color }
    }
}

/// A payment method as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodView {
    pub id: String,
    /// Upper-case, unique in the store (`CASH`, `MERCADO_PAGO`…).
    pub code: String,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    /// The status new orders paid this way start in.
    pub default_order_status_id: StatusRefView,
    /// Paid online through a provider (not cash or a transfer).
    pub requires_online_payment: bool,
    /// An admin may confirm the payment by hand.
    pub allows_manual_confirmation: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<PaymentMethod> for PaymentMethodView {
    fn from(m: PaymentMethod) -> PaymentMethodView {
        PaymentMethodView {
            id: m.id,
            code: m.code,
            name: m.name,
            description: m.description,
            is_active: m.is_active,
            default_order_status_id: m.default_order_status.into(),
            requires_online_payment: m.requires_online_payment,
            allows_manual_confirmation: m.allows_manual_confirmation,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A deleted method (seed 001: the status as an id).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedPaymentMethod {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub default_order_status_id: String,
    pub requires_online_payment: bool,
    pub allows_manual_confirmation: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// One page of methods.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodPage {
    pub total: i64,
    pub payment_methods: Vec<PaymentMethodView>,
}

/// Fields of a method. On create all are required but `isActive` (default true); on update
/// all are optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodRequest {
    /// 2–30 of `A-Z`, `0-9`, `_` (lower case is upper-cased); unique in the store.
    pub code: Option<String>,
    /// 2–100 characters.
    pub name: Option<String>,
    /// 1–500 characters.
    pub description: Option<String>,
    pub is_active: Option<bool>,
    /// Id (or code) of one of the store's order statuses.
    pub default_order_status_id: Option<String>,
    pub requires_online_payment: Option<bool>,
    pub allows_manual_confirmation: Option<bool>,
}

/// Validates the request; `creating` makes every field but `isActive` required.
fn fields(body: PaymentMethodRequest, creating: bool) -> ApiResult<MethodFields> {
    let mut v = Validator::new();
    let code = v.code("code", body.code.as_deref(), creating);
    let (name, description) = if creating {
        (Some(v.text("name", body.name.as_deref(), 2, 100)), Some(v.text("description", body.description.as_deref(), 1, 500)))
    } else {
        (v.optional_text("name", body.name.as_deref(), 2, 100), v.optional_text("description", body.description.as_deref(), 1, 500))
    };
    let status = body.default_order_status_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if creating {
        for (field, missing) in [
            ("defaultOrderStatusId", status.is_none()),
            ("requiresOnlinePayment", body.requires_online_payment.is_none()),
            ("allowsManualConfirmation", body.allows_manual_confirmation.is_none()),
        ] {
            if missing {
                v.add(field, "Es obligatorio");
            }
        }
    }
    v.finish()?;
    Ok(MethodFields {
        code,
        name,
        description,
        is_active: body.is_active,
        default_order_status: status,
        requires_online_payment: body.requires_online_payment,
        allows_manual_confirmation: body.allows_manual_confirmation,
    })
}

/// The store's active methods (public; seed 001 answers a bare list).
#[utoipa::path(get, path = "/payment-methods/active", tag = "payment-methods",
    responses((status = 200, description = "Active methods by code", body = Vec<PaymentMethodView>)))]
pub async fn active(State(app): State<AppState>, CurrentStore(store): CurrentStore) -> ApiResult<Json<Vec<PaymentMethodView>>> {
    let (_, found) = payment_methods::page(&app.db, &store.id, Filter::ActiveOnly, i64::MAX, 0).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// The method with this code (public; case-insensitive).
#[utoipa::path(get, path = "/payment-methods/code/{code}", tag = "payment-methods", params(("code" = String, Path)),
    responses(
        (status = 200, description = "The method", body = PaymentMethodView),
        (status = 404, description = "No method with that code", body = ErrorBody),
    ))]
pub async fn by_code(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    CodeParam(code): CodeParam,
) -> ApiResult<Json<PaymentMethodView>> {
    Ok(Json(payment_methods::get(&app.db, &store.id, Key::Code(&code)).await?.into()))
}

/// Lists every method of the store, active or not (admin).
#[utoipa::path(get, path = "/payment-methods", tag = "payment-methods", security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of methods", body = PaymentMethodPage),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<PaymentMethodPage>> {
    let (total, found) = payment_methods::page(&app.db, &store.id, Filter::All, page.limit, page.offset()).await?;
    Ok(Json(PaymentMethodPage { total, payment_methods: found.into_iter().map(Into::into).collect() }))
}

/// One method (admin).
#[utoipa::path(get, path = "/payment-methods/{id}", tag = "payment-methods", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The method", body = PaymentMethodView),
        (status = 404, description = "No such method in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<PaymentMethodView>> {
    Ok(Json(payment_methods::get(&app.db, &store.id, Key::Id(&id)).await?.into()))
}

/// Creates a method (admin).
#[utoipa::path(post, path = "/payment-methods", tag = "payment-methods", security(("bearer" = [])), request_body = PaymentMethodRequest,
    responses(
        (status = 201, description = "Created", body = PaymentMethodView),
        (status = 409, description = "Code taken", body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown order status", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<PaymentMethodRequest>,
) -> ApiResult<(StatusCode, Json<PaymentMethodView>)> {
    let fields = fields(body, true)?;
    let created = payment_methods::create(&app.db, &store.id, fields).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Updates a method (admin); fields not sent are kept.
#[utoipa::path(put, path = "/payment-methods/{id}", tag = "payment-methods", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = PaymentMethodRequest,
    responses(
        (status = 200, description = "Updated", body = PaymentMethodView),
        (status = 404, description = "No such method in this store", body = ErrorBody),
        (status = 409, description = "Code taken", body = ErrorBody),
        (status = 422, description = "Invalid fields or unknown order status", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<PaymentMethodRequest>,
) -> ApiResult<Json<PaymentMethodView>> {
    let fields = fields(body, false)?;
    Ok(Json(payment_methods::update(&app.db, &store.id, &id, fields).await?.into()))
}

/// Deletes a method (admin) and answers it as it was.
#[utoipa::path(delete, path = "/payment-methods/{id}", tag = "payment-methods", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = DeletedPaymentMethod),
        (status = 404, description = "No such method in this store", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<DeletedPaymentMethod>> {
    let m = payment_methods::delete(&app.db, &store.id, &id).await?;
    Ok(Json(DeletedPaymentMethod {
        id: m.id,
        code: m.code,
        name: m.name,
        description: m.description,
        is_active: m.is_active,
        default_order_status_id: m.default_order_status.id,
        requires_online_payment: m.requires_online_payment,
        allows_manual_confirmation: m.allows_manual_confirmation,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }))
}

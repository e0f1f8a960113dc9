//! The admin's view of the payment ledger.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::{PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::catalog::stores::Store;
use crate::services::payments::{self, PaymentFilter, PaymentStatus};

use super::PaymentView;

/// One page of payments (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPage {
    pub payments: Vec<PaymentView>,
    pub pagination: PageInfo,
}

/// Filters of the payment list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// Only payments in this status.
    pub status: Option<String>,
}

fn status_filter(status: Option<String>) -> ApiResult<Option<String>> {
    match status.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if PaymentStatus::parse(&s).is_some() => Ok(Some(s)),
        Some(_) => Err(ApiError::field("status", "Debe ser pending, authorized, approved, rejected, cancelled, refunded o charged_back")),
    }
}

async fn page_of(app: &AppState, store: &Store, filter: PaymentFilter, page: Pagination) -> ApiResult<Json<PaymentPage>> {
    let (total, found) = payments::list(&mut *app.db.reader().acquire().await?, &store.id, &filter, page.limit, page.offset()).await?;
    Ok(Json(PaymentPage {
        payments: found.into_iter().map(|p| PaymentView::new(p, store, true)).collect(),
        pagination: PageInfo::new(page, total),
    }))
}

/// Every payment of the store, newest first (admin).
#[utoipa::path(get, path = "/payments", tag = "payments", security(("bearer" = [])), params(PaymentQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = PaymentPage),
        (status = 422, description = "Unknown status", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::PaymentsRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    axum::extract::Query(q): axum::extract::Query<PaymentQuery>,
) -> ApiResult<Json<PaymentPage>> {
    page_of(&app, &store, PaymentFilter { status: status_filter(q.status)?, order_id: None }, page).await
}

/// The payments of one order, newest first (admin).
#[utoipa::path(get, path = "/payments/by-sale/{id}", tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "The order"), ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = PaymentPage),
    ))]
pub async fn by_sale(
    State(app): State<AppState>,
    _staff: Staff<scope::PaymentsRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    page: Pagination,
) -> ApiResult<Json<PaymentPage>> {
    page_of(&app, &store, PaymentFilter { status: None, order_id: Some(id) }, page).await
}

/// One payment with its ledger and the last webhook about it (admin).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetail {
    #[serde(flatten)]
    pub payment: PaymentView,
    /// The body of the last webhook about this payment, if any.
    #[schema(value_type = Option<Object>)]
    pub webhook_data: Option<Value>,
}

/// `{payment}` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOne {
    pub payment: PaymentDetail,
}

/// One payment (admin).
#[utoipa::path(get, path = "/payments/{id}", tag = "payments", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The payment", body = PaymentOne),
        (status = 404, description = "No such payment", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _staff: Staff<scope::PaymentsRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<PaymentOne>> {
    let (payment, webhook_data) = payments::with_last_webhook(&app, &store.id, &id).await?;
    Ok(Json(PaymentOne { payment: PaymentDetail { payment: PaymentView::new(payment, &store, true), webhook_data } }))
}

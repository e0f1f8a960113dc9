//! Moving an order through the workflow, and cancelling it.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AnyCaller;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::order_status_change;
use crate::services::orders::Order;

/// `{status}` (a status code or id; seed 001 sends lower-case codes) and an optional note.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusRequest {
    pub status: Option<String>,
    /// Kept in the order's history.
    pub note: Option<String>,
}

/// The order after a status change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChanged {
    pub id: String,
    pub status: String,
    pub updated_at: String,
}

impl StatusChanged {
    fn of(order: Order) -> StatusChanged {
        StatusChanged { id: order.id, status: order.status_code, updated_at: order.updated_at }
    }
}

/// `{message, order}` after a status change (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleStatusUpdated {
    pub message: String,
    pub order: StatusChanged,
}

/// Moves an order to another status, as the workflow allows (admin). Entering CANCELLED gives
/// the stock back.
#[utoipa::path(patch, path = "/sales/{id}/status", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)), request_body = StatusRequest,
    responses(
        (status = 200, description = "Changed", body = SaleStatusUpdated),
        (status = 404, description = "No such order in this store", body = ErrorBody),
        (status = 409, description = "The workflow does not allow it from the current status", body = ErrorBody),
        (status = 422, description = "Missing or unknown status", body = ErrorBody),
    ))]
pub async fn set_status(
    State(app): State<AppState>,
    Staff(admin, _): Staff<scope::OrdersWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<StatusRequest>,
) -> ApiResult<Json<SaleStatusUpdated>> {
    let mut v = Validator::new();
    let status = v.text("status", body.status.as_deref(), 1, 100);
    let note = v.optional_text("note", body.note.as_deref(), 0, 500).filter(|n| !n.is_empty());
    v.finish()?;
    let order = app.settle(order_status_change::set_order_status(&app, &admin, &store, &id, &status, note.as_deref()).await?).await;
    Ok(Json(SaleStatusUpdated { message: "Estado del pedido actualizado".into(), order: StatusChanged::of(order) }))
}

/// `{reason}` for a cancellation.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

/// Cancels an order: its owner while it is PENDING, or an admin while the workflow allows it.
/// The stock comes back once.
#[utoipa::path(post, path = "/sales/{id}/cancel", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)), request_body = CancelRequest,
    responses(
        (status = 200, description = "Cancelled", body = SaleStatusUpdated),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
        (status = 409, description = "Past the point where it can be cancelled", body = ErrorBody),
    ))]
pub async fn cancel(
    State(app): State<AppState>,
    AnyCaller(user): AnyCaller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    body: axum::body::Bytes,
) -> ApiResult<Json<SaleStatusUpdated>> {
    // The body is optional: no body, no reason.
    let request: CancelRequest = if body.is_empty() { CancelRequest::default() } else { crate::http::json::parse_json(&body)? };
    let reason = request.reason.map(|r| r.trim().chars().take(500).collect::<String>()).filter(|r| !r.is_empty());
    let order = app.settle(order_status_change::cancel_order(&app, &user, &store, &id, reason.as_deref()).await?).await;
    Ok(Json(SaleStatusUpdated { message: "Pedido cancelado".into(), order: StatusChanged::of(order) }))
}

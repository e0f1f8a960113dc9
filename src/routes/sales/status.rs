//! Moving an order through the workflow, and cancelling it.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AdminUser;
use crate::services::identity::caller::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::ApiJson;
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use crate::services::order_notifications;
use crate::services::order_workflow::{self, StatusChangeError};
use crate::services::orders;
use feria_domain::roles::Role;

use super::order_not_found;

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

/// `{message, order}` after a status change (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleStatusUpdated {
    pub message: String,
    pub order: StatusChanged,
}

fn status_error(err: StatusChangeError) -> ApiError {
    match err {
        StatusChangeError::UnknownOrder => order_not_found(),
        StatusChangeError::UnknownStatus => ApiError::field("status", "El estado no existe en esta tienda"),
        StatusChangeError::NotAllowed { from, to } => {
            ApiError::conflict(codes::INVALID_TRANSITION, format!("Un pedido en {from} no puede pasar a {to}"))
        }
        StatusChangeError::InsufficientStock { name, stock } => ApiError::conflict(
            codes::INSUFFICIENT_STOCK,
            format!("No hay stock suficiente de {name} para reabrir el pedido: quedan {stock}"),
        ),
        StatusChangeError::Database(e) => ApiError::internal(e),
    }
}

/// Changes the status (only from `from`, a status id, when given), records it, answers the
/// order's new status.
async fn move_order(
    app: &AppState,
    store: &Store,
    id: &str,
    from: Option<&str>,
    target: &str,
    by: &str,
    note: Option<&str>,
) -> ApiResult<StatusChanged> {
    let mut tx = app.db.begin().await?;
    let restocked = order_workflow::change_status_from(&mut tx, &store.id, id, from, target, Some(by), note).await.map_err(status_error)?;
    let order = orders::find(&mut tx, &store.id, id).await?.ok_or_else(order_not_found)?;
    let queued = order_notifications::status_changed(&mut tx, app, store, &order).await?;
    tx.commit().await?;
    if queued {
        app.job_wake.notify_one();
    }
    app.stock_changed(&restocked);
    Ok(StatusChanged { id: order.id, status: order.status_code, updated_at: order.updated_at })
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
    AdminUser(admin): AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<StatusRequest>,
) -> ApiResult<Json<SaleStatusUpdated>> {
    let mut v = Validator::new();
    let status = v.text("status", body.status.as_deref(), 1, 100);
    let note = v.optional_text("note", body.note.as_deref(), 0, 500).filter(|n| !n.is_empty());
    v.finish()?;
    let order = move_order(&app, &store, &id, None, &status, &admin.id, note.as_deref()).await?;
    Ok(Json(SaleStatusUpdated { message: "Estado del pedido actualizado".into(), order }))
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
    user: Caller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    body: axum::body::Bytes,
) -> ApiResult<Json<SaleStatusUpdated>> {
    // The body is optional: no body, no reason.
    let request: CancelRequest = if body.is_empty() { CancelRequest::default() } else { crate::http::json::parse_json(&body)? };
    let reason = request.reason.map(|r| r.trim().chars().take(500).collect::<String>()).filter(|r| !r.is_empty());
    let order = orders::find(&mut *app.db.reader().acquire().await?, &store.id, &id).await?.ok_or_else(order_not_found)?;
    let is_admin = user.has_role(Role::Admin);
    if !is_admin {
        if order.user_id.as_deref() != Some(user.id.as_str()) {
            return Err(order_not_found());
        }
        if order.status_code != "PENDING" {
            return Err(ApiError::conflict(codes::INVALID_TRANSITION, "Solo podés cancelar un pedido pendiente; contactá a la tienda"));
        }
    }
    let note = reason.unwrap_or_else(|| if is_admin { "Cancelado por la tienda".into() } else { "Cancelado por el cliente".into() });
    // A buyer cancels only the pending order they saw; the shop, from wherever it is.
    let from = (!is_admin).then_some(order.status_id.as_str());
    let changed = move_order(&app, &store, &id, from, order_workflow::CANCELLED, &user.id, Some(&note)).await?;
    Ok(Json(SaleStatusUpdated { message: "Pedido cancelado".into(), order: changed }))
}

//! An order's status history.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AnyCaller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::order_workflow::{self, HistoryEntry};
use crate::services::orders::Order;

/// One step of an order's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackingStep {
    pub status: String,
    pub name: String,
    pub color: String,
    /// The user who made the change (null: the system or a guest).
    pub changed_by: Option<TrackingUser>,
    pub note: Option<String>,
    pub changed_at: String,
}

/// Who changed a status.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingUser {
    pub id: String,
    pub name: Option<String>,
}

/// An order's status and its history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tracking {
    pub order_id: String,
    pub order_number: String,
    pub status: String,
    pub history: Vec<TrackingStep>,
}

/// The order's status history with times and who changed it (owner or admin).
#[utoipa::path(get, path = "/sales/{id}/tracking", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The history, oldest first", body = Tracking),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
    ))]
pub async fn tracking(
    State(app): State<AppState>,
    AnyCaller(user): AnyCaller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Tracking>> {
    let (order, history) = order_workflow::tracking(&app, &user, &store.id, &id).await?;
    Ok(Json(Tracking::of(order, history)))
}

impl Tracking {
    pub fn of(order: Order, history: Vec<HistoryEntry>) -> Tracking {
        Tracking {
            order_id: order.id,
            order_number: order.order_number,
            status: order.status_code,
            history: history
                .into_iter()
                .map(|h| TrackingStep {
                    status: h.status_code,
                    name: h.status_name,
                    color: h.color,
                    changed_by: h.changed_by_id.map(|id| TrackingUser { id, name: h.changed_by_name }),
                    note: h.note,
                    changed_at: h.changed_at,
                })
                .collect(),
        }
    }
}

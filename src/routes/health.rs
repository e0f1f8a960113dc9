//! `GET /api/health` (seed 001 "Monitoreo") and `GET /api/ready`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiError, ErrorBody, codes};
use crate::services::health::Services;

/// Overall state: `healthy`, `degraded` (works, something needs attention) or `unhealthy`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "healthy")]
    pub status: &'static str,
    pub timestamp: String,
    /// Seconds since this process started.
    pub uptime: u64,
    pub version: &'static str,
    pub services: Services,
}

/// The state of the service and what it depends on (probed at most once a second). 503 when
/// the database is down.
#[utoipa::path(get, path = "/api/health", tag = "monitoring",
    responses(
        (status = 200, description = "Healthy or degraded", body = Health),
        (status = 503, description = "Unhealthy", body = Health),
    ))]
pub async fn health(State(app): State<AppState>) -> (StatusCode, Json<Health>) {
    let services = app.health.services(&app).await;
    let status = services.overall();
    let code = if status == "unhealthy" { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    let body = Health {
        status,
        timestamp: feria_domain::time::to_db(feria_domain::time::now()),
        uptime: app.started.elapsed().as_secs(),
        version: env!("CARGO_PKG_VERSION"),
        services,
    };
    (code, Json(body))
}

/// `{status: "ready"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    pub status: &'static str,
}

/// 200 once migrations have run and the database answers; 503 otherwise.
#[utoipa::path(get, path = "/api/ready", tag = "monitoring",
    responses(
        (status = 200, description = "Ready for traffic", body = Ready),
        (status = 503, description = "Not ready", body = ErrorBody),
    ))]
pub async fn ready(State(app): State<AppState>) -> Result<Json<Ready>, ApiError> {
    if !app.migrated.load(Ordering::Acquire) {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::NOT_READY, "Las migraciones no terminaron"));
    }
    match tokio::time::timeout(Duration::from_secs(2), app.db.ping()).await {
        Ok(Ok(_)) => Ok(Json(Ready { status: "ready" })),
        _ => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::NOT_READY, "La base de datos no responde")),
    }
}

//! The assistant's product embeddings: refresh them in a job, check them against the catalog.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::assistant::embeddings::{self, EntityCheck};

/// Seed 001's request: `forceRegenerate`, and the entities (only `products` are embedded).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    pub force_regenerate: Option<bool>,
    pub entities: Option<Vec<String>>,
}

/// The queued job.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationStarted {
    pub message: String,
    /// The job's id (`GET /api/admin/jobs/{id}`).
    pub task_id: String,
    pub entities: Vec<String>,
}

/// Queues the embedding of the store's active products whose text changed (all of them with
/// `forceRegenerate`) with the platform's OpenAI-dialect provider.
#[utoipa::path(post, path = "/chatbot/generate-embeddings", tag = "chatbot", security(("bearer" = [])), request_body = GenerateRequest,
    responses(
        (status = 202, description = "The job was queued", body = GenerationStarted),
        (status = 409, description = "No provider makes embeddings", body = ErrorBody),
        (status = 422, description = "An entity other than products", body = ErrorBody),
    ))]
pub async fn generate(
    State(app): State<AppState>,
    Staff(caller, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<GenerateRequest>,
) -> ApiResult<(StatusCode, Json<GenerationStarted>)> {
    let mut v = Validator::new();
    let entities = body.entities.unwrap_or_else(|| vec!["products".into()]);
    if entities.iter().any(|e| e != "products") {
        v.add("entities", "Solo se generan embeddings de products");
    }
    v.finish()?;
    let done = embeddings::schedule(&app, &caller, &store.id, body.force_regenerate.unwrap_or(false)).await?;
    let task_id = app.settle(done).await;
    Ok((StatusCode::ACCEPTED, Json(GenerationStarted { message: "Generación de embeddings iniciada".into(), task_id, entities })))
}

/// Seed 001's validation: per entity, and what to do about it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub is_consistent: bool,
    pub last_update: Option<String>,
    pub products: EntityCheck,
    pub recommendations: Vec<String>,
}

/// `{validation}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationReport {
    pub validation: Validation,
}

/// How the store's product embeddings compare with its active products.
#[utoipa::path(get, path = "/chatbot/validate-embeddings", tag = "chatbot", security(("bearer" = [])),
    responses((status = 200, description = "The comparison", body = ValidationReport)))]
pub async fn validate(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
) -> ApiResult<Json<ValidationReport>> {
    let products = embeddings::check(&app, &store.id).await?;
    let mut recommendations = Vec::new();
    if !products.is_consistent {
        recommendations.push(format!(
            "{} productos activos, {} embeddings ({} con el modelo actual): ejecutá POST /api/chatbot/generate-embeddings",
            products.db_count, products.embeddings_count, products.current_count
        ));
    }
    Ok(Json(ValidationReport {
        validation: Validation {
            is_consistent: products.is_consistent,
            last_update: products.last_sync.clone(),
            products,
            recommendations,
        },
    }))
}

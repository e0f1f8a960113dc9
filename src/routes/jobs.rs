//! `/api/admin/jobs`: the background-job queue as an admin sees it, and retrying dead jobs.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use feria_jobs::{JobRow, JobState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AdminUser;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::Pagination;

/// A job as admins see it (the payload stays private: it may hold sealed secrets).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: String,
    /// What the job does, e.g. `notify_deliver`.
    pub kind: String,
    /// `queued`, `running`, `done`, `skipped` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When it runs next (queued) or ran last.
    pub run_at: String,
    /// Why the last attempt failed, or why it was skipped.
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<JobRow> for JobView {
    fn from(job: JobRow) -> JobView {
        JobView {
            id: job.id,
            kind: job.kind,
            state: job.state.as_str().to_string(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            run_at: job.run_at,
            last_error: job.last_error,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

/// One page of jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub total: i64,
    pub jobs: Vec<JobView>,
}

fn state_filter(query: Option<&str>) -> ApiResult<Option<JobState>> {
    let Some(raw) = form_urlencoded::parse(query.unwrap_or("").as_bytes()).find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()) else {
        return Ok(None);
    };
    JobState::parse(&raw).map(Some).ok_or_else(|| ApiError::field("state", "Debe ser queued, running, done, skipped o dead"))
}

/// Lists jobs, newest first, optionally by state (`?state=dead` shows what needs attention).
#[utoipa::path(get, path = "/api/admin/jobs", tag = "jobs", security(("bearer" = [])),
    params(
        ("state" = Option<String>, Query, description = "queued, running, done, skipped or dead"),
        ("page" = Option<i64>, Query, description = "Page, from 1"),
        ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100"),
    ),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 422, description = "Unknown state or bad paging", body = ErrorBody),
    ))]
pub async fn list_jobs(
    State(app): State<AppState>,
    _admin: AdminUser,
    page: Pagination,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<JobPage>> {
    let state = state_filter(query.as_deref())?;
    let (total, jobs) = feria_jobs::list(&app.db, state, page.limit, page.offset()).await?;
    Ok(Json(JobPage { total, jobs: jobs.into_iter().map(JobView::from).collect() }))
}

/// `{message, job}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobRetried {
    pub message: String,
    pub job: JobView,
}

/// Puts a dead job back in the queue with a fresh set of attempts.
#[utoipa::path(post, path = "/api/admin/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Queued again", body = JobRetried),
        (status = 404, description = "No dead job with that id", body = ErrorBody),
    ))]
pub async fn retry_job(State(app): State<AppState>, _admin: AdminUser, Path(id): Path<String>) -> ApiResult<Json<JobRetried>> {
    let job = feria_jobs::retry_dead(&app.db, &id).await?.ok_or_else(|| ApiError::not_found("No hay un trabajo muerto con ese id"))?;
    app.job_wake.notify_one();
    Ok(Json(JobRetried { message: "Trabajo reencolado".into(), job: job.into() }))
}

//! `/notifications/workflows` (also under `/api/stores/{slug}/…`): how the store's events reach
//! people, per event and step: on or off, channels in order (an alert tries them in that order),
//! a digest window ("12 pedidos nuevos") and conditions (`settings:write`).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use feria_domain::decimal::{DecimalOut, DecimalText};
use feria_domain::notify::{Channel, EventKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::path::{KindParam, StepParam};
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::notifications::store_workflows::{self, StepSettings, StoreStep};

/// A step of an event's workflow in the store.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStepView {
    /// The event (`order_placed`, `order_paid`, …).
    pub kind: String,
    /// `buyer`, `staff`, `staff_alert`, `shop`, `actor`.
    pub step: String,
    /// Who it reaches: `buyer`, `staff`, `shop`, `actor`.
    pub audience: String,
    /// The first channel that takes the message, then the next ones if it fails (else every
    /// channel at once).
    pub fallback: bool,
    /// The channels feria can use for this step.
    pub available_channels: Vec<String>,
    pub enabled: bool,
    /// In the order they are used.
    pub channels: Vec<String>,
    /// 0: each notification at once; else gathered for this many minutes into one.
    pub digest_minutes: i64,
    /// Only orders of at least this total (events about an order).
    #[schema(value_type = Option<f64>)]
    pub min_total: Option<DecimalOut>,
    /// Only changes to these status codes (`order_status_changed`).
    pub statuses: Option<Vec<String>>,
    /// The store changed it.
    pub custom: bool,
    pub updated_at: Option<String>,
}

fn view(s: StoreStep, exponent: u32) -> WorkflowStepView {
    WorkflowStepView {
        kind: s.kind.as_str().into(),
        step: s.step.name.into(),
        audience: s.step.audience.as_str().into(),
        fallback: s.step.fallback,
        available_channels: s.step.channels.iter().map(|c| c.as_str().to_string()).collect(),
        enabled: s.settings.enabled,
        channels: s.settings.channels.iter().map(|c| c.as_str().to_string()).collect(),
        digest_minutes: s.settings.digest_minutes,
        min_total: s.settings.min_total.map(|t| DecimalOut::scaled(t, exponent)),
        statuses: s.settings.statuses,
        custom: s.custom,
        updated_at: s.updated_at,
    }
}

/// `{steps}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowList {
    pub steps: Vec<WorkflowStepView>,
}

/// A step's settings; what is left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaveWorkflowStep {
    pub enabled: Option<bool>,
    /// Some of the step's available channels, each once, in the order to use them.
    pub channels: Option<Vec<String>>,
    /// 0 to 1440; only steps to the shop's people.
    pub digest_minutes: Option<i64>,
    /// ≥ 0 in the store's currency; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<f64>)]
    pub min_total: Option<Option<DecimalText>>,
    /// Status codes of the store; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub statuses: Option<Option<Vec<String>>>,
}

/// The step a path names (`/{kind}/{step}`); 404 when there is no such event.
pub struct StepKey(EventKind, String);

impl FromRequestParts<AppState> for StepKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let KindParam(kind) = KindParam::from_request_parts(parts, app).await?;
        let StepParam(step) = StepParam::from_request_parts(parts, app).await?;
        let kind = EventKind::parse(&kind).ok_or_else(|| ApiError::not_found("No existe ese evento"))?;
        Ok(StepKey(kind, step))
    }
}

/// Every step the store can change, as it has them (`settings:write`).
#[utoipa::path(get, path = "/notifications/workflows", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The steps", body = WorkflowList)))]
pub async fn list(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
) -> ApiResult<Json<WorkflowList>> {
    let exponent = store.currency.exponent();
    let steps = store_workflows::list(&app.db, &reader, &store.id).await?;
    Ok(Json(WorkflowList { steps: steps.into_iter().map(|s| view(s, exponent)).collect() }))
}

/// A step of an event's workflow (`settings:write`).
#[utoipa::path(get, path = "/notifications/workflows/{kind}/{step}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("step" = String, Path)),
    responses(
        (status = 200, description = "The step", body = WorkflowStepView),
        (status = 404, description = "No such event or step, or not the store's to change", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    StepKey(kind, step): StepKey,
) -> ApiResult<Json<WorkflowStepView>> {
    let found = store_workflows::get(&app.db, &reader, &store.id, kind, &step).await?;
    Ok(Json(view(found, store.currency.exponent())))
}

/// Changes a step: on or off, its channels and their order, a digest window, conditions
/// (`settings:write`).
#[utoipa::path(put, path = "/notifications/workflows/{kind}/{step}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("step" = String, Path)),
    request_body = SaveWorkflowStep,
    responses(
        (status = 200, description = "Saved", body = WorkflowStepView),
        (status = 404, description = "No such event or step, or not the store's to change", body = ErrorBody),
        (status = 422, description = "A channel the step does not use, a digest or condition that does not fit the step", body = ErrorBody),
    ))]
pub async fn save(
    State(app): State<AppState>,
    Staff(writer, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    StepKey(kind, step): StepKey,
    ApiJson(body): ApiJson<SaveWorkflowStep>,
) -> ApiResult<Json<WorkflowStepView>> {
    let exponent = store.currency.exponent();
    let current = store_workflows::get(&app.db, &writer, &store.id, kind, &step).await?.settings;
    let mut v = Validator::new();
    let channels = match body.channels {
        None => current.channels,
        Some(names) if names.len() > Channel::ALL.len() => {
            v.add("channels", "Hay más canales que los que existen");
            Vec::new()
        }
        Some(names) => names
            .iter()
            .filter_map(|name| {
                Channel::parse(name).or_else(|| {
                    v.add("channels", format!("No existe el canal {name}"));
                    None
                })
            })
            .collect(),
    };
    let digest_minutes = body.digest_minutes.unwrap_or(current.digest_minutes);
    let min_total = match body.min_total {
        None => current.min_total,
        Some(value) => value.and_then(|t| v.decimal("minTotal", Some(&t), exponent)),
    };
    let statuses = body.statuses.unwrap_or(current.statuses);
    v.finish()?;
    let settings = StepSettings { enabled: body.enabled.unwrap_or(current.enabled), channels, digest_minutes, min_total, statuses };
    let saved = store_workflows::save(&app.db, &writer, &store.id, kind, &step, settings).await?;
    Ok(Json(view(saved, exponent)))
}

/// Goes back to feria's settings for a step (`settings:write`).
#[utoipa::path(delete, path = "/notifications/workflows/{kind}/{step}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("step" = String, Path)),
    responses(
        (status = 200, description = "feria's settings, in use again", body = WorkflowStepView),
        (status = 404, description = "No such event or step, or not the store's to change", body = ErrorBody),
    ))]
pub async fn reset(
    State(app): State<AppState>,
    Staff(writer, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    StepKey(kind, step): StepKey,
) -> ApiResult<Json<WorkflowStepView>> {
    let found = store_workflows::reset(&app.db, &writer, &store.id, kind, &step).await?;
    Ok(Json(view(found, store.currency.exponent())))
}

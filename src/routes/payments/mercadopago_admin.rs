//! Searching Mercado Pago's own records from the admin.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AdminUser;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::Pagination;
use crate::http::validate::Validator;
use crate::services::payments::mercadopago;

/// Filters of a search in Mercado Pago.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct MercadoPagoQuery {
    /// A Mercado Pago status (`approved`, `pending`, `rejected`…).
    pub status: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC).
    pub date_from: Option<String>,
    /// Up to this day, included (`YYYY-MM-DD`, UTC).
    pub date_to: Option<String>,
}

/// Mercado Pago's answer (seed 001): its payments as it sends them, and its paging.
#[derive(Debug, Serialize, ToSchema)]
pub struct MercadoPagoPage {
    #[schema(value_type = Vec<Object>)]
    pub payments: Value,
    #[schema(value_type = Object)]
    pub paging: Value,
}

/// Searches Mercado Pago's payments of the account; `range` names the date the filters apply to.
async fn search_mercadopago(
    app: &AppState,
    page: Pagination,
    q: MercadoPagoQuery,
    default_status: Option<&str>,
    range: &str,
) -> ApiResult<Json<MercadoPagoPage>> {
    let mut v = Validator::new();
    let status = q.status.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).or(default_status.map(str::to_string));
    if status.as_deref().is_some_and(|s| !s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')) {
        v.add("status", "No es un estado de Mercado Pago");
    }
    let mut day = |field: &str, value: Option<String>| -> Option<chrono::NaiveDate> {
        let value = value.filter(|d| !d.trim().is_empty())?;
        let parsed = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok();
        if parsed.is_none() {
            v.add(field, "Debe ser una fecha AAAA-MM-DD");
        }
        parsed
    };
    let (from, to) = (day("dateFrom", q.date_from), day("dateTo", q.date_to));
    v.finish()?;
    let mut query = vec![
        ("offset", page.offset().to_string()),
        ("limit", page.limit.to_string()),
        ("sort", range.to_string()),
        ("criteria", "desc".to_string()),
    ];
    if let Some(status) = status {
        query.push(("status", status));
    }
    if from.is_some() || to.is_some() {
        query.push(("range", range.to_string()));
        query.push(("begin_date", from.map(|d| format!("{d}T00:00:00.000Z")).unwrap_or_else(|| "NOW-365DAYS".into())));
        query.push(("end_date", to.map(|d| format!("{d}T23:59:59.999Z")).unwrap_or_else(|| "NOW".into())));
    }
    let found = mercadopago::search(app, &query).await?;
    Ok(Json(MercadoPagoPage { payments: found["results"].clone(), paging: found["paging"].clone() }))
}

/// The payments of the Mercado Pago account, straight from Mercado Pago (admin).
#[utoipa::path(get, path = "/payments/mercadopago/payments", tag = "payments", security(("bearer" = [])),
    params(MercadoPagoQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "Mercado Pago's page", body = MercadoPagoPage),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed", body = ErrorBody),
        (status = 409, description = "Mercado Pago is not configured", body = ErrorBody),
    ))]
pub async fn mercadopago_payments(
    State(app): State<AppState>,
    _admin: AdminUser,
    page: Pagination,
    axum::extract::Query(q): axum::extract::Query<MercadoPagoQuery>,
) -> ApiResult<Json<MercadoPagoPage>> {
    search_mercadopago(&app, page, q, None, "date_created").await
}

/// The money received in the Mercado Pago account: its approved payments (unless another
/// `status` is asked for), newest approval first, dates filtering on the approval (admin).
#[utoipa::path(get, path = "/payments/mercadopago/charges", tag = "payments", security(("bearer" = [])),
    params(MercadoPagoQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "Mercado Pago's page", body = MercadoPagoPage),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed", body = ErrorBody),
        (status = 409, description = "Mercado Pago is not configured", body = ErrorBody),
    ))]
pub async fn mercadopago_charges(
    State(app): State<AppState>,
    _admin: AdminUser,
    page: Pagination,
    axum::extract::Query(q): axum::extract::Query<MercadoPagoQuery>,
) -> ApiResult<Json<MercadoPagoPage>> {
    search_mercadopago(&app, page, q, Some("approved"), "date_approved").await
}

//! Reading orders: one, the user's own, the store's with filters.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::AnyCaller;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::{ApiJson, PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use crate::services::customers;
use crate::services::identity::caller::Caller;
use crate::services::orders::{self, OrderFilter};

use super::{SalePage, SaleView};

/// The logged-in user's orders in the store, newest first.
#[utoipa::path(get, path = "/sales/my-orders", tag = "sales", security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
    ))]
pub async fn my_orders(
    State(app): State<AppState>,
    user: Caller,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<SalePage>> {
    let mut conn = app.db.reader().acquire().await?;
    let filter = OrderFilter { user_id: Some(user.id), ..OrderFilter::default() };
    let (total, found) = orders::list(&mut conn, &store.id, &filter, page.limit, page.offset()).await?;
    Ok(Json(SalePage { orders: found.into_iter().map(|o| SaleView::new(o, &store)).collect(), pagination: PageInfo::new(page, total) }))
}

/// One order: its owner or an admin.
#[utoipa::path(get, path = "/sales/{id}", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The order", body = SaleView),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    AnyCaller(user): AnyCaller,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<SaleView>> {
    let order = orders::for_caller(&app, &user, &store.id, &id).await?;
    Ok(Json(SaleView::new(order, &store)))
}

async fn page_of(app: &AppState, store: &Store, filter: OrderFilter, page: Pagination) -> ApiResult<Json<SalePage>> {
    let (total, found) = orders::list(&mut *app.db.reader().acquire().await?, &store.id, &filter, page.limit, page.offset()).await?;
    Ok(Json(SalePage { orders: found.into_iter().map(|o| SaleView::new(o, store)).collect(), pagination: PageInfo::new(page, total) }))
}

/// A date bound: an RFC 3339 time, or a date meaning its start (UTC); `end` turns a date into
/// the start of the next day, so a range of dates includes its last day.
pub fn date_bound(v: &mut Validator, field: &str, value: Option<&str>, end: bool) -> Option<String> {
    let text = value?.trim();
    if let Some(t) = feria_domain::time::from_db(text) {
        return Some(feria_domain::time::to_db(t));
    }
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => {
            let date = if end { date.succ_opt().unwrap_or(date) } else { date };
            Some(feria_domain::time::to_db(date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()))
        }
        Err(_) => {
            v.add(field, "Debe ser una fecha ISO 8601 (2026-12-31 o 2026-12-31T23:59:59Z)");
            None
        }
    }
}

/// Lists the store's orders, newest first (admin): by status code and creation dates.
#[utoipa::path(get, path = "/sales", tag = "sales", security(("bearer" = [])),
    params(
        ("page" = Option<i64>, Query, description = "Page, from 1"),
        ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100"),
        ("status" = Option<String>, Query, description = "Status code"),
        ("from" = Option<String>, Query, description = "Created on or after (date or RFC 3339)"),
        ("to" = Option<String>, Query, description = "Created on or before (a date includes that day)"),
    ),
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
        (status = 422, description = "Bad parameter", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Json<SalePage>> {
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let mut v = Validator::new();
    let filter = OrderFilter {
        status: params.get("status").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        from: date_bound(&mut v, "from", params.get("from").map(String::as_str), false),
        until: date_bound(&mut v, "to", params.get("to").map(String::as_str), true),
        ..OrderFilter::default()
    };
    v.finish()?;
    page_of(&app, &store, filter, page).await
}

/// Lists one customer's orders (admin).
#[utoipa::path(get, path = "/sales/by-customer/{id}", tag = "sales", security(("bearer" = [])),
    params(("id" = String, Path, description = "Customer id"), ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
        (status = 404, description = "No such customer in this store", body = ErrorBody),
    ))]
pub async fn by_customer(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    page: Pagination,
) -> ApiResult<Json<SalePage>> {
    let mut conn = app.db.reader().acquire().await?;
    customers::find(&mut conn, &store.id, customers::Lookup::Id(&id)).await?.ok_or_else(|| ApiError::not_found("Cliente no encontrado"))?;
    drop(conn);
    page_of(&app, &store, OrderFilter { customer_id: Some(id), ..OrderFilter::default() }, page).await
}

/// A range of creation dates, both days included.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub page: Option<i64>,
    pub limit: Option<i64>,
}

/// Lists the orders created between two dates (admin).
#[utoipa::path(post, path = "/sales/by-date-range", tag = "sales", security(("bearer" = [])), request_body = DateRange,
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
        (status = 422, description = "Missing or bad dates", body = ErrorBody),
    ))]
pub async fn by_date_range(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<DateRange>,
) -> ApiResult<Json<SalePage>> {
    let mut v = Validator::new();
    let from = date_bound(&mut v, "startDate", body.start_date.as_deref(), false);
    let until = date_bound(&mut v, "endDate", body.end_date.as_deref(), true);
    for (field, missing) in [("startDate", body.start_date.is_none()), ("endDate", body.end_date.is_none())] {
        if missing {
            v.add(field, "Es obligatorio");
        }
    }
    if from.is_some() && until.is_some() && from >= until {
        v.add("endDate", "Debe ser posterior a startDate");
    }
    let (page_text, limit_text) = (body.page.map(|n| n.to_string()), body.limit.map(|n| n.to_string()));
    let page = Pagination::parse(&mut v, page_text.as_deref(), limit_text.as_deref());
    v.finish()?;
    page_of(&app, &store, OrderFilter { from, until, ..OrderFilter::default() }, page).await
}

//! `/api/coupons` (seed 001 "Cupones"), also under `/api/stores/{slug}/…`. Admins manage them;
//! `GET /coupons/validate/{code}` is public, for checkout.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeDelta};
use feria_domain::time;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody, FieldError, codes};
use crate::http::json::Deleted;
use crate::http::json::{ApiJson, PageInfo, Pagination, query_flag};
use crate::http::path::{CodeParam, IdParam};
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use crate::services::coupons::{self, CodeCheck, Coupon, CouponFields, DiscountType, ListFilter, Refusal};
use feria_domain::decimal::{DecimalOut, DecimalText};

/// A coupon as the API shows it. Amounts are in the store's currency; a percentage in percent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponView {
    pub id: String,
    pub code: String,
    pub description: String,
    /// `percentage` or `fixed`.
    pub discount_type: String,
    /// Percent (`10` = 10 %) or an amount.
    #[schema(value_type = f64)]
    pub discount_value: DecimalOut,
    #[schema(value_type = f64)]
    pub min_order_amount: DecimalOut,
    /// Percentage coupons: the most they take off.
    #[schema(value_type = Option<f64>)]
    pub max_discount_amount: Option<DecimalOut>,
    pub usage_limit: Option<i64>,
    pub used_count: i64,
    pub is_active: bool,
    pub expiration_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl CouponView {
    pub fn new(c: Coupon, store: &Store) -> CouponView {
        let exponent = store.currency.exponent();
        let value_exponent = if c.discount_type == DiscountType::Percentage { 2 } else { exponent };
        CouponView {
            id: c.id,
            code: c.code,
            description: c.description,
            discount_type: c.discount_type.as_str().into(),
            discount_value: DecimalOut::scaled(c.discount_value, value_exponent),
            min_order_amount: DecimalOut::scaled(c.min_order_amount, exponent),
            max_discount_amount: c.max_discount_amount.map(|m| DecimalOut::scaled(m, exponent)),
            usage_limit: c.usage_limit,
            used_count: c.used_count,
            is_active: c.is_active,
            expiration_date: c.expires_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// `{coupon}` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponBody {
    pub coupon: CouponView,
}

/// `{message, coupon}` after an update (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponUpdated {
    pub message: String,
    pub coupon: CouponView,
}

/// `{coupons, pagination}` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponPage {
    pub coupons: Vec<CouponView>,
    pub pagination: PageInfo,
}

/// Fields of a coupon. On create `code`, `discountType` and `discountValue` are required; on
/// update all are optional, and `null` clears `maxDiscountAmount`, `usageLimit` and
/// `expirationDate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponRequest {
    /// 3–20 of `A-Z`, `0-9`, `-`, `_` (lower case is upper-cased); unique in the store.
    pub code: Option<String>,
    /// Up to 500 characters.
    pub description: Option<String>,
    /// `percentage` or `fixed`.
    pub discount_type: Option<String>,
    /// > 0: percent with up to 2 decimals (at most 100), or an amount in the store's currency.
    #[schema(value_type = Option<f64>)]
    pub discount_value: Option<DecimalText>,
    /// ≥ 0, default 0.
    #[schema(value_type = Option<f64>)]
    pub min_order_amount: Option<DecimalText>,
    /// > 0, percentage coupons only.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<f64>)]
    pub max_discount_amount: Option<Option<DecimalText>>,
    /// ≥ 1.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub usage_limit: Option<Option<i64>>,
    /// Default true.
    pub is_active: Option<bool>,
    /// In the future: an RFC 3339 time, or a date (valid through that day, UTC).
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub expiration_date: Option<Option<String>>,
}

/// An expiration as stored: RFC 3339, or the end of a date (UTC).
fn expiration(text: &str) -> Option<String> {
    if let Some(t) = time::from_db(text.trim()) {
        return Some(time::to_db(t));
    }
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    let end = date.and_hms_opt(0, 0, 0)?.and_utc() + TimeDelta::days(1) - TimeDelta::microseconds(1);
    Some(time::to_db(end))
}

/// Validates `body` over `current` (an update) or from nothing (a create).
pub fn fields(body: CouponRequest, store: &Store, current: Option<&Coupon>) -> ApiResult<CouponFields> {
    let creating = current.is_none();
    let exponent = store.currency.exponent();
    let mut v = Validator::new();
    let code = match body.code.as_deref().map(|c| c.trim().to_uppercase()) {
        None if creating => {
            v.add("code", "Es obligatorio");
            None
        }
        None => None,
        Some(c) if (3..=20).contains(&c.len()) && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') => Some(c),
        Some(_) => {
            v.add("code", "Debe tener de 3 a 20 caracteres: letras, dígitos, - o _");
            None
        }
    };
    let description = v.optional_text("description", body.description.as_deref(), 0, 500);
    let discount_type = match body.discount_type.as_deref() {
        None if creating => {
            v.add("discountType", "Es obligatorio");
            None
        }
        None => None,
        Some(t) => DiscountType::parse(t).or_else(|| {
            v.add("discountType", "Debe ser percentage o fixed");
            None
        }),
    };
    let kind = discount_type.or(current.map(|c| c.discount_type));
    let value_exponent = if kind == Some(DiscountType::Percentage) { 2 } else { exponent };
    let discount_value = v.decimal("discountValue", body.discount_value.as_ref(), value_exponent);
    if creating && body.discount_value.is_none() {
        v.add("discountValue", "Es obligatorio");
    }
    let min_order_amount = v.decimal("minOrderAmount", body.min_order_amount.as_ref(), exponent);
    let max_discount_amount = body.max_discount_amount.map(|m| m.and_then(|m| v.decimal("maxDiscountAmount", Some(&m), exponent)));
    let expires_at = body.expiration_date.map(|e| {
        e.and_then(|text| match expiration(&text) {
            Some(at) if at > time::to_db(time::now()) => Some(at),
            Some(_) => {
                v.add("expirationDate", "Debe ser una fecha futura");
                None
            }
            None => {
                v.add("expirationDate", "Debe ser una fecha ISO 8601 (2026-12-31 o 2026-12-31T23:59:59Z)");
                None
            }
        })
    });
    if body.usage_limit.flatten().is_some_and(|l| l < 1) {
        v.add("usageLimit", "Debe ser un número entero mayor o igual a 1");
    }
    let changes = CouponFields {
        code,
        description,
        discount_type,
        discount_value,
        min_order_amount,
        max_discount_amount,
        usage_limit: body.usage_limit,
        is_active: body.is_active,
        expires_at,
    };
    // Rules over the coupon as it would be stored.
    if let Some(kind) = kind {
        let value = changes.discount_value.or(current.map(|c| c.discount_value));
        if value == Some(0) {
            v.add("discountValue", "Debe ser mayor que 0");
        }
        if kind == DiscountType::Percentage && value.is_some_and(|p| p > 10_000) {
            v.add("discountValue", "Un porcentaje no puede superar 100");
        }
        let max = changes.max_discount_amount.unwrap_or(current.and_then(|c| c.max_discount_amount));
        if kind == DiscountType::Fixed && max.is_some() {
            v.add("maxDiscountAmount", "Solo los cupones de porcentaje tienen un descuento máximo");
        }
        if max == Some(0) {
            v.add("maxDiscountAmount", "Debe ser mayor que 0");
        }
    }
    v.finish()?;
    Ok(changes)
}

/// Lists the store's coupons, newest first (admin).
#[utoipa::path(get, path = "/coupons", tag = "coupons", security(("bearer" = [])),
    params(
        ("page" = Option<i64>, Query, description = "Page, from 1"),
        ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100"),
        ("active" = Option<bool>, Query, description = "Only active (true) or inactive (false) coupons"),
        ("expired" = Option<bool>, Query, description = "Include expired coupons (default false)"),
    ),
    responses(
        (status = 200, description = "A page of coupons", body = CouponPage),
        (status = 422, description = "Bad parameter", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::CatalogRead>,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<CouponPage>> {
    let filter = ListFilter {
        active: query_flag(raw.as_deref(), "active")?,
        include_expired: query_flag(raw.as_deref(), "expired")?.unwrap_or(false),
    };
    let (total, found) = coupons::page(&app.db, &store.id, filter, page.limit, page.offset()).await?;
    Ok(Json(CouponPage {
        coupons: found.into_iter().map(|c| CouponView::new(c, &store)).collect(),
        pagination: PageInfo::new(page, total),
    }))
}

/// One coupon (admin).
#[utoipa::path(get, path = "/coupons/{id}", tag = "coupons", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The coupon", body = CouponBody),
        (status = 404, description = "No such coupon in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _staff: Staff<scope::CatalogRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<CouponBody>> {
    let found = coupons::get(&app.db, &store.id, &id).await?;
    Ok(Json(CouponBody { coupon: CouponView::new(found, &store) }))
}

/// Creates a coupon (admin).
#[utoipa::path(post, path = "/coupons", tag = "coupons", security(("bearer" = [])), request_body = CouponRequest,
    responses(
        (status = 201, description = "Created", body = CouponBody),
        (status = 409, description = "Code taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    _staff: Staff<scope::PricesWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<CouponRequest>,
) -> ApiResult<(StatusCode, Json<CouponBody>)> {
    let fields = fields(body, &store, None)?;
    let created = coupons::create(&app.db, &store.id, fields).await?;
    Ok((StatusCode::CREATED, Json(CouponBody { coupon: CouponView::new(created, &store) })))
}

/// Updates a coupon (admin); fields not sent are kept.
#[utoipa::path(put, path = "/coupons/{id}", tag = "coupons", security(("bearer" = [])), params(("id" = String, Path)), request_body = CouponRequest,
    responses(
        (status = 200, description = "Updated", body = CouponUpdated),
        (status = 404, description = "No such coupon in this store", body = ErrorBody),
        (status = 409, description = "Code taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    _staff: Staff<scope::PricesWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<CouponRequest>,
) -> ApiResult<Json<CouponUpdated>> {
    let saved = coupons::update(&app.db, &store.id, &id, |current| fields(body, &store, Some(current))).await?;
    Ok(Json(CouponUpdated { message: "Cupón actualizado".into(), coupon: CouponView::new(saved, &store) }))
}

/// Deactivates a coupon, or deletes it for good with `?force=true` (admin).
#[utoipa::path(delete, path = "/coupons/{id}", tag = "coupons", security(("bearer" = [])),
    params(("id" = String, Path), ("force" = Option<bool>, Query, description = "Delete for good instead of deactivating")),
    responses(
        (status = 200, description = "Deactivated or deleted", body = Deleted),
        (status = 404, description = "No such coupon in this store", body = ErrorBody),
        (status = 409, description = "Used by orders (force only)", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    _staff: Staff<scope::PricesWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Deleted>> {
    let force = query_flag(raw.as_deref(), "force")?.unwrap_or(false);
    coupons::delete(&app.db, &store.id, &id, force).await?;
    let message = if force { "Cupón eliminado" } else { "Cupón desactivado" };
    Ok(Json(Deleted { message: message.into() }))
}

/// What checkout sees of a valid coupon.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicCoupon {
    pub code: String,
    pub description: String,
    pub discount_type: String,
    #[schema(value_type = f64)]
    pub discount_value: DecimalOut,
    #[schema(value_type = Option<f64>)]
    pub max_discount_amount: Option<DecimalOut>,
    #[schema(value_type = f64)]
    pub min_order_amount: DecimalOut,
}

/// A valid coupon and what it takes off `orderAmount` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponValidation {
    pub valid: bool,
    pub coupon: PublicCoupon,
    /// Taken off `orderAmount` (0 without it).
    #[schema(value_type = f64)]
    pub discount_amount: DecimalOut,
    pub message: String,
}

/// A coupon that cannot be used: seed 001's `{valid: false, message}` plus the error envelope
/// (an unknown store answers the envelope alone).
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponRefused {
    #[schema(required = false)]
    pub valid: bool,
    #[schema(required = false)]
    pub message: String,
    pub error: String,
    pub code: String,
    pub details: Vec<FieldError>,
}

fn refused(status: StatusCode, code: &str, message: &str) -> Response {
    let body = CouponRefused { valid: false, message: message.into(), error: message.into(), code: code.into(), details: Vec::new() };
    (status, Json(body)).into_response()
}

/// Checks a coupon code for checkout (public): whether it can be used on an order of
/// `orderAmount` now, and what it would take off.
#[utoipa::path(get, path = "/coupons/validate/{code}", tag = "coupons",
    params(("code" = String, Path), ("orderAmount" = Option<f64>, Query, description = "The order's amount, to check the minimum and compute the discount")),
    responses(
        (status = 200, description = "Valid", body = CouponValidation),
        (status = 400, description = "Inactive, expired, used up or below the minimum", body = CouponRefused),
        (status = 404, description = "No such code", body = CouponRefused),
        (status = 422, description = "Bad orderAmount", body = ErrorBody),
    ))]
pub async fn validate(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    CodeParam(code): CodeParam,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let exponent = store.currency.exponent();
    let mut v = Validator::new();
    let amount_text = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "orderAmount")
        .map(|(_, v)| DecimalText(v.into_owned()));
    let amount = v.decimal("orderAmount", amount_text.as_ref(), exponent);
    v.finish()?;
    let Some(CodeCheck { coupon, outcome }) = coupons::check_code(&app.db, &store.id, &code, amount).await? else {
        return Ok(refused(StatusCode::NOT_FOUND, codes::COUPON_NOT_FOUND, "El cupón no existe"));
    };
    let (code, message) = match outcome {
        Ok(off) => {
            let view = CouponView::new(coupon, &store);
            let body = CouponValidation {
                valid: true,
                coupon: PublicCoupon {
                    code: view.code,
                    description: view.description,
                    discount_type: view.discount_type,
                    discount_value: view.discount_value,
                    max_discount_amount: view.max_discount_amount,
                    min_order_amount: view.min_order_amount,
                },
                discount_amount: DecimalOut::scaled(off, exponent),
                message: "Cupón válido".into(),
            };
            return Ok(Json(body).into_response());
        }
        Err(Refusal::Inactive) => (codes::COUPON_INACTIVE, "El cupón no está activo".to_string()),
        Err(Refusal::Expired) => (codes::COUPON_EXPIRED, "El cupón está vencido".to_string()),
        Err(Refusal::UsedUp) => (codes::COUPON_USED_UP, "El cupón alcanzó su límite de usos".to_string()),
        Err(Refusal::BelowMinimum) => (
            codes::COUPON_BELOW_MINIMUM,
            format!("El pedido debe ser de al menos {}", feria_domain::money::format_scaled(coupon.min_order_amount, exponent)),
        ),
    };
    Ok(refused(StatusCode::BAD_REQUEST, code, &message))
}

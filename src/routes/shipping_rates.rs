//! `/api/shipping-rates`, also under `/api/stores/{slug}/…`: the store's shipping rates for its
//! staff, and `/quote`, the priced options for an order (public: checkouts and storefronts).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, double_option};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use crate::services::shipping_rates::{self, RateFields, ShippingOption, ShippingRate};
use feria_domain::decimal::{DecimalOut, DecimalText};

/// A shipping rate as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRateView {
    pub id: String,
    /// Lower case, unique in the store (`standard`, `express-us`…).
    pub code: String,
    pub title: String,
    /// ISO 3166-1 alpha-2; null: every country without its own rate of the level.
    pub country: Option<String>,
    /// Lower case (`standard`, `express`…).
    pub service_level: String,
    /// In the store's currency.
    #[schema(value_type = f64, example = 1500.5)]
    pub price: DecimalOut,
    /// Free when the order's subtotal reaches this (store currency); null: never free.
    #[schema(value_type = Option<f64>, example = 50000)]
    pub free_from: Option<DecimalOut>,
    /// ISO 4217 code of the store's currency.
    pub currency: String,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl ShippingRateView {
    fn new(r: ShippingRate, store: &Store) -> ShippingRateView {
        let exponent = store.currency.exponent();
        ShippingRateView {
            id: r.id,
            code: r.code,
            title: r.title,
            country: r.country,
            service_level: r.service_level,
            price: DecimalOut::scaled(r.price, exponent),
            free_from: r.free_from.map(|f| DecimalOut::scaled(f, exponent)),
            currency: store.currency.code().into(),
            is_active: r.is_active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `{shippingRates}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRateList {
    /// By service level, each country's rates before the level's default one, then by code.
    pub shipping_rates: Vec<ShippingRateView>,
}

/// One way to ship the order, priced.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOptionView {
    /// The rate's code (`envio-a-coordinar` for a store without rates).
    pub code: String,
    pub title: String,
    /// What shipping costs in the store's currency; 0 when free.
    #[schema(value_type = f64, example = 1500)]
    pub amount: DecimalOut,
    /// The rate became free for this subtotal.
    pub free: bool,
}

/// The options for an order, cheapest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingQuote {
    /// ISO 4217 code of the store's currency.
    pub currency: String,
    pub options: Vec<ShippingOptionView>,
}

/// Fields of a rate. Amounts may be sent as JSON numbers or as strings, in the store's
/// currency with at most its decimals. On create `code`, `title`, `serviceLevel` and `price`
/// are required; on update every field is optional and a field not sent is kept.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRateRequest {
    /// 2–40 of `a-z`, `0-9`, `-`, `_` (upper case is lower-cased); unique in the store.
    pub code: Option<String>,
    /// 2–100 characters.
    pub title: Option<String>,
    /// ISO 3166-1 alpha-2 (lower case is upper-cased); null or absent on create: the level's
    /// default rate, for every country without its own.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "AR")]
    pub country: Option<Option<String>>,
    /// 2–30 of `a-z`, `0-9`, `-`, `_` (upper case is lower-cased): `standard`, `express`…
    pub service_level: Option<String>,
    /// ≥ 0.
    #[schema(value_type = Option<f64>, example = 1500.5)]
    pub price: Option<DecimalText>,
    /// Free from this order subtotal, ≥ 0; null: never free.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>, example = 50000)]
    pub free_from: Option<Option<DecimalText>>,
    /// Default true.
    pub is_active: Option<bool>,
}

/// A lower-case identifier of 2–`max` of `a-z`, `0-9`, `-`, `_`; `None` when absent (a problem
/// when `required`) or invalid.
fn identifier(v: &mut Validator, field: &str, value: Option<&str>, max: usize, required: bool) -> Option<String> {
    let Some(text) = value.map(|t| t.trim().to_lowercase()) else {
        if required {
            v.add(field, "Es obligatorio");
        }
        return None;
    };
    if (2..=max).contains(&text.len()) && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        Some(text)
    } else {
        v.add(field, format!("Debe tener de 2 a {max} caracteres: letras a-z, dígitos, - o _"));
        None
    }
}

/// An ISO 3166-1 alpha-2 code, upper-cased; blank is none.
fn country_code(v: &mut Validator, field: &str, value: &str) -> Option<String> {
    let code = value.trim().to_ascii_uppercase();
    if code.is_empty() {
        return None;
    }
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        v.add(field, "Debe ser un código de país ISO de dos letras (AR, US…)");
        return None;
    }
    Some(code)
}

/// Validates the request; `creating` makes `code`, `title`, `serviceLevel` and `price` required.
fn fields(body: ShippingRateRequest, store: &Store, creating: bool) -> ApiResult<RateFields> {
    let exponent = store.currency.exponent();
    let mut v = Validator::new();
    let code = identifier(&mut v, "code", body.code.as_deref(), 40, creating);
    let title = if creating {
        Some(v.text("title", body.title.as_deref(), 2, 100))
    } else {
        v.optional_text("title", body.title.as_deref(), 2, 100)
    };
    let country = body.country.map(|c| c.and_then(|c| country_code(&mut v, "country", &c)));
    let service_level = identifier(&mut v, "serviceLevel", body.service_level.as_deref(), 30, creating);
    if creating && body.price.is_none() {
        v.add("price", "Es obligatorio");
    }
    let price = v.decimal("price", body.price.as_ref(), exponent);
    let free_from = body.free_from.map(|f| f.and_then(|f| v.decimal("freeFrom", Some(&f), exponent)));
    v.finish()?;
    Ok(RateFields { code, title, country, service_level, price, free_from, is_active: body.is_active })
}

/// The options for an order (public): per service level the country's own rate, else the
/// level's default one, free when the subtotal reaches the rate's `freeFrom`; cheapest first.
/// A store without active rates offers one option, `envio-a-coordinar`, at no charge.
#[utoipa::path(get, path = "/shipping-rates/quote", tag = "shipping-rates",
    params(
        ("country" = Option<String>, Query, description = "ISO 3166-1 alpha-2 of the destination; without it, the default rates"),
        ("subtotal" = Option<f64>, Query, description = "The order's subtotal in the store's currency, for free shipping; default 0"),
    ),
    responses(
        (status = 200, description = "The options, cheapest first", body = ShippingQuote),
        (status = 422, description = "Bad country or subtotal", body = ErrorBody),
    ))]
pub async fn quote(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ShippingQuote>> {
    let exponent = store.currency.exponent();
    let (mut country_text, mut subtotal_text) = (None, None);
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "country" if country_text.is_none() => country_text = Some(value.into_owned()),
            "subtotal" if subtotal_text.is_none() => subtotal_text = Some(DecimalText(value.into_owned())),
            _ => {}
        }
    }
    let mut v = Validator::new();
    let destination = country_text.and_then(|c| country_code(&mut v, "country", &c));
    let subtotal = v.decimal("subtotal", subtotal_text.as_ref(), exponent).unwrap_or(0);
    v.finish()?;
    let options = shipping_rates::quote(&app.db, &store.id, destination.as_deref(), subtotal).await?;
    let view = |o: ShippingOption| ShippingOptionView {
        code: o.code,
        title: o.title,
        amount: DecimalOut::scaled(o.amount, exponent),
        free: o.free,
    };
    Ok(Json(ShippingQuote { currency: store.currency.code().into(), options: options.into_iter().map(view).collect() }))
}

/// Every rate of the store, active or not (staff).
#[utoipa::path(get, path = "/shipping-rates", tag = "shipping-rates", security(("bearer" = [])),
    responses(
        (status = 200, description = "The rates", body = ShippingRateList),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
) -> ApiResult<Json<ShippingRateList>> {
    let found = shipping_rates::list(&app.db, &store.id).await?;
    Ok(Json(ShippingRateList { shipping_rates: found.into_iter().map(|r| ShippingRateView::new(r, &store)).collect() }))
}

/// One rate (staff).
#[utoipa::path(get, path = "/shipping-rates/{id}", tag = "shipping-rates", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The rate", body = ShippingRateView),
        (status = 404, description = "No such rate in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _staff: Staff<scope::OrdersRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ShippingRateView>> {
    Ok(Json(ShippingRateView::new(shipping_rates::get(&app.db, &store.id, &id).await?, &store)))
}

/// Creates a rate (`prices:write`).
#[utoipa::path(post, path = "/shipping-rates", tag = "shipping-rates", security(("bearer" = [])), request_body = ShippingRateRequest,
    responses(
        (status = 201, description = "Created", body = ShippingRateView),
        (status = 409, description = "Code taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    _staff: Staff<scope::PricesWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<ShippingRateRequest>,
) -> ApiResult<(StatusCode, Json<ShippingRateView>)> {
    let fields = fields(body, &store, true)?;
    let created = shipping_rates::create(&app.db, &store.id, fields).await?;
    Ok((StatusCode::CREATED, Json(ShippingRateView::new(created, &store))))
}

/// Updates a rate (`prices:write`); fields not sent are kept, `null` clears `country` and
/// `freeFrom`.
#[utoipa::path(put, path = "/shipping-rates/{id}", tag = "shipping-rates", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ShippingRateRequest,
    responses(
        (status = 200, description = "Updated", body = ShippingRateView),
        (status = 404, description = "No such rate in this store", body = ErrorBody),
        (status = 409, description = "Code taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    _staff: Staff<scope::PricesWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<ShippingRateRequest>,
) -> ApiResult<Json<ShippingRateView>> {
    let fields = fields(body, &store, false)?;
    Ok(Json(ShippingRateView::new(shipping_rates::update(&app.db, &store.id, &id, fields).await?, &store)))
}

/// Deletes a rate (`prices:write`) and answers it as it was.
#[utoipa::path(delete, path = "/shipping-rates/{id}", tag = "shipping-rates", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = ShippingRateView),
        (status = 404, description = "No such rate in this store", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    _staff: Staff<scope::PricesWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ShippingRateView>> {
    Ok(Json(ShippingRateView::new(shipping_rates::delete(&app.db, &store.id, &id).await?, &store)))
}

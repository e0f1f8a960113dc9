//! `/api/payments` (seed 001 "Pagos"), also under `/api/stores/{slug}/…`: paying an order with
//! Mercado Pago, its webhook and return URLs, verification, and the admin's view of the ledger.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use feria_domain::decimal::DecimalOut;
use feria_domain::roles::Role;
use feria_providers::mercadopago as mp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::config::SIGNATURE_TOLERANCE_SECS;
use crate::http::auth::{AdminUser, AuthUser, ClientIp, MaybeUser};
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::{ApiJson, PageInfo, Pagination, parse_json};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use crate::services::order_statuses::Key;
use crate::services::orders::{self, Order};
use crate::services::payment_methods;
use crate::services::payments::mercadopago;
use crate::services::payments::refunds::{self, RefundError};
use crate::services::payments::webhook_log::{self, Received, WebhookFilter};
use crate::services::payments::{self, Payment, PaymentFilter, PaymentStatus};
use crate::services::payments::{PaymentError, manual, stripe};
use feria_domain::decimal::DecimalText;

/// A payment as the API shows it; amounts are decimals in the order's currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub id: String,
    /// The order paid.
    pub sale_id: String,
    /// `mercadopago`, `stripe` or `manual`.
    pub provider: String,
    #[schema(value_type = f64)]
    pub amount: DecimalOut,
    pub currency: String,
    /// `pending`, `authorized`, `approved`, `rejected`, `cancelled`, `refunded` or `charged_back`.
    pub status: String,
    pub status_detail: Option<String>,
    /// The provider's id for the payment, once it has one.
    pub provider_id: Option<String>,
    pub preference_id: Option<String>,
    pub external_reference: String,
    /// The provider charged another amount or currency than the one asked for; the order was
    /// not marked paid.
    pub amount_mismatch: bool,
    /// Money was approved after the order was cancelled or refunded and is not all given back
    /// yet: refund it (`POST /payments/{id}/refund`).
    pub needs_refund: bool,
    /// Charged so far.
    #[schema(value_type = f64)]
    pub paid_amount: DecimalOut,
    /// Given back so far (refunds and chargebacks).
    #[schema(value_type = f64)]
    pub refunded_amount: DecimalOut,
    /// The provider's last answer (admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub provider_data: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl PaymentView {
    fn new(p: Payment, store: &Store, with_provider_data: bool) -> PaymentView {
        let exponent = store.currency.exponent();
        PaymentView {
            id: p.id,
            sale_id: p.order_id,
            provider: p.provider,
            amount: DecimalOut::scaled(p.amount, exponent),
            currency: p.currency,
            status: p.status,
            status_detail: p.status_detail,
            provider_id: p.provider_payment_id,
            preference_id: p.preference_id,
            external_reference: p.external_reference,
            amount_mismatch: p.amount_mismatch,
            needs_refund: p.needs_refund && p.paid > p.refunded,
            paid_amount: DecimalOut::scaled(p.paid, exponent),
            refunded_amount: DecimalOut::scaled(p.refunded, exponent),
            provider_data: if with_provider_data { p.provider_data } else { None },
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// The answer for a payment that could not be started or brought up to date.
pub(crate) fn payment_error(e: PaymentError) -> ApiError {
    match e {
        // The shop's set-up, not a failure of feria: a 409 the client can show.
        PaymentError::NotConfigured(provider) => {
            ApiError::conflict(codes::PROVIDER_NOT_CONFIGURED, format!("Los pagos con {provider} no están configurados en esta tienda"))
        }
        PaymentError::Provider(cause) => ApiError::upstream("El proveedor de pagos no respondió correctamente; intentá de nuevo", cause),
        PaymentError::UnknownPayment => ApiError::not_found("El pago no existe"),
        PaymentError::Foreign => ApiError::field("providerId", "No es un pago de los pedidos de esta tienda"),
        PaymentError::Database(e) => ApiError::internal(e),
    }
}

/// How to pay an order (seed 001).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartPayment {
    /// `mercadopago` (the default).
    pub payment_method: Option<String>,
    /// A page of the frontend (under `FRONTEND_URL`) to come back to instead of the configured
    /// success, failure or pending page.
    pub return_url: Option<String>,
}

/// The Checkout Pro preference the buyer is sent to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceView {
    pub id: String,
    /// Where to send the buyer.
    pub init_point: Option<String>,
    pub sandbox_init_point: Option<String>,
}

/// `{payment, preference}` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStarted {
    pub payment: PaymentView,
    pub preference: PreferenceView,
}

/// Whether `user` may pay the order: anyone for a guest's order (its id is the capability), its
/// owner or an admin for a user's.
fn may_pay(order: &Order, user: Option<&AuthUser>) -> bool {
    order.user_id.as_ref().is_none_or(|owner| user.is_some_and(|u| &u.id == owner || u.has_role(Role::Admin)))
}

/// The order `id` if the caller may pay it and it still owes something: a guest's order needs
/// only its id; a user's order, its owner (or an admin). Returns it with what it owes.
async fn payable_order(app: &AppState, store: &Store, user: Option<&AuthUser>, id: &str) -> ApiResult<(Order, i64)> {
    let mut conn = app.db.reader().acquire().await?;
    let order = orders::find(&mut conn, &store.id, id).await?.ok_or_else(|| ApiError::not_found("El pedido no existe"))?;
    if !may_pay(&order, user) {
        return Err(ApiError::not_found("El pedido no existe"));
    }
    if [orders::CANCELLED, payments::apply::REFUNDED].contains(&order.status_code.as_str()) {
        return Err(ApiError::conflict(codes::ORDER_NOT_PAYABLE, format!("El pedido está {}", order.status_name)));
    }
    let money = payments::order_money(&mut conn, &order.id).await?;
    let owed = order.total - (money.paid - money.refunded);
    if owed <= 0 {
        return Err(ApiError::conflict(codes::ORDER_ALREADY_PAID, "El pedido ya está pagado"));
    }
    Ok((order, owed))
}

/// Starts paying an order with Mercado Pago: a Checkout Pro preference for what the order still
/// owes, and a pending payment. A guest's order needs only its id; a user's order, its owner
/// (or an admin).
#[utoipa::path(post, path = "/payments/sale/{id}", tag = "payments", params(("id" = String, Path, description = "The order"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    request_body = StartPayment,
    responses(
        (status = 201, description = "Preference created", body = PaymentStarted),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order is cancelled, refunded or already paid, or the provider is not configured", body = ErrorBody),
        (status = 422, description = "Unknown payment method", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed; nothing was recorded", body = ErrorBody),
    ))]
pub async fn start(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<PaymentStarted>)> {
    // The body is optional.
    let body: StartPayment = if body.iter().all(u8::is_ascii_whitespace) { StartPayment::default() } else { parse_json(&body)? };
    let method =
        body.payment_method.as_deref().map(|m| m.trim().to_ascii_lowercase().replace('_', "")).unwrap_or_else(|| "mercadopago".into());
    if method != "mercadopago" {
        return Err(ApiError::field("paymentMethod", "Solo se admite mercadopago aquí"));
    }
    let return_url = body.return_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    if return_url.as_deref().is_some_and(|u| !is_frontend_page(&app, u)) {
        return Err(ApiError::field("returnUrl", "Debe ser una página del frontend de la tienda"));
    }
    let (order, owed) = payable_order(&app, &store, user.as_ref(), &id).await?;
    let (payment, preference) = mercadopago::start(&app, &store, &order, owed, return_url.as_deref()).await.map_err(payment_error)?;
    let preference =
        PreferenceView { id: preference.id, init_point: preference.init_point, sandbox_init_point: preference.sandbox_init_point };
    Ok((StatusCode::CREATED, Json(PaymentStarted { payment: PaymentView::new(payment, &store, false), preference })))
}

/// The query string as a map (first value of each name).
fn query_map(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Stores a webhook as received, before anything is done with it; returns its log id.
/// `about` is (event type, provider resource id, format).
#[allow(clippy::too_many_arguments)]
async fn log_webhook(
    app: &AppState,
    store: &Store,
    source: &str,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    body: &str,
    ip: &str,
    about: (Option<&str>, Option<&str>, &str),
    signature_valid: bool,
) -> ApiResult<String> {
    let kept = ["x-signature", "x-request-id", "stripe-signature", "user-agent", "content-type", "x-retry"];
    let kept_headers: serde_json::Map<String, Value> =
        kept.iter().filter_map(|h| header_text(headers, h).map(|v| (h.to_string(), Value::String(v.to_string())))).collect();
    let (event_type, resource_id, format) = about;
    let received = Received {
        store_id: &store.id,
        source,
        event_type,
        resource_id,
        format,
        headers: &Value::Object(kept_headers),
        query: &json!(query_map(raw_query)),
        body,
        ip,
        user_agent: header_text(headers, "user-agent"),
        signature_valid,
    };
    Ok(webhook_log::record(&mut *app.db.writer().acquire().await?, &received).await?)
}

/// Marks a logged webhook with what processing did.
async fn finish_webhook(app: &AppState, log_id: &str, processed: bool, outcome: String, changed: bool) -> ApiResult<()> {
    Ok(webhook_log::finish(&mut *app.db.writer().acquire().await?, log_id, processed, &outcome, changed).await?)
}

/// The seed's answer to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub message: String,
}

/// Mercado Pago's notifications: the signed JSON webhook (`x-signature` checked against
/// `MERCADOPAGO_WEBHOOK_SECRET`, 5-minute window) and the legacy `?topic=payment&id=` form
/// (which Mercado Pago cannot sign: only a hint). Every notification is logged first; the
/// payment is then fetched from Mercado Pago and applied, once however often it arrives.
#[utoipa::path(post, path = "/payments/webhook", tag = "payments",
    responses(
        (status = 200, description = "Processed (or not about a payment)", body = WebhookAnswer),
        (status = 400, description = "Not a Mercado Pago notification", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature; logged, nothing applied", body = ErrorBody),
        (status = 502, description = "Mercado Pago could not be asked; it will retry", body = ErrorBody),
    ))]
pub async fn mercadopago_webhook(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    app.rate_limiter.spend("webhook-mercadopago", &ip, app.config.limits.webhooks).await?;
    let query = query_map(raw_query.as_deref());
    let text = String::from_utf8_lossy(&body).into_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let data_id = query.get("data.id").cloned();
    let (format, event_type, resource_id) = if data_id.is_some() || (json.get("type").is_some() && json.get("data").is_some()) {
        let resource = data_id.clone().or_else(|| mp::id_text(&json["data"]["id"]));
        ("webhook", query.get("type").cloned().or_else(|| json["type"].as_str().map(str::to_string)), resource)
    } else if let (Some(topic), Some(id)) = (query.get("topic"), query.get("id")) {
        ("ipn", Some(topic.clone()), Some(id.clone()))
    } else {
        ("unknown", None, None)
    };
    let signature = match format {
        "webhook" => match mercadopago::config(&app).ok().and_then(|c| c.webhook_secret.as_ref()) {
            None => Err("MERCADOPAGO_WEBHOOK_SECRET is not set".to_string()),
            Some(secret) => mp::verify_signature(
                secret.expose(),
                header_text(&headers, "x-signature"),
                header_text(&headers, "x-request-id"),
                data_id.as_deref(),
                chrono::Utc::now().timestamp(),
                SIGNATURE_TOLERANCE_SECS,
            )
            .map_err(|e| e.to_string()),
        },
        "ipn" => Err("legacy notification (Mercado Pago does not sign them; only fetched)".to_string()),
        _ => Err("not a Mercado Pago notification".to_string()),
    };
    let log_id = log_webhook(
        &app,
        &store,
        "mercadopago",
        &headers,
        raw_query.as_deref(),
        &text,
        &ip,
        (event_type.as_deref(), resource_id.as_deref(), format),
        signature.is_ok(),
    )
    .await?;
    let finish = |processed: bool, outcome: String, changed: bool| finish_webhook(&app, &log_id, processed, outcome, changed);
    match (format, &signature) {
        ("unknown", _) => {
            finish(false, "refused: not a Mercado Pago notification".into(), false).await?;
            return Err(ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, "No es una notificación de Mercado Pago"));
        }
        ("webhook", Err(why)) => {
            finish(false, format!("refused: {why}"), false).await?;
            return Err(ApiError::unauthorized(codes::INVALID_SIGNATURE, "La firma de la notificación no es válida"));
        }
        _ => {}
    }
    let processed = WebhookAnswer { message: "Webhook processed successfully".into() };
    let (Some(resource), Some("payment")) = (resource_id.as_deref(), event_type.as_deref()) else {
        finish(true, format!("ignored: topic {}", event_type.as_deref().unwrap_or("(none)")), false).await?;
        return Ok(Json(processed));
    };
    match mercadopago::sync(&app, &store, resource, "webhook").await {
        Ok((_, applied)) => finish(true, applied.outcome, applied.changed).await?,
        Err(PaymentError::Foreign) => finish(true, "ignored: not a payment of this store's orders".into(), false).await?,
        Err(e) => {
            finish(false, format!("failed: {e}"), false).await?;
            return Err(payment_error(e));
        }
    }
    Ok(Json(processed))
}

/// The parameters Mercado Pago adds to a return URL that the frontend gets (protocol §7).
const FORWARDED: &[&str] = &[
    "collection_id",
    "collection_status",
    "payment_id",
    "status",
    "external_reference",
    "payment_type",
    "merchant_order_id",
    "preference_id",
    "site_id",
    "processing_mode",
];

/// Whether `url` is a page of the frontend (`FRONTEND_URL` or below it), so redirecting there
/// cannot send the buyer elsewhere.
fn is_frontend_page(app: &AppState, url: &str) -> bool {
    let base = &app.config.frontend_url;
    url == base || url.strip_prefix(base.as_str()).is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
}

/// Where Mercado Pago sends the buyer back: to the frontend's page for the outcome, with the
/// payment's parameters (`"null"` values left out). They are the buyer's input: the frontend
/// should ask `POST /api/payments/verify` for the real state.
fn back_to_frontend(app: &AppState, outcome: &str, raw_query: Option<&str>) -> Response {
    let target = match (mercadopago::config(app).ok(), outcome) {
        (Some(c), "success") => c.success_url.clone(),
        (Some(c), "failure") => c.failure_url.clone(),
        (Some(c), _) => c.pending_url.clone(),
        (None, _) => format!("{}/payment/{outcome}", app.config.frontend_url),
    };
    let query = query_map(raw_query);
    // A page of the frontend the buyer started from (`returnUrl` when paying) replaces the default.
    let target = query.get("returnUrl").filter(|url| is_frontend_page(app, url)).cloned().unwrap_or(target);
    let mut out = form_urlencoded::Serializer::new(String::new());
    for name in FORWARDED {
        if let Some(value) = query.get(*name).filter(|v| !v.is_empty() && *v != "null") {
            out.append_pair(name, value);
        }
    }
    let query = out.finish();
    let separator = if target.contains('?') { '&' } else { '?' };
    let location = if query.is_empty() { target } else { format!("{target}{separator}{query}") };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Mercado Pago's return URL after an approved payment: 302 to the frontend.
#[utoipa::path(get, path = "/payments/success", tag = "payments", responses((status = 302, description = "To the frontend's success page")))]
pub async fn success(State(app): State<AppState>, RawQuery(q): RawQuery) -> Response {
    back_to_frontend(&app, "success", q.as_deref())
}

/// Mercado Pago's return URL after a failed payment: 302 to the frontend.
#[utoipa::path(get, path = "/payments/failure", tag = "payments", responses((status = 302, description = "To the frontend's failure page")))]
pub async fn failure(State(app): State<AppState>, RawQuery(q): RawQuery) -> Response {
    back_to_frontend(&app, "failure", q.as_deref())
}

/// Mercado Pago's return URL for a payment still pending: 302 to the frontend.
#[utoipa::path(get, path = "/payments/pending", tag = "payments", responses((status = 302, description = "To the frontend's pending page")))]
pub async fn pending(State(app): State<AppState>, RawQuery(q): RawQuery) -> Response {
    back_to_frontend(&app, "pending", q.as_deref())
}

/// A payment to check with its provider.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// feria's id of the payment.
    pub payment_id: Option<String>,
    /// Mercado Pago's id of the payment, when the return URL gave one.
    pub provider_id: Option<String>,
}

/// The payment after checking it (seed 001).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub payment: PaymentView,
    /// Checking it changed something.
    pub is_updated: bool,
}

/// Asks Mercado Pago for the payment's current state and applies it (as a webhook would): for
/// whoever may pay its order (a guest's: anyone holding the payment id; a user's: its owner or
/// an admin).
#[utoipa::path(post, path = "/payments/verify", tag = "payments", request_body = VerifyRequest,
    responses(
        (status = 200, description = "The payment, up to date", body = Verified),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "No such payment of yours", body = ErrorBody),
        (status = 422, description = "Missing paymentId, or a providerId of another order", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed", body = ErrorBody),
    ))]
pub async fn verify(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> ApiResult<Json<Verified>> {
    let id = body
        .payment_id
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::field("paymentId", "Es obligatorio"))?;
    let admin = user.as_ref().is_some_and(|u| u.has_role(Role::Admin));
    let not_found = || ApiError::not_found("El pago no existe");
    let mut conn = app.db.reader().acquire().await?;
    let payment = payments::find(&mut conn, &store.id, &id).await?.ok_or_else(not_found)?;
    let order = orders::find(&mut conn, &store.id, &payment.order_id).await?.ok_or_else(not_found)?;
    drop(conn);
    if !may_pay(&order, user.as_ref()) {
        return Err(not_found());
    }
    if payment.provider != payments::Provider::MercadoPago.as_str() {
        return Ok(Json(Verified { payment: PaymentView::new(payment, &store, admin), is_updated: false }));
    }
    let asked = body.provider_id.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    let provider_id = match asked.or_else(|| payment.provider_payment_id.clone()) {
        Some(known) => Some(known),
        None => mercadopago::latest_for_order(&app, &payment.order_id).await.map_err(payment_error)?,
    };
    let Some(provider_id) = provider_id else {
        return Ok(Json(Verified { payment: PaymentView::new(payment, &store, admin), is_updated: false }));
    };
    let (updated, applied) = mercadopago::sync(&app, &store, &provider_id, "verify").await.map_err(payment_error)?;
    if updated.order_id != payment.order_id {
        return Err(ApiError::field("providerId", "Es un pago de otro pedido"));
    }
    Ok(Json(Verified { payment: PaymentView::new(updated, &store, admin), is_updated: applied.changed }))
}

/// One page of payments (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPage {
    pub payments: Vec<PaymentView>,
    pub pagination: PageInfo,
}

/// Filters of the payment list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// Only payments in this status.
    pub status: Option<String>,
}

fn status_filter(status: Option<String>) -> ApiResult<Option<String>> {
    match status.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if PaymentStatus::parse(&s).is_some() => Ok(Some(s)),
        Some(_) => Err(ApiError::field("status", "Debe ser pending, authorized, approved, rejected, cancelled, refunded o charged_back")),
    }
}

async fn page_of(app: &AppState, store: &Store, filter: PaymentFilter, page: Pagination) -> ApiResult<Json<PaymentPage>> {
    let (total, found) = payments::list(&mut *app.db.reader().acquire().await?, &store.id, &filter, page.limit, page.offset()).await?;
    Ok(Json(PaymentPage {
        payments: found.into_iter().map(|p| PaymentView::new(p, store, true)).collect(),
        pagination: PageInfo::new(page, total),
    }))
}

/// Every payment of the store, newest first (admin).
#[utoipa::path(get, path = "/payments", tag = "payments", security(("bearer" = [])), params(PaymentQuery, ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = PaymentPage),
        (status = 422, description = "Unknown status", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    axum::extract::Query(q): axum::extract::Query<PaymentQuery>,
) -> ApiResult<Json<PaymentPage>> {
    page_of(&app, &store, PaymentFilter { status: status_filter(q.status)?, order_id: None }, page).await
}

/// The payments of one order, newest first (admin).
#[utoipa::path(get, path = "/payments/by-sale/{id}", tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "The order"), ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "One page", body = PaymentPage),
    ))]
pub async fn by_sale(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    page: Pagination,
) -> ApiResult<Json<PaymentPage>> {
    page_of(&app, &store, PaymentFilter { status: None, order_id: Some(id) }, page).await
}

/// One payment with its ledger and the last webhook about it (admin).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetail {
    #[serde(flatten)]
    pub payment: PaymentView,
    /// The body of the last webhook about this payment, if any.
    #[schema(value_type = Option<Object>)]
    pub webhook_data: Option<Value>,
}

/// `{payment}` (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOne {
    pub payment: PaymentDetail,
}

/// One payment (admin).
#[utoipa::path(get, path = "/payments/{id}", tag = "payments", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The payment", body = PaymentOne),
        (status = 404, description = "No such payment", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<PaymentOne>> {
    let mut conn = app.db.reader().acquire().await?;
    let payment = payments::find(&mut conn, &store.id, &id).await?.ok_or_else(|| ApiError::not_found("El pago no existe"))?;
    let webhook_data = match &payment.provider_payment_id {
        Some(resource) => {
            let filter =
                WebhookFilter { resource_id: Some(resource.clone()), source: Some(payment.provider.clone()), ..WebhookFilter::default() };
            let (_, last) = webhook_log::list(&mut conn, &store.id, &filter, 1, 0).await?;
            last.first().map(|w| serde_json::from_str(&w.body).unwrap_or(Value::String(w.body.clone())))
        }
        None => None,
    };
    Ok(Json(PaymentOne { payment: PaymentDetail { payment: PaymentView::new(payment, &store, true), webhook_data } }))
}

/// The preference and the state of its payment (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferenceState {
    pub preference: PreferenceSummary,
    pub payment: PaymentSummary,
}

/// A preference as Mercado Pago has it, with its payment's status (never the payer's details).
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferenceSummary {
    pub id: String,
    pub status: String,
    #[schema(value_type = Vec<Object>)]
    pub items: Value,
}

/// The local payment of a preference.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentSummary {
    pub id: String,
    pub status: String,
    #[schema(value_type = f64)]
    pub amount: DecimalOut,
}

/// A preference of this store, read from Mercado Pago, with its payment's state: for whoever
/// may pay its order (a guest's: anyone holding the preference id; a user's: its owner or an
/// admin).
#[utoipa::path(get, path = "/payments/preference/{id}", tag = "payments", params(("id" = String, Path, description = "The preference")),
    responses(
        (status = 200, description = "The preference", body = PreferenceState),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "No payment of yours in this store has this preference", body = ErrorBody),
        (status = 502, description = "Mercado Pago failed", body = ErrorBody),
    ))]
pub async fn preference(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<PreferenceState>> {
    let not_found = || ApiError::not_found("La preferencia no existe");
    let mut conn = app.db.reader().acquire().await?;
    let payment = payments::find_by_preference(&mut conn, &store.id, &id).await?.ok_or_else(not_found)?;
    let order = orders::find(&mut conn, &store.id, &payment.order_id).await?.ok_or_else(not_found)?;
    drop(conn);
    if !may_pay(&order, user.as_ref()) {
        return Err(not_found());
    }
    let found = mercadopago::preference(&app, &id).await.map_err(payment_error)?;
    Ok(Json(PreferenceState {
        preference: PreferenceSummary { id, status: payment.status.clone(), items: found["items"].clone() },
        payment: PaymentSummary {
            id: payment.id,
            status: payment.status,
            amount: DecimalOut::scaled(payment.amount, store.currency.exponent()),
        },
    }))
}

fn refund_error(e: RefundError, store: &Store) -> ApiError {
    match e {
        RefundError::NothingLeft => ApiError::conflict(codes::NOTHING_TO_REFUND, "El pago no tiene nada cobrado sin devolver"),
        RefundError::TooMuch { left } => ApiError::field(
            "amount",
            format!("Debe ser mayor que 0 y como máximo {}", feria_domain::money::format_scaled(left, store.currency.exponent())),
        ),
        RefundError::Payment(e) => payment_error(e),
    }
}

/// A refund: the whole of what is left when `amount` is missing.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefundRequest {
    #[schema(value_type = Option<f64>)]
    pub amount: Option<DecimalText>,
    /// Kept for the record.
    pub reason: Option<String>,
}

/// The payment after a refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refunded {
    pub message: String,
    pub payment: PaymentView,
}

/// Gives back all or part of what a payment charged (admin), through its provider (Mercado Pago
/// with `X-Idempotency-Key`, Stripe with `Idempotency-Key`); never more than what is left. When
/// everything paid for the order was given back, the order moves to REFUNDED.
#[utoipa::path(post, path = "/payments/{id}/refund", tag = "payments", security(("bearer" = [])), params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")), request_body = RefundRequest,
    responses(
        (status = 200, description = "Refunded", body = Refunded),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "Nothing charged is left to give back", body = ErrorBody),
        (status = 422, description = "Amount not positive or more than what is left", body = ErrorBody),
        (status = 502, description = "The provider refused or failed; nothing was recorded", body = ErrorBody),
    ))]
pub async fn refund(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Refunded>> {
    let body: RefundRequest = if body.iter().all(u8::is_ascii_whitespace) { RefundRequest::default() } else { parse_json(&body)? };
    let mut v = Validator::new();
    let amount = v.decimal("amount", body.amount.as_ref(), store.currency.exponent());
    v.finish()?;
    let payment = payments::find(&mut *app.db.reader().acquire().await?, &store.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("El pago no existe"))?;
    // A retry with the client's Idempotency-Key reaches the provider with the same key.
    let key = match header_text(&headers, crate::http::idempotency::HEADER) {
        Some(client_key) => crate::crypto::sha256_hex(&format!("refund:{}:{client_key}", payment.id)),
        None => feria_domain::ids::new_id(),
    };
    let (payment, _) = refunds::refund(&app, &store, &payment, amount, &key).await.map_err(|e| refund_error(e, &store))?;
    Ok(Json(Refunded { message: "Reembolso realizado".into(), payment: PaymentView::new(payment, &store, true) }))
}

/// An order to pay with Stripe.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentRequest {
    pub sale_id: Option<String>,
}

/// The intent the buyer's browser confirms with Stripe.js.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentCreated {
    pub payment: PaymentView,
    pub payment_intent_id: String,
    /// For the buyer's browser only.
    pub client_secret: Option<String>,
}

/// Starts paying an order with Stripe: a PaymentIntent for what the order owes (in the
/// currency's minor units) and a pending payment. Same access rules as Mercado Pago.
#[utoipa::path(post, path = "/payments/intent", tag = "payments", request_body = IntentRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    responses(
        (status = 201, description = "Intent created", body = IntentCreated),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order is cancelled, refunded or already paid, or the provider is not configured", body = ErrorBody),
        (status = 422, description = "Missing saleId", body = ErrorBody),
        (status = 502, description = "Stripe failed; nothing was recorded", body = ErrorBody),
    ))]
pub async fn intent(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<IntentRequest>,
) -> ApiResult<(StatusCode, Json<IntentCreated>)> {
    let sale =
        body.sale_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).ok_or_else(|| ApiError::field("saleId", "Es obligatorio"))?;
    let (order, owed) = payable_order(&app, &store, user.as_ref(), &sale).await?;
    let (payment, created) = stripe::start(&app, &store, &order, owed).await.map_err(payment_error)?;
    let body = IntentCreated {
        payment: PaymentView::new(payment, &store, false),
        payment_intent_id: created.id,
        client_secret: created.client_secret,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// A Stripe payment to confirm.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmRequest {
    /// feria's id of the payment.
    pub payment_id: Option<String>,
    /// Stripe's payment method (`pm_…`), when the browser did not attach one.
    pub payment_method: Option<String>,
}

/// `{payment}` after a confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    pub payment: PaymentView,
}

/// Confirms a Stripe payment's intent and applies what Stripe answers (a succeeded intent pays
/// the order).
#[utoipa::path(post, path = "/payments/confirm", tag = "payments", request_body = ConfirmRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    responses(
        (status = 200, description = "Confirmed (see the payment's status)", body = Confirmed),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 422, description = "Missing paymentId, or not a Stripe payment", body = ErrorBody),
        (status = 502, description = "Stripe refused or failed", body = ErrorBody),
    ))]
pub async fn confirm(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> ApiResult<Json<Confirmed>> {
    let id = body
        .payment_id
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::field("paymentId", "Es obligatorio"))?;
    let mut conn = app.db.reader().acquire().await?;
    let payment = payments::find(&mut conn, &store.id, &id).await?.ok_or_else(|| ApiError::not_found("El pago no existe"))?;
    let order = orders::find(&mut conn, &store.id, &payment.order_id).await?.ok_or_else(|| ApiError::not_found("El pago no existe"))?;
    drop(conn);
    if !may_pay(&order, user.as_ref()) {
        return Err(ApiError::not_found("El pago no existe"));
    }
    if payment.provider != payments::Provider::Stripe.as_str() {
        return Err(ApiError::field("paymentId", "No es un pago con Stripe"));
    }
    let key = feria_domain::ids::new_id();
    let admin = user.as_ref().is_some_and(|u| u.has_role(Role::Admin));
    let (updated, _) = stripe::confirm(&app, &store, &payment, body.payment_method.as_deref(), &key).await.map_err(payment_error)?;
    Ok(Json(Confirmed { payment: PaymentView::new(updated, &store, admin) }))
}

/// Stripe's events (`Stripe-Signature` checked against `STRIPE_WEBHOOK_SECRET`: any `v1`, at
/// most 300 s old). Logged first; for a PaymentIntent or a refund the intent is then fetched from
/// Stripe and applied, once however often the event arrives.
#[utoipa::path(post, path = "/payments/webhook/stripe", tag = "payments",
    responses(
        (status = 200, description = "Processed (or not about a payment)", body = WebhookAnswer),
        (status = 400, description = "Not a Stripe event", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature; logged, nothing applied", body = ErrorBody),
        (status = 502, description = "Stripe could not be asked; it will retry", body = ErrorBody),
    ))]
pub async fn stripe_webhook(
    State(app): State<AppState>,
    CurrentStore(store): CurrentStore,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    app.rate_limiter.spend("webhook-stripe", &ip, app.config.limits.webhooks).await?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let event_type = event["type"].as_str().map(str::to_string);
    let object = &event["data"]["object"];
    let intent_id = match object["object"].as_str() {
        Some("payment_intent") => object["id"].as_str(),
        _ => object["payment_intent"].as_str(),
    }
    .map(str::to_string);
    let signature = match stripe::config(&app).ok().and_then(|c| c.webhook_secret.as_ref()) {
        None => Err("STRIPE_WEBHOOK_SECRET is not set".to_string()),
        Some(secret) => feria_providers::stripe::verify_signature(
            secret.expose(),
            header_text(&headers, "stripe-signature"),
            &body,
            chrono::Utc::now().timestamp(),
            SIGNATURE_TOLERANCE_SECS,
        )
        .map_err(|e| e.to_string()),
    };
    let log_id = log_webhook(
        &app,
        &store,
        "stripe",
        &headers,
        raw_query.as_deref(),
        &text,
        &ip,
        (event_type.as_deref(), intent_id.as_deref(), "webhook"),
        signature.is_ok(),
    )
    .await?;
    if let Err(why) = signature {
        finish_webhook(&app, &log_id, false, format!("refused: {why}"), false).await?;
        return Err(ApiError::unauthorized(codes::INVALID_SIGNATURE, "La firma del evento no es válida"));
    }
    if event_type.is_none() {
        finish_webhook(&app, &log_id, false, "refused: not a Stripe event".into(), false).await?;
        return Err(ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, "No es un evento de Stripe"));
    }
    let processed = WebhookAnswer { message: "Webhook processed successfully".into() };
    let about_money =
        event_type.as_deref().is_some_and(|t| t.starts_with("payment_intent.") || t.starts_with("charge.") || t.starts_with("refund."));
    let Some(intent) = intent_id.filter(|_| about_money) else {
        finish_webhook(&app, &log_id, true, format!("ignored: event {}", event_type.as_deref().unwrap_or_default()), false).await?;
        return Ok(Json(processed));
    };
    match stripe::sync(&app, &store, &intent, "webhook").await {
        Ok((_, applied)) => finish_webhook(&app, &log_id, true, applied.outcome, applied.changed).await?,
        Err(PaymentError::Foreign) => {
            finish_webhook(&app, &log_id, true, "ignored: not a payment of this store's orders".into(), false).await?
        }
        Err(e) => {
            finish_webhook(&app, &log_id, false, format!("failed: {e}"), false).await?;
            return Err(payment_error(e));
        }
    }
    Ok(Json(processed))
}

/// Money that arrived by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualConfirmation {
    #[schema(value_type = f64)]
    pub amount: Option<DecimalText>,
    /// The receipt or transfer number.
    pub reference: Option<String>,
}

/// Confirms by hand that a cash or bank-transfer order was paid (admin): records an approved
/// manual payment and moves the order to PAID through its workflow. Only for orders whose
/// payment method allows manual confirmation. An amount other than what the order owes is
/// recorded but flagged (`amountMismatch`) and leaves the order as it is.
#[utoipa::path(post, path = "/payments/{id}/confirm-manual", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The order (a cash or transfer order has no payment until confirmed)"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    request_body = ManualConfirmation,
    responses(
        (status = 201, description = "Recorded", body = Confirmed),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order's payment method is not confirmed by hand, or it is cancelled or paid", body = ErrorBody),
        (status = 422, description = "Missing amount or reference", body = ErrorBody),
    ))]
pub async fn confirm_manual(
    State(app): State<AppState>,
    AdminUser(admin): AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<ManualConfirmation>,
) -> ApiResult<(StatusCode, Json<Confirmed>)> {
    let mut v = Validator::new();
    let amount = v.decimal("amount", body.amount.as_ref(), store.currency.exponent());
    match amount {
        None if body.amount.is_none() => v.add("amount", "Es obligatorio"),
        Some(0) => v.add("amount", "Debe ser mayor que 0"),
        _ => {}
    }
    let reference = v.text("reference", body.reference.as_deref(), 1, 200);
    v.finish()?;
    let amount = amount.unwrap_or_default();
    let (order, owed) = payable_order(&app, &store, Some(&admin), &id).await?;
    let method = match &order.payment_method_code {
        Some(code) => payment_methods::find(&mut *app.db.reader().acquire().await?, &store.id, Key::Code(code)).await?,
        None => None,
    };
    if !method.is_some_and(|m| m.allows_manual_confirmation) {
        return Err(ApiError::conflict(codes::MANUAL_CONFIRMATION_NOT_ALLOWED, "El método de pago del pedido no se confirma a mano"));
    }
    let mut tx = app.db.begin().await?;
    let (payment, applied) = manual::confirm(&mut tx, &app, &store, &order, owed, amount, &reference).await.map_err(payment_error)?;
    tx.commit().await?;
    if applied.queued {
        app.job_wake.notify_one();
    }
    Ok((StatusCode::CREATED, Json(Confirmed { payment: PaymentView::new(payment, &store, true) })))
}

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
    let found = mercadopago::search(app, &query).await.map_err(payment_error)?;
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

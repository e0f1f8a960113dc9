//! A fake Mercado Pago on loopback speaking the protocol of `../shared/protocols/mercadopago.md`:
//! `POST /checkout/preferences`, `GET /checkout/preferences/{id}`, `GET /v1/payments/{id}`,
//! `GET /v1/payments/search`, `POST /v1/payments/{id}/refunds` (idempotency key required), with Bearer auth and Mercado Pago's error body. Tests make
//! payments for a preference (as a buyer paying would), sign webhooks with the secret, and can
//! make the next calls fail (500) or hang.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use feria_domain::money::{format_scaled, parse_scaled};
use feria_providers::signatures::hmac_sha256_hex;
use serde_json::{Value, json};

pub const TOKEN: &str = "APP_USR-1234567890123456-112300-0123456789abcdef0123456789abcdef-1273205088";
pub const SECRET: &str = "mp_wh_secret_3f9a1c7e2b";

/// A preference as created, with what it asked for in minor units (two decimals).
#[derive(Clone)]
struct StoredPreference {
    body: Value,
    total_cents: i64,
    currency: String,
}

/// A payment: its status and amounts as decimal text (written into its JSON exactly).
#[derive(Clone)]
struct FakePayment {
    status: String,
    amount: String,
    refunded: String,
    preference_id: String,
    /// The metadata it carries, when not the preference's (a QR payment has none; Mercado Pago
    /// may rename keys).
    metadata: Option<Value>,
}

#[derive(Default)]
struct Shared {
    preferences: Mutex<HashMap<String, StoredPreference>>,
    payments: Mutex<HashMap<String, FakePayment>>,
    /// (method, path, X-Idempotency-Key) of every call.
    calls: Mutex<Vec<(String, String, Option<String>)>>,
    next_id: AtomicU64,
    /// The query of every payment search.
    searches: Mutex<Vec<HashMap<String, String>>>,
    /// Refund answers by idempotency key, replayed for the same key.
    refunds: Mutex<HashMap<String, String>>,
    fail_next: AtomicUsize,
    hang_next: AtomicUsize,
}

pub struct FakeMercadoPago {
    pub url: String,
    shared: Arc<Shared>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"message": message, "error": code, "status": status.as_u16(), "cause": []});
    (status, axum::Json(body)).into_response()
}

/// Refuses a call without the token, or answers the failure asked for.
async fn gate(shared: &Shared, headers: &HeaderMap, method: &str, path: &str) -> Option<Response> {
    let key = headers.get("x-idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    shared.calls.lock().unwrap().push((method.into(), path.into(), key));
    if shared.hang_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    if shared.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        return Some(error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error"));
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return Some(error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid access token"));
    }
    None
}

impl FakeMercadoPago {
    pub async fn start() -> FakeMercadoPago {
        let shared = Arc::new(Shared { next_id: AtomicU64::new(115718938800), ..Shared::default() });
        let app = Router::new()
            .route("/checkout/preferences", post(create_preference))
            .route("/checkout/preferences/{id}", get(get_preference))
            .route("/v1/payments/search", get(search_payments))
            .route("/v1/payments/{id}", get(get_payment))
            .route("/v1/payments/{id}/refunds", post(refund))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake mercado pago");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeMercadoPago { url, shared }
    }

    /// Settings that point feria's Mercado Pago here.
    pub fn settings(&self) -> [(String, String); 4] {
        [
            ("MERCADOPAGO_ACCESS_TOKEN".into(), TOKEN.into()),
            ("MERCADOPAGO_WEBHOOK_SECRET".into(), SECRET.into()),
            ("MERCADOPAGO_API_URL".into(), self.url.clone()),
            ("PAYMENT_PROVIDER_TIMEOUT_MS".into(), "1500".into()),
        ]
    }

    /// The body of a preference created so far.
    pub fn preference(&self, id: &str) -> Value {
        self.shared.preferences.lock().unwrap()[id].body.clone()
    }

    /// Every call so far: method, path and idempotency key.
    pub fn calls(&self) -> Vec<(String, String, Option<String>)> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// The query of every payment search so far.
    pub fn searches(&self) -> Vec<HashMap<String, String>> {
        self.shared.searches.lock().unwrap().clone()
    }

    /// The next `n` calls answer 500.
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` calls answer after 30 s (longer than feria waits).
    pub fn hang_next(&self, n: usize) {
        self.shared.hang_next.store(n, Ordering::SeqCst);
    }

    /// A buyer pays the preference: a payment with `status` for `amount` (decimal text; the
    /// preference's total when `None`), carrying its external reference and metadata. Returns
    /// the payment's id.
    pub fn pay(&self, preference_id: &str, status: &str, amount: Option<&str>) -> String {
        let total = self.shared.preferences.lock().unwrap()[preference_id].total_cents;
        let id = self.shared.next_id.fetch_add(1, Ordering::SeqCst).to_string();
        let amount = amount.map(str::to_string).unwrap_or_else(|| format_scaled(total, 2));
        let payment =
            FakePayment { status: status.into(), amount, refunded: "0".into(), preference_id: preference_id.into(), metadata: None };
        self.shared.payments.lock().unwrap().insert(id.clone(), payment);
        id
    }

    /// Like [`FakeMercadoPago::pay`], for a payment that carries `metadata` instead of the
    /// preference's (`{}` for a QR code or payment link).
    pub fn pay_with_metadata(&self, preference_id: &str, status: &str, metadata: Value) -> String {
        let id = self.pay(preference_id, status, None);
        self.shared.payments.lock().unwrap().get_mut(&id).expect("just made").metadata = Some(metadata);
        id
    }

    /// Changes a payment's status and refunded amount (decimal text), as Mercado Pago would.
    pub fn update(&self, payment_id: &str, status: &str, refunded: &str) {
        let mut payments = self.shared.payments.lock().unwrap();
        let payment = payments.get_mut(payment_id).expect("a payment of the fake");
        (payment.status, payment.refunded) = (status.into(), refunded.into());
    }

    /// The query string and headers of a signed webhook about payment `id` (current format),
    /// signed at `ts` (Unix seconds) with `secret`.
    pub fn webhook(&self, payment_id: &str, ts: i64, secret: &str) -> (String, Vec<(String, String)>, Value) {
        let request_id = uuid::Uuid::now_v7().to_string();
        let manifest = format!("id:{payment_id};request-id:{request_id};ts:{ts};");
        let signature = format!("ts={ts},v1={}", hmac_sha256_hex(secret.as_bytes(), manifest.as_bytes()));
        let body = json!({"id": 12345, "live_mode": false, "type": "payment", "date_created": "2026-11-30T10:00:00.000-03:00",
            "user_id": 1273205088, "api_version": "v1", "action": "payment.updated", "data": {"id": payment_id}});
        let headers = vec![
            ("x-signature".into(), signature),
            ("x-request-id".into(), request_id),
            ("user-agent".into(), "MercadoPago Feed v2.0 payment".into()),
        ];
        (format!("data.id={payment_id}&type=payment"), headers, body)
    }
}

async fn create_preference(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = gate(&shared, &headers, "POST", "/checkout/preferences").await {
        return refused;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&body) else { return error(StatusCode::BAD_REQUEST, "bad_request", "invalid json") };
    let Some(items) = body["items"].as_array().filter(|i| !i.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "items needed");
    };
    let mut total = 0;
    for item in items {
        let unit = parse_scaled(&item["unit_price"].to_string(), 2).expect("unit_price with at most 2 decimals");
        total += unit * item["quantity"].as_i64().expect("quantity");
    }
    let currency = items[0]["currency_id"].as_str().unwrap_or("ARS").to_string();
    let id = format!("1273205088-{}", uuid::Uuid::now_v7());
    body["id"] = json!(id);
    body["init_point"] = json!(format!("https://www.mercadopago.com.ar/checkout/v1/redirect?pref_id={id}"));
    body["sandbox_init_point"] = json!(format!("https://sandbox.mercadopago.com.ar/checkout/v1/redirect?pref_id={id}"));
    body["collector_id"] = json!(1273205088);
    body["date_created"] = json!("2026-11-30T10:00:00.000-03:00");
    shared.preferences.lock().unwrap().insert(id, StoredPreference { body: body.clone(), total_cents: total, currency });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn get_preference(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refused) = gate(&shared, &headers, "GET", &format!("/checkout/preferences/{id}")).await {
        return refused;
    }
    match shared.preferences.lock().unwrap().get(&id) {
        Some(p) => axum::Json(p.body.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "preference not found"),
    }
}

async fn get_payment(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refused) = gate(&shared, &headers, "GET", &format!("/v1/payments/{id}")).await {
        return refused;
    }
    let payment = shared.payments.lock().unwrap().get(&id).cloned();
    match payment {
        Some(p) => ([("content-type", "application/json")], render(&shared, &id, &p)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "Payment not found"),
    }
}

async fn search_payments(State(shared): State<Arc<Shared>>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(refused) = gate(&shared, &headers, "GET", "/v1/payments/search").await {
        return refused;
    }
    shared.searches.lock().unwrap().push(q.clone());
    let payments = shared.payments.lock().unwrap().clone();
    let reference = |p: &FakePayment| shared.preferences.lock().unwrap()[&p.preference_id].body["external_reference"].clone();
    let mut found: Vec<(u64, String)> = payments
        .iter()
        .filter(|(_, p)| q.get("external_reference").is_none_or(|r| reference(p) == json!(r)))
        .filter(|(_, p)| q.get("status").is_none_or(|s| &p.status == s))
        .map(|(id, p)| (id.parse().unwrap(), render(&shared, id, p)))
        .collect();
    found.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(30);
    let offset: usize = q.get("offset").and_then(|l| l.parse().ok()).unwrap_or(0);
    let results: Vec<&str> = found.iter().skip(offset).take(limit).map(|(_, p)| p.as_str()).collect();
    let body = format!(r#"{{"paging":{{"total":{},"limit":{limit},"offset":{offset}}},"results":[{}]}}"#, found.len(), results.join(","));
    ([("content-type", "application/json")], body).into_response()
}

/// A payment's JSON, as `GET /v1/payments/{id}` answers (protocol §3.1), amounts exact.
fn render(shared: &Shared, id: &str, p: &FakePayment) -> String {
    let preference = shared.preferences.lock().unwrap()[&p.preference_id].clone();
    let detail = match p.status.as_str() {
        "approved" => "accredited",
        "rejected" => "cc_rejected_insufficient_amount",
        "refunded" => "refunded",
        _ => "pending_waiting_payment",
    };
    format!(
        r#"{{"id":{id},"status":"{}","status_detail":"{detail}","transaction_amount":{},"transaction_amount_refunded":{},"currency_id":"{}","external_reference":{},"metadata":{},"payment_method_id":"visa","payment_type_id":"credit_card","installments":1,"date_created":"2026-11-30T10:00:00.000-03:00","payer":{{"email":{}}},"fee_details":[{{"type":"mercadopago_fee","amount":1.5,"fee_payer":"collector"}}]}}"#,
        p.status,
        p.amount,
        p.refunded,
        preference.currency,
        preference.body["external_reference"],
        p.metadata.as_ref().unwrap_or(&preference.body["metadata"]),
        preference.body["payer"]["email"],
    )
}

async fn refund(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    if let Some(refused) = gate(&shared, &headers, "POST", &format!("/v1/payments/{id}/refunds")).await {
        return refused;
    }
    let Some(key) = headers.get("x-idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string) else {
        let body = json!({"message": "Header X-Idempotency-Key can't be null", "error": "bad_request", "status": 400, "cause": [{"code": 4292, "description": "Header X-Idempotency-Key can't be null", "data": null}]});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    };
    if let Some(answer) = shared.refunds.lock().unwrap().get(&key) {
        return (StatusCode::CREATED, [("content-type", "application/json")], answer.clone()).into_response();
    }
    let mut payments = shared.payments.lock().unwrap();
    let Some(payment) = payments.get_mut(&id) else { return error(StatusCode::NOT_FOUND, "not_found", "Payment not found") };
    let (paid, refunded) = (parse_scaled(&payment.amount, 2).unwrap(), parse_scaled(&payment.refunded, 2).unwrap());
    let asked: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let amount = match &asked["amount"] {
        Value::Null => paid - refunded,
        n => parse_scaled(&n.to_string(), 2).unwrap_or(-1),
    };
    if payment.status != "approved" || amount <= 0 || amount > paid - refunded {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Invalid refund amount");
    }
    payment.refunded = format_scaled(refunded + amount, 2);
    if refunded + amount == paid {
        payment.status = "refunded".into();
    }
    let refund_id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let answer = format!(
        r#"{{"id":{refund_id},"payment_id":{id},"amount":{},"metadata":{{}},"source":{{"id":"1","name":"Seller","type":"collector"}},"date_created":"2026-11-30T10:00:00.000-03:00","unique_sequence_number":null,"status":"approved"}}"#,
        format_scaled(amount, 2)
    );
    shared.refunds.lock().unwrap().insert(key, answer.clone());
    (StatusCode::CREATED, [("content-type", "application/json")], answer).into_response()
}

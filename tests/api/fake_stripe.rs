//! A fake Stripe on loopback speaking the protocol of `../shared/protocols/stripe.md`:
//! form-encoded `POST /v1/payment_intents`, `GET /v1/payment_intents/{id}` (with
//! `expand[]=latest_charge`), `POST /v1/payment_intents/{id}/confirm`, `POST /v1/refunds`; Bearer
//! auth, Stripe's error object, and the same answer replayed for a repeated `Idempotency-Key`.
//! Tests complete or decline payments as a buyer's browser would and emit signed events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use feria_providers::signatures::hmac_sha256_hex;
use serde_json::{Value, json};

pub const KEY: &str = "sk_test_51FeriaFakeKey0123456789";
pub const SECRET: &str = "whsec_test_secret";

#[derive(Clone)]
struct Intent {
    amount: i64,
    currency: String,
    status: String,
    received: i64,
    refunded: i64,
    metadata: Value,
    declined: bool,
}

/// A call to the fake: method, path, `Idempotency-Key` and form.
pub type Call = (String, String, Option<String>, HashMap<String, String>);

#[derive(Default)]
struct Shared {
    intents: Mutex<HashMap<String, Intent>>,
    /// (method, path, Idempotency-Key, form) of every call.
    calls: Mutex<Vec<Call>>,
    replies: Mutex<HashMap<String, (StatusCode, String)>>,
    next: AtomicU64,
    fail_next: AtomicUsize,
}

pub struct FakeStripe {
    pub url: String,
    shared: Arc<Shared>,
}

fn error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({"error": {"type": kind, "code": code, "message": message}}))).into_response()
}

fn render(id: &str, i: &Intent) -> Value {
    let charge = (i.received > 0).then(|| json!({"id": format!("ch_{id}"), "object": "charge", "amount": i.received, "amount_refunded": i.refunded, "refunded": i.refunded == i.received}));
    let error = i.declined.then(|| json!({"type": "card_error", "code": "card_declined", "message": "Your card was declined."}));
    json!({"id": id, "object": "payment_intent", "amount": i.amount, "amount_received": i.received, "currency": i.currency, "status": i.status,
        "client_secret": format!("{id}_secret_fake"), "metadata": i.metadata, "livemode": false, "latest_charge": charge, "last_payment_error": error})
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/payment_intents", post(create))
            .route("/v1/payment_intents/{id}", get(retrieve))
            .route("/v1/payment_intents/{id}/confirm", post(confirm))
            .route("/v1/refunds", post(refund))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake stripe");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeStripe { url, shared }
    }

    /// Settings that point feria's Stripe here.
    pub fn settings(&self) -> [(String, String); 4] {
        [
            ("STRIPE_SECRET_KEY".into(), KEY.into()),
            ("STRIPE_WEBHOOK_SECRET".into(), SECRET.into()),
            ("STRIPE_API_URL".into(), self.url.clone()),
            ("PAYMENT_PROVIDER_TIMEOUT_MS".into(), "1500".into()),
        ]
    }

    /// Every call so far: method, path, idempotency key and form.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// The next `n` calls answer 500.
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// The buyer's browser completes the payment (Stripe.js confirmed it).
    pub fn succeed(&self, id: &str) {
        let mut intents = self.shared.intents.lock().unwrap();
        let intent = intents.get_mut(id).expect("an intent of the fake");
        (intent.status, intent.received) = ("succeeded".into(), intent.amount);
    }

    /// A signed event of `kind` about intent `id`, as Stripe posts it: its body and
    /// `Stripe-Signature` header (signed at `t` with `secret`).
    pub fn event(&self, kind: &str, id: &str, t: i64, secret: &str) -> (String, String) {
        let intent = render(id, &self.shared.intents.lock().unwrap()[id]);
        let n = self.shared.next.fetch_add(1, Ordering::SeqCst);
        let body = json!({"id": format!("evt_{n}"), "object": "event", "api_version": "2024-06-20", "created": t, "type": kind,
            "livemode": false, "data": {"object": intent}})
        .to_string();
        let signature = hmac_sha256_hex(secret.as_bytes(), format!("{t}.{body}").as_bytes());
        (body, format!("t={t},v1={signature}"))
    }
}

/// Records the call; refuses it without the key, or answers the failure asked for, or the
/// answer already given for its idempotency key.
fn gate(
    shared: &Shared,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    form: &HashMap<String, String>,
) -> Result<Option<String>, Box<Response>> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    shared.calls.lock().unwrap().push((method.into(), path.into(), key.clone(), form.clone()));
    if shared.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        return Err(Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "internal",
            "An error occurred with our connection to Stripe.",
        )));
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        return Err(Box::new(error(StatusCode::UNAUTHORIZED, "invalid_request_error", "api_key_invalid", "Invalid API Key provided")));
    }
    if let Some((status, body)) = key.as_ref().and_then(|k| shared.replies.lock().unwrap().get(k).cloned()) {
        return Err(Box::new((status, [("content-type", "application/json"), ("idempotent-replayed", "true")], body).into_response()));
    }
    Ok(key)
}

fn answer(shared: &Shared, key: Option<String>, status: StatusCode, body: Value) -> Response {
    let text = body.to_string();
    if let Some(key) = key {
        shared.replies.lock().unwrap().insert(key, (status, text.clone()));
    }
    (status, [("content-type", "application/json")], text).into_response()
}

fn form_of(body: &Bytes) -> HashMap<String, String> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_of(&body);
    let key = match gate(&shared, &headers, "POST", "/v1/payment_intents", &form) {
        Ok(key) => key,
        Err(response) => return *response,
    };
    let Some(amount) = form.get("amount").and_then(|a| a.parse::<i64>().ok()).filter(|a| *a > 0) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request_error", "parameter_missing", "Missing required param: amount.");
    };
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("metadata[").and_then(|k| k.strip_suffix(']')).map(|k| (k.to_string(), json!(v))))
        .collect();
    let id = format!("pi_{}", shared.next.fetch_add(1, Ordering::SeqCst));
    let intent = Intent {
        amount,
        currency: form.get("currency").cloned().unwrap_or_default(),
        status: "requires_payment_method".into(),
        received: 0,
        refunded: 0,
        metadata: Value::Object(metadata),
        declined: false,
    };
    let body = render(&id, &intent);
    shared.intents.lock().unwrap().insert(id, intent);
    answer(&shared, key, StatusCode::OK, body)
}

async fn retrieve(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(response) = gate(&shared, &headers, "GET", &format!("/v1/payment_intents/{id}"), &HashMap::new()) {
        return *response;
    }
    match shared.intents.lock().unwrap().get(&id) {
        Some(intent) => axum::Json(render(&id, intent)).into_response(),
        None => error(StatusCode::NOT_FOUND, "invalid_request_error", "resource_missing", "No such payment_intent"),
    }
}

async fn confirm(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let form = form_of(&body);
    let key = match gate(&shared, &headers, "POST", &format!("/v1/payment_intents/{id}/confirm"), &form) {
        Ok(key) => key,
        Err(response) => return *response,
    };
    let mut intents = shared.intents.lock().unwrap();
    let Some(intent) = intents.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "invalid_request_error", "resource_missing", "No such payment_intent");
    };
    match form.get("payment_method").map(String::as_str) {
        Some("pm_card_visa") => (intent.status, intent.received, intent.declined) = ("succeeded".into(), intent.amount, false),
        Some("pm_card_chargeDeclined") => (intent.status, intent.declined) = ("requires_payment_method".into(), true),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "payment_intent_unexpected_state",
                "You must provide a payment method.",
            );
        }
    }
    let body = render(&id, intent);
    drop(intents);
    answer(&shared, key, StatusCode::OK, body)
}

async fn refund(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_of(&body);
    let key = match gate(&shared, &headers, "POST", "/v1/refunds", &form) {
        Ok(key) => key,
        Err(response) => return *response,
    };
    let id = form.get("payment_intent").cloned().unwrap_or_default();
    let mut intents = shared.intents.lock().unwrap();
    let Some(intent) = intents.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "invalid_request_error", "resource_missing", "No such payment_intent");
    };
    let left = intent.received - intent.refunded;
    let amount = form.get("amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(left);
    if left <= 0 || amount <= 0 || amount > left {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "amount_too_large",
            "Refund amount is greater than unrefunded amount.",
        );
    }
    intent.refunded += amount;
    let refund = json!({"id": format!("re_{}", shared.next.fetch_add(1, Ordering::SeqCst)), "object": "refund", "amount": amount,
        "currency": intent.currency, "payment_intent": id, "status": "succeeded"});
    drop(intents);
    answer(&shared, key, StatusCode::OK, refund)
}

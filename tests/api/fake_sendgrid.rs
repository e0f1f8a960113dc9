//! A fake SendGrid v3 Mail Send on loopback: `POST /v3/mail/send` with a Bearer API key and a
//! JSON body checked as SendGrid does (personalizations, from, subject, text before HTML),
//! answered `202` with `X-Message-Id`, or with SendGrid's `errors` shape when scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{Value, json};

pub const API_KEY: &str = "SG.fake-key.for-feria-tests";

#[derive(Default)]
struct Shared {
    sent: Mutex<Vec<Value>>,
    /// Answers for the next sends: status and Retry-After.
    script: Mutex<VecDeque<(StatusCode, Option<u64>)>>,
}

pub struct FakeSendGrid {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeSendGrid {
    pub async fn start() -> FakeSendGrid {
        let shared = Arc::new(Shared::default());
        let app = Router::new().route("/v3/mail/send", axum::routing::post(send)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake sendgrid");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeSendGrid { url, shared }
    }

    /// The bodies accepted so far.
    pub fn sent(&self) -> Vec<Value> {
        self.shared.sent.lock().unwrap().clone()
    }

    /// The next send is refused with `status` and `Retry-After`.
    pub fn refuse_next(&self, status: StatusCode, retry_after: Option<u64>) {
        self.shared.script.lock().unwrap().push_back((status, retry_after));
    }
}

fn error(status: StatusCode, field: &str, message: &str) -> Response {
    (status, Json(json!({"errors": [{"message": message, "field": field, "help": null}]}))).into_response()
}

async fn send(State(shared): State<Arc<Shared>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(format!("Bearer {API_KEY}").as_str()) {
        return error(StatusCode::UNAUTHORIZED, "", "The provided authorization grant is invalid, expired, or revoked");
    }
    if let Some((status, retry_after)) = shared.script.lock().unwrap().pop_front() {
        let mut response = error(status, "", "refused");
        if let Some(seconds) = retry_after {
            response.headers_mut().insert("retry-after", seconds.into());
        }
        return response;
    }
    let to = body.pointer("/personalizations/0/to/0/email").and_then(Value::as_str).unwrap_or("");
    if !to.contains('@') {
        return error(StatusCode::BAD_REQUEST, "personalizations.0.to.0.email", "Does not contain a valid address.");
    }
    if body.pointer("/from/email").and_then(Value::as_str).is_none_or(|f| !f.contains('@')) {
        return error(StatusCode::BAD_REQUEST, "from.email", "The from email does not contain a valid address.");
    }
    let types: Vec<&str> = body["content"].as_array().into_iter().flatten().filter_map(|c| c["type"].as_str()).collect();
    if body["subject"].as_str().is_none_or(str::is_empty) || types.first() != Some(&"text/plain") {
        return error(StatusCode::BAD_REQUEST, "content", "The text/plain content must come first, and a subject is required.");
    }
    let mut sent = shared.sent.lock().unwrap();
    sent.push(body);
    let mut response = StatusCode::ACCEPTED.into_response();
    response.headers_mut().insert("x-message-id", format!("fake-sg-{}", sent.len()).parse().unwrap());
    response
}

/// Signs Event Webhook posts as SendGrid does (ECDSA P-256, SHA-256, DER, over timestamp ‖
/// body), with a key made for the test; `public_key` is what `SENDGRID_WEBHOOK_PUBLIC_KEY` takes.
pub struct EventSigner {
    pair: ring::signature::EcdsaKeyPair,
    pub public_key: String,
}

impl EventSigner {
    pub fn new() -> EventSigner {
        use base64::Engine;
        use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        // SubjectPublicKeyInfo for a P-256 key: a fixed header, then the uncompressed point.
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.extend_from_slice(pair.public_key().as_ref());
        EventSigner { pair, public_key: base64::engine::general_purpose::STANDARD.encode(spki) }
    }

    /// The signature header's value for `body` sent at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        use base64::Engine;
        let message = [timestamp.as_bytes(), body].concat();
        let signature = self.pair.sign(&ring::rand::SystemRandom::new(), &message).unwrap();
        base64::engine::general_purpose::STANDARD.encode(signature.as_ref())
    }
}

//! A fake push service on loopback (RFC 8030): subscriptions it hands out have a real P-256 key
//! and auth secret, so every push is checked as a browser would: the VAPID token verified, the
//! `aes128gcm` body decrypted. Scripted answers (404, 410, 429) for the next pushes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::SecretKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

#[derive(Default)]
struct Shared {
    /// Subscription id → the browser's private key and auth secret.
    keys: Mutex<HashMap<String, (SecretKey, Vec<u8>)>>,
    received: Mutex<Vec<Value>>,
    script: Mutex<VecDeque<StatusCode>>,
}

pub struct FakeWebPush {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeWebPush {
    pub async fn start() -> FakeWebPush {
        let shared = Arc::new(Shared::default());
        let app = Router::new().route("/push/{id}", axum::routing::post(push)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake push service");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeWebPush { url, shared }
    }

    /// A new browser subscription, as `PushSubscription.toJSON()` gives it.
    pub fn subscribe(&self, id: &str) -> Value {
        let secret = loop {
            if let Ok(key) = SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break key;
            }
        };
        let auth = rand::random::<[u8; 16]>().to_vec();
        let public = secret.public_key().to_encoded_point(false);
        let subscription = json!({
            "endpoint": format!("{}/push/{id}", self.url),
            "keys": {"p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()), "auth": URL_SAFE_NO_PAD.encode(&auth)}
        });
        self.shared.keys.lock().unwrap().insert(id.to_string(), (secret, auth));
        subscription
    }

    /// The pushes received: `{subscription, ttl, urgency, audience, payload}`.
    pub fn received(&self) -> Vec<Value> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The next push is answered `status`.
    pub fn answer_next(&self, status: StatusCode) {
        self.shared.script.lock().unwrap().push_back(status);
    }
}

async fn push(State(shared): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if let Some(status) = shared.script.lock().unwrap().pop_front() {
        return status;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let Ok((_, claims)) = feria_providers::webpush::vapid::verify(&header("authorization")) else { return StatusCode::UNAUTHORIZED };
    if header("content-encoding") != "aes128gcm" || header("ttl").is_empty() {
        return StatusCode::BAD_REQUEST;
    }
    let Some((secret, auth)) = shared.keys.lock().unwrap().get(&id).cloned() else { return StatusCode::GONE };
    let Ok(plain) = feria_providers::webpush::payload::decrypt(&body, &secret, &auth) else { return StatusCode::BAD_REQUEST };
    let payload: Value = serde_json::from_slice(&plain).unwrap_or(Value::Null);
    shared.received.lock().unwrap().push(json!({
        "subscription": id, "ttl": header("ttl"), "urgency": header("urgency"), "audience": claims.aud, "payload": payload,
    }));
    StatusCode::CREATED
}

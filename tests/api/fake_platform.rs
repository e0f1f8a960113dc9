//! A fake UCP agent platform on loopback: its profile at `/profile.json` names its order
//! webhook (`/webhooks/orders`), which records every delivery (headers and raw body) and can
//! answer the next ones with 500 on demand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// One webhook delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// What the platform answered.
    pub status: StatusCode,
}

impl Delivery {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a delivery is JSON")
    }
}

#[derive(Default)]
struct Shared {
    origin: Mutex<String>,
    deliveries: Mutex<Vec<Delivery>>,
    fail_next: AtomicUsize,
}

pub struct FakePlatform {
    pub profile: String,
    pub webhook: String,
    shared: Arc<Shared>,
}

impl FakePlatform {
    pub async fn start() -> FakePlatform {
        let shared = Arc::new(Shared::default());
        let app = Router::new().route("/profile.json", get(profile)).route("/webhooks/orders", post(receive)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake platform");
        let origin = format!("http://{}", listener.local_addr().unwrap());
        *shared.origin.lock().unwrap() = origin.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakePlatform { profile: format!("{origin}/profile.json"), webhook: format!("{origin}/webhooks/orders"), shared }
    }

    /// The deliveries received so far, failed ones included.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.deliveries.lock().unwrap().clone()
    }

    /// Waits until `count` deliveries arrived (at most 15 s); returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Delivery> {
        for _ in 0..300 {
            let got = self.deliveries();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {count} webhook deliveries, got {:?}", self.deliveries().iter().map(|d| d.status).collect::<Vec<_>>());
    }

    /// The next `n` deliveries are answered 500.
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }
}

async fn profile(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let origin = shared.origin.lock().unwrap().clone();
    Json(json!({ "ucp": {
        "version": "2026-04-08",
        "capabilities": {
            "dev.ucp.shopping.checkout": [{ "version": "2026-04-08" }],
            "dev.ucp.shopping.order": [{ "version": "2026-04-08", "config": { "webhook_url": format!("{origin}/webhooks/orders") } }]
        }
    } }))
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let failing = shared.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let status = if failing { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
    shared.deliveries.lock().unwrap().push(Delivery { headers, body, status });
    status
}

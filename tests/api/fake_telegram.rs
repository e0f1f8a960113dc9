//! A fake Telegram Bot API on loopback: `POST /bot<TOKEN>/sendMessage` with a JSON body,
//! answered with the Bot API envelope. A wrong token gets `401 Unauthorized`; it can answer
//! the next requests with `429 Too Many Requests` and `retry_after` on demand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const TOKEN: &str = "123456789:AAE-fake-token-for-feria-tests";

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Value>>,
    fail_next: AtomicUsize,
}

pub struct FakeTelegram {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let shared = Arc::new(Shared::default());
        let app = Router::new().route("/{bot}/sendMessage", axum::routing::post(send_message)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake telegram");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeTelegram { url, shared }
    }

    /// Settings that send feria's messages here, to chat `chat_id`.
    pub fn settings(&self, chat_id: &str) -> [(String, String); 3] {
        [
            ("TELEGRAM_BOT_TOKEN".into(), TOKEN.into()),
            ("TELEGRAM_CHAT_ID".into(), chat_id.into()),
            ("TELEGRAM_API_URL".into(), self.url.clone()),
        ]
    }

    /// The `sendMessage` bodies accepted so far.
    pub fn messages(&self) -> Vec<Value> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// The next `n` requests get 429 with `retry_after`.
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }
}

async fn send_message(State(shared): State<Arc<Shared>>, Path(bot): Path<String>, Json(body): Json<Value>) -> Response {
    if bot != format!("bot{TOKEN}") {
        return (StatusCode::UNAUTHORIZED, Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"}))).into_response();
    }
    if shared.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        let body =
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}});
        return (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    }
    if body["chat_id"].is_null() || body["text"].as_str().is_none_or(str::is_empty) {
        let body = json!({"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    shared.messages.lock().unwrap().push(body.clone());
    let message = json!({"message_id": 1, "date": 1763899200, "chat": {"id": body["chat_id"], "type": "group"}, "text": body["text"]});
    Json(json!({"ok": true, "result": message})).into_response()
}

//! A fake language-model server on loopback speaking `../shared/protocols/llm-providers.md`:
//! OpenAI's `POST /v1/chat/completions` and `POST /v1/embeddings` (Bearer key) and Anthropic's
//! `POST /v1/messages` (`x-api-key` and `anthropic-version`), each refusing a wrong key with its
//! provider's error envelope. Tests queue the answers (a status, headers and a JSON body, or a
//! string of server-sent events) and read the requests it received.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const KEY: &str = "sk-test-feria-fake-llm";

/// Scripted as an extra header: the fake waits that many milliseconds before answering.
pub const DELAY: &str = "x-fake-delay-ms";

/// An answer to give: status, extra headers, body.
pub type Scripted = (StatusCode, Vec<(&'static str, &'static str)>, Value);

#[derive(Default)]
struct Shared {
    answers: Mutex<VecDeque<Scripted>>,
    requests: Mutex<Vec<(String, Value)>>,
}

pub struct FakeLlm {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeLlm {
    pub async fn start() -> FakeLlm {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(|s, h, b| answer(s, h, "chat/completions", b)))
            .route("/v1/embeddings", post(|s, h, b| answer(s, h, "embeddings", b)))
            .route("/v1/messages", post(|s, h, b| answer(s, h, "messages", b)))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake llm");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeLlm { url, shared }
    }

    /// The next call gets `answer`.
    pub fn answer(&self, answer: Scripted) {
        self.shared.answers.lock().unwrap().push_back(answer);
    }

    /// The (path, body) of every call so far.
    pub fn requests(&self) -> Vec<(String, Value)> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn answer(State(shared): State<Arc<Shared>>, headers: HeaderMap, path: &'static str, Json(body): Json<Value>) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if path == "messages" {
        if header("x-api-key") != KEY || header("anthropic-version") != "2023-06-01" {
            let error = json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}});
            return (StatusCode::UNAUTHORIZED, Json(error)).into_response();
        }
    } else if header("authorization") != format!("Bearer {KEY}") {
        let error = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}});
        return (StatusCode::UNAUTHORIZED, Json(error)).into_response();
    }
    shared.requests.lock().unwrap().push((path.to_string(), body));
    let Some((status, extra, body)) = shared.answers.lock().unwrap().pop_front() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": {"message": "nothing scripted", "type": "server_error"}})))
            .into_response();
    };
    // A scripted `x-fake-delay-ms` is a wait before answering, not a header.
    let (delays, extra): (Vec<_>, Vec<_>) = extra.into_iter().partition(|(name, _)| *name == DELAY);
    if let Some((_, ms)) = delays.first() {
        tokio::time::sleep(std::time::Duration::from_millis(ms.parse().unwrap())).await;
    }
    // A string is a stream of server-sent events, as scripted.
    let mut response = match body {
        Value::String(events) => (status, [("content-type", "text/event-stream")], events).into_response(),
        body => (status, Json(body)).into_response(),
    };
    for (name, value) in extra {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// An OpenAI answer with `text`, 1,000 tokens in and 50 out.
pub fn says(text: &str) -> Scripted {
    let message = json!({"role": "assistant", "content": text});
    (StatusCode::OK, vec![], completion(message, "stop"))
}

/// An OpenAI answer calling the tool `name` with `arguments`.
pub fn calls(name: &str, arguments: Value) -> Scripted {
    let call = json!({"id": format!("call_{name}"), "type": "function", "function": {"name": name, "arguments": arguments.to_string()}});
    (StatusCode::OK, vec![], completion(json!({"role": "assistant", "content": null, "tool_calls": [call]}), "tool_calls"))
}

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": "gpt-5.4-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "prompt_tokens_details": {"cached_tokens": 0}}
    })
}

/// An Anthropic Messages answer with `text`.
pub fn anthropic_says(text: &str) -> Scripted {
    let body = json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 800, "output_tokens": 40}
    });
    (StatusCode::OK, vec![], body)
}

/// An OpenAI refusal with `status`.
pub fn fails(status: StatusCode) -> Scripted {
    (status, vec![], json!({"error": {"message": "scripted failure", "type": "server_error", "code": null}}))
}

/// An OpenAI streamed answer: `pieces` of text, then the finish, the usage and `[DONE]`.
pub fn streams(pieces: &[&str]) -> Scripted {
    let chunk = |choices: Value, usage: Value| {
        let event =
            json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "gpt-5.4-mini", "choices": choices, "usage": usage});
        format!("data: {event}\n\n")
    };
    let mut events: String =
        pieces.iter().map(|p| chunk(json!([{"index": 0, "delta": {"content": p}, "finish_reason": null}]), Value::Null)).collect();
    events.push_str(&chunk(json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]), Value::Null));
    events.push_str(&chunk(json!([]), json!({"prompt_tokens": 900, "completion_tokens": 30})));
    events.push_str("data: [DONE]\n\n");
    (StatusCode::OK, vec![], Value::String(events))
}

/// An OpenAI embeddings answer: one vector per entry.
pub fn embeds(vectors: &[[f32; 3]]) -> Scripted {
    let data: Vec<Value> = vectors.iter().enumerate().map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v})).collect();
    (
        StatusCode::OK,
        vec![],
        json!({"object": "list", "data": data, "model": "text-embedding-3-small", "usage": {"prompt_tokens": 20, "total_tokens": 20}}),
    )
}

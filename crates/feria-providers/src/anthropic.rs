//! Anthropic's Messages API (`../shared/protocols/llm-providers.md` §3): `POST {base}/v1/messages`
//! with `x-api-key` and `anthropic-version`. [`Anthropic::messages`] passes a body through as the
//! caller built it and answers as Anthropic wrote it (seed 001's proxy); as a [`ChatModel`] it
//! speaks the provider-neutral conversation.

use std::time::Duration;

use serde_json::{Value, json};

use tokio::sync::mpsc;

use crate::llm::sse::Parser;
use crate::llm::{ChatMessage, ChatModel, ChatRequest, Completion, Finish, LlmError, ToolCall, Usage};

/// The API version header every request carries.
const VERSION: &str = "2023-06-01";

/// A client of one account: API base URL and key.
pub struct Anthropic {
    base_url: String,
    api_key: String,
    http: reqwest::Client,
}

/// Why no answer came back.
#[derive(Debug, thiserror::Error)]
pub enum AnthropicError {
    /// No answer (connection, timeout); the key is never in it.
    #[error("Anthropic unreachable: {0}")]
    Unreachable(String),
    /// An answer that is not JSON.
    #[error("Anthropic answered {0} without JSON")]
    NotJson(u16),
}

/// Anthropic's answer: its HTTP status and JSON body (a message, or `{type: "error", error}`).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Anthropic {
    pub fn new(base_url: &str, api_key: &str, timeout: Duration) -> Result<Anthropic, AnthropicError> {
        let http = crate::http::client(timeout).map_err(|e| AnthropicError::Unreachable(e.to_string()))?;
        Ok(Anthropic { base_url: base_url.trim_end_matches('/').to_string(), api_key: api_key.to_string(), http })
    }

    /// Sends a Messages request.
    pub async fn messages(&self, body: &Value) -> Result<Answer, AnthropicError> {
        let (status, _, body) = self.send(body).await?;
        Ok(Answer { status, body })
    }

    /// POSTs `body`.
    async fn open(&self, body: &Value) -> Result<reqwest::Response, AnthropicError> {
        self.http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", VERSION)
            .json(body)
            .send()
            .await
            .map_err(|e| AnthropicError::Unreachable(e.without_url().to_string()))
    }

    /// POSTs `body`: the status, how long a refusal asked to wait, and the JSON answer.
    async fn send(&self, body: &Value) -> Result<(u16, Option<Duration>, Value), AnthropicError> {
        let response = self.open(body).await?;
        let status = response.status().as_u16();
        let wait = crate::llm::retry_after(response.headers());
        let body = response.json().await.map_err(|_| AnthropicError::NotJson(status))?;
        Ok((status, wait, body))
    }
}

fn llm_error(e: AnthropicError) -> LlmError {
    match e {
        AnthropicError::Unreachable(reason) => LlmError::Unreachable(reason),
        AnthropicError::NotJson(status) => LlmError::BadAnswer(format!("{status} without JSON")),
    }
}

/// Anthropic's error object (`{error: {type, message}}`) as a refusal with `status`.
fn refusal(status: u16, answer: &Value, retry_after: Option<Duration>) -> LlmError {
    let field = |name: &str| answer.pointer(&format!("/error/{name}")).and_then(Value::as_str).map(str::to_string);
    LlmError::Refused { status, code: field("type"), message: field("message").unwrap_or_else(|| format!("HTTP {status}")), retry_after }
}

fn finish_of(reason: &str) -> Finish {
    match reason {
        "end_turn" | "stop_sequence" => Finish::Stop,
        "max_tokens" | "model_context_window_exceeded" => Finish::Length,
        "tool_use" => Finish::ToolCalls,
        "refusal" => Finish::Refused,
        other => Finish::Other(other.to_string()),
    }
}

/// The Messages body of `request`: the system prompt apart, tool results as the user's turn.
fn body(request: &ChatRequest<'_>) -> Value {
    let mut messages: Vec<Value> = Vec::with_capacity(request.messages.len());
    for message in request.messages {
        let (role, blocks) = match message {
            ChatMessage::User(text) => ("user", vec![json!({ "type": "text", "text": text })]),
            ChatMessage::Assistant { text, tool_calls } => {
                let mut blocks: Vec<Value> = text.iter().map(|t| json!({ "type": "text", "text": t })).collect();
                blocks.extend(tool_calls.iter().map(|c| json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments })));
                ("assistant", blocks)
            }
            ChatMessage::Tool { call_id, content } => {
                ("user", vec![json!({ "type": "tool_result", "tool_use_id": call_id, "content": content })])
            }
        };
        // Turns alternate: consecutive ones of the same role (several tool results) are one.
        match messages.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(content) = last["content"].as_array_mut() {
                    content.extend(blocks);
                }
            }
            _ => messages.push(json!({ "role": role, "content": blocks })),
        }
    }
    let mut body = json!({ "model": request.model, "max_tokens": request.max_tokens, "messages": messages });
    if let Some(system) = request.system {
        body["system"] = json!(system);
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature.clamp(0.0, 1.0));
    }
    if !request.tools.is_empty() {
        body["tools"] =
            request.tools.iter().map(|t| json!({ "name": t.name, "description": t.description, "input_schema": t.parameters })).collect();
    }
    body
}

#[async_trait::async_trait]
impl ChatModel for Anthropic {
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, LlmError> {
        let (status, wait, answer) = self.send(&body(request)).await.map_err(llm_error)?;
        if !(200..300).contains(&status) {
            return Err(refusal(status, &answer, wait));
        }
        let blocks = answer.get("content").and_then(Value::as_array).ok_or_else(|| LlmError::BadAnswer("no content".into()))?;
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
                Some("tool_use") => {
                    let field = |name: &str| block.get(name).and_then(Value::as_str).map(str::to_string);
                    let (Some(id), Some(name)) = (field("id"), field("name")) else {
                        return Err(LlmError::BadAnswer("a tool_use without id or name".into()));
                    };
                    tool_calls.push(ToolCall { id, name, arguments: block.get("input").cloned().unwrap_or(Value::Null) });
                }
                _ => {}
            }
        }
        let finish = finish_of(answer.get("stop_reason").and_then(Value::as_str).unwrap_or(""));
        let tokens = |name: &str| answer.pointer(&format!("/usage/{name}")).and_then(Value::as_i64).unwrap_or(0);
        let cached = tokens("cache_read_input_tokens");
        Ok(Completion {
            text: (!text.is_empty()).then_some(text),
            tool_calls,
            finish,
            // Anthropic counts cache reads and writes apart from `input_tokens`.
            usage: Usage {
                input: tokens("input_tokens") + cached + tokens("cache_creation_input_tokens"),
                cached_input: cached,
                output: tokens("output_tokens"),
            },
            model: answer.get("model").and_then(Value::as_str).unwrap_or(request.model).to_string(),
        })
    }

    async fn stream(&self, request: &ChatRequest<'_>, text: &mpsc::Sender<String>) -> Result<Completion, LlmError> {
        let mut body = body(request);
        body["stream"] = json!(true);
        let mut response = self.open(&body).await.map_err(llm_error)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let wait = crate::llm::retry_after(response.headers());
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            return Err(refusal(status, &answer, wait));
        }
        let mut parser = Parser::default();
        let mut said = String::new();
        // Tool uses by block index: id, name, the input's JSON pieces.
        let mut uses: Vec<(usize, String, String, String)> = Vec::new();
        let (mut finish, mut usage, mut model) = (Finish::Other(String::new()), Usage::default(), request.model.to_string());
        while let Some(chunk) = response.chunk().await.map_err(|e| LlmError::Unreachable(e.without_url().to_string()))? {
            for event in parser.push(&chunk).ok_or_else(|| LlmError::BadAnswer("an event too large".into()))? {
                let piece: Value =
                    serde_json::from_str(&event.data).map_err(|_| LlmError::BadAnswer("an event that is not JSON".into()))?;
                let text_at = |pointer: &str| piece.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_string();
                let number = |pointer: &str| piece.pointer(pointer).and_then(Value::as_i64).unwrap_or(0);
                match piece.get("type").and_then(Value::as_str).unwrap_or("") {
                    "message_start" => {
                        model = text_at("/message/model");
                        let cached = number("/message/usage/cache_read_input_tokens");
                        usage.input = number("/message/usage/input_tokens") + cached + number("/message/usage/cache_creation_input_tokens");
                        usage.cached_input = cached;
                    }
                    "content_block_start" if text_at("/content_block/type") == "tool_use" => {
                        if uses.len() >= 64 {
                            return Err(LlmError::BadAnswer("too many tool calls".into()));
                        }
                        let index = number("/index") as usize;
                        uses.push((index, text_at("/content_block/id"), text_at("/content_block/name"), String::new()));
                    }
                    "content_block_delta" => match text_at("/delta/type").as_str() {
                        "text_delta" => {
                            let piece = text_at("/delta/text");
                            said.push_str(&piece);
                            // A reader that left does not stop the answer: its usage is still counted.
                            let _ = text.send(piece).await;
                        }
                        "input_json_delta" => {
                            let index = number("/index") as usize;
                            if let Some(used) = uses.iter_mut().find(|u| u.0 == index) {
                                used.3.push_str(&text_at("/delta/partial_json"));
                            }
                        }
                        _ => {}
                    },
                    "message_delta" => {
                        finish = finish_of(&text_at("/delta/stop_reason"));
                        usage.output = number("/usage/output_tokens");
                    }
                    "message_stop" => {
                        let tool_calls = uses
                            .into_iter()
                            .map(|(_, id, name, input)| ToolCall {
                                id,
                                name,
                                arguments: if input.is_empty() {
                                    json!({})
                                } else {
                                    serde_json::from_str(&input).unwrap_or(Value::String(input))
                                },
                            })
                            .collect();
                        return Ok(Completion { text: (!said.is_empty()).then_some(said), tool_calls, finish, usage, model });
                    }
                    "error" => {
                        let status = if text_at("/error/type") == "overloaded_error" { 529 } else { 500 };
                        return Err(refusal(status, &piece, None));
                    }
                    _ => {}
                }
            }
        }
        Err(LlmError::BadAnswer("the stream ended before message_stop".into()))
    }
}

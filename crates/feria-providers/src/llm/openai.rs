//! OpenAI's Chat Completions and Embeddings (`llm-providers.md` §1, §2), and every server that
//! speaks them at `{base}/v1/…`: MiniMax, Ollama, vLLM, LM Studio. `Authorization: Bearer` with
//! the key (local servers ignore it).

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use tokio::sync::mpsc;

use super::sse::Parser;
use super::{ChatMessage, ChatModel, ChatRequest, Completion, Finish, LlmError, ToolCall, ToolSpec, Usage, retry_after};

/// How the server names the answer's token limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimit {
    /// `max_completion_tokens` (OpenAI, MiniMax).
    Completion,
    /// `max_tokens` (Ollama and older servers).
    Legacy,
}

/// Chat Completions' request body.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_split: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum Message<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<CallOut<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

#[derive(Serialize)]
struct CallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: CalledFunction<'a>,
}

#[derive(Serialize)]
struct CalledFunction<'a> {
    name: &'a str,
    /// A JSON text, as the protocol has it.
    arguments: String,
}

#[derive(Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: &'a ToolSpec<'a>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// A client of one server and key.
pub struct OpenAiCompatible {
    base_url: String,
    api_key: String,
    token_limit: TokenLimit,
    /// MiniMax: reasoning apart from the answer (`reasoning_split`), temperature in (0, 1].
    minimax: bool,
    http: reqwest::Client,
}

impl OpenAiCompatible {
    pub fn new(base_url: &str, api_key: &str, token_limit: TokenLimit, timeout: Duration) -> Result<OpenAiCompatible, LlmError> {
        let http = crate::http::client(timeout).map_err(|e| LlmError::Unreachable(e.to_string()))?;
        Ok(OpenAiCompatible {
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            token_limit,
            minimax: false,
            http,
        })
    }

    /// The same client with MiniMax's differences (`llm-providers.md` §4).
    pub fn minimax(self) -> OpenAiCompatible {
        OpenAiCompatible { minimax: true, ..self }
    }

    /// POSTs `body` to `{base}/v1/{path}`: the answer when it is a success, else the refusal.
    async fn send(&self, path: &str, body: &impl Serialize) -> Result<reqwest::Response, LlmError> {
        let response = self
            .http
            .post(format!("{}/v1/{path}", self.base_url))
            .bearer_auth(&self.api_key)
            .json(body)
            .send()
            .await
            .map_err(|e| LlmError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let wait = retry_after(response.headers());
        let answer: Option<Value> = response.json().await.ok();
        let error = answer.as_ref().and_then(|a| a.get("error"));
        Err(refusal(status, error, wait))
    }

    /// POSTs `body` to `{base}/v1/{path}`; the answer's JSON, or the refusal.
    async fn post(&self, path: &str, body: &impl Serialize) -> Result<Value, LlmError> {
        let response = self.send(path, body).await?;
        let status = response.status().as_u16();
        response.json().await.map_err(|_| LlmError::BadAnswer(format!("{status} without JSON")))
    }

    /// The request body of `request`, borrowed from it.
    fn body<'a>(&self, request: &'a ChatRequest<'a>) -> Body<'a> {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if let Some(system) = request.system {
            messages.push(Message::System { content: system });
        }
        messages.extend(request.messages.iter().map(|message| {
            match message {
                ChatMessage::User(text) => Message::User { content: text },
                ChatMessage::Assistant { text, tool_calls } => Message::Assistant {
                    content: text.as_deref(),
                    tool_calls: tool_calls
                        .iter()
                        .map(|c| CallOut {
                            id: &c.id,
                            kind: "function",
                            function: CalledFunction { name: &c.name, arguments: c.arguments.to_string() },
                        })
                        .collect(),
                },
                ChatMessage::Tool { call_id, content } => Message::Tool { tool_call_id: call_id, content },
            }
        }));
        let limit = Some(request.max_tokens);
        let (max_completion_tokens, max_tokens) = match self.token_limit {
            TokenLimit::Completion => (limit, None),
            TokenLimit::Legacy => (None, limit),
        };
        Body {
            model: request.model,
            messages,
            max_completion_tokens,
            max_tokens,
            temperature: request.temperature.map(|t| if self.minimax { t.clamp(0.01, 1.0) } else { t }),
            reasoning_split: self.minimax.then_some(true),
            tools: request.tools.iter().map(|function| Tool { kind: "function", function }).collect(),
            stream: false,
            stream_options: None,
        }
    }

    /// Embeddings of `inputs` with `model`, in the order of `inputs`, and the tokens used.
    pub async fn embed(&self, model: &str, inputs: &[String]) -> Result<(Vec<Vec<f32>>, Usage), LlmError> {
        let answer = self.post("embeddings", &json!({ "model": model, "input": inputs, "encoding_format": "float" })).await?;
        let data = answer.get("data").and_then(Value::as_array).ok_or_else(|| LlmError::BadAnswer("no data".into()))?;
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; inputs.len()];
        for item in data {
            let index = item.get("index").and_then(Value::as_u64).map(|i| i as usize).filter(|i| *i < inputs.len());
            let values = item.get("embedding").and_then(Value::as_array);
            let (Some(index), Some(values)) = (index, values) else { return Err(LlmError::BadAnswer("an embedding without index".into())) };
            let vector: Option<Vec<f32>> = values.iter().map(|v| v.as_f64().map(|f| f as f32)).collect();
            vectors[index] = Some(vector.ok_or_else(|| LlmError::BadAnswer("an embedding that is not numbers".into()))?);
        }
        let vectors: Option<Vec<Vec<f32>>> = vectors.into_iter().collect();
        let usage = Usage { input: tokens(&answer, "/usage/prompt_tokens"), cached_input: 0, output: 0 };
        Ok((vectors.ok_or_else(|| LlmError::BadAnswer("an input without its embedding".into()))?, usage))
    }
}

/// OpenAI's error object (`{message, type, code}`) as a refusal with `status`.
fn refusal(status: u16, error: Option<&Value>, retry_after: Option<Duration>) -> LlmError {
    let field = |name: &str| error.and_then(|e| e.get(name)).and_then(Value::as_str).map(str::to_string);
    LlmError::Refused {
        status,
        code: field("code").or_else(|| field("type")),
        message: field("message").unwrap_or_else(|| format!("HTTP {status}")),
        retry_after,
    }
}

fn tokens(answer: &Value, pointer: &str) -> i64 {
    answer.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

#[async_trait::async_trait]
impl ChatModel for OpenAiCompatible {
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, LlmError> {
        let answer = self.post("chat/completions", &self.body(request)).await?;
        let choice = answer.pointer("/choices/0").ok_or_else(|| LlmError::BadAnswer("no choices".into()))?;
        let message = choice.get("message").ok_or_else(|| LlmError::BadAnswer("no message".into()))?;
        let mut tool_calls = Vec::new();
        for call in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            let text = |pointer: &str| call.pointer(pointer).and_then(Value::as_str).map(str::to_string);
            let (Some(id), Some(name)) = (text("/id"), text("/function/name")) else {
                return Err(LlmError::BadAnswer("a tool call without id or name".into()));
            };
            // Arguments arrive as a JSON string; a model may write broken JSON, kept as text.
            let arguments = text("/function/arguments").unwrap_or_default();
            let arguments = serde_json::from_str(&arguments).unwrap_or(Value::String(arguments));
            tool_calls.push(ToolCall { id, name, arguments });
        }
        let finish = finish_of(choice.get("finish_reason").and_then(Value::as_str).unwrap_or(""));
        let text = message.get("content").and_then(Value::as_str).map(without_thinking).filter(|t| !t.is_empty()).map(str::to_string);
        let finish = if text.is_none() && tool_calls.is_empty() && message.get("refusal").is_some_and(|r| !r.is_null()) {
            Finish::Refused
        } else {
            finish
        };
        Ok(Completion {
            text,
            tool_calls,
            finish,
            usage: Usage {
                input: tokens(&answer, "/usage/prompt_tokens"),
                cached_input: tokens(&answer, "/usage/prompt_tokens_details/cached_tokens"),
                output: tokens(&answer, "/usage/completion_tokens"),
            },
            model: answer.get("model").and_then(Value::as_str).unwrap_or(request.model).to_string(),
        })
    }

    async fn stream(&self, request: &ChatRequest<'_>, text: &mpsc::Sender<String>) -> Result<Completion, LlmError> {
        let body = Body { stream: true, stream_options: Some(StreamOptions { include_usage: true }), ..self.body(request) };
        let mut response = self.send("chat/completions", &body).await?;
        let mut parser = Parser::default();
        let mut said = String::new();
        // Tool calls by index: id, name, the arguments' pieces.
        let mut calls: Vec<(String, String, String)> = Vec::new();
        let mut finish = None;
        let mut usage = Usage::default();
        let mut model = request.model.to_string();
        while let Some(chunk) = response.chunk().await.map_err(|e| LlmError::Unreachable(e.without_url().to_string()))? {
            for event in parser.push(&chunk).ok_or_else(|| LlmError::BadAnswer("an event too large".into()))? {
                if event.data == "[DONE]" {
                    let finish = finish.unwrap_or(Finish::Stop);
                    return Ok(assemble(said, calls, finish, usage, model));
                }
                let piece: Value =
                    serde_json::from_str(&event.data).map_err(|_| LlmError::BadAnswer("an event that is not JSON".into()))?;
                if let Some(error) = piece.get("error") {
                    return Err(refusal(500, Some(error), None));
                }
                if let Some(name) = piece.get("model").and_then(Value::as_str) {
                    model = name.to_string();
                }
                if piece.get("usage").is_some_and(|u| !u.is_null()) {
                    usage = Usage {
                        input: tokens(&piece, "/usage/prompt_tokens"),
                        cached_input: tokens(&piece, "/usage/prompt_tokens_details/cached_tokens"),
                        output: tokens(&piece, "/usage/completion_tokens"),
                    };
                }
                let Some(choice) = piece.pointer("/choices/0") else { continue };
                if let Some(content) = choice.pointer("/delta/content").and_then(Value::as_str).filter(|c| !c.is_empty()) {
                    let before = visible(&said).len();
                    said.push_str(content);
                    // Reasoning written inline is held back; the answer after it is sent. A reader
                    // that left does not stop the answer: its usage is still counted.
                    let shown = visible(&said);
                    if shown.len() > before {
                        let _ = text.send(shown[before..].to_string()).await;
                    }
                }
                for delta in choice.pointer("/delta/tool_calls").and_then(Value::as_array).into_iter().flatten() {
                    let index = delta.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                    if index >= 64 {
                        return Err(LlmError::BadAnswer("too many tool calls".into()));
                    }
                    if calls.len() <= index {
                        calls.resize(index + 1, Default::default());
                    }
                    let field = |pointer: &str| delta.pointer(pointer).and_then(Value::as_str);
                    let call = &mut calls[index];
                    if let Some(id) = field("/id") {
                        call.0 = id.to_string();
                    }
                    if let Some(name) = field("/function/name") {
                        call.1.push_str(name);
                    }
                    call.2.push_str(field("/function/arguments").unwrap_or(""));
                }
                if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                    finish = Some(finish_of(reason));
                }
            }
        }
        Err(LlmError::BadAnswer("the stream ended before [DONE]".into()))
    }
}

/// What may be shown of an answer being written: nothing while it may still be opening or
/// writing a `<think>` block, then what follows the block.
fn visible(said: &str) -> &str {
    let start = said.trim_start();
    if "<think>".starts_with(start) || start.starts_with("<think>") && !start.contains("</think>") {
        return "";
    }
    without_thinking(said)
}

/// The answer without the reasoning some models write first inside `<think>…</think>`.
fn without_thinking(content: &str) -> &str {
    match content.trim_start().strip_prefix("<think>").and_then(|rest| rest.split_once("</think>")) {
        Some((_, answer)) => answer.trim_start(),
        None => content,
    }
}

fn finish_of(reason: &str) -> Finish {
    match reason {
        "stop" => Finish::Stop,
        "length" => Finish::Length,
        "tool_calls" | "function_call" => Finish::ToolCalls,
        "content_filter" => Finish::Refused,
        other => Finish::Other(other.to_string()),
    }
}

/// A streamed answer put together: its text, its tool calls (arguments parsed when they are JSON).
fn assemble(said: String, calls: Vec<(String, String, String)>, finish: Finish, usage: Usage, model: String) -> Completion {
    let tool_calls = calls
        .into_iter()
        .filter(|(id, name, _)| !id.is_empty() && !name.is_empty())
        .map(|(id, name, arguments)| ToolCall { id, name, arguments: serde_json::from_str(&arguments).unwrap_or(Value::String(arguments)) })
        .collect();
    let said = without_thinking(&said).to_string();
    Completion { text: (!said.is_empty()).then_some(said), tool_calls, finish, usage, model }
}

#[cfg(test)]
mod tests {
    use super::{visible, without_thinking};

    #[test]
    fn reasoning_before_the_answer_is_left_out() {
        assert_eq!(without_thinking("<think>el cliente quiere vino</think>\n\nTenemos Malbec."), "Tenemos Malbec.");
        assert_eq!(without_thinking("Tenemos <think> en el texto"), "Tenemos <think> en el texto");
        assert_eq!(without_thinking("<think>sin cerrar"), "<think>sin cerrar");
        assert_eq!((visible("<thi"), visible("<think>busco"), visible("<think>x</think> Hola")), ("", "", "Hola"));
        assert_eq!(visible("Hola"), "Hola");
    }
}

//! Language models, provider-neutral: a conversation with tools in, an answer (text or tool
//! calls, with its token usage) out. One client per wire dialect (`../shared/protocols/llm-providers.md`):
//! [`openai`] for OpenAI's Chat Completions and every server that speaks it (MiniMax, Ollama,
//! vLLM, LM Studio), and `crate::anthropic` for Anthropic's Messages. Retries and fallback between providers belong to the caller, which reads
//! [`LlmError::retryable`].

pub mod fallback;
pub mod openai;
pub mod sse;

use std::time::Duration;

use serde_json::Value;

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatMessage {
    User(String),
    /// What the model said before: text, tool calls, or both.
    Assistant {
        text: Option<String>,
        tool_calls: Vec<ToolCall>,
    },
    /// The result of a tool call the model asked for.
    Tool {
        call_id: String,
        content: String,
    },
}

/// A tool the model may call: its JSON Schema `parameters` (an object).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ToolSpec<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub parameters: &'a serde_json::Map<String, Value>,
}

/// A call the model asked for, its arguments parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: Value,
}

/// What a request asks of a model.
#[derive(Debug, Clone)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    pub system: Option<&'a str>,
    pub messages: &'a [ChatMessage],
    pub tools: &'a [ToolSpec<'a>],
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// Sampling temperature, when the model takes one.
    pub temperature: Option<f32>,
}

/// Tokens a call used. `input` includes `cached_input` (billed at the cached rate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: i64,
    pub cached_input: i64,
    pub output: i64,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Stop,
    /// It ran out of `max_tokens`.
    Length,
    ToolCalls,
    /// A content filter or a refusal.
    Refused,
    Other(String),
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub finish: Finish,
    pub usage: Usage,
    /// The model that answered, as the provider names it.
    pub model: String,
}

/// Why a call gave no answer. Keys never appear in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The provider refused the call with `status`.
    #[error("the provider answered {status}: {message}")]
    Refused {
        status: u16,
        /// The provider's error code (`rate_limit_exceeded`, `insufficient_quota`…).
        code: Option<String>,
        message: String,
        /// How long the provider asked to wait before trying again.
        retry_after: Option<Duration>,
    },
    /// No answer: connection, timeout.
    #[error("the provider is unreachable: {0}")]
    Unreachable(String),
    /// An answer that is not what the protocol says.
    #[error("the provider's answer is not understood: {0}")]
    BadAnswer(String),
}

impl LlmError {
    /// Whether trying again later may work: no answer, too many requests (not a spent quota),
    /// a conflict or a timeout, or the provider's own failure.
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::Unreachable(_) => true,
            LlmError::BadAnswer(_) => false,
            LlmError::Refused { status, code, .. } => match status {
                429 => code.as_deref() != Some("insufficient_quota"),
                408 | 409 => true,
                s => *s >= 500,
            },
        }
    }
}

/// A model behind one wire dialect.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// One answer to `request`.
    async fn complete(&self, request: &ChatRequest<'_>) -> Result<Completion, LlmError>;

    /// The same answer streamed: each piece of its text goes to `text` as it arrives, and the
    /// whole answer is returned at the end.
    async fn stream(&self, request: &ChatRequest<'_>, text: &tokio::sync::mpsc::Sender<String>) -> Result<Completion, LlmError>;
}

/// The wait a `retry-after` (seconds) or `retry-after-ms` header asks for.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    let wait = text("retry-after-ms").map(|ms| ms / 1000.0).or_else(|| text("retry-after"))?;
    (wait.is_finite() && wait >= 0.0).then(|| Duration::from_secs_f64(wait.min(600.0)))
}

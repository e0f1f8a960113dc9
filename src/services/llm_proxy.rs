//! Seed 001's `POST /api/mcp/anthropic`: a signed-in caller's Messages request forwarded to
//! Anthropic with feria's key (never the caller's token), bounded, and its usage recorded.

use feria_domain::ids::new_id;
use feria_domain::time;
use serde_json::Value;

use crate::app::App;
use crate::services::audit::Actor;

/// Most output tokens one request may ask for.
pub const MAX_TOKENS: i64 = 4096;
/// Most messages in one request.
pub const MAX_MESSAGES: usize = 50;

/// Why a request was not forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("Anthropic is not configured")]
    NotConfigured,
    /// A field the proxy does not accept (field, message).
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    #[error(transparent)]
    Provider(#[from] feria_providers::anthropic::AnthropicError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Anthropic's answer: its status and body.
pub struct Forwarded {
    pub status: u16,
    pub body: Value,
}

/// Checks and forwards `request` for `actor`: `max_tokens` 1–4096, 1–50 messages, no
/// streaming; the configured model when none is named. The tokens used are recorded.
pub async fn forward(app: &App, actor: &Actor, mut request: Value) -> Result<Forwarded, ProxyError> {
    let (Some(client), Some(config)) = (&app.anthropic, &app.config.anthropic) else { return Err(ProxyError::NotConfigured) };
    let Some(body) = request.as_object_mut() else { return Err(ProxyError::Invalid("body", "debe ser un objeto JSON".into())) };
    match body.get("max_tokens").and_then(Value::as_i64) {
        Some(n) if (1..=MAX_TOKENS).contains(&n) => {}
        _ => return Err(ProxyError::Invalid("max_tokens", format!("debe ser un entero entre 1 y {MAX_TOKENS}"))),
    }
    match body.get("messages").and_then(Value::as_array) {
        Some(m) if !m.is_empty() && m.len() <= MAX_MESSAGES => {}
        _ => return Err(ProxyError::Invalid("messages", format!("debe ser una lista de 1 a {MAX_MESSAGES} mensajes"))),
    }
    if body.get("stream").is_some_and(|s| s != &Value::Bool(false)) {
        return Err(ProxyError::Invalid("stream", "este proxy no transmite respuestas parciales".into()));
    }
    let model = match body.get("model") {
        None | Some(Value::Null) => config.model.clone(),
        Some(Value::String(m)) if !m.trim().is_empty() && m.len() <= 100 => m.clone(),
        Some(_) => return Err(ProxyError::Invalid("model", "debe ser el nombre de un modelo".into())),
    };
    body.insert("model".into(), Value::String(model.clone()));
    let answer = client.messages(&request).await?;
    let tokens = |name: &str| answer.body.pointer(&format!("/usage/{name}")).and_then(Value::as_i64).unwrap_or(0);
    let input = tokens("input_tokens") + tokens("cache_creation_input_tokens") + tokens("cache_read_input_tokens");
    sqlx::query(
        "INSERT INTO llm_usage (id, store_id, actor_type, actor_id, provider, model, mode, input_tokens, output_tokens, status, created_at)
         VALUES ($1, $2, $3, $4, 'anthropic', $5, 'proxy', $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(&actor.store_id)
    .bind(actor.kind)
    .bind(&actor.id)
    .bind(&model)
    .bind(input)
    .bind(tokens("output_tokens"))
    .bind(i64::from(answer.status))
    .bind(time::to_db(time::now()))
    .execute(app.db.writer())
    .await?;
    tracing::info!(model, input_tokens = input, output_tokens = tokens("output_tokens"), status = answer.status, "anthropic proxy call");
    Ok(Forwarded { status: answer.status, body: answer.body })
}

//! Seed 001's REST mirror of the MCP tools (`GET /api/mcp/tools`, `POST /api/mcp/call`), also
//! under `/api/stores/{slug}/…`: the same table, access rules and answers as the MCP server.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{AnyCaller, ClientIp, MaybeCaller};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::middleware::REQUEST_ID;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::mcp::server::{describe, result_of};
use crate::mcp::tools::{self, Ctx};
use crate::services::audit::Actor;
use crate::services::llm_proxy;

/// A tool as MCP describes it: name, title, description, input and output JSON Schemas, hints.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolList {
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<Value>,
}

/// The tools the caller may use in the store (anonymous: the catalog's).
#[utoipa::path(get, path = "/mcp/tools", tag = "mcp",
    responses(
        (status = 200, description = "The tools, in a fixed order", body = ToolList),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 403, description = "An API key of another store", body = ErrorBody),
        (status = 404, description = "Unknown store", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    CurrentStore(store): CurrentStore,
    headers: HeaderMap,
    ip: ClientIp,
) -> ApiResult<Json<ToolList>> {
    let ctx = Ctx::new(app, store, caller, request_id(&headers), ip.0)?;
    let tools = tools::visible(&ctx).map(|t| serde_json::to_value(describe(t)).map_err(ApiError::internal)).collect::<ApiResult<_>>()?;
    Ok(Json(ToolList { tools }))
}

/// `{name, arguments}` (seed 001's `toolName` is read as `name`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ToolCall {
    #[serde(alias = "toolName")]
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub arguments: Option<Map<String, Value>>,
}

/// What a tool answered: seed 001's `content`, plus MCP's `structuredContent`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnswer {
    /// `[{type: "text", text}]`: the result as JSON text.
    #[schema(value_type = Vec<Object>)]
    pub content: Vec<Value>,
    #[schema(value_type = Object)]
    pub structured_content: Value,
    pub is_error: bool,
}

/// Runs a tool as the MCP server would; a refusal is the API's error with its status (403
/// naming the missing scope, 422 naming the argument, 404 for an unknown tool).
#[utoipa::path(post, path = "/mcp/call", tag = "mcp", request_body = ToolCall,
    responses(
        (status = 200, description = "The tool's answer", body = ToolAnswer),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 403, description = "The tool needs a scope the caller does not hold", body = ErrorBody),
        (status = 404, description = "Unknown store, tool or record", body = ErrorBody),
        (status = 409, description = "The shop's state refuses it (workflow, stock, nothing left to refund)", body = ErrorBody),
        (status = 422, description = "Bad arguments", body = ErrorBody),
        (status = 502, description = "A payment provider failed", body = ErrorBody),
    ))]
pub async fn call(
    State(app): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    CurrentStore(store): CurrentStore,
    headers: HeaderMap,
    ip: ClientIp,
    ApiJson(body): ApiJson<ToolCall>,
) -> ApiResult<Json<ToolAnswer>> {
    let mut v = Validator::new();
    let name = v.text("name", body.name.as_deref(), 1, 128);
    v.finish()?;
    let ctx = Ctx::new(app, store, caller, request_id(&headers), ip.0)?;
    let tool = tools::find(&name).ok_or_else(|| ApiError::not_found(format!("No hay ninguna herramienta {name}")))?;
    let answer = result_of(Ok(tool.call(&ctx, body.arguments.map(Value::Object).unwrap_or(Value::Null)).await?));
    let content = answer.content.iter().map(|c| serde_json::to_value(c).map_err(ApiError::internal)).collect::<ApiResult<_>>()?;
    Ok(Json(ToolAnswer { content, structured_content: answer.structured_content.unwrap_or(Value::Null), is_error: false }))
}

pub fn request_id(headers: &HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Requests one caller may forward per minute.
const PROXY_PER_MINUTE: u64 = 30;

/// Forwards an Anthropic Messages request (seed 001's proxy): a signed-in user or a store key,
/// at most 30 a minute each, `max_tokens` at most 4096, no streaming; the configured model when
/// none is named. Anthropic's answer comes back with its status; the tokens used are recorded.
#[utoipa::path(post, path = "/mcp/anthropic", tag = "mcp", security(("bearer" = [])), request_body = Object,
    responses(
        (status = 200, description = "Anthropic's message", body = Object),
        (status = 409, description = "Anthropic is not configured", body = ErrorBody),
        (status = 502, description = "Anthropic did not answer", body = ErrorBody),
    ))]
pub async fn anthropic(
    State(app): State<AppState>,
    AnyCaller(caller): AnyCaller,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let decision = app.rate_limiter.hit("llm-proxy", &caller.id, PROXY_PER_MINUTE, std::time::Duration::from_secs(60)).await;
    if !decision.allowed {
        return Err(decision.rejection());
    }
    let forwarded = llm_proxy::forward(&app, &Actor::of(&caller, Some(&store.id)), body).await?;
    let status = StatusCode::from_u16(forwarded.status).unwrap_or(StatusCode::BAD_GATEWAY);
    Ok((status, Json(forwarded.body)).into_response())
}

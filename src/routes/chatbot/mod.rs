//! Seed 001's `/api/chatbot`, also under `/api/stores/{slug}/…`: questions to the shopping
//! assistant (an answer, or the same as server-sent events), its sessions, its model, its
//! usage and its embeddings.

pub mod embeddings;
pub mod sessions;
pub mod settings;

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{ClientIp, MaybeCaller};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::mcp::tools::Ctx;
use crate::routes::mcp::request_id;
use crate::services::assistant::{self, Question, Reply, UserType};

/// What the shopper is looking at.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryContext {
    /// Accepted for seed 001's shape and ignored: the assistant acts for the caller only.
    pub customer_id: Option<String>,
    pub order_id: Option<String>,
    pub product_id: Option<String>,
}

/// A question.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryRequest {
    /// The question, 1 to `CHAT_MAX_INPUT_CHARS` (1,000) characters.
    pub message: Option<String>,
    /// A session to continue; a new one is opened without it.
    pub session_id: Option<String>,
    /// `customer` (default) or `owner` (the store's staff and keys).
    pub user_type: Option<String>,
    pub context: Option<QueryContext>,
}

/// One server-sent event of a streamed answer (its documented shape).
#[derive(Debug, ToSchema)]
pub struct StreamEvent {
    /// `delta` (`{text}`: the next piece of the answer), `replace` (`{text}`: the whole answer,
    /// instead of what was sent), `done` (the full answer, as `/chatbot/query` gives it) or
    /// `error` (`{code, message}`).
    #[schema(value_type = String, pattern = "^(delta|replace|done|error)$")]
    pub event: String,
    /// The event's JSON, as text.
    pub data: String,
}

/// `customer` or `owner`.
pub fn user_type(v: &mut Validator, text: Option<&str>) -> UserType {
    match text.map(str::trim) {
        None | Some("") | Some("customer") => UserType::Customer,
        Some("owner") => UserType::Owner,
        Some(_) => {
            v.add("userType", "Debe ser customer u owner");
            UserType::Customer
        }
    }
}

fn question(body: QueryRequest) -> ApiResult<Question> {
    let mut v = Validator::new();
    let message = v.text("message", body.message.as_deref(), 1, 20_000);
    if message.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        v.add("message", "No puede tener caracteres de control");
    }
    let session_id = v.optional_text("sessionId", body.session_id.as_deref(), 1, 100);
    let user_type = user_type(&mut v, body.user_type.as_deref());
    let context = body.context.unwrap_or_default();
    let product_id = v.optional_text("context.productId", context.product_id.as_deref(), 1, 100);
    let order_id = v.optional_text("context.orderId", context.order_id.as_deref(), 1, 100);
    v.finish()?;
    Ok(Question { message, session_id, user_type, product_id, order_id })
}

/// Asks the assistant. Anyone may ask as a customer (10 questions a minute per caller or
/// address by default); owner mode needs a member or key of the store. The answer names only
/// products and numbers the shop's records gave; product cards are rendered by feria. Without
/// a language model (none configured, the budget spent, every provider failing) the answer is
/// keyless, labelled so, in the same shape.
#[utoipa::path(post, path = "/chatbot/query", tag = "chatbot", request_body = QueryRequest,
    responses(
        (status = 200, description = "The answer", body = Reply),
        (status = 403, description = "Owner mode without being staff of the store", body = ErrorBody),
        (status = 404, description = "Unknown or expired session, or someone else's", body = ErrorBody),
        (status = 422, description = "Empty or too long message, bad userType", body = ErrorBody),
        (status = 429, description = "Too many questions", body = ErrorBody),
    ))]
pub async fn query(
    State(app): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    CurrentStore(store): CurrentStore,
    headers: HeaderMap,
    ip: ClientIp,
    ApiJson(body): ApiJson<QueryRequest>,
) -> ApiResult<Json<Reply>> {
    let question = question(body)?;
    let ctx = Ctx::new(app, store, caller, request_id(&headers), ip.0)?;
    // Its own task: a client that leaves, or the request's timeout, does not cut a turn (and
    // its model calls) in half.
    let answering = tokio::spawn(async move { assistant::ask(&ctx, question, None).await });
    Ok(Json(answering.await.map_err(ApiError::internal)??))
}

/// The same question answered as server-sent events: `delta` events carry the answer's text as
/// it is written (checked a sentence at a time), `replace` the whole text when the final answer
/// differs from what was sent (a correction), and `done` the full answer as `/chatbot/query`
/// gives it. A refusal before anything is written is an ordinary error response.
#[utoipa::path(post, path = "/chatbot/query/stream", tag = "chatbot", request_body = QueryRequest,
    responses(
        (status = 200, description = "Server-sent events: delta, replace, done (or error)", content_type = "text/event-stream", body = StreamEvent),
        (status = 403, description = "Owner mode without being staff of the store", body = ErrorBody),
        (status = 404, description = "Unknown or expired session, or someone else's", body = ErrorBody),
        (status = 422, description = "Empty or too long message, bad userType", body = ErrorBody),
        (status = 429, description = "Too many questions", body = ErrorBody),
    ))]
pub async fn query_stream(
    State(app): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    CurrentStore(store): CurrentStore,
    headers: HeaderMap,
    ip: ClientIp,
    ApiJson(body): ApiJson<QueryRequest>,
) -> ApiResult<Response> {
    let question = question(body)?;
    let ctx = Ctx::new(app, store, caller, request_id(&headers), ip.0)?;
    let (pieces, mut written) = mpsc::channel::<String>(64);
    let mut answering = tokio::spawn(async move { assistant::ask(&ctx, question, Some(&pieces)).await });
    // Wait for the first piece: a refusal before it is an error response, not a stream.
    let first = tokio::select! {
        biased;
        finished = &mut answering => Err(finished),
        piece = written.recv() => Ok(piece),
    };
    let first = match first {
        Ok(Some(piece)) => piece,
        // Nothing was written: the answer (or the refusal) is all there is.
        finished => {
            let finished = match finished {
                Err(finished) => finished,
                Ok(_) => answering.await,
            };
            let reply = finished.map_err(ApiError::internal)??;
            let mut pieces = Vec::new();
            while let Ok(piece) = written.try_recv() {
                pieces.push(piece);
            }
            return Ok(events(pieces, Ok(reply)).into_response());
        }
    };
    let (events_out, events_in) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        // A reader that stops reading for this long is let go; the answer is still finished
        // and stored.
        let mut reading = true;
        let mut sent = String::new();
        let mut pass = async |event: Event| {
            if reading && events_out.send_timeout(event, READER_PATIENCE).await.is_err() {
                reading = false;
            }
        };
        sent.push_str(&first);
        pass(delta(&first)).await;
        while let Some(piece) = written.recv().await {
            sent.push_str(&piece);
            pass(delta(&piece)).await;
        }
        let finished = answering.await.map_err(ApiError::internal).and_then(|r| r.map_err(ApiError::from));
        for event in closing(&sent, finished) {
            pass(event).await;
        }
    });
    Ok(sse(events_in).into_response())
}

/// How long a streamed answer waits for a reader that stopped reading.
const READER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

fn delta(piece: &str) -> Event {
    Event::default().event("delta").data(json!({ "text": piece }).to_string())
}

/// The events that end a stream: `replace` when the answer is not what was sent, then `done`
/// (or `error`).
fn closing(sent: &str, finished: Result<Reply, ApiError>) -> Vec<Event> {
    match finished {
        Ok(reply) => {
            let mut events = Vec::new();
            if reply.response != sent {
                events.push(Event::default().event("replace").data(json!({ "text": reply.response }).to_string()));
            }
            events.push(Event::default().event("done").data(serde_json::to_string(&reply).unwrap_or_default()));
            events
        }
        Err(e) => vec![Event::default().event("error").data(json!({ "code": e.code, "message": e.message }).to_string())],
    }
}

fn events(pieces: Vec<String>, finished: Result<Reply, ApiError>) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let sent: String = pieces.concat();
    let mut all: Vec<Event> = pieces.iter().map(|p| delta(p)).collect();
    all.extend(closing(&sent, finished));
    Sse::new(futures::stream::iter(all.into_iter().map(Ok)))
}

fn sse(events: mpsc::Receiver<Event>) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    Sse::new(futures::stream::unfold(events, |mut events| async move { events.recv().await.map(|e| (Ok(e), events)) }))
}

//! The shopping assistant (seed 001's chatbot): a question about the shop, answered from what
//! the shop's records say. With a language model, the model works through the MCP tool table
//! (the same rules as the API) and feria writes every product, price and stock in the answer
//! from the records; without one (no key, budget spent, every provider failing) the answer is
//! written by templates from the same retrieval, and says so.

pub mod cards;
pub mod embeddings;
pub mod evidence;
pub mod grounding;
mod keyless;
pub mod retrieval;
pub mod sessions;
pub mod settings;
mod turn;
pub mod usage;

use feria_domain::access::Scope;
use feria_domain::time;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::mcp::tools::Ctx;
use crate::services::identity::caller::Caller;
use cards::ProductCard;
pub use sessions::Session;

/// Who the assistant talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    Customer,
    /// The store's staff: the owner tools and figures.
    Owner,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Customer => "customer",
            UserType::Owner => "owner",
        }
    }
}

/// A record an answer drew on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// `product`, `policy`, `order` or `report`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub title: String,
    /// 0 to 1.
    pub relevance_score: f64,
}

/// Who wrote the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A language model, through the tools.
    Model,
    /// feria's templates over the retrieval, no model.
    Keyless,
}

/// Why an answer was written without a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeylessReason {
    NotConfigured,
    BudgetSpent,
    ProvidersFailed,
    /// The model's answer stated what no tool returned, even after being asked to correct it.
    Ungrounded,
}

/// Whether the model's answer kept to the records.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Grounding {
    /// `ok`, `repaired` (caught and corrected by the model), `refused` (replaced by a keyless
    /// answer) or `keyless`.
    pub status: &'static str,
    /// What was caught: products or numbers no tool returned.
    pub caught: Vec<String>,
}

/// Seed 001's answer, with the product cards feria rendered.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    pub response: String,
    pub session_id: String,
    pub sources: Vec<Source>,
    /// The products the answer names, as the records have them now.
    pub products: Vec<ProductCard>,
    pub timestamp: String,
    /// The model that answered, or `keyless`.
    pub model: String,
    pub mode: Mode,
    pub keyless_reason: Option<KeylessReason>,
    pub grounding: Grounding,
    /// The tools the model called, in order.
    pub tool_calls: Vec<String>,
}

/// A question.
pub struct Question {
    pub message: String,
    pub session_id: Option<String>,
    pub user_type: UserType,
    /// Seed 001's `context`: what the shopper is looking at.
    pub product_id: Option<String>,
    pub order_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    #[error("session not found")]
    SessionNotFound,
    #[error("owner mode needs a member or key of the store")]
    OwnerOnly,
    #[error("forbidden")]
    Forbidden,
    #[error("no provider makes embeddings")]
    NoEmbedder,
    /// A field that is not accepted (field, message).
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    /// A refusal of a shared rule (rate limit, a tool's answer), as the API gives it.
    #[error("{}", .0.message)]
    Api(ApiError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<ApiError> for AssistantError {
    fn from(e: ApiError) -> AssistantError {
        AssistantError::Api(e)
    }
}

/// Owner mode is for the store's staff and keys (and the platform admin).
pub fn check_owner_mode(caller: Option<&Caller>, store_id: &str) -> Result<(), AssistantError> {
    match caller {
        // `may` holds only for the store's members, its keys and the platform admin.
        Some(c) if c.may(store_id, Scope::CatalogRead) => Ok(()),
        _ => Err(AssistantError::OwnerOnly),
    }
}

/// Counts one use of the assistant (a question, a new session) against the caller's allowance
/// (`CHAT_RATE_LIMIT_*`): a signed-in caller's, else the address's.
pub async fn spend_allowance(app: &crate::app::App, caller: Option<&Caller>, ip: &str) -> Result<(), AssistantError> {
    let who = match caller {
        Some(c) => format!("caller:{}", c.id),
        None => format!("ip:{ip}"),
    };
    Ok(app.rate_limiter.spend("chatbot", &who, app.config.chat.rate_limit).await?)
}

/// The actor recorded with a model call.
fn actor(ctx: &Ctx) -> (&'static str, String) {
    match &ctx.caller {
        Some(c) if c.key.is_some() => ("key", c.id.clone()),
        Some(c) => ("user", c.id.clone()),
        None => ("visitor", ctx.ip.clone()),
    }
}

/// Answers `question` for `ctx`'s caller; with `stream`, the answer's text is also sent there
/// as it is written, a checked sentence at a time (a keyless answer in one piece).
pub async fn ask(ctx: &Ctx, question: Question, stream: Option<&mpsc::Sender<String>>) -> Result<Reply, AssistantError> {
    let app = &ctx.app;
    let chat = &app.config.chat;
    let message = question.message.trim();
    if message.is_empty() || message.chars().count() > chat.max_input_chars {
        return Err(AssistantError::Invalid("message", format!("Debe tener entre 1 y {} caracteres", chat.max_input_chars)));
    }
    if question.user_type == UserType::Owner {
        check_owner_mode(ctx.caller.as_ref(), &ctx.store.id)?;
    }
    spend_allowance(app, ctx.caller.as_ref(), &ctx.ip).await?;
    // A new session is stored with its first messages, in one transaction.
    let (session, is_new) = match &question.session_id {
        Some(id) => (sessions::find(app, &ctx.store.id, id, ctx.caller.as_ref()).await?, false),
        None => (sessions::fresh(app, &ctx.store.id, ctx.caller.as_ref(), question.user_type, Value::Object(Default::default()))?, true),
    };
    if session.user_type != question.user_type {
        return Err(AssistantError::Invalid("userType", format!("La sesión es de modo {}", session.user_type.as_str())));
    }
    let history = if is_new { Vec::new() } else { sessions::messages(&app.db, &session.id, chat.max_history as i64).await? };
    let store_settings = settings::current(app, &ctx.store.id).await?;
    let spent_budget = match store_settings.monthly_budget_micros {
        Some(budget) => usage::spent_this_month(&app.db, &ctx.store.id).await? >= budget,
        None => false,
    };
    let chain = if spent_budget {
        None
    } else {
        app.assistant.chains.of(app, &ctx.store.id, &store_settings).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the assistant's providers could not be built");
            None
        })
    };
    // Embedding the question costs money too: not once the budget is spent.
    let found = retrieval::retrieve(app, &ctx.store, message, 5, !spent_budget).await?;
    let asked = turn::Asked { message, question: &question, history: &history, found: &found, user_type: session.user_type };
    let mut ledger = usage::Ledger::new(&app.db);
    let written: Result<Written, turn::NoModel> = match (&chain, spent_budget) {
        (_, true) => Err(KeylessReason::BudgetSpent.into()),
        (None, false) => Err(KeylessReason::NotConfigured.into()),
        (Some(chain), false) => turn::run(ctx, chain, &asked, stream, &mut ledger).await?,
    };
    let answer = match written {
        Ok(answer) => answer,
        Err(no_model) => {
            let mut answer = keyless::answer(ctx, &asked, no_model.reason).await?;
            answer.grounding.caught = no_model.caught;
            if let Some(stream) = stream {
                let _ = stream.send(answer.text.clone()).await;
            }
            answer
        }
    };
    let turn = sessions::Turn {
        is_new,
        question: message.to_string(),
        answer: answer.text.clone(),
        sources: &answer.sources,
        usage: ledger.pending(),
    };
    sessions::record_turn(app, &ctx.store.id, &session, turn).await?;
    ledger.stored();
    Ok(Reply {
        response: answer.text,
        session_id: session.id,
        sources: answer.sources,
        products: answer.cards,
        timestamp: time::to_db(time::now()),
        model: answer.model,
        mode: answer.mode,
        keyless_reason: answer.keyless_reason,
        grounding: answer.grounding,
        tool_calls: answer.tool_calls,
    })
}

/// An answer before it is stored.
pub(crate) struct Written {
    pub text: String,
    pub cards: Vec<ProductCard>,
    pub sources: Vec<Source>,
    pub model: String,
    pub mode: Mode,
    pub keyless_reason: Option<KeylessReason>,
    pub grounding: Grounding,
    pub tool_calls: Vec<String>,
}

/// What the assistant keeps in `App`: the stores' provider chains and embeddings.
#[derive(Default)]
pub struct AssistantState {
    pub chains: settings::Chains,
    pub settings: settings::Cached,
    pub vectors: embeddings::Vectors,
    pub embedder: embeddings::Embedder,
}

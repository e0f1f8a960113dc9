//! Checkouts that AI agents build (the Universal Commerce Protocol's checkout sessions, over
//! REST and MCP): a session holds the lines, buyer and destination the agent gave, priced from
//! the catalog with the store's tax and coupons, with a message for every problem the agent
//! can fix. Completing it places an ordinary order through `checkout::place_order` (stock
//! re-checked under the same lock as any checkout) and hands the buyer to Mercado Pago's page,
//! or confirms it for cash or transfer.

mod complete;
mod orders;
mod pricing;

pub use complete::{Instrument, PaymentChoice, complete};
pub use orders::{AgentOrder, find_order, order_changed, simulate_shipping};

use chrono::TimeDelta;
use feria_db::{AnyConnection, Row};
use feria_domain::ids::new_id;
use feria_domain::time;
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::services::catalog::stores::Store;

/// How long a session holds its prices before it is canceled.
pub const SESSION_TTL: TimeDelta = TimeDelta::hours(6);
/// Most lines in one checkout, as in an order.
pub const MAX_LINES: usize = 100;

/// Where a session stands (UCP's state machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Something to fix or to add (see the messages).
    Incomplete,
    /// The buyer must act on `continue_url` (pay on Mercado Pago's page).
    RequiresEscalation,
    ReadyForComplete,
    /// Being completed right now.
    CompleteInProgress,
    Completed,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Incomplete => "incomplete",
            Status::RequiresEscalation => "requires_escalation",
            Status::ReadyForComplete => "ready_for_complete",
            Status::CompleteInProgress => "complete_in_progress",
            Status::Completed => "completed",
            Status::Canceled => "canceled",
        }
    }

    fn parse(text: &str) -> Status {
        match text {
            "requires_escalation" => Status::RequiresEscalation,
            "ready_for_complete" => Status::ReadyForComplete,
            "complete_in_progress" => Status::CompleteInProgress,
            "completed" => Status::Completed,
            "canceled" => Status::Canceled,
            _ => Status::Incomplete,
        }
    }

    /// Completed and canceled sessions do not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Completed | Status::Canceled)
    }
}

/// The buyer as the agent gave them (validated lengths; email lower-cased).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Buyer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    /// What the buyer agreed to (`{"marketing": true, …}`), kept as given.
    #[serde(default)]
    pub consent: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A postal address (UCP's names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// The agent's id for it, kept.
    #[serde(default)]
    pub id: Option<String>,
    /// Needed to complete; options are priced without it (country and postal code suffice).
    pub street_address: Option<String>,
    pub extended_address: Option<String>,
    pub address_locality: Option<String>,
    pub address_region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub address_country: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone_number: Option<String>,
}

/// One line the agent asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftLine {
    /// The agent's id for the line, kept; one is made up when absent.
    pub id: Option<String>,
    /// A product id or SKU.
    pub item_id: String,
    pub quantity: i64,
}

/// What the agent asks for: on create and on every update, the whole writable state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    pub lines: Vec<DraftLine>,
    pub buyer: Option<Buyer>,
    pub destination: Option<Address>,
    /// The shipping option chosen; the cheapest is chosen when absent.
    pub selected_option: Option<String>,
    /// The agent's ids for the fulfillment method (set when it sent one) and its group, kept.
    pub method_id: Option<String>,
    pub group_id: Option<String>,
    /// Discount codes, in order; the first one the store accepts applies.
    pub discount_codes: Vec<String>,
    /// Echoed as given (language, country hints).
    pub context: Option<serde_json::Value>,
    /// The agent platform's profile URL (`UCP-Agent`), kept from the last request that named one.
    pub agent_profile: Option<String>,
}

/// A priced line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub id: String,
    /// The id the agent used (a product id or SKU).
    pub item_id: String,
    pub product_id: String,
    pub title: String,
    /// Net unit price, minor units.
    pub unit_price: i64,
    /// Basis points.
    pub tax_rate_bp: i64,
    pub quantity: i64,
    pub image_url: Option<String>,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
}

/// A way to ship, priced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShippingOption {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub amount: i64,
}

/// The coupon that applies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppliedDiscount {
    pub code: String,
    pub title: String,
    pub amount: i64,
}

/// A session's totals, minor units.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal: i64,
    pub discount: i64,
    pub fulfillment: i64,
    pub tax: i64,
    pub total: i64,
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The agent can fix it through the API.
    Recoverable,
    /// Only the buyer can act (on `continue_url`).
    RequiresBuyerInput,
    Unrecoverable,
}

/// A problem, a notice or a piece of information for the agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// `error`, `warning` or `info`.
    pub kind: String,
    pub code: String,
    /// JSONPath of what it is about (`$.line_items[0]`).
    pub path: Option<String>,
    pub content: String,
    pub severity: Option<Severity>,
}

impl Message {
    pub fn error(code: &str, path: Option<String>, content: impl Into<String>, severity: Severity) -> Message {
        Message { kind: "error".into(), code: code.into(), path, content: content.into(), severity: Some(severity) }
    }

    pub fn warning(code: &str, path: Option<String>, content: impl Into<String>) -> Message {
        Message { kind: "warning".into(), code: code.into(), path, content: content.into(), severity: None }
    }
}

/// The order a session became.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderRef {
    pub id: String,
    pub number: String,
}

/// A checkout session as last priced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub store_id: String,
    pub status: Status,
    pub currency: String,
    pub lines: Vec<Line>,
    pub buyer: Option<Buyer>,
    pub context: Option<serde_json::Value>,
    pub destination: Option<Address>,
    pub options: Vec<ShippingOption>,
    pub selected_option: Option<String>,
    #[serde(default)]
    pub method_id: Option<String>,
    #[serde(default)]
    pub group_id: Option<String>,
    pub discount_codes: Vec<String>,
    pub discount: Option<AppliedDiscount>,
    pub totals: Totals,
    pub messages: Vec<Message>,
    pub order: Option<OrderRef>,
    /// Where the buyer finishes (Mercado Pago's page) when the session requires it.
    pub continue_url: Option<String>,
    /// The handler whose page `continue_url` is.
    #[serde(default)]
    pub payment_handler: Option<String>,
    /// The agent platform's profile URL, when a request named one.
    #[serde(default)]
    pub agent_profile: Option<String>,
    /// Where the platform takes order updates (from its profile, read at completion).
    #[serde(default)]
    pub webhook_url: Option<String>,
    pub expires_at: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Why a session operation was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("no such checkout session")]
    UnknownSession,
    /// Completed or canceled sessions do not change.
    #[error("the session is {0}")]
    Final(&'static str),
    /// Nothing the agent asked for can be sold: no session was created.
    #[error("nothing to sell")]
    NothingToSell(Vec<Message>),
    /// Complete was asked before the session was ready (the messages say what is missing).
    #[error("the session is not ready to complete")]
    NotReady(Box<Session>),
    /// The payment handler named is not one this store offers.
    #[error("unknown payment handler {0}")]
    UnknownHandler(String),
    /// The handler refused the credential; nothing was placed.
    #[error("payment declined")]
    PaymentDeclined,
    /// The handler needs a credential the instrument does not carry.
    #[error("{0} needs a token credential")]
    MissingCredential(&'static str),
    #[error(transparent)]
    Order(#[from] crate::services::orders::OrderError),
    #[error(transparent)]
    Payment(#[from] crate::services::payments::PaymentError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Opens a session for `draft` in `store`. Fails without a session when no line can be sold.
pub async fn create(app: &App, store: &Store, draft: Draft) -> Result<Session, CheckoutError> {
    let now = time::now();
    let mut session = Session {
        id: format!("chk_{}", new_id()),
        store_id: store.id.clone(),
        status: Status::Incomplete,
        currency: store.currency.code().to_string(),
        lines: Vec::new(),
        buyer: None,
        context: None,
        destination: None,
        options: Vec::new(),
        selected_option: None,
        method_id: None,
        group_id: None,
        discount_codes: Vec::new(),
        discount: None,
        totals: Totals::default(),
        messages: Vec::new(),
        order: None,
        continue_url: None,
        payment_handler: None,
        agent_profile: None,
        webhook_url: None,
        expires_at: time::to_db(now + SESSION_TTL),
        created_at: time::to_db(now),
        updated_at: time::to_db(now),
    };
    pricing::price(app, store, &mut session, draft).await?;
    if session.lines.is_empty() {
        return Err(CheckoutError::NothingToSell(session.messages));
    }
    sqlx::query(
        "INSERT INTO checkout_sessions (id, store_id, status, data, order_id, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, NULL, $5, $6, $6)",
    )
    .bind(&session.id)
    .bind(&store.id)
    .bind(session.status.as_str())
    .bind(to_json(&session)?)
    .bind(&session.expires_at)
    .bind(&session.created_at)
    .execute(app.db.writer())
    .await?;
    Ok(session)
}

/// The store's session `id` as it stands: an expired one reads as canceled, one waiting for
/// its Mercado Pago payment as completed once the order is paid.
pub async fn get(app: &App, store: &Store, id: &str) -> Result<Session, CheckoutError> {
    let session = find(app, store, id).await?;
    complete::settle(app, session).await
}

/// Replaces what the agent asked for with `draft` and prices it again.
pub async fn update(app: &App, store: &Store, id: &str, draft: Draft) -> Result<Session, CheckoutError> {
    let mut session = get(app, store, id).await?;
    if session.status.is_final() || session.status == Status::CompleteInProgress || session.order.is_some() {
        return Err(CheckoutError::Final(session.status.as_str()));
    }
    pricing::price(app, store, &mut session, draft).await?;
    save(app, &session, &[Status::Incomplete, Status::ReadyForComplete, Status::RequiresEscalation]).await?;
    Ok(session)
}

/// Cancels the session (from any state but completed or canceled).
pub async fn cancel(app: &App, store: &Store, id: &str) -> Result<Session, CheckoutError> {
    let mut session = get(app, store, id).await?;
    if session.status.is_final() || session.status == Status::CompleteInProgress || session.order.is_some() {
        return Err(CheckoutError::Final(session.status.as_str()));
    }
    let was = session.status;
    session.status = Status::Canceled;
    session.continue_url = None;
    save(app, &session, &[was]).await?;
    Ok(session)
}

async fn find(app: &App, store: &Store, id: &str) -> Result<Session, CheckoutError> {
    let row = sqlx::query("SELECT data FROM checkout_sessions WHERE id = $1 AND store_id = $2")
        .bind(id)
        .bind(&store.id)
        .fetch_optional(&mut *app.db.reader().acquire().await?)
        .await?
        .ok_or(CheckoutError::UnknownSession)?;
    let mut session = decode(&row.try_get::<String, _>("data")?)?;
    if !session.status.is_final()
        && session.status != Status::CompleteInProgress
        && session.order.is_none()
        && session.expires_at <= time::to_db(time::now())
    {
        session.status = Status::Canceled;
    }
    Ok(session)
}

/// Writes `session` if it is still in one of the states `from` (another request did not move
/// it meanwhile); otherwise the session is reported as it now is.
async fn save(app: &App, session: &Session, from: &[Status]) -> Result<(), CheckoutError> {
    save_on(&mut *app.db.writer().acquire().await?, session, from).await
}

/// [`save`] on `conn` (a transaction that does more).
async fn save_on(conn: &mut AnyConnection, session: &Session, from: &[Status]) -> Result<(), CheckoutError> {
    let mut session = session.clone();
    session.updated_at = time::to_db(time::now());
    let allowed: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let sql = format!(
        "UPDATE checkout_sessions SET status = $1, data = $2, order_id = $3, updated_at = $4 WHERE id = $5 AND status IN ({})",
        feria_db::placeholders(6, allowed.len())
    );
    let mut query = sqlx::query(&sql)
        .bind(session.status.as_str())
        .bind(to_json(&session)?)
        .bind(session.order.as_ref().map(|o| o.id.clone()))
        .bind(&session.updated_at)
        .bind(&session.id);
    for status in allowed {
        query = query.bind(status);
    }
    if query.execute(&mut *conn).await?.rows_affected() == 0 {
        let now: Option<String> =
            sqlx::query_scalar("SELECT status FROM checkout_sessions WHERE id = $1").bind(&session.id).fetch_optional(&mut *conn).await?;
        return Err(CheckoutError::Final(Status::parse(&now.unwrap_or_default()).as_str()));
    }
    Ok(())
}

fn decode(data: &str) -> Result<Session, sqlx::Error> {
    serde_json::from_str(data).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn to_json(session: &Session) -> Result<String, sqlx::Error> {
    serde_json::to_string(session).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

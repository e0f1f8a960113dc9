//! The Universal Commerce Protocol (2026-04-08), business side: the shop's profile, the
//! `UCP-Agent` header, and checkout sessions read from and written as UCP JSON. The REST
//! routes (`routes/ucp.rs`) and the MCP checkout tools both speak through this module to
//! `services::agent_checkout`.

pub mod checkout;
pub mod order;
pub mod platform;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::App;
use crate::services::agent_checkout::PaymentChoice;
use crate::services::catalog::stores::Store;

/// The protocol version feria speaks.
pub const VERSION: &str = "2026-04-08";
/// Where the REST binding lives, under feria's public URL.
pub const REST_PREFIX: &str = "/ucp/v1";

/// A protocol-level refusal: its HTTP status and UCP's `{code, content}` body, or an
/// `error_response` with messages.
#[derive(Debug)]
pub struct UcpError {
    pub status: StatusCode,
    pub body: Value,
}

impl UcpError {
    /// `{code, content}` (discovery, version and negotiation problems).
    pub fn protocol(status: StatusCode, code: &str, content: impl Into<String>) -> UcpError {
        UcpError { status, body: json!({ "code": code, "content": content.into() }) }
    }

    /// An `error_response`: no resource, one message per problem.
    pub fn messages(status: StatusCode, messages: Vec<Value>) -> UcpError {
        UcpError { status, body: json!({ "ucp": { "version": VERSION, "status": "error" }, "messages": messages }) }
    }

    /// Bad input at `path` (JSONPath).
    pub fn invalid(problems: Vec<(String, String)>) -> UcpError {
        let messages = problems
            .into_iter()
            .map(|(path, content)| json!({ "type": "error", "code": "invalid", "path": path, "content": content, "severity": "recoverable" }))
            .collect();
        UcpError::messages(StatusCode::BAD_REQUEST, messages)
    }
}

impl axum::response::IntoResponse for UcpError {
    fn into_response(self) -> axum::response::Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// Checks the `UCP-Agent` header when sent: an RFC 8941 dictionary whose `profile` is the
/// platform's profile URL, optionally with a `version` parameter, which must be one feria
/// speaks (422 `version_unsupported` otherwise). A missing header is tolerated. The profile is
/// read only for its order webhook (`platform`), so the capabilities answered are always all of
/// the shop's.
pub fn check_agent(header: Option<&str>) -> Result<(), UcpError> {
    let Some(header) = header else { return Ok(()) };
    for member in header.split([';', ',']).map(str::trim) {
        if let Some(version) = member.strip_prefix("version=") {
            let version = version.trim_matches('"');
            if version != VERSION {
                return Err(UcpError::protocol(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "version_unsupported",
                    format!("feria habla UCP {VERSION}, no {version}"),
                ));
            }
        }
    }
    Ok(())
}

/// feria's public origin (`API_URL`), without a trailing slash.
pub fn origin(app: &App) -> &str {
    app.config.payments.public_url.trim_end_matches('/')
}

/// The payment handlers of `offered`, as UCP lists them.
pub fn payment_handlers(app: &App, offered: &[PaymentChoice]) -> Value {
    let mut handlers = serde_json::Map::new();
    for choice in offered {
        let namespace = match choice {
            PaymentChoice::MercadoPago => "com.mercadopago.checkout_pro",
            PaymentChoice::Cash | PaymentChoice::BankTransfer => "com.feria.offline",
            PaymentChoice::Stripe => "com.stripe.payment_method",
            PaymentChoice::Mock => "com.feria.mock_payment",
        };
        let card = matches!(choice, PaymentChoice::Mock | PaymentChoice::Stripe);
        let instrument = if card { "card" } else { choice.handler_id() };
        let mut entry = json!({ "id": choice.handler_id(), "version": VERSION, "available_instruments": [{ "type": instrument }] });
        if let (PaymentChoice::Stripe, Some(key)) = (choice, app.config.payments.stripe.as_ref().and_then(|s| s.publishable_key.as_ref())) {
            // The platform pays with a token credential holding a PaymentMethod of this account.
            entry["config"] = json!({ "publishable_key": key, "credential": "token: a Stripe PaymentMethod id (pm_…)" });
        }
        match handlers.get_mut(namespace).and_then(Value::as_array_mut) {
            Some(list) => list.push(entry),
            None => {
                handlers.insert(namespace.into(), json!([entry]));
            }
        }
    }
    Value::Object(handlers)
}

/// The capabilities feria offers, each at [`VERSION`].
const CAPABILITIES: [(&str, Option<&str>); 5] = [
    ("dev.ucp.shopping.checkout", None),
    ("dev.ucp.shopping.fulfillment", Some("dev.ucp.shopping.checkout")),
    ("dev.ucp.shopping.discount", Some("dev.ucp.shopping.checkout")),
    ("dev.ucp.shopping.buyer_consent", Some("dev.ucp.shopping.checkout")),
    ("dev.ucp.shopping.order", None),
];

/// The capabilities as a checkout response names them (the checkout and its extensions).
pub fn negotiated() -> Value {
    Value::Object(
        CAPABILITIES
            .iter()
            .filter(|(name, extends)| *name == "dev.ucp.shopping.checkout" || extends.is_some())
            .map(|(name, _)| (name.to_string(), json!([{ "version": VERSION }])))
            .collect(),
    )
}

/// Where `store`'s UCP endpoints live under feria's origin: the default store at the root,
/// any other under `/api/stores/{slug}`.
pub fn store_prefix(store: &Store) -> String {
    if store.is_default { String::new() } else { format!("/api/stores/{}", store.slug) }
}

/// Where `store`'s profile is published.
pub fn profile_url(app: &App, store: &Store) -> String {
    format!("{}{}/.well-known/ucp", origin(app), store_prefix(store))
}

/// The shop's profile (`/.well-known/ucp`).
pub async fn profile(app: &App, store: &Store) -> Result<Value, sqlx::Error> {
    let origin = format!("{}{}", origin(app), store_prefix(store));
    let spec = |page: &str| format!("https://ucp.dev/{VERSION}/specification/{page}");
    let capabilities: serde_json::Map<String, Value> = CAPABILITIES
        .iter()
        .map(|(name, extends)| {
            let short = name.rsplit('.').next().unwrap_or(name);
            let mut entry = json!({
                "version": VERSION,
                "spec": spec(short),
                "schema": format!("https://ucp.dev/{VERSION}/schemas/shopping/{short}.json"),
            });
            if let Some(parent) = extends {
                entry["extends"] = json!(parent);
            }
            (name.to_string(), json!([entry]))
        })
        .collect();
    let offered = PaymentChoice::offered(app, store).await?;
    Ok(json!({
        "ucp": {
            "version": VERSION,
            "services": {
                "dev.ucp.shopping": [
                    { "version": VERSION, "spec": spec("overview"), "transport": "rest", "endpoint": format!("{origin}{REST_PREFIX}"),
                      "schema": format!("https://ucp.dev/{VERSION}/services/shopping/rest.openapi.json") },
                    { "version": VERSION, "spec": spec("overview"), "transport": "mcp", "endpoint": format!("{origin}/mcp"),
                      "schema": format!("https://ucp.dev/{VERSION}/services/shopping/mcp.openrpc.json") }
                ]
            },
            "capabilities": capabilities,
            "payment_handlers": payment_handlers(app, &offered),
        },
        "signing_keys": app.config.agents.signing_keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>(),
    }))
}

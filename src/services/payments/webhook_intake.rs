//! Taking in a provider's webhook, the same way for every provider: the notification is
//! logged as received, before anything else; an unsigned or foreign one is refused (and stays
//! in the log); one about a payment has that payment fetched from the provider and applied,
//! once however often it arrives; the log entry ends with what was done.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use feria_providers::mercadopago as mp;
use serde_json::{Value, json};

use super::webhook_log::{self, Received};
use super::{PaymentError, Provider, gateway, mercadopago, stripe};
use crate::app::App;
use crate::config::SIGNATURE_TOLERANCE_SECS;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};

/// A webhook as it arrived.
pub struct Delivery<'a> {
    pub headers: &'a HeaderMap,
    pub raw_query: Option<&'a str>,
    pub body: &'a [u8],
    pub ip: &'a str,
}

/// Whose webhook it is.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    MercadoPago,
    Stripe,
}

impl Source {
    fn provider(self) -> Provider {
        match self {
            Source::MercadoPago => Provider::MercadoPago,
            Source::Stripe => Provider::Stripe,
        }
    }

    fn as_str(self) -> &'static str {
        self.provider().as_str()
    }

    fn name(self) -> &'static str {
        match self {
            Source::MercadoPago => "Mercado Pago",
            Source::Stripe => "Stripe",
        }
    }
}

/// Why a webhook was refused; it is logged, nothing was applied.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("not a notification of {0}")]
    NotFromProvider(&'static str),
    #[error("missing, wrong or stale signature")]
    BadSignature,
    /// The provider could not be asked (it will retry), or the database failed.
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

impl From<sqlx::Error> for WebhookError {
    fn from(e: sqlx::Error) -> WebhookError {
        WebhookError::Payment(PaymentError::Database(e))
    }
}

/// What a webhook says, read before it is logged.
struct Notice {
    /// `webhook` (signed JSON), `ipn` (Mercado Pago's legacy query form) or `unknown`.
    format: &'static str,
    event_type: Option<String>,
    resource_id: Option<String>,
    trust: Trust,
    /// The provider's payment to fetch and apply, when the event is about money.
    payment: Option<String>,
}

enum Trust {
    Signed,
    /// Cannot be signed (Mercado Pago's legacy form): only a hint to fetch the payment.
    Hint,
    BadSignature(String),
    Foreign,
}

/// Logs, checks and applies a webhook of `source` for `store`.
pub async fn take_in(app: &App, store: &Store, source: Source, delivery: Delivery<'_>) -> Result<Done<()>, WebhookError> {
    let query = query_map(delivery.raw_query);
    let body: Value = serde_json::from_slice(delivery.body).unwrap_or(Value::Null);
    let notice = match source {
        Source::MercadoPago => mercadopago_notice(app, &delivery, &query, &body),
        Source::Stripe => stripe_notice(app, &delivery, &body),
    };
    let log_id = log(app, store, source, &delivery, &query, &notice).await?;
    let finish = async |processed: bool, outcome: String, changed: bool| -> Result<(), sqlx::Error> {
        webhook_log::finish(&mut *app.db.writer().acquire().await?, &log_id, processed, &outcome, changed).await
    };
    match notice.trust {
        Trust::Foreign => {
            finish(false, format!("refused: not a {} notification", source.name()), false).await?;
            return Err(WebhookError::NotFromProvider(source.name()));
        }
        Trust::BadSignature(why) => {
            finish(false, format!("refused: {why}"), false).await?;
            return Err(WebhookError::BadSignature);
        }
        Trust::Signed | Trust::Hint => {}
    }
    let Some(payment) = notice.payment else {
        finish(true, format!("ignored: event {}", notice.event_type.as_deref().unwrap_or("(none)")), false).await?;
        return Ok(Done::new((), Effects::default()));
    };
    let synced = match gateway::of(source.provider()) {
        Some(gateway) => gateway.sync(app, store, &payment, "webhook").await,
        None => Err(PaymentError::NotConfigured(source.name())),
    };
    match synced {
        Ok(done) => {
            let (_, applied) = &done.value;
            finish(true, applied.outcome.clone(), applied.changed).await?;
            Ok(Done::new((), done.effects))
        }
        Err(PaymentError::Foreign) => {
            finish(true, "ignored: not a payment of this store's orders".into(), false).await?;
            Ok(Done::new((), Effects::default()))
        }
        Err(e) => {
            finish(false, format!("failed: {e}"), false).await?;
            Err(e.into())
        }
    }
}

/// Mercado Pago's signed JSON webhook (`x-signature` checked against
/// `MERCADOPAGO_WEBHOOK_SECRET`) or its legacy `?topic=payment&id=` form.
fn mercadopago_notice(app: &App, delivery: &Delivery<'_>, query: &BTreeMap<String, String>, body: &Value) -> Notice {
    let data_id = query.get("data.id").cloned();
    let (format, event_type, resource_id) = if data_id.is_some() || (body.get("type").is_some() && body.get("data").is_some()) {
        let resource = data_id.clone().or_else(|| mp::id_text(&body["data"]["id"]));
        ("webhook", query.get("type").cloned().or_else(|| body["type"].as_str().map(str::to_string)), resource)
    } else if let (Some(topic), Some(id)) = (query.get("topic"), query.get("id")) {
        ("ipn", Some(topic.clone()), Some(id.clone()))
    } else {
        ("unknown", None, None)
    };
    let trust = match format {
        "webhook" => match mercadopago::config(app).ok().and_then(|c| c.webhook_secret.as_ref()) {
            None => Trust::BadSignature("MERCADOPAGO_WEBHOOK_SECRET is not set".into()),
            Some(secret) => match mp::verify_signature(
                secret.expose(),
                header_text(delivery.headers, "x-signature"),
                header_text(delivery.headers, "x-request-id"),
                data_id.as_deref(),
                chrono::Utc::now().timestamp(),
                SIGNATURE_TOLERANCE_SECS,
            ) {
                Ok(()) => Trust::Signed,
                Err(e) => Trust::BadSignature(e.to_string()),
            },
        },
        "ipn" => Trust::Hint,
        _ => Trust::Foreign,
    };
    let payment = resource_id.clone().filter(|_| event_type.as_deref() == Some("payment"));
    Notice { format, event_type, resource_id, trust, payment }
}

/// Stripe's events (`Stripe-Signature` checked against `STRIPE_WEBHOOK_SECRET`); those about a
/// PaymentIntent, a charge or a refund name the intent to fetch.
fn stripe_notice(app: &App, delivery: &Delivery<'_>, event: &Value) -> Notice {
    let event_type = event["type"].as_str().map(str::to_string);
    let object = &event["data"]["object"];
    let intent_id = match object["object"].as_str() {
        Some("payment_intent") => object["id"].as_str(),
        _ => object["payment_intent"].as_str(),
    }
    .map(str::to_string);
    let trust = match stripe::config(app).ok().and_then(|c| c.webhook_secret.as_ref()) {
        None => Trust::BadSignature("STRIPE_WEBHOOK_SECRET is not set".into()),
        Some(secret) => match feria_providers::stripe::verify_signature(
            secret.expose(),
            header_text(delivery.headers, "stripe-signature"),
            delivery.body,
            chrono::Utc::now().timestamp(),
            SIGNATURE_TOLERANCE_SECS,
        ) {
            Err(e) => Trust::BadSignature(e.to_string()),
            Ok(()) if event_type.is_none() => Trust::Foreign,
            Ok(()) => Trust::Signed,
        },
    };
    let about_money =
        event_type.as_deref().is_some_and(|t| t.starts_with("payment_intent.") || t.starts_with("charge.") || t.starts_with("refund."));
    let payment = intent_id.clone().filter(|_| about_money);
    Notice { format: "webhook", event_type, resource_id: intent_id, trust, payment }
}

/// Stores the webhook as received; returns its log id.
async fn log(
    app: &App,
    store: &Store,
    source: Source,
    delivery: &Delivery<'_>,
    query: &BTreeMap<String, String>,
    notice: &Notice,
) -> Result<String, sqlx::Error> {
    let kept = ["x-signature", "x-request-id", "stripe-signature", "user-agent", "content-type", "x-retry"];
    let headers: serde_json::Map<String, Value> =
        kept.iter().filter_map(|h| header_text(delivery.headers, h).map(|v| (h.to_string(), Value::String(v.to_string())))).collect();
    let body = String::from_utf8_lossy(delivery.body);
    let received = Received {
        store_id: &store.id,
        source: source.as_str(),
        event_type: notice.event_type.as_deref(),
        resource_id: notice.resource_id.as_deref(),
        format: notice.format,
        headers: &Value::Object(headers),
        query: &json!(query),
        body: &body,
        ip: delivery.ip,
        user_agent: header_text(delivery.headers, "user-agent"),
        signature_valid: matches!(notice.trust, Trust::Signed),
    };
    webhook_log::record(&mut *app.db.writer().acquire().await?, &received).await
}

/// The query string as a map (first value of each name).
pub fn query_map(raw: Option<&str>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// A header's value when it is text.
pub fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

//! Stripe (`../shared/protocols/stripe.md`): PaymentIntents (create, retrieve, confirm), refunds
//! and the `Stripe-Signature` check of its webhooks. Requests are form-encoded, answers JSON;
//! amounts are integers in the currency's minor unit. Every create sends `Idempotency-Key`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::signatures::{self, SignatureError};

/// A Stripe account: API base URL (`https://api.stripe.com` unless a test points elsewhere) and
/// secret key.
pub struct Stripe {
    base_url: String,
    secret_key: String,
    http: reqwest::Client,
}

/// Why a call to Stripe failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error("Stripe unreachable: {0}")]
    Unreachable(String),
    /// Stripe answered with its error object (`type`, `code`, `message`).
    #[error("Stripe answered {status} {kind}: {message}")]
    Api { status: u16, kind: String, code: Option<String>, message: String },
    #[error("unexpected answer from Stripe: {0}")]
    Unexpected(String),
}

/// What feria reads of a PaymentIntent (protocol §2.2); the whole object is kept in `raw`.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    /// For the buyer's browser only; never logged.
    pub client_secret: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(skip)]
    pub raw: Value,
}

/// A refund Stripe made (protocol §3).
#[derive(Debug, Deserialize)]
pub struct StripeRefund {
    pub id: String,
    pub amount: i64,
    pub status: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

/// A PaymentIntent to create: `amount` in minor units, `currency` in lower case.
pub struct NewIntent<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub description: &'a str,
    pub receipt_email: Option<&'a str>,
    /// Copied to the intent's `metadata`.
    pub metadata: &'a [(&'a str, &'a str)],
}

impl Stripe {
    /// A client whose calls give up after `timeout`.
    pub fn new(base_url: &str, secret_key: &str, timeout: Duration) -> Result<Stripe, StripeError> {
        let http = crate::http::client(timeout).map_err(|e| StripeError::Unreachable(e.to_string()))?;
        Ok(Stripe { base_url: base_url.trim_end_matches('/').to_string(), secret_key: secret_key.to_string(), http })
    }

    /// `POST /v1/payment_intents` with automatic payment methods.
    pub async fn create_intent(&self, intent: &NewIntent<'_>, idempotency_key: &str) -> Result<PaymentIntent, StripeError> {
        let mut pairs = vec![
            ("amount".to_string(), intent.amount.to_string()),
            ("currency".to_string(), intent.currency.to_string()),
            ("automatic_payment_methods[enabled]".to_string(), "true".to_string()),
            ("description".to_string(), intent.description.to_string()),
        ];
        if let Some(email) = intent.receipt_email {
            pairs.push(("receipt_email".into(), email.into()));
        }
        pairs.extend(intent.metadata.iter().map(|(k, v)| (format!("metadata[{k}]"), v.to_string())));
        intent_from(&self.post("/v1/payment_intents", form(&pairs), idempotency_key).await?)
    }

    /// `GET /v1/payment_intents/{id}` with its latest charge expanded (for what was refunded).
    pub async fn intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        let request = self.http.get(self.url(&format!("/v1/payment_intents/{}", path_segment(id)))).query(&[("expand[]", "latest_charge")]);
        intent_from(&self.send(request).await?)
    }

    /// `POST /v1/payment_intents/{id}/confirm`, with the payment method and return URL when given.
    pub async fn confirm_intent(
        &self,
        id: &str,
        payment_method: Option<&str>,
        return_url: Option<&str>,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let mut pairs = Vec::new();
        if let Some(pm) = payment_method {
            pairs.push(("payment_method".to_string(), pm.to_string()));
        }
        if let Some(url) = return_url {
            pairs.push(("return_url".to_string(), url.to_string()));
        }
        let path = format!("/v1/payment_intents/{}/confirm", path_segment(id));
        intent_from(&self.post(&path, form(&pairs), idempotency_key).await?)
    }

    /// `POST /v1/refunds` for the intent's charge: `amount` minor units, `None` for what is left.
    pub async fn refund(&self, intent_id: &str, amount: Option<i64>, idempotency_key: &str) -> Result<StripeRefund, StripeError> {
        let mut pairs = vec![("payment_intent".to_string(), intent_id.to_string())];
        if let Some(amount) = amount {
            pairs.push(("amount".to_string(), amount.to_string()));
        }
        let text = self.post("/v1/refunds", form(&pairs), idempotency_key).await?;
        serde_json::from_str(&text).map_err(|e| StripeError::Unexpected(format!("refund: {e}")))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn post(&self, path: &str, form: String, idempotency_key: &str) -> Result<String, StripeError> {
        let request = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Idempotency-Key", idempotency_key)
            .body(form);
        self.send(request).await
    }

    /// Sends `request` with the key; a 2xx answer's body, or Stripe's error object.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<String, StripeError> {
        let response =
            request.bearer_auth(&self.secret_key).send().await.map_err(|e| StripeError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| StripeError::Unreachable(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        let error = serde_json::from_str::<ErrorEnvelope>(&text).ok().map(|e| e.error);
        Err(StripeError::Api {
            status,
            kind: error.as_ref().and_then(|e| e.kind.clone()).unwrap_or_else(|| "api_error".into()),
            code: error.as_ref().and_then(|e| e.code.clone()),
            message: error.and_then(|e| e.message).unwrap_or_else(|| format!("HTTP {status}")),
        })
    }
}

/// Reads a PaymentIntent from its JSON; `raw` keeps it without the client secret.
pub fn intent_from(text: &str) -> Result<PaymentIntent, StripeError> {
    let mut intent: PaymentIntent = serde_json::from_str(text).map_err(|e| StripeError::Unexpected(format!("payment intent: {e}")))?;
    let mut raw: Value = serde_json::from_str(text).map_err(|e| StripeError::Unexpected(e.to_string()))?;
    if let Some(object) = raw.as_object_mut() {
        object.remove("client_secret");
    }
    intent.raw = raw;
    Ok(intent)
}

impl PaymentIntent {
    /// Refunded so far on its latest charge (minor units), when the charge was expanded.
    pub fn amount_refunded(&self) -> Option<i64> {
        self.raw["latest_charge"]["amount_refunded"].as_i64()
    }

    /// The last attempt failed (a declined card leaves the intent in `requires_payment_method`).
    pub fn failed(&self) -> bool {
        !self.raw["last_payment_error"].is_null()
    }
}

/// A form-encoded body (protocol §1: nested keys as `a[b]`, written as given).
fn form(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn path_segment(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// Checks a `Stripe-Signature` header (protocol §4.3) over the raw `body`: any `v1` matching
/// the HMAC of `"{t}.{body}"` under `secret` (the whole `whsec_…` string), and `t` no older than
/// `tolerance_secs`. Other schemes (`v0`) are ignored.
pub fn verify_signature(secret: &str, header: Option<&str>, body: &[u8], now_secs: i64, tolerance_secs: i64) -> Result<(), SignatureError> {
    let header = header.filter(|h| !h.trim().is_empty()).ok_or(SignatureError::Missing)?;
    let pairs = signatures::header_pairs(header);
    let t = pairs.iter().find(|(k, _)| k == "t").and_then(|(_, v)| v.parse::<i64>().ok());
    let v1: Vec<&str> = pairs.iter().filter(|(k, _)| k == "v1").map(|(_, v)| *v).collect();
    let Some(t) = t.filter(|_| !v1.is_empty()) else { return Err(SignatureError::Malformed) };
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    if !signatures::hmac_sha256_matches_any(secret.as_bytes(), &signed, &v1) {
        return Err(SignatureError::Mismatch);
    }
    if now_secs - t > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"id":"evt_1Nexample","object":"event","type":"payment_intent.succeeded","livemode":false,"created":1700000000,"data":{"object":{"id":"pi_3Nexample","object":"payment_intent","amount":2000,"currency":"usd","status":"succeeded"}}}"#;
    const SIG: &str = "0843ca565932835cad78b5e11e25015716021e263d4cf06ba8eb29961830c998";

    /// The worked example of the protocol file (§4.4), with a second v1 and a v0 beside it.
    #[test]
    fn matches_the_protocol_example_among_several_signatures() {
        assert_eq!(BODY.len(), 229);
        let header = format!("t=1700000000,v1={SIG}");
        assert_eq!(verify_signature("whsec_test_secret", Some(&header), BODY.as_bytes(), 1700000000, 300), Ok(()));
        let rolled = format!("t=1700000000,v0={SIG},v1={},v1={SIG}", "ab".repeat(32));
        assert_eq!(verify_signature("whsec_test_secret", Some(&rolled), BODY.as_bytes(), 1700000100, 300), Ok(()));
    }

    #[test]
    fn refuses_changed_bodies_v0_only_and_old_timestamps() {
        let header = format!("t=1700000000,v1={SIG}");
        let changed = BODY.replace("2000", "2001");
        assert_eq!(
            verify_signature("whsec_test_secret", Some(&header), changed.as_bytes(), 1700000000, 300),
            Err(SignatureError::Mismatch)
        );
        let v0 = format!("t=1700000000,v0={SIG}");
        assert_eq!(verify_signature("whsec_test_secret", Some(&v0), BODY.as_bytes(), 1700000000, 300), Err(SignatureError::Malformed));
        assert_eq!(verify_signature("whsec_test_secret", Some(&header), BODY.as_bytes(), 1700000301, 300), Err(SignatureError::Stale));
        // A timestamp in the future is accepted, as Stripe's libraries do.
        assert_eq!(verify_signature("whsec_test_secret", Some(&header), BODY.as_bytes(), 1699990000, 300), Ok(()));
        assert_eq!(verify_signature("whsec_test_secret", None, BODY.as_bytes(), 0, 300), Err(SignatureError::Missing));
    }
}

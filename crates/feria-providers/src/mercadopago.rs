//! Mercado Pago (`../shared/protocols/mercadopago.md`): Checkout Pro preferences, payments
//! (get, search), refunds, and the `x-signature` check of its webhooks. Amounts travel as JSON
//! numbers in major units; they are read and written as exact decimal text, never as floats.

use std::time::Duration;

use feria_domain::decimal::{DecimalOut, DecimalText};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::signatures::{self, SignatureError};

/// A Mercado Pago account: API base URL (`https://api.mercadopago.com` unless a test points
/// elsewhere) and access token.
pub struct MercadoPago {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

/// Why a call to Mercado Pago failed.
#[derive(Debug, thiserror::Error)]
pub enum MpError {
    /// No answer in time, or the connection failed.
    #[error("Mercado Pago unreachable: {0}")]
    Unreachable(String),
    /// Mercado Pago answered with an error (its `error` code and `message`).
    #[error("Mercado Pago answered {status} {error}: {message}")]
    Api { status: u16, error: String, message: String },
    /// A success answer that is not what the protocol says.
    #[error("unexpected answer from Mercado Pago: {0}")]
    Unexpected(String),
}

/// A Checkout Pro preference to create (protocol §2).
#[derive(Debug, Serialize)]
pub struct PreferenceRequest {
    pub items: Vec<PreferenceItem>,
    pub payer: Payer,
    pub back_urls: BackUrls,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_return: Option<String>,
    pub external_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_url: Option<String>,
    pub statement_descriptor: String,
    pub metadata: Value,
}

/// A line of a preference, at its unit price in major units.
#[derive(Debug, Serialize)]
pub struct PreferenceItem {
    pub id: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: DecimalOut,
    pub currency_id: String,
}

#[derive(Debug, Serialize)]
pub struct Payer {
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
}

#[derive(Debug, Serialize)]
pub struct Phone {
    pub number: String,
}

#[derive(Debug, Serialize)]
pub struct BackUrls {
    pub success: String,
    pub failure: String,
    pub pending: String,
}

/// A created preference.
#[derive(Debug, Deserialize)]
pub struct Preference {
    pub id: String,
    pub init_point: Option<String>,
    pub sandbox_init_point: Option<String>,
}

/// What feria reads of a payment (protocol §3.1); the whole answer is kept in `raw`.
#[derive(Debug)]
pub struct Payment {
    pub id: String,
    pub status: String,
    pub status_detail: Option<String>,
    pub external_reference: Option<String>,
    pub currency_id: Option<String>,
    /// Gross amount, exact decimal text in major units.
    pub transaction_amount: Option<String>,
    /// Refunded so far, exact decimal text in major units.
    pub transaction_amount_refunded: Option<String>,
    pub raw: Value,
}

#[derive(Deserialize)]
struct PaymentFields {
    id: Value,
    status: Option<String>,
    status_detail: Option<String>,
    external_reference: Option<String>,
    currency_id: Option<String>,
    transaction_amount: Option<DecimalText>,
    transaction_amount_refunded: Option<DecimalText>,
}

/// A refund Mercado Pago made (protocol §4).
#[derive(Debug)]
pub struct Refund {
    pub id: String,
    /// Exact decimal text in major units.
    pub amount: String,
    pub status: Option<String>,
}

#[derive(Deserialize)]
struct RefundFields {
    id: Value,
    amount: DecimalText,
    status: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
    error: Option<String>,
}

/// An id Mercado Pago sends as a number or a string, as text.
pub fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

impl MercadoPago {
    /// A client whose calls give up after `timeout`.
    pub fn new(base_url: &str, token: &str, timeout: Duration) -> Result<MercadoPago, MpError> {
        let http = crate::http::client(timeout).map_err(|e| MpError::Unreachable(e.to_string()))?;
        Ok(MercadoPago { base_url: base_url.trim_end_matches('/').to_string(), token: token.to_string(), http })
    }

    /// Creates a Checkout Pro preference. `idempotency_key` is sent as `X-Idempotency-Key`.
    pub async fn create_preference(&self, preference: &PreferenceRequest, idempotency_key: &str) -> Result<(Preference, Value), MpError> {
        let body = serde_json::to_vec(preference).map_err(|e| MpError::Unexpected(e.to_string()))?;
        let text =
            self.send(self.http.post(self.url("/checkout/preferences")).header("X-Idempotency-Key", idempotency_key).body(body)).await?;
        let parsed = serde_json::from_str(&text).map_err(|e| MpError::Unexpected(format!("preference: {e}")))?;
        Ok((parsed, json(&text)?))
    }

    /// `GET /checkout/preferences/{id}`, as Mercado Pago answers it.
    pub async fn preference(&self, id: &str) -> Result<Value, MpError> {
        json(&self.send(self.http.get(self.url(&format!("/checkout/preferences/{}", path_segment(id))))).await?)
    }

    /// `GET /v1/payments/{id}`.
    pub async fn payment(&self, id: &str) -> Result<Payment, MpError> {
        payment_from(&self.send(self.http.get(self.url(&format!("/v1/payments/{}", path_segment(id))))).await?)
    }

    /// `GET /v1/payments/search` with `query` (protocol §3.2), as Mercado Pago answers it.
    pub async fn search_payments(&self, query: &[(&str, String)]) -> Result<Value, MpError> {
        json(&self.send(self.http.get(self.url("/v1/payments/search")).query(query)).await?)
    }

    /// Refunds `amount` (major units; `None`: what is left) of payment `payment_id`.
    pub async fn refund(&self, payment_id: &str, amount: Option<DecimalOut>, idempotency_key: &str) -> Result<Refund, MpError> {
        #[derive(Serialize)]
        struct Body {
            #[serde(skip_serializing_if = "Option::is_none")]
            amount: Option<DecimalOut>,
        }
        let body = serde_json::to_vec(&Body { amount }).map_err(|e| MpError::Unexpected(e.to_string()))?;
        let url = self.url(&format!("/v1/payments/{}/refunds", path_segment(payment_id)));
        let text = self.send(self.http.post(url).header("X-Idempotency-Key", idempotency_key).body(body)).await?;
        let fields: RefundFields = serde_json::from_str(&text).map_err(|e| MpError::Unexpected(format!("refund: {e}")))?;
        Ok(Refund {
            id: id_text(&fields.id).ok_or_else(|| MpError::Unexpected("refund without an id".into()))?,
            amount: fields.amount.0,
            status: fields.status,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends `request` with the token; a 2xx answer's body, or the error Mercado Pago gave.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<String, MpError> {
        let response = request
            .bearer_auth(&self.token)
            .header("Content-Type", "application/json")
            .send()
            .await
            .map_err(|e| MpError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| MpError::Unreachable(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
        Err(MpError::Api {
            status,
            error: body.as_ref().and_then(|b| b.error.clone()).unwrap_or_default(),
            message: body.and_then(|b| b.message).unwrap_or_else(|| format!("HTTP {status}")),
        })
    }
}

fn json(text: &str) -> Result<Value, MpError> {
    serde_json::from_str(text).map_err(|_| MpError::Unexpected("an answer that is not JSON".into()))
}

fn payment_from(text: &str) -> Result<Payment, MpError> {
    let fields: PaymentFields = serde_json::from_str(text).map_err(|e| MpError::Unexpected(format!("payment: {e}")))?;
    let raw = json(text)?;
    Ok(Payment {
        id: id_text(&fields.id).ok_or_else(|| MpError::Unexpected("payment without an id".into()))?,
        status: fields.status.unwrap_or_else(|| "pending".into()),
        status_detail: fields.status_detail,
        external_reference: fields.external_reference.filter(|r| !r.is_empty()),
        currency_id: fields.currency_id,
        transaction_amount: fields.transaction_amount.map(|d| d.0),
        transaction_amount_refunded: fields.transaction_amount_refunded.map(|d| d.0),
        raw,
    })
}

/// An id as one URL path segment: anything but letters, digits, `-` and `_` is refused by
/// replacing it, so an id read from a webhook cannot reach another endpoint.
fn path_segment(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// The manifest Mercado Pago signs (protocol §6.3): `id:{data.id};request-id:{x-request-id};ts:{ts};`,
/// each segment left out when its value is missing; the id lower-cased.
pub fn signature_manifest(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
    let mut manifest = String::new();
    if let Some(id) = data_id.map(str::trim).filter(|v| !v.is_empty()) {
        manifest.push_str(&format!("id:{};", id.to_ascii_lowercase()));
    }
    if let Some(r) = request_id.map(str::trim).filter(|v| !v.is_empty()) {
        manifest.push_str(&format!("request-id:{r};"));
    }
    manifest.push_str(&format!("ts:{ts};"));
    manifest
}

/// Checks a webhook's `x-signature` header (`ts=…,v1=…`) against `secret`: the HMAC of the
/// manifest built from the query's `data.id` and the `x-request-id` header, and `ts` within
/// `tolerance_secs` of `now_secs` (`ts` in seconds, or in milliseconds when it has 13 digits).
pub fn verify_signature(
    secret: &str,
    header: Option<&str>,
    request_id: Option<&str>,
    data_id: Option<&str>,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let header = header.filter(|h| !h.trim().is_empty()).ok_or(SignatureError::Missing)?;
    let pairs = signatures::header_pairs(header);
    let ts = pairs.iter().find(|(k, _)| k == "ts").map(|(_, v)| *v);
    let v1 = pairs.iter().find(|(k, _)| k == "v1").map(|(_, v)| *v);
    let (Some(ts), Some(v1)) = (ts.filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())), v1) else {
        return Err(SignatureError::Malformed);
    };
    let manifest = signature_manifest(data_id, request_id, ts);
    if !signatures::hmac_sha256_matches(secret.as_bytes(), manifest.as_bytes(), v1) {
        return Err(SignatureError::Mismatch);
    }
    let ts: i64 = ts.parse().map_err(|_| SignatureError::Malformed)?;
    let ts_secs = if ts > 10_000_000_000 { ts / 1000 } else { ts };
    if (now_secs - ts_secs).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "mp_wh_secret_3f9a1c7e2b";

    /// The worked examples of the protocol file (§6.4).
    #[test]
    fn matches_the_protocol_examples() {
        let request = Some("bb56a2f1-6aae-46ac-982e-9dcd3581d08e");
        let a = "ts=1704908010,v1=4e01517c3fc10ef7e7b933b884121857da45e707e26cac76ae9433365ceec45f";
        assert_eq!(verify_signature(SECRET, Some(a), request, Some("123456789"), 1704908010, 300), Ok(()));
        let b = "ts=1742505638683,v1=ebd15f900772517b736d337c2296aa399110be580818e5c7a93ce7d23a71fc3e";
        let b_request = Some("2066ca19-c6f1-498a-be75-1923005edd06");
        assert_eq!(verify_signature(SECRET, Some(b), b_request, Some("ORD01JQ4S4KY8HWQ6NA5PXB65B3D3"), 1742505638, 300), Ok(()));
        let c = "ts=1704908010,v1=9872a7f7575d220de8e1b51f42816e317ce879e183beeaa5a50d31c48e3edd74";
        assert_eq!(verify_signature(SECRET, Some(c), None, Some("123456789"), 1704908010, 300), Ok(()));
        let d = "ts=1704908010,v1=ebdb90f544b1e49357702334da9ef131e590b5885996d49bbd90fe685627b3b8";
        assert_eq!(verify_signature(SECRET, Some(d), None, None, 1704908010, 300), Ok(()));
    }

    #[test]
    fn refuses_wrong_missing_and_stale_signatures() {
        let request = Some("bb56a2f1-6aae-46ac-982e-9dcd3581d08e");
        let a = "ts=1704908010,v1=4e01517c3fc10ef7e7b933b884121857da45e707e26cac76ae9433365ceec45f";
        assert_eq!(verify_signature(SECRET, Some(a), request, Some("123456780"), 1704908010, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature("other", Some(a), request, Some("123456789"), 1704908010, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(SECRET, Some(a), request, Some("123456789"), 1704908311, 300), Err(SignatureError::Stale));
        assert_eq!(verify_signature(SECRET, None, request, None, 0, 300), Err(SignatureError::Missing));
        assert_eq!(verify_signature(SECRET, Some("v1=ab"), request, None, 0, 300), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(SECRET, Some("ts=12a,v1=ab"), request, None, 0, 300), Err(SignatureError::Malformed));
    }

    #[test]
    fn reads_amounts_exactly() {
        let text = r#"{"id": 115718938803, "status": "approved", "transaction_amount": 1234567.89, "external_reference": "o-1"}"#;
        let p = payment_from(text).unwrap();
        assert_eq!((p.id.as_str(), p.status.as_str(), p.transaction_amount.as_deref()), ("115718938803", "approved", Some("1234567.89")));
        let item = PreferenceItem {
            id: "p".into(),
            title: "t".into(),
            quantity: 1,
            unit_price: DecimalOut::scaled(150050, 2),
            currency_id: "ARS".into(),
        };
        assert_eq!(serde_json::to_string(&item).unwrap(), r#"{"id":"p","title":"t","quantity":1,"unit_price":1500.5,"currency_id":"ARS"}"#);
    }
}

//! SendGrid (`shared/protocols/notifications.md` §3): an email sent with `POST
//! {base}/v3/mail/send` (Bearer API key; text part before HTML; `custom_args` come back in the
//! Event Webhook), and that webhook's signature: ECDSA P-256 with SHA-256 over the timestamp
//! header's value followed by the raw body, sent base64 (DER) in
//! `X-Twilio-Email-Event-Webhook-Signature` with the timestamp in
//! `X-Twilio-Email-Event-Webhook-Timestamp`; the account's verification key is a base64
//! SubjectPublicKeyInfo (as SendGrid's settings page shows it).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::{Value, json};

use crate::email::{EmailMessage, unsubscribe_headers};
use crate::messaging::{Answer, DeliveryError};

/// An account sending as one sender.
pub struct SendGrid {
    base_url: String,
    api_key: String,
    from_email: String,
    from_name: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for SendGrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGrid").field("from_email", &self.from_email).finish_non_exhaustive()
    }
}

impl SendGrid {
    /// The account of `api_key` at `base_url` (`https://api.sendgrid.com` unless a test points
    /// elsewhere), sending as `from_name <from_email>`.
    pub fn new(base_url: &str, api_key: &str, from_email: &str, from_name: &str, timeout: Duration) -> Result<SendGrid, DeliveryError> {
        let http = crate::http::client(timeout).map_err(|e| DeliveryError::Unreachable(e.without_url().to_string()))?;
        Ok(SendGrid {
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            from_email: from_email.to_string(),
            from_name: from_name.to_string(),
            http,
        })
    }

    /// Sends `message`, tagged with `custom_args` (returned by the Event Webhook); answers
    /// SendGrid's message id (`X-Message-Id`).
    pub async fn send(&self, message: &EmailMessage, custom_args: &BTreeMap<String, String>) -> Result<String, DeliveryError> {
        let mut content = vec![json!({"type": "text/plain", "value": message.text})];
        if !message.html.is_empty() {
            content.push(json!({"type": "text/html", "value": message.html}));
        }
        let headers: BTreeMap<&str, String> = message.unsubscribe.as_deref().map(unsubscribe_headers).into_iter().flatten().collect();
        let body = json!({
            "personalizations": [{"to": [{"email": message.to}]}],
            "headers": headers,
            "from": {"email": self.from_email, "name": self.from_name},
            "subject": message.subject,
            "content": content,
            "custom_args": custom_args,
        });
        let request = self.http.post(format!("{}/v3/mail/send", self.base_url)).bearer_auth(&self.api_key).json(&body);
        let answer = Answer::of(request).await?;
        let (status, after) = (answer.status, answer.after);
        if (200..300).contains(&status) {
            return Ok(answer.headers.get("x-message-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string());
        }
        Err(match status {
            429 | 500.. => DeliveryError::Retry { status, after },
            _ => {
                let field = answer.body.pointer("/errors/0/field").and_then(Value::as_str).unwrap_or_default();
                DeliveryError::Refused { status, code: field.to_string() }
            }
        })
    }
}

/// The verification key of `public_key` (base64 SubjectPublicKeyInfo), if it is one.
pub fn event_key(public_key: &str) -> Option<VerifyingKey> {
    let der = STANDARD.decode(public_key.trim()).ok()?;
    VerifyingKey::from_public_key_der(&der).ok()
}

/// Whether `signature` (base64 DER) signs `timestamp` followed by `body` under `key`.
pub fn event_signature_matches(key: &VerifyingKey, timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Some(signature) = STANDARD.decode(signature.trim()).ok().and_then(|der| Signature::from_der(&der).ok()) else { return false };
    let mut signed = Vec::with_capacity(timestamp.len() + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.extend_from_slice(body);
    key.verify(&signed, &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector of SendGrid's own SDK tests.
    const KEY: &str =
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
    const TIMESTAMP: &str = "1588788367";
    const BODY: &str = r#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;
    const SIGNATURE: &str = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";

    #[test]
    fn the_sdk_vector_verifies_and_changes_do_not() {
        let key = event_key(KEY).expect("a P-256 public key");
        assert!(event_signature_matches(&key, TIMESTAMP, BODY.as_bytes(), SIGNATURE));
        assert!(!event_signature_matches(&key, "1588788368", BODY.as_bytes(), SIGNATURE));
        assert!(!event_signature_matches(&key, TIMESTAMP, BODY.replace("test_event", "delivered").as_bytes(), SIGNATURE));
        assert!(!event_signature_matches(&key, TIMESTAMP, BODY.as_bytes(), "MEUCIQ=="));
        assert!(!event_signature_matches(&key, TIMESTAMP, BODY.as_bytes(), "not base64!"));
        assert!(event_key("bm90IGEga2V5").is_none());
    }
}

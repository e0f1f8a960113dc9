//! SendGrid's Event Webhook signature: ECDSA P-256 with SHA-256 over the timestamp header's
//! value followed by the raw body, sent base64 (DER) in `X-Twilio-Email-Event-Webhook-Signature`
//! with the timestamp in `X-Twilio-Email-Event-Webhook-Timestamp`; the account's verification
//! key is a base64 SubjectPublicKeyInfo (as SendGrid's settings page shows it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

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

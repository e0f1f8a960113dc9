//! VAPID (RFC 8292): who sends a push, on every request as `Authorization: vapid t=<JWT>,
//! k=<public key>`. The JWT is signed with ES256 (raw `r‖s`), its audience is the push
//! service's origin and it lives at most 24 hours.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::Deserialize;
use serde_json::json;

use super::WebPushError;

/// The JWT header, always the same bytes.
const HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

/// The application server's key and contact.
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    /// The public key, uncompressed, base64url: the browser's `applicationServerKey`.
    public: String,
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid").field("public", &self.public).field("subject", &self.subject).finish_non_exhaustive()
    }
}

impl Vapid {
    /// The key whose private scalar is `private_key` (32 bytes, base64url), reached at `subject`
    /// (`mailto:` or `https:`, which push services require).
    pub fn new(private_key: &str, subject: &str) -> Result<Vapid, WebPushError> {
        let scalar = URL_SAFE_NO_PAD.decode(private_key.trim_end_matches('=')).map_err(|_| WebPushError::BadKey("vapid private key"))?;
        let key = SigningKey::from_slice(&scalar).map_err(|_| WebPushError::BadKey("vapid private key"))?;
        if !(subject.starts_with("mailto:") || subject.starts_with("https:")) {
            return Err(WebPushError::BadKey("vapid subject"));
        }
        let public = URL_SAFE_NO_PAD.encode(key.verifying_key().to_encoded_point(false).as_bytes());
        Ok(Vapid { key, public, subject: subject.to_string() })
    }

    /// A key derived from `seed` (HKDF-SHA256): stable as long as the seed is, for development
    /// servers that were given no key.
    pub fn derived(seed: &[u8], subject: &str) -> Result<Vapid, WebPushError> {
        let mut scalar = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(b"feria vapid"), seed)
            .expand(b"P-256 private key", &mut scalar)
            .expect("32 bytes is a valid length");
        Vapid::new(&URL_SAFE_NO_PAD.encode(scalar), subject)
    }

    /// The public key, uncompressed and base64url.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` value for a push to `endpoint`, valid until `expires` (Unix seconds,
    /// at most 24 hours ahead).
    pub fn authorization(&self, endpoint: &str, expires: i64) -> Result<String, WebPushError> {
        let origin = reqwest::Url::parse(endpoint).map_err(|_| WebPushError::BadKey("endpoint"))?.origin().ascii_serialization();
        let claims = json!({ "aud": origin, "exp": expires, "sub": self.subject });
        let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature: Signature = self.key.sign(signed.as_bytes());
        Ok(format!("vapid t={signed}.{}, k={}", URL_SAFE_NO_PAD.encode(signature.to_bytes()), self.public))
    }
}

/// What a VAPID token says, once its signature checks with the key beside it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub exp: i64,
    pub sub: Option<String>,
}

/// Reads an `Authorization: vapid t=…, k=…` value: the key `k` and the token's claims, once the
/// ES256 signature verifies with `k` (what a push service checks first; times and audience are
/// the caller's to judge).
pub fn verify(authorization: &str) -> Result<(String, Claims), WebPushError> {
    let params = authorization.strip_prefix("vapid ").ok_or(WebPushError::Unreadable("scheme"))?;
    let param = |name: &str| params.split(',').find_map(|p| p.trim().strip_prefix(name)).ok_or(WebPushError::Unreadable("parameter"));
    let (token, k) = (param("t=")?, param("k=")?);
    let key = URL_SAFE_NO_PAD.decode(k).ok().and_then(|k| VerifyingKey::from_sec1_bytes(&k).ok()).ok_or(WebPushError::BadKey("k"))?;
    let (signed, signature) = token.rsplit_once('.').ok_or(WebPushError::Unreadable("token"))?;
    let signature =
        URL_SAFE_NO_PAD.decode(signature).ok().and_then(|s| Signature::from_slice(&s).ok()).ok_or(WebPushError::Unreadable("signature"))?;
    key.verify(signed.as_bytes(), &signature).map_err(|_| WebPushError::Unreadable("signature"))?;
    let (header, claims) = signed.split_once('.').ok_or(WebPushError::Unreadable("token"))?;
    let header: serde_json::Value =
        URL_SAFE_NO_PAD.decode(header).ok().and_then(|h| serde_json::from_slice(&h).ok()).ok_or(WebPushError::Unreadable("header"))?;
    if header["alg"] != "ES256" {
        return Err(WebPushError::Unreadable("algorithm"));
    }
    let claims =
        URL_SAFE_NO_PAD.decode(claims).ok().and_then(|c| serde_json::from_slice(&c).ok()).ok_or(WebPushError::Unreadable("claims"))?;
    Ok((k.to_string(), claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// webpush.md §4.4: an RFC 6979 signature, so the same bytes every time.
    const PRIVATE: &str = "QCXloqyLjjCGNQ8Ds16Uc5OGfWzDb6zUCrOzIfr1TnU";
    const PUBLIC: &str = "BKmU5GDH068THW4vvFxL4YfTdcEakX69iApjM5sON4uzmmni11XwBLzxEmqVdjzZNxo8LZV8d7OAmOw8_UQ16jw";
    const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwOi8vMTI3LjAuMC4xOjgwOTkiLCJleHAiOjE3NjcyMjU2MDAsInN1YiI6Im1haWx0bzpvcHNAZmVyaWEuZXhhbXBsZSJ9.92miDAQKvM0Tu8Rlvsus3P0YVUB3Ps_XbTlARD7a5_MQh3jCrQZvAV1CJLrZY8PaZDA1H5VAZ6eU3OObEjOWAg";

    #[test]
    fn the_token_is_the_documented_one_and_verifies() {
        let vapid = Vapid::new(PRIVATE, "mailto:ops@feria.example").unwrap();
        assert_eq!(vapid.public_key(), PUBLIC);
        let header = vapid.authorization("http://127.0.0.1:8099/push/abc?x=1", 1_767_225_600).unwrap();
        assert_eq!(header, format!("vapid t={TOKEN}, k={PUBLIC}"));
        let (k, claims) = verify(&header).unwrap();
        assert_eq!(k, PUBLIC);
        assert_eq!(
            claims,
            Claims { aud: "http://127.0.0.1:8099".into(), exp: 1_767_225_600, sub: Some("mailto:ops@feria.example".into()) }
        );
    }

    #[test]
    fn the_rfc_example_verifies_and_forgeries_do_not() {
        // RFC 8292 §2.4 (webpush.md §4.3): its signer's private key is not published.
        let rfc = "vapid t=eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0.i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA, k=BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs";
        let (_, claims) = verify(rfc).unwrap();
        assert_eq!((claims.aud.as_str(), claims.exp), ("https://push.example.net", 1_453_523_768));
        // Another key beside the same token, or a token signed by someone else.
        assert_eq!(verify(&rfc.replace("k=BA1H", &format!("k={PUBLIC}#"))).unwrap_err(), WebPushError::BadKey("k"));
        let other = Vapid::new(PRIVATE, "mailto:ops@feria.example").unwrap().authorization("https://push.example.net/x", 1).unwrap();
        let forged = format!(
            "{}, k=BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs",
            other.split(", k=").next().unwrap()
        );
        assert_eq!(verify(&forged).unwrap_err(), WebPushError::Unreadable("signature"));
        assert_eq!(verify("Bearer abc").unwrap_err(), WebPushError::Unreadable("scheme"));
        assert_eq!(Vapid::new(PRIVATE, "ops@feria.example").unwrap_err(), WebPushError::BadKey("vapid subject"));
        assert_eq!(Vapid::new("not a key", "mailto:a@b.c").unwrap_err(), WebPushError::BadKey("vapid private key"));
    }
}

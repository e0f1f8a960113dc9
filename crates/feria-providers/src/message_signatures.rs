//! HTTP message signatures (RFC 9421) with ES256, as the Universal Commerce Protocol signs
//! webhooks: a `Content-Digest` of the raw body (RFC 9530), a signature base of the covered
//! components, and the raw `r‖s` signature in base64. Signing is deterministic (RFC 6979).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A P-256 key that signs, named by its key id.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key: p256::ecdsa::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key whose private scalar is `d` (32 bytes, big-endian); `None` when `d` is not a valid
    /// scalar. Its id is `kid`, or one made from the public key when `None`.
    pub fn from_scalar(d: &[u8], kid: Option<&str>) -> Option<SigningKey> {
        let key = p256::ecdsa::SigningKey::from_slice(d).ok()?;
        let kid = match kid {
            Some(kid) => kid.to_string(),
            None => {
                let point = key.verifying_key().to_encoded_point(false);
                format!("feria-{}", &hex::encode(Sha256::digest(point.as_bytes()))[..12])
            }
        };
        Some(SigningKey { kid, key })
    }

    /// A key derived from `seed` (a secret of any length): the first SHA-256 chain value that is
    /// a valid scalar. The same seed gives the same key on every node.
    pub fn derive(seed: &[u8]) -> SigningKey {
        let mut digest = Sha256::new_with_prefix(b"feria message signing key\0").chain_update(seed).finalize();
        loop {
            if let Some(key) = SigningKey::from_scalar(&digest, None) {
                return key;
            }
            digest = Sha256::digest(digest);
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, as a signer's profile publishes it.
    pub fn public_jwk(&self) -> Value {
        let point = self.key.verifying_key().to_encoded_point(false);
        let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| URL_SAFE_NO_PAD.encode(c)).unwrap_or_default();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "kid": self.kid,
            "x": coordinate(point.x()),
            "y": coordinate(point.y()),
            "use": "sig",
            "alg": "ES256",
        })
    }

    /// The headers that sign a request: `Signature-Input` and `Signature`, label `sig1`.
    /// `components` are the covered components in order with their values (derived ones such as
    /// `@method` included); `created` is unix seconds.
    pub fn sign(&self, components: &[(&str, &str)], created: i64) -> [(String, String); 2] {
        let names: Vec<String> = components.iter().map(|(name, _)| format!("\"{name}\"")).collect();
        let params = format!("({});created={created};keyid=\"{}\"", names.join(" "), self.kid);
        let base = signature_base(components, &params);
        let signature: Signature = self.key.sign(base.as_bytes());
        [
            ("Signature-Input".into(), format!("sig1={params}")),
            ("Signature".into(), format!("sig1=:{}:", STANDARD.encode(signature.to_bytes()))),
        ]
    }
}

/// RFC 9530's `Content-Digest` of `body`: `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// The signature base: one `"name": value` line per component, then `@signature-params`.
pub fn signature_base(components: &[(&str, &str)], params: &str) -> String {
    let mut base = String::new();
    for (name, value) in components {
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    base
}

/// Whether `signature` (the base64 inside `sig1=:…:`) is `jwk`'s ES256 signature of `base`.
pub fn verify(jwk: &Value, base: &str, signature: &str) -> bool {
    let coordinate = |name: &str| jwk.get(name).and_then(Value::as_str).and_then(|c| URL_SAFE_NO_PAD.decode(c).ok());
    let (Some(x), Some(y)) = (coordinate("x"), coordinate("y")) else { return false };
    if jwk.get("crv").and_then(Value::as_str) != Some("P-256") || x.len() != 32 || y.len() != 32 {
        return false;
    }
    let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
    let Ok(key) = VerifyingKey::from_encoded_point(&point) else { return false };
    let Ok(bytes) = STANDARD.decode(signature) else { return false };
    let Ok(signature) = Signature::from_slice(&bytes) else { return false };
    key.verify(base.as_bytes(), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked vector of `protocols/ucp.md` §9.3 (deterministic ECDSA, so the bytes match).
    #[test]
    fn signs_the_ucp_webhook_vector() {
        let d = URL_SAFE_NO_PAD.decode("gLGx8T8kFGL0TyxzBljrvglMLOrgkX-HS3bnosRYS0w").unwrap();
        let key = SigningKey::from_scalar(&d, Some("feria-2026")).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk["x"], "6VTTzUGwxstApOMeNMKrmmNNyN0REeJDOjMg58KVFkI");
        assert_eq!(jwk["y"], "RDqWYqTVXav_4CreylGvg2WRNFrSaqkZOZGTXOSBlgg");
        let body = br#"{"id":"ord_1001","checkout_id":"chk_1001","status":"shipped"}"#;
        let digest = content_digest(body);
        assert_eq!(digest, "sha-256=:tczXzHArPRRmWqPtbH78yfeUL92X4CjLKBiBOzsnHz0=:");
        let agent = "profile=\"https://shop.example.com/.well-known/ucp\"";
        let components = [
            ("@method", "POST"),
            ("@authority", "platform.example.com"),
            ("@path", "/webhooks/ucp/orders"),
            ("content-digest", digest.as_str()),
            ("content-type", "application/json"),
            ("ucp-agent", agent),
        ];
        let [input, signature] = key.sign(&components, 1767225600);
        assert_eq!(
            input.1,
            "sig1=(\"@method\" \"@authority\" \"@path\" \"content-digest\" \"content-type\" \"ucp-agent\");created=1767225600;keyid=\"feria-2026\""
        );
        assert_eq!(signature.1, "sig1=:l7O95NvA0QHgLsEEbhMbFtFz/VaWCEXnXPIYSB8cu4psvz/OdTyp5GLxAWzE1HHbWEc59W2ZJJnzJmocKWr1Gg==:");
        let params = input.1.strip_prefix("sig1=").unwrap();
        let base = signature_base(&components, params);
        assert_eq!(hex::encode(Sha256::digest(base.as_bytes())), "696f7ac4c17e555de89c5d339aab434d8264483d796c94e4237c0dba18ecf457");
        let raw = signature.1.strip_prefix("sig1=:").unwrap().trim_end_matches(':');
        assert!(verify(&jwk, &base, raw));
        assert!(!verify(&jwk, &base.replace("POST", "PUT"), raw));
    }

    #[test]
    fn a_derived_key_is_stable_and_seeded() {
        let a = SigningKey::derive(b"one secret");
        assert_eq!(a.public_jwk(), SigningKey::derive(b"one secret").public_jwk());
        assert_ne!(a.public_jwk(), SigningKey::derive(b"another secret").public_jwk());
        assert!(a.kid().starts_with("feria-"));
    }
}

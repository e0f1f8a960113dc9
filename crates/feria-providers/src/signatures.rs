//! HMAC-SHA256 webhook signatures as Mercado Pago and Stripe send them: a header of
//! comma-separated `key=value` pairs holding a timestamp and hex signatures.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signature header")]
    Missing,
    #[error("signature header without a timestamp or a v1 signature")]
    Malformed,
    #[error("signature does not match")]
    Mismatch,
    #[error("signature timestamp outside the accepted window")]
    Stale,
}

/// The header's `key=value` pairs: split on `,`, then on the first `=`, trimmed; keys in lower
/// case. Parts without `=` are skipped.
pub fn header_pairs(header: &str) -> Vec<(String, &str)> {
    header.split(',').filter_map(|part| part.split_once('=')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim())).collect()
}

/// Lower-case hex HMAC-SHA256 of `message` under `secret`.
pub fn hmac_sha256_hex(secret: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature_hex` is the HMAC-SHA256 of `message` under `secret`, compared in constant
/// time. Anything that is not 64 hex digits does not match.
pub fn hmac_sha256_matches(secret: &[u8], message: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.verify_slice(&signature).is_ok()
}

/// Whether any of `signatures_hex` is the HMAC-SHA256 of `message` under `secret`: the message
/// is hashed once, however many candidates a header carries, and at most the first
/// [`MAX_CANDIDATES`] are compared (each in constant time).
pub fn hmac_sha256_matches_any(secret: &[u8], message: &[u8], signatures_hex: &[&str]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(message);
    signatures_hex
        .iter()
        .take(MAX_CANDIDATES)
        .filter_map(|hex_text| hex::decode(hex_text).ok())
        .any(|signature| mac.clone().verify_slice(&signature).is_ok())
}

/// Most signatures of one header that are checked (a provider rotating secrets sends two).
pub const MAX_CANDIDATES: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_trimmed_and_keys_lower_cased() {
        assert_eq!(header_pairs(" TS=1, v1 = ab ,junk, v1=cd"), vec![("ts".into(), "1"), ("v1".into(), "ab"), ("v1".into(), "cd")]);
    }

    #[test]
    fn matching_is_exact() {
        let sig = hmac_sha256_hex(b"k", b"m");
        assert!(hmac_sha256_matches(b"k", b"m", &sig));
        assert!(!hmac_sha256_matches(b"k", b"n", &sig));
        assert!(!hmac_sha256_matches(b"k", b"m", &sig[..62]));
        assert!(!hmac_sha256_matches(b"k", b"m", "zz"));
    }

    #[test]
    fn many_candidates_cost_one_hash_and_only_the_first_few_count() {
        let sig = hmac_sha256_hex(b"k", b"m");
        let mut candidates = vec![""; MAX_CANDIDATES - 1];
        candidates.push(&sig);
        assert!(hmac_sha256_matches_any(b"k", b"m", &candidates));
        // A header padded with 100,000 empty signatures: the real one past the first few is ignored.
        let mut padded = vec![""; 100_000];
        padded.push(&sig);
        assert!(!hmac_sha256_matches_any(b"k", b"m", &padded));
    }
}

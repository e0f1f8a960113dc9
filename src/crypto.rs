//! Secrets at rest: AES-256-GCM under a key derived from `ENCRYPTION_KEY`.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Seals and opens small secrets (tokens in job payloads, provider credentials).
/// The sealed form is base64url of `nonce (12 bytes) || ciphertext || tag`.
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    /// A sealer keyed by SHA-256 of `key` (any length; configuration demands ≥ 32 bytes in production).
    pub fn new(key: &str) -> Sealer {
        let digest = Sha256::digest(key.as_bytes());
        Sealer { cipher: Aes256Gcm::new(&digest) }
    }

    /// Encrypts `plain` under a fresh random nonce.
    pub fn seal(&self, plain: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(self.cipher.encrypt(&nonce, plain).expect("AES-GCM encryption of an in-memory buffer cannot fail"));
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Decrypts a sealed value; `None` when it is malformed, tampered with or sealed under another key.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).ok()
    }
}

/// Hex SHA-256 of `value`: how opaque tokens are stored.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A new random token: 32 bytes from the OS, base64url.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_detects_tampering() {
        let sealer = Sealer::new("k");
        let sealed = sealer.seal(b"secret link");
        assert_ne!(sealer.seal(b"secret link"), sealed, "nonces differ");
        assert_eq!(sealer.open(&sealed).unwrap(), b"secret link");
        assert!(Sealer::new("other").open(&sealed).is_none());
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(sealer.open(std::str::from_utf8(&tampered).unwrap()).is_none());
    }
}

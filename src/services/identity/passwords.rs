//! argon2id password hashing, run on the blocking pool so requests keep flowing.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Argon2Cost;

/// Hashes and verifies passwords with the configured argon2id cost.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when the user does not exist so that a
    /// login for an unknown email costs the same time as one for a known email.
    dummy: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    pub fn new(cost: Argon2Cost) -> PasswordHasher {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None).expect("argon2 cost is validated by the configuration");
        PasswordHasher { params, dummy: Arc::default() }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string for `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || hasher.hash_now(&password)).await?
    }

    fn hash_now(&self, password: &str) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(self.argon2().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("argon2: {e}"))?.to_string())
    }

    /// True when `password` matches `hash`. With no hash (unknown user) a dummy is checked
    /// and the answer is false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let hasher = self.clone();
        tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = match hash {
                Some(h) => h,
                None => hasher.dummy.get_or_init(|| hasher.hash_now(&crate::crypto::random_token()).unwrap_or_default()).clone(),
            };
            let verified = PasswordHash::new(&hash).map(|parsed| hasher.argon2().verify_password(password.as_bytes(), &parsed).is_ok()).unwrap_or(false);
            known && verified
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let hasher = PasswordHasher::new(Argon2Cost { memory_kib: 1024, iterations: 1, parallelism: 1 });
        let a = hasher.hash("secreto1".into()).await.unwrap();
        let b = hasher.hash("secreto1".into()).await.unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(hasher.verify("secreto1".into(), Some(a.clone())).await);
        assert!(!hasher.verify("otro".into(), Some(a)).await);
        assert!(!hasher.verify("secreto1".into(), None).await);
    }
}

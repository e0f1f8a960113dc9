//! argon2id password hashing on a few dedicated threads, so requests keep flowing and memory
//! stays bounded under a burst of logins.

use std::cell::RefCell;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::config::Argon2Cost;

type Task = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords with the configured argon2id cost.
///
/// The work runs on one thread per CPU core, fed by a queue, and each thread keeps one argon2
/// memory area (19 MiB by default) from its first hash on: memory for passwords is bounded by
/// cores × cost. Running each hash on the general blocking pool instead lets a burst of logins
/// start a thread and allocate a fresh area per request: memory grows to hundreds of MiB and
/// every login gets slower.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    argon2: Argon2<'static>,
    queue: mpsc::Sender<Task>,
    /// A hash of a random password, verified against when the user does not exist so that a
    /// login for an unknown email costs the same time as one for a known email.
    dummy: OnceLock<String>,
}

impl PasswordHasher {
    /// Starts the hashing threads (they stop when the last clone is dropped).
    pub fn new(cost: Argon2Cost) -> PasswordHasher {
        let params =
            Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None).expect("argon2 cost is validated by the configuration");
        let (queue, tasks) = mpsc::channel::<Task>();
        let tasks = Arc::new(Mutex::new(tasks));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        for _ in 0..threads {
            let tasks = tasks.clone();
            std::thread::Builder::new()
                .name("feria-argon2".into())
                .spawn(move || {
                    loop {
                        let next = tasks.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match next {
                            Ok(task) => task(),
                            Err(_) => break,
                        }
                    }
                })
                .expect("spawn a password-hashing thread");
        }
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        PasswordHasher { inner: Arc::new(Inner { params, argon2, queue, dummy: OnceLock::new() }) }
    }

    /// Runs `work` on a hashing thread and waits for its result.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce(&Inner) -> T + Send + 'static) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let inner = self.inner.clone();
        self.inner
            .queue
            .send(Box::new(move || {
                let _ = tx.send(work(&inner));
            }))
            .map_err(|_| anyhow::anyhow!("password hashing threads are gone"))?;
        Ok(rx.await?)
    }

    /// The PHC string for `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.run(move |inner| inner.hash_now(&password)).await?
    }

    /// True when `password` matches `hash`. With no hash (unknown user) a dummy is checked
    /// and the answer is false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        self.run(move |inner| {
            let known = hash.is_some();
            let hash = hash
                .unwrap_or_else(|| inner.dummy.get_or_init(|| inner.hash_now(&crate::crypto::random_token()).unwrap_or_default()).clone());
            known && matches(&password, &hash).unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

thread_local! {
    /// The argon2 memory area of this hashing thread, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 for `params` into `out`, in this thread's reused memory area.
fn argon2_into(argon2: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() != params.block_count() {
            *memory = vec![Block::default(); params.block_count()];
        }
        argon2.hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
    })
}

impl Inner {
    /// The PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of `password` with a fresh salt.
    fn hash_now(&self, password: &str) -> anyhow::Result<String> {
        let err = |e: argon2::password_hash::Error| anyhow::anyhow!("argon2: {e}");
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(err)?;
        let mut out = [0u8; 32];
        argon2_into(&self.argon2, &self.params, password.as_bytes(), salt_bytes, &mut out).map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(err)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(err)?),
        };
        Ok(phc.to_string())
    }
}

/// Whether `password` produces the stored PHC `hash` (its own algorithm, version and cost;
/// compared in constant time).
fn matches(password: &str, hash: &str) -> Result<bool, argon2::password_hash::Error> {
    let parsed = PasswordHash::new(hash)?;
    let params = Params::try_from(&parsed)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Ok(false) };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    argon2_into(&argon2, &params, password.as_bytes(), salt_bytes, &mut out).map_err(|_| argon2::password_hash::Error::Crypto)?;
    Ok(Output::new(&out)? == expected)
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

    /// Hashes made here verify with the argon2 crate's own verifier, and the other way round.
    #[tokio::test]
    async fn compatible_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier};
        let hasher = PasswordHasher::new(Argon2Cost { memory_kib: 2048, iterations: 2, parallelism: 1 });
        let ours = hasher.hash("contraseña".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password("contraseña".as_bytes(), &parsed).is_ok());
        let params = Params::new(4096, 1, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password(b"clave", &salt).unwrap().to_string();
        assert!(hasher.verify("clave".into(), Some(theirs.clone())).await, "other cost parameters are read from the hash");
        assert!(!hasher.verify("clavE".into(), Some(theirs)).await);
        assert!(!hasher.verify("x".into(), Some("not a phc string".into())).await);
    }
}

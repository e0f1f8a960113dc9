//! Agent commerce (UCP): the keys that sign order webhooks to agent platforms, and the
//! conformance suite's simulation endpoint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use feria_providers::message_signatures::SigningKey;

use super::{Reader, Secret};

/// UCP settings.
#[derive(Debug, Clone)]
pub struct AgentsConfig {
    /// The first signs; every one is published in `/.well-known/ucp` (`UCP_SIGNING_KEYS`:
    /// comma-separated base64url P-256 private scalars, newest first, so a retired key stays
    /// published while platforms still hold it). Derived from `ENCRYPTION_KEY` when unset.
    pub signing_keys: Vec<SigningKey>,
    /// Turns on `POST /testing/simulate-shipping/{id}` for the UCP conformance suite
    /// (`UCP_SIMULATION_SECRET`; never in production).
    pub simulation_secret: Option<Secret>,
}

impl AgentsConfig {
    /// Whether feria runs for the UCP conformance suite (`UCP_SIMULATION_SECRET` set): the
    /// simulation endpoint and the mock card handler are on, and a checkout may complete without
    /// the buyer's email, as the suite's do.
    pub fn conformance_mode(&self) -> bool {
        self.simulation_secret.is_some()
    }
}

pub(super) const SETTINGS: &[&str] = &["UCP_SIGNING_KEYS", "UCP_SIMULATION_SECRET"];

pub(super) fn read(r: &mut Reader<'_>, encryption_key: &Secret, production: bool) -> AgentsConfig {
    let mut signing_keys = Vec::new();
    for (i, text) in r.text("UCP_SIGNING_KEYS").unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).enumerate() {
        match URL_SAFE_NO_PAD.decode(text).ok().and_then(|d| SigningKey::from_scalar(&d, None)) {
            Some(key) => signing_keys.push(key),
            None => r.problems.push(format!("UCP_SIGNING_KEYS: key {} is not a base64url P-256 private scalar", i + 1)),
        }
    }
    if signing_keys.is_empty() {
        signing_keys.push(SigningKey::derive(encryption_key.expose().as_bytes()));
    }
    let simulation_secret = r.text("UCP_SIMULATION_SECRET").map(Secret::new);
    if production && simulation_secret.is_some() {
        r.problems.push("UCP_SIMULATION_SECRET: the conformance suite's simulation endpoint is for testing only".into());
    }
    AgentsConfig { signing_keys, simulation_secret }
}

pub(super) fn summary(config: &AgentsConfig) -> Vec<(&'static str, String)> {
    let kids: Vec<&str> = config.signing_keys.iter().map(SigningKey::kid).collect();
    vec![
        ("UCP_SIGNING_KEYS", kids.join(", ")),
        (
            "UCP_SIMULATION_SECRET",
            if config.simulation_secret.is_some() { "(set: /testing/simulate-shipping is on)" } else { "(not set)" }.into(),
        ),
    ]
}

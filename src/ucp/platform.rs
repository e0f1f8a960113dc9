//! Agent platforms: the profile a `UCP-Agent` header names, fetched and cached, for the order
//! webhook URL the platform declares. A profile that cannot be fetched is not an error: the
//! checkout goes on and the order is simply not pushed to the platform.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::app::App;

/// How long a fetched profile is trusted.
const PROFILE_TTL: Duration = Duration::from_secs(3600);
/// How long a profile that could not be fetched is not asked for again.
const FAILURE_TTL: Duration = Duration::from_secs(60);
/// Most profiles kept.
const MAX_PROFILES: usize = 1024;
const MAX_PROFILE_BYTES: usize = 64 * 1024;

/// The platform profile named by a `UCP-Agent` header (an RFC 8941 dictionary whose `profile`
/// member is a quoted http(s) URL); `None` when it names none.
pub fn profile_url(header: &str) -> Option<String> {
    header.split(',').find_map(|member| {
        let value = member.split(';').next()?.trim().strip_prefix("profile=")?;
        let url = value.strip_prefix('"')?.strip_suffix('"')?;
        ((url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2000).then(|| url.to_string())
    })
}

/// Platforms' order webhook URLs by profile URL, with when they were read.
#[derive(Default)]
pub struct PlatformProfiles {
    cache: Mutex<HashMap<String, (Instant, Option<String>)>>,
}

impl PlatformProfiles {
    /// Where the platform at `profile` wants order updates
    /// (`ucp.capabilities["dev.ucp.shopping.order"][*].config.webhook_url`), when it says.
    pub async fn webhook_url(&self, app: &App, profile: &str) -> Option<String> {
        if let Some((read_at, url)) = self.cache.lock().expect("profile cache poisoned").get(profile)
            && read_at.elapsed() < if url.is_some() { PROFILE_TTL } else { FAILURE_TTL }
        {
            return url.clone();
        }
        let fetched = feria_providers::documents::fetch(profile, MAX_PROFILE_BYTES, Duration::from_secs(5), app.serves_on_loopback()).await;
        let url =
            match fetched.map_err(|e| e.to_string()).and_then(|body| serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string())) {
                Ok(document) => order_webhook(&document),
                Err(e) => {
                    tracing::info!(profile, error = %e, "agent platform profile not read; orders are not pushed to it");
                    None
                }
            };
        let mut cache = self.cache.lock().expect("profile cache poisoned");
        if cache.len() >= MAX_PROFILES {
            cache.retain(|_, (read_at, _)| read_at.elapsed() < FAILURE_TTL);
            if cache.len() >= MAX_PROFILES {
                cache.clear();
            }
        }
        cache.insert(profile.to_string(), (Instant::now(), url.clone()));
        url
    }
}

fn order_webhook(profile: &Value) -> Option<String> {
    profile.pointer("/ucp/capabilities/dev.ucp.shopping.order")?.as_array()?.iter().find_map(|entry| {
        let url = entry.pointer("/config/webhook_url")?.as_str()?;
        ((url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2000).then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_member_is_read_with_or_without_parameters() {
        assert_eq!(profile_url(r#"profile="https://agent.example/p.json""#).as_deref(), Some("https://agent.example/p.json"));
        assert_eq!(
            profile_url(r#"profile="http://localhost:8285/p.json"; version="2026-04-08""#).as_deref(),
            Some("http://localhost:8285/p.json")
        );
        assert_eq!(profile_url(r#"profile="...""#), None);
        assert_eq!(profile_url("profile=https://agent.example"), None);
    }

    #[test]
    fn the_order_webhook_comes_from_the_order_capability() {
        let profile = serde_json::json!({ "ucp": { "capabilities": { "dev.ucp.shopping.order": [
            { "version": "2026-04-08", "config": { "webhook_url": "https://agent.example/hooks/orders" } }
        ] } } });
        assert_eq!(order_webhook(&profile).as_deref(), Some("https://agent.example/hooks/orders"));
        assert_eq!(order_webhook(&serde_json::json!({ "ucp": { "capabilities": {} } })), None);
    }
}

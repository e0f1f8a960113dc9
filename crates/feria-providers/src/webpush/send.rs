//! Sending one push to one browser subscription: the payload encrypted for it, a VAPID token
//! for its push service, `TTL` and `Urgency`. The endpoint is a URL a browser gave, so the
//! request goes out under `documents`' rules (public addresses only, no redirects).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::payload;
use super::vapid::Vapid;
use crate::documents::{self, FetchError};
use crate::messaging::DeliveryError;

/// A browser's subscription (`PushSubscription.toJSON()`), its keys base64url.
#[derive(Debug, Clone)]
pub struct Subscription<'a> {
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
}

/// Whether the push may wait (`normal`) or should wake the device (`high`).
#[derive(Debug, Clone, Copy)]
pub enum Urgency {
    Normal,
    High,
}

/// Sends `plaintext` to `subscription`, kept by the push service up to `ttl` seconds. 404 and
/// 410 mean the subscription is gone; 429 and 5xx are worth another try; the rest is refused.
pub async fn send(
    vapid: &Vapid,
    subscription: &Subscription<'_>,
    plaintext: &[u8],
    ttl: u32,
    urgency: Urgency,
    timeout: Duration,
    allow_loopback: bool,
) -> Result<(), DeliveryError> {
    let key =
        |text: &str| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|_| DeliveryError::Gone("bad subscription keys".into()));
    let body = payload::encrypt(plaintext, &key(subscription.p256dh)?, &key(subscription.auth)?)
        .map_err(|e| DeliveryError::Refused { status: 0, code: e.to_string() })?;
    let expires = chrono::Utc::now().timestamp() + 12 * 3600;
    let authorization = vapid.authorization(subscription.endpoint, expires).map_err(|_| DeliveryError::Gone("bad endpoint".into()))?;
    let urgency = match urgency {
        Urgency::Normal => "normal",
        Urgency::High => "high",
    };
    let headers = [
        ("TTL", ttl.to_string()),
        ("Urgency", urgency.to_string()),
        ("Content-Encoding", "aes128gcm".to_string()),
        ("Content-Type", "application/octet-stream".to_string()),
        ("Authorization", authorization),
    ]
    .map(|(k, v)| (k.to_string(), v));
    match documents::post(subscription.endpoint, &headers, body, timeout, allow_loopback).await {
        Ok(()) => Ok(()),
        Err(FetchError::Status(status @ (404 | 410))) => Err(DeliveryError::Gone(format!("push service answered {status}"))),
        Err(FetchError::Status(status @ (429 | 500..))) => Err(DeliveryError::Retry { status, after: None }),
        Err(FetchError::Status(status)) => Err(DeliveryError::Refused { status, code: "refused by the push service".into() }),
        Err(FetchError::BadUrl | FetchError::NotPublic) => Err(DeliveryError::Gone("endpoint not allowed".into())),
        Err(e) => Err(DeliveryError::Unreachable(e.to_string())),
    }
}

/// The scheme and host of a subscription's endpoint; `None` when it is not a URL with a host.
pub fn endpoint_origin(endpoint: &str) -> Option<(String, String)> {
    let url = reqwest::Url::parse(endpoint).ok()?;
    Some((url.scheme().to_string(), url.host_str()?.to_string()))
}

//! Firebase Cloud Messaging HTTP v1 (`shared/protocols/notifications.md` §2): one push to one
//! device token at `{base}/v1/projects/{project}/messages:send`, authorised by an access token
//! the service account gets at its `token_uri` (cached until five minutes before it expires,
//! fetched again when FCM says it expired). The refusal says what to do with the device.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::google_oauth::ServiceAccount;
use crate::messaging::{Answer, DeliveryError};

/// The scope a push needs.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// A token is fetched again this long before it expires.
const REFRESH_EARLY: Duration = Duration::from_secs(300);

/// A notification for one device.
pub struct Push<'a> {
    /// The device's registration token.
    pub token: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// Strings only, as FCM requires.
    pub data: &'a BTreeMap<String, String>,
}

/// A client of one Firebase project.
pub struct Fcm {
    base_url: String,
    account: ServiceAccount,
    http: reqwest::Client,
    /// The access token and when to fetch another.
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl Fcm {
    /// A client sending through `base_url` (`https://fcm.googleapis.com` unless a test points
    /// elsewhere) as `account`.
    pub fn new(base_url: &str, account: ServiceAccount, timeout: Duration) -> Result<Fcm, DeliveryError> {
        let http = crate::http::client(timeout).map_err(|e| DeliveryError::Unreachable(e.without_url().to_string()))?;
        Ok(Fcm { base_url: base_url.trim_end_matches('/').to_string(), account, http, token: Mutex::new(None) })
    }

    /// Sends `push`; answers FCM's message name.
    pub async fn send(&self, push: &Push<'_>) -> Result<String, DeliveryError> {
        let body = json!({ "message": {
            "token": push.token,
            "notification": { "title": push.title, "body": push.body },
            "data": push.data,
        }});
        let url = format!("{}/v1/projects/{}/messages:send", self.base_url, self.account.project_id);
        for fresh_token in [false, true] {
            let token = self.access_token(fresh_token).await?;
            let Answer { status, after, body: answer, .. } = Answer::of(self.http.post(&url).bearer_auth(&token).json(&body)).await?;
            if (200..300).contains(&status) {
                return Ok(answer["name"].as_str().unwrap_or_default().to_string());
            }
            let code = fcm_code(&answer);
            match (status, code.as_deref()) {
                // The access token expired: fetch another once.
                (401, None) if !fresh_token => continue,
                (_, Some(code @ ("UNREGISTERED" | "SENDER_ID_MISMATCH"))) => return Err(DeliveryError::Gone(code.to_string())),
                (429 | 500 | 502 | 503 | 504, _) => return Err(DeliveryError::Retry { status, after }),
                _ => {
                    let code = code.or_else(|| answer.pointer("/error/status").and_then(Value::as_str).map(str::to_string));
                    return Err(DeliveryError::Refused { status, code: code.unwrap_or_default() });
                }
            }
        }
        Err(DeliveryError::Refused { status: 401, code: "UNAUTHENTICATED".into() })
    }

    /// A valid access token: the cached one unless `fresh` or near its end.
    async fn access_token(&self, fresh: bool) -> Result<String, DeliveryError> {
        let mut cached = self.token.lock().await;
        if let Some((token, refresh_at)) = cached.as_ref()
            && !fresh
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let assertion = self.account.assertion(SCOPE, chrono::Utc::now().timestamp());
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
        let response = self
            .http
            .post(&self.account.token_uri)
            .form(&form)
            .send()
            .await
            .map_err(|e| DeliveryError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            let code = answer["error"].as_str().unwrap_or("token refused").to_string();
            return Err(if status >= 500 { DeliveryError::Retry { status, after: None } } else { DeliveryError::Refused { status, code } });
        }
        let answer: TokenAnswer =
            response.json().await.map_err(|_| DeliveryError::Refused { status, code: "not a token answer".into() })?;
        let lasts = Duration::from_secs(answer.expires_in).saturating_sub(REFRESH_EARLY);
        *cached = Some((answer.access_token.clone(), Instant::now() + lasts));
        Ok(answer.access_token)
    }
}

/// The `errorCode` of the answer's `DeliveryError` detail.
fn fcm_code(answer: &Value) -> Option<String> {
    answer.pointer("/error/details")?.as_array()?.iter().find_map(|d| {
        (d["@type"] == "type.googleapis.com/google.firebase.fcm.v1.FcmError").then(|| d["errorCode"].as_str().map(str::to_string))?
    })
}

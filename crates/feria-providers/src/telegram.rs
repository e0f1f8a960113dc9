//! Telegram Bot API (`../shared/protocols/telegram.md`): `sendMessage` with a JSON body to
//! `{base}/bot{token}/sendMessage`. The token is part of the URL, so URLs are never logged and
//! errors never carry them.

use std::time::Duration;

use serde::Deserialize;

/// A bot: API base URL (`https://api.telegram.org` unless a test points elsewhere) and token.
pub struct TelegramBot {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// No answer (connection, timeout). The URL, which holds the token, is left out.
    #[error("Telegram unreachable: {0}")]
    Unreachable(String),
    /// Telegram answered `ok: false`.
    #[error("Telegram refused ({code}): {description}")]
    Refused { code: i64, description: String, retry_after: Option<u64> },
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

impl TelegramBot {
    pub fn new(base_url: &str, token: &str) -> Result<TelegramBot, TelegramError> {
        let http = crate::http::client(Duration::from_secs(20)).map_err(|e| TelegramError::Unreachable(e.without_url().to_string()))?;
        Ok(TelegramBot { base_url: base_url.trim_end_matches('/').to_string(), token: token.to_string(), http })
    }

    /// Sends `text` (Telegram's HTML subset) to `chat_id`.
    pub async fn send_message(&self, chat_id: &str, text: &str) -> Result<(), TelegramError> {
        let body = serde_json::json!({
            "chat_id": chat_id,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        let url = format!("{}/bot{}/sendMessage", self.base_url, self.token);
        let response = self.http.post(url).json(&body).send().await.map_err(|e| TelegramError::Unreachable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| TelegramError::Unreachable(e.without_url().to_string()))?;
        let envelope: Envelope = serde_json::from_str(&text).map_err(|_| TelegramError::Refused {
            code: i64::from(status),
            description: format!("not a Bot API answer (HTTP {status})"),
            retry_after: None,
        })?;
        if envelope.ok {
            return Ok(());
        }
        Err(TelegramError::Refused {
            code: envelope.error_code.unwrap_or(i64::from(status)),
            description: envelope.description.unwrap_or_default(),
            retry_after: envelope.parameters.and_then(|p| p.retry_after),
        })
    }
}

//! `send_telegram`: one message to the shop's Telegram chat (`TELEGRAM_CHAT_ID`) through the
//! Bot API. Skipped when no bot is configured; a refusal or an outage is retried with backoff.

use feria_db::AnyConnection;
use feria_jobs::{Completion, JobHandler};
use feria_providers::messaging::{Messenger, Outgoing};
use feria_providers::telegram::TelegramBot;
use serde::{Deserialize, Serialize};

use crate::app::{App, AppState};

pub const KIND: &str = "send_telegram";

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Telegram's HTML subset.
    text: String,
}

/// Queues `text` for the shop's chat on `conn` (the caller's transaction).
pub async fn enqueue(conn: &mut AnyConnection, app: &App, text: &str) -> Result<String, sqlx::Error> {
    feria_jobs::enqueue(conn, KIND, &Payload { text: text.to_string() }, app.config.jobs.max_attempts).await
}

/// Runs `send_telegram` jobs.
pub struct SendTelegram {
    /// The bot and the chat, when configured.
    bot: Option<(Box<dyn Messenger>, String)>,
}

impl SendTelegram {
    pub fn new(app: &AppState) -> anyhow::Result<SendTelegram> {
        let bot = match &app.config.notifications.telegram_bot {
            Some(t) => Some((Box::new(TelegramBot::new(&t.api_url, t.token.expose())?) as Box<dyn Messenger>, t.chat_id.clone())),
            None => None,
        };
        Ok(SendTelegram { bot })
    }
}

#[async_trait::async_trait]
impl JobHandler for SendTelegram {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let payload: Payload = serde_json::from_value(payload.clone()).map_err(|e| format!("bad payload: {e}"))?;
        let Some((bot, chat_id)) = &self.bot else {
            return Ok(Completion::Skipped("Telegram is not configured (TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID)".into()));
        };
        bot.deliver(&Outgoing { to: chat_id.clone(), subject: None, text: payload.text, html: None }).await?;
        Ok(Completion::Done)
    }
}

//! What providers report after taking a message: SendGrid's Event Webhook (ECDSA-signed) and
//! Twilio's status callbacks (`X-Twilio-Signature`). Reports arrive late, twice and out of
//! order; a message's status only moves forward. Unsigned or badly signed reports change
//! nothing.

use feria_db::Row;
use feria_domain::notify::{Category, MessageStatus};
use serde_json::Value;

use super::providers::{SENDGRID_MESSAGE_ARG, TWILIO_STATUS_PATH};
use super::{messages, preferences};
use crate::app::App;
use crate::config::SIGNATURE_TOLERANCE_SECS;

/// Why a report was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Missing or wrong signature, a stale timestamp, or no key to check it with.
    #[error("the report's signature is missing or wrong")]
    BadSignature,
    /// Signed, but not a report feria understands.
    #[error("the report is not in the provider's format")]
    Malformed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a SendGrid event means for a message: a status, or (`None`) an opt-out.
fn sendgrid_status(event: &str) -> Option<Option<MessageStatus>> {
    Some(match event {
        "processed" => Some(MessageStatus::Sent),
        "delivered" => Some(MessageStatus::Delivered),
        "open" | "click" => Some(MessageStatus::Read),
        "bounce" | "blocked" => Some(MessageStatus::Bounced),
        "dropped" => Some(MessageStatus::Failed),
        "spamreport" | "unsubscribe" | "group_unsubscribe" => None,
        _ => return None,
    })
}

/// Takes in a batch of SendGrid events (`body`, signed with `signature` over `timestamp ‖ body`);
/// answers how many moved a message or stopped a category.
pub async fn sendgrid(app: &App, timestamp: &str, signature: &str, body: &[u8]) -> Result<usize, ReceiptError> {
    let key = app.config.notifications.sendgrid.as_ref().and_then(|s| s.webhook_key.as_deref());
    let key = key.and_then(feria_providers::sendgrid::event_key).ok_or(ReceiptError::BadSignature)?;
    let fresh = timestamp.parse::<i64>().is_ok_and(|t| (feria_domain::time::now().timestamp() - t).abs() <= SIGNATURE_TOLERANCE_SECS);
    if !fresh || !feria_providers::sendgrid::event_signature_matches(&key, timestamp, body, signature) {
        return Err(ReceiptError::BadSignature);
    }
    let events: Vec<Value> = serde_json::from_slice(body).map_err(|_| ReceiptError::Malformed)?;
    let mut changed = 0;
    let mut conn = app.db.writer().acquire().await?;
    for event in events.iter().take(1000) {
        let (Some(id), Some(kind)) = (event[SENDGRID_MESSAGE_ARG].as_str(), event["event"].as_str()) else { continue };
        let Some(meaning) = sendgrid_status(kind) else { continue };
        let row = sqlx::query(
            "SELECT n.recipient_key, n.category FROM notification_messages m JOIN notifications n ON n.id = m.notification_id
             WHERE m.id = $1 AND m.channel = 'email'",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { continue };
        match meaning {
            Some(status) => {
                let code = (status.rank() == MessageStatus::Failed.rank()).then_some(kind);
                changed += usize::from(messages::advance(&mut conn, id, status, code).await?);
            }
            None => {
                let category = Category::parse(&row.try_get::<String, _>("category")?).ok_or(ReceiptError::Malformed)?;
                preferences::stop_email(&app.db, &row.try_get::<String, _>("recipient_key")?, category).await.map_err(|e| match e {
                    super::NotifyError::Database(e) => ReceiptError::Database(e),
                    _ => ReceiptError::Malformed,
                })?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// What a Twilio message status means.
fn twilio_status(status: &str) -> Option<MessageStatus> {
    Some(match status {
        "queued" | "accepted" | "scheduled" | "sending" => MessageStatus::Sending,
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "undelivered" | "failed" | "canceled" => MessageStatus::Failed,
        _ => return None,
    })
}

/// Takes in Twilio's status callback for our message `message_id` (the `m` we gave), with its
/// form `params` and `X-Twilio-Signature`; says whether the message moved.
pub async fn twilio(app: &App, message_id: &str, params: &[(String, String)], signature: &str) -> Result<bool, ReceiptError> {
    let token = app.config.notifications.twilio.as_ref().map(|t| t.auth_token.expose()).ok_or(ReceiptError::BadSignature)?;
    let url = format!("{}{TWILIO_STATUS_PATH}?m={message_id}", app.config.payments.public_url);
    if !feria_providers::twilio::signature_matches(token, &url, params, signature) {
        return Err(ReceiptError::BadSignature);
    }
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (Some(sid), Some(status)) = (param("MessageSid"), param("MessageStatus").and_then(twilio_status)) else {
        return Err(ReceiptError::Malformed);
    };
    let mut conn = app.db.writer().acquire().await?;
    let ours: Option<String> =
        sqlx::query_scalar("SELECT id FROM notification_messages WHERE id = $1 AND channel = 'sms' AND provider_message_id = $2")
            .bind(message_id)
            .bind(sid)
            .fetch_optional(&mut *conn)
            .await?;
    if ours.is_none() {
        return Ok(false);
    }
    let code = param("ErrorCode").filter(|c| !c.is_empty()).map(|c| format!("twilio:{c}"));
    Ok(messages::advance(&mut conn, message_id, status, code.as_deref()).await?)
}

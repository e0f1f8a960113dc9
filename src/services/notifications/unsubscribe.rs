//! The unsubscribe link of a non-critical email (and its `List-Unsubscribe` headers, RFC 8058):
//! a token sealed with ENCRYPTION_KEY naming the recipient and the category, so the link works
//! without signing in and cannot be forged or pointed at someone else.

use feria_domain::notify::Category;
use serde::{Deserialize, Serialize};

use super::{NotifyError, preferences};
use crate::app::App;

#[derive(Serialize, Deserialize)]
struct Claim {
    /// The recipient key: `user:<id>` or `email:<address>`.
    r: String,
    /// The category.
    c: String,
}

/// The link that stops `category` by email for `recipient_key`; `None` for the shop's own
/// address, which has no preferences.
pub fn link(app: &App, recipient_key: &str, category: Category) -> Option<String> {
    if !(recipient_key.starts_with("user:") || recipient_key.starts_with("email:")) {
        return None;
    }
    let claim = serde_json::to_vec(&Claim { r: recipient_key.to_string(), c: category.as_str().to_string() }).expect("strings serialise");
    Some(format!("{}/notifications/unsubscribe?token={}", app.config.payments.public_url, app.sealer.seal(&claim)))
}

/// The recipient and category a token names; `None` when feria did not make it.
pub fn read(app: &App, token: &str) -> Option<(String, Category)> {
    let claim: Claim = serde_json::from_slice(&app.sealer.open(token)?).ok()?;
    Some((claim.r, Category::parse(&claim.c)?))
}

/// Stops what the token names; the category stopped.
pub async fn apply(app: &App, token: &str) -> Result<Category, NotifyError> {
    let (recipient, category) = read(app, token).ok_or(NotifyError::BadUnsubscribeToken)?;
    preferences::stop_email(&app.db, &recipient, category).await?;
    Ok(category)
}

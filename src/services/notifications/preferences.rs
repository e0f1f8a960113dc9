//! What a person wants to hear about, and how: per category and channel (defaults when they never
//! chose), their language, time zone, quiet hours and phone. Critical events (password reset,
//! payment problems, emergencies) ignore opt-outs and quiet hours. People without an account
//! (guests) can only stop a category by email, through the unsubscribe link.

use std::collections::HashMap;

use feria_db::{AnyConnection, Db, Row, placeholders};
use feria_domain::notify::{Category, Channel, QuietHours, Tz};
use feria_domain::time;

use super::NotifyError;
use crate::services::identity::caller::Caller;

/// The channels a person chooses among (Telegram reaches only the shop's chat).
pub const PERSONAL_CHANNELS: [Channel; 5] = [Channel::InApp, Channel::Email, Channel::Sms, Channel::Push, Channel::WebPush];

/// feria's choice for someone who never chose: everything but text messages (they cost the shop
/// money) on, and marketing only in the inbox until they opt in.
pub fn default_allows(category: Category, channel: Channel) -> bool {
    match (category, channel) {
        (_, Channel::InApp) => true,
        (_, Channel::Sms) | (Category::Marketing, _) => false,
        _ => true,
    }
}

/// How a person is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub locale: Option<String>,
    pub timezone: Option<Tz>,
    /// Minutes from local midnight.
    pub quiet: Option<(u16, u16)>,
    pub phone: Option<String>,
}

/// A person's settings and explicit choices.
#[derive(Debug, Clone, Default)]
pub struct Preferences {
    pub settings: Settings,
    pub choices: Vec<(Category, Channel, bool)>,
}

impl Preferences {
    /// Whether they want `category` on `channel`.
    pub fn allows(&self, category: Category, channel: Channel) -> bool {
        self.choices.iter().find(|(c, ch, _)| *c == category && *ch == channel).map_or(default_allows(category, channel), |(_, _, on)| *on)
    }

    /// Their quiet hours, when set with a time zone.
    pub fn quiet_hours(&self) -> Option<QuietHours> {
        let (start, end) = self.settings.quiet?;
        Some(QuietHours { start, end, zone: self.settings.timezone? })
    }
}

/// The preferences of user `user_id` (defaults when none are stored).
pub async fn of(conn: &mut AnyConnection, user_id: &str) -> Result<Preferences, sqlx::Error> {
    Ok(of_many(conn, &[user_id]).await?.remove(user_id).unwrap_or_default())
}

/// The stored preferences of each of `user_ids` (absent: defaults), read 500 users a query.
pub async fn of_many(conn: &mut AnyConnection, user_ids: &[&str]) -> Result<HashMap<String, Preferences>, sqlx::Error> {
    let mut found: HashMap<String, Preferences> = HashMap::new();
    for chunk in user_ids.chunks(500) {
        let list = placeholders(1, chunk.len());
        let sql =
            format!("SELECT user_id, locale, timezone, quiet_start, quiet_end, phone FROM notification_settings WHERE user_id IN ({list})");
        let rows = chunk.iter().fold(sqlx::query(&sql), |q, id| q.bind(*id)).fetch_all(&mut *conn).await?;
        for row in rows {
            let clock = |name: &str| row.try_get::<Option<i64>, _>(name).map(|m| m.and_then(|m| u16::try_from(m).ok()));
            let settings = Settings {
                locale: row.try_get("locale")?,
                timezone: row.try_get::<Option<String>, _>("timezone")?.and_then(|z| z.parse().ok()),
                quiet: clock("quiet_start")?.zip(clock("quiet_end")?),
                phone: row.try_get("phone")?,
            };
            found.entry(row.try_get("user_id")?).or_default().settings = settings;
        }
        let sql = format!("SELECT user_id, category, channel, enabled FROM notification_preferences WHERE user_id IN ({list})");
        let rows = chunk.iter().fold(sqlx::query(&sql), |q, id| q.bind(*id)).fetch_all(&mut *conn).await?;
        for row in rows {
            let (category, channel) = (row.try_get::<String, _>("category")?, row.try_get::<String, _>("channel")?);
            if let (Some(category), Some(channel)) = (Category::parse(&category), Channel::parse(&channel)) {
                let choice = (category, channel, row.try_get::<i64, _>("enabled")? != 0);
                found.entry(row.try_get("user_id")?).or_default().choices.push(choice);
            }
        }
    }
    Ok(found)
}

/// Whether `address` asked not to get `category` by email (a guest's unsubscribe link).
pub async fn suppressed(conn: &mut AnyConnection, address: &str, category: Category) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT reason FROM notification_suppressions WHERE address = $1 AND category = $2")
        .bind(address.to_ascii_lowercase())
        .bind(category.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Changes to one's preferences: `Some(None)` clears a setting.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub locale: Option<Option<String>>,
    pub timezone: Option<Option<Tz>>,
    pub quiet: Option<Option<(u16, u16)>>,
    pub phone: Option<Option<String>>,
    pub choices: Vec<(Category, Channel, bool)>,
}

/// Applies `changes` to the caller's preferences; answers them as they are now.
pub async fn update(db: &Db, caller: &Caller, changes: Changes) -> Result<Preferences, NotifyError> {
    let now = time::to_db(time::now());
    let mut tx = db.begin().await?;
    let current = of(&mut tx, &caller.id).await?.settings;
    let settings = Settings {
        locale: changes.locale.unwrap_or(current.locale),
        timezone: changes.timezone.unwrap_or(current.timezone),
        quiet: changes.quiet.unwrap_or(current.quiet),
        phone: changes.phone.unwrap_or(current.phone),
    };
    if settings.quiet.is_some() && settings.timezone.is_none() {
        return Err(NotifyError::QuietHoursNeedTimezone);
    }
    sqlx::query(
        "INSERT INTO notification_settings (user_id, locale, timezone, quiet_start, quiet_end, phone, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id) DO UPDATE SET locale = $2, timezone = $3, quiet_start = $4, quiet_end = $5, phone = $6, updated_at = $7",
    )
    .bind(&caller.id)
    .bind(&settings.locale)
    .bind(settings.timezone.map(|z| z.name().to_string()))
    .bind(settings.quiet.map(|(s, _)| i64::from(s)))
    .bind(settings.quiet.map(|(_, e)| i64::from(e)))
    .bind(&settings.phone)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    for (category, channel, enabled) in &changes.choices {
        sqlx::query(
            "INSERT INTO notification_preferences (user_id, category, channel, enabled, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, category, channel) DO UPDATE SET enabled = $4, updated_at = $5",
        )
        .bind(&caller.id)
        .bind(category.as_str())
        .bind(channel.as_str())
        .bind(i64::from(*enabled))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    let preferences = of(&mut tx, &caller.id).await?;
    tx.commit().await?;
    Ok(preferences)
}

/// The caller's preferences.
pub async fn mine(db: &Db, caller: &Caller) -> Result<Preferences, NotifyError> {
    Ok(of(&mut *db.reader().acquire().await?, &caller.id).await?)
}

/// Stops `category` by email for the person behind `recipient_key` (`user:<id>` or
/// `email:<address>`), as the unsubscribe link asks.
pub async fn stop_email(db: &Db, recipient_key: &str, category: Category) -> Result<(), NotifyError> {
    let now = time::to_db(time::now());
    if let Some(user_id) = recipient_key.strip_prefix("user:") {
        sqlx::query(
            "INSERT INTO notification_preferences (user_id, category, channel, enabled, updated_at)
             SELECT id, $2, $3, 0, $4 FROM users WHERE id = $1
             ON CONFLICT (user_id, category, channel) DO UPDATE SET enabled = 0, updated_at = $4",
        )
        .bind(user_id)
        .bind(category.as_str())
        .bind(Channel::Email.as_str())
        .bind(now)
        .execute(db.writer())
        .await?;
    } else if let Some(address) = recipient_key.strip_prefix("email:") {
        sqlx::query(
            "INSERT INTO notification_suppressions (address, category, reason, created_at) VALUES ($1, $2, 'unsubscribed', $3)
             ON CONFLICT (address, category) DO NOTHING",
        )
        .bind(address.to_ascii_lowercase())
        .bind(category.as_str())
        .bind(now)
        .execute(db.writer())
        .await?;
    }
    Ok(())
}

//! The people (and the shop's own inbox and chat) a workflow step names, with the addresses
//! they can be reached at on each channel.

use feria_db::{AnyConnection, Row};
use feria_domain::notify::Channel;
use feria_domain::roles::Role;

use super::content::Subject;
use super::templates;
use super::workflows::Audience;
use crate::app::App;
use crate::services::identity::users;

/// Someone to tell.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// Unique per event: `user:<id>`, `email:<address>` (a guest), `shop`.
    pub key: String,
    pub user_id: Option<String>,
    pub name: String,
    pub locale: &'static str,
    /// Where they can be reached, by channel.
    pub addresses: Vec<(Channel, String)>,
}

impl Recipient {
    pub fn address(&self, channel: Channel) -> Option<&str> {
        self.addresses.iter().find(|(c, _)| *c == channel).map(|(_, a)| a.as_str())
    }

    /// The phone given at checkout, for text messages (their settings' phone comes first).
    fn with_phone(mut self, phone: Option<&str>) -> Recipient {
        if let Some(phone) = phone {
            self.addresses.push((Channel::Sms, phone.to_string()));
        }
        self
    }

    fn user(id: String, name: String, email: String) -> Recipient {
        Recipient {
            key: format!("user:{id}"),
            addresses: vec![(Channel::InApp, id.clone()), (Channel::Email, email)],
            user_id: Some(id),
            name,
            locale: templates::locale(None),
        }
    }
}

/// Whether feria can send on `channel` at all: its provider is configured and, for the shop's
/// channels, `NOTIFICATION_CHANNELS` has it.
pub fn configured(app: &App, channel: Channel) -> bool {
    let n = &app.config.notifications;
    match channel {
        Channel::InApp => true,
        Channel::Email => n.email && (app.config.email.is_some() || n.sendgrid.is_some()),
        Channel::Telegram => n.telegram && n.telegram_bot.is_some(),
        Channel::Sms => n.twilio.is_some(),
        Channel::Push => n.push.firebase_key.is_some(),
        Channel::WebPush => app.vapid.is_some(),
    }
}

/// Recipients of a large audience (a store's customers, the platform's users) read and written
/// at a time: one fan-out job each, so memory stays bounded, other writers are not held behind
/// one long write, and several workers share the work.
pub const CHUNK: usize = 1000;

/// Who `audience` is for an event about `subject` in `store_id` (of a chunked broadcast, the
/// first chunk: see [`resolve_chunk`]).
pub async fn resolve(
    conn: &mut AnyConnection,
    app: &App,
    audience: Audience,
    subject: &Subject,
    store_id: Option<&str>,
) -> Result<Vec<Recipient>, sqlx::Error> {
    Ok(match audience {
        Audience::Buyer => match &subject.order {
            Some(order) => vec![match &order.user_id {
                Some(user) => Recipient::user(user.clone(), order.customer_name.clone(), order.customer_email.clone())
                    .with_phone(order.customer_phone.as_deref()),
                None => Recipient {
                    key: format!("email:{}", order.customer_email.to_ascii_lowercase()),
                    user_id: None,
                    name: order.customer_name.clone(),
                    locale: templates::locale(None),
                    addresses: vec![(Channel::Email, order.customer_email.clone())],
                }
                .with_phone(order.customer_phone.as_deref()),
            }],
            None => Vec::new(),
        },
        Audience::Account | Audience::Actor => match &subject.user_id {
            Some(id) => users::find_by_id(conn, id).await?.map(|u| Recipient::user(u.id, u.name, u.email)).into_iter().collect(),
            // Started by an API key: the store's staff hear of it.
            None if audience == Audience::Actor => Box::pin(resolve(conn, app, Audience::Staff, subject, store_id)).await?,
            None => Vec::new(),
        },
        Audience::Broadcast => match (subject.audience.as_deref(), store_id) {
            (Some("staff"), Some(store_id)) => staff(conn, store_id, subject.store.as_ref().is_some_and(|s| s.is_default), false).await?,
            (Some("owners"), Some(store_id)) => staff(conn, store_id, subject.store.as_ref().is_some_and(|s| s.is_default), true).await?,
            _ => resolve_chunk(conn, subject, store_id, None).await?.0,
        },
        Audience::Staff => match store_id {
            Some(store_id) => staff(conn, store_id, subject.store.as_ref().is_some_and(|s| s.is_default), false).await?,
            None => admins(conn).await?,
        },
        Audience::Shop => {
            let n = &app.config.notifications;
            let mut addresses = Vec::new();
            if let Some(to) = &n.email_to {
                addresses.push((Channel::Email, to.clone()));
            }
            if let Some(bot) = &n.telegram_bot {
                addresses.push((Channel::Telegram, bot.chat_id.clone()));
            }
            let name = subject.store.as_ref().map(|s| s.name.clone()).unwrap_or_default();
            if addresses.is_empty() {
                Vec::new()
            } else {
                vec![Recipient { key: "shop".into(), user_id: None, name, locale: templates::locale(None), addresses }]
            }
        }
    })
}

/// The store's members (only its owners when `owners`); for the default store (the single shop
/// of a small install), also the platform's admins, who run it.
async fn staff(conn: &mut AnyConnection, store_id: &str, with_admins: bool, owners: bool) -> Result<Vec<Recipient>, sqlx::Error> {
    let admins = if with_admins { format!("OR roles LIKE '%\"{}\"%'", Role::Admin.as_str()) } else { String::new() };
    let role = if owners { "AND role = 'owner'" } else { "" };
    let sql = format!(
        "SELECT id, name, email FROM users
         WHERE id IN (SELECT user_id FROM store_members WHERE store_id = $1 {role}) {admins}
         ORDER BY created_at, id LIMIT 1000"
    );
    let rows = sqlx::query(&sql).bind(store_id).fetch_all(conn).await?;
    rows.iter().map(|r| Ok(Recipient::user(r.try_get("id")?, r.try_get("name")?, r.try_get("email")?))).collect()
}

/// The platform's admins.
async fn admins(conn: &mut AnyConnection) -> Result<Vec<Recipient>, sqlx::Error> {
    let sql =
        format!("SELECT id, name, email FROM users WHERE roles LIKE '%\"{}\"%' ORDER BY created_at, id LIMIT 1000", Role::Admin.as_str());
    let rows = sqlx::query(&sql).fetch_all(conn).await?;
    rows.iter().map(|r| Ok(Recipient::user(r.try_get("id")?, r.try_get("name")?, r.try_get("email")?))).collect()
}

/// Whether a broadcast to `subject`'s audience goes in chunks ([`resolve_chunk`]).
pub fn chunked(audience: Audience, subject: &Subject) -> bool {
    audience == Audience::Broadcast && matches!(subject.audience.as_deref(), Some("customers" | "everyone"))
}

/// Up to [`CHUNK`] recipients of a chunked broadcast (see [`chunked`]), after the one `after`
/// names, and the cursor to give for the next chunk (the last one's id; `None` when empty).
pub async fn resolve_chunk(
    conn: &mut AnyConnection,
    subject: &Subject,
    store_id: Option<&str>,
    after: Option<&str>,
) -> Result<(Vec<Recipient>, Option<String>), sqlx::Error> {
    let after = after.unwrap_or("");
    match (subject.audience.as_deref(), store_id) {
        (Some("customers"), Some(store_id)) => customers(conn, store_id, after).await,
        (Some("everyone"), _) => everyone(conn, after).await,
        _ => Ok((Vec::new(), None)),
    }
}

/// A chunk of the store's active customers after customer `after`: their accounts, or their
/// emails (and phones) for guests.
async fn customers(conn: &mut AnyConnection, store_id: &str, after: &str) -> Result<(Vec<Recipient>, Option<String>), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, user_id, name, email, phone FROM customers WHERE store_id = $1 AND is_active = 1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(store_id)
    .bind(after)
    .bind(CHUNK as i64)
    .fetch_all(&mut *conn)
    .await?;
    let last = rows.last().map(|r| r.try_get("id")).transpose()?;
    let found = rows
        .iter()
        .map(|r| {
            let (name, email, phone): (String, String, Option<String>) = (r.try_get("name")?, r.try_get("email")?, r.try_get("phone")?);
            Ok(match r.try_get::<Option<String>, _>("user_id")? {
                Some(user) => Recipient::user(user, name, email),
                None => Recipient {
                    key: format!("email:{}", email.to_ascii_lowercase()),
                    user_id: None,
                    name,
                    locale: templates::locale(None),
                    addresses: vec![(Channel::Email, email)],
                }
                .with_phone(phone.as_deref()),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((found, last))
}

/// A chunk of the platform's users after user `after`.
async fn everyone(conn: &mut AnyConnection, after: &str) -> Result<(Vec<Recipient>, Option<String>), sqlx::Error> {
    let rows = sqlx::query("SELECT id, name, email FROM users WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(CHUNK as i64)
        .fetch_all(conn)
        .await?;
    let last = rows.last().map(|r| r.try_get("id")).transpose()?;
    let found = rows
        .iter()
        .map(|r| Ok(Recipient::user(r.try_get("id")?, r.try_get("name")?, r.try_get("email")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((found, last))
}

//! `/api/notifications/preferences`: what the signed-in user hears about on each channel, their
//! language, time zone, quiet hours and phone for text messages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use feria_domain::notify::{Category, Channel, EventKind, Tz, format_clock, parse_clock};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::validate::{Validator, is_phone};
use crate::services::identity::caller::Caller;
use crate::services::notifications::preferences::{self, Changes, PERSONAL_CHANNELS, Preferences};
use crate::services::notifications::templates::LOCALES;

/// A daily window of local time (`HH:MM`, 24-hour) in which text messages and pushes wait.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QuietHoursBody {
    pub start: String,
    pub end: String,
}

/// The preferences.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesView {
    /// `es` or `en`; null: the shop's (Spanish).
    pub locale: Option<String>,
    /// IANA time zone, e.g. `America/Argentina/Buenos_Aires`.
    pub timezone: Option<String>,
    pub quiet_hours: Option<QuietHoursBody>,
    /// For text messages.
    pub phone: Option<String>,
    /// Category → channel → on. Categories: orders, payments, marketing, account,
    /// announcements, system; channels: in_app, email, sms, push, web_push.
    #[schema(value_type = Object)]
    pub categories: BTreeMap<String, BTreeMap<String, bool>>,
    /// Events that reach people whatever these say (and during quiet hours).
    pub always_sent: Vec<String>,
}

impl From<Preferences> for PreferencesView {
    fn from(p: Preferences) -> PreferencesView {
        let categories = Category::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), PERSONAL_CHANNELS.iter().map(|ch| (ch.as_str().to_string(), p.allows(*c, *ch))).collect()))
            .collect();
        PreferencesView {
            locale: p.settings.locale,
            timezone: p.settings.timezone.map(|z| z.name().to_string()),
            quiet_hours: p.settings.quiet.map(|(s, e)| QuietHoursBody { start: format_clock(s), end: format_clock(e) }),
            phone: p.settings.phone,
            categories,
            always_sent: EventKind::ALL.iter().filter(|k| k.critical()).map(|k| k.as_str().to_string()).collect(),
        }
    }
}

/// Changes; absent fields stay as they are, `null` clears a setting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePreferencesRequest {
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<QuietHoursBody>)]
    pub quiet_hours: Option<Option<QuietHoursBody>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Category → channel → on, only the choices to change.
    #[schema(value_type = Option<Object>)]
    pub categories: Option<BTreeMap<String, BTreeMap<String, bool>>>,
}

/// The caller's preferences.
#[utoipa::path(get, path = "/api/notifications/preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The preferences", body = PreferencesView)))]
pub async fn get(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<PreferencesView>> {
    Ok(Json(preferences::mine(&app.db, &caller).await?.into()))
}

/// Changes the caller's preferences.
#[utoipa::path(put, path = "/api/notifications/preferences", tag = "notifications", security(("bearer" = [])),
    request_body = UpdatePreferencesRequest,
    responses(
        (status = 200, description = "The preferences as they are now", body = PreferencesView),
        (status = 422, description = "An unknown category, channel, locale or time zone, a bad time or phone", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<UpdatePreferencesRequest>,
) -> ApiResult<Json<PreferencesView>> {
    let changes = changes(body)?;
    Ok(Json(preferences::update(&app.db, &caller, changes).await?.into()))
}

fn changes(body: UpdatePreferencesRequest) -> ApiResult<Changes> {
    let mut v = Validator::new();
    let locale = body.locale.map(|l| {
        l.filter(|l| {
            let known = LOCALES.contains(&l.as_str());
            if !known {
                v.add("locale", "Debe ser es o en");
            }
            known
        })
    });
    let timezone = body.timezone.map(|z| {
        z.and_then(|z| {
            let zone = z.parse::<Tz>().ok();
            if zone.is_none() {
                v.add("timezone", "Debe ser una zona horaria IANA, p. ej. America/Argentina/Buenos_Aires");
            }
            zone
        })
    });
    let quiet_hours = body.quiet_hours.map(|q| {
        q.and_then(|q| match (parse_clock(&q.start), parse_clock(&q.end)) {
            (Some(start), Some(end)) => Some((start, end)),
            (start, end) => {
                if start.is_none() {
                    v.add("quietHours.start", "Debe ser una hora HH:MM");
                }
                if end.is_none() {
                    v.add("quietHours.end", "Debe ser una hora HH:MM");
                }
                None
            }
        })
    });
    let phone = body.phone.map(|p| {
        p.filter(|p| {
            let ok = is_phone(p);
            if !ok {
                v.add("phone", "No es un teléfono válido");
            }
            ok
        })
    });
    let mut choices = Vec::new();
    for (category, channels) in body.categories.unwrap_or_default() {
        let Some(parsed) = Category::parse(&category) else {
            v.add(&format!("categories.{category}"), "No es una categoría");
            continue;
        };
        for (channel, on) in channels {
            match Channel::parse(&channel).filter(|c| PERSONAL_CHANNELS.contains(c)) {
                Some(c) => choices.push((parsed, c, on)),
                None => v.add(&format!("categories.{category}.{channel}"), "No es un canal (in_app, email, sms, push, web_push)"),
            }
        }
    }
    v.finish()?;
    Ok(Changes { locale, timezone, quiet: quiet_hours, phone, choices })
}

//! `/notifications/templates` (also under `/api/stores/{slug}/…`): the store's wording of each
//! notification, per event, audience (`customer`, `staff`), channel and locale: read, replace
//! (checked against the variables the event gives), go back to feria's, preview with one of the
//! store's orders, and send as a test to oneself (`settings:write`).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use feria_domain::notify::{Channel, EventKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::path::{AudienceParam, ChannelParam, KindParam, LocaleParam};
use crate::http::store::CurrentStore;
use crate::services::notifications::store_templates::{self, Key, StoreTemplate};
use crate::services::notifications::template_tests;
use crate::services::notifications::templates::{self, Content, LOCALES, Voice};

/// A template: feria's or the store's own.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    pub kind: String,
    /// `customer` or `staff`.
    pub audience: String,
    pub channel: String,
    pub locale: String,
    /// minijinja with one block per part of the channel: `title`/`body` (in-app, push),
    /// `subject`/`html`/`text` (email), `sms`, `telegram`.
    pub source: String,
    /// The store's own text (else feria's).
    pub custom: bool,
    pub updated_at: Option<String>,
}

impl From<StoreTemplate> for TemplateView {
    fn from(t: StoreTemplate) -> TemplateView {
        TemplateView {
            kind: t.key.kind.as_str().into(),
            audience: t.key.voice.as_str().into(),
            channel: t.key.channel.as_str().into(),
            locale: t.key.locale.into(),
            source: t.source,
            custom: t.custom,
            updated_at: t.updated_at,
        }
    }
}

/// One template the store can reword.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateEntry {
    pub kind: String,
    pub audience: String,
    pub channel: String,
    pub locale: String,
    /// The store's own text is in use.
    pub custom: bool,
}

/// `{templates}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<TemplateEntry>,
}

/// The store's own text for a template.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SaveTemplate {
    pub source: Option<String>,
}

/// What to preview: the template in use, or `source`; with the store's order `orderId`, or
/// sample values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewTemplate {
    pub source: Option<String>,
    pub order_id: Option<String>,
}

/// A rendered message.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    /// Email subject, or push and in-app title.
    pub subject: Option<String>,
    pub text: String,
    /// Email only, in the layout.
    pub html: Option<String>,
}

impl From<Content> for PreviewView {
    fn from(c: Content) -> PreviewView {
        PreviewView { subject: c.subject, text: c.text, html: c.html }
    }
}

/// The template a path names (`/{kind}/{audience}/{channel}/{locale}`); 404 when feria has no
/// text for it.
pub struct TemplateKey(Key);

impl FromRequestParts<AppState> for TemplateKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let KindParam(kind) = KindParam::from_request_parts(parts, app).await?;
        let AudienceParam(audience) = AudienceParam::from_request_parts(parts, app).await?;
        let ChannelParam(channel) = ChannelParam::from_request_parts(parts, app).await?;
        let LocaleParam(locale) = LocaleParam::from_request_parts(parts, app).await?;
        let kind = EventKind::parse(&kind).ok_or_else(|| ApiError::not_found("No existe ese evento"))?;
        let voice = Voice::parse(&audience).ok_or_else(|| ApiError::not_found("El público es customer o staff"))?;
        let channel = Channel::parse(&channel).ok_or_else(|| ApiError::not_found("No existe ese canal"))?;
        let locale = LOCALES.into_iter().find(|l| *l == locale).ok_or_else(|| ApiError::not_found("El idioma es es o en"))?;
        if templates::shipped_source(kind, voice, locale).is_none() {
            return Err(ApiError::not_found("feria no envía ese evento a ese público"));
        }
        Ok(TemplateKey(Key { kind, voice, channel, locale }))
    }
}

/// Every template the store can reword, and which are its own (`settings:write`).
#[utoipa::path(get, path = "/notifications/templates", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The templates", body = TemplateList)))]
pub async fn list(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
) -> ApiResult<Json<TemplateList>> {
    let found = store_templates::list(&app.db, &reader, &store.id).await?;
    let templates = found
        .into_iter()
        .map(|(key, custom)| TemplateEntry {
            kind: key.kind.as_str().into(),
            audience: key.voice.as_str().into(),
            channel: key.channel.as_str().into(),
            locale: key.locale.into(),
            custom,
        })
        .collect();
    Ok(Json(TemplateList { templates }))
}

/// A template of the store (`settings:write`).
#[utoipa::path(get, path = "/notifications/templates/{kind}/{audience}/{channel}/{locale}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("audience" = String, Path), ("channel" = String, Path), ("locale" = String, Path)),
    responses(
        (status = 200, description = "The template in use", body = TemplateView),
        (status = 404, description = "No such event, audience, channel or locale", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    TemplateKey(key): TemplateKey,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(store_templates::get(&app.db, &reader, &store.id, key).await?.into()))
}

/// Replaces a template with the store's own text, once it compiles, has the channel's blocks and
/// uses only the event's variables (`settings:write`).
#[utoipa::path(put, path = "/notifications/templates/{kind}/{audience}/{channel}/{locale}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("audience" = String, Path), ("channel" = String, Path), ("locale" = String, Path)),
    request_body = SaveTemplate,
    responses(
        (status = 200, description = "Saved", body = TemplateView),
        (status = 404, description = "No such event, audience, channel or locale", body = ErrorBody),
        (status = 422, description = "The template does not compile, lacks a block or uses an unknown variable", body = ErrorBody),
    ))]
pub async fn save(
    State(app): State<AppState>,
    Staff(writer, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    TemplateKey(key): TemplateKey,
    ApiJson(body): ApiJson<SaveTemplate>,
) -> ApiResult<Json<TemplateView>> {
    let source = body.source.filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::field("source", "Es obligatorio"))?;
    Ok(Json(store_templates::save(&app.db, &writer, &store.id, key, &source).await?.into()))
}

/// Goes back to feria's text (`settings:write`).
#[utoipa::path(delete, path = "/notifications/templates/{kind}/{audience}/{channel}/{locale}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("audience" = String, Path), ("channel" = String, Path), ("locale" = String, Path)),
    responses(
        (status = 200, description = "feria's template, in use again", body = TemplateView),
        (status = 404, description = "No such event, audience, channel or locale", body = ErrorBody),
    ))]
pub async fn reset(
    State(app): State<AppState>,
    Staff(writer, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    TemplateKey(key): TemplateKey,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(store_templates::reset(&app.db, &writer, &store.id, key).await?.into()))
}

/// Renders a template (the one in use, or `source`) with one of the store's orders or with sample
/// values (`settings:write`).
#[utoipa::path(post, path = "/notifications/templates/{kind}/{audience}/{channel}/{locale}/preview", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("audience" = String, Path), ("channel" = String, Path), ("locale" = String, Path)),
    request_body = PreviewTemplate,
    responses(
        (status = 200, description = "The message as it would go out", body = PreviewView),
        (status = 404, description = "No such event, audience, channel or locale", body = ErrorBody),
        (status = 422, description = "The template does not render, or no such order", body = ErrorBody),
    ))]
pub async fn preview(
    State(app): State<AppState>,
    Staff(reader, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    TemplateKey(key): TemplateKey,
    ApiJson(body): ApiJson<PreviewTemplate>,
) -> ApiResult<Json<PreviewView>> {
    let rendered = store_templates::preview(&app.db, &reader, &store.id, key, body.source.as_deref(), body.order_id.as_deref()).await?;
    Ok(Json(rendered.into()))
}

/// What to test the template with: the store's order `orderId`, or sample values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestTemplate {
    pub order_id: Option<String>,
}

/// A test on its way (see the delivery log).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSentView {
    pub message_id: String,
    pub channel: String,
    /// Your email, phone, user id (in-app and devices) or the shop's chat.
    pub address: String,
}

/// Sends the template in use, with one of the store's orders or sample values, to yourself on its
/// channel (`settings:write`).
#[utoipa::path(post, path = "/notifications/templates/{kind}/{audience}/{channel}/{locale}/test", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("audience" = String, Path), ("channel" = String, Path), ("locale" = String, Path)),
    request_body = TestTemplate,
    responses(
        (status = 202, description = "Queued for you", body = TestSentView),
        (status = 404, description = "No such event, audience, channel or locale", body = ErrorBody),
        (status = 422, description = "No such order, the channel is not configured, or you cannot be reached on it", body = ErrorBody),
    ))]
pub async fn test(
    State(app): State<AppState>,
    Staff(caller, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    TemplateKey(key): TemplateKey,
    ApiJson(body): ApiJson<TestTemplate>,
) -> ApiResult<(StatusCode, Json<TestSentView>)> {
    let sent = app.settle(template_tests::send(&app, &caller, &store.id, key, body.order_id.as_deref()).await?).await;
    let view = TestSentView { message_id: sent.message_id, channel: key.channel.as_str().into(), address: sent.address };
    Ok((StatusCode::ACCEPTED, Json(view)))
}

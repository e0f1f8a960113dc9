//! `/api/notifications/devices`: the signed-in user's push devices (an app's FCM token, a
//! browser's web push subscription), and `/api/notifications/web-push/key`, the key a browser
//! subscribes with.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use feria_providers::webpush::send::endpoint_origin;

use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::json::{ApiJson, Deleted};
use crate::http::path::IdParam;
use crate::http::validate::Validator;
use crate::services::identity::caller::Caller;
use crate::services::notifications::devices::{self, Device, Target};

/// A device, without its token or keys.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    pub id: String,
    /// `fcm` (an app) or `web_push` (a browser).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    /// The end of the token, or the push service's host.
    pub label: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<Device> for DeviceView {
    fn from(d: Device) -> DeviceView {
        let (kind, label) = match &d.target {
            Target::Fcm { token } => ("fcm", format!("…{}", &token[token.len().saturating_sub(6)..])),
            Target::WebPush { endpoint, .. } => ("web_push", endpoint_origin(endpoint).map(|(_, host)| host).unwrap_or_default()),
        };
        DeviceView { id: d.id, kind: kind.into(), name: d.name, label, created_at: d.created_at, last_used_at: d.last_used_at }
    }
}

/// `{devices}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceList {
    pub devices: Vec<DeviceView>,
}

/// A browser's `PushSubscription.toJSON()` keys.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, uncompressed, base64url.
    pub p256dh: Option<String>,
    /// 16 random bytes, base64url.
    pub auth: Option<String>,
}

/// A browser's `PushSubscription.toJSON()`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionBody {
    pub endpoint: Option<String>,
    pub keys: Option<SubscriptionKeys>,
}

/// `{type: "fcm", token}` or `{type: "web_push", subscription}`, with an optional name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterDevice {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub token: Option<String>,
    pub subscription: Option<SubscriptionBody>,
    pub name: Option<String>,
}

/// `{publicKey}`: the VAPID key, base64url, for `pushManager.subscribe({applicationServerKey})`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebPushKey {
    pub public_key: String,
}

fn decoded_len(text: &str) -> Option<usize> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok().map(|b| b.len())
}

fn target(app: &AppState, body: RegisterDevice, v: &mut Validator) -> Option<Target> {
    match body.kind.as_deref() {
        Some("fcm") => {
            let token = v.text("token", body.token.as_deref(), 8, 4096);
            if token.chars().any(|c| !c.is_ascii_graphic()) {
                v.add("token", "No es un token de FCM");
            }
            Some(Target::Fcm { token })
        }
        Some("web_push") => {
            let Some(subscription) = body.subscription else {
                v.add("subscription", "Es obligatoria para web_push");
                return None;
            };
            let endpoint = v.text("subscription.endpoint", subscription.endpoint.as_deref(), 12, 2048);
            let allowed =
                endpoint_origin(&endpoint).is_some_and(|(scheme, _)| scheme == "https" || (scheme == "http" && app.serves_on_loopback()));
            if !allowed {
                v.add("subscription.endpoint", "Debe ser una URL https de un servicio de push");
            }
            let keys = subscription.keys.unwrap_or(SubscriptionKeys { p256dh: None, auth: None });
            let p256dh = v.text("subscription.keys.p256dh", keys.p256dh.as_deref(), 1, 200);
            let auth = v.text("subscription.keys.auth", keys.auth.as_deref(), 1, 100);
            if decoded_len(&p256dh) != Some(65) {
                v.add("subscription.keys.p256dh", "Debe ser una clave P-256 sin comprimir (65 bytes, base64url)");
            }
            if decoded_len(&auth) != Some(16) {
                v.add("subscription.keys.auth", "Debe ser de 16 bytes (base64url)");
            }
            Some(Target::WebPush { endpoint, p256dh, auth })
        }
        _ => {
            v.add("type", "Debe ser fcm o web_push");
            None
        }
    }
}

/// Registers a device for the caller's pushes.
#[utoipa::path(post, path = "/api/notifications/devices", tag = "notifications", security(("bearer" = [])),
    request_body = RegisterDevice,
    responses(
        (status = 201, description = "Registered", body = DeviceView),
        (status = 422, description = "Not a token or a subscription", body = ErrorBody),
    ))]
pub async fn register(
    State(app): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RegisterDevice>,
) -> ApiResult<(StatusCode, Json<DeviceView>)> {
    let mut v = Validator::new();
    let name = v.optional_text("name", body.name.as_deref(), 1, 100);
    let target = target(&app, body, &mut v);
    v.finish()?;
    let target = target.ok_or_else(|| ApiError::field("type", "Debe ser fcm o web_push"))?;
    Ok((StatusCode::CREATED, Json(devices::register(&app.db, &caller, target, name).await?.into())))
}

/// The caller's devices.
#[utoipa::path(get, path = "/api/notifications/devices", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The devices", body = DeviceList)))]
pub async fn list(State(app): State<AppState>, caller: Caller) -> ApiResult<Json<DeviceList>> {
    Ok(Json(DeviceList { devices: devices::mine(&app.db, &caller).await?.into_iter().map(Into::into).collect() }))
}

/// Forgets one of the caller's devices.
#[utoipa::path(delete, path = "/api/notifications/devices/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Forgotten", body = Deleted),
        (status = 404, description = "No such device of the caller", body = ErrorBody),
    ))]
pub async fn remove(State(app): State<AppState>, caller: Caller, IdParam(id): IdParam) -> ApiResult<Json<Deleted>> {
    devices::remove(&app.db, &caller, &id).await?;
    Ok(Json(Deleted { message: "Dispositivo eliminado".into() }))
}

/// The key browsers subscribe with (public).
#[utoipa::path(get, path = "/api/notifications/web-push/key", tag = "notifications",
    responses(
        (status = 200, description = "The key", body = WebPushKey),
        (status = 409, description = "Web push is not configured (VAPID_PRIVATE_KEY)", body = ErrorBody),
    ))]
pub async fn web_push_key(State(app): State<AppState>) -> ApiResult<Json<WebPushKey>> {
    let vapid = app.vapid.as_ref().ok_or_else(|| ApiError::conflict(codes::PROVIDER_NOT_CONFIGURED, "Web push no está configurado"))?;
    Ok(Json(WebPushKey { public_key: vapid.public_key().to_string() }))
}

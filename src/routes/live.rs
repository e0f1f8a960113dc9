//! `GET /api/notifications/live`: a WebSocket that pushes the signed-in user's new inbox items
//! (a new order for staff, a status change for the buyer) with the unread count. The access
//! token comes as `Authorization: Bearer` or, since browsers cannot set headers on a WebSocket,
//! as the first frame `{"type":"auth","token":"…"}` within 10 seconds. The socket closes when
//! the token expires (code 4401), when the server stops (1001), and on a lagging reader it says
//! `{"type":"resync"}`. Frames from the client are small (4 KiB at most).

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::notifications::NotificationView;
use crate::app::AppState;
use crate::http::auth::{bearer_token, person};
use crate::services::identity::caller::Caller;
use crate::services::notifications::inbox;

/// How long an unauthenticated socket may stay open.
const AUTH_WINDOW: Duration = Duration::from_secs(10);
/// How often an idle socket is pinged.
const PING_EVERY: Duration = Duration::from_secs(30);
/// The largest frame a client may send.
const MAX_FRAME: usize = 4096;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/notifications/live", get(upgrade))
}

async fn upgrade(State(app): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let limit = app.config.notifications.live_max_sockets;
    if app.live_sockets.fetch_add(1, Ordering::AcqRel) >= limit {
        app.live_sockets.fetch_sub(1, Ordering::AcqRel);
        return (StatusCode::SERVICE_UNAVAILABLE, "too many live connections").into_response();
    }
    // A bad header token is refused before the upgrade, as any route would.
    let signed_in = match bearer_token(&headers) {
        Some(token) => match person(&app, token).await {
            Ok(found) => Some(found),
            Err(e) => {
                app.live_sockets.fetch_sub(1, Ordering::AcqRel);
                return e.into_response();
            }
        },
        None => None,
    };
    // Buffers sized for the small frames that flow here: the 128 KiB default read buffer would
    // make each idle socket cost that much.
    let ws = ws.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).read_buffer_size(MAX_FRAME).write_buffer_size(0);
    ws.on_upgrade(move |socket| async move {
        session(&app, socket, signed_in).await;
        app.live_sockets.fetch_sub(1, Ordering::AcqRel);
    })
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
}

/// Waits for `{"type":"auth","token":"…"}`.
async fn first_frame_auth(app: &AppState, socket: &mut WebSocket) -> Option<(Caller, i64)> {
    let frame = tokio::time::timeout(AUTH_WINDOW, socket.recv()).await.ok()??.ok()?;
    let Message::Text(text) = frame else { return None };
    let hello: Value = serde_json::from_str(text.as_str()).ok()?;
    if hello["type"] != "auth" {
        return None;
    }
    person(app, hello["token"].as_str()?).await.ok()
}

async fn send(socket: &mut WebSocket, payload: Value) -> bool {
    socket.send(Message::Text(payload.to_string().into())).await.is_ok()
}

async fn session(app: &AppState, mut socket: WebSocket, signed_in: Option<(Caller, i64)>) {
    let Some((caller, expires)) = (match signed_in {
        Some(found) => Some(found),
        None => first_frame_auth(app, &mut socket).await,
    }) else {
        let _ = socket.send(close(4401, "unauthorized")).await;
        return;
    };
    let mut events = app.live.subscribe();
    let mut closing = app.live.closing();
    if *closing.borrow() {
        return;
    }
    let unread = inbox::unread_count(&app.db, &caller, None).await.unwrap_or_default();
    if !send(&mut socket, json!({"type": "ready", "unreadCount": unread})).await {
        return;
    }
    let left = u64::try_from(expires - chrono::Utc::now().timestamp()).unwrap_or(0);
    let expiry = tokio::time::sleep(Duration::from_secs(left));
    tokio::pin!(expiry);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) if event.user_id == caller.id => {
                    let Some(id) = event.payload["id"].as_str() else { continue };
                    let Ok(Some(item)) = inbox::find(&app.db, &caller, id).await else { continue };
                    let unread = inbox::unread_count(&app.db, &caller, None).await.unwrap_or_default();
                    let payload = json!({"type": "notification", "notification": NotificationView::from(item), "unreadCount": unread});
                    if !send(&mut socket, payload).await {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    if !send(&mut socket, json!({"type": "resync"})).await {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            frame = socket.recv() => match frame {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            _ = &mut expiry => {
                let _ = socket.send(close(4401, "token expired")).await;
                return;
            }
            _ = closing.changed() => {
                let _ = socket.send(close(1001, "server stopping")).await;
                return;
            }
        }
    }
}

//! Live events for signed-in users' open WebSockets: a new inbox item (a new order for staff, a
//! status change for the buyer). Events are published after the fan-out commits. With
//! `REDIS_URL` they go through Redis pub/sub, so a socket on any node hears an event fanned out
//! on any other (jobs may run on a worker without sockets); without it, within this process.

use std::sync::Arc;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{broadcast, watch};

/// How many events a slow socket may fall behind before it is told to resync.
const BACKLOG: usize = 1024;

/// One event for one user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveEvent {
    pub user_id: String,
    /// What the socket sends (`{"type": "notification", …}`).
    pub payload: Value,
}

/// Where events are published and heard.
pub struct Live {
    local: broadcast::Sender<Arc<LiveEvent>>,
    /// Turns true when the server stops: sockets close so that the shutdown does not wait on them.
    closing: watch::Sender<bool>,
    /// The Redis connection and channel, when events cross nodes.
    redis: Option<(redis::aio::ConnectionManager, String)>,
}

impl Live {
    pub fn new(redis: Option<redis::aio::ConnectionManager>, key_prefix: &str) -> Live {
        let (local, _) = broadcast::channel(BACKLOG);
        let (closing, _) = watch::channel(false);
        Live { local, closing, redis: redis.map(|r| (r, format!("{key_prefix}live"))) }
    }

    /// Resolves when sockets must close (the server is stopping).
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Tells every socket to close.
    pub fn close_sockets(&self) {
        self.closing.send_replace(true);
    }

    /// The Redis channel events cross nodes on, when there is one.
    pub fn channel(&self) -> Option<&str> {
        self.redis.as_ref().map(|(_, c)| c.as_str())
    }

    /// Publishes `events` (one Redis message for all of them). A lost event is not an error:
    /// the inbox has the item, and a socket resyncs on its next connect.
    pub async fn publish(&self, events: Vec<LiveEvent>) {
        if events.is_empty() {
            return;
        }
        match &self.redis {
            None => self.deliver_locally(events),
            Some((conn, channel)) => {
                let message = serde_json::to_string(&events).expect("events serialise");
                let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH").arg(channel).arg(message).query_async(&mut conn.clone()).await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "live events not published to Redis");
                }
            }
        }
    }

    fn deliver_locally(&self, events: Vec<LiveEvent>) {
        for event in events {
            // No socket listening is not an error.
            let _ = self.local.send(Arc::new(event));
        }
    }

    /// A receiver of every event this node hears.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.local.subscribe()
    }

    /// Relays what other nodes publish on Redis to this node's sockets, until `shutdown`;
    /// reconnects after a lost connection.
    pub async fn relay(self: Arc<Self>, client: redis::Client, mut shutdown: watch::Receiver<bool>) {
        let Some(channel) = self.channel().map(str::to_string) else { return };
        while !*shutdown.borrow() {
            let mut pubsub = match client.get_async_pubsub().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "live events: cannot reach Redis, retrying");
                    tokio::select! { _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue, _ = shutdown.changed() => return }
                }
            };
            if let Err(e) = pubsub.subscribe(&channel).await {
                tracing::warn!(error = %e, "live events: cannot subscribe, retrying");
                continue;
            }
            let mut messages = pubsub.on_message();
            loop {
                tokio::select! {
                    message = messages.next() => match message {
                        Some(message) => {
                            let events: Option<Vec<LiveEvent>> = message.get_payload::<String>().ok().and_then(|p| serde_json::from_str(&p).ok());
                            self.deliver_locally(events.unwrap_or_default());
                        }
                        None => break,
                    },
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

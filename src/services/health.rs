//! The state of feria's dependencies (database, Redis, job queue) for `/api/health`, probed at
//! most once a second.

use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Services {
    pub database: DatabaseHealth,
    /// Present when `REDIS_URL` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisHealth>,
    pub jobs: JobsHealth,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseHealth {
    /// `connected` or `disconnected`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    pub latency_ms: Option<f64>,
    /// Open connections (read and write pools).
    pub connections: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisHealth {
    /// `connected` or `disconnected`.
    pub status: &'static str,
    pub latency_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobsHealth {
    /// `healthy`, `warning` (dead jobs waiting for an admin) or `critical` (queue unreadable).
    pub status: &'static str,
    /// Queued or running.
    pub pending: Option<i64>,
    pub dead: Option<i64>,
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

async fn check_redis(app: &App) -> Option<RedisHealth> {
    let conn = app.redis.as_ref()?;
    let mut conn = conn.clone();
    let started = std::time::Instant::now();
    let ping = tokio::time::timeout(Duration::from_secs(2), redis::cmd("PING").query_async::<String>(&mut conn)).await;
    Some(match ping {
        Ok(Ok(_)) => RedisHealth { status: "connected", latency_ms: Some(millis(started.elapsed())) },
        _ => RedisHealth { status: "disconnected", latency_ms: None },
    })
}

/// How long a probe of the dependencies is reused. Health is polled by every load balancer
/// and monitor; without this, each poll would cost database queries.
const PROBE_MAX_AGE: Duration = Duration::from_secs(1);

/// The last probe of the dependencies, refreshed by the first request after it ages.
#[derive(Default)]
pub struct HealthCache {
    last: tokio::sync::Mutex<Option<(Instant, Services)>>,
}

impl HealthCache {
    /// A probe at most [`PROBE_MAX_AGE`] old; concurrent callers wait for one refresh.
    pub async fn services(&self, app: &App) -> Services {
        let mut last = self.last.lock().await;
        if let Some((_, services)) = last.as_ref().filter(|(at, _)| at.elapsed() < PROBE_MAX_AGE) {
            return services.clone();
        }
        let services = probe(app).await;
        *last = Some((Instant::now(), services.clone()));
        services
    }
}

async fn probe(app: &App) -> Services {
    let ping = tokio::time::timeout(Duration::from_secs(2), app.db.ping()).await;
    let pools = app.db.pool_stats();
    let database = DatabaseHealth {
        status: if matches!(ping, Ok(Ok(_))) { "connected" } else { "disconnected" },
        backend: match app.db.backend() {
            feria_db::Backend::Sqlite => "sqlite",
            feria_db::Backend::Postgres => "postgres",
        },
        latency_ms: match ping {
            Ok(Ok(d)) => Some(millis(d)),
            _ => None,
        },
        connections: pools.read_size + if app.db.backend() == feria_db::Backend::Sqlite { pools.write_size } else { 0 },
    };
    let jobs = match feria_jobs::counts(&app.db).await {
        Ok(c) => JobsHealth { status: if c.dead > 0 { "warning" } else { "healthy" }, pending: Some(c.pending), dead: Some(c.dead) },
        Err(_) => JobsHealth { status: "critical", pending: None, dead: None },
    };
    Services { database, redis: check_redis(app).await, jobs }
}

impl Services {
    /// `unhealthy` without the database, `degraded` when something needs attention, else
    /// `healthy`.
    pub fn overall(&self) -> &'static str {
        if self.database.status != "connected" {
            "unhealthy"
        } else if self.jobs.status != "healthy" || self.redis.as_ref().is_some_and(|r| r.status != "connected") {
            "degraded"
        } else {
            "healthy"
        }
    }
}

//! `GET /metrics`: Prometheus text format.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::app::AppState;
use crate::http::metrics::write_metric;

/// Requests, latency, jobs and database pool use.
#[utoipa::path(get, path = "/metrics", tag = "monitoring",
    responses((status = 200, description = "Prometheus exposition format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let mut out = String::with_capacity(4096);
    app.http_metrics.render(&mut out);
    let stats = &app.job_stats;
    let jobs = [
        ("feria_jobs_processed_total", "Jobs completed by this process.", stats.processed.load(Ordering::Relaxed)),
        ("feria_jobs_skipped_total", "Jobs skipped (provider not configured) by this process.", stats.skipped.load(Ordering::Relaxed)),
        ("feria_jobs_failed_total", "Failed job attempts in this process.", stats.failed.load(Ordering::Relaxed)),
        ("feria_jobs_dead_total", "Jobs moved to dead by this process.", stats.dead.load(Ordering::Relaxed)),
    ];
    for (name, help, value) in jobs {
        write_metric(&mut out, name, "counter", help, &[("", value as f64)]);
    }
    if let Ok(counts) = feria_jobs::counts(&app.db).await {
        write_metric(&mut out, "feria_jobs_pending", "gauge", "Jobs queued or running (all processes).", &[("", counts.pending as f64)]);
        write_metric(&mut out, "feria_jobs_dead", "gauge", "Dead jobs waiting for an admin (all processes).", &[("", counts.dead as f64)]);
    }
    let pools = app.db.pool_stats();
    write_metric(
        &mut out,
        "feria_db_pool_connections",
        "gauge",
        "Database connections by pool and state.",
        &[
            ("pool=\"read\",state=\"idle\"", pools.read_idle as f64),
            ("pool=\"read\",state=\"in_use\"", pools.read_size.saturating_sub(pools.read_idle) as f64),
            ("pool=\"write\",state=\"idle\"", pools.write_idle as f64),
            ("pool=\"write\",state=\"in_use\"", pools.write_size.saturating_sub(pools.write_idle) as f64),
        ],
    );
    write_metric(
        &mut out,
        "feria_uptime_seconds",
        "gauge",
        "Seconds since the process started.",
        &[("", app.started.elapsed().as_secs() as f64)],
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
}

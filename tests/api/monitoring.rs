//! Health, readiness and Prometheus metrics.

use reqwest::{Method, StatusCode};

use crate::harness::{TestApp, expect_status};

#[tokio::test]
async fn health_reports_services() {
    let t = TestApp::spawn().await;
    let body = expect_status(t.get("/api/health", None).await, StatusCode::OK).await;
    assert_eq!(body["status"], "healthy");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(body["uptime"].is_u64());
    let db = &body["services"]["database"];
    assert_eq!(db["status"], "connected");
    assert_eq!(db["backend"], if t.db.is_postgres() { "postgres" } else { "sqlite" });
    assert!(db["latencyMs"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["services"]["jobs"]["pending"], 0);
    assert!(body["services"].get("redis").is_none(), "only when configured");
}

#[tokio::test]
async fn health_is_unhealthy_and_ready_fails_when_the_database_is_gone() {
    let t = TestApp::spawn().await;
    expect_status(t.get("/api/ready", None).await, StatusCode::OK).await;
    t.app.db.close().await;
    let body = expect_status(t.get("/api/health", None).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["services"]["database"]["status"], "disconnected");
    let ready = expect_status(t.get("/api/ready", None).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(ready["code"], "not_ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    for _ in 0..3 {
        t.get("/api/health", None).await;
    }
    let missing = "/api/auth/01900000-0000-7000-8000-000000000000";
    t.request(Method::DELETE, missing, None, Some(&admin)).await;
    t.get("/no/such/route", None).await;
    let res = t.get("/metrics", None).await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains("feria_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} 3\n"), "{text}");
    assert!(text.contains("feria_http_requests_total{method=\"DELETE\",route=\"/api/auth/{id}\",status=\"404\"} 1\n"), "{text}");
    assert!(text.contains("route=\"unmatched\",status=\"404\""), "{text}");
    assert!(!text.contains("01900000-0000"), "raw paths never become labels");
    assert!(text.contains("feria_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/health\",le=\"+Inf\"} 3\n"));
    assert!(text.contains("# TYPE feria_http_request_duration_seconds histogram"));
    assert!(text.contains("feria_db_pool_connections{pool=\"read\",state=\"idle\"}"));
    assert!(text.contains("feria_jobs_pending 0\n"));
}

#[tokio::test]
async fn health_probes_dependencies_at_most_once_a_second() {
    let t = TestApp::spawn().await;
    let first = expect_status(t.get("/api/health", None).await, StatusCode::OK).await;
    assert_eq!(first["services"]["jobs"]["dead"], 0);
    let mut tx = t.app.db.begin().await.unwrap();
    let id = feria_jobs::enqueue(&mut tx, "nothing", &serde_json::json!({}), 1).await.unwrap();
    sqlx::query("UPDATE jobs SET state = 'dead' WHERE id = $1").bind(&id).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let cached = expect_status(t.get("/api/health", None).await, StatusCode::OK).await;
    assert_eq!(cached["services"]["jobs"]["dead"], 0, "served from the last probe");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = expect_status(t.get("/api/health", None).await, StatusCode::OK).await;
    assert_eq!(fresh["services"]["jobs"]["dead"], 1);
    assert_eq!(fresh["status"], "degraded");
}

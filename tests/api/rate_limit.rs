//! Rate limits: per IP for everything, stricter per IP+email on credential endpoints, shared
//! across nodes through Redis.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{TestApp, TestDb, base_settings, expect_error};

#[tokio::test]
async fn global_limit_answers_429_with_headers() {
    let t = TestApp::with(|s| {
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "3".into());
        s.insert("RATE_LIMIT_WINDOW_MS".into(), "60000".into());
    })
    .await;
    for remaining in ["2", "1", "0"] {
        let res = t.get("/api/auth", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["ratelimit-limit"], "3");
        assert_eq!(res.headers()["ratelimit-remaining"], remaining);
    }
    let res = t.get("/api/auth", None).await;
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(t.get("/api/health", None).await.status(), StatusCode::OK, "health checks are not limited");
}

#[tokio::test]
async fn credential_endpoints_are_limited_per_ip_and_email() {
    let t = TestApp::with(|s| {
        s.insert("AUTH_RATE_LIMIT_MAX_REQUESTS".into(), "2".into());
    })
    .await;
    t.register("Ana", "ana@example.com", "secreto1").await;
    let wrong = json!({"email": "ana@example.com", "password": "wrong-password"});
    for _ in 0..2 {
        expect_error(t.post("/api/auth/login", &wrong).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let res = t.post("/api/auth/login", &json!({"email": "ana@example.com", "password": "secreto1"})).await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let other = t.post("/api/auth/login", &json!({"email": "otro@example.com", "password": "x"})).await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED, "another email has its own budget");

    for _ in 0..2 {
        assert_eq!(t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await.status(), StatusCode::OK);
    }
    let res = t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await;
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    for _ in 0..2 {
        let res = t.post("/api/auth/reset-password", &json!({"token": "x", "password": "secreto1"})).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = t.post("/api/auth/reset-password", &json!({"token": "x", "password": "secreto1"})).await;
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn redis_shares_the_budget_between_nodes() {
    let prefix = format!("feria-test-{}:", uuid::Uuid::now_v7().simple());
    let db = TestDb::new().await;
    let mut settings = base_settings(&db);
    settings.insert("REDIS_URL".into(), "redis://127.0.0.1:6379".into());
    settings.insert("REDIS_KEY_PREFIX".into(), prefix);
    settings.insert("RATE_LIMIT_MAX_REQUESTS".into(), "4".into());
    let db_b = TestDb::new().await;
    let mut settings_b = settings.clone();
    settings_b.insert("DATABASE_URL".into(), db_b.url.clone());
    let node_a = TestApp::on(db, settings).await;
    let node_b = TestApp::on(db_b, settings_b).await;
    for node in [&node_a, &node_b, &node_a, &node_b] {
        assert_eq!(node.get("/api/auth", None).await.status(), StatusCode::UNAUTHORIZED);
    }
    expect_error(node_b.get("/api/auth", None).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    expect_error(node_a.get("/api/auth", None).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let health = node_a.get("/api/health", None).await.json::<serde_json::Value>().await.unwrap();
    assert_eq!(health["services"]["redis"]["status"], "connected");
}

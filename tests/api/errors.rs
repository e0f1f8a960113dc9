//! Every class of error answers with the envelope and the right status.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, expect_error};

#[tokio::test]
async fn framework_errors_use_the_envelope() {
    let t = TestApp::with(|s| {
        s.insert("BODY_LIMIT_BYTES".into(), "2048".into());
    })
    .await;
    expect_error(t.get("/api/nothing-here", None).await, StatusCode::NOT_FOUND, "route_not_found").await;
    expect_error(t.get("/", None).await, StatusCode::NOT_FOUND, "route_not_found").await;
    expect_error(t.request(Method::DELETE, "/api/health", None, None).await, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    expect_error(t.request(Method::GET, "/api/auth/login", None, None).await, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;

    let malformed =
        t.client.post(t.url("/api/auth/login")).header("content-type", "application/json").body("{\"email\": ").send().await.unwrap();
    expect_error(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;

    let form = t
        .client
        .post(t.url("/api/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a")
        .send()
        .await
        .unwrap();
    expect_error(form, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let none = t.client.post(t.url("/api/auth/login")).body("{}").send().await.unwrap();
    expect_error(none, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;

    let wrong_type = t.post("/api/auth/login", &json!({"email": 42, "password": "x"})).await;
    let err = expect_error(wrong_type, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(err["details"][0]["field"], "email");
    let not_object = t.post("/api/auth/login", &json!([1, 2])).await;
    expect_error(not_object, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let big = json!({"name": "x".repeat(4096), "email": "big@example.com", "password": "secreto1"});
    expect_error(t.post("/api/auth/register", &big).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(users, 0, "a refused request changes nothing");
}

#[tokio::test]
async fn slow_requests_time_out_and_change_nothing() {
    // Real password-hashing cost makes registration take far longer than 1 ms.
    let t = TestApp::with(|s| {
        s.insert("REQUEST_TIMEOUT_MS".into(), "1".into());
        s.insert("ARGON2_MEMORY_KIB".into(), "65536".into());
        s.insert("ARGON2_ITERATIONS".into(), "3".into());
    })
    .await;
    let res = t.post("/api/auth/register", &json!({"name": "Ana", "email": "ana@example.com", "password": "secreto1"})).await;
    expect_error(res, StatusCode::REQUEST_TIMEOUT, "request_timeout").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(users, 0);
}

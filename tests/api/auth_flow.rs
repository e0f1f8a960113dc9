//! Register, login, current user, refresh rotation with reuse detection, logout, profile.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, expect_error, expect_status};

#[tokio::test]
async fn register_login_and_current_user() {
    let t = TestApp::spawn().await;
    let body = t.register("Ana Pérez", "  Ana@Example.com ", "secreto1").await;
    assert_eq!(body["user"]["email"], "ana@example.com", "emails are trimmed and lower-cased");
    assert_eq!(body["user"]["name"], "Ana Pérez");
    assert_eq!(body["user"]["role"], json!(["USER_ROLE"]));
    assert!(body["user"].get("password").is_none() && body["user"].get("passwordHash").is_none());
    assert!(body["token"].as_str().unwrap().split('.').count() == 3);
    assert!(body["refreshToken"].as_str().unwrap().len() >= 40);

    let dup = t.post("/api/auth/register", &json!({"name": "Otra", "email": "ana@example.com", "password": "secreto1"})).await;
    let err = expect_error(dup, StatusCode::CONFLICT, "email_taken").await;
    assert_eq!(err["details"][0]["field"], "email");

    let login = t.login("ana@example.com", "secreto1").await;
    assert_eq!(login["user"]["id"], body["user"]["id"]);
    let me = expect_status(t.get("/api/auth", login["token"].as_str()).await, StatusCode::OK).await;
    assert_eq!(me["user"]["email"], "ana@example.com");
    assert!(me["user"]["createdAt"].as_str().unwrap().ends_with('Z'));

    let bad = t.post("/api/auth/login", &json!({"email": "ana@example.com", "password": "wrong!"})).await;
    expect_error(bad, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = t.post("/api/auth/login", &json!({"email": "nadie@example.com", "password": "secreto1"})).await;
    expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // The customer profile was created with the user.
    let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE user_id = $1")
        .bind(body["user"]["id"].as_str().unwrap())
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    assert_eq!(customers, 1);
}

#[tokio::test]
async fn register_validates_every_field_and_changes_nothing() {
    let t = TestApp::spawn().await;
    let res = t.post("/api/auth/register", &json!({"email": "not-an-email", "password": "123"})).await;
    let err = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "email", "password"]);
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let t = TestApp::spawn().await;
    t.register("Ana", "ana@example.com", "secreto1").await;
    let login = t.login("ana@example.com", "secreto1").await;
    let first = login["refreshToken"].as_str().unwrap().to_string();

    let rotated = expect_status(t.post("/api/auth/refresh", &json!({"refreshToken": first})).await, StatusCode::OK).await;
    let second = rotated["refreshToken"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let me = t.get("/api/auth", rotated["token"].as_str()).await;
    assert_eq!(me.status(), StatusCode::OK);

    // Presenting the rotated token again is theft: refused, and the whole family is revoked.
    let reuse = t.post("/api/auth/refresh", &json!({"refreshToken": first})).await;
    expect_error(reuse, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
    let after = t.post("/api/auth/refresh", &json!({"refreshToken": second})).await;
    expect_error(after, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

    // Another login is a separate family and still works.
    let other = t.login("ana@example.com", "secreto1").await;
    let ok = t.post("/api/auth/refresh", &json!({"refreshToken": other["refreshToken"]})).await;
    assert_eq!(ok.status(), StatusCode::OK);

    let garbage = t.post("/api/auth/refresh", &json!({"refreshToken": "nope"})).await;
    expect_error(garbage, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    let missing = t.post("/api/auth/refresh", &json!({})).await;
    expect_error(missing, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_succeed_once() {
    let t = TestApp::spawn().await;
    let reg = t.register("Ana", "ana@example.com", "secreto1").await;
    let token = reg["refreshToken"].as_str().unwrap().to_string();
    let body = json!({"refreshToken": token});
    let attempts = (0..6).map(|_| t.post("/api/auth/refresh", &body));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts).await.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let t = TestApp::spawn().await;
    let reg = t.register("Ana", "ana@example.com", "secreto1").await;
    let res = t.post("/api/auth/logout", &json!({"refreshToken": reg["refreshToken"]})).await;
    assert_eq!(expect_status(res, StatusCode::OK).await["message"], "Sesión cerrada");
    let refresh = t.post("/api/auth/refresh", &json!({"refreshToken": reg["refreshToken"]})).await;
    expect_error(refresh, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    let again = t.post("/api/auth/logout", &json!({"refreshToken": "unknown"})).await;
    assert_eq!(again.status(), StatusCode::OK, "logout is idempotent");
}

#[tokio::test]
async fn profile_read_and_update_with_password_change() {
    let t = TestApp::spawn().await;
    let reg = t.register("Ana", "ana@example.com", "secreto1").await;
    let token = reg["token"].as_str().unwrap();
    let profile = expect_status(t.get("/api/auth/profile", Some(token)).await, StatusCode::OK).await;
    assert_eq!(profile["user"]["name"], "Ana");
    assert_eq!(profile["phone"], json!(null));

    let update = json!({"name": "Ana María", "phone": "+54 11 5555-0000", "img": "https://cdn.test/ana.png"});
    let res = t.request(Method::PUT, "/api/auth/profile", Some(&update), Some(token)).await;
    let body = expect_status(res, StatusCode::OK).await;
    assert_eq!(body["user"]["name"], "Ana María");
    assert_eq!(body["user"]["img"], "https://cdn.test/ana.png");
    assert_eq!(body["phone"], "+54 11 5555-0000");

    let wrong = json!({"currentPassword": "nope-nope", "newPassword": "nuevo123"});
    let res = t.request(Method::PUT, "/api/auth/profile", Some(&wrong), Some(token)).await;
    let err = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(err["details"][0]["field"], "currentPassword");
    t.login("ana@example.com", "secreto1").await;

    let change = json!({"currentPassword": "secreto1", "newPassword": "nuevo123"});
    let res = t.request(Method::PUT, "/api/auth/profile", Some(&change), Some(token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    t.login("ana@example.com", "nuevo123").await;
    let old = t.post("/api/auth/refresh", &json!({"refreshToken": reg["refreshToken"]})).await;
    expect_error(old, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

    let anon = t.get("/api/auth/profile", None).await;
    expect_error(anon, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

//! Access tokens: missing, tampered, forged, expired.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{JWT_SECRET, TestApp, expect_error};

fn forge(secret: &str, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn bad_tokens_are_refused_with_their_reason() {
    let t = TestApp::spawn().await;
    let reg = t.register("Ana", "ana@example.com", "secreto1").await;
    let token = reg["token"].as_str().unwrap();
    let user_id = reg["user"]["id"].as_str().unwrap();
    let now = chrono::Utc::now().timestamp();

    expect_error(t.get("/api/auth", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let basic = t.client.get(t.url("/api/auth")).header("authorization", "Basic YTpi").send().await.unwrap();
    expect_error(basic, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Payload changed to claim the admin role, signature kept: the signature no longer matches.
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let escalated = json!({"sub": user_id, "roles": ["ADMIN_ROLE"], "iat": now, "exp": now + 600});
    parts[1] = URL_SAFE_NO_PAD.encode(escalated.to_string());
    let tampered = parts.join(".");
    expect_error(t.get("/api/auth/all", Some(&tampered)).await, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // Signed with another secret.
    let foreign =
        forge("another-secret-another-secret-another", json!({"sub": user_id, "roles": ["ADMIN_ROLE"], "iat": now, "exp": now + 600}));
    expect_error(t.get("/api/auth", Some(&foreign)).await, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // alg=none.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(escalated.to_string()));
    expect_error(t.get("/api/auth", Some(&unsigned)).await, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // Correctly signed but expired a minute ago.
    let expired = forge(JWT_SECRET, json!({"sub": user_id, "roles": ["USER_ROLE"], "iat": now - 1000, "exp": now - 60}));
    expect_error(t.get("/api/auth", Some(&expired)).await, StatusCode::UNAUTHORIZED, "token_expired").await;

    // Correctly signed and valid: accepted (the forging itself is sound).
    let valid = forge(JWT_SECRET, json!({"sub": user_id, "roles": ["USER_ROLE"], "iat": now, "exp": now + 60}));
    assert_eq!(t.get("/api/auth", Some(&valid)).await.status(), StatusCode::OK);

    expect_error(t.get("/api/auth", Some("not.a.jwt")).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn token_of_a_deleted_user_is_refused() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let reg = t.register("Ana", "ana@example.com", "secreto1").await;
    let id = reg["user"]["id"].as_str().unwrap();
    let res = t.request(reqwest::Method::DELETE, &format!("/api/auth/{id}"), None, Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    expect_error(t.get("/api/auth", reg["token"].as_str()).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let refresh = t.post("/api/auth/refresh", &json!({"refreshToken": reg["refreshToken"]})).await;
    expect_error(refresh, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn access_tokens_follow_the_user() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let reg = t.register("Ana", "ana@example.com", "secreto1").await;
    let id = reg["user"]["id"].as_str().unwrap().to_string();
    let first = reg["token"].as_str().unwrap().to_string();

    // Made admin, then demoted: the token issued while admin stops opening admin routes at once.
    let promote = json!({"role": ["ADMIN_ROLE", "USER_ROLE"]});
    let path = format!("/api/auth/{id}");
    assert_eq!(t.request(reqwest::Method::PUT, &path, Some(&promote), Some(&admin)).await.status(), StatusCode::OK);
    expect_error(t.get("/api/auth", Some(&first)).await, StatusCode::UNAUTHORIZED, "token_revoked").await;
    let as_admin = t.login("ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    assert_eq!(t.get("/api/auth/all", Some(&as_admin)).await.status(), StatusCode::OK);
    let demote = json!({"role": ["USER_ROLE"]});
    assert_eq!(t.request(reqwest::Method::PUT, &path, Some(&demote), Some(&admin)).await.status(), StatusCode::OK);
    expect_error(t.get("/api/auth/all", Some(&as_admin)).await, StatusCode::UNAUTHORIZED, "token_revoked").await;
    // A name change revokes nothing.
    let session = t.login("ana@example.com", "secreto1").await;
    let token = session["token"].as_str().unwrap().to_string();
    assert_eq!(t.request(reqwest::Method::PUT, &path, Some(&json!({"name": "Ana María"})), Some(&admin)).await.status(), StatusCode::OK);
    assert_eq!(t.get("/api/auth", Some(&token)).await.status(), StatusCode::OK);

    // Logging out ends access tokens too, not only the refresh token.
    let other_device = t.login("ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    assert_eq!(t.post("/api/auth/logout", &json!({"refreshToken": session["refreshToken"]})).await.status(), StatusCode::OK);
    for stale in [&token, &other_device] {
        expect_error(t.get("/api/auth", Some(stale)).await, StatusCode::UNAUTHORIZED, "token_revoked").await;
    }
    // Logging out again with the spent refresh token revokes nobody's new session.
    let fresh = t.login("ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    assert_eq!(t.post("/api/auth/logout", &json!({"refreshToken": session["refreshToken"]})).await.status(), StatusCode::OK);
    assert_eq!(t.get("/api/auth", Some(&fresh)).await.status(), StatusCode::OK);

    // A password change ends every access token, the changer's included.
    let change = json!({"currentPassword": "secreto1", "newPassword": "secreto2"});
    assert_eq!(t.request(reqwest::Method::PUT, "/api/auth/profile", Some(&change), Some(&fresh)).await.status(), StatusCode::OK);
    expect_error(t.get("/api/auth", Some(&fresh)).await, StatusCode::UNAUTHORIZED, "token_revoked").await;
    let after = t.login("ana@example.com", "secreto2").await["token"].as_str().unwrap().to_string();
    assert_eq!(t.get("/api/auth", Some(&after)).await.status(), StatusCode::OK);
}

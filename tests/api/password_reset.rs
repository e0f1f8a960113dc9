//! Forgotten password end to end, with the email caught by an SMTP server in the test.

use reqwest::StatusCode;
use serde_json::json;

use crate::fake_smtp::FakeSmtp;
use crate::harness::{TestApp, expect_error, expect_status, wait_for_state};

const SAME_MESSAGE: &str = "Si el email está registrado, recibirás un enlace de recuperación";

fn token_from(email_text: &str) -> String {
    let start = email_text.find("reset-password?token=").expect("link in email") + "reset-password?token=".len();
    email_text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[tokio::test]
async fn reset_by_emailed_link() {
    let smtp = FakeSmtp::start(0).await;
    let t = TestApp::with(|s| s.extend(smtp.settings())).await;
    let reg = t.register("Ana", "ana@example.com", "secreto1").await;

    let unknown = t.post("/api/auth/forgot-password", &json!({"email": "nadie@example.com"})).await;
    assert_eq!(expect_status(unknown, StatusCode::OK).await["message"], SAME_MESSAGE);
    let known = t.post("/api/auth/forgot-password", &json!({"email": "ANA@example.com"})).await;
    assert_eq!(expect_status(known, StatusCode::OK).await["message"], SAME_MESSAGE);

    let mail = smtp.wait_for(1).await;
    assert_eq!(mail.len(), 1, "only the registered address gets mail");
    assert_eq!(mail[0].to, ["ana@example.com"]);
    assert_eq!(mail[0].from, "<tienda@feria.test>");
    let text = mail[0].decoded();
    assert!(text.contains("multipart/alternative"), "text and HTML parts");
    assert!(text.contains("text/html") && text.contains("text/plain"));
    assert!(text.contains("Hola Ana"));
    assert!(text.contains("http://shop.test/reset-password?token="));
    let token = token_from(&text);
    assert!(token.len() >= 40, "token {token}");

    // The token is not stored in clear anywhere.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM password_resets").fetch_all(t.app.db.reader()).await.unwrap();
    assert!(!stored.contains(&token));
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM jobs").fetch_all(t.app.db.reader()).await.unwrap();
    assert!(payloads.iter().all(|p| !p.contains(&token)), "job payloads name ids only");
    let events: Vec<String> = sqlx::query_scalar("SELECT data FROM notification_events").fetch_all(t.app.db.reader()).await.unwrap();
    assert!(events.len() == 1 && !events[0].contains(&token), "the event's data is sealed");

    let short = t.post("/api/auth/reset-password", &json!({"token": token, "password": "123"})).await;
    expect_error(short, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let ok = t.post("/api/auth/reset-password", &json!({"token": token, "password": "nueva-clave"})).await;
    assert_eq!(expect_status(ok, StatusCode::OK).await["message"], "Contraseña actualizada exitosamente");

    t.login("ana@example.com", "nueva-clave").await;
    let old = t.post("/api/auth/login", &json!({"email": "ana@example.com", "password": "secreto1"})).await;
    expect_error(old, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let sessions = t.post("/api/auth/refresh", &json!({"refreshToken": reg["refreshToken"]})).await;
    expect_error(sessions, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

    let reused = t.post("/api/auth/reset-password", &json!({"token": token, "password": "otra-clave"})).await;
    expect_error(reused, StatusCode::BAD_REQUEST, "invalid_reset_token").await;
    let forged = t.post("/api/auth/reset-password", &json!({"token": "made-up", "password": "otra-clave"})).await;
    expect_error(forged, StatusCode::BAD_REQUEST, "invalid_reset_token").await;
}

#[tokio::test]
async fn expired_reset_token_is_refused() {
    let smtp = FakeSmtp::start(0).await;
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        s.insert("PASSWORD_RESET_TTL".into(), "1s".into());
    })
    .await;
    t.register("Ana", "ana@example.com", "secreto1").await;
    expect_status(t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await, StatusCode::OK).await;
    let token = token_from(&smtp.wait_for(1).await[0].decoded());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = t.post("/api/auth/reset-password", &json!({"token": token, "password": "nueva-clave"})).await;
    expect_error(res, StatusCode::BAD_REQUEST, "invalid_reset_token").await;
    t.login("ana@example.com", "secreto1").await;
}

#[tokio::test]
async fn forgot_password_without_email_configured_still_answers_and_sends_nothing() {
    let t = TestApp::spawn().await;
    t.register("Ana", "ana@example.com", "secreto1").await;
    let res = t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await;
    assert_eq!(expect_status(res, StatusCode::OK).await["message"], SAME_MESSAGE);
    let job = wait_for_state(&t, feria_jobs::JobState::Done).await;
    assert_eq!(job.kind, "notify_fanout");
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_messages").fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(messages, 0, "no email provider, no message");
}

//! Cross-cutting HTTP behaviour: request ids, security headers, CORS, gzip, graceful shutdown.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn request_id_and_security_headers() {
    let t = TestApp::spawn().await;
    let res = t.get("/api/health", None).await;
    let h = res.headers();
    let id = h.get("x-request-id").expect("generated request id").to_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h.get("strict-transport-security").is_none(), "HSTS only in production");
    let echoed = t.client.get(t.url("/api/health")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn production_adds_hsts() {
    let t = TestApp::with(|s| {
        s.insert("FERIA_ENV".into(), "production".into());
    })
    .await;
    let res = t.get("/api/health", None).await;
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let t = TestApp::with(|s| {
        s.insert("CORS_ORIGIN".into(), "https://tienda.test,https://admin.tienda.test".into());
    })
    .await;
    let preflight = |origin: &'static str| {
        t.client
            .request(reqwest::Method::OPTIONS, t.url("/api/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization")
            .send()
    };
    let ok = preflight("https://tienda.test").await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://tienda.test");
    assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let other = preflight("https://evil.test").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let t = TestApp::spawn().await;
    let res = t.client.get(t.url("/api/openapi.json")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let plain = t.client.get(t.url("/api/openapi.json")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Expensive hashing keeps the registration in flight for about a second.
    let mut t = TestApp::with(|s| {
        s.insert("ARGON2_MEMORY_KIB".into(), "131072".into());
        s.insert("ARGON2_ITERATIONS".into(), "8".into());
    })
    .await;
    let body = json!({"name": "Ana", "email": "ana@example.com", "password": "secreto1"}).to_string();
    let request = format!(
        "POST /api/auth/register HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(t.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    // Give the server time to accept the connection and start hashing, then ask it to stop.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let server = t.begin_shutdown();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "in-flight request completed: {response}");
    server.await.unwrap().expect("clean stop");
    assert!(t.client.get(t.url("/api/health")).send().await.is_err(), "no longer accepting");
}

//! Order notifications: the shop's email and Telegram message and the customer's emails, queued
//! with the order and delivered by the jobs runner; a failing channel retries and never
//! affects the order.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_smtp::FakeSmtp;
use crate::fake_telegram::FakeTelegram;
use crate::harness::{TestApp, expect_status};

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn placing_and_moving_an_order_notifies_the_shop_and_the_customer() {
    let smtp = FakeSmtp::start(0).await;
    let telegram = FakeTelegram::start().await;
    telegram.fail_next(1);
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        s.extend(telegram.settings("-1001234567890"));
        s.insert("EMAIL_TO".into(), "pedidos@feria.test".into());
    })
    .await;
    let admin = t.admin_token().await;
    let post = |path: &'static str, body: Value| {
        let admin = admin.clone();
        let t = &t;
        async move { expect_status(t.request(Method::POST, path, Some(&body), Some(&admin)).await, StatusCode::CREATED).await }
    };
    let category = post("/api/categories", json!({"name": "Carnes", "description": "x"})).await;
    let unit = post("/api/units", json!({"name": "Kilo", "description": "x"})).await;
    let product = post(
        "/api/products",
        json!({"name": "Bife <ancho>", "description": "x", "price": "100", "stock": 5, "category": category["id"], "unit": unit["id"]}),
    )
    .await;
    let order = json!({
        "items": [{"productId": product["id"], "quantity": 2}],
        "customerData": {"name": "Carla", "email": "carla@example.com"},
        "shippingAddress": {"street": "Av. Santa Fe", "number": "1234", "neighborhood": "Palermo", "city": "CABA"}
    });
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), None).await, StatusCode::CREATED).await;
    let number = placed["order"]["orderNumber"].as_str().unwrap().to_string();

    wait_until("two emails", || smtp.messages.try_lock().map(|m| m.len() >= 2).unwrap_or(false)).await;
    wait_until("the Telegram message", || !telegram.messages().is_empty()).await;
    let emails = smtp.messages.lock().await.clone();
    let shop = emails.iter().find(|m| m.to == ["pedidos@feria.test"]).expect("the shop's email");
    let shop_text = shop.decoded();
    assert!(shop_text.contains(&format!("Nuevo pedido {number}")) && shop_text.contains("ARS 242"), "{shop_text}");
    assert!(shop_text.contains("Bife &lt;ancho&gt;"), "names are escaped in HTML");
    assert!(shop_text.contains("Av. Santa Fe 1234, Palermo, CABA"));
    let customer = emails.iter().find(|m| m.to == ["carla@example.com"]).expect("the customer's confirmation");
    assert!(customer.decoded().contains(&format!("Recibimos tu pedido {number}")));

    let message = &telegram.messages()[0];
    assert_eq!((message["chat_id"].as_str(), message["parse_mode"].as_str()), (Some("-1001234567890"), Some("HTML")));
    let text = message["text"].as_str().unwrap();
    assert!(text.contains(&number) && text.contains("2 × Bife &lt;ancho&gt;") && text.contains("ARS 242"), "{text}");
    // The message is recorded sent once Telegram's answer is back (a moment after it got it).
    let mut recorded = (0, String::new());
    for _ in 0..200 {
        recorded = sqlx::query_as("SELECT attempts, status FROM notification_messages WHERE channel = 'telegram'")
            .fetch_one(t.app.db.reader())
            .await
            .unwrap();
        if recorded.1 == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!((recorded.0, recorded.1.as_str()), (2, "sent"), "the 429 was retried");
    let tries: Vec<String> = sqlx::query_scalar(
        "SELECT a.outcome FROM notification_attempts a JOIN notification_messages m ON m.id = a.message_id
         WHERE m.channel = 'telegram' ORDER BY a.created_at, a.id",
    )
    .fetch_all(t.app.db.reader())
    .await
    .unwrap();
    assert_eq!(tries, ["retry", "sent"], "every try is logged");

    // A status change emails the customer.
    let path = format!("/api/sales/{}/status", placed["order"]["id"].as_str().unwrap());
    expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": "CONFIRMED"})), Some(&admin)).await, StatusCode::OK).await;
    let to_carla = || smtp.messages.try_lock().map(|m| m.iter().filter(|m| m.to == ["carla@example.com"]).count()).unwrap_or(0);
    wait_until("the status email", || to_carla() >= 2).await;
    let last = smtp.messages.lock().await.iter().rfind(|m| m.to == ["carla@example.com"]).unwrap().clone();
    assert!(last.decoded().contains("ahora est") && last.decoded().contains("Confirmado"));
}

#[tokio::test]
async fn a_channel_that_keeps_failing_never_affects_the_order() {
    let telegram = FakeTelegram::start().await;
    telegram.fail_next(1000);
    let t = TestApp::with(|s| {
        s.extend(telegram.settings("42"));
        s.insert("NOTIFICATION_CHANNELS".into(), "telegram".into());
        s.insert("JOB_MAX_ATTEMPTS".into(), "2".into());
    })
    .await;
    let admin = t.admin_token().await;
    let category = expect_status(
        t.request(Method::POST, "/api/categories", Some(&json!({"name": "Carnes", "description": "x"})), Some(&admin)).await,
        StatusCode::CREATED,
    )
    .await;
    let unit = expect_status(
        t.request(Method::POST, "/api/units", Some(&json!({"name": "Kilo", "description": "x"})), Some(&admin)).await,
        StatusCode::CREATED,
    )
    .await;
    let body = json!({"name": "Entraña", "description": "x", "price": "90", "stock": 3, "category": category["id"], "unit": unit["id"]});
    let product = expect_status(t.request(Method::POST, "/api/products", Some(&body), Some(&admin)).await, StatusCode::CREATED).await;
    let order = json!({
        "items": [{"productId": product["id"], "quantity": 1}],
        "customerData": {"name": "Carla", "email": "carla@example.com"},
        "shippingAddress": {"street": "Gorriti", "number": "1", "neighborhood": "Palermo", "city": "CABA"}
    });
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), None).await, StatusCode::CREATED).await;
    let job = crate::harness::wait_for_job(&t, "notify_deliver", feria_jobs::JobState::Dead).await;
    assert_eq!(job.attempts, 2, "only Telegram is on: one delivery, retried, then dead");
    assert!(job.last_error.unwrap().contains("429"));
    let (channel, status, code): (String, String, String) =
        sqlx::query_as("SELECT channel, status, error_code FROM notification_messages WHERE channel <> 'in_app'")
            .fetch_one(t.app.db.reader())
            .await
            .unwrap();
    assert_eq!((channel.as_str(), status.as_str(), code.as_str()), ("telegram", "failed", "attempts_exhausted"));
    let kept =
        expect_status(t.get(&format!("/api/sales/{}", placed["order"]["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(kept["status"], "PENDING", "the order is untouched");
}

//! Pushes: devices registered and validated, a buyer's app (FCM) and browser (web push, checked
//! and decrypted by a fake push service) told of their order, gone devices forgotten, and the
//! owner's payment alert falling back from an app that is gone to the browser.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_fcm::{self, FakeFcm};
use crate::fake_webpush::FakeWebPush;
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

async fn app(fcm: &FakeFcm) -> TestApp {
    let account = fcm.service_account(fake_fcm::KEY_PEM);
    let url = fcm.url.clone();
    TestApp::with(move |s| {
        s.insert("FIREBASE_SERVICE_ACCOUNT_KEY".into(), account);
        s.insert("FCM_API_URL".into(), url);
    })
    .await
}

async fn register(t: &TestApp, token: &str, body: Value) -> Value {
    expect_status(t.request(Method::POST, "/api/notifications/devices", Some(&body), Some(token)).await, StatusCode::CREATED).await
}

async fn wait(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_buyers_app_and_browser_hear_of_the_order_and_gone_devices_are_forgotten() {
    let fcm = FakeFcm::start().await;
    let push = FakeWebPush::start().await;
    let t = app(&fcm).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();

    let key = expect_status(t.get("/api/notifications/web-push/key", None).await, StatusCode::OK).await;
    assert_eq!(key["publicKey"].as_str().map(str::len), Some(87), "an uncompressed P-256 key, base64url");
    for (body, field) in [
        (json!({"type": "pigeon"}), "type"),
        (json!({"type": "fcm", "token": "short"}), "token"),
        (json!({"type": "web_push"}), "subscription"),
        (
            json!({"type": "web_push", "subscription": {"endpoint": "ftp://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}}),
            "subscription.endpoint",
        ),
    ] {
        let refused = t.request(Method::POST, "/api/notifications/devices", Some(&body), Some(&ana)).await;
        let refused = expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(refused["details"][0]["field"], field, "{body}");
    }
    let app_device = register(&t, &ana, json!({"type": "fcm", "token": "ana-phone-token-0001", "name": "Teléfono"})).await;
    assert_eq!((app_device["type"].as_str(), app_device["label"].as_str()), (Some("fcm"), Some("…n-0001")));
    let browser = register(&t, &ana, json!({"type": "web_push", "subscription": push.subscribe("ana-browser")})).await;
    let listed = expect_status(t.get("/api/notifications/devices", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(listed["devices"].as_array().unwrap().len(), 2);
    let beto = t.register("Beto", "beto@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let theirs =
        t.request(Method::DELETE, &format!("/api/notifications/devices/{}", browser["id"].as_str().unwrap()), None, Some(&beto)).await;
    expect_error(theirs, StatusCode::NOT_FOUND, "not_found").await;

    let order = json!({
        "items": [{"productId": ids[0], "quantity": 1}],
        "shippingAddress": {"street": "Gorriti", "number": "4500", "neighborhood": "Palermo", "city": "CABA"}
    });
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&ana)).await, StatusCode::CREATED).await;
    let number = placed["order"]["orderNumber"].as_str().unwrap().to_string();
    wait("the app's push", || !fcm.sent().is_empty()).await;
    wait("the browser's push", || !push.received().is_empty()).await;
    let sent = &fcm.sent()[0]["message"];
    assert_eq!(
        (sent["token"].as_str(), sent["notification"]["title"].as_str()),
        (Some("ana-phone-token-0001"), Some(format!("Recibimos tu pedido {number}").as_str()))
    );
    assert_eq!(sent["data"]["kind"], "order_placed");
    let received = &push.received()[0];
    assert_eq!(received["payload"]["title"], format!("Recibimos tu pedido {number}"), "decrypted with the browser's keys");
    assert_eq!((received["audience"].as_str(), received["urgency"].as_str()), (Some(push.url.as_str()), Some("high")));

    // The app was uninstalled and the browser unsubscribed: both are forgotten at the next push.
    fcm.refuse_next(StatusCode::NOT_FOUND, Some("UNREGISTERED"), None);
    push.answer_next(StatusCode::GONE);
    let path = format!("/api/sales/{}/status", placed["order"]["id"].as_str().unwrap());
    expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": "CONFIRMED"})), Some(&admin)).await, StatusCode::OK).await;
    for _ in 0..200 {
        let left = expect_status(t.get("/api/notifications/devices", Some(&ana)).await, StatusCode::OK).await;
        if left["devices"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let left = expect_status(t.get("/api/notifications/devices", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(left["devices"], json!([]), "gone devices are forgotten");
    let failed =
        sqlx::query_scalar::<_, String>("SELECT error_code FROM notification_messages WHERE channel = 'push' AND status = 'failed'")
            .fetch_one(t.app.db.reader())
            .await
            .unwrap();
    assert_eq!(failed, "gone");
}

/// feria with push set up, its admin (the owner) with an app on their phone and a browser on
/// their laptop, and a product.
async fn owner_with_a_phone_and_a_laptop() -> (FakeFcm, FakeWebPush, TestApp, String, Vec<String>) {
    let fcm = FakeFcm::start().await;
    let push = FakeWebPush::start().await;
    let t = app(&fcm).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    register(&t, &admin, json!({"type": "fcm", "token": "owner-phone-token-0001"})).await;
    register(&t, &admin, json!({"type": "web_push", "subscription": push.subscribe("owner-laptop")})).await;
    (fcm, push, t, admin, ids)
}

/// A guest orders one unit of `product` to pay in cash, and the admin records the payment.
async fn pay_an_order(t: &TestApp, admin: &str, product: &str) {
    let mut body = guest_order(json!([{"productId": product, "quantity": 1}]), "carla@example.com");
    body["paymentMethodCode"] = json!("CASH");
    let order = expect_status(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CREATED).await["order"].clone();
    let path = format!("/api/payments/{}/confirm-manual", order["id"].as_str().unwrap());
    let paid = json!({"amount": order["total"], "reference": "Recibo 1"});
    expect_status(t.request(Method::POST, &path, Some(&paid), Some(admin)).await, StatusCode::CREATED).await;
}

#[tokio::test]
async fn the_owners_payment_alert_falls_back_from_a_gone_app_to_the_browser() {
    let (fcm, push, t, admin, ids) = owner_with_a_phone_and_a_laptop().await;
    fcm.refuse_next(StatusCode::NOT_FOUND, Some("UNREGISTERED"), None);

    pay_an_order(&t, &admin, &ids[0]).await;

    wait("the browser's alert", || push.received().iter().any(|p| p["payload"]["data"]["kind"] == "order_paid")).await;
    let alert = push.received().into_iter().find(|p| p["payload"]["data"]["kind"] == "order_paid").unwrap();
    assert!(alert["payload"]["title"].as_str().unwrap().starts_with("Pago aprobado"), "{alert}");
    // The push service answered before the message's row says so: wait for the row.
    let mut steps: Vec<(String, String)> = Vec::new();
    for _ in 0..200 {
        steps = sqlx::query_as(
            "SELECT m.channel, m.status FROM notification_messages m JOIN notifications n ON n.id = m.notification_id
             WHERE n.kind = 'order_paid' AND m.channel IN ('push', 'web_push') ORDER BY m.created_at, m.id",
        )
        .fetch_all(t.app.db.reader())
        .await
        .unwrap();
        if steps.last().is_some_and(|(_, status)| status == "sent") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        steps,
        [("push".to_string(), "failed".to_string()), ("web_push".to_string(), "sent".to_string())],
        "push first, then the next channel"
    );
}

#[tokio::test]
async fn the_owners_alert_goes_in_the_order_the_owner_set() {
    let (fcm, push, t, admin, ids) = owner_with_a_phone_and_a_laptop().await;
    let order = json!({"channels": ["web_push", "push"]});
    let set = t.request(Method::PUT, "/api/notifications/workflows/order_paid/staff_alert", Some(&order), Some(&admin)).await;
    expect_status(set, StatusCode::OK).await;

    pay_an_order(&t, &admin, &ids[0]).await;
    wait("the browser's alert", || push.received().iter().any(|p| p["payload"]["data"]["kind"] == "order_paid")).await;
    crate::harness::wait_for_jobs_idle(&t).await;
    assert!(fcm.sent().is_empty(), "the browser took it first; the phone was not needed");
}

//! Delivery: SMTP falling back to SendGrid, SendGrid's signed events moving messages forward
//! only, text messages by Twilio with signed status callbacks, the store's delivery log with its
//! filters and tenant boundary, and retrying a failed message.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_sendgrid::{self, EventSigner, FakeSendGrid};
use crate::fake_smtp::FakeSmtp;
use crate::fake_twilio::{self, FakeTwilio};
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

async fn deliveries(t: &TestApp, token: &str, query: &str) -> Value {
    expect_status(t.get(&format!("/api/notifications/deliveries{query}"), Some(token)).await, StatusCode::OK).await
}

/// Waits until the log has `n` messages matching `query` (a query string with `&`s).
async fn wait_for_log(t: &TestApp, token: &str, query: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let page = deliveries(t, token, &format!("?limit=100&{query}")).await;
        let found = page["deliveries"].as_array().unwrap().clone();
        if found.len() == n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the log never had {n} messages for {query}: {}", deliveries(t, token, "?limit=100").await);
}

async fn post_events(t: &TestApp, signer: &EventSigner, events: &Value, age: i64) -> reqwest::Response {
    let body = events.to_string();
    let timestamp = (chrono::Utc::now().timestamp() - age).to_string();
    let signature = signer.sign(&timestamp, body.as_bytes());
    reqwest::Client::new()
        .post(format!("{}/api/webhooks/sendgrid", t.base))
        .header("content-type", "application/json")
        .header("x-twilio-email-event-webhook-timestamp", &timestamp)
        .header("x-twilio-email-event-webhook-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn email_falls_back_to_sendgrid_whose_events_only_move_forward_and_failures_are_retried() {
    let smtp = FakeSmtp::start(1000).await;
    let sendgrid = FakeSendGrid::start().await;
    let signer = EventSigner::new();
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        for (k, v) in [
            ("SENDGRID_API_KEY", fake_sendgrid::API_KEY),
            ("SENDGRID_FROM_EMAIL", "tienda@feria.test"),
            ("SENDGRID_API_URL", sendgrid.url.as_str()),
            ("SENDGRID_WEBHOOK_PUBLIC_KEY", signer.public_key.as_str()),
            ("EMAIL_TO", "pedidos@feria.test"),
        ] {
            s.insert(k.into(), v.into());
        }
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    expect_status(
        t.post("/api/sales", &guest_order(json!([{"productId": ids[0], "quantity": 1}]), "carla@example.com")).await,
        StatusCode::CREATED,
    )
    .await;

    // SMTP answers 451 to everything: SendGrid takes both emails, each tagged with its message.
    let sent = wait_for_log(&t, &admin, "channel=email&status=sent", 2).await;
    assert!(
        sent.iter().all(|d| d["provider"] == "sendgrid" && d["providerMessageId"].as_str().is_some_and(|id| id.starts_with("fake-sg-")))
    );
    let bodies = sendgrid.sent();
    let tagged: Vec<&str> = bodies.iter().map(|b| b["custom_args"]["feria_message_id"].as_str().unwrap()).collect();
    assert!(sent.iter().all(|d| tagged.contains(&d["id"].as_str().unwrap())));
    let customer = sent.iter().find(|d| d["address"] == "carla@example.com").unwrap();
    let customer_body = bodies.iter().find(|b| b["custom_args"]["feria_message_id"] == customer["id"]).unwrap();
    assert!(customer_body["headers"]["List-Unsubscribe"].as_str().is_some_and(|h| h.contains("/notifications/unsubscribe?token=")));
    let id = customer["id"].as_str().unwrap();

    // Signed events move it forward; a late "processed" does not undo "delivered".
    let events = json!([
        {"event": "delivered", "feria_message_id": id, "email": "carla@example.com"},
        {"event": "processed", "feria_message_id": id},
        {"event": "delivered", "feria_message_id": "unknown-message"},
    ]);
    assert_eq!(expect_status(post_events(&t, &signer, &events, 0).await, StatusCode::OK).await["applied"], 1);
    let detail = expect_status(t.get(&format!("/api/notifications/deliveries/{id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(detail["delivery"]["status"], "delivered");
    assert_eq!(detail["attempts"][0]["provider"], "sendgrid");

    // Unsigned, forged or stale events change nothing.
    let bounce = json!([{"event": "bounce", "feria_message_id": id}]);
    let unsigned = t.request(Method::POST, "/api/webhooks/sendgrid", Some(&bounce), None).await;
    expect_error(unsigned, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    expect_error(post_events(&t, &EventSigner::new(), &bounce, 0).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    expect_error(post_events(&t, &signer, &bounce, 900).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    assert_eq!(deliveries(&t, &admin, "?status=delivered&channel=email").await["pagination"]["total"], 1);
    let garbage = expect_error(post_events(&t, &signer, &json!({"not": "a list"}), 0).await, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(garbage["error"].as_str().is_some());

    // A bounce after delivery is news; a failed message is sent again on request.
    expect_status(post_events(&t, &signer, &bounce, 0).await, StatusCode::OK).await;
    assert_eq!(deliveries(&t, &admin, "?status=bounced").await["deliveries"][0]["id"], id);
    let retried = expect_status(
        t.request(Method::POST, &format!("/api/notifications/deliveries/{id}/retry"), None, Some(&admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((retried["status"].as_str(), retried["attempts"].as_i64()), (Some("queued"), Some(0)));
    wait_for_log(&t, &admin, "status=sent&address=carla@example.com", 1).await;
    assert_eq!(sendgrid.sent().len(), 3, "sent again once");
    let again = t.request(Method::POST, &format!("/api/notifications/deliveries/{id}/retry"), None, Some(&admin)).await;
    expect_error(again, StatusCode::CONFLICT, "not_retryable").await;

    // Filters are checked; another store's staff and buyers see nothing of this store's log.
    for bad in ["?status=lost", "?channel=fax", "?from=yesterday"] {
        expect_error(
            t.get(&format!("/api/notifications/deliveries{bad}"), Some(&admin)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let owner = t.register("Otro", "otro@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_status(
        t.request(
            Method::POST,
            "/api/stores",
            Some(&json!({"name": "Otra tienda", "slug": "otra", "currency": "ARS", "country": "AR"})),
            Some(&owner),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let owner = t.login("otro@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    assert_eq!(
        expect_status(t.get("/api/stores/otra/notifications/deliveries", Some(&owner)).await, StatusCode::OK).await["pagination"]["total"],
        0
    );
    expect_error(t.get("/api/notifications/deliveries", Some(&owner)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let elsewhere = t.get(&format!("/api/stores/otra/notifications/deliveries/{id}"), Some(&owner)).await;
    expect_error(elsewhere, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_buyer_who_chose_text_messages_gets_them_and_twilio_reports_only_with_a_good_signature() {
    let twilio = FakeTwilio::start().await;
    let t = TestApp::with(|s| {
        s.extend(twilio.settings());
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let choice = json!({"phone": "+54 9 11 5555-0001", "categories": {"orders": {"sms": true}}});
    expect_status(t.request(Method::PUT, "/api/notifications/preferences", Some(&choice), Some(&ana)).await, StatusCode::OK).await;
    // A guest who gave a phone did not opt in: no text for them.
    expect_status(
        t.post("/api/sales", &guest_order(json!([{"productId": ids[0], "quantity": 1}]), "carla@example.com")).await,
        StatusCode::CREATED,
    )
    .await;
    let order = json!({
        "items": [{"productId": ids[0], "quantity": 1}],
        "shippingAddress": {"street": "Gorriti", "number": "4500", "neighborhood": "Palermo", "city": "CABA"}
    });
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&ana)).await, StatusCode::CREATED).await;
    let number = placed["order"]["orderNumber"].as_str().unwrap();

    let sent = wait_for_log(&t, &admin, "channel=sms&status=sent", 1).await;
    let forms = twilio.sent();
    assert_eq!(forms.len(), 1, "only Ana opted in");
    let field = |name: &str| forms[0].iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(field("To"), "+54 9 11 5555-0001");
    assert!(field("Body").contains(number), "{}", field("Body"));
    let id = sent[0]["id"].as_str().unwrap();
    let sid = sent[0]["providerMessageId"].as_str().unwrap().to_string();
    assert_eq!(field("StatusCallback"), format!("{}/api/webhooks/twilio/status?m={id}", t.app.config.payments.public_url));

    // Twilio's callbacks: signed over feria's URL and the sorted parameters.
    let callback = |status: &str, token: &str| {
        let params = vec![("MessageSid".to_string(), sid.clone()), ("MessageStatus".to_string(), status.to_string())];
        let url = format!("{}/api/webhooks/twilio/status?m={id}", t.app.config.payments.public_url);
        let signature = feria_providers::twilio::signature(token, &url, &params);
        let client = reqwest::Client::new();
        let request =
            client.post(format!("{}/api/webhooks/twilio/status?m={id}", t.base)).header("x-twilio-signature", signature).form(&params);
        async move { request.send().await.unwrap() }
    };
    expect_error(callback("delivered", "wrong-token").await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let unmoved = deliveries(&t, &admin, &format!("?notificationId={}", sent[0]["notificationId"].as_str().unwrap())).await;
    assert_eq!(unmoved["deliveries"][0]["status"], "sent", "a forged report changes nothing");
    assert_eq!(expect_status(callback("delivered", fake_twilio::AUTH_TOKEN).await, StatusCode::OK).await["applied"], 1);
    assert_eq!(expect_status(callback("sent", fake_twilio::AUTH_TOKEN).await, StatusCode::OK).await["applied"], 0, "late and out of order");
    let detail = expect_status(t.get(&format!("/api/notifications/deliveries/{id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(detail["delivery"]["status"], "delivered");
}

#[tokio::test]
async fn in_quiet_hours_a_text_message_waits_for_their_end_while_the_inbox_does_not() {
    let twilio = FakeTwilio::start().await;
    let t = TestApp::with(|s| {
        s.extend(twilio.settings());
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let now = chrono::Utc::now();
    let clock = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M").to_string();
    let (start, end) = (now - chrono::TimeDelta::hours(1), now + chrono::TimeDelta::hours(1));
    let choice = json!({
        "phone": "+54 9 11 5555-0001", "timezone": "UTC",
        "quietHours": {"start": clock(start), "end": clock(end)},
        "categories": {"orders": {"sms": true}}
    });
    expect_status(t.request(Method::PUT, "/api/notifications/preferences", Some(&choice), Some(&ana)).await, StatusCode::OK).await;
    let order = json!({
        "items": [{"productId": ids[0], "quantity": 1}],
        "shippingAddress": {"street": "Gorriti", "number": "4500", "neighborhood": "Palermo", "city": "CABA"}
    });
    expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&ana)).await, StatusCode::CREATED).await;

    let queued = wait_for_log(&t, &admin, "channel=sms", 1).await;
    assert_eq!(queued[0]["status"], "queued");
    let run_at: String = sqlx::query_scalar("SELECT run_at FROM jobs WHERE kind = 'notify_deliver' AND payload LIKE $1")
        .bind(format!("%{}%", queued[0]["id"].as_str().unwrap()))
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    let run_at = feria_domain::time::from_db(&run_at).unwrap();
    let window_end = end
        .date_naive()
        .and_hms_opt(end.format("%H").to_string().parse().unwrap(), end.format("%M").to_string().parse().unwrap(), 0)
        .unwrap()
        .and_utc();
    assert_eq!(run_at, window_end, "it waits for the end of her quiet hours");
    let inbox = expect_status(t.get("/api/notifications", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(inbox["pagination"]["total"], 1, "the inbox does not wait");
    assert!(twilio.sent().is_empty());
}

//! Notification preferences: defaults, validation that changes nothing, choices that the fan-out
//! follows (language, channels per category), critical events that ignore them, and a guest's
//! unsubscribe link (confirmation page, one-click POST, `List-Unsubscribe` headers).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_smtp::FakeSmtp;
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

async fn preferences(t: &TestApp, token: &str) -> Value {
    expect_status(t.get("/api/notifications/preferences", Some(token)).await, StatusCode::OK).await
}

async fn put(t: &TestApp, token: &str, body: Value) -> reqwest::Response {
    t.request(Method::PUT, "/api/notifications/preferences", Some(&body), Some(token)).await
}

#[tokio::test]
async fn preferences_have_defaults_refuse_what_is_unknown_and_keep_what_is_chosen() {
    let t = TestApp::spawn().await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let defaults = preferences(&t, &ana).await;
    let orders = &defaults["categories"]["orders"];
    assert_eq!((orders["in_app"].as_bool(), orders["email"].as_bool(), orders["sms"].as_bool()), (Some(true), Some(true), Some(false)));
    assert_eq!(defaults["categories"]["marketing"]["email"], false, "marketing by email is opt-in");
    assert!(defaults["alwaysSent"].as_array().unwrap().iter().any(|k| k == "password_reset"));
    assert_eq!((defaults["locale"].is_null(), defaults["quietHours"].is_null()), (true, true));

    for (body, field) in [
        (json!({"categories": {"pigeons": {"email": true}}}), "categories.pigeons"),
        (json!({"categories": {"orders": {"telegram": true}}}), "categories.orders.telegram"),
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"timezone": "UTC", "quietHours": {"start": "22:00", "end": "8:00"}}), "quietHours.end"),
        (json!({"quietHours": {"start": "22:00", "end": "08:00"}}), "timezone"),
        (json!({"locale": "fr"}), "locale"),
        (json!({"phone": "call me"}), "phone"),
    ] {
        let refused = expect_error(put(&t, &ana, body.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(refused["details"][0]["field"], field, "{body}");
    }
    let mixed = json!({"locale": "en", "categories": {"orders": {"sms": true}, "nope": {}}});
    expect_error(put(&t, &ana, mixed).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(preferences(&t, &ana).await, defaults, "a refused change changes nothing");
    expect_error(put(&t, "", json!({})).await, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let chosen = json!({
        "locale": "en",
        "timezone": "America/Argentina/Buenos_Aires",
        "quietHours": {"start": "22:00", "end": "08:00"},
        "phone": "+54 11 5555-1234",
        "categories": {"orders": {"sms": true, "email": true}, "marketing": {"in_app": false}}
    });
    let now = expect_status(put(&t, &ana, chosen).await, StatusCode::OK).await;
    assert_eq!(now, preferences(&t, &ana).await);
    assert_eq!((now["locale"].as_str(), now["timezone"].as_str()), (Some("en"), Some("America/Argentina/Buenos_Aires")));
    assert_eq!(now["quietHours"], json!({"start": "22:00", "end": "08:00"}));
    assert_eq!(
        (now["categories"]["orders"]["sms"].as_bool(), now["categories"]["marketing"]["in_app"].as_bool()),
        (Some(true), Some(false))
    );
    let cleared = expect_status(put(&t, &ana, json!({"quietHours": null, "locale": null})).await, StatusCode::OK).await;
    assert_eq!(
        (cleared["quietHours"].is_null(), cleared["locale"].is_null(), cleared["phone"].as_str()),
        (true, true, Some("+54 11 5555-1234"))
    );
}

#[tokio::test]
async fn the_fan_out_follows_choices_critical_events_ignore_them_and_guests_unsubscribe() {
    let smtp = FakeSmtp::start(0).await;
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        s.insert("EMAIL_TO".into(), "pedidos@feria.test".into());
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let choice = json!({"locale": "en", "categories": {"orders": {"email": false}, "account": {"email": false}}});
    expect_status(put(&t, &ana, choice).await, StatusCode::OK).await;

    let order = json!({
        "items": [{"productId": ids[0], "quantity": 1}],
        "shippingAddress": {"street": "Gorriti", "number": "4500", "neighborhood": "Palermo", "city": "CABA"}
    });
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&ana)).await, StatusCode::CREATED).await;
    let number = placed["order"]["orderNumber"].as_str().unwrap();
    let shop = smtp.wait_for(1).await;
    assert_eq!(shop[0].to, ["pedidos@feria.test"]);
    for _ in 0..100 {
        let inbox = expect_status(t.get("/api/notifications", Some(&ana)).await, StatusCode::OK).await;
        if inbox["pagination"]["total"] == 1 {
            assert_eq!(inbox["notifications"][0]["title"], format!("We received your order {number}"), "in her language");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    crate::harness::wait_for_job(&t, "notify_fanout", feria_jobs::JobState::Done).await;
    let to_ana: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_messages WHERE address = 'ana@example.com'")
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    assert_eq!(to_ana, 0, "she turned order emails off");

    // A password reset is critical: it reaches her although she turned account emails off.
    expect_status(t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await, StatusCode::OK).await;
    let mail = smtp.wait_for(2).await;
    assert!(mail.iter().any(|m| m.to == ["ana@example.com"] && m.decoded().contains("Reset your password")));
    assert!(mail.iter().all(|m| !(m.to == ["ana@example.com"] && m.data.contains("List-Unsubscribe"))), "critical: no unsubscribe");

    // A guest's confirmation carries the unsubscribe link and the one-click headers.
    let guest = json!([{"productId": ids[0], "quantity": 1}]);
    expect_status(t.post("/api/sales", &guest_order(guest.clone(), "carla@example.com")).await, StatusCode::CREATED).await;
    let mail = smtp.wait_for(4).await;
    let confirmation = mail.iter().find(|m| m.to == ["carla@example.com"]).expect("the guest's confirmation");
    // The headers, unfolded (the body's encoding varies with its text).
    let headers = confirmation.data.split("\r\n\r\n").next().unwrap().replace("\r\n ", "").replace("\r\n\t", "");
    assert!(headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{headers}");
    let start = headers.find("/notifications/unsubscribe?token=").unwrap_or_else(|| panic!("the link: {headers}"));
    let link: String = headers[start..].chars().take_while(|c| *c != '>').collect();

    let page = t.get(&link, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.text().await.unwrap().contains("method=\"post\""), "opening the link only asks");
    let forged = t.request(Method::POST, "/notifications/unsubscribe?token=forged", None, None).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let done = t.request(Method::POST, &link, None, None).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("tus pedidos"));

    expect_status(t.post("/api/sales", &guest_order(guest, "Carla@Example.com")).await, StatusCode::CREATED).await;
    smtp.wait_for(5).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mail = smtp.messages.lock().await.clone();
    assert_eq!(mail.iter().filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case("carla@example.com"))).count(), 1, "unsubscribed");
    assert_eq!(mail.iter().filter(|m| m.to == ["pedidos@feria.test"]).count(), 3, "the shop still hears of every order");
}

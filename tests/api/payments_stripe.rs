//! Paying orders with Stripe against a fake speaking its protocol: intent in minor units,
//! signed events applied once, declined and accepted confirmations, refunds partial and whole.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_stripe::{FakeStripe, SECRET};
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

async fn app(stripe: &FakeStripe) -> TestApp {
    TestApp::with(|s| {
        s.extend(stripe.settings());
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
    })
    .await
}

/// A guest order of 267.53 (ARCHITECTURE.md's golden case) to pay by card.
async fn order(t: &TestApp, admin: &str) -> Value {
    let ids = products(t, admin, &[("Bife de chorizo", "100", "21", 10), ("Provoleta", "50", "10.5", 5)]).await;
    let coupon = json!({"code": "DIEZ", "discountType": "percentage", "discountValue": 10});
    expect_status(t.request(Method::POST, "/api/coupons", Some(&coupon), Some(admin)).await, StatusCode::CREATED).await;
    let mut body = guest_order(json!([{"productId": ids[0], "quantity": 2}, {"productId": ids[1], "quantity": 1}]), "carla@example.com");
    body["couponCode"] = json!("DIEZ");
    body["paymentMethodCode"] = json!("CREDIT_CARD");
    expect_status(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CREATED).await["order"].clone()
}

async fn status_of(t: &TestApp, admin: &str, id: &str) -> String {
    expect_status(t.get(&format!("/api/sales/{id}"), Some(admin)).await, StatusCode::OK).await["status"].as_str().unwrap().to_string()
}

async fn post_event(t: &TestApp, body: &str, signature: &str) -> reqwest::Response {
    t.client.post(t.url("/api/payments/webhook/stripe")).header("stripe-signature", signature).body(body.to_string()).send().await.unwrap()
}

#[tokio::test]
async fn an_intent_paid_in_the_browser_pays_the_order_once_then_refunds_give_it_back() {
    let stripe = FakeStripe::start().await;
    let t = app(&stripe).await;
    let admin = t.admin_token().await;
    let order = order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();

    let created =
        expect_status(t.request(Method::POST, "/api/payments/intent", Some(&json!({"saleId": order_id})), None).await, StatusCode::CREATED)
            .await;
    let intent_id = created["paymentIntentId"].as_str().unwrap().to_string();
    assert_eq!(created["clientSecret"], json!(format!("{intent_id}_secret_fake")));
    assert_eq!((created["payment"]["amount"].clone(), created["payment"]["provider"].as_str()), (json!(267.53), Some("stripe")));
    let payment_id = created["payment"]["id"].as_str().unwrap().to_string();
    let calls = stripe.calls();
    let (_, _, key, form) = calls.iter().find(|(m, p, _, _)| m == "POST" && p == "/v1/payment_intents").unwrap();
    assert_eq!((form["amount"].as_str(), form["currency"].as_str()), ("26753", "ars"), "minor units, lower-case currency");
    assert_eq!((form["metadata[order_id]"].as_str(), key.as_deref()), (order_id, Some(payment_id.as_str())));

    // The browser pays; Stripe sends the event three times at once.
    stripe.succeed(&intent_id);
    let now = chrono::Utc::now().timestamp();
    let (body, signature) = stripe.event("payment_intent.succeeded", &intent_id, now, SECRET);
    for answer in join_all((0..3).map(|_| post_event(&t, &body, &signature))).await {
        expect_status(answer, StatusCode::OK).await;
    }
    assert_eq!(status_of(&t, &admin, order_id).await, "PAID");
    let tracking = expect_status(t.get(&format!("/api/sales/{order_id}/tracking"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(tracking["history"].as_array().unwrap().iter().filter(|e| e["status"] == "PAID").count(), 1);
    let logs = expect_status(t.get("/api/webhooks?source=stripe", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(logs["pagination"]["total"], 3);
    assert_eq!(logs["webhooks"][0]["eventType"], "payment_intent.succeeded");

    // Refunds: partial, too much, the rest, then nothing left.
    let refund = |body: Value| {
        let (t, admin, path) = (&t, admin.clone(), format!("/api/payments/{payment_id}/refund"));
        async move { t.request(Method::POST, &path, Some(&body), Some(&admin)).await }
    };
    let partial = expect_status(refund(json!({"amount": 100})).await, StatusCode::OK).await;
    assert_eq!((partial["payment"]["refundedAmount"].clone(), partial["payment"]["status"].as_str()), (json!(100), Some("approved")));
    assert_eq!(status_of(&t, &admin, order_id).await, "PAID");
    let too_much = expect_error(refund(json!({"amount": 200})).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(too_much.to_string().contains("167.53"), "{too_much}");
    let rest = expect_status(refund(json!({})).await, StatusCode::OK).await;
    assert_eq!((rest["payment"]["refundedAmount"].clone(), rest["payment"]["status"].as_str()), (json!(267.53), Some("refunded")));
    assert_eq!(status_of(&t, &admin, order_id).await, "REFUNDED");
    expect_error(refund(json!({})).await, StatusCode::CONFLICT, "nothing_to_refund").await;
    let refunds: Vec<_> = stripe.calls().into_iter().filter(|(_, p, _, _)| p == "/v1/refunds").collect();
    assert_eq!(refunds.len(), 2, "the refused one never reached Stripe");
    assert_eq!(refunds[0].3["amount"], "10000");
    assert!(!refunds[1].3.contains_key("amount"), "the rest is refunded without an amount");
    assert!(refunds.iter().all(|(_, _, key, _)| key.is_some()), "every create carries an Idempotency-Key");

    // The refund events Stripe sends afterwards add nothing.
    let (body, signature) = stripe.event("charge.refunded", &intent_id, now, SECRET);
    expect_status(post_event(&t, &body, &signature).await, StatusCode::OK).await;
    let payment = expect_status(t.get(&format!("/api/payments/{payment_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(payment["payment"]["refundedAmount"], json!(267.53));
    assert!(payment["payment"]["providerData"].get("client_secret").is_none(), "the client secret is never stored");
}

#[tokio::test]
async fn events_with_bad_or_stale_signatures_are_refused() {
    let stripe = FakeStripe::start().await;
    let t = app(&stripe).await;
    let admin = t.admin_token().await;
    let order = order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let created =
        expect_status(t.request(Method::POST, "/api/payments/intent", Some(&json!({"saleId": order_id})), None).await, StatusCode::CREATED)
            .await;
    let intent_id = created["paymentIntentId"].as_str().unwrap();
    stripe.succeed(intent_id);
    let now = chrono::Utc::now().timestamp();
    let (body, _) = stripe.event("payment_intent.succeeded", intent_id, now, SECRET);
    let (_, wrong) = stripe.event("payment_intent.succeeded", intent_id, now, "whsec_other");
    expect_error(post_event(&t, &body, &wrong).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let (old_body, old) = stripe.event("payment_intent.succeeded", intent_id, now - 301, SECRET);
    expect_error(post_event(&t, &old_body, &old).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let (v0_body, v0) = stripe.event("payment_intent.succeeded", intent_id, now, SECRET);
    expect_error(post_event(&t, &v0_body, &v0.replace("v1=", "v0=")).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let (tampered, signature) = stripe.event("payment_intent.succeeded", intent_id, now, SECRET);
    expect_error(post_event(&t, &tampered.replace("26753", "1"), &signature).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    assert_eq!(status_of(&t, &admin, order_id).await, "AWAITING_PAYMENT");
    let refused = expect_status(t.get("/api/webhooks?signatureValid=false&source=stripe", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(refused["pagination"]["total"], 4);
    // Several v1 signatures (a secret being rolled): any match passes.
    let (body, signature) = stripe.event("payment_intent.succeeded", intent_id, now, SECRET);
    let rolled = format!("{signature},v1={}", "0".repeat(64));
    expect_status(post_event(&t, &body, &rolled).await, StatusCode::OK).await;
    assert_eq!(status_of(&t, &admin, order_id).await, "PAID");
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_waiting_and_another_card_pays_it() {
    let stripe = FakeStripe::start().await;
    let t = app(&stripe).await;
    let admin = t.admin_token().await;
    let order = order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let created =
        expect_status(t.request(Method::POST, "/api/payments/intent", Some(&json!({"saleId": order_id})), None).await, StatusCode::CREATED)
            .await;
    let payment_id = created["payment"]["id"].as_str().unwrap();
    // A second intent for the same order, left open in another tab.
    let other =
        expect_status(t.request(Method::POST, "/api/payments/intent", Some(&json!({"saleId": order_id})), None).await, StatusCode::CREATED)
            .await;
    let other_id = other["payment"]["id"].as_str().unwrap().to_string();

    let confirm = |pm: &'static str| {
        let (t, body) = (&t, json!({"paymentId": payment_id, "paymentMethod": pm}));
        async move { t.request(Method::POST, "/api/payments/confirm", Some(&body), None).await }
    };
    let declined = expect_status(confirm("pm_card_chargeDeclined").await, StatusCode::OK).await;
    assert_eq!(
        (declined["payment"]["status"].as_str(), declined["payment"]["statusDetail"].as_str()),
        (Some("rejected"), Some("card_declined"))
    );
    assert_eq!(status_of(&t, &admin, order_id).await, "AWAITING_PAYMENT");
    let paid = expect_status(confirm("pm_card_visa").await, StatusCode::OK).await;
    assert_eq!(paid["payment"]["status"], "approved");
    assert_eq!(status_of(&t, &admin, order_id).await, "PAID");
    assert_eq!(paid["payment"]["needsRefund"], false);

    // The other tab pays too: the money is kept apart, flagged to be given back.
    let twice = json!({"paymentId": other_id, "paymentMethod": "pm_card_visa"});
    let twice = expect_status(t.request(Method::POST, "/api/payments/confirm", Some(&twice), None).await, StatusCode::OK).await;
    assert_eq!((twice["payment"]["status"].clone(), twice["payment"]["needsRefund"].clone()), (json!("approved"), json!(true)), "{twice}");
    assert_eq!(status_of(&t, &admin, order_id).await, "PAID");

    expect_error(
        t.request(Method::POST, "/api/payments/confirm", Some(&json!({})), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        t.request(Method::POST, "/api/payments/intent", Some(&json!({"saleId": order_id})), None).await,
        StatusCode::CONFLICT,
        "order_already_paid",
    )
    .await;

    // Stripe failing: a clean 502, nothing recorded.
    let second = order_again(&t).await;
    stripe.fail_next(1);
    expect_error(
        t.request(Method::POST, "/api/payments/intent", Some(&json!({"saleId": second})), None).await,
        StatusCode::BAD_GATEWAY,
        "upstream_error",
    )
    .await;
    let listed = expect_status(t.get(&format!("/api/payments/by-sale/{second}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(listed["pagination"]["total"], 0);
}

/// Another order of the first product, to pay by card; returns its id.
async fn order_again(t: &TestApp) -> String {
    let catalog = expect_status(t.get("/api/products", None).await, StatusCode::OK).await;
    let mut body = guest_order(json!([{"productId": catalog["products"][0]["id"], "quantity": 1}]), "otro@example.com");
    body["paymentMethodCode"] = json!("CREDIT_CARD");
    expect_status(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CREATED).await["order"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

//! Paying orders with Mercado Pago against a fake speaking its protocol: preference, signed
//! webhook, payment fetched and applied once, the order moved through its workflow, the shop
//! notified; refused signatures, the legacy format, amount mismatches, provider failures.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_mercadopago::{FakeMercadoPago, SECRET};
use crate::fake_telegram::FakeTelegram;
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

/// feria with Mercado Pago pointed at `mp` (and extra settings).
async fn app(mp: &FakeMercadoPago, extra: &[(&str, &str)]) -> TestApp {
    TestApp::with(|s| {
        s.extend(mp.settings());
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
        for (k, v) in extra {
            s.insert(k.to_string(), v.to_string());
        }
    })
    .await
}

/// The golden order of ARCHITECTURE.md (total 267.53) placed by a guest to pay with Mercado
/// Pago; returns the order.
async fn golden_order(t: &TestApp, admin: &str) -> Value {
    let ids = products(t, admin, &[("Bife de chorizo", "100", "21", 10), ("Provoleta", "50", "10.5", 5)]).await;
    let coupon = json!({"code": "DIEZ", "discountType": "percentage", "discountValue": 10});
    expect_status(t.request(Method::POST, "/api/coupons", Some(&coupon), Some(admin)).await, StatusCode::CREATED).await;
    let mut body = guest_order(json!([{"productId": ids[0], "quantity": 2}, {"productId": ids[1], "quantity": 1}]), "carla@example.com");
    body["couponCode"] = json!("DIEZ");
    body["paymentMethodCode"] = json!("MERCADO_PAGO");
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CREATED).await;
    assert_eq!(placed["order"]["total"], json!(267.53));
    assert_eq!(placed["order"]["status"], "AWAITING_PAYMENT");
    placed["order"].clone()
}

async fn start_payment(t: &TestApp, order_id: &str) -> Value {
    let path = format!("/api/payments/sale/{order_id}");
    expect_status(t.request(Method::POST, &path, Some(&json!({})), None).await, StatusCode::CREATED).await
}

async fn send_webhook(t: &TestApp, query: &str, headers: &[(String, String)], body: &Value) -> reqwest::Response {
    let mut request = t.client.post(t.url(&format!("/api/payments/webhook?{query}"))).json(body);
    for (k, v) in headers {
        request = request.header(k, v);
    }
    request.send().await.unwrap()
}

async fn order_status(t: &TestApp, admin: &str, id: &str) -> String {
    let order = expect_status(t.get(&format!("/api/sales/{id}"), Some(admin)).await, StatusCode::OK).await;
    order["status"].as_str().unwrap().to_string()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_signed_webhook_pays_the_order_once_and_tells_the_shop() {
    let mp = FakeMercadoPago::start().await;
    let telegram = FakeTelegram::start().await;
    let mut extra: Vec<(String, String)> = telegram.settings("-100200").to_vec();
    extra.push(("API_URL".into(), "https://api.shop.test".into()));
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let t = app(&mp, &extra).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();

    let started = start_payment(&t, order_id).await;
    let payment = &started["payment"];
    assert_eq!(
        (payment["saleId"].as_str(), payment["amount"].clone(), payment["status"].as_str()),
        (Some(order_id), json!(267.53), Some("pending"))
    );
    assert_eq!(payment["currency"], "ARS");
    assert!(payment.get("providerData").is_none(), "provider data is for admins");
    let preference_id = started["preference"]["id"].as_str().unwrap().to_string();
    assert_eq!(payment["preferenceId"], json!(preference_id));
    assert!(started["preference"]["initPoint"].as_str().unwrap().contains(&preference_id));

    // What Mercado Pago was asked for: the order's real amounts, adding up to its total.
    let sent = mp.preference(&preference_id);
    assert_eq!(sent["external_reference"], json!(order_id));
    assert_eq!(sent["items"][0]["unit_price"], json!(108.9));
    assert_eq!(sent["items"][0]["quantity"], json!(2));
    assert_eq!(sent["items"][1]["unit_price"], json!(49.73));
    assert_eq!(sent["notification_url"], "https://api.shop.test/api/stores/default/payments/webhook?source_news=webhooks");
    assert_eq!(sent["back_urls"]["success"], "https://api.shop.test/api/stores/default/payments/success");
    assert_eq!(sent["auto_return"], "approved");
    assert_eq!(sent["payer"]["email"], "carla@example.com");
    assert_eq!(sent["metadata"]["payment_id"], payment["id"]);
    let create = mp.calls().into_iter().find(|(m, p, _)| m == "POST" && p == "/checkout/preferences").unwrap();
    assert_eq!(create.2.as_deref(), payment["id"].as_str(), "the payment id is the idempotency key");

    // The buyer pays; Mercado Pago notifies, 10 times at once.
    let mp_id = mp.pay(&preference_id, "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    let answers = join_all((0..10).map(|_| send_webhook(&t, &query, &headers, &body))).await;
    for answer in answers {
        let answer = expect_status(answer, StatusCode::OK).await;
        assert_eq!(answer["message"], "Webhook processed successfully");
    }
    assert_eq!(order_status(&t, &admin, order_id).await, "PAID");
    let tracking = expect_status(t.get(&format!("/api/sales/{order_id}/tracking"), Some(&admin)).await, StatusCode::OK).await;
    let entries = tracking["history"].as_array().unwrap();
    assert_eq!(entries.iter().filter(|e| e["status"] == "PAID").count(), 1, "paid once: {tracking}");
    assert_eq!(entries.last().unwrap()["changedBy"]["id"], "payment:mercadopago");

    let paid =
        expect_status(t.get(&format!("/api/payments/{}", payment["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK).await;
    let paid = &paid["payment"];
    assert_eq!((paid["status"].as_str(), paid["providerId"].as_str()), (Some("approved"), Some(mp_id.as_str())));
    assert_eq!(
        (paid["paidAmount"].clone(), paid["refundedAmount"].clone(), paid["amountMismatch"].clone()),
        (json!(267.53), json!(0), json!(false))
    );
    assert_eq!(paid["providerData"]["status_detail"], "accredited");
    assert_eq!(paid["webhookData"]["data"]["id"], json!(mp_id));

    // Every notification is logged; those that changed nothing point to the first.
    let logs = expect_status(t.get(&format!("/api/webhooks?resourceId={mp_id}&limit=20"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(logs["pagination"]["total"], 10);
    let logs = logs["webhooks"].as_array().unwrap();
    assert!(logs.iter().all(|w| w["signatureValid"] == true && w["processed"] == true && w["format"] == "webhook"));
    assert_eq!(logs.iter().filter(|w| w["outcome"].as_str().unwrap().contains("→ PAID")).count(), 1, "{logs:?}");
    assert_eq!(logs.iter().filter(|w| w["duplicateOf"].is_string()).count(), 9);
    assert_eq!(logs[0]["headers"]["user-agent"], "MercadoPago Feed v2.0 payment");

    // The shop hears about the payment once (an event fanned out, then delivered: two jobs).
    for _ in 0..200 {
        if telegram.messages().iter().any(|m| m["text"].as_str().unwrap().contains("Pago aprobado")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let approved = telegram.messages().iter().filter(|m| m["text"].as_str().unwrap().contains("Pago aprobado")).count();
    assert_eq!(approved, 1);

    // Paid: another payment is refused.
    expect_error(
        t.request(Method::POST, &format!("/api/payments/sale/{order_id}"), None, None).await,
        StatusCode::CONFLICT,
        "order_already_paid",
    )
    .await;
}

#[tokio::test]
async fn bad_stale_or_missing_signatures_are_refused_logged_and_change_nothing() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let preference_id = start_payment(&t, order_id).await["preference"]["id"].as_str().unwrap().to_string();
    let mp_id = mp.pay(&preference_id, "approved", None);

    let (query, headers, body) = mp.webhook(&mp_id, now(), "another-secret");
    expect_error(send_webhook(&t, &query, &headers, &body).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let (query, headers, body) = mp.webhook(&mp_id, now() - 600, SECRET);
    expect_error(send_webhook(&t, &query, &headers, &body).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    expect_error(send_webhook(&t, &query, &headers[1..], &body).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    // Signed for another payment than the one named.
    let (_, other_headers, _) = mp.webhook("999", now(), SECRET);
    expect_error(send_webhook(&t, &query, &other_headers, &body).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;

    assert_eq!(order_status(&t, &admin, order_id).await, "AWAITING_PAYMENT");
    assert_eq!(mp.calls().iter().filter(|(_, p, _)| p.starts_with("/v1/payments/")).count(), 0, "nothing was fetched");
    let refused = expect_status(t.get("/api/webhooks?signatureValid=false", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(refused["pagination"]["total"], 4);
    let outcomes: Vec<&str> = refused["webhooks"].as_array().unwrap().iter().map(|w| w["outcome"].as_str().unwrap()).collect();
    assert!(outcomes.iter().all(|o| o.starts_with("refused:")), "{outcomes:?}");
    assert!(outcomes.iter().any(|o| o.contains("outside the accepted window")), "{outcomes:?}");
    assert!(outcomes.iter().any(|o| o.contains("no signature header")), "{outcomes:?}");
    let one = refused["webhooks"][0]["id"].as_str().unwrap();
    let detail = expect_status(t.get(&format!("/api/webhooks/{one}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(detail["webhook"]["processed"], false);
    expect_status(t.get("/api/webhooks", None).await, StatusCode::UNAUTHORIZED).await;

    // Nothing Mercado Pago would send.
    expect_error(t.client.post(t.url("/api/payments/webhook")).body("hello").send().await.unwrap(), StatusCode::BAD_REQUEST, "bad_request")
        .await;
}

#[tokio::test]
async fn the_legacy_notification_is_only_a_hint_fetched_from_mercado_pago() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let preference_id = start_payment(&t, order_id).await["preference"]["id"].as_str().unwrap().to_string();
    let mp_id = mp.pay(&preference_id, "approved", None);
    let answer = t.client.post(t.url(&format!("/api/payments/webhook?topic=payment&id={mp_id}"))).send().await.unwrap();
    expect_status(answer, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "PAID");
    let logs = expect_status(t.get("/api/webhooks", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((logs["webhooks"][0]["format"].as_str(), logs["webhooks"][0]["signatureValid"].clone()), (Some("ipn"), json!(false)));

    // Other topics are logged and left alone.
    let answer = t.client.post(t.url("/api/payments/webhook?topic=merchant_order&id=2866193969")).send().await.unwrap();
    expect_status(answer, StatusCode::OK).await;
    let logs = expect_status(t.get("/api/webhooks?limit=1", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(logs["webhooks"][0]["outcome"], "ignored: event merchant_order");
}

#[tokio::test]
async fn another_amount_is_flagged_a_rejection_waits_and_a_second_attempt_pays() {
    let mp = FakeMercadoPago::start().await;
    let smtp = crate::fake_smtp::FakeSmtp::start(0).await;
    let email = smtp.settings();
    let t = app(&mp, &email.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let started = start_payment(&t, order_id).await;
    let preference_id = started["preference"]["id"].as_str().unwrap().to_string();

    let rejected = mp.pay(&preference_id, "rejected", None);
    let (query, headers, body) = mp.webhook(&rejected, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "AWAITING_PAYMENT");
    // The buyer hears the payment did not go through, once however often it is reported.
    let (query, headers, body) = mp.webhook(&rejected, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    crate::harness::wait_for_jobs_idle(&t).await;
    let told: Vec<String> = smtp.messages.lock().await.iter().map(|m| m.decoded()).filter(|m| m.contains("No pudimos cobrar")).collect();
    assert_eq!(told.len(), 1, "one email about the rejection");
    assert!(told[0].contains(order["orderNumber"].as_str().unwrap()));

    let short = mp.pay(&preference_id, "approved", Some("1.00"));
    let (query, headers, body) = mp.webhook(&short, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "AWAITING_PAYMENT", "1.00 does not pay 267.53");

    let full = mp.pay(&preference_id, "approved", None);
    let (query, headers, body) = mp.webhook(&full, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "PAID");

    let page = expect_status(t.get(&format!("/api/payments/by-sale/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(page["pagination"]["total"], 3, "one payment per attempt");
    let by_provider = |id: &str| page["payments"].as_array().unwrap().iter().find(|p| p["providerId"] == json!(id)).unwrap().clone();
    assert_eq!((by_provider(&rejected)["status"].as_str(), by_provider(&rejected)["paidAmount"].clone()), (Some("rejected"), json!(0)));
    let short = by_provider(&short);
    assert_eq!((short["amountMismatch"].clone(), short["paidAmount"].clone()), (json!(true), json!(1)));
    assert_eq!(by_provider(&full)["amountMismatch"], false);
    let approved = expect_status(t.get("/api/payments?status=approved", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(approved["pagination"]["total"], 2);
    expect_error(t.get("/api/payments?status=paid", Some(&admin)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Refunded in Mercado Pago's dashboard: once everything charged is given back (the 1.00 too),
    // the order moves to REFUNDED.
    mp.update(&full, "refunded", "267.53");
    let (query, headers, body) = mp.webhook(&full, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "PAID", "1.00 is still held");
    let short_id = short["providerId"].as_str().unwrap();
    mp.update(short_id, "refunded", "1");
    let (query, headers, body) = mp.webhook(short_id, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "REFUNDED");
    let page = expect_status(t.get(&format!("/api/payments/by-sale/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    let refunded: Vec<Value> = page["payments"].as_array().unwrap().iter().map(|p| p["refundedAmount"].clone()).collect();
    assert!(refunded.contains(&json!(267.53)) && refunded.contains(&json!(1)), "{refunded:?}");
}

#[tokio::test]
async fn a_failing_or_silent_provider_is_a_502_and_nothing_is_recorded() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let path = format!("/api/payments/sale/{order_id}");

    mp.fail_next(1);
    let failed = expect_error(t.request(Method::POST, &path, None, None).await, StatusCode::BAD_GATEWAY, "upstream_error").await;
    assert!(!failed.to_string().contains(crate::fake_mercadopago::TOKEN), "the token never shows");
    mp.hang_next(1);
    expect_error(t.request(Method::POST, &path, None, None).await, StatusCode::BAD_GATEWAY, "upstream_error").await;
    let none = expect_status(t.get("/api/payments", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(none["pagination"]["total"], 0);

    // A webhook while Mercado Pago fails: 502 (Mercado Pago retries), logged as not processed.
    let preference_id = start_payment(&t, order_id).await["preference"]["id"].as_str().unwrap().to_string();
    let mp_id = mp.pay(&preference_id, "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    mp.fail_next(1);
    expect_error(send_webhook(&t, &query, &headers, &body).await, StatusCode::BAD_GATEWAY, "upstream_error").await;
    assert_eq!(order_status(&t, &admin, order_id).await, "AWAITING_PAYMENT");
    let logs = expect_status(t.get("/api/webhooks?processed=false", Some(&admin)).await, StatusCode::OK).await;
    assert!(logs["webhooks"][0]["outcome"].as_str().unwrap().starts_with("failed:"));
    // The retry goes through.
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "PAID");
}

#[tokio::test]
async fn verify_asks_mercado_pago_and_the_preference_shows_its_payment() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let started = start_payment(&t, order_id).await;
    let payment_id = started["payment"]["id"].as_str().unwrap();
    let preference_id = started["preference"]["id"].as_str().unwrap();

    let verify = |body: Value| {
        let t = &t;
        async move { t.request(Method::POST, "/api/payments/verify", Some(&body), None).await }
    };
    let unchanged = expect_status(verify(json!({"paymentId": payment_id})).await, StatusCode::OK).await;
    assert_eq!((unchanged["isUpdated"].clone(), unchanged["payment"]["status"].as_str()), (json!(false), Some("pending")));

    mp.pay(preference_id, "approved", None);
    let updated = expect_status(verify(json!({"paymentId": payment_id})).await, StatusCode::OK).await;
    assert_eq!((updated["isUpdated"].clone(), updated["payment"]["status"].as_str()), (json!(true), Some("approved")));
    assert_eq!(order_status(&t, &admin, order_id).await, "PAID");
    let again = expect_status(verify(json!({"paymentId": payment_id})).await, StatusCode::OK).await;
    assert_eq!(again["isUpdated"], false);
    expect_error(verify(json!({})).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    expect_error(verify(json!({"paymentId": "nope"})).await, StatusCode::NOT_FOUND, "not_found").await;

    let state = expect_status(t.get(&format!("/api/payments/preference/{preference_id}"), None).await, StatusCode::OK).await;
    assert_eq!((state["preference"]["status"].as_str(), state["payment"]["id"].as_str()), (Some("approved"), Some(payment_id)));
    assert_eq!(state["preference"]["items"].as_array().unwrap().len(), 2);
    expect_error(t.get("/api/payments/preference/1-unknown", None).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn the_return_urls_send_the_buyer_to_the_frontend() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[("MERCADOPAGO_PENDING_URL", "http://shop.test/espera?from=mp")]).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let query = "collection_id=1238054777&collection_status=approved&payment_id=1238054777&status=approved&external_reference=o-1&preference_id=p-1&merchant_order_id=null&merchant_account_id=null";
    let location = |res: reqwest::Response| {
        assert_eq!(res.status(), StatusCode::FOUND);
        res.headers()["location"].to_str().unwrap().to_string()
    };
    let success = location(client.get(t.url(&format!("/api/payments/success?{query}"))).send().await.unwrap());
    assert_eq!(
        success,
        "http://shop.test/payment/success?collection_id=1238054777&collection_status=approved&payment_id=1238054777&status=approved&external_reference=o-1&preference_id=p-1"
    );
    let failure = location(client.get(t.url("/api/payments/failure?collection_id=5&collection_status=rejected")).send().await.unwrap());
    assert_eq!(failure, "http://shop.test/payment/failure?collection_id=5&collection_status=rejected");
    // Back to the page the buyer paid from, when it is the shop's; never elsewhere.
    let back = location(
        client.get(t.url("/api/payments/success?returnUrl=http%3A%2F%2Fshop.test%2Fpedido%2F9&status=approved")).send().await.unwrap(),
    );
    assert_eq!(back, "http://shop.test/pedido/9?status=approved");
    let elsewhere = location(
        client.get(t.url("/api/payments/success?returnUrl=http%3A%2F%2Fshop.test.evil.com%2F&status=approved")).send().await.unwrap(),
    );
    assert_eq!(elsewhere, "http://shop.test/payment/success?status=approved");
    let pending = location(client.get(t.url("/api/payments/pending")).send().await.unwrap());
    assert_eq!(pending, "http://shop.test/espera?from=mp");
}

#[tokio::test]
async fn who_may_pay_what() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    expect_error(t.request(Method::POST, "/api/payments/sale/unknown", None, None).await, StatusCode::NOT_FOUND, "not_found").await;
    let elsewhere = json!({"returnUrl": "https://evil.example/robar"});
    expect_error(
        t.request(Method::POST, &format!("/api/payments/sale/{order_id}"), Some(&elsewhere), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let page = json!({"returnUrl": "http://shop.test/pedido/7"});
    let started =
        expect_status(t.request(Method::POST, &format!("/api/payments/sale/{order_id}"), Some(&page), None).await, StatusCode::CREATED)
            .await;
    let sent = mp.preference(started["preference"]["id"].as_str().unwrap());
    assert_eq!(
        sent["back_urls"]["failure"],
        "http://localhost:3000/api/stores/default/payments/failure?returnUrl=http%3A%2F%2Fshop.test%2Fpedido%2F7"
    );
    assert!(sent.get("auto_return").is_none(), "no auto_return without a public https URL");
    let stripe = json!({"paymentMethod": "cash"});
    expect_error(
        t.request(Method::POST, &format!("/api/payments/sale/{order_id}"), Some(&stripe), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let cancel = json!({"status": "CANCELLED"});
    expect_status(t.request(Method::PATCH, &format!("/api/sales/{order_id}/status"), Some(&cancel), Some(&admin)).await, StatusCode::OK)
        .await;
    expect_error(
        t.request(Method::POST, &format!("/api/payments/sale/{order_id}"), None, None).await,
        StatusCode::CONFLICT,
        "order_not_payable",
    )
    .await;

    // A user's order is theirs (or an admin's) to pay.
    let catalog = expect_status(t.get("/api/products", None).await, StatusCode::OK).await;
    let ids = [catalog["products"][0]["id"].as_str().unwrap().to_string()];
    let user = t.register("Ana", "ana@example.com", "secreto123").await;
    let token = user["token"].as_str().unwrap().to_string();
    let mut body = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "ana@example.com");
    body.as_object_mut().unwrap().remove("customerData");
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&body), Some(&token)).await, StatusCode::CREATED).await;
    let path = format!("/api/payments/sale/{}", placed["order"]["id"].as_str().unwrap());
    expect_error(t.request(Method::POST, &path, None, None).await, StatusCode::NOT_FOUND, "not_found").await;
    let other = t.register("Beto", "beto@example.com", "secreto123").await;
    expect_error(t.request(Method::POST, &path, None, other["token"].as_str()).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_status(t.request(Method::POST, &path, None, Some(&token)).await, StatusCode::CREATED).await;

    // Without Mercado Pago configured.
    let plain = TestApp::spawn().await;
    let admin = plain.admin_token().await;
    let order = golden_order(&plain, &admin).await;
    let path = format!("/api/payments/sale/{}", order["id"].as_str().unwrap());
    expect_error(plain.request(Method::POST, &path, None, None).await, StatusCode::CONFLICT, "provider_not_configured").await;
}

#[tokio::test]
async fn refunds_go_through_mercado_pago_with_an_idempotency_key_and_never_exceed_the_charge() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let started = start_payment(&t, order_id).await;
    let payment_id = started["payment"]["id"].as_str().unwrap().to_string();
    let not_yet = format!("/api/payments/{payment_id}/refund");
    expect_error(t.request(Method::POST, &not_yet, None, Some(&admin)).await, StatusCode::CONFLICT, "nothing_to_refund").await;
    let mp_id = mp.pay(started["preference"]["id"].as_str().unwrap(), "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;

    let refund = |body: Value| {
        let (t, admin, path) = (&t, admin.clone(), not_yet.clone());
        async move { t.request(Method::POST, &path, Some(&body), Some(&admin)).await }
    };
    let partial = expect_status(refund(json!({"amount": "67.53", "reason": "Faltó la provoleta"})).await, StatusCode::OK).await;
    assert_eq!((partial["payment"]["refundedAmount"].clone(), partial["payment"]["status"].as_str()), (json!(67.53), Some("approved")));
    for too_much in [json!({"amount": 200.01}), json!({"amount": 0}), json!({"amount": "1.001"})] {
        expect_error(refund(too_much).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    expect_status(t.request(Method::POST, &not_yet, None, None).await, StatusCode::UNAUTHORIZED).await;
    let rest = expect_status(refund(json!({})).await, StatusCode::OK).await;
    assert_eq!(rest["payment"]["refundedAmount"], json!(267.53));
    assert_eq!(order_status(&t, &admin, order_id).await, "REFUNDED");
    let calls: Vec<_> = mp.calls().into_iter().filter(|(m, p, _)| m == "POST" && p.ends_with("/refunds")).collect();
    assert_eq!(calls.len(), 2, "refused refunds never reach Mercado Pago");
    assert!(calls.iter().all(|(_, _, key)| key.is_some()) && calls[0].2 != calls[1].2, "one idempotency key per refund");

    // Mercado Pago then notifies the refund: nothing is counted twice.
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    let payment = expect_status(t.get(&format!("/api/payments/{payment_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((payment["payment"]["refundedAmount"].clone(), payment["payment"]["status"].as_str()), (json!(267.53), Some("refunded")));
}

#[tokio::test]
async fn the_webhook_log_has_stats_and_mercado_pago_details_with_an_analysis() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let preference_id = start_payment(&t, order_id).await["preference"]["id"].as_str().unwrap().to_string();
    let mp_id = mp.pay(&preference_id, "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    for _ in 0..2 {
        expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    }
    let (query, headers, body) = mp.webhook(&mp_id, now(), "wrong");
    expect_error(send_webhook(&t, &query, &headers, &body).await, StatusCode::UNAUTHORIZED, "invalid_signature").await;

    let stats = expect_status(t.get("/api/webhooks/stats", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(
        (
            stats["total"].clone(),
            stats["processed"].clone(),
            stats["unprocessed"].clone(),
            stats["invalidSignatures"].clone(),
            stats["duplicates"].clone()
        ),
        (json!(3), json!(2), json!(1), json!(1), json!(1))
    );
    assert_eq!(stats["bySource"]["mercadopago"], 3);

    let logs = expect_status(t.get("/api/webhooks?signatureValid=true", Some(&admin)).await, StatusCode::OK).await;
    let first = logs["webhooks"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    let details = expect_status(t.get(&format!("/api/webhooks/{first}/mercadopago-details"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(details["webhook"]["eventType"], "payment");
    assert_eq!(details["mercadoPagoData"]["id"].to_string(), mp_id);
    let analysis = &details["analysis"];
    assert_eq!(
        (analysis["realAmount"].clone(), analysis["mpFees"].clone(), analysis["refundedAmount"].clone()),
        (json!(267.53), json!(1.5), json!(0))
    );
    assert_eq!(analysis["idempotencyKey"], json!(format!("mp_{mp_id}_{order_id}_2026-11-30")));
    assert_eq!(
        (analysis["linkToSale"]["suggestedOrderId"].as_str(), analysis["linkToSale"]["orderNumber"].as_str()),
        (Some(order_id), Some("ORD-000001"))
    );
    assert_eq!(analysis["isApproved"], true);
    // Approved, signed, linked to the order, paid by the customer (the fake sends no live_mode).
    assert_eq!((analysis["riskLevel"].as_str(), analysis["trustScore"].clone()), (Some("LOW"), json!(100)));
    assert_eq!(details["traceability"]["possibleDuplicates"], 2);
    assert_eq!(details["traceability"]["webhookFormat"], "webhook");

    // The refused one: its signature costs trust.
    let refused = expect_status(t.get("/api/webhooks?signatureValid=false", Some(&admin)).await, StatusCode::OK).await;
    let refused = refused["webhooks"][0]["id"].as_str().unwrap().to_string();
    let details = expect_status(t.get(&format!("/api/webhooks/{refused}/mercadopago-details"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((details["analysis"]["riskLevel"].as_str(), details["analysis"]["trustScore"].clone()), (Some("MEDIUM"), json!(70)));
    expect_error(t.get("/api/webhooks/nope/mercadopago-details", Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;

    // The account's payments and charges, straight from Mercado Pago.
    mp.pay(&preference_id, "rejected", None);
    let all =
        expect_status(t.get("/api/payments/mercadopago/payments?limit=5&dateFrom=2026-11-01", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((all["payments"].as_array().unwrap().len(), all["paging"]["total"].clone()), (2, json!(2)));
    let charges = expect_status(t.get("/api/payments/mercadopago/charges", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(charges["paging"]["total"], 1);
    let searches = mp.searches();
    let sent = &searches[searches.len() - 2];
    assert_eq!(
        (sent["range"].as_str(), sent["begin_date"].as_str(), sent["limit"].as_str()),
        ("date_created", "2026-11-01T00:00:00.000Z", "5")
    );
    assert_eq!((searches.last().unwrap()["status"].as_str(), searches.last().unwrap()["sort"].as_str()), ("approved", "date_approved"));
    expect_error(
        t.get("/api/payments/mercadopago/payments?dateFrom=ayer", Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_status(t.get("/api/payments/mercadopago/payments", None).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_chargeback_gives_the_money_back_and_the_order_is_refunded() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let started = start_payment(&t, order_id).await;
    let mp_id = mp.pay(started["preference"]["id"].as_str().unwrap(), "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    mp.update(&mp_id, "charged_back", "0");
    for _ in 0..2 {
        let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
        expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    }
    assert_eq!(order_status(&t, &admin, order_id).await, "REFUNDED");
    let payment =
        expect_status(t.get(&format!("/api/payments/{}", started["payment"]["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK)
            .await;
    let payment = &payment["payment"];
    assert_eq!(
        (payment["status"].as_str(), payment["paidAmount"].clone(), payment["refundedAmount"].clone()),
        (Some("charged_back"), json!(267.53), json!(267.53))
    );
}

#[tokio::test]
async fn payments_without_our_metadata_are_reconciled_by_external_reference() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    // Paid by QR code: Mercado Pago's payment carries the order as external reference and no
    // metadata of ours.
    let order = golden_order(&t, &admin).await;
    let order_id = order["id"].as_str().unwrap();
    let started = start_payment(&t, order_id).await;
    let preference_id = started["preference"]["id"].as_str().unwrap();
    let mp_id = mp.pay_with_metadata(preference_id, "approved", json!({}));
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, order_id).await, "PAID");
    let attempt =
        expect_status(t.get(&format!("/api/payments/{}", started["payment"]["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK)
            .await;
    assert_eq!(attempt["payment"]["providerId"], json!(mp_id), "the started attempt was the one paid");
    let listed = expect_status(t.get(&format!("/api/payments/by-sale/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(listed["pagination"]["total"], 1, "no second attempt: {listed}");
}

#[tokio::test]
async fn metadata_whose_key_mercado_pago_renamed_still_names_the_attempt() {
    let mp = FakeMercadoPago::start().await;
    let t = app(&mp, &[]).await;
    let admin = t.admin_token().await;
    let second = golden_order(&t, &admin).await;
    let second_id = second["id"].as_str().unwrap();
    let started = start_payment(&t, second_id).await;
    let renamed = json!({"paymentId": started["payment"]["id"], "orderNumber": second["orderNumber"]});
    let mp_id = mp.pay_with_metadata(started["preference"]["id"].as_str().unwrap(), "approved", renamed);
    let (query, headers, body) = mp.webhook(&mp_id, now(), SECRET);
    expect_status(send_webhook(&t, &query, &headers, &body).await, StatusCode::OK).await;
    assert_eq!(order_status(&t, &admin, second_id).await, "PAID");
}

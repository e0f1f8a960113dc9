//! `Idempotency-Key` on POSTs: the first successful answer is replayed for the same request,
//! refused for another, held across nodes, and a failed request leaves the key free.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_mercadopago::{FakeMercadoPago, SECRET};
use crate::harness::{TestApp, TestDb, base_settings, expect_error, expect_status};
use crate::sales::{guest_order, products, stock_of};

async fn post_with_key(t: &TestApp, path: &str, body: &Value, key: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = t.client.post(t.url(path)).header("Idempotency-Key", key).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn an_order_sent_again_with_its_key_is_placed_once_on_any_node() {
    let db = TestDb::new().await;
    let mut settings = base_settings(&db);
    settings.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
    let other_node = db.sharing();
    let t = TestApp::on(db, settings.clone()).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Bife de chorizo", "100", "21", 50)]).await;
    let order = guest_order(json!([{"productId": ids[0], "quantity": 2}]), "carla@example.com");

    let first = post_with_key(&t, "/api/sales", &order, "order-7f3a", None).await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = expect_status(first, StatusCode::CREATED).await;
    let again = post_with_key(&t, "/api/sales", &order, "order-7f3a", None).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_status(again, StatusCode::CREATED).await, first);
    let b = TestApp::on(other_node, settings).await;
    assert_eq!(expect_status(post_with_key(&b, "/api/sales", &order, "order-7f3a", None).await, StatusCode::CREATED).await, first);
    assert_eq!(stock_of(&t, &ids[0]).await, 48, "placed once");

    let mut changed = order.clone();
    changed["items"][0]["quantity"] = json!(3);
    expect_error(
        post_with_key(&t, "/api/sales", &changed, "order-7f3a", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_mismatch",
    )
    .await;
    expect_error(
        post_with_key(&t, "/api/sales", &order, &"k".repeat(256), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Ten at once with a new key: one order.
    let answers = join_all((0..10).map(|_| post_with_key(&t, "/api/sales", &order, "order-burst", None))).await;
    let mut created = Vec::new();
    for answer in answers {
        match answer.status() {
            StatusCode::CREATED => created.push(answer.json::<Value>().await.unwrap()["order"]["id"].clone()),
            StatusCode::CONFLICT => assert_eq!(answer.json::<Value>().await.unwrap()["code"], "idempotency_key_in_use"),
            other => panic!("unexpected {other}"),
        }
    }
    assert!(created.iter().all(|id| *id == created[0]), "one order: {created:?}");
    assert_eq!(stock_of(&t, &ids[0]).await, 46);
    let listed = expect_status(t.get("/api/sales", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(listed["pagination"]["total"], 2);
}

#[tokio::test]
async fn a_failed_request_leaves_its_key_free() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Bife de chorizo", "100", "21", 1)]).await;
    let order = guest_order(json!([{"productId": ids[0], "quantity": 2}]), "carla@example.com");
    expect_error(post_with_key(&t, "/api/sales", &order, "retry-me", None).await, StatusCode::CONFLICT, "insufficient_stock").await;
    let path = format!("/api/products/{}", ids[0]);
    expect_status(t.request(Method::PUT, &path, Some(&json!({"stock": 5})), Some(&admin)).await, StatusCode::OK).await;
    expect_status(post_with_key(&t, "/api/sales", &order, "retry-me", None).await, StatusCode::CREATED).await;
    assert_eq!(stock_of(&t, &ids[0]).await, 3);
}

#[tokio::test]
async fn payments_and_refunds_sent_again_reach_the_provider_once() {
    let mp = FakeMercadoPago::start().await;
    let t = TestApp::with(|s| s.extend(mp.settings())).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Bife de chorizo", "100", "21", 5)]).await;
    let mut order = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "carla@example.com");
    order["paymentMethodCode"] = json!("MERCADO_PAGO");
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), None).await, StatusCode::CREATED).await;
    let path = format!("/api/payments/sale/{}", placed["order"]["id"].as_str().unwrap());
    let started = expect_status(post_with_key(&t, &path, &json!({}), "pay-1", None).await, StatusCode::CREATED).await;
    assert_eq!(expect_status(post_with_key(&t, &path, &json!({}), "pay-1", None).await, StatusCode::CREATED).await, started);
    assert_eq!(mp.calls().iter().filter(|(_, p, _)| p == "/checkout/preferences").count(), 1);

    let mp_id = mp.pay(started["preference"]["id"].as_str().unwrap(), "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, chrono::Utc::now().timestamp(), SECRET);
    let mut request = t.client.post(t.url(&format!("/api/payments/webhook?{query}"))).json(&body);
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    expect_status(request.send().await.unwrap(), StatusCode::OK).await;

    let refund = format!("/api/payments/{}/refund", started["payment"]["id"].as_str().unwrap());
    let first = expect_status(post_with_key(&t, &refund, &json!({"amount": 10}), "refund-1", Some(&admin)).await, StatusCode::OK).await;
    let again = expect_status(post_with_key(&t, &refund, &json!({"amount": 10}), "refund-1", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(first, again);
    assert_eq!(first["payment"]["refundedAmount"], json!(10));
    assert_eq!(mp.calls().iter().filter(|(_, p, _)| p.ends_with("/refunds")).count(), 1, "refunded once");
}

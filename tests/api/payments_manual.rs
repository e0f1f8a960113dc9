//! Cash and bank transfers confirmed by an admin, only for methods that allow it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

async fn place(t: &TestApp, product: &str, method: &str) -> Value {
    let mut body = guest_order(json!([{"productId": product, "quantity": 2}]), "carla@example.com");
    body["paymentMethodCode"] = json!(method);
    expect_status(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CREATED).await["order"].clone()
}

#[tokio::test]
async fn an_admin_confirms_cash_by_hand_and_can_give_it_back() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Bife de chorizo", "100", "21", 10)]).await;
    let cash = place(&t, &ids[0], "CASH").await;
    assert_eq!((cash["status"].as_str(), cash["total"].clone()), (Some("PENDING"), json!(242)));
    let path = format!("/api/payments/{}/confirm-manual", cash["id"].as_str().unwrap());
    let confirm = |body: Value, token: Option<String>| {
        let (t, path) = (&t, path.clone());
        async move { t.request(Method::POST, &path, Some(&body), token.as_deref()).await }
    };

    expect_status(confirm(json!({"amount": 242, "reference": "R-1"}), None).await, StatusCode::UNAUTHORIZED).await;
    let invalid =
        expect_error(confirm(json!({"amount": 0}), Some(admin.clone())).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = invalid["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["amount", "reference"]);

    // Less than the total: recorded, flagged, the order waits.
    let short =
        expect_status(confirm(json!({"amount": "100.00", "reference": "Recibo 0001"}), Some(admin.clone())).await, StatusCode::CREATED)
            .await;
    assert_eq!((short["payment"]["amountMismatch"].clone(), short["payment"]["provider"].as_str()), (json!(true), Some("manual")));
    let order = expect_status(t.get(&format!("/api/sales/{}", cash["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(order["status"], "PENDING");

    // The 100 is still held: what is owed now is 142.
    let rest =
        expect_status(confirm(json!({"amount": 142, "reference": "Recibo 0002"}), Some(admin.clone())).await, StatusCode::CREATED).await;
    assert_eq!((rest["payment"]["status"].as_str(), rest["payment"]["paidAmount"].clone()), (Some("approved"), json!(142)));
    let tracking =
        expect_status(t.get(&format!("/api/sales/{}/tracking", cash["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK).await;
    let steps: Vec<&str> = tracking["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(steps, ["PENDING", "AWAITING_PAYMENT", "PAID"], "through the workflow");
    expect_error(confirm(json!({"amount": 1, "reference": "x"}), Some(admin.clone())).await, StatusCode::CONFLICT, "order_already_paid")
        .await;

    // Given back by hand: once both payments are refunded, the order is REFUNDED.
    for payment in [&short, &rest] {
        let refund = format!("/api/payments/{}/refund", payment["payment"]["id"].as_str().unwrap());
        expect_status(t.request(Method::POST, &refund, None, Some(&admin)).await, StatusCode::OK).await;
    }
    let order = expect_status(t.get(&format!("/api/sales/{}", cash["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(order["status"], "REFUNDED");

    // Mercado Pago orders are not confirmed by hand.
    let online = place(&t, &ids[0], "MERCADO_PAGO").await;
    let path = format!("/api/payments/{}/confirm-manual", online["id"].as_str().unwrap());
    let body = json!({"amount": 242, "reference": "R-2"});
    expect_error(t.request(Method::POST, &path, Some(&body), Some(&admin)).await, StatusCode::CONFLICT, "manual_confirmation_not_allowed")
        .await;
    expect_error(
        t.request(Method::POST, "/api/payments/nope/confirm-manual", Some(&body), Some(&admin)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

/// Every payment endpoint answers bad input with the error envelope and changes nothing.
#[tokio::test]
async fn bad_input_to_payment_endpoints_gets_the_envelope() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let raw = |method: Method, path: &'static str, body: &'static str| {
        let (t, admin) = (&t, admin.clone());
        async move {
            let res = t
                .client
                .request(method, t.url(path))
                .bearer_auth(admin)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert!(body["code"].is_string() && body["error"].is_string(), "{path} {status}: {body}");
            (status, body["code"].as_str().unwrap().to_string())
        }
    };
    let cases = [
        (Method::POST, "/api/payments/verify", "[", StatusCode::BAD_REQUEST),
        (Method::POST, "/api/payments/verify", "{\"paymentId\": 5}", StatusCode::UNPROCESSABLE_ENTITY),
        (Method::POST, "/api/payments/intent", "{}", StatusCode::UNPROCESSABLE_ENTITY),
        (Method::POST, "/api/payments/sale/x", "{", StatusCode::BAD_REQUEST),
        (Method::POST, "/api/payments/x/refund", "{\"amount\": true}", StatusCode::UNPROCESSABLE_ENTITY),
        (Method::POST, "/api/payments/x/refund", "{\"amount\": -1}", StatusCode::UNPROCESSABLE_ENTITY),
        (Method::POST, "/api/payments/x/confirm-manual", "{\"amount\": \"abc\", \"reference\": \"r\"}", StatusCode::UNPROCESSABLE_ENTITY),
        (Method::POST, "/api/payments/confirm", "{\"paymentId\": \"nope\"}", StatusCode::NOT_FOUND),
        (Method::GET, "/api/payments?page=0", "", StatusCode::UNPROCESSABLE_ENTITY),
        (Method::GET, "/api/webhooks?processed=maybe", "", StatusCode::BAD_REQUEST),
        (Method::GET, "/api/payments/nope", "", StatusCode::NOT_FOUND),
        (Method::GET, "/api/webhooks/nope", "", StatusCode::NOT_FOUND),
        (Method::POST, "/api/payments/webhook/stripe", "{}", StatusCode::UNAUTHORIZED),
    ];
    for (method, path, body, status) in cases {
        let (got, code) = raw(method, path, body).await;
        assert_eq!(got, status, "{path} {body}: {code}");
    }
    let none = expect_status(t.get("/api/payments", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(none["pagination"]["total"], 0);
}

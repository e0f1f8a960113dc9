//! Agents buying (UCP checkout sessions over REST and MCP): catalog prices, messages for what
//! is missing, completion into an ordinary order, Mercado Pago's page as the escalation,
//! idempotency, the state machine, and no oversold stock when agents race the API.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_mercadopago::{FakeMercadoPago, SECRET};
use crate::harness::{TestApp, expect_status};
use crate::mcp::rpc;
use crate::sales::{app, guest_order, products, stock_of};

const SESSIONS: &str = "/ucp/v1/checkout-sessions";
const AGENT: &str = "profile=\"https://agent.example/.well-known/ucp\"";

async fn send(t: &TestApp, method: Method, path: &str, body: &Value, key: Option<&str>) -> (StatusCode, Value) {
    let mut request = t.client.request(method, t.url(path)).header("ucp-agent", AGENT).json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn address() -> Value {
    json!({"fulfillment": {"methods": [{"type": "shipping", "destinations": [{"id": "d1", "street_address": "Av. Corrientes 1234",
        "address_locality": "CABA", "address_region": "Buenos Aires", "postal_code": "C1043", "address_country": "AR"}]}]}})
}

fn checkout(items: Value, with_address: bool) -> Value {
    let mut body = json!({"line_items": items, "buyer": {"first_name": "Jane", "last_name": "Díaz", "email": "Jane@Example.com"}});
    if with_address {
        body["fulfillment"] = address()["fulfillment"].clone();
    }
    body
}

fn total(session: &Value, kind: &str) -> Option<i64> {
    session["totals"].as_array().unwrap().iter().find(|t| t["type"] == kind).and_then(|t| t["amount"].as_i64())
}

#[tokio::test]
async fn an_agent_prices_completes_and_replays_a_checkout_that_becomes_an_ordinary_order() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15000", "21", 20), ("Malbec reserva", "9000", "21", 3)]).await;
    let coupon = json!({"code": "ASADO", "discountType": "percentage", "discountValue": 10});
    expect_status(t.request(Method::POST, "/api/coupons", Some(&coupon), Some(&admin)).await, StatusCode::CREATED).await;

    // Prices come from the catalog, whatever the agent says; the address is missing.
    let items = json!([{"item": {"id": ids[0], "price": 1}, "quantity": 2}, {"item": {"id": ids[1]}, "quantity": 1}]);
    let (status, created) = send(&t, Method::POST, SESSIONS, &checkout(items.clone(), false), None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!((created["status"].clone(), created["currency"].clone()), (json!("incomplete"), json!("ARS")));
    assert_eq!(created["line_items"][0]["item"]["price"], 1_500_000);
    assert_eq!(created["messages"][0]["path"], "$.fulfillment");
    let id = created["id"].as_str().unwrap().to_string();
    let session = format!("{SESSIONS}/{id}");

    // The whole state again, with the address and a coupon: ready, totals add up.
    let mut body = checkout(items, true);
    body["discounts"] = json!({"codes": ["asado", "OTRO"]});
    let (status, ready) = send(&t, Method::PUT, &session, &body, Some("5d7c4f0e-0000-4000-8000-000000000001")).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["status"], "ready_for_complete", "{ready}");
    // 2 × 15000 + 9000 = 39000; −10 % = 35100; +21 % = 42471.
    assert_eq!(
        (total(&ready, "subtotal"), total(&ready, "discount"), total(&ready, "tax")),
        (Some(3_900_000), Some(-390_000), Some(737_100))
    );
    assert_eq!((total(&ready, "fulfillment"), total(&ready, "total")), (Some(0), Some(4_247_100)));
    let sum: i64 = ready["totals"].as_array().unwrap().iter().filter(|t| t["type"] != "total").map(|t| t["amount"].as_i64().unwrap()).sum();
    assert_eq!(Some(sum), total(&ready, "total"));
    assert_eq!(ready["discounts"]["applied"][0]["code"], "ASADO");
    assert_eq!(ready["messages"][0]["code"], "discount_code_combination_disallowed");

    // Completing without a handler of the shop is refused; with cash it places the order.
    let pay = |handler: &str| json!({"payment": {"instruments": [{"id": "i1", "handler_id": handler, "type": handler, "selected": true}]}});
    let (status, _) = send(&t, Method::POST, &format!("{session}/complete"), &pay("visa_direct"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let key = Some("5d7c4f0e-0000-4000-8000-000000000002");
    let (status, done) = send(&t, Method::POST, &format!("{session}/complete"), &pay("cash"), key).await;
    assert_eq!((status, done["status"].clone()), (StatusCode::OK, json!("completed")), "{done}");
    let order_id = done["order"]["id"].as_str().unwrap().to_string();
    let order = expect_status(t.get(&format!("/api/sales/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((order["total"].clone(), order["status"].clone()), (json!(42471), json!("PENDING")));
    assert_eq!(order["customer"]["email"], "jane@example.com");
    assert_eq!(stock_of(&t, &ids[1]).await, 2);

    // The same key replays the first answer; another body under it is a conflict; the final
    // session refuses any change.
    let (status, replay) = send(&t, Method::POST, &format!("{session}/complete"), &pay("cash"), key).await;
    assert_eq!((status, replay), (StatusCode::OK, done.clone()));
    let (status, _) = send(&t, Method::POST, &format!("{session}/complete"), &pay("bank_transfer"), key).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let change = checkout(json!([{"item": {"id": ids[0]}, "quantity": 1}]), true);
    for (method, path, body) in [
        (Method::POST, format!("{session}/cancel"), json!({})),
        (Method::PUT, session.clone(), change),
        (Method::POST, format!("{session}/complete"), pay("cash")),
    ] {
        let (status, refused) = send(&t, method, &path, &body, None).await;
        assert_eq!((status, refused["ucp"]["status"].clone()), (StatusCode::CONFLICT, json!("error")), "{path}");
    }
    let (_, read) = send(&t, Method::GET, &session, &json!({}), None).await;
    assert_eq!(read["status"], "completed");

    // Nothing to sell: an error_response and no session; a version feria does not speak: 422.
    let (status, none) =
        send(&t, Method::POST, SESSIONS, &checkout(json!([{"item": {"id": "pink_wumpus"}, "quantity": 1}]), true), None).await;
    assert_eq!(
        (status, none["ucp"]["status"].clone(), none["messages"][0]["code"].clone()),
        (StatusCode::OK, json!("error"), json!("not_found"))
    );
    let response =
        t.client.post(t.url(SESSIONS)).header("ucp-agent", "profile=\"x\"; version=\"2099-01-01\"").json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, bad) = send(&t, Method::POST, SESSIONS, &json!({"line_items": [{"item": {"id": ids[0]}, "quantity": 0}]}), None).await;
    assert_eq!((status, bad["messages"][0]["path"].clone()), (StatusCode::BAD_REQUEST, json!("$.line_items[0].quantity")));
    let (_, unknown) = send(&t, Method::GET, &format!("{SESSIONS}/chk_nope"), &json!({}), None).await;
    assert_eq!(unknown["messages"][0]["code"], "not_found");

    // More than the stock: a message, the session not ready; cancel works before completion.
    let (_, short) = send(&t, Method::POST, SESSIONS, &checkout(json!([{"item": {"id": ids[1]}, "quantity": 5}]), true), None).await;
    assert_eq!((short["status"].clone(), short["messages"][0]["code"].clone()), (json!("incomplete"), json!("out_of_stock")));
    let (status, canceled) =
        send(&t, Method::POST, &format!("{SESSIONS}/{}/cancel", short["id"].as_str().unwrap()), &json!({}), None).await;
    assert_eq!((status, canceled["status"].clone()), (StatusCode::OK, json!("canceled")));
}

#[tokio::test]
async fn a_mercadopago_checkout_hands_the_buyer_the_payment_page_and_completes_once_paid() {
    let mp = FakeMercadoPago::start().await;
    let t = TestApp::with(|s| {
        s.extend(mp.settings());
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15000", "21", 20)]).await;
    // Over MCP, as a shopper's AI host would.
    let create = json!({"name": "create_checkout", "arguments": {"meta": {"ucp-agent": {"profile": "https://agent.example/.well-known/ucp"}},
        "checkout": checkout(json!([{"item": {"id": ids[0]}, "quantity": 2}]), true)}});
    let (_, created) = rpc(&t, "/mcp", None, "tools/call", create).await;
    let session = created["result"]["structuredContent"].clone();
    assert_eq!(session["status"], "ready_for_complete", "{created}");
    let handlers = session["ucp"]["payment_handlers"].to_string();
    assert!(handlers.contains("\"mercadopago\""), "{handlers}");
    let id = session["id"].as_str().unwrap();
    let pay = json!({"name": "complete_checkout", "arguments": {"id": id, "meta": {"idempotency-key": "k1"},
        "checkout": {"payment": {"instruments": [{"id": "i1", "handler_id": "mercadopago", "type": "mercadopago"}]}}}});
    let (_, escalated) = rpc(&t, "/mcp", None, "tools/call", pay.clone()).await;
    let escalated = escalated["result"]["structuredContent"].clone();
    // UCP's MCP binding: the same call under its idempotency-key is answered again, unchanged;
    // other arguments under the key are a conflict.
    let (_, again) = rpc(&t, "/mcp", None, "tools/call", pay.clone()).await;
    assert_eq!(again["result"]["structuredContent"], escalated);
    let mut other = pay;
    other["arguments"]["checkout"]["payment"]["instruments"][0]["handler_id"] = json!("cash");
    let (_, conflict) = rpc(&t, "/mcp", None, "tools/call", other).await;
    assert_eq!(
        (conflict["result"]["isError"].clone(), conflict["result"]["structuredContent"]["code"].clone()),
        (json!(true), json!("idempotency_key_mismatch")),
        "{conflict}"
    );
    assert_eq!(escalated["status"], "requires_escalation", "{escalated}");
    assert_eq!(escalated["messages"][0]["severity"], "requires_buyer_input");
    let link = escalated["continue_url"].as_str().unwrap();
    let preference = link.split("pref_id=").nth(1).unwrap().to_string();
    let order_id = escalated["order"]["id"].as_str().unwrap().to_string();
    let order = expect_status(t.get(&format!("/api/sales/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(order["status"], "AWAITING_PAYMENT");

    // The buyer pays on Mercado Pago; its webhook arrives; the session reads completed.
    let mp_id = mp.pay(&preference, "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, chrono::Utc::now().timestamp(), SECRET);
    let mut request = t.client.post(t.url(&format!("/api/payments/webhook?{query}"))).json(&body);
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    let (_, read) = rpc(&t, "/mcp", None, "tools/call", json!({"name": "get_checkout", "arguments": {"id": id}})).await;
    let read = read["result"]["structuredContent"].clone();
    assert_eq!((read["status"].clone(), read["order"]["id"].clone()), (json!("completed"), json!(order_id)), "{read}");
    assert!(read.get("continue_url").is_none());
}

#[tokio::test]
async fn agents_racing_the_api_for_the_last_units_oversell_nothing() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Último vacío", "15000", "21", 3)]).await;
    let mut sessions = Vec::new();
    for _ in 0..6 {
        let (_, ready) = send(&t, Method::POST, SESSIONS, &checkout(json!([{"item": {"id": ids[0]}, "quantity": 1}]), true), None).await;
        assert_eq!(ready["status"], "ready_for_complete");
        sessions.push(ready["id"].as_str().unwrap().to_string());
    }
    let pay = json!({"payment": {"instruments": [{"id": "i1", "handler_id": "cash", "type": "cash"}]}});
    let agents = sessions.iter().map(|id| {
        let (t, pay) = (&t, &pay);
        async move {
            let (_, answer) = send(t, Method::POST, &format!("{SESSIONS}/{id}/complete"), pay, None).await;
            answer["status"] == "completed"
        }
    });
    let shoppers = (0..6).map(|_| {
        let t = &t;
        let body = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "eva@example.com");
        async move { t.request(Method::POST, "/api/sales", Some(&body), None).await.status() == StatusCode::CREATED }
    });
    let (agents, shoppers) = futures::join!(join_all(agents), join_all(shoppers));
    let sold = agents.iter().chain(&shoppers).filter(|won| **won).count();
    assert_eq!(sold, 3, "agents {agents:?}, shoppers {shoppers:?}");
    assert_eq!(stock_of(&t, &ids[0]).await, 0);
    let orders = expect_status(t.get("/api/sales?limit=100", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(orders["pagination"]["total"], 3);
}

#[tokio::test]
async fn a_card_through_stripe_pays_an_agent_checkout_and_a_declined_one_waits_for_another() {
    let stripe = crate::fake_stripe::FakeStripe::start().await;
    let t = TestApp::with(|s| {
        s.extend(stripe.settings());
        s.insert("STRIPE_PUBLISHABLE_KEY".into(), "pk_test_feria".into());
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15000", "21", 20)]).await;
    let profile = expect_status(t.get("/.well-known/ucp", None).await, StatusCode::OK).await;
    let handler = &profile["ucp"]["payment_handlers"]["com.stripe.payment_method"][0];
    assert_eq!(
        (handler["id"].clone(), handler["config"]["publishable_key"].clone()),
        (json!("stripe"), json!("pk_test_feria")),
        "{profile}"
    );

    let (_, ready) = send(&t, Method::POST, SESSIONS, &checkout(json!([{"item": {"id": ids[0]}, "quantity": 1}]), true), None).await;
    let complete = format!("{SESSIONS}/{}/complete", ready["id"].as_str().unwrap());
    let card = |token: Option<&str>| {
        let credential = token.map_or(json!({"type": "token"}), |t| json!({"type": "token", "token": t}));
        json!({"payment": {"instruments": [{"id": "c1", "handler_id": "stripe", "type": "card", "credential": credential}]}})
    };
    let (status, refused) = send(&t, Method::POST, &complete, &card(None), None).await;
    assert_eq!(
        (status, refused["messages"][0]["path"].clone()),
        (StatusCode::BAD_REQUEST, json!("$.payment.instruments[0].credential.token"))
    );

    // Declined: the order is placed and waits; the agent completes again with another card.
    let (status, declined) = send(&t, Method::POST, &complete, &card(Some("pm_card_chargeDeclined")), None).await;
    assert_eq!((status, declined["status"].clone()), (StatusCode::OK, json!("requires_escalation")), "{declined}");
    assert_eq!(declined["messages"][0]["code"], "payment_declined");
    let order_id = declined["order"]["id"].as_str().unwrap().to_string();
    let (_, paid) = send(&t, Method::POST, &complete, &card(Some("pm_card_visa")), None).await;
    assert_eq!((paid["status"].clone(), paid["order"]["id"].clone()), (json!("completed"), json!(order_id)), "{paid}");
    let order = expect_status(t.get(&format!("/api/sales/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(order["status"], "PAID");
    let (status, _) = send(&t, Method::POST, &complete, &card(Some("pm_card_visa")), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

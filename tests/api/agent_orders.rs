//! Orders placed by agents, as their platforms see them (UCP's order capability): the order
//! entity at `/ucp/v1/orders/{id}`, and signed webhooks to the platform's profile URL when the
//! order is placed and at every change, retried with the same id, timestamp and bytes.

use feria_providers::message_signatures::{content_digest, signature_base, verify};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_platform::{Delivery, FakePlatform};
use crate::harness::{TestApp, expect_status};
use crate::sales::{app, products};

/// `body` sent to feria as the platform `platform` (its profile in `UCP-Agent`); the answer.
async fn as_platform(t: &TestApp, platform: &FakePlatform, method: Method, path: String, body: Value) -> (StatusCode, Value) {
    let response = t
        .client
        .request(method, t.url(&path))
        .header("ucp-agent", format!("profile=\"{}\"", platform.profile))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json::<Value>().await.unwrap())
}

/// Checks `delivery`'s envelope and signature against feria's published keys.
fn assert_signed(delivery: &Delivery, profile: &Value, webhook: &str) {
    assert_eq!(delivery.header("content-digest"), content_digest(&delivery.body));
    assert!(delivery.header("ucp-agent").ends_with("/.well-known/ucp\""), "{}", delivery.header("ucp-agent"));
    let input = delivery.header("signature-input");
    let params = input.strip_prefix("sig1=").expect("label sig1");
    let names: Vec<&str> = params[1..params.find(')').unwrap()].split(' ').map(|n| n.trim_matches('"')).collect();
    assert_eq!(names, ["@method", "@authority", "@path", "content-digest", "content-type", "ucp-agent"]);
    let kid = params.split("keyid=\"").nth(1).unwrap().trim_end_matches('"');
    let key = profile["signing_keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).expect("the key is published");
    let authority = webhook.strip_prefix("http://").unwrap().split('/').next().unwrap().to_string();
    let values: Vec<(&str, String)> = names
        .iter()
        .map(|name| {
            let value = match *name {
                "@method" => "POST".to_string(),
                "@authority" => authority.clone(),
                "@path" => "/webhooks/orders".to_string(),
                header => delivery.header(header),
            };
            (*name, value)
        })
        .collect();
    let components: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let signature = delivery.header("signature");
    let raw = signature.strip_prefix("sig1=:").unwrap().trim_end_matches(':');
    assert!(verify(key, &signature_base(&components, params), raw), "the signature verifies");
}

#[tokio::test]
async fn a_platform_reads_its_order_and_hears_of_every_change_signed() {
    let platform = FakePlatform::start().await;
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15000", "21", 20)]).await;
    let profile = expect_status(t.get("/.well-known/ucp", None).await, StatusCode::OK).await;
    assert!(profile["ucp"]["capabilities"]["dev.ucp.shopping.order"].is_array(), "{profile}");
    let send = |method: Method, path: String, body: Value| as_platform(&t, &platform, method, path, body);

    let checkout = json!({"line_items": [{"id": "li_1", "item": {"id": ids[0]}, "quantity": 2}],
        "buyer": {"first_name": "Jane", "email": "jane@example.com"},
        "fulfillment": {"methods": [{"type": "shipping", "destinations": [{"street_address": "Av. Corrientes 1234",
            "address_locality": "CABA", "postal_code": "C1043", "address_country": "AR"}]}]}});
    let (status, session) = send(Method::POST, "/ucp/v1/checkout-sessions".into(), checkout).await;
    assert_eq!((status, session["status"].clone()), (StatusCode::CREATED, json!("ready_for_complete")), "{session}");
    let session_id = session["id"].as_str().unwrap().to_string();

    // The first delivery fails: the retry carries the same id, timestamp and bytes.
    platform.fail_next(1);
    let pay = json!({"payment": {"instruments": [{"id": "i1", "handler_id": "cash", "type": "cash"}]}});
    let (status, done) = send(Method::POST, format!("/ucp/v1/checkout-sessions/{session_id}/complete"), pay).await;
    assert_eq!((status, done["status"].clone()), (StatusCode::OK, json!("completed")), "{done}");
    let order_id = done["order"]["id"].as_str().unwrap().to_string();
    let created = platform.wait_for(2).await;
    assert_eq!((created[0].status, created[1].status), (StatusCode::INTERNAL_SERVER_ERROR, StatusCode::OK));
    assert_eq!(created[0].header("webhook-id"), created[1].header("webhook-id"));
    assert_eq!(created[0].header("webhook-timestamp"), created[1].header("webhook-timestamp"));
    assert_eq!(created[0].body, created[1].body);
    let timestamp: i64 = created[1].header("webhook-timestamp").parse().unwrap();
    assert!((1_000_000_000..4_000_000_000).contains(&timestamp));
    assert_signed(&created[1], &profile, &platform.webhook);
    let order = created[1].json();
    assert_eq!((order["id"].clone(), order["checkout_id"].clone()), (json!(order_id), json!(session_id)));
    assert_eq!(order["line_items"][0]["quantity"], json!({"original": 2, "total": 2, "fulfilled": 0}));
    assert_eq!(order["line_items"][0]["status"], "processing");
    assert_eq!(order["fulfillment"]["expectations"][0]["destination"]["street_address"], "Av. Corrientes 1234");
    assert_eq!(order["totals"].as_array().unwrap().last().unwrap(), &json!({"type": "total", "amount": 3_630_000}));

    // The order read by the platform is the snapshot it was sent; another platform, or an
    // order no agent placed, reads as not found.
    let (status, read) = send(Method::GET, format!("/ucp/v1/orders/{order_id}"), json!({})).await;
    assert_eq!((status, read.clone()), (StatusCode::OK, order.clone()));
    let anonymous: Value = t.client.get(t.url(&format!("/ucp/v1/orders/{order_id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(anonymous["messages"][0]["code"], "not_found");
    let other = t
        .client
        .get(t.url(&format!("/ucp/v1/orders/{order_id}")))
        .header("ucp-agent", "profile=\"https://other.example/profile.json\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.json::<Value>().await.unwrap()["messages"][0]["code"], "not_found");
    let (_, unknown) = send(Method::GET, "/ucp/v1/orders/01900000-0000-7000-8000-000000000000".into(), json!({})).await;
    assert_eq!((unknown["ucp"]["status"].clone(), unknown["messages"][0]["code"].clone()), (json!("error"), json!("not_found")));

    // The shop ships it: one delivery per status change, the last with the shipped event.
    for (step, code) in ["CONFIRMED", "PROCESSING", "SHIPPED"].iter().enumerate() {
        let path = format!("/api/sales/{order_id}/status");
        expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": code})), Some(&admin)).await, StatusCode::OK).await;
        platform.wait_for(3 + step).await;
    }
    let shipped = platform.deliveries().last().unwrap().clone();
    assert_signed(&shipped, &profile, &platform.webhook);
    let shipped = shipped.json();
    let events: Vec<&str> = shipped["fulfillment"]["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(events, ["processing", "shipped"]);
    assert_eq!(shipped["line_items"][0]["status"], "fulfilled");
    let (_, read) = send(Method::GET, format!("/ucp/v1/orders/{order_id}"), json!({})).await;
    assert_eq!(read, shipped);
}

#[tokio::test]
async fn without_a_reachable_profile_the_checkout_completes_and_nothing_is_pushed() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15000", "21", 20)]).await;
    let checkout = json!({"line_items": [{"item": {"id": ids[0]}, "quantity": 1}], "buyer": {"email": "a@example.com"},
        "fulfillment": {"methods": [{"type": "shipping", "destinations": [{"street_address": "Calle 1"}]}]}});
    let agent = "profile=\"http://127.0.0.1:9/profile.json\"";
    let created = t.client.post(t.url("/ucp/v1/checkout-sessions")).header("ucp-agent", agent).json(&checkout).send().await.unwrap();
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let pay = json!({"payment": {"instruments": [{"id": "i1", "handler_id": "cash", "type": "cash"}]}});
    let url = t.url(&format!("/ucp/v1/checkout-sessions/{id}/complete"));
    let done: Value = t.client.post(url).header("ucp-agent", agent).json(&pay).send().await.unwrap().json().await.unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    let jobs = expect_status(t.get("/api/admin/jobs", Some(&admin)).await, StatusCode::OK).await;
    assert!(!jobs.to_string().contains("ucp_order_webhook"), "{jobs}");

    // Outside conformance mode there is no simulation and no mock card.
    let order_id = done["order"]["id"].as_str().unwrap();
    let simulated =
        t.client.post(t.url(&format!("/testing/simulate-shipping/{order_id}"))).header("simulation-secret", "").send().await.unwrap();
    assert_eq!(simulated.status(), StatusCode::NOT_FOUND);
    let profile = expect_status(t.get("/.well-known/ucp", None).await, StatusCode::OK).await;
    assert!(!profile.to_string().contains("mock_payment_handler"), "{profile}");
}

#[tokio::test]
async fn in_conformance_mode_a_mock_card_pays_the_rate_is_charged_and_the_order_ships_by_simulation() {
    let platform = FakePlatform::start().await;
    let t = TestApp::with(|s| {
        s.insert("UCP_SIMULATION_SECRET".into(), "s3cret-de-prueba".into());
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Ramo de rosas", "35", "0", 10)]).await;
    for rate in [
        json!({"code": "std-ship", "title": "Estándar", "serviceLevel": "standard", "price": "5.00", "freeFrom": "100.00"}),
        json!({"code": "exp-us", "title": "Express EE.UU.", "country": "US", "serviceLevel": "express", "price": "15.00"}),
        json!({"code": "exp-intl", "title": "Express internacional", "serviceLevel": "express", "price": "25.00"}),
    ] {
        expect_status(t.request(Method::POST, "/api/shipping-rates", Some(&rate), Some(&admin)).await, StatusCode::CREATED).await;
    }
    let send = |method: Method, path: String, body: Value| as_platform(&t, &platform, method, path, body);
    let options = |session: &Value| -> Vec<(String, i64)> {
        session["fulfillment"]["methods"][0]["groups"][0]["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["id"].as_str().unwrap().to_string(), o["totals"][0]["amount"].as_i64().unwrap()))
            .collect()
    };

    // A country prices the options (its own express rate, else the default one); the agent's
    // ids and the buyer's consent come back; without a street the session is not ready.
    let method = |destination: Value, option: Option<&str>| {
        json!({"methods": [{"id": "m_9", "type": "shipping", "destinations": [destination], "selected_destination_id": destination["id"],
            "groups": [{"id": "g_3", "selected_option_id": option}]}]})
    };
    let mut body = json!({"line_items": [{"id": "li_7", "item": {"id": ids[0]}, "quantity": 1}],
        "buyer": {"email": "ana@example.com", "consent": {"marketing": true, "analytics": false}},
        "fulfillment": method(json!({"id": "d_ca", "address_country": "CA", "postal_code": "M5V 2H1"}), None)});
    let (status, session) = send(Method::POST, "/ucp/v1/checkout-sessions".into(), body.clone()).await;
    assert_eq!((status, session["status"].clone()), (StatusCode::CREATED, json!("incomplete")), "{session}");
    assert_eq!(options(&session), [("std-ship".to_string(), 500), ("exp-intl".to_string(), 2500)]);
    let fulfillment = &session["fulfillment"]["methods"][0];
    assert_eq!((fulfillment["id"].clone(), fulfillment["groups"][0]["id"].clone()), (json!("m_9"), json!("g_3")));
    assert_eq!((fulfillment["selected_destination_id"].clone(), session["line_items"][0]["id"].clone()), (json!("d_ca"), json!("li_7")));
    assert_eq!(session["buyer"]["consent"], json!({"marketing": true, "analytics": false}));
    assert_eq!(session["messages"][0]["path"], "$.fulfillment.methods[0].destinations[0].street_address");
    let id = session["id"].as_str().unwrap().to_string();

    body["fulfillment"] = method(json!({"id": "d_us", "street_address": "123 Market St", "address_country": "US"}), Some("exp-us"));
    let (_, ready) = send(Method::PUT, format!("/ucp/v1/checkout-sessions/{id}"), body).await;
    assert_eq!(ready["status"], "ready_for_complete", "{ready}");
    assert_eq!(options(&ready), [("std-ship".to_string(), 500), ("exp-us".to_string(), 1500)]);
    assert_eq!(ready["totals"].as_array().unwrap().last().unwrap()["amount"], 5000);

    // The mock card: a declined token is a 402 and leaves the session as it was.
    let pay = |token: &str| {
        json!({"payment": {"instruments": [{"id": "i1", "handler_id": "mock_payment_handler", "type": "card",
            "credential": {"type": "token", "token": token}}]}, "risk_signals": {}})
    };
    let complete = format!("/ucp/v1/checkout-sessions/{id}/complete");
    let (_, declined) = send(Method::POST, complete.clone(), pay("fail_token")).await;
    assert_eq!(declined["messages"][0]["code"], "payment_declined", "{declined}");

    // The rate changed since the agent saw the totals: completing shows the new ones first.
    let rates = expect_status(t.get("/api/shipping-rates", Some(&admin)).await, StatusCode::OK).await;
    let express =
        rates["shippingRates"].as_array().unwrap().iter().find(|r| r["code"] == "exp-us").unwrap()["id"].as_str().unwrap().to_string();
    let change = json!({"price": "16.00"});
    expect_status(t.request(Method::PUT, &format!("/api/shipping-rates/{express}"), Some(&change), Some(&admin)).await, StatusCode::OK)
        .await;
    let (status, repriced) = send(Method::POST, complete.clone(), pay("success_token")).await;
    assert_eq!((status, repriced["status"].clone()), (StatusCode::OK, json!("ready_for_complete")), "{repriced}");
    assert_eq!(repriced["messages"].as_array().unwrap().last().unwrap()["code"], "price_changed");
    assert_eq!(repriced["totals"].as_array().unwrap().last().unwrap()["amount"], 5100);
    let (status, declined) = send(Method::POST, complete.clone(), pay("fail_token")).await;
    assert_eq!((status, declined["messages"][0]["code"].clone()), (StatusCode::PAYMENT_REQUIRED, json!("payment_declined")));
    let (status, done) = send(Method::POST, complete, pay("success_token")).await;
    assert_eq!((status, done["status"].clone()), (StatusCode::OK, json!("completed")), "{done}");
    let order_id = done["order"]["id"].as_str().unwrap().to_string();
    let order = expect_status(t.get(&format!("/api/sales/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((order["total"].clone(), order["shipping"].clone()), (json!(51), json!(16)), "{order}");
    platform.wait_for(1).await;

    // The simulation needs the secret; it walks the workflow to SHIPPED and tells the platform.
    let simulate = |secret: Option<&str>, order: &str| {
        let mut request = t.client.post(t.url(&format!("/testing/simulate-shipping/{order}")));
        if let Some(secret) = secret {
            request = request.header("simulation-secret", secret);
        }
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(simulate(None, &order_id).await, StatusCode::FORBIDDEN);
    assert_eq!(simulate(Some("otro"), &order_id).await, StatusCode::FORBIDDEN);
    assert_eq!(simulate(Some("s3cret-de-prueba"), "01900000-0000-7000-8000-000000000000").await, StatusCode::NOT_FOUND);
    assert_eq!(simulate(Some("s3cret-de-prueba"), &order_id).await, StatusCode::OK);
    let shipped = platform.wait_for(2).await.last().unwrap().json();
    let events: Vec<&str> = shipped["fulfillment"]["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(events.contains(&"shipped"), "{shipped}");
    assert_eq!(shipped["fulfillment"]["expectations"][0]["description"], "Express EE.UU.");
}

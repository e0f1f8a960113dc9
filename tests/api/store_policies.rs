//! A store's policies (shipping, returns, payments, hours): staff write them, anyone reads them,
//! and agents read them as MCP resources next to the store's shipping rates.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};
use crate::mcp::rpc;

const POLICIES: &str = "/api/store-policies";

#[tokio::test]
async fn staff_write_policies_that_buyers_and_agents_read() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    assert_eq!(expect_status(t.get(POLICIES, None).await, StatusCode::OK).await, json!({"policies": []}));

    let returns = json!({"body": "Cambios dentro de los 30 días con el ticket."});
    let written =
        expect_status(t.request(Method::PUT, &format!("{POLICIES}/returns"), Some(&returns), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((written["kind"].clone(), written["title"].clone()), (json!("returns"), json!("Cambios y devoluciones")));
    let hours = json!({"body": "Lunes a sábados de 9 a 20."});
    expect_status(t.request(Method::PUT, &format!("{POLICIES}/hours"), Some(&hours), Some(&admin)).await, StatusCode::OK).await;
    let again = json!({"body": "Cambios dentro de los 15 días."});
    expect_status(t.request(Method::PUT, &format!("{POLICIES}/returns"), Some(&again), Some(&admin)).await, StatusCode::OK).await;
    let listed = expect_status(t.get(POLICIES, None).await, StatusCode::OK).await;
    let kinds: Vec<(&str, &str)> =
        listed["policies"].as_array().unwrap().iter().map(|p| (p["kind"].as_str().unwrap(), p["body"].as_str().unwrap())).collect();
    assert_eq!(kinds, [("returns", "Cambios dentro de los 15 días."), ("hours", "Lunes a sábados de 9 a 20.")]);

    // Refused: empty or too long, an unknown kind, anyone without the scope.
    for body in [json!({}), json!({"body": "  "}), json!({"body": "x".repeat(5001)})] {
        expect_error(
            t.request(Method::PUT, &format!("{POLICIES}/returns"), Some(&body), Some(&admin)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    expect_error(
        t.request(Method::PUT, &format!("{POLICIES}/privacy"), Some(&returns), Some(&admin)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(
        t.request(Method::PUT, &format!("{POLICIES}/returns"), Some(&returns), Some(&user)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        t.request(Method::PUT, &format!("{POLICIES}/returns"), Some(&returns), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;

    // Agents list the written ones and read them; the store's page carries them and the rates.
    let rate = json!({"code": "std", "title": "Estándar", "serviceLevel": "standard", "price": "1500", "freeFrom": "60000"});
    expect_status(t.request(Method::POST, "/api/shipping-rates", Some(&rate), Some(&admin)).await, StatusCode::CREATED).await;
    let (_, listed) = rpc(&t, "/mcp", None, "resources/list", json!({})).await;
    let uris: Vec<&str> = listed["result"]["resources"].as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    assert_eq!(uris, ["feria://store", "feria://policies/returns", "feria://policies/hours"]);
    let (_, read) = rpc(&t, "/mcp", None, "resources/read", json!({"uri": "feria://policies/returns"})).await;
    assert_eq!(read["result"]["contents"][0]["text"], "Cambios y devoluciones\n\nCambios dentro de los 15 días.", "{read}");
    let (_, store) = rpc(&t, "/mcp", None, "resources/read", json!({"uri": "feria://store"})).await;
    let store: Value = serde_json::from_str(store["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(store["policies"]["hours"], "Lunes a sábados de 9 a 20.");
    assert_eq!(
        (store["shippingRates"][0]["price"].clone(), store["shippingRates"][0]["freeFrom"].clone()),
        (json!("1500"), json!("60000"))
    );

    expect_status(t.request(Method::DELETE, &format!("{POLICIES}/hours"), None, Some(&admin)).await, StatusCode::NO_CONTENT).await;
    expect_error(t.request(Method::DELETE, &format!("{POLICIES}/hours"), None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    let (_, gone) = rpc(&t, "/mcp", None, "resources/read", json!({"uri": "feria://policies/hours"})).await;
    assert!(gone["error"].is_object(), "{gone}");
}

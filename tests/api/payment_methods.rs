//! Payment methods: the seeded ones, public and admin reads, writes, status references, stores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

fn by_code<'a>(methods: &'a [Value], code: &str) -> &'a Value {
    methods.iter().find(|m| m["code"] == code).unwrap_or_else(|| panic!("{code} missing"))
}

#[tokio::test]
async fn every_store_starts_with_the_usual_methods() {
    let t = TestApp::spawn().await;
    let active = expect_status(t.get("/api/payment-methods/active", None).await, StatusCode::OK).await;
    let methods = active.as_array().expect("seed 001 answers a bare list");
    let codes: Vec<&str> = methods.iter().map(|m| m["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["BANK_TRANSFER", "CASH", "CREDIT_CARD", "DEBIT_CARD", "MERCADO_PAGO"]);
    for (code, status, online, manual) in [
        ("CASH", "PENDING", false, true),
        ("BANK_TRANSFER", "AWAITING_PAYMENT", false, true),
        ("MERCADO_PAGO", "AWAITING_PAYMENT", true, false),
        ("CREDIT_CARD", "AWAITING_PAYMENT", true, false),
        ("DEBIT_CARD", "AWAITING_PAYMENT", true, false),
    ] {
        let m = by_code(methods, code);
        assert_eq!(m["defaultOrderStatusId"]["code"], status, "{code}");
        assert!(m["defaultOrderStatusId"]["_id"].is_string() && m["defaultOrderStatusId"]["color"].is_string());
        assert_eq!((m["requiresOnlinePayment"].as_bool(), m["allowsManualConfirmation"].as_bool()), (Some(online), Some(manual)), "{code}");
    }
    let cash = expect_status(t.get("/api/payment-methods/code/cash", None).await, StatusCode::OK).await;
    assert_eq!(cash["name"], "Efectivo");
    expect_error(t.get("/api/payment-methods/code/PAYPAL", None).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn admins_manage_methods() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(t.get("/api/payment-methods", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    expect_error(t.get("/api/payment-methods", Some(&user)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let page = expect_status(t.get("/api/payment-methods?limit=2", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((page["total"].as_i64(), page["paymentMethods"].as_array().unwrap().len()), (Some(5), 2));

    let err = expect_error(
        t.request(Method::POST, "/api/payment-methods", Some(&json!({"code": "pay pal"})), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["code", "name", "description", "defaultOrderStatusId", "requiresOnlinePayment", "allowsManualConfirmation"]);
    let body = json!({
        "code": "paypal", "name": "PayPal", "description": "Pago con PayPal", "defaultOrderStatusId": "NOPE",
        "requiresOnlinePayment": true, "allowsManualConfirmation": false
    });
    let err = expect_error(
        t.request(Method::POST, "/api/payment-methods", Some(&body), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "defaultOrderStatusId");

    let awaiting = expect_status(t.get("/api/order-statuses/code/AWAITING_PAYMENT", None).await, StatusCode::OK).await;
    let mut body = body;
    body["defaultOrderStatusId"] = awaiting["id"].clone();
    let paypal = expect_status(t.request(Method::POST, "/api/payment-methods", Some(&body), Some(&admin)).await, StatusCode::CREATED).await;
    assert_eq!((paypal["code"].as_str(), paypal["isActive"].as_bool()), (Some("PAYPAL"), Some(true)));
    assert_eq!(paypal["defaultOrderStatusId"]["_id"], awaiting["id"]);
    expect_error(t.request(Method::POST, "/api/payment-methods", Some(&body), Some(&admin)).await, StatusCode::CONFLICT, "code_taken")
        .await;

    // Off: gone from the public list, still listed for admins; the status can be given by code.
    let path = format!("/api/payment-methods/{}", paypal["id"].as_str().unwrap());
    let change = json!({"isActive": false, "defaultOrderStatusId": "PENDING"});
    let updated = expect_status(t.request(Method::PUT, &path, Some(&change), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((updated["isActive"].as_bool(), updated["defaultOrderStatusId"]["code"].as_str()), (Some(false), Some("PENDING")));
    assert_eq!(updated["name"], "PayPal", "fields not sent are kept");
    let active = expect_status(t.get("/api/payment-methods/active", None).await, StatusCode::OK).await;
    assert!(active.as_array().unwrap().iter().all(|m| m["code"] != "PAYPAL"));
    assert_eq!(expect_status(t.get(&path, Some(&admin)).await, StatusCode::OK).await["isActive"], false);

    // A status used by a method cannot be deleted.
    let pending = expect_status(t.get("/api/order-statuses/code/CONFIRMED", None).await, StatusCode::OK).await;
    let cash = expect_status(t.get("/api/payment-methods/code/CASH", None).await, StatusCode::OK).await;
    let to_confirmed = json!({"defaultOrderStatusId": pending["id"]});
    let cash_path = format!("/api/payment-methods/{}", cash["id"].as_str().unwrap());
    expect_status(t.request(Method::PUT, &cash_path, Some(&to_confirmed), Some(&admin)).await, StatusCode::OK).await;
    let status_path = format!("/api/order-statuses/{}", pending["id"].as_str().unwrap());
    expect_error(t.request(Method::DELETE, &status_path, None, Some(&admin)).await, StatusCode::CONFLICT, "in_use").await;

    let deleted = expect_status(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(
        (deleted["code"].as_str(), deleted["defaultOrderStatusId"].clone()),
        (Some("PAYPAL"), updated["defaultOrderStatusId"]["_id"].clone())
    );
    expect_error(t.get(&path, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn methods_and_their_statuses_stay_in_their_store() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "clp", "country": "cl"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&admin)).await, StatusCode::CREATED).await;
    let theirs = expect_status(t.get("/api/stores/carnes-del-sur/payment-methods/code/CASH", None).await, StatusCode::OK).await;
    let ours = expect_status(t.get("/api/payment-methods/code/CASH", None).await, StatusCode::OK).await;
    assert_ne!(theirs["id"], ours["id"]);
    assert_ne!(theirs["defaultOrderStatusId"]["_id"], ours["defaultOrderStatusId"]["_id"], "each store its own statuses");
    expect_error(
        t.get(&format!("/api/payment-methods/{}", theirs["id"].as_str().unwrap()), Some(&admin)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Our method cannot point at their status.
    let change = json!({"defaultOrderStatusId": theirs["defaultOrderStatusId"]["_id"]});
    let path = format!("/api/payment-methods/{}", ours["id"].as_str().unwrap());
    expect_error(t.request(Method::PUT, &path, Some(&change), Some(&admin)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;
}

//! Order statuses: the seeded workflow, CRUD, transitions by code or id, one default, stores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

fn codes_of(page: &Value) -> Vec<String> {
    page["orderStatuses"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap().to_string()).collect()
}

/// The store's statuses by code: (id, codes it leads to).
async fn workflow(t: &TestApp, admin: &str, prefix: &str) -> std::collections::HashMap<String, (String, Vec<String>)> {
    let page = expect_status(t.get(&format!("{prefix}/order-statuses?limit=100"), Some(admin)).await, StatusCode::OK).await;
    let statuses = page["orderStatuses"].as_array().unwrap();
    let code_of = |id: &Value| statuses.iter().find(|s| s["id"] == *id).unwrap()["code"].as_str().unwrap().to_string();
    statuses
        .iter()
        .map(|s| {
            let targets = s["canTransitionTo"].as_array().unwrap().iter().map(code_of).collect();
            (s["code"].as_str().unwrap().to_string(), (s["id"].as_str().unwrap().to_string(), targets))
        })
        .collect()
}

#[tokio::test]
async fn every_store_starts_with_the_default_workflow() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let flow = workflow(&t, &admin, "/api").await;
    let leads = |code: &str| flow[code].1.iter().map(String::as_str).collect::<Vec<_>>();
    assert_eq!(leads("PENDING"), ["AWAITING_PAYMENT", "CONFIRMED", "CANCELLED"]);
    assert_eq!(leads("AWAITING_PAYMENT"), ["PAID", "CANCELLED"]);
    assert_eq!(leads("CONFIRMED"), ["PROCESSING", "CANCELLED"]);
    assert_eq!(leads("PAID"), ["PROCESSING", "CANCELLED", "REFUNDED"]);
    assert_eq!(leads("PROCESSING"), ["SHIPPED", "CANCELLED", "REFUNDED"]);
    assert_eq!(leads("SHIPPED"), ["DELIVERED", "REFUNDED"]);
    assert_eq!(leads("DELIVERED"), ["REFUNDED"]);
    assert!(leads("CANCELLED").is_empty() && leads("REFUNDED").is_empty(), "terminal statuses");

    let default = expect_status(t.get("/api/order-statuses/default", None).await, StatusCode::OK).await;
    assert_eq!(
        (default["code"].as_str(), default["isDefault"].as_bool(), default["order"].as_i64()),
        (Some("PENDING"), Some(true), Some(1))
    );
    assert!(default["color"].as_str().unwrap().starts_with('#'));
    let active = expect_status(t.get("/api/order-statuses/active?limit=100", None).await, StatusCode::OK).await;
    assert_eq!(active["total"], 9);
    assert_eq!(codes_of(&active)[..3], ["PENDING", "AWAITING_PAYMENT", "CONFIRMED"], "display order");
    let paid = expect_status(t.get("/api/order-statuses/code/paid", None).await, StatusCode::OK).await;
    assert_eq!(paid["name"], "Pagado");
    expect_error(t.get("/api/order-statuses/code/NOPE", None).await, StatusCode::NOT_FOUND, "not_found").await;

    // A new store gets its own copy.
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "clp", "country": "cl"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&admin)).await, StatusCode::CREATED).await;
    let theirs = workflow(&t, &admin, "/api/stores/carnes-del-sur").await;
    assert_eq!(theirs.len(), 9);
    assert_ne!(theirs["PENDING"].0, flow["PENDING"].0);
    let path = format!("/api/order-statuses/{}", theirs["PAID"].0);
    expect_error(t.get(&path, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn admins_manage_statuses_and_transitions() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(t.get("/api/order-statuses", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    expect_error(t.get("/api/order-statuses", Some(&user)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let flow = workflow(&t, &admin, "/api").await;

    let bad = json!({"code": "x y", "color": "azul", "order": -1, "canTransitionTo": ["NOPE"]});
    let err = expect_error(
        t.request(Method::POST, "/api/order-statuses", Some(&bad), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["code", "name", "color", "order"]);
    let unknown = json!({"code": "on_hold", "name": "En espera", "canTransitionTo": ["NOPE"]});
    let err = expect_error(
        t.request(Method::POST, "/api/order-statuses", Some(&unknown), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "canTransitionTo");

    // Targets by code or by id, repeated ones once.
    let body = json!({"code": "on_hold", "name": "En espera", "color": "#abc", "canTransitionTo": ["processing", flow["CANCELLED"].0, "PROCESSING"]});
    let hold = expect_status(t.request(Method::POST, "/api/order-statuses", Some(&body), Some(&admin)).await, StatusCode::CREATED).await;
    assert_eq!((hold["code"].as_str(), hold["order"].as_i64(), hold["isDefault"].as_bool()), (Some("ON_HOLD"), Some(10), Some(false)));
    assert_eq!(hold["canTransitionTo"], json!([flow["PROCESSING"].0, flow["CANCELLED"].0]));
    let dup = json!({"code": "ON_HOLD", "name": "Otra"});
    expect_error(t.request(Method::POST, "/api/order-statuses", Some(&dup), Some(&admin)).await, StatusCode::CONFLICT, "code_taken").await;

    let hold_id = hold["id"].as_str().unwrap().to_string();
    let transitions = format!("/api/order-statuses/{hold_id}/transitions");
    let itself = json!({"canTransitionTo": ["SHIPPED", "ON_HOLD"]});
    let err = expect_error(
        t.request(Method::PATCH, &transitions, Some(&itself), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(err["details"][0]["message"].as_str().unwrap().contains("sí mismo"));
    let after = expect_status(t.get(&format!("/api/order-statuses/{hold_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(after["canTransitionTo"], hold["canTransitionTo"], "a refused change changes nothing");
    let set = json!({"canTransitionTo": ["SHIPPED"]});
    let updated = expect_status(t.request(Method::PATCH, &transitions, Some(&set), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((updated["canTransitionTo"].clone(), updated["name"].clone()), (json!([flow["SHIPPED"].0]), json!("En espera")));

    let check = |from: &str, to: &str| json!({"fromStatusId": from, "toStatusId": to});
    for (from, to, valid) in [
        (flow["PENDING"].0.as_str(), flow["CONFIRMED"].0.as_str(), true),
        (flow["PENDING"].0.as_str(), flow["SHIPPED"].0.as_str(), false),
        ("CANCELLED", "PENDING", false),
        ("ON_HOLD", "SHIPPED", true),
        ("NOPE", "PENDING", false),
    ] {
        let res = t.request(Method::POST, "/api/order-statuses/validate-transition", Some(&check(from, to)), Some(&admin)).await;
        assert_eq!(expect_status(res, StatusCode::OK).await, json!({"isValid": valid}), "{from} → {to}");
    }

    // One default at a time; the default cannot be switched off, deactivated or deleted.
    let pending = format!("/api/order-statuses/{}", flow["PENDING"].0);
    for change in [json!({"isDefault": false}), json!({"isActive": false})] {
        expect_error(t.request(Method::PUT, &pending, Some(&change), Some(&admin)).await, StatusCode::CONFLICT, "default_required").await;
    }
    expect_error(t.request(Method::DELETE, &pending, None, Some(&admin)).await, StatusCode::CONFLICT, "default_required").await;
    let make_default = json!({"isDefault": true, "name": "En espera de revisión"});
    let hold_path = format!("/api/order-statuses/{hold_id}");
    expect_status(t.request(Method::PUT, &hold_path, Some(&make_default), Some(&admin)).await, StatusCode::OK).await;
    let default = expect_status(t.get("/api/order-statuses/default", None).await, StatusCode::OK).await;
    assert_eq!(default["id"], json!(hold_id));
    let previous = expect_status(t.get(&pending, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(previous["isDefault"], false);
    let deactivate = json!({"isActive": false});
    let off = expect_status(t.request(Method::PUT, &pending, Some(&deactivate), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(off["isActive"], false);
    let listed = expect_status(t.get("/api/order-statuses?activeOnly=true&limit=100", Some(&admin)).await, StatusCode::OK).await;
    assert!(!codes_of(&listed).contains(&"PENDING".to_string()));
    assert_eq!(expect_status(t.get("/api/order-statuses?limit=100", Some(&admin)).await, StatusCode::OK).await["total"], 10);

    // A status a payment method starts orders in cannot go (CASH starts in PENDING).
    expect_error(t.request(Method::DELETE, &pending, None, Some(&admin)).await, StatusCode::CONFLICT, "in_use").await;
    // Deleting a status removes it from every list of targets.
    let confirmed = format!("/api/order-statuses/{}", flow["CONFIRMED"].0);
    let deleted = expect_status(t.request(Method::DELETE, &confirmed, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(deleted, json!({"message": "Estado de pedido eliminado"}));
    expect_error(t.get(&confirmed, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    let flow = workflow(&t, &admin, "/api").await;
    assert_eq!(flow["PENDING"].1, ["AWAITING_PAYMENT", "CANCELLED"]);
    assert!(flow.values().all(|(_, targets)| !targets.contains(&"CONFIRMED".to_string())));
}

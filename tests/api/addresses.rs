//! Addresses: the logged-in user's, one default, full address, never another user's.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

async fn post(t: &TestApp, path: &str, body: Value, token: &str) -> Value {
    expect_status(t.request(Method::POST, path, Some(&body), Some(token)).await, StatusCode::CREATED).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn users_keep_their_addresses_with_exactly_one_default() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let caba = id(&post(&t, "/api/cities", json!({"name": "CABA", "description": "Capital"}), &admin).await);
    let rosario = id(&post(&t, "/api/cities", json!({"name": "Rosario", "description": "Santa Fe"}), &admin).await);
    let palermo = id(&post(&t, "/api/neighborhoods", json!({"name": "Palermo", "description": "Norte", "cityId": caba}), &admin).await);
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let bruno = t.register("Bruno", "bruno@example.com", "secreto1").await["token"].as_str().unwrap().to_string();

    expect_error(t.get("/api/addresses", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let err = expect_error(
        t.request(Method::POST, "/api/addresses", Some(&json!({"phone": "abc"})), Some(&ana)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["recipientName", "phone", "streetAddress", "selectedNeighborhoodId"]);
    let home = json!({"recipientName": "Ana Díaz", "phone": "+54 11 5555-1234", "streetAddress": "Gorriti 4500", "selectedNeighborhoodId": palermo, "postalCode": "1414", "alias": "Casa"});
    let mut wrong_city = home.clone();
    wrong_city["cityId"] = json!(rosario);
    let err = expect_error(
        t.request(Method::POST, "/api/addresses", Some(&wrong_city), Some(&ana)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "cityId");

    let first = post(&t, "/api/addresses", home, &ana).await;
    assert_eq!(first["isDefault"], true, "the first address is the default");
    assert_eq!(first["fullAddress"], "Gorriti 4500, Palermo, CABA (CP 1414)");
    assert_eq!((first["city"]["name"].as_str(), first["neighborhood"]["city"]["id"].as_str()), (Some("CABA"), Some(caba.as_str())));
    let work = json!({"recipientName": "Ana Díaz", "phone": "1144445555", "streetAddress": "Cabildo 100", "selectedNeighborhoodId": palermo, "cityId": caba});
    let second = post(&t, "/api/addresses", work, &ana).await;
    assert_eq!((second["isDefault"].as_bool(), second["postalCode"].clone()), (Some(false), Value::Null));
    assert_eq!(second["customerId"], first["customerId"]);

    let marked =
        expect_status(t.request(Method::PATCH, &format!("/api/addresses/{}/default", id(&second)), None, Some(&ana)).await, StatusCode::OK)
            .await;
    assert_eq!(marked, json!({"message": "Dirección marcada como predeterminada", "address": {"id": id(&second), "isDefault": true}}));
    let page = expect_status(t.get("/api/addresses", Some(&ana)).await, StatusCode::OK).await;
    let defaults: Vec<bool> = page["addresses"].as_array().unwrap().iter().map(|a| a["isDefault"].as_bool().unwrap()).collect();
    assert_eq!((page["total"].as_i64(), defaults), (Some(2), vec![true, false]), "exactly one default, listed first");

    let path = format!("/api/addresses/{}", id(&first));
    let change = json!({"alias": null, "additionalInfo": "Timbre 3B"});
    let updated = expect_status(t.request(Method::PUT, &path, Some(&change), Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(
        (updated["alias"].clone(), updated["additionalInfo"].as_str(), updated["streetAddress"].as_str()),
        (Value::Null, Some("Timbre 3B"), Some("Gorriti 4500"))
    );

    // Bruno can neither see nor touch Ana's addresses.
    expect_error(t.get(&path, Some(&bruno)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::PUT, &path, Some(&change), Some(&bruno)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::PATCH, &format!("{path}/default"), None, Some(&bruno)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::DELETE, &path, None, Some(&bruno)).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(expect_status(t.get("/api/addresses", Some(&bruno)).await, StatusCode::OK).await["total"], 0);

    // Deleting the default passes it on.
    let deleted =
        expect_status(t.request(Method::DELETE, &format!("/api/addresses/{}", id(&second)), None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(deleted, json!({"message": "Dirección eliminada"}));
    assert_eq!(expect_status(t.get(&path, Some(&ana)).await, StatusCode::OK).await["isDefault"], true);
    // A neighborhood with addresses cannot be deleted.
    expect_error(
        t.request(Method::DELETE, &format!("/api/neighborhoods/{palermo}"), None, Some(&admin)).await,
        StatusCode::CONFLICT,
        "in_use",
    )
    .await;
}

#[tokio::test]
async fn addresses_are_kept_per_store() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "clp", "country": "cl"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&admin)).await, StatusCode::CREATED).await;
    let city = id(&post(&t, "/api/stores/carnes-del-sur/cities", json!({"name": "Santiago", "description": "RM"}), &admin).await);
    let theirs = id(&post(
        &t,
        "/api/stores/carnes-del-sur/neighborhoods",
        json!({"name": "Providencia", "description": "x", "cityId": city}),
        &admin,
    )
    .await);
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let body =
        json!({"recipientName": "Ana", "phone": "56912345678", "streetAddress": "Av. Providencia 1", "selectedNeighborhoodId": theirs});
    let err = expect_error(
        t.request(Method::POST, "/api/addresses", Some(&body), Some(&ana)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "selectedNeighborhoodId", "not a neighborhood of the default store");
    let saved = post(&t, "/api/stores/carnes-del-sur/addresses", body, &ana).await;
    assert_eq!(saved["isDefault"], true);
    assert_eq!(expect_status(t.get("/api/addresses", Some(&ana)).await, StatusCode::OK).await["total"], 0);
    // Ana became a customer of that store, from her account.
    let customer =
        expect_status(t.get("/api/stores/carnes-del-sur/customers/by-email/ana@example.com", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((customer["id"].clone(), customer["name"].as_str()), (saved["customerId"].clone(), Some("Ana")));
}

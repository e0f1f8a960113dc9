//! Customers: registered users get one in the default store; admins manage them per store.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

struct Places {
    palermo: String,
    belgrano: String,
}

async fn places(t: &TestApp, admin: &str, prefix: &str) -> Places {
    let post = |path: String, body: Value| async move {
        expect_status(t.request(Method::POST, &path, Some(&body), Some(admin)).await, StatusCode::CREATED).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let caba = post(format!("{prefix}/cities"), json!({"name": "CABA", "description": "Capital"})).await;
    let palermo = post(format!("{prefix}/neighborhoods"), json!({"name": "Palermo", "description": "Norte", "cityId": caba})).await;
    let belgrano = post(format!("{prefix}/neighborhoods"), json!({"name": "Belgrano", "description": "Norte", "cityId": caba})).await;
    Places { palermo, belgrano }
}

#[tokio::test]
async fn registered_users_are_customers_and_admins_manage_customers() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ana = t.register("Ana Díaz", "ana@example.com", "secreto1").await;
    let ana_token = ana["token"].as_str().unwrap().to_string();
    let p = places(&t, &admin, "/api").await;

    expect_error(t.get("/api/customers", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    expect_error(t.get("/api/customers", Some(&ana_token)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let registered = expect_status(t.get("/api/customers/by-email/ANA@example.com", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((registered["name"].as_str(), registered["userId"].clone()), (Some("Ana Díaz"), ana["user"]["id"].clone()));

    let err = expect_error(
        t.request(Method::POST, "/api/customers", Some(&json!({"email": "nope", "phone": "12"})), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "email", "phone", "address", "neighborhoodId"]);
    let body = json!({"name": "Bruno", "email": "Bruno@Example.com", "phone": "+54 11 5555-1234", "address": "Gorriti 4500", "neighborhoodId": p.palermo});
    let bruno = expect_status(t.request(Method::POST, "/api/customers", Some(&body), Some(&admin)).await, StatusCode::CREATED).await;
    assert_eq!(
        (bruno["email"].as_str(), bruno["userId"].clone(), bruno["isActive"].as_bool()),
        (Some("bruno@example.com"), Value::Null, Some(true))
    );
    assert_eq!((bruno["neighborhood"]["name"].as_str(), bruno["neighborhood"]["city"]["name"].as_str()), (Some("Palermo"), Some("CABA")));
    expect_error(t.request(Method::POST, "/api/customers", Some(&body), Some(&admin)).await, StatusCode::CONFLICT, "conflict").await;
    let unknown =
        json!({"name": "Caro", "email": "caro@example.com", "phone": "1155551234", "address": "Cabildo 1", "neighborhoodId": "nope"});
    let err = expect_error(
        t.request(Method::POST, "/api/customers", Some(&unknown), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "neighborhoodId");

    let page = expect_status(t.get("/api/customers", Some(&admin)).await, StatusCode::OK).await;
    let names: Vec<&str> = page["customers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Admin", "Ana Díaz", "Bruno"], "registered users (the admin too) and Bruno, by name");
    let of_palermo =
        expect_status(t.get(&format!("/api/customers/by-neighborhood/{}", p.palermo), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((of_palermo["total"].as_i64(), of_palermo["customers"][0]["name"].as_str()), (Some(1), Some("Bruno")));

    // Moving Bruno; a neighborhood with customers cannot be deleted.
    let path = format!("/api/customers/{}", bruno["id"].as_str().unwrap());
    let moved = json!({"neighborhoodId": p.belgrano, "phone": "011 4444 5555"});
    let updated = expect_status(t.request(Method::PUT, &path, Some(&moved), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((updated["neighborhood"]["name"].as_str(), updated["name"].as_str()), (Some("Belgrano"), Some("Bruno")));
    expect_error(
        t.request(Method::DELETE, &format!("/api/neighborhoods/{}", p.belgrano), None, Some(&admin)).await,
        StatusCode::CONFLICT,
        "in_use",
    )
    .await;
    // Linking Bruno to Ana's account clashes: she already is a customer here.
    let link = json!({"userId": ana["user"]["id"]});
    expect_error(t.request(Method::PUT, &path, Some(&link), Some(&admin)).await, StatusCode::CONFLICT, "conflict").await;

    let deleted = expect_status(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(deleted, json!({"message": "Cliente eliminado"}));
    expect_error(t.get(&path, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_status(t.request(Method::DELETE, &format!("/api/neighborhoods/{}", p.belgrano), None, Some(&admin)).await, StatusCode::OK).await;
}

#[tokio::test]
async fn customers_belong_to_their_store() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "clp", "country": "cl"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&admin)).await, StatusCode::CREATED).await;
    let ours = places(&t, &admin, "/api").await;
    let theirs = places(&t, &admin, "/api/stores/carnes-del-sur").await;
    let body = json!({"name": "Bruno", "email": "bruno@example.com", "phone": "1155551234", "address": "Gorriti 4500", "neighborhoodId": ours.palermo});
    let err = expect_error(
        t.request(Method::POST, "/api/stores/carnes-del-sur/customers", Some(&body), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "neighborhoodId", "another store's neighborhood");
    let mut body = body;
    body["neighborhoodId"] = json!(theirs.palermo);
    let bruno = expect_status(
        t.request(Method::POST, "/api/stores/carnes-del-sur/customers", Some(&body), Some(&admin)).await,
        StatusCode::CREATED,
    )
    .await;
    // The same guest email is fine in another store.
    body["neighborhoodId"] = json!(ours.palermo);
    expect_status(t.request(Method::POST, "/api/customers", Some(&body), Some(&admin)).await, StatusCode::CREATED).await;
    expect_error(
        t.get(&format!("/api/customers/{}", bruno["id"].as_str().unwrap()), Some(&admin)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let theirs_page = expect_status(t.get("/api/stores/carnes-del-sur/customers", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(theirs_page["total"], 1, "the admin registered in the default store only");
}

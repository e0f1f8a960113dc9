//! Stores and the per-store categories, tags and units; the tenant boundary between stores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

const KINDS: [(&str, &str, &str); 3] =
    [("categories", "categories", "Categoría eliminada"), ("tags", "tags", "Etiqueta eliminada"), ("units", "units", "Unidad eliminada")];

#[tokio::test]
async fn crud_for_categories_tags_and_units() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await;
    let user_token = user["token"].as_str().unwrap();
    for (path, list_key, deleted) in KINDS {
        let base = format!("/api/{path}");
        let body = json!({"name": "Carnes Premium", "description": "Cortes seleccionados"});
        expect_error(t.request(Method::POST, &base, Some(&body), None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        expect_error(t.request(Method::POST, &base, Some(&body), Some(user_token)).await, StatusCode::FORBIDDEN, "forbidden").await;

        let created = expect_status(t.request(Method::POST, &base, Some(&body), Some(&admin)).await, StatusCode::CREATED).await;
        assert_eq!(created["name"], "Carnes Premium");
        assert_eq!(created["isActive"], true, "{path}: active by default");
        let id = created["id"].as_str().unwrap();
        let item = format!("{base}/{id}");
        assert_eq!(expect_status(t.get(&item, None).await, StatusCode::OK).await["description"], "Cortes seleccionados");

        let dup = json!({"name": "  carnes PREMIUM ", "description": "x"});
        let err = expect_error(t.request(Method::POST, &base, Some(&dup), Some(&admin)).await, StatusCode::CONFLICT, "name_taken").await;
        assert_eq!(err["details"][0]["field"], "name");
        let err = expect_error(
            t.request(Method::POST, &base, Some(&json!({"name": "X"})), Some(&admin)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "description"], "{path}");

        let other = expect_status(
            t.request(Method::POST, &base, Some(&json!({"name": "Almacén", "description": "Secos"})), Some(&admin)).await,
            StatusCode::CREATED,
        )
        .await;
        let list = expect_status(t.get(&base, None).await, StatusCode::OK).await;
        assert_eq!(list["total"], 2);
        assert_eq!(list[list_key][0]["name"], "Almacén", "{path}: sorted by name");
        let paged = expect_status(t.get(&format!("{base}?page=2&limit=1"), None).await, StatusCode::OK).await;
        assert_eq!(paged[list_key][0]["name"], "Carnes Premium");

        let rename = json!({"name": "Carnes", "isActive": false});
        let updated = expect_status(t.request(Method::PUT, &item, Some(&rename), Some(&admin)).await, StatusCode::OK).await;
        assert_eq!(
            (updated["name"].as_str(), updated["isActive"].as_bool(), updated["description"].as_str()),
            (Some("Carnes"), Some(false), Some("Cortes seleccionados"))
        );
        let clash = json!({"name": "ALMACÉN"});
        expect_error(t.request(Method::PUT, &item, Some(&clash), Some(&admin)).await, StatusCode::CONFLICT, "name_taken").await;
        let missing = format!("{base}/01900000-0000-7000-8000-000000000000");
        expect_error(t.request(Method::PUT, &missing, Some(&rename), Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;

        let res = expect_status(t.request(Method::DELETE, &item, None, Some(&admin)).await, StatusCode::OK).await;
        assert_eq!(res["message"], deleted);
        expect_error(t.get(&item, None).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(t.request(Method::DELETE, &item, None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
        let other_item = format!("{base}/{}", other["id"].as_str().unwrap());
        expect_status(t.request(Method::DELETE, &other_item, None, Some(&admin)).await, StatusCode::OK).await;
    }
}

#[tokio::test]
async fn inactive_tags_are_hidden_but_inactive_categories_listed() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    for path in ["/api/tags", "/api/categories"] {
        let hidden = json!({"name": "Oculta", "description": "x", "isActive": false});
        expect_status(t.request(Method::POST, path, Some(&hidden), Some(&admin)).await, StatusCode::CREATED).await;
        expect_status(
            t.request(Method::POST, path, Some(&json!({"name": "Visible", "description": "x"})), Some(&admin)).await,
            StatusCode::CREATED,
        )
        .await;
    }
    assert_eq!(expect_status(t.get("/api/tags", None).await, StatusCode::OK).await["total"], 1, "seed 001: active tags");
    assert_eq!(expect_status(t.get("/api/categories", None).await, StatusCode::OK).await["total"], 2);
}

#[tokio::test]
async fn only_units_have_an_abbreviation() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let kg = json!({"name": "Kilogramo", "description": "Peso", "abbreviation": "kg"});
    let unit = expect_status(t.request(Method::POST, "/api/units", Some(&kg), Some(&admin)).await, StatusCode::CREATED).await;
    assert_eq!(unit["abbreviation"], "kg");
    let path = format!("/api/units/{}", unit["id"].as_str().unwrap());
    let cleared =
        expect_status(t.request(Method::PUT, &path, Some(&json!({"abbreviation": null})), Some(&admin)).await, StatusCode::OK).await;
    assert!(cleared.get("abbreviation").is_none());
    let long = json!({"abbreviation": "kilogramos!!"});
    expect_error(t.request(Method::PUT, &path, Some(&long), Some(&admin)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;
    let cat = json!({"name": "Bebidas", "description": "x", "abbreviation": "bb"});
    let err = expect_error(
        t.request(Method::POST, "/api/categories", Some(&cat), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "abbreviation");
}

async fn second_store(t: &TestApp, admin: &str) -> Value {
    let body = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "clp", "country": "cl"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&body), Some(admin)).await, StatusCode::CREATED).await
}

#[tokio::test]
async fn stores_are_listed_created_and_validated() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let list = expect_status(t.get("/api/stores", None).await, StatusCode::OK).await;
    assert_eq!(list["total"], 1);
    assert_eq!((list["stores"][0]["slug"].as_str(), list["stores"][0]["isDefault"].as_bool()), (Some("default"), Some(true)));
    assert_eq!(list["stores"][0]["currency"], "ARS");

    let store = second_store(&t, &admin).await;
    assert_eq!(
        (store["currency"].as_str(), store["country"].as_str(), store["isDefault"].as_bool()),
        (Some("CLP"), Some("CL"), Some(false))
    );
    assert_eq!(expect_status(t.get("/api/stores/carnes-del-sur", None).await, StatusCode::OK).await["name"], "Carnes del Sur");
    expect_error(t.get("/api/stores/nowhere", None).await, StatusCode::NOT_FOUND, "store_not_found").await;
    expect_error(t.get("/api/stores/nowhere/categories", None).await, StatusCode::NOT_FOUND, "store_not_found").await;

    let again = json!({"name": "Otra", "slug": "carnes-del-sur", "currency": "ARS", "country": "AR"});
    expect_error(t.request(Method::POST, "/api/stores", Some(&again), Some(&admin)).await, StatusCode::CONFLICT, "slug_taken").await;
    let bad = json!({"name": "X", "slug": "Con Espacios", "currency": "BTC", "country": "ARG"});
    let err = expect_error(
        t.request(Method::POST, "/api/stores", Some(&bad), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "slug", "currency", "country"]);
    let user = t.register("Ana", "ana@example.com", "secreto1").await;
    // Any signed-in user opens a store and owns it; a taken slug is still taken.
    expect_error(t.request(Method::POST, "/api/stores", Some(&again), user["token"].as_str()).await, StatusCode::CONFLICT, "slug_taken")
        .await;
    let own = json!({"name": "La de Ana", "slug": "la-de-ana", "currency": "ARS", "country": "AR"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&own), user["token"].as_str()).await, StatusCode::CREATED).await;
    assert_eq!(expect_status(t.get("/api/stores", None).await, StatusCode::OK).await["total"], 3);
}

#[tokio::test]
async fn one_store_never_sees_or_changes_another_stores_entries() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    second_store(&t, &admin).await;
    for (path, list_key, _) in KINDS {
        let body = json!({"name": "Ofertas", "description": "De la otra tienda"});
        let theirs = expect_status(
            t.request(Method::POST, &format!("/api/stores/carnes-del-sur/{path}"), Some(&body), Some(&admin)).await,
            StatusCode::CREATED,
        )
        .await;
        let ours = expect_status(
            t.request(Method::POST, &format!("/api/{path}"), Some(&json!({"name": "Ofertas", "description": "Nuestra"})), Some(&admin))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_ne!(theirs["id"], ours["id"], "{path}: the same name is fine in another store");

        let default_list = expect_status(t.get(&format!("/api/{path}"), None).await, StatusCode::OK).await;
        assert_eq!(default_list["total"], 1);
        assert_eq!(default_list[list_key][0]["description"], "Nuestra");
        let explicit_default = expect_status(t.get(&format!("/api/stores/default/{path}"), None).await, StatusCode::OK).await;
        assert_eq!(explicit_default["total"], 1);
        let their_list = expect_status(t.get(&format!("/api/stores/carnes-del-sur/{path}"), None).await, StatusCode::OK).await;
        assert_eq!(their_list[list_key][0]["id"], theirs["id"]);

        let through_default = format!("/api/{path}/{}", theirs["id"].as_str().unwrap());
        expect_error(t.get(&through_default, None).await, StatusCode::NOT_FOUND, "not_found").await;
        let change = json!({"description": "robada"});
        expect_error(t.request(Method::PUT, &through_default, Some(&change), Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(t.request(Method::DELETE, &through_default, None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
        let still = expect_status(
            t.get(&format!("/api/stores/carnes-del-sur/{path}/{}", theirs["id"].as_str().unwrap()), None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(still["description"], "De la otra tienda", "{path}: untouched");
    }
}

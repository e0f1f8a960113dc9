//! Cities and neighborhoods: public reads, admin writes, uniqueness, lookups, references, stores.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

async fn post(t: &TestApp, path: &str, body: Value, admin: &str) -> Value {
    expect_status(t.request(Method::POST, path, Some(&body), Some(admin)).await, StatusCode::CREATED).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn cities_crud_lookup_by_name_and_rules() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let body = json!({"name": "Buenos Aires", "description": "Capital"});
    expect_error(t.request(Method::POST, "/api/cities", Some(&body), None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    expect_error(t.request(Method::POST, "/api/cities", Some(&body), Some(&user)).await, StatusCode::FORBIDDEN, "forbidden").await;

    let caba = post(&t, "/api/cities", body, &admin).await;
    assert_eq!(
        (caba["name"].as_str(), caba["description"].as_str(), caba["isActive"].as_bool()),
        (Some("Buenos Aires"), Some("Capital"), Some(true))
    );
    post(&t, "/api/cities", json!({"name": "Córdoba", "description": "Docta", "isActive": false}), &admin).await;
    let dup = json!({"name": "  buenos aires ", "description": "Otra"});
    let err =
        expect_error(t.request(Method::POST, "/api/cities", Some(&dup), Some(&admin)).await, StatusCode::CONFLICT, "name_taken").await;
    assert_eq!(err["details"][0]["field"], "name");
    let bad = json!({"name": "X", "cityId": "nope"});
    let err = expect_error(
        t.request(Method::POST, "/api/cities", Some(&bad), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "description", "cityId"]);

    let page = expect_status(t.get("/api/cities?limit=1", None).await, StatusCode::OK).await;
    assert_eq!((page["total"].as_i64(), page["cities"].as_array().unwrap().len()), (Some(2), 1));
    assert_eq!(page["cities"][0]["name"], "Buenos Aires", "ordered by name");
    let found = expect_status(t.get("/api/cities/by-name/BUENOS%20AIRES", None).await, StatusCode::OK).await;
    assert_eq!(found["id"], caba["id"]);
    expect_error(t.get("/api/cities/by-name/Rosario", None).await, StatusCode::NOT_FOUND, "not_found").await;

    let path = format!("/api/cities/{}", id(&caba));
    let renamed = expect_status(t.request(Method::PUT, &path, Some(&json!({"name": "CABA"})), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((renamed["name"].as_str(), renamed["description"].as_str()), (Some("CABA"), Some("Capital")), "fields not sent are kept");
    let taken = json!({"name": "córdoba"});
    expect_error(t.request(Method::PUT, &path, Some(&taken), Some(&admin)).await, StatusCode::CONFLICT, "name_taken").await;
    assert_eq!(expect_status(t.get(&path, None).await, StatusCode::OK).await["name"], "CABA", "a refused update changes nothing");

    let deleted = expect_status(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(deleted, json!({"message": "Ciudad eliminada"}));
    expect_error(t.get(&path, None).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn neighborhoods_belong_to_a_city_of_the_store() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let caba = id(&post(&t, "/api/cities", json!({"name": "CABA", "description": "Capital"}), &admin).await);
    let rosario = id(&post(&t, "/api/cities", json!({"name": "Rosario", "description": "Santa Fe"}), &admin).await);

    let missing = json!({"name": "Palermo", "description": "Norte"});
    let err = expect_error(
        t.request(Method::POST, "/api/neighborhoods", Some(&missing), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "cityId");
    let unknown = json!({"name": "Palermo", "description": "Norte", "cityId": "01900000-0000-7000-8000-000000000000"});
    let err = expect_error(
        t.request(Method::POST, "/api/neighborhoods", Some(&unknown), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "cityId");

    let palermo = post(&t, "/api/neighborhoods", json!({"name": "Palermo", "description": "Norte", "cityId": caba}), &admin).await;
    assert_eq!((palermo["city"]["id"].as_str(), palermo["city"]["name"].as_str()), (Some(caba.as_str()), Some("CABA")));
    post(&t, "/api/neighborhoods", json!({"name": "Belgrano", "description": "Norte", "cityId": caba}), &admin).await;
    let dup = json!({"name": "PALERMO", "description": "Otro", "cityId": caba});
    expect_error(t.request(Method::POST, "/api/neighborhoods", Some(&dup), Some(&admin)).await, StatusCode::CONFLICT, "name_taken").await;
    let elsewhere = post(&t, "/api/neighborhoods", json!({"name": "Palermo", "description": "Homónimo", "cityId": rosario}), &admin).await;

    let all = expect_status(t.get("/api/neighborhoods", None).await, StatusCode::OK).await;
    assert_eq!(all["total"], 3);
    let of_caba = expect_status(t.get(&format!("/api/neighborhoods/by-city/{caba}"), None).await, StatusCode::OK).await;
    let names: Vec<&str> = of_caba["neighborhoods"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!((of_caba["total"].as_i64(), names), (Some(2), vec!["Belgrano", "Palermo"]));
    expect_error(t.get("/api/neighborhoods/by-city/01900000-0000-7000-8000-000000000000", None).await, StatusCode::NOT_FOUND, "not_found")
        .await;

    // Moving a neighborhood to a city that already has one with its name is a conflict.
    let path = format!("/api/neighborhoods/{}", id(&palermo));
    let clash = json!({"cityId": rosario});
    expect_error(t.request(Method::PUT, &path, Some(&clash), Some(&admin)).await, StatusCode::CONFLICT, "name_taken").await;
    let moved = json!({"cityId": rosario, "name": "Palermo Chico"});
    let updated = expect_status(t.request(Method::PUT, &path, Some(&moved), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((updated["city"]["name"].as_str(), updated["name"].as_str()), (Some("Rosario"), Some("Palermo Chico")));

    // A city with neighborhoods cannot go; once they are gone it can.
    let err = expect_error(
        t.request(Method::DELETE, &format!("/api/cities/{rosario}"), None, Some(&admin)).await,
        StatusCode::CONFLICT,
        "in_use",
    )
    .await;
    assert!(err["error"].as_str().unwrap().contains("barrios"));
    for n in [path, format!("/api/neighborhoods/{}", id(&elsewhere))] {
        let res = expect_status(t.request(Method::DELETE, &n, None, Some(&admin)).await, StatusCode::OK).await;
        assert_eq!(res, json!({"message": "Barrio eliminado"}));
    }
    expect_status(t.request(Method::DELETE, &format!("/api/cities/{rosario}"), None, Some(&admin)).await, StatusCode::OK).await;
}

#[tokio::test]
async fn places_never_cross_stores() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "clp", "country": "cl"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&admin)).await, StatusCode::CREATED).await;
    let ours = id(&post(&t, "/api/cities", json!({"name": "CABA", "description": "Capital"}), &admin).await);
    let theirs = post(&t, "/api/stores/carnes-del-sur/cities", json!({"name": "CABA", "description": "Homónima"}), &admin).await;
    assert_ne!(id(&theirs), ours, "the same name is fine in another store");

    assert_eq!(expect_status(t.get("/api/stores/carnes-del-sur/cities", None).await, StatusCode::OK).await["total"], 1);
    expect_error(t.get(&format!("/api/cities/{}", id(&theirs)), None).await, StatusCode::NOT_FOUND, "not_found").await;
    let found = expect_status(t.get("/api/stores/carnes-del-sur/cities/by-name/caba", None).await, StatusCode::OK).await;
    assert_eq!(found["id"], theirs["id"]);
    // A neighborhood of this store cannot hang from the other store's city.
    let cross = json!({"name": "Centro", "description": "x", "cityId": ours});
    expect_error(
        t.request(Method::POST, "/api/stores/carnes-del-sur/neighborhoods", Some(&cross), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        t.request(Method::DELETE, &format!("/api/cities/{}", id(&theirs)), None, Some(&admin)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

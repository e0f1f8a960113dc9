//! Shipping rates: staff writes with validation, codes and stores, scopes, the audit log, and
//! the public quote per country with free shipping from a subtotal.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

const RATES: &str = "/api/shipping-rates";

/// The usual three: standard everywhere 5, express 15 to the US and 25 elsewhere (free from 100).
async fn usual_rates(t: &TestApp, token: &str) -> Vec<Value> {
    let mut created = Vec::new();
    for body in [
        json!({"code": "standard", "title": "Envío estándar", "serviceLevel": "standard", "price": "5.00"}),
        json!({"code": "Express-US", "title": "Express a EE.UU.", "country": "us", "serviceLevel": "Express", "price": 15}),
        json!({"code": "express", "title": "Express", "country": null, "serviceLevel": "express", "price": "25.00", "freeFrom": "100.00"}),
    ] {
        created.push(expect_status(t.request(Method::POST, RATES, Some(&body), Some(token)).await, StatusCode::CREATED).await);
    }
    created
}

/// The fields named by a 422.
async fn invalid_fields(t: &TestApp, method: Method, path: &str, body: &Value, token: &str) -> Vec<String> {
    let err =
        expect_error(t.request(method, path, Some(body), Some(token)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap().to_string()).collect()
}

/// `(code, amount, free)` of each option quoted for `query`.
async fn quote(t: &TestApp, query: &str) -> Vec<(String, Value, bool)> {
    let body = expect_status(t.get(&format!("{RATES}/quote{query}"), None).await, StatusCode::OK).await;
    assert_eq!(body["currency"], "ARS");
    let options = body["options"].as_array().unwrap();
    options.iter().map(|o| (o["code"].as_str().unwrap().to_string(), o["amount"].clone(), o["free"].as_bool().unwrap())).collect()
}

fn option(code: &str, amount: Value, free: bool) -> (String, Value, bool) {
    (code.to_string(), amount, free)
}

#[tokio::test]
async fn staff_create_change_and_delete_rates() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let [standard, express_us, express] = <[Value; 3]>::try_from(usual_rates(&t, &admin).await).unwrap();
    assert_eq!((standard["price"].to_string().as_str(), standard["freeFrom"].clone()), ("5", Value::Null), "exact numbers, no floats");
    assert_eq!(
        (standard["country"].clone(), standard["currency"].as_str(), standard["isActive"].as_bool()),
        (Value::Null, Some("ARS"), Some(true))
    );
    assert_eq!(
        (express_us["code"].as_str(), express_us["country"].as_str()),
        (Some("express-us"), Some("US")),
        "code lower, country upper"
    );
    assert_eq!((express_us["serviceLevel"].as_str(), express_us["price"].to_string().as_str()), (Some("express"), "15"));
    assert_eq!((express["price"].to_string().as_str(), express["freeFrom"].to_string().as_str()), ("25", "100"));

    // A country's own rates come before the level's default one.
    let list = expect_status(t.get(RATES, Some(&admin)).await, StatusCode::OK).await;
    let codes: Vec<&str> = list["shippingRates"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["express-us", "express", "standard"]);

    // Codes are unique in the store, ignoring case.
    let again = json!({"code": "STANDARD", "title": "Otra", "serviceLevel": "standard", "price": 1});
    let err = expect_error(t.request(Method::POST, RATES, Some(&again), Some(&admin)).await, StatusCode::CONFLICT, "code_taken").await;
    assert_eq!(err["details"][0]["field"], "code");
    let us_path = format!("{RATES}/{}", express_us["id"].as_str().unwrap());
    let taken = json!({"code": "Standard"});
    expect_error(t.request(Method::PUT, &us_path, Some(&taken), Some(&admin)).await, StatusCode::CONFLICT, "code_taken").await;

    // Partial updates keep what is not sent; null clears the country and the free rule.
    let changed =
        expect_status(t.request(Method::PUT, &us_path, Some(&json!({"price": "16.50"})), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((changed["price"].to_string().as_str(), changed["title"].as_str()), ("16.5", Some("Express a EE.UU.")));
    let express_path = format!("{RATES}/{}", express["id"].as_str().unwrap());
    let cleared = json!({"freeFrom": null, "country": null, "isActive": false});
    let changed = expect_status(t.request(Method::PUT, &express_path, Some(&cleared), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(
        (changed["freeFrom"].clone(), changed["country"].clone(), changed["isActive"].as_bool()),
        (Value::Null, Value::Null, Some(false))
    );
    let changed =
        expect_status(t.request(Method::PUT, &express_path, Some(&json!({"country": "ar"})), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((changed["country"].as_str(), changed["price"].to_string().as_str()), (Some("AR"), "25"));

    // Every write is in the audit log.
    let log = expect_status(t.get("/api/audit-log?resource=shipping-rates", Some(&admin)).await, StatusCode::OK).await;
    let actions: Vec<&str> = log["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "shipping-rates.update",
            "shipping-rates.update",
            "shipping-rates.update",
            "shipping-rates.create",
            "shipping-rates.create",
            "shipping-rates.create"
        ]
    );

    let deleted = expect_status(t.request(Method::DELETE, &us_path, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(deleted["code"], "express-us");
    expect_error(t.get(&us_path, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::DELETE, &us_path, None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::PUT, &us_path, Some(&json!({"price": 1})), Some(&admin)).await, StatusCode::NOT_FOUND, "not_found")
        .await;
}

#[tokio::test]
async fn every_bad_field_is_named() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    assert_eq!(invalid_fields(&t, Method::POST, RATES, &json!({}), &admin).await, ["code", "title", "serviceLevel", "price"]);
    let valid = json!({"code": "standard", "title": "Estándar", "serviceLevel": "standard", "price": "5"});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let without_title = {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove("title");
        body
    };
    for (body, field) in [
        (without_title, "title"),
        (with("title", json!("x")), "title"),
        (with("code", json!("con espacios")), "code"),
        (with("code", json!("x")), "code"),
        (with("code", json!("a".repeat(41))), "code"),
        (with("country", json!("ARG")), "country"),
        (with("country", json!("1X")), "country"),
        (with("serviceLevel", json!("Rápido")), "serviceLevel"),
        (with("price", json!("-5")), "price"),
        (with("price", json!(-5)), "price"),
        (with("price", json!("5.001")), "price"),
        (with("price", json!("1e3")), "price"),
        (with("price", json!("12.5.3")), "price"),
        (with("price", json!("12,50")), "price"),
        (with("price", json!("NaN")), "price"),
        (with("price", json!(true)), "price"),
        (with("price", json!("99999999999999999999")), "price"),
        (with("price", json!(10_000_000_000_000_000_i64)), "price"),
        (with("freeFrom", json!("-1")), "freeFrom"),
        (with("freeFrom", json!("mucho")), "freeFrom"),
        (with("isActive", json!("sí")), "isActive"),
    ] {
        assert_eq!(invalid_fields(&t, Method::POST, RATES, &body, &admin).await, [field], "{body}");
    }
    let created = expect_status(t.request(Method::POST, RATES, Some(&valid), Some(&admin)).await, StatusCode::CREATED).await;
    let path = format!("{RATES}/{}", created["id"].as_str().unwrap());
    let bad = json!({"title": "", "price": "abc", "country": "Argentina"});
    assert_eq!(invalid_fields(&t, Method::PUT, &path, &bad, &admin).await, ["title", "country", "price"]);
    let kept = expect_status(t.get(&path, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((kept["title"].as_str(), kept["price"].to_string().as_str()), (Some("Estándar"), "5"), "a refused update changes nothing");
    // The biggest amount accepted is 10^15 minor units.
    let big =
        expect_status(t.request(Method::PUT, &path, Some(&json!({"price": "10000000000000"})), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(big["price"].to_string(), "10000000000000");
}

#[tokio::test]
async fn checkouts_quote_the_options_for_a_country_and_subtotal() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    // A store without rates: shipping is arranged with the shop, at no charge.
    assert_eq!(quote(&t, "?country=US&subtotal=10").await, [option("envio-a-coordinar", json!(0), false)]);

    let rates = usual_rates(&t, &admin).await;
    let (standard, express_us, express) =
        (option("standard", json!(5), false), option("express-us", json!(15), false), option("express", json!(25), false));
    assert_eq!(quote(&t, "?country=US&subtotal=50").await, [standard.clone(), express_us.clone()], "the country's own express");
    assert_eq!(quote(&t, "?country=us&subtotal=500").await, [standard.clone(), express_us.clone()], "its own rate has no free rule");
    assert_eq!(quote(&t, "?country=AR&subtotal=99.99").await, [standard.clone(), express.clone()]);
    assert_eq!(quote(&t, "?country=AR&subtotal=100").await, [option("express", json!(0), true), standard.clone()], "free from 100");
    assert_eq!(quote(&t, "").await, [standard.clone(), express.clone()], "no country, no subtotal: the default rates");

    // An inactive rate is not offered, and the level's default rate takes its place.
    let us_path = format!("{RATES}/{}", rates[1]["id"].as_str().unwrap());
    expect_status(t.request(Method::PUT, &us_path, Some(&json!({"isActive": false})), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(quote(&t, "?country=US&subtotal=50").await, [standard.clone(), express.clone()]);

    for (query, field) in
        [("?country=USA", "country"), ("?subtotal=-1", "subtotal"), ("?subtotal=abc", "subtotal"), ("?subtotal=1.001", "subtotal")]
    {
        let err =
            expect_error(t.get(&format!("{RATES}/quote{query}"), None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(err["details"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn rates_stay_in_their_store_and_need_the_scope() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ana = t.register("Ana", "ana@example.com", "una-clave-larga").await["token"].as_str().unwrap().to_string();
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "CLP", "country": "CL"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&ana)).await, StatusCode::CREATED).await;
    let theirs_path = "/api/stores/carnes-del-sur/shipping-rates";
    let body = json!({"code": "standard", "title": "Estándar", "serviceLevel": "standard", "price": "3500.5"});
    assert_eq!(invalid_fields(&t, Method::POST, theirs_path, &body, &ana).await, ["price"], "CLP has no decimals");
    let body = json!({"code": "standard", "title": "Estándar", "serviceLevel": "standard", "price": "3500"});
    let theirs = expect_status(t.request(Method::POST, theirs_path, Some(&body), Some(&ana)).await, StatusCode::CREATED).await;
    assert_eq!((theirs["price"].to_string().as_str(), theirs["currency"].as_str()), ("3500", Some("CLP")));
    let quoted = expect_status(t.get(&format!("{theirs_path}/quote?country=CL"), None).await, StatusCode::OK).await;
    assert_eq!((quoted["currency"].as_str(), quoted["options"][0]["amount"].to_string().as_str()), (Some("CLP"), "3500"));

    // The same code in another store is fine; their rate is not found from ours, even by the admin.
    usual_rates(&t, &admin).await;
    let ours_path = format!("{RATES}/{}", theirs["id"].as_str().unwrap());
    expect_error(t.get(&ours_path, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::PUT, &ours_path, Some(&json!({"price": 1})), Some(&admin)).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    expect_error(t.request(Method::DELETE, &ours_path, None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    let listed = expect_status(t.get(theirs_path, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(listed["shippingRates"].as_array().unwrap().len(), 1);

    // Ana is nobody in the default store; a key that only reads orders reads rates, never writes them.
    expect_error(t.get(RATES, None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    expect_error(t.get(RATES, Some(&ana)).await, StatusCode::FORBIDDEN, "forbidden").await;
    expect_error(t.request(Method::POST, RATES, Some(&body), Some(&ana)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let key = json!({"name": "lector", "scopes": ["orders:read"]});
    let key =
        expect_status(t.request(Method::POST, "/api/stores/carnes-del-sur/api-keys", Some(&key), Some(&ana)).await, StatusCode::CREATED)
            .await["key"]
            .as_str()
            .unwrap()
            .to_string();
    expect_status(t.get(theirs_path, Some(&key)).await, StatusCode::OK).await;
    let path = format!("{theirs_path}/{}", theirs["id"].as_str().unwrap());
    let change = json!({"price": "1"});
    expect_error(t.request(Method::PUT, &path, Some(&change), Some(&key)).await, StatusCode::FORBIDDEN, "forbidden").await;
    expect_error(t.request(Method::DELETE, &path, None, Some(&key)).await, StatusCode::FORBIDDEN, "forbidden").await;
    expect_error(t.request(Method::POST, theirs_path, Some(&body), Some(&key)).await, StatusCode::FORBIDDEN, "forbidden").await;
}

//! The cart: add, increment, set, remove, clear; prices kept from when added; exact totals;
//! stock and availability checks; one cart per user and store.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

/// Creates a category, a unit and products `(name, price, tax rate, stock)`; returns their ids.
async fn products(t: &TestApp, admin: &str, prefix: &str, list: &[(&str, &str, &str, i64)]) -> Vec<String> {
    let post = |path: String, body: Value| async move {
        expect_status(t.request(Method::POST, &path, Some(&body), Some(admin)).await, StatusCode::CREATED).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let category = post(format!("{prefix}/categories"), json!({"name": "Carnes", "description": "Cortes"})).await;
    let unit = post(format!("{prefix}/units"), json!({"name": "Kilogramo", "description": "Peso"})).await;
    let mut ids = Vec::new();
    for (name, price, tax, stock) in list {
        let body =
            json!({"name": name, "description": "x", "price": price, "taxRate": tax, "stock": stock, "category": category, "unit": unit});
        ids.push(post(format!("{prefix}/products"), body).await);
    }
    ids
}

#[tokio::test]
async fn a_cart_keeps_prices_and_computes_exact_totals() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, "/api", &[("Bife de chorizo", "100", "21", 5), ("Provoleta", "50", "10.5", 3)]).await;
    let (bife, provoleta) = (&ids[0], &ids[1]);
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(t.get("/api/cart", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let empty = expect_status(t.get("/api/cart", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(
        (empty["items"].as_array().unwrap().len(), empty["total"].clone(), empty["user"]["email"].as_str()),
        (0, json!(0), Some("ana@example.com"))
    );

    let add = |product: &str, quantity: Value| json!({"productId": product, "quantity": quantity});
    expect_status(t.request(Method::POST, "/api/cart/items", Some(&add(bife, json!(1))), Some(&ana)).await, StatusCode::OK).await;
    let cart =
        expect_status(t.request(Method::POST, "/api/cart/items", Some(&add(bife, json!(1))), Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(cart["items"][0]["quantity"], 2, "adding again increments");
    // The price changes after it was added: the cart keeps the old one.
    let raise = json!({"price": "120", "taxRate": "27"});
    expect_status(t.request(Method::PUT, &format!("/api/products/{bife}"), Some(&raise), Some(&admin)).await, StatusCode::OK).await;
    let cart =
        expect_status(t.request(Method::POST, "/api/cart/items", Some(&add(provoleta, json!("1"))), Some(&ana)).await, StatusCode::OK)
            .await;
    let item = &cart["items"][0];
    assert_eq!(
        (item["priceAtTime"].clone(), item["taxRate"].clone(), item["unitPriceWithTax"].clone(), item["subtotalWithTax"].clone()),
        (json!(100), json!(21), json!(121), json!(242))
    );
    assert_eq!(item["product"]["price"], json!(120), "the product as it is now");
    assert_eq!(cart["items"][1]["subtotalWithTax"], json!(55.25));
    assert_eq!(
        (cart["totalItems"].as_i64(), cart["subtotalWithoutTax"].clone(), cart["totalTaxAmount"].clone(), cart["total"].clone()),
        (Some(3), json!(250), json!(47.25), json!(297.25))
    );

    // Stock, availability, bad input.
    let err = expect_error(
        t.request(Method::POST, "/api/cart/items", Some(&add(bife, json!(4))), Some(&ana)).await,
        StatusCode::CONFLICT,
        "insufficient_stock",
    )
    .await;
    assert!(err["error"].as_str().unwrap().contains("quedan 5"), "{err}");
    expect_error(
        t.request(Method::PUT, &format!("/api/cart/items/{provoleta}"), Some(&json!({"quantity": 4})), Some(&ana)).await,
        StatusCode::CONFLICT,
        "insufficient_stock",
    )
    .await;
    expect_error(
        t.request(Method::POST, "/api/cart/items", Some(&add("01900000-0000-7000-8000-000000000000", json!(1))), Some(&ana)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for bad in [json!(0), json!(1.5), json!("dos")] {
        expect_error(
            t.request(Method::POST, "/api/cart/items", Some(&add(bife, bad)), Some(&ana)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let off = json!({"isActive": false});
    expect_status(t.request(Method::PUT, &format!("/api/products/{provoleta}"), Some(&off), Some(&admin)).await, StatusCode::OK).await;
    expect_error(
        t.request(Method::PUT, &format!("/api/cart/items/{provoleta}"), Some(&json!({"quantity": 2})), Some(&ana)).await,
        StatusCode::CONFLICT,
        "product_unavailable",
    )
    .await;
    let unchanged = expect_status(t.get("/api/cart", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(unchanged["total"], json!(297.25), "refused changes change nothing");

    // Set, remove, clear.
    let cart = expect_status(
        t.request(Method::PUT, &format!("/api/cart/items/{bife}"), Some(&json!({"quantity": 5})), Some(&ana)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cart["items"][0]["quantity"], 5);
    let cart = expect_status(
        t.request(Method::PUT, &format!("/api/cart/items/{bife}"), Some(&json!({"quantity": 0})), Some(&ana)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1, "0 removes");
    let cart =
        expect_status(t.request(Method::DELETE, &format!("/api/cart/items/{provoleta}"), None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 0);
    expect_error(
        t.request(Method::DELETE, &format!("/api/cart/items/{provoleta}"), None, Some(&ana)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_status(t.request(Method::POST, "/api/cart/items", Some(&add(bife, json!(1))), Some(&ana)).await, StatusCode::OK).await;
    let cleared = expect_status(t.request(Method::DELETE, "/api/cart", None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(cleared, json!({"message": "Carrito vaciado", "cart": {"id": cart["id"], "items": [], "totalItems": 0, "total": 0}}));
}

#[tokio::test]
async fn each_user_and_store_has_its_own_cart() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "clp", "country": "cl"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&admin)).await, StatusCode::CREATED).await;
    let ours = products(&t, &admin, "/api", &[("Vacío", "80.50", "21", 10)]).await;
    let theirs = products(&t, &admin, "/api/stores/carnes-del-sur", &[("Lomo", "15990", "19", 10)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let bruno = t.register("Bruno", "bruno@example.com", "secreto1").await["token"].as_str().unwrap().to_string();

    let add = |product: &str| json!({"productId": product, "quantity": 1});
    expect_error(t.request(Method::POST, "/api/cart/items", Some(&add(&theirs[0])), Some(&ana)).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    let chile = expect_status(
        t.request(Method::POST, "/api/stores/carnes-del-sur/cart/items", Some(&add(&theirs[0])), Some(&ana)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(chile["total"], json!(19028), "CLP has no decimals: 15990 × 1.19 = 19028.1 → 19028");
    expect_status(t.request(Method::POST, "/api/cart/items", Some(&add(&ours[0])), Some(&ana)).await, StatusCode::OK).await;
    let home = expect_status(t.get("/api/cart", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!((home["items"].as_array().unwrap().len(), home["total"].clone()), (1, json!(97.41)));
    assert_ne!(home["id"], chile["id"]);
    let other = expect_status(t.get("/api/cart", Some(&bruno)).await, StatusCode::OK).await;
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
}

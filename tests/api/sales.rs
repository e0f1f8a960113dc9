//! Placing orders: guests and users, exact totals, catalog prices, stock taken atomically,
//! coupons counted exactly, and the concurrency cases of the shopping issue.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

/// feria with rate limits out of the way (the concurrency tests send hundreds of requests).
pub(crate) async fn app() -> TestApp {
    TestApp::with(|s| {
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
    })
    .await
}

/// Creates products `(name, price, tax rate, stock)` in the default store; returns their ids.
pub(crate) async fn products(t: &TestApp, admin: &str, list: &[(&str, &str, &str, i64)]) -> Vec<String> {
    let post = |path: &'static str, body: Value| async move {
        expect_status(t.request(Method::POST, path, Some(&body), Some(admin)).await, StatusCode::CREATED).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let category = post("/api/categories", json!({"name": "Carnes", "description": "Cortes"})).await;
    let unit = post("/api/units", json!({"name": "Kilogramo", "description": "Peso"})).await;
    let mut ids = Vec::new();
    for (name, price, tax, stock) in list {
        let body =
            json!({"name": name, "description": "x", "price": price, "taxRate": tax, "stock": stock, "category": category, "unit": unit});
        ids.push(post("/api/products", body).await);
    }
    ids
}

pub(crate) fn guest_order(items: Value, email: &str) -> Value {
    json!({
        "items": items,
        "customerData": {"name": "Carla Gómez", "email": email, "phone": "+54 11 4444-5555"},
        "shippingAddress": {"street": "Av. Santa Fe", "number": "1234", "neighborhood": "Palermo", "city": "CABA", "zipCode": "1425"}
    })
}

pub(crate) async fn stock_of(t: &TestApp, id: &str) -> i64 {
    expect_status(t.get(&format!("/api/products/{id}"), None).await, StatusCode::OK).await["stock"].as_i64().unwrap()
}

#[tokio::test]
async fn a_guest_order_uses_catalog_prices_the_coupon_and_takes_stock() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Bife de chorizo", "100", "21", 10), ("Provoleta", "50", "10.5", 5)]).await;
    let coupon = json!({"code": "DIEZ", "discountType": "percentage", "discountValue": 10});
    expect_status(t.request(Method::POST, "/api/coupons", Some(&coupon), Some(&admin)).await, StatusCode::CREATED).await;

    let mut body = guest_order(
        json!([{"productId": ids[0], "quantity": 2, "unitPrice": 1, "taxRate": 0}, {"productId": ids[1], "quantity": 1}]),
        "Carla@Example.com",
    );
    body["couponCode"] = json!("diez");
    body["paymentMethodCode"] = json!("MERCADO_PAGO");
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CREATED).await;
    let order = &placed["order"];
    // ARCHITECTURE.md's golden case.
    assert_eq!(
        (order["subtotal"].clone(), order["discountAmount"].clone(), order["taxAmount"].clone(), order["total"].clone()),
        (json!(250), json!(25), json!(42.53), json!(267.53))
    );
    assert_eq!(
        (order["orderNumber"].as_str(), order["status"].as_str(), order["paymentMethod"].as_str()),
        (Some("ORD-000001"), Some("AWAITING_PAYMENT"), Some("MERCADO_PAGO"))
    );
    assert_eq!(
        (order["items"][0]["unitPrice"].clone(), order["items"][0]["taxRate"].clone()),
        (json!(100), json!(21)),
        "catalog prices, not the client's"
    );
    assert_eq!(placed["warnings"].as_array().unwrap().len(), 1, "{placed}");
    assert!(placed["warnings"][0].as_str().unwrap().contains("Bife de chorizo"));
    assert_eq!((order["customer"]["email"].as_str(), order["shippingAddress"]["city"].as_str()), (Some("carla@example.com"), Some("CABA")));
    assert_eq!(order["coupon"], json!({"code": "DIEZ", "discountType": "percentage", "discountValue": 10}));
    let stored = expect_status(t.get(&format!("/api/sales/{}", order["id"].as_str().unwrap()), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(&stored, order, "the answer is the order as stored");
    assert_eq!((stock_of(&t, &ids[0]).await, stock_of(&t, &ids[1]).await), (8, 4));
    let coupons = expect_status(t.get("/api/coupons", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(coupons["coupons"][0]["usedCount"], 1);

    // The same guest again: the same customer, the next number, the default status.
    let again = expect_status(
        t.request(Method::POST, "/api/sales", Some(&guest_order(json!([{"productId": ids[1], "quantity": 1}]), "carla@example.com")), None)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (again["order"]["customer"]["id"].clone(), again["order"]["orderNumber"].as_str(), again["order"]["status"].as_str()),
        (order["customer"]["id"].clone(), Some("ORD-000002"), Some("PENDING"))
    );
    assert_eq!(again["warnings"], json!([]));
    let guests = expect_status(t.get("/api/customers/by-email/carla@example.com", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(guests["id"], order["customer"]["id"]);
}

#[tokio::test]
async fn a_failed_order_changes_nothing() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "80", "21", 5), ("Entraña", "90", "21", 1)]).await;
    let coupon = json!({"code": "FIJO", "discountType": "fixed", "discountValue": 10});
    expect_status(t.request(Method::POST, "/api/coupons", Some(&coupon), Some(&admin)).await, StatusCode::CREATED).await;
    let mut body = guest_order(json!([{"productId": ids[0], "quantity": 2}, {"productId": ids[1], "quantity": 2}]), "a@example.com");
    body["couponCode"] = json!("FIJO");
    let err =
        expect_error(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CONFLICT, "insufficient_stock").await;
    assert!(err["error"].as_str().unwrap().contains("Entraña"), "{err}");
    assert_eq!((stock_of(&t, &ids[0]).await, stock_of(&t, &ids[1]).await), (5, 1), "no line took stock");
    let coupons = expect_status(t.get("/api/coupons", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(coupons["coupons"][0]["usedCount"], 0, "the coupon was not counted");
    expect_error(t.get("/api/customers/by-email/a@example.com", Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;

    let bad = json!({"items": [{"productId": "nope", "quantity": 0}], "customerData": {"email": "x"}});
    let err =
        expect_error(t.request(Method::POST, "/api/sales", Some(&bad), None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["items[0].quantity", "customerData.name", "customerData.email", "shippingAddress"]);
    let unknown = guest_order(json!([{"productId": "nope", "quantity": 1}]), "a@example.com");
    let err = expect_error(
        t.request(Method::POST, "/api/sales", Some(&unknown), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "items[0].productId");
    let mut with_method = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "a@example.com");
    with_method["paymentMethodCode"] = json!("BITCOIN");
    expect_error(
        t.request(Method::POST, "/api/sales", Some(&with_method), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(stock_of(&t, &ids[0]).await, 5);
}

#[tokio::test]
async fn a_user_orders_to_a_saved_address_and_sees_only_their_orders() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Chorizo", "25.50", "21", 50)]).await;
    let city = expect_status(
        t.request(Method::POST, "/api/cities", Some(&json!({"name": "CABA", "description": "x"})), Some(&admin)).await,
        StatusCode::CREATED,
    )
    .await;
    let hood = json!({"name": "Palermo", "description": "x", "cityId": city["id"]});
    let hood = expect_status(t.request(Method::POST, "/api/neighborhoods", Some(&hood), Some(&admin)).await, StatusCode::CREATED).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let bruno = t.register("Bruno", "bruno@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let items = json!([{"productId": ids[0], "quantity": 2}]);

    let err = expect_error(
        t.request(Method::POST, "/api/sales", Some(&json!({"items": items})), Some(&ana)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "shippingAddress", "no saved address yet");
    let address =
        json!({"recipientName": "Ana D.", "phone": "1155556666", "streetAddress": "Gorriti 4500", "selectedNeighborhoodId": hood["id"]});
    let address = expect_status(t.request(Method::POST, "/api/addresses", Some(&address), Some(&ana)).await, StatusCode::CREATED).await;
    let placed =
        expect_status(t.request(Method::POST, "/api/sales", Some(&json!({"items": items})), Some(&ana)).await, StatusCode::CREATED).await;
    let order = &placed["order"];
    assert_eq!(
        (
            order["shippingAddress"]["street"].as_str(),
            order["shippingAddress"]["neighborhood"].as_str(),
            order["shippingAddress"]["recipientName"].as_str()
        ),
        (Some("Gorriti 4500"), Some("Palermo"), Some("Ana D."))
    );
    assert_eq!((order["customer"]["email"].as_str(), order["total"].clone()), (Some("ana@example.com"), json!(61.71)));

    // Bruno cannot ship to Ana's address nor read her order; a guest cannot use a saved address.
    let theft = json!({"items": items, "selectedAddressId": address["id"]});
    expect_error(
        t.request(Method::POST, "/api/sales", Some(&theft), Some(&bruno)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(t.request(Method::POST, "/api/sales", Some(&theft), None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let path = format!("/api/sales/{}", order["id"].as_str().unwrap());
    expect_error(t.get(&path, Some(&bruno)).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(expect_status(t.get(&path, Some(&ana)).await, StatusCode::OK).await["orderNumber"], order["orderNumber"]);
    assert_eq!(expect_status(t.get(&path, Some(&admin)).await, StatusCode::OK).await["id"], order["id"]);
    let mine = expect_status(t.get("/api/sales/my-orders", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!((mine["pagination"]["total"].as_i64(), mine["orders"][0]["id"].clone()), (Some(1), order["id"].clone()));
    assert_eq!(expect_status(t.get("/api/sales/my-orders", Some(&bruno)).await, StatusCode::OK).await["pagination"]["total"], 0);
    expect_error(
        t.request(Method::POST, "/api/sales", Some(&json!({"items": items})), Some("not-a-token")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn two_hundred_buyers_for_twenty_units_make_twenty_orders() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Ojo de bife", "150", "21", 20)]).await;
    let t = &t;
    let requests = (0..200).map(|i| {
        let body = guest_order(json!([{"productId": ids[0], "quantity": 1}]), &format!("buyer{i}@example.com"));
        async move { t.request(Method::POST, "/api/sales", Some(&body), None).await }
    });
    let responses = join_all(requests).await;
    let mut created = 0;
    let mut refused = 0;
    for res in responses {
        match res.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["code"], "insufficient_stock");
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!((created, refused), (20, 180));
    assert_eq!(stock_of(t, &ids[0]).await, 0);
}

#[tokio::test]
async fn a_coupon_limited_to_five_uses_is_used_five_times_under_fifty_orders() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Matambre", "70", "21", 1000)]).await;
    let coupon = json!({"code": "CINCO", "discountType": "fixed", "discountValue": 5, "usageLimit": 5});
    expect_status(t.request(Method::POST, "/api/coupons", Some(&coupon), Some(&admin)).await, StatusCode::CREATED).await;
    let t = &t;
    let requests = (0..50).map(|i| {
        let mut body = guest_order(json!([{"productId": ids[0], "quantity": 1}]), &format!("c{i}@example.com"));
        body["couponCode"] = json!("CINCO");
        async move { t.request(Method::POST, "/api/sales", Some(&body), None).await }
    });
    let mut used = 0;
    for res in join_all(requests).await {
        match res.status() {
            StatusCode::CREATED => used += 1,
            StatusCode::CONFLICT => assert_eq!(res.json::<Value>().await.unwrap()["code"], "coupon_used_up"),
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(used, 5);
    let coupons = expect_status(t.get("/api/coupons?expired=true", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(coupons["coupons"][0]["usedCount"], 5);
    assert_eq!(stock_of(t, &ids[0]).await, 995, "refused orders took no stock");
}

#[tokio::test]
async fn orders_move_through_the_workflow_and_cancelling_gives_stock_back_once() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Asado", "60", "21", 10)]).await;
    let ana_body = t.register("Ana", "ana@example.com", "secreto1").await;
    let ana = ana_body["token"].as_str().unwrap().to_string();
    let mut body = guest_order(json!([{"productId": ids[0], "quantity": 3}]), "x@example.com");
    body.as_object_mut().unwrap().remove("customerData");
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&body), Some(&ana)).await, StatusCode::CREATED).await;
    let id = placed["order"]["id"].as_str().unwrap().to_string();
    assert_eq!(stock_of(&t, &ids[0]).await, 7);

    let status = |s: &str| json!({"status": s, "note": format!("a {s}")});
    let path = format!("/api/sales/{id}/status");
    expect_error(t.request(Method::PATCH, &path, Some(&status("confirmed")), Some(&ana)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let err = expect_error(
        t.request(Method::PATCH, &path, Some(&status("shipped")), Some(&admin)).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert!(err["error"].as_str().unwrap().contains("PENDING"), "{err}");
    expect_error(
        t.request(Method::PATCH, &path, Some(&status("lost")), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let moved = expect_status(t.request(Method::PATCH, &path, Some(&status("confirmed")), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((moved["message"].as_str(), moved["order"]["status"].as_str()), (Some("Estado del pedido actualizado"), Some("CONFIRMED")));
    // The owner may only cancel while PENDING.
    let cancel = format!("/api/sales/{id}/cancel");
    expect_error(t.request(Method::POST, &cancel, None, Some(&ana)).await, StatusCode::CONFLICT, "invalid_transition").await;
    // Two admins cancel at once: one wins, the stock comes back once.
    let (first, second) = (json!({"reason": "sin stock de carbón"}), json!({"reason": "duplicado"}));
    let (a, b) = tokio::join!(
        t.request(Method::POST, &cancel, Some(&first), Some(&admin)),
        t.request(Method::POST, &cancel, Some(&second), Some(&admin)),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    assert_eq!(stock_of(&t, &ids[0]).await, 10, "given back exactly once");
    expect_error(t.request(Method::PATCH, &path, Some(&status("pending")), Some(&admin)).await, StatusCode::CONFLICT, "invalid_transition")
        .await;

    let tracking = expect_status(t.get(&format!("/api/sales/{id}/tracking"), Some(&ana)).await, StatusCode::OK).await;
    let steps: Vec<&str> = tracking["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!((tracking["status"].as_str(), steps), (Some("CANCELLED"), vec!["PENDING", "CONFIRMED", "CANCELLED"]));
    assert_eq!(tracking["history"][0]["changedBy"]["id"], ana_body["user"]["id"], "placed by Ana");
    assert_eq!(
        (tracking["history"][1]["changedBy"]["name"].as_str(), tracking["history"][1]["note"].as_str()),
        (Some("Admin"), Some("a confirmed"))
    );
    let bruno = t.register("Bruno", "bruno@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(t.get(&format!("/api/sales/{id}/tracking"), Some(&bruno)).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::POST, &cancel, None, Some(&bruno)).await, StatusCode::NOT_FOUND, "not_found").await;

    // An owner cancels a pending order of theirs.
    let again = expect_status(t.request(Method::POST, "/api/sales", Some(&body), Some(&ana)).await, StatusCode::CREATED).await;
    let cancelled = expect_status(
        t.request(Method::POST, &format!("/api/sales/{}/cancel", again["order"]["id"].as_str().unwrap()), None, Some(&ana)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["order"]["status"], "CANCELLED");
    assert_eq!(stock_of(&t, &ids[0]).await, 10);
}

#[tokio::test]
async fn admins_list_orders_by_status_customer_and_dates() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Lomo", "120", "21", 100)]).await;
    let mut customers = Vec::new();
    for email in ["a@example.com", "b@example.com", "a@example.com"] {
        let placed = expect_status(
            t.request(Method::POST, "/api/sales", Some(&guest_order(json!([{"productId": ids[0], "quantity": 1}]), email)), None).await,
            StatusCode::CREATED,
        )
        .await;
        customers
            .push((placed["order"]["id"].as_str().unwrap().to_string(), placed["order"]["customer"]["id"].as_str().unwrap().to_string()));
    }
    let path = format!("/api/sales/{}/status", customers[1].0);
    expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": "CONFIRMED"})), Some(&admin)).await, StatusCode::OK).await;

    let user = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(t.get("/api/sales", Some(&user)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let all = expect_status(t.get("/api/sales?limit=2", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(all["pagination"], json!({"page": 1, "limit": 2, "total": 3, "totalPages": 2}));
    assert_eq!(all["orders"][0]["orderNumber"], "ORD-000003", "newest first");
    let pending = expect_status(t.get("/api/sales?status=pending", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(pending["pagination"]["total"], 2);
    let of_a = expect_status(t.get(&format!("/api/sales/by-customer/{}", customers[0].1), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(of_a["pagination"]["total"], 2, "the guest was reused");
    expect_error(t.get("/api/sales/by-customer/nope", Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;

    let today = chrono::Utc::now().date_naive();
    let range = json!({"startDate": today.to_string(), "endDate": today.to_string()});
    let found = expect_status(t.request(Method::POST, "/api/sales/by-date-range", Some(&range), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(found["pagination"]["total"], 3, "a date range includes its last day");
    let before = json!({"startDate": "2020-01-01", "endDate": "2020-12-31"});
    let none = expect_status(t.request(Method::POST, "/api/sales/by-date-range", Some(&before), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(none["pagination"]["total"], 0);
    let backwards = json!({"startDate": "2021-01-01", "endDate": "2020-01-01"});
    expect_error(
        t.request(Method::POST, "/api/sales/by-date-range", Some(&backwards), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(t.get("/api/sales?from=ayer", Some(&admin)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

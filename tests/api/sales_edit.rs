//! `PUT /api/sales/:id`: full edits while PENDING (owner) or CONFIRMED (admin), with stock,
//! coupon uses and totals moved by the difference, and nothing changed when an edit fails.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{app, guest_order, products, stock_of};

async fn used(t: &TestApp, admin: &str, code: &str) -> i64 {
    let coupons = expect_status(t.get("/api/coupons", Some(admin)).await, StatusCode::OK).await;
    coupons["coupons"].as_array().unwrap().iter().find(|c| c["code"] == code).unwrap()["usedCount"].as_i64().unwrap()
}

async fn put(t: &TestApp, path: &str, body: Value, token: &str) -> reqwest::Response {
    t.request(Method::PUT, path, Some(&body), Some(token)).await
}

#[tokio::test]
async fn an_order_is_edited_by_the_difference_and_a_failed_edit_changes_nothing() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Asado", "100", "21", 10), ("Provoleta", "50", "10.5", 5), ("Chimichurri", "30", "21", 2)]).await;
    for coupon in [
        json!({"code": "DIEZ", "discountType": "percentage", "discountValue": 10}),
        json!({"code": "FIJO", "discountType": "fixed", "discountValue": 20, "usageLimit": 1}),
    ] {
        expect_status(t.request(Method::POST, "/api/coupons", Some(&coupon), Some(&admin)).await, StatusCode::CREATED).await;
    }
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let mut body = guest_order(json!([{"productId": ids[0], "quantity": 2}, {"productId": ids[1], "quantity": 1}]), "x@example.com");
    body.as_object_mut().unwrap().remove("customerData");
    body["couponCode"] = json!("DIEZ");
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&body), Some(&ana)).await, StatusCode::CREATED).await;
    let path = format!("/api/sales/{}", placed["order"]["id"].as_str().unwrap());
    assert_eq!((stock_of(&t, &ids[0]).await, stock_of(&t, &ids[1]).await, used(&t, &admin, "DIEZ").await), (8, 4, 1));

    // The catalog price of Asado changes; the line already sold keeps its price.
    let price = json!({"price": 200});
    expect_status(t.request(Method::PUT, &format!("/api/products/{}", ids[0]), Some(&price), Some(&admin)).await, StatusCode::OK).await;
    let edit = json!({
        "items": [{"productId": ids[0], "quantity": 3, "unitPrice": 1}, {"productId": ids[2], "quantity": 2}],
        "couponCode": "fijo",
        "shippingDetails": {"street": "Gorriti", "zipCode": "", "recipientName": "Ana D."},
        "notes": "timbre 2"
    });
    let edited = expect_status(put(&t, &path, edit, &ana).await, StatusCode::OK).await;
    let order = &edited["order"];
    // 300 + 60; 20 off allocated 16.67 / 3.33; tax 59.50 + 11.90.
    assert_eq!(
        (order["subtotal"].clone(), order["discountAmount"].clone(), order["taxAmount"].clone(), order["total"].clone()),
        (json!(360), json!(20), json!(71.4), json!(411.4)),
        "{order}"
    );
    assert_eq!((order["items"][0]["unitPrice"].clone(), order["items"][1]["unitPrice"].clone()), (json!(100), json!(30)));
    assert_eq!(
        (order["coupon"]["code"].as_str(), order["notes"].as_str(), order["status"].as_str()),
        (Some("FIJO"), Some("timbre 2"), Some("PENDING"))
    );
    let ship = &order["shippingAddress"];
    assert_eq!(
        (ship["street"].as_str(), ship["number"].as_str(), ship["zipCode"].clone(), ship["recipientName"].as_str()),
        (Some("Gorriti"), Some("1234"), Value::Null, Some("Ana D."))
    );
    assert!(edited["warnings"][0].as_str().unwrap().contains("Asado"), "{edited}");
    assert_eq!(order["orderNumber"], placed["order"]["orderNumber"]);
    let stocks = [stock_of(&t, &ids[0]).await, stock_of(&t, &ids[1]).await, stock_of(&t, &ids[2]).await];
    assert_eq!(stocks, [7, 5, 0], "stock moved by the difference");
    assert_eq!((used(&t, &admin, "DIEZ").await, used(&t, &admin, "FIJO").await), (0, 1), "the swapped coupon gave its use back");

    // Failed edits change nothing.
    let before = expect_status(t.get(&path, Some(&ana)).await, StatusCode::OK).await;
    let more = json!({"items": [{"productId": ids[0], "quantity": 3}, {"productId": ids[2], "quantity": 3}], "notes": "otra"});
    let err = expect_error(put(&t, &path, more, &ana).await, StatusCode::CONFLICT, "insufficient_stock").await;
    assert!(err["error"].as_str().unwrap().contains("Chimichurri"), "{err}");
    let other = guest_order(json!([{"productId": ids[1], "quantity": 1}]), "b@example.com");
    let mut with_fijo = other.clone();
    with_fijo["couponCode"] = json!("FIJO");
    expect_error(t.request(Method::POST, "/api/sales", Some(&with_fijo), None).await, StatusCode::CONFLICT, "coupon_used_up").await;
    let bad = json!({"items": [], "shippingDetails": {"street": "x", "recipientPhone": "abc"}});
    let err = expect_error(put(&t, &path, bad, &ana).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["items", "shippingDetails.recipientPhone", "shippingDetails.street"], "{err}");
    let err =
        expect_error(put(&t, &path, json!({"couponCode": "NOPE"}), &ana).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(err["details"][0]["field"], "couponCode");
    let unknown = json!({"items": [{"productId": "nope", "quantity": 1}]});
    let err = expect_error(put(&t, &path, unknown, &ana).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(err["details"][0]["field"], "items[0].productId");
    let bruno = t.register("Bruno", "bruno@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(put(&t, &path, json!({"notes": "mío"}), &bruno).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(put(&t, "/api/sales/nope", json!({"notes": "x"}), &admin).await, StatusCode::NOT_FOUND, "not_found").await;
    let after = expect_status(t.get(&path, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(after, before, "nothing changed");
    let stocks = [stock_of(&t, &ids[0]).await, stock_of(&t, &ids[1]).await, stock_of(&t, &ids[2]).await];
    assert_eq!((stocks, used(&t, &admin, "FIJO").await), ([7, 5, 0], 1));

    // Removing the coupon frees its only use for someone else.
    let removed = expect_status(put(&t, &path, json!({"couponCode": null, "notes": ""}), &ana).await, StatusCode::OK).await;
    assert_eq!(
        (removed["order"]["coupon"].clone(), removed["order"]["notes"].clone(), removed["order"]["total"].clone()),
        (Value::Null, Value::Null, json!(435.6))
    );
    expect_status(t.request(Method::POST, "/api/sales", Some(&with_fijo), None).await, StatusCode::CREATED).await;
    assert_eq!(used(&t, &admin, "FIJO").await, 1);

    // Confirmed: only the shop edits; past CONFIRMED, nobody.
    let status = |s: &str| json!({"status": s});
    let status_path = format!("{path}/status");
    expect_status(t.request(Method::PATCH, &status_path, Some(&status("CONFIRMED")), Some(&admin)).await, StatusCode::OK).await;
    expect_error(put(&t, &path, json!({"notes": "x"}), &ana).await, StatusCode::CONFLICT, "order_not_editable").await;
    let by_shop =
        expect_status(put(&t, &path, json!({"items": [{"productId": ids[0], "quantity": 1}]}), &admin).await, StatusCode::OK).await;
    assert_eq!((by_shop["order"]["total"].clone(), stock_of(&t, &ids[0]).await, stock_of(&t, &ids[2]).await), (json!(121), 9, 2));
    let tracking = expect_status(t.get(&format!("{path}/tracking"), Some(&ana)).await, StatusCode::OK).await;
    let notes: Vec<(&str, &str)> =
        tracking["history"].as_array().unwrap().iter().map(|h| (h["status"].as_str().unwrap(), h["note"].as_str().unwrap_or(""))).collect();
    assert_eq!(
        notes,
        [
            ("PENDING", "Pedido creado"),
            ("PENDING", "Pedido modificado"),
            ("PENDING", "Pedido modificado"),
            ("CONFIRMED", ""),
            ("CONFIRMED", "Pedido modificado")
        ]
    );
    expect_status(t.request(Method::PATCH, &status_path, Some(&status("PROCESSING")), Some(&admin)).await, StatusCode::OK).await;
    let err = expect_error(put(&t, &path, json!({"notes": "x"}), &admin).await, StatusCode::CONFLICT, "order_not_editable").await;
    assert!(err["error"].as_str().unwrap().contains("PROCESSING"), "{err}");
}

#[tokio::test]
async fn an_edit_and_a_cancellation_at_once_leave_the_stock_exact() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "80", "21", 20), ("Morcilla", "10", "21", 20)]).await;
    for round in 0..5 {
        let body = guest_order(json!([{"productId": ids[0], "quantity": 4}]), &format!("g{round}@example.com"));
        let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&body), None).await, StatusCode::CREATED).await;
        let path = format!("/api/sales/{}", placed["order"]["id"].as_str().unwrap());
        let edit = json!({"items": [{"productId": ids[0], "quantity": 7}, {"productId": ids[1], "quantity": 3}]});
        let cancel = format!("{path}/cancel");
        let reason = json!({"reason": "a la vez"});
        let (edited, cancelled) = tokio::join!(put(&t, &path, edit, &admin), t.request(Method::POST, &cancel, Some(&reason), Some(&admin)));
        assert_eq!(cancelled.status(), StatusCode::OK);
        assert!([StatusCode::OK, StatusCode::CONFLICT].contains(&edited.status()), "{}", edited.status());
        assert_eq!((stock_of(&t, &ids[0]).await, stock_of(&t, &ids[1]).await), (20, 20), "round {round}: all the stock is back");
    }
}

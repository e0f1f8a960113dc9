//! What an attacker sends: numbers that would size allocations or wrap totals, oversized
//! searches and orders, paths that are not UTF-8, forged client addresses, odd methods,
//! idempotency keys across callers, and guests reusing another buyer's email. Each answer is
//! a 4xx with the error envelope, nothing changes, and feria keeps serving.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_mercadopago::FakeMercadoPago;
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{app, guest_order, products, stock_of};

/// feria with Mercado Pago pointed at a fake, rate limits out of the way.
async fn with_mercadopago() -> (FakeMercadoPago, TestApp) {
    let mp = FakeMercadoPago::start().await;
    let t = TestApp::with(|s| {
        s.extend(mp.settings());
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
    })
    .await;
    (mp, t)
}

async fn still_healthy(t: &TestApp) {
    expect_status(t.get("/api/health", None).await, StatusCode::OK).await;
}

#[tokio::test]
async fn client_numbers_never_size_an_allocation() {
    let t = app().await;
    let admin = t.admin_token().await;
    products(&t, &admin, &[("Vacío", "100", "21", 5)]).await;
    // Page numbers that once made the index allocate exabytes (and abort the process).
    for path in [
        "/api/products?page=100000000",
        "/api/products?page=9223372036854775807&limit=100",
        "/api/products/search?q=vacio&page=100000000",
        "/api/products/by-category/x?page=100000000",
        "/api/products?page=101&limit=100",
        "/api/products/search?page=2&limit=10000000000000000000000",
    ] {
        let error = expect_error(t.get(path, None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(error["details"][0]["field"] == "page" || error["details"][0]["field"] == "limit", "{path}: {error}");
    }
    // SQL listings: deep pages are refused before any arithmetic can overflow.
    expect_error(t.get("/api/sales?page=9223372036854775807", Some(&admin)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;
    let range = json!({"startDate": "2026-01-01", "endDate": "2026-12-31", "page": i64::MAX, "limit": 100});
    expect_error(
        t.request(Method::POST, "/api/sales/by-date-range", Some(&range), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // The deepest allowed page still answers.
    expect_status(t.get("/api/products?page=100&limit=100", None).await, StatusCode::OK).await;
    still_healthy(&t).await;
}

#[tokio::test]
async fn quantities_and_totals_are_bounded_never_wrapped() {
    let t = app().await;
    let admin = t.admin_token().await;
    // 10^13 pesos: the most a price may be (10^15 cents).
    let ids = products(&t, &admin, &[("Campo", "10000000000000", "0", 1_000_000_000), ("Vino", "100", "21", 10)]).await;
    for quantity in [json!(9_000_000_000_000_000_000u64), json!("100001"), json!(0), json!(-1), json!(1.5)] {
        let order = guest_order(json!([{"productId": ids[1], "quantity": quantity}]), "a@example.com");
        let error = expect_error(t.post("/api/sales", &order).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error["details"][0]["field"], "items[0].quantity", "{quantity}");
    }
    // Two units of the most expensive product would pass the largest total: refused, not wrapped.
    let order = guest_order(json!([{"productId": ids[0], "quantity": 2}]), "a@example.com");
    let error = expect_error(t.post("/api/sales", &order).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(error["details"][0]["field"], "items");
    assert_eq!(stock_of(&t, &ids[0]).await, 1_000_000_000, "nothing taken");
    // A price past the maximum is refused where it is written.
    let path = format!("/api/products/{}", ids[1]);
    let error = expect_error(
        t.request(Method::PUT, &path, Some(&json!({"price": "10000000000000.01"})), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error["details"][0]["field"], "price");

    // A cart cannot add its way past the maximum quantity either.
    let user = t.register("Ana", "ana@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    let add = |quantity: Value| json!({"productId": ids[1], "quantity": quantity});
    expect_status(t.request(Method::POST, "/api/cart/items", Some(&add(json!(1))), Some(&user)).await, StatusCode::OK).await;
    expect_error(
        t.request(Method::POST, "/api/cart/items", Some(&add(json!(i64::MAX))), Some(&user)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let cart = expect_status(t.get("/api/cart", Some(&user)).await, StatusCode::OK).await;
    assert_eq!(cart["items"][0]["quantity"], 1);
}

#[tokio::test]
async fn oversized_orders_and_searches_are_refused_at_once() {
    let t = app().await;
    // 100,000 lines in one order (about 1 MB): refused without looking at each line.
    let items: Vec<Value> = (0..100_000).map(|_| json!({})).collect();
    let started = std::time::Instant::now();
    let error = expect_error(
        t.post("/api/sales", &guest_order(Value::Array(items), "a@example.com")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(error["details"].as_array().unwrap().len() < 10, "one problem per field, not per line");
    let long = "palabra ".repeat(30);
    for path in [format!("/api/products/search?q={long}"), format!("/api/products/search?q={}", "x".repeat(201))] {
        let error = expect_error(t.get(&path, None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error["details"][0]["field"], "q");
    }
    let tags = (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>().join(",");
    let error = expect_error(
        t.get(&format!("/api/products/search?tags={tags}"), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error["details"][0]["field"], "tags");
    still_healthy(&t).await;
}

#[tokio::test]
async fn paths_that_are_not_utf8_are_a_400_and_never_the_default_store() {
    let t = app().await;
    let admin = t.admin_token().await;
    products(&t, &admin, &[("Vacío", "100", "21", 5)]).await;
    for path in ["/api/stores/%FF/products", "/api/products/%C3%28", "/api/stores/default/products/%FF", "/api/stores/%FF/sales"] {
        expect_error(t.get(path, Some(&admin)).await, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    expect_error(t.get("/api/stores/nope/products", None).await, StatusCode::NOT_FOUND, "store_not_found").await;
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_escape_the_rate_limit() {
    let t = TestApp::with(|s| {
        s.insert("TRUST_PROXY".into(), "1".into());
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "3".into());
    })
    .await;
    // The client writes whatever it likes on the left; the proxy appends the address it saw.
    for i in 0..3 {
        let answer = t.client.get(t.url("/api/stores")).header("x-forwarded-for", format!("10.0.0.{i}, 203.0.113.7")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let answer = t.client.get(t.url("/api/stores")).header("x-forwarded-for", "10.9.9.9, 203.0.113.7").send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = t.client.get(t.url("/api/stores")).header("x-forwarded-for", "203.0.113.8").send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK, "another client has its own budget");
}

#[tokio::test]
async fn metrics_labels_come_from_a_closed_set() {
    let t = app().await;
    for method in ["FOO", "BAR1", "PROPFIND"] {
        let answer = t.client.request(Method::from_bytes(method.as_bytes()).unwrap(), t.url("/api/stores")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    assert!(!metrics.contains("FOO") && !metrics.contains("PROPFIND"), "{metrics}");
    assert!(metrics.contains("method=\"OTHER\",route=\"/api/stores\",status=\"405\"} 3"), "{metrics}");
}

#[tokio::test]
async fn idempotency_keeps_no_credentials_and_no_answer_for_another_caller() {
    let t = app().await;
    let admin = t.admin_token().await;
    t.register("Ana", "ana@example.com", "secreto123").await;
    let login = json!({"email": "ana@example.com", "password": "secreto123"});
    for _ in 0..2 {
        let answer = t.client.post(t.url("/api/auth/login")).header("Idempotency-Key", "login-1").json(&login).send().await.unwrap();
        assert!(answer.headers().get("idempotent-replayed").is_none(), "a login is never replayed");
        expect_status(answer, StatusCode::OK).await;
    }
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys").fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(kept, 0, "no answer with tokens is stored");

    // Two users choosing the same key never see each other's answers.
    let bruno = t.register("Bruno", "bruno@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let add = json!({"productId": ids[0], "quantity": 1});
    let ana = t.login("ana@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    for token in [&ana, &bruno] {
        let answer =
            t.client.post(t.url("/api/cart/items")).bearer_auth(token).header("Idempotency-Key", "same").json(&add).send().await.unwrap();
        assert!(answer.headers().get("idempotent-replayed").is_none());
        let cart = expect_status(answer, StatusCode::OK).await;
        assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    }
    // A body over the limit is refused before it is read whole, key or not.
    let big = json!({"notes": "x".repeat(2 * 1024 * 1024)});
    let answer = t.client.post(t.url("/api/sales")).header("Idempotency-Key", "big").json(&big).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_guest_checkout_never_rewrites_another_buyers_details() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let first = expect_status(
        t.post("/api/sales", &guest_order(json!([{"productId": ids[0], "quantity": 1}]), "carla@example.com")).await,
        StatusCode::CREATED,
    )
    .await;
    // Someone else checks out with Carla's email and their own name and phone.
    let mut impostor = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "carla@example.com");
    impostor["customerData"] = json!({"name": "Mallory", "email": "carla@example.com", "phone": "+54 11 9999-9999"});
    let second = expect_status(t.post("/api/sales", &impostor).await, StatusCode::CREATED).await;
    assert_eq!(second["order"]["customer"]["name"], "Mallory", "the order keeps what was given with it");

    let path = format!("/api/sales/{}", first["order"]["id"].as_str().unwrap());
    let stored = expect_status(t.get(&path, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(stored["customer"]["name"], "Carla Gómez");
    assert_eq!(stored["customer"]["phone"], "+54 11 4444-5555");
    let customer = expect_status(t.get("/api/customers/by-email/carla@example.com", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(customer["name"], "Carla Gómez");
    assert_eq!(customer["phone"], "+54 11 4444-5555");
}

#[tokio::test]
async fn exported_cells_never_run_as_formulas() {
    let t = app().await;
    let admin = t.admin_token().await;
    products(&t, &admin, &[("=HYPERLINK(\"http://evil\")", "100", "21", 5), ("@SUM(A1)", "50", "21", 1), ("Vacío", "10", "21", 2)]).await;
    let exported = t.get("/api/products/export?format=csv", Some(&admin)).await.text().await.unwrap();
    assert!(exported.contains("'=HYPERLINK"), "{exported}");
    assert!(exported.contains("'@SUM(A1)"), "{exported}");
    assert!(exported.contains("Vacío,") && !exported.contains("'Vacío"), "{exported}");
    assert!(!exported.lines().any(|l| l.starts_with('=') || l.contains(",=") || l.contains(",@")), "{exported}");
}

#[tokio::test]
async fn an_unsigned_webhook_is_not_stored_whole() {
    let t = app().await;
    let admin = t.admin_token().await;
    let padding = "x".repeat(900 * 1024);
    let body = json!({"type": "payment", "data": {"id": "123"}, "padding": padding});
    let answer = t.client.post(t.url("/api/payments/webhook?data.id=123&type=payment")).json(&body).send().await.unwrap();
    assert!(answer.status().is_client_error(), "{}", answer.status());
    let logged = expect_status(t.get("/api/webhooks", Some(&admin)).await, StatusCode::OK).await;
    let first = &logged["webhooks"][0];
    assert_eq!(first["signatureValid"], false, "{first}");
    let stored = first["body"].as_str().unwrap();
    assert!(stored.len() < 5_000 && stored.contains("bytes in all"), "kept {} bytes", stored.len());

    // Nor its resource id or event type, which are indexed.
    let long = "9".repeat(20_000);
    let answer = t.client.post(t.url(&format!("/api/payments/webhook?topic={long}&id={long}"))).json(&json!({})).send().await.unwrap();
    assert!(answer.status().is_client_error() || answer.status().is_success(), "{}", answer.status());
    let logged = expect_status(t.get("/api/webhooks", Some(&admin)).await, StatusCode::OK).await;
    let newest = &logged["webhooks"][0];
    assert!(newest["resourceId"].as_str().unwrap().len() < 400 && newest["eventType"].as_str().unwrap().len() < 400, "{newest}");
}

#[tokio::test]
async fn reading_never_writes() {
    let t = app().await;
    let user = t.register("Ana", "ana@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    let count = |table: &'static str| {
        let db = t.app.db.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(db.reader()).await.unwrap() }
    };
    // Another store, where Ana is not a customer yet.
    let store = json!({"name": "Carnes del Sur", "slug": "carnes-del-sur", "currency": "CLP", "country": "CL"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&t.admin_token().await)).await, StatusCode::CREATED).await;
    let before = (count("carts").await, count("customers").await);
    for prefix in ["/api", "/api/stores/carnes-del-sur"] {
        let cart = expect_status(t.get(&format!("{prefix}/cart"), Some(&user)).await, StatusCode::OK).await;
        assert_eq!((cart["id"].clone(), cart["items"].clone(), cart["total"].clone()), (Value::Null, json!([]), json!(0)));
        let addresses = expect_status(t.get(&format!("{prefix}/addresses"), Some(&user)).await, StatusCode::OK).await;
        assert_eq!(addresses["total"], 0);
        expect_error(t.get(&format!("{prefix}/addresses/nope"), Some(&user)).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_eq!((count("carts").await, count("customers").await), before, "a GET created a row");
}

#[tokio::test]
async fn another_buyers_payment_reveals_nothing() {
    let (_mp, t) = with_mercadopago().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    let bruno = t.register("Bruno", "bruno@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    let mut order = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "ana@example.com");
    order["customerData"] = Value::Null;
    order["paymentMethodCode"] = json!("MERCADO_PAGO");
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&ana)).await, StatusCode::CREATED).await;
    let path = format!("/api/payments/sale/{}", placed["order"]["id"].as_str().unwrap());
    let started = expect_status(t.request(Method::POST, &path, Some(&json!({})), Some(&ana)).await, StatusCode::CREATED).await;
    let payment_id = started["payment"]["id"].as_str().unwrap().to_string();
    let preference = started["preference"]["id"].as_str().unwrap().to_string();

    let verify = json!({"paymentId": payment_id});
    let preference_path = format!("/api/payments/preference/{preference}");
    for who in [None, Some(bruno.as_str())] {
        expect_error(t.request(Method::POST, "/api/payments/verify", Some(&verify), who).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(t.get(&preference_path, who).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let own = expect_status(t.get(&preference_path, Some(&ana)).await, StatusCode::OK).await;
    assert!(own["preference"].get("payer").is_none(), "{own}");
    expect_status(t.request(Method::POST, "/api/payments/verify", Some(&verify), Some(&ana)).await, StatusCode::OK).await;
}

#[tokio::test]
async fn stock_moves_once_each_way_however_the_workflow_goes() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let placed = expect_status(
        t.post("/api/sales", &guest_order(json!([{"productId": ids[0], "quantity": 4}]), "a@example.com")).await,
        StatusCode::CREATED,
    )
    .await;
    let order = placed["order"]["id"].as_str().unwrap().to_string();
    // This shop lets a cancelled order be reopened.
    let cancelled = expect_status(t.get("/api/order-statuses/code/CANCELLED", None).await, StatusCode::OK).await;
    let reopen = json!({"canTransitionTo": ["PENDING"]});
    let path = format!("/api/order-statuses/{}/transitions", cancelled["id"].as_str().unwrap());
    expect_status(t.request(Method::PATCH, &path, Some(&reopen), Some(&admin)).await, StatusCode::OK).await;

    let status = format!("/api/sales/{order}/status");
    let to = |code: &str| json!({"status": code});
    expect_status(t.request(Method::PATCH, &status, Some(&to("CANCELLED")), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(stock_of(&t, &ids[0]).await, 10, "given back");
    expect_status(t.request(Method::PATCH, &status, Some(&to("PENDING")), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(stock_of(&t, &ids[0]).await, 6, "taken again on reopening");
    expect_status(t.request(Method::PATCH, &status, Some(&to("CANCELLED")), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(stock_of(&t, &ids[0]).await, 10, "given back once more, never twice");

    // Reopening needs the stock to still be there.
    let other = guest_order(json!([{"productId": ids[0], "quantity": 8}]), "b@example.com");
    expect_status(t.post("/api/sales", &other).await, StatusCode::CREATED).await;
    expect_error(t.request(Method::PATCH, &status, Some(&to("PENDING")), Some(&admin)).await, StatusCode::CONFLICT, "insufficient_stock")
        .await;
    assert_eq!(stock_of(&t, &ids[0]).await, 2, "a refused reopening changes nothing");
}

#[tokio::test]
async fn money_for_a_cancelled_order_is_flagged_never_silently_kept() {
    let (mp, t) = with_mercadopago().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let mut order = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "a@example.com");
    order["paymentMethodCode"] = json!("MERCADO_PAGO");
    let placed = expect_status(t.post("/api/sales", &order).await, StatusCode::CREATED).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let started = expect_status(
        t.request(Method::POST, &format!("/api/payments/sale/{order_id}"), Some(&json!({})), None).await,
        StatusCode::CREATED,
    )
    .await;
    let cancel = json!({"status": "CANCELLED"});
    expect_status(t.request(Method::PATCH, &format!("/api/sales/{order_id}/status"), Some(&cancel), Some(&admin)).await, StatusCode::OK)
        .await;
    // The buyer pays on the page they left open.
    mp.pay(started["preference"]["id"].as_str().unwrap(), "approved", None);
    let payment_id = started["payment"]["id"].as_str().unwrap();
    let verified =
        expect_status(t.request(Method::POST, "/api/payments/verify", Some(&json!({"paymentId": payment_id})), None).await, StatusCode::OK)
            .await;
    assert_eq!(verified["payment"]["status"], "approved");
    let payment = expect_status(t.get(&format!("/api/payments/{payment_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(payment["payment"]["needsRefund"], true, "{payment}");
    let after = expect_status(t.get(&format!("/api/sales/{order_id}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(after["status"], "CANCELLED");
    assert_eq!(stock_of(&t, &ids[0]).await, 10);
}

#[tokio::test]
async fn guest_orders_and_webhooks_have_a_budget_per_address() {
    let t = TestApp::with(|s| {
        s.insert("ORDER_RATE_LIMIT_MAX_REQUESTS".into(), "2".into());
        s.insert("WEBHOOK_RATE_LIMIT_MAX_REQUESTS".into(), "3".into());
    })
    .await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let order = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "a@example.com");
    for _ in 0..2 {
        expect_status(t.post("/api/sales", &order).await, StatusCode::CREATED).await;
    }
    expect_error(t.post("/api/sales", &order).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(stock_of(&t, &ids[0]).await, 8, "the third order took nothing");
    // A logged-in buyer is not a guest.
    let user = t.register("Ana", "ana@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&user)).await, StatusCode::CREATED).await;

    for _ in 0..3 {
        let answer = t.client.post(t.url("/api/payments/webhook")).json(&json!({})).send().await.unwrap();
        assert_ne!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let answer = t.client.post(t.url("/api/payments/webhook")).json(&json!({})).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn unpaid_online_orders_give_their_stock_back_once() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let mut online = guest_order(json!([{"productId": ids[0], "quantity": 3}]), "a@example.com");
    online["paymentMethodCode"] = json!("MERCADO_PAGO");
    let online = expect_status(t.post("/api/sales", &online).await, StatusCode::CREATED).await["order"]["id"].clone();
    let mut cash = guest_order(json!([{"productId": ids[0], "quantity": 2}]), "b@example.com");
    cash["paymentMethodCode"] = json!("CASH");
    let cash = expect_status(t.post("/api/sales", &cash).await, StatusCode::CREATED).await["order"]["id"].clone();
    assert_eq!(stock_of(&t, &ids[0]).await, 5);

    let ttl = std::time::Duration::from_secs(3600);
    assert_eq!(feria::services::order_expiry::expire_unpaid(&t.app, ttl).await.unwrap(), 0, "not old enough yet");
    let two_hours_ago = feria_domain::time::to_db(chrono::Utc::now() - chrono::Duration::hours(2));
    sqlx::query("UPDATE orders SET created_at = $1").bind(&two_hours_ago).execute(t.app.db.writer()).await.unwrap();
    assert_eq!(feria::services::order_expiry::expire_unpaid(&t.app, ttl).await.unwrap(), 1);
    assert_eq!(feria::services::order_expiry::expire_unpaid(&t.app, ttl).await.unwrap(), 0, "once");
    assert_eq!(stock_of(&t, &ids[0]).await, 8, "the online order's 3 units are back; cash orders wait");
    let status = |id: Value| {
        let t = &t;
        let admin = admin.clone();
        async move {
            expect_status(t.get(&format!("/api/sales/{}", id.as_str().unwrap()), Some(&admin)).await, StatusCode::OK).await["status"]
                .clone()
        }
    };
    assert_eq!(status(online).await, "CANCELLED");
    assert_eq!(status(cash).await, "PENDING");
}

#[tokio::test]
async fn an_order_the_buyer_is_paying_by_cash_ticket_does_not_expire() {
    let (mp, t) = with_mercadopago().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vino", "100", "21", 10)]).await;
    let mut order = guest_order(json!([{"productId": ids[0], "quantity": 1}]), "a@example.com");
    order["paymentMethodCode"] = json!("MERCADO_PAGO");
    let placed = expect_status(t.post("/api/sales", &order).await, StatusCode::CREATED).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    let started = expect_status(
        t.request(Method::POST, &format!("/api/payments/sale/{order_id}"), Some(&json!({})), None).await,
        StatusCode::CREATED,
    )
    .await;
    // The buyer chose a cash ticket: Mercado Pago has the payment, pending until it is paid.
    mp.pay(started["preference"]["id"].as_str().unwrap(), "pending", None);
    let verify = json!({"paymentId": started["payment"]["id"]});
    expect_status(t.request(Method::POST, "/api/payments/verify", Some(&verify), None).await, StatusCode::OK).await;

    let two_hours_ago = feria_domain::time::to_db(chrono::Utc::now() - chrono::Duration::hours(2));
    sqlx::query("UPDATE orders SET created_at = $1").bind(&two_hours_ago).execute(t.app.db.writer()).await.unwrap();
    let ttl = std::time::Duration::from_secs(3600);
    assert_eq!(feria::services::order_expiry::expire_unpaid(&t.app, ttl).await.unwrap(), 0);
    assert_eq!(stock_of(&t, &ids[0]).await, 9, "still held for the buyer");
}

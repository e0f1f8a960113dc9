//! The MCP tools over Streamable HTTP (JSON-RPC) and over seed 001's REST mirror: what each
//! caller sees and may do, the answers' numbers, the audit of writes and the refusals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{app, guest_order, products};

const CATALOG_TOOLS: [&str; 9] = [
    "get_products",
    "search_products_advanced",
    "get_product_details",
    "create_checkout",
    "get_checkout",
    "update_checkout",
    "complete_checkout",
    "cancel_checkout",
    "get_order_status",
];

/// A JSON-RPC request to `path` in the stateless revision; returns the HTTP status and body.
pub(crate) async fn rpc(t: &TestApp, path: &str, token: Option<&str>, method: &str, params: Value) -> (StatusCode, Value) {
    let mut params = params;
    params["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let mut request = t
        .client
        .post(t.url(path))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}));
    if let Some(name) = params.get("name").or(params.get("uri")).and_then(Value::as_str) {
        request = request.header("mcp-name", name);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn tool_names(t: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let (status, body) = rpc(t, path, token, "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

async fn call(t: &TestApp, path: &str, token: Option<&str>, name: &str, arguments: Value) -> Value {
    let (status, body) = rpc(t, path, token, "tools/call", json!({"name": name, "arguments": arguments})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["result"].clone()
}

async fn key(t: &TestApp, owner: &str, scopes: &str) -> String {
    let body = json!({"name": "agente", "scopes": scopes});
    expect_status(t.request(Method::POST, "/api/api-keys", Some(&body), Some(owner)).await, StatusCode::CREATED).await["key"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn each_caller_sees_the_tools_it_may_use_and_a_missing_scope_is_named() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15000", "21", 20), ("Malbec reserva", "9000", "21", 3)]).await;

    assert_eq!(tool_names(&t, "/mcp", None).await, CATALOG_TOOLS);
    let reader = key(&t, &admin, "catalog:read orders:read").await;
    let names = tool_names(&t, "/mcp", Some(&reader)).await;
    assert!(names.contains(&"get_business_stats".to_string()) && names.contains(&"low_stock_report".to_string()), "{names:?}");
    assert!(!names.contains(&"update_order_status".to_string()) && !names.contains(&"refund_payment".to_string()), "{names:?}");
    assert!(!names.contains(&"view_cart".to_string()), "a key has no cart: {names:?}");
    let all = tool_names(&t, "/mcp", Some(&admin)).await;
    assert_eq!(all.len(), 23);
    assert!(all.contains(&"add_to_cart".to_string()) && all.contains(&"lapsed_customers".to_string()), "{all:?}");

    // Tools carry schemas and hints.
    let (_, listed) = rpc(&t, "/mcp", Some(&admin), "tools/list", json!({})).await;
    let refund = listed["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "refund_payment").unwrap().clone();
    assert_eq!(refund["annotations"]["destructiveHint"], true);
    assert_eq!(refund["inputSchema"]["type"], "object");
    assert!(refund["inputSchema"]["required"].as_array().unwrap().contains(&json!("confirm")), "{refund}");
    assert_eq!(refund["outputSchema"]["type"], "object");

    // The catalog for anyone, with the API's numbers.
    let found = call(&t, "/mcp", None, "get_products", json!({"search": "malbec"})).await;
    assert_eq!(found["isError"], false);
    assert_eq!(found["structuredContent"]["total"], 1);
    assert_eq!(found["structuredContent"]["products"][0]["priceWithTax"], json!(10890));
    let text = found["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("1 producto coincide") && text.contains("Malbec reserva — 10890 ARS"), "{text}");
    let details = call(&t, "/mcp", None, "get_product_details", json!({"productId": ids[0]})).await;
    assert_eq!(details["structuredContent"]["stock"], 20);

    // Without the scope: a tool error naming it, nothing changed.
    let placed = expect_status(
        t.request(Method::POST, "/api/sales", Some(&guest_order(json!([{"productId": ids[0], "quantity": 2}]), "eva@example.com")), None)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let number = placed["order"]["orderNumber"].as_str().unwrap().to_string();
    let refused = call(&t, "/mcp", Some(&reader), "update_order_status", json!({"order": number, "status": "CONFIRMED"})).await;
    assert_eq!(refused["isError"], true);
    assert_eq!(refused["structuredContent"]["code"], "insufficient_scope");
    assert!(refused["content"][0]["text"].as_str().unwrap().contains("orders:write"), "{refused}");
    // Anonymous: a 401 whose challenge points a host at OAuth.
    let response = t
        .client
        .post(t.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_business_stats", "arguments": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata=\"http://localhost:3000/.well-known/oauth-protected-resource/mcp\""), "{challenge}");
    let (status, unknown) = rpc(&t, "/mcp", None, "tools/call", json!({"name": "drop_tables", "arguments": {}})).await;
    assert_eq!((status, unknown["error"]["code"].clone()), (StatusCode::OK, json!(-32602)));
    let bad = call(&t, "/mcp", None, "get_products", json!({"limit": "muchos"})).await;
    assert_eq!((bad["isError"].clone(), bad["structuredContent"]["details"][0]["field"].clone()), (json!(true), json!("limit")));

    // A bad token is a 401 with a Bearer challenge; a key works only on its store.
    let response = t.client.post(t.url("/mcp")).bearer_auth("fk_made_up").json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let ana = t.register("Ana", "ana@example.com", "una-clave-larga").await["token"].as_str().unwrap().to_string();
    let store = json!({"name": "Tienda de Ana", "slug": "ana", "currency": "ARS", "country": "AR"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&ana)).await, StatusCode::CREATED).await;
    let (status, _) = rpc(&t, "/api/stores/ana/mcp", Some(&reader), "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(tool_names(&t, "/api/stores/ana/mcp", Some(&ana)).await.len(), 23);
    let theirs = call(&t, "/api/stores/ana/mcp", None, "get_products", json!({})).await;
    assert_eq!(theirs["structuredContent"]["total"], 0);
}

#[tokio::test]
async fn an_owner_agent_reads_the_figures_and_runs_the_shop_audited() {
    let t = app().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15000", "21", 20), ("Malbec reserva", "9000", "21", 3)]).await;
    let order = |items: Value| guest_order(items, "eva@example.com");
    let mut numbers = Vec::new();
    for items in
        [json!([{"productId": ids[0], "quantity": 2}, {"productId": ids[1], "quantity": 1}]), json!([{"productId": ids[0], "quantity": 1}])]
    {
        let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order(items)), None).await, StatusCode::CREATED).await;
        numbers.push(placed["order"]["orderNumber"].as_str().unwrap().to_string());
    }
    let cancelled = expect_status(
        t.request(Method::POST, "/api/sales", Some(&order(json!([{"productId": ids[1], "quantity": 1}]))), None).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/sales/{}/cancel", cancelled["order"]["id"].as_str().unwrap());
    expect_status(t.request(Method::POST, &path, Some(&json!({})), Some(&admin)).await, StatusCode::OK).await;

    let agent = key(&t, &admin, "catalog:read catalog:write orders:read orders:write customers:read").await;
    let stats = call(&t, "/mcp", Some(&agent), "get_business_stats", json!({})).await["structuredContent"].clone();
    // 3 × 15000 + 9000 net, 21 % tax: 65340; the cancelled order does not count.
    assert_eq!((stats["orders"].clone(), stats["soldOrders"].clone(), stats["revenue"].clone()), (json!(3), json!(2), json!(65340)));
    assert_eq!(
        (stats["unitsSold"].clone(), stats["averageOrder"].clone(), stats["currency"].clone()),
        (json!(4), json!(32670), json!("ARS"))
    );
    assert!(stats["period"]["from"].as_str().unwrap() < stats["period"]["to"].as_str().unwrap());
    let by_product = call(&t, "/mcp", Some(&agent), "sales_summary", json!({"groupBy": "product"})).await["structuredContent"].clone();
    assert_eq!(by_product["groups"][0]["label"], "Vacío");
    assert_eq!((by_product["groups"][0]["units"].clone(), by_product["groups"][0]["revenue"].clone()), (json!(3), json!(54450)));
    let low = call(&t, "/mcp", Some(&agent), "low_stock_report", json!({})).await["structuredContent"].clone();
    assert_eq!(
        (low["total"].clone(), low["products"][0]["name"].clone(), low["products"][0]["stock"].clone()),
        (json!(1), json!("Malbec reserva"), json!(2))
    );
    let found = call(&t, "/mcp", Some(&agent), "get_customers", json!({"search": "EVA@"})).await["structuredContent"].clone();
    assert_eq!(found["total"], 1);
    let customer = call(&t, "/mcp", Some(&agent), "get_customer_details", json!({"customerId": "eva@example.com"})).await;
    assert_eq!(customer["structuredContent"]["recentOrders"]["pagination"]["total"], 3);

    // "marcá el pedido … como confirmado": by number, along the workflow, in the audit log.
    let moved =
        call(&t, "/mcp", Some(&agent), "update_order_status", json!({"order": numbers[0].to_lowercase(), "status": "CONFIRMED"})).await;
    assert_eq!(moved["structuredContent"]["status"], "CONFIRMED", "{moved}");
    let refused = call(&t, "/mcp", Some(&agent), "update_order_status", json!({"order": numbers[0], "status": "PENDING"})).await;
    assert_eq!(refused["isError"], true, "{refused}");
    let stock = call(&t, "/mcp", Some(&agent), "update_stock", json!({"product": ids[1], "stock": 40})).await;
    assert_eq!((stock["structuredContent"]["previous"].clone(), stock["structuredContent"]["stock"].clone()), (json!(2), json!(40)));
    assert_eq!(expect_status(t.get(&format!("/api/products/{}", ids[1]), None).await, StatusCode::OK).await["stock"], 40);
    let log = expect_status(t.get("/api/audit-log?resource=sales", Some(&admin)).await, StatusCode::OK).await;
    let entry = &log["entries"][0];
    assert_eq!(
        (entry["action"].clone(), entry["actor"]["type"].clone(), entry["method"].clone()),
        (json!("sales.status"), json!("key"), json!("MCP"))
    );
    assert_eq!(entry["after"]["status"], "CONFIRMED");

    // A buyer's own order: a guest with the email given at checkout, nobody else.
    let mine = call(&t, "/mcp", None, "get_order_status", json!({"order": numbers[0], "email": "EVA@example.com"})).await;
    assert_eq!(mine["structuredContent"]["status"], "CONFIRMED");
    let other = call(&t, "/mcp", None, "get_order_status", json!({"order": numbers[0], "email": "otro@example.com"})).await;
    assert_eq!((other["isError"].clone(), other["structuredContent"]["code"].clone()), (json!(true), json!("not_found")));

    // Coupons and refunds need their own scopes; a refund also needs confirm=true.
    let coupon =
        call(&t, "/mcp", Some(&agent), "create_coupon", json!({"code": "FERIADO", "discountType": "percentage", "discountValue": 10}))
            .await;
    assert!(coupon["content"][0]["text"].as_str().unwrap().contains("prices:write"), "{coupon}");
    let coupon =
        call(&t, "/mcp", Some(&admin), "create_coupon", json!({"code": "FERIADO", "discountType": "percentage", "discountValue": 10}))
            .await;
    assert_eq!(coupon["structuredContent"]["coupon"]["code"], "FERIADO", "{coupon}");
    let refund = call(&t, "/mcp", Some(&admin), "refund_payment", json!({"paymentId": "x", "confirm": false})).await;
    assert_eq!(refund["structuredContent"]["details"][0]["field"], "confirm", "{refund}");
}

#[tokio::test]
async fn the_rest_mirror_answers_with_the_same_tools_and_rules() {
    let t = app().await;
    let admin = t.admin_token().await;
    products(&t, &admin, &[("Vacío", "15000", "21", 20)]).await;
    let listed = expect_status(t.get("/api/mcp/tools", None).await, StatusCode::OK).await;
    let names: Vec<&str> = listed["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, CATALOG_TOOLS);
    let answer = expect_status(
        t.request(Method::POST, "/api/mcp/call", Some(&json!({"toolName": "get_products", "arguments": {"limit": 5}})), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["content"][0]["type"], "text");
    assert_eq!(answer["structuredContent"]["total"], 1);
    let refused = expect_error(
        t.request(Method::POST, "/api/mcp/call", Some(&json!({"name": "get_business_stats", "arguments": {}})), None).await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert_eq!(refused["details"][0]["message"], "orders:read");
    expect_error(t.request(Method::POST, "/api/mcp/call", Some(&json!({"name": "nope"})), None).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    expect_error(
        t.request(Method::POST, "/api/mcp/call", Some(&json!({})), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let stats = expect_status(
        t.request(
            Method::POST,
            "/api/mcp/call",
            Some(&json!({"name": "get_business_stats", "arguments": {"from": "2020-01-01"}})),
            Some(&admin),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["structuredContent"]["activeProducts"], 1);
}

/// A fake of Anthropic's Messages API: checks the key and version, answers a message with its
/// usage, or a rate-limit error when the prompt says "limit".
async fn fake_anthropic() -> String {
    use axum::http::{HeaderMap, StatusCode as Status};
    async fn messages(headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> (Status, axum::Json<Value>) {
        if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some("sk-ant-test") || headers.get("anthropic-version").is_none() {
            return (
                Status::UNAUTHORIZED,
                axum::Json(json!({"type": "error", "error": {"type": "authentication_error", "message": "bad key"}})),
            );
        }
        if body["messages"][0]["content"] == "limit" {
            return (
                Status::TOO_MANY_REQUESTS,
                axum::Json(json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})),
            );
        }
        let answer = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
            "content": [{"type": "text", "text": "Hay 2 productos."}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 12, "output_tokens": 7, "cache_read_input_tokens": 3}});
        (Status::OK, axum::Json(answer))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/v1/messages", axum::routing::post(messages))).await });
    url
}

#[tokio::test]
async fn the_anthropic_proxy_forwards_for_signed_in_callers_and_records_the_tokens() {
    let url = fake_anthropic().await;
    let t = TestApp::with(|s| {
        s.insert("ANTHROPIC_API_KEY".into(), "sk-ant-test".into());
        s.insert("ANTHROPIC_API_URL".into(), url);
    })
    .await;
    let admin = t.admin_token().await;
    let ask = |content: &str| json!({"max_tokens": 100, "messages": [{"role": "user", "content": content}]});
    expect_error(t.request(Method::POST, "/api/mcp/anthropic", Some(&ask("hola")), None).await, StatusCode::UNAUTHORIZED, "unauthorized")
        .await;
    let answer = expect_status(t.request(Method::POST, "/api/mcp/anthropic", Some(&ask("hola")), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((answer["content"][0]["text"].as_str(), answer["model"].as_str()), (Some("Hay 2 productos."), Some("claude-haiku-4-5")));
    let limited = t.request(Method::POST, "/api/mcp/anthropic", Some(&ask("limit")), Some(&admin)).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    for bad in [
        json!({"max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}),
        json!({"max_tokens": 10, "messages": []}),
        json!({"max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    ] {
        expect_error(
            t.request(Method::POST, "/api/mcp/anthropic", Some(&bad), Some(&admin)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let rows: Vec<(String, i64, i64, i64)> =
        sqlx::query_as("SELECT model, input_tokens, output_tokens, status FROM llm_usage ORDER BY created_at")
            .fetch_all(t.app.db.writer())
            .await
            .unwrap();
    assert_eq!(rows, vec![("claude-haiku-4-5".to_string(), 15, 7, 200), ("claude-haiku-4-5".to_string(), 0, 0, 429)]);
    // Asking a model is not a write: the audit log stays empty.
    let log = expect_status(t.get("/api/audit-log", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(log["entries"], json!([]), "{log}");

    let unconfigured = crate::sales::app().await;
    let admin = unconfigured.admin_token().await;
    expect_error(
        unconfigured.request(Method::POST, "/api/mcp/anthropic", Some(&ask("hola")), Some(&admin)).await,
        StatusCode::CONFLICT,
        "provider_not_configured",
    )
    .await;
}

//! The OpenAPI document: snapshot, coverage of every route, and the docs page.

use reqwest::StatusCode;

use crate::harness::{TestApp, expect_status};

#[tokio::test]
async fn openapi_document_snapshot() {
    let t = TestApp::spawn().await;
    let doc = expect_status(t.get("/api/openapi.json", None).await, StatusCode::OK).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    insta::assert_json_snapshot!("openapi", doc, { ".info.version" => "[version]" });
}

#[tokio::test]
async fn every_route_is_documented() {
    let t = TestApp::spawn().await;
    let doc = expect_status(t.get("/api/openapi.json", None).await, StatusCode::OK).await;
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth", "get"),
        ("/api/auth/all", "get"),
        ("/api/auth/{id}", "put"),
        ("/api/auth/{id}", "delete"),
        ("/api/auth/forgot-password", "post"),
        ("/api/auth/reset-password", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/profile", "get"),
        ("/api/auth/profile", "put"),
        ("/api/stores", "get"),
        ("/api/stores", "post"),
        ("/api/stores/{slug}", "get"),
        ("/api/admin/jobs", "get"),
        ("/api/notifications", "get"),
        ("/api/notifications/unread-count", "get"),
        ("/api/notifications/preferences", "get"),
        ("/api/notifications/preferences", "put"),
        ("/api/webhooks/sendgrid", "post"),
        ("/api/notifications/devices", "get"),
        ("/api/notifications/devices", "post"),
        ("/api/notifications/devices/{id}", "delete"),
        ("/api/notifications/web-push/key", "get"),
        ("/api/webhooks/twilio/status", "post"),
        ("/api/notifications/read-all", "post"),
        ("/api/notifications/{id}/read", "post"),
        ("/api/notifications/{id}/archive", "post"),
        ("/api/admin/jobs/{id}/retry", "post"),
        ("/api/admin/audit-log", "get"),
        ("/api/health", "get"),
        ("/api/ready", "get"),
        ("/metrics", "get"),
    ];
    let mut expected = expected.map(|(p, m)| (p.to_string(), m)).to_vec();
    for prefix in ["/api", "/api/stores/{slug}"] {
        expected.push((format!("{prefix}/products/by-category/{{id}}"), "get"));
        expected.push((format!("{prefix}/products/search"), "get"));
        expected.push((format!("{prefix}/products/bulk-import"), "post"));
        expected.push((format!("{prefix}/products/export"), "get"));
        expected.push((format!("{prefix}/import/status/{{id}}"), "get"));
        expected.push((format!("{prefix}/import/template"), "get"));
        expected.push((format!("{prefix}/cities/by-name/{{name}}"), "get"));
        expected.push((format!("{prefix}/neighborhoods/by-city/{{id}}"), "get"));
        expected.push((format!("{prefix}/order-statuses/active"), "get"));
        expected.push((format!("{prefix}/order-statuses/default"), "get"));
        expected.push((format!("{prefix}/order-statuses/code/{{code}}"), "get"));
        expected.push((format!("{prefix}/order-statuses/validate-transition"), "post"));
        expected.push((format!("{prefix}/order-statuses/{{id}}/transitions"), "patch"));
        expected.push((format!("{prefix}/payment-methods/active"), "get"));
        expected.push((format!("{prefix}/payment-methods/code/{{code}}"), "get"));
        expected.push((format!("{prefix}/shipping-rates/quote"), "get"));
        expected.push((format!("{prefix}/store-policies"), "get"));
        expected.extend([(format!("{prefix}/store-policies/{{kind}}"), "put"), (format!("{prefix}/store-policies/{{kind}}"), "delete")]);
        for (path, method) in [
            ("query", "post"),
            ("query/stream", "post"),
            ("session", "post"),
            ("session/{id}", "get"),
            ("sessions", "get"),
            ("current-llm", "get"),
            ("change-llm", "post"),
            ("budget", "put"),
            ("usage", "get"),
            ("generate-embeddings", "post"),
            ("validate-embeddings", "get"),
        ] {
            expected.push((format!("{prefix}/chatbot/{path}"), method));
        }
        expected.push((format!("{prefix}/coupons/validate/{{code}}"), "get"));
        expected.push((format!("{prefix}/customers/by-neighborhood/{{id}}"), "get"));
        expected.push((format!("{prefix}/customers/by-email/{{email}}"), "get"));
        expected.push((format!("{prefix}/addresses/{{id}}/default"), "patch"));
        expected.extend([
            (format!("{prefix}/cart"), "get"),
            (format!("{prefix}/cart"), "delete"),
            (format!("{prefix}/cart/items"), "post"),
        ]);
        expected.extend([(format!("{prefix}/cart/items/{{id}}"), "put"), (format!("{prefix}/cart/items/{{id}}"), "delete")]);
        expected.extend([
            (format!("{prefix}/sales"), "post"),
            (format!("{prefix}/sales/my-orders"), "get"),
            (format!("{prefix}/sales/{{id}}"), "get"),
            (format!("{prefix}/sales/{{id}}"), "put"),
            (format!("{prefix}/sales"), "get"),
            (format!("{prefix}/sales/{{id}}/status"), "patch"),
            (format!("{prefix}/sales/{{id}}/cancel"), "post"),
            (format!("{prefix}/sales/{{id}}/tracking"), "get"),
            (format!("{prefix}/sales/by-customer/{{id}}"), "get"),
            (format!("{prefix}/sales/by-date-range"), "post"),
        ]);
        expected.extend([
            (format!("{prefix}/payments"), "get"),
            (format!("{prefix}/payments/{{id}}"), "get"),
            (format!("{prefix}/payments/by-sale/{{id}}"), "get"),
            (format!("{prefix}/payments/sale/{{id}}"), "post"),
            (format!("{prefix}/payments/webhook"), "post"),
            (format!("{prefix}/payments/success"), "get"),
            (format!("{prefix}/payments/failure"), "get"),
            (format!("{prefix}/payments/pending"), "get"),
            (format!("{prefix}/payments/verify"), "post"),
            (format!("{prefix}/payments/preference/{{id}}"), "get"),
            (format!("{prefix}/webhooks"), "get"),
            (format!("{prefix}/webhooks/{{id}}"), "get"),
            (format!("{prefix}/payments/{{id}}/refund"), "post"),
            (format!("{prefix}/payments/{{id}}/confirm-manual"), "post"),
            (format!("{prefix}/payments/intent"), "post"),
            (format!("{prefix}/payments/confirm"), "post"),
            (format!("{prefix}/payments/webhook/stripe"), "post"),
            (format!("{prefix}/payments/mercadopago/payments"), "get"),
            (format!("{prefix}/payments/mercadopago/charges"), "get"),
            (format!("{prefix}/webhooks/stats"), "get"),
            (format!("{prefix}/webhooks/{{id}}/mercadopago-details"), "get"),
        ]);
        expected.extend([
            (format!("{prefix}/members"), "get"),
            (format!("{prefix}/members"), "post"),
            (format!("{prefix}/members/{{id}}"), "patch"),
            (format!("{prefix}/members/{{id}}"), "delete"),
            (format!("{prefix}/api-keys"), "get"),
            (format!("{prefix}/api-keys"), "post"),
            (format!("{prefix}/api-keys/{{id}}"), "delete"),
            (format!("{prefix}/audit-log"), "get"),
            (format!("{prefix}/notifications/deliveries"), "get"),
            (format!("{prefix}/broadcasts"), "get"),
            (format!("{prefix}/notifications/templates"), "get"),
            (format!("{prefix}/notifications/templates/{{kind}}/{{audience}}/{{channel}}/{{locale}}"), "get"),
            (format!("{prefix}/notifications/templates/{{kind}}/{{audience}}/{{channel}}/{{locale}}"), "put"),
            (format!("{prefix}/notifications/templates/{{kind}}/{{audience}}/{{channel}}/{{locale}}"), "delete"),
            (format!("{prefix}/notifications/templates/{{kind}}/{{audience}}/{{channel}}/{{locale}}/preview"), "post"),
            (format!("{prefix}/notifications/templates/{{kind}}/{{audience}}/{{channel}}/{{locale}}/test"), "post"),
            (format!("{prefix}/notifications/workflows"), "get"),
            (format!("{prefix}/notifications/workflows/{{kind}}/{{step}}"), "get"),
            (format!("{prefix}/notifications/workflows/{{kind}}/{{step}}"), "put"),
            (format!("{prefix}/notifications/workflows/{{kind}}/{{step}}"), "delete"),
            (format!("{prefix}/broadcasts"), "post"),
            (format!("{prefix}/broadcasts/{{id}}"), "get"),
            (format!("{prefix}/broadcasts/{{id}}/cancel"), "post"),
            (format!("{prefix}/broadcasts/{{id}}/retry-failed"), "post"),
            (format!("{prefix}/notifications/deliveries/{{id}}"), "get"),
            (format!("{prefix}/notifications/deliveries/{{id}}/retry"), "post"),
            (format!("{prefix}/mcp/tools"), "get"),
            (format!("{prefix}/mcp/call"), "post"),
            (format!("{prefix}/mcp/anthropic"), "post"),
        ]);
    }
    for resource in [
        "products",
        "categories",
        "tags",
        "units",
        "cities",
        "neighborhoods",
        "order-statuses",
        "payment-methods",
        "shipping-rates",
        "coupons",
        "customers",
        "addresses",
    ] {
        for prefix in ["/api", "/api/stores/{slug}"] {
            expected.extend([(format!("{prefix}/{resource}"), "get"), (format!("{prefix}/{resource}"), "post")]);
            expected.extend(["get", "put", "delete"].map(|m| (format!("{prefix}/{resource}/{{id}}"), m)));
        }
    }
    for (path, method) in &expected {
        assert!(paths.get(path.as_str()).and_then(|p| p.get(*method)).is_some(), "{method} {path} missing from the OpenAPI document");
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().keys().filter(|k| *k != "parameters").count()).sum();
    assert_eq!(documented, expected.len(), "a route is documented that this test does not know");
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn docs_page_is_served_without_internet() {
    let t = TestApp::spawn().await;
    let page = t.get("/docs", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/openapi.json") && html.contains("/docs/swagger-ui-bundle.js"));
    assert!(!html.contains("https://"), "no assets from the internet");
    let js = t.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.bytes().await.unwrap().len() > 100_000);
}

//! Per-store access: owners, managers and staff of their own store only; API keys with scopes,
//! last use and revocation; the platform admin everywhere.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};
use axum::http::StatusCode;

async fn user(t: &TestApp, name: &str, email: &str) -> String {
    t.register(name, email, "una-clave-larga").await["token"].as_str().unwrap().to_string()
}

async fn open_store(t: &TestApp, token: &str, slug: &str) -> Value {
    let body = json!({"name": format!("Tienda {slug}"), "slug": slug, "currency": "ARS", "country": "AR"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&body), Some(token)).await, StatusCode::CREATED).await
}

/// A category, a unit and one product in the store; returns the product.
async fn product(t: &TestApp, token: &str, slug: &str) -> Value {
    let post = |path: String, body: Value| async move {
        expect_status(t.request(Method::POST, &path, Some(&body), Some(token)).await, StatusCode::CREATED).await
    };
    let category = post(format!("/api/stores/{slug}/categories"), json!({"name": "Carnes", "description": "Cortes"})).await;
    let unit = post(format!("/api/stores/{slug}/units"), json!({"name": "Kilogramo", "description": "Peso"})).await;
    let body = json!({"name": "Vacío", "description": "x", "price": "15000", "taxRate": "21", "stock": 10,
        "category": category["id"], "unit": unit["id"]});
    post(format!("/api/stores/{slug}/products"), body).await
}

async fn status(t: &TestApp, method: Method, path: &str, body: Option<&Value>, token: &str) -> StatusCode {
    t.request(method, path, body, Some(token)).await.status()
}

#[tokio::test]
async fn an_owner_runs_their_store_with_a_manager_and_staff_and_nobody_crosses_stores() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ana = user(&t, "Ana", "ana@example.com").await;
    let bruno = user(&t, "Bruno", "bruno@example.com").await;
    let carla = user(&t, "Carla", "carla@example.com").await;
    let diego = user(&t, "Diego", "diego@example.com").await;
    open_store(&t, &ana, "carnes-ana").await;
    open_store(&t, &diego, "verdu-diego").await;
    let members = "/api/stores/carnes-ana/members";
    for (email, role) in [("bruno@example.com", "manager"), ("carla@example.com", "staff")] {
        let added = expect_status(
            t.request(Method::POST, members, Some(&json!({"email": email, "role": role})), Some(&ana)).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(added["role"], role);
    }
    let listed = expect_status(t.get(members, Some(&ana)).await, StatusCode::OK).await;
    let roles: Vec<&str> = listed["members"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["owner", "manager", "staff"]);
    expect_error(
        t.request(Method::POST, members, Some(&json!({"email": "nadie@example.com", "role": "staff"})), Some(&ana)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let vacio = product(&t, &ana, "carnes-ana").await;
    let path = format!("/api/stores/carnes-ana/products/{}", vacio["id"].as_str().unwrap());
    // Staff: stock yes, prices, refunds, members and keys no.
    assert_eq!(status(&t, Method::PUT, &path, Some(&json!({"stock": 8})), &carla).await, StatusCode::OK);
    assert_eq!(status(&t, Method::PUT, &path, Some(&json!({"price": "1"})), &carla).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/sales", None, &carla).await, StatusCode::OK);
    let coupon = json!({"code": "AMIGOS", "discountType": "percentage", "discountValue": 50});
    assert_eq!(status(&t, Method::POST, "/api/stores/carnes-ana/coupons", Some(&coupon), &carla).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, members, None, &carla).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/api-keys", None, &carla).await, StatusCode::FORBIDDEN);
    // Manager: prices yes, members and keys no.
    assert_eq!(status(&t, Method::PUT, &path, Some(&json!({"price": "16000"})), &bruno).await, StatusCode::OK);
    assert_eq!(status(&t, Method::POST, "/api/stores/carnes-ana/coupons", Some(&coupon), &bruno).await, StatusCode::CREATED);
    assert_eq!(status(&t, Method::GET, members, None, &bruno).await, StatusCode::FORBIDDEN);
    let key = json!({"name": "x", "scopes": ["catalog:read"]});
    assert_eq!(status(&t, Method::POST, "/api/stores/carnes-ana/api-keys", Some(&key), &bruno).await, StatusCode::FORBIDDEN);
    // Nobody crosses stores: not the other owner, not this store's staff in the other.
    assert_eq!(status(&t, Method::PUT, &path, Some(&json!({"stock": 1})), &diego).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/sales", None, &diego).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, "/api/stores/verdu-diego/sales", None, &ana).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, "/api/stores/verdu-diego/customers", None, &bruno).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, "/api/sales", None, &ana).await, StatusCode::FORBIDDEN, "the default store is not hers");
    // The platform admin sees every store.
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/sales", None, &admin).await, StatusCode::OK);
    assert_eq!(status(&t, Method::GET, "/api/stores/verdu-diego/members", None, &admin).await, StatusCode::OK);

    // A store keeps an owner; a removed member loses access at once.
    let ana_id = listed["members"][0]["userId"].as_str().unwrap();
    let carla_id = listed["members"][2]["userId"].as_str().unwrap();
    expect_error(
        t.request(Method::PATCH, &format!("{members}/{ana_id}"), Some(&json!({"role": "staff"})), Some(&ana)).await,
        StatusCode::CONFLICT,
        "last_owner",
    )
    .await;
    expect_status(t.request(Method::DELETE, &format!("{members}/{carla_id}"), None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/sales", None, &carla).await, StatusCode::FORBIDDEN);
    let bruno_path = format!("{members}/{}", listed["members"][1]["userId"].as_str().unwrap());
    let promoted = t.request(Method::PATCH, &bruno_path, Some(&json!({"role": "owner"})), Some(&ana)).await;
    assert_eq!(expect_status(promoted, StatusCode::OK).await["role"], "owner");
    assert_eq!(status(&t, Method::GET, members, None, &bruno).await, StatusCode::OK, "the new owner manages members at once");

    // A key does not outlive its creator's right to manage keys.
    let body = json!({"name": "Bruno", "scopes": ["orders:read"]});
    let created =
        expect_status(t.request(Method::POST, "/api/stores/carnes-ana/api-keys", Some(&body), Some(&bruno)).await, StatusCode::CREATED)
            .await;
    let key = created["key"].as_str().unwrap();
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/sales", None, key).await, StatusCode::OK);
    let demoted = t.request(Method::PATCH, &bruno_path, Some(&json!({"role": "manager"})), Some(&ana)).await;
    expect_status(demoted, StatusCode::OK).await;
    expect_error(t.get("/api/stores/carnes-ana/sales", Some(key)).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    // The platform's Mercado Pago account is not a store's to search.
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/payments/mercadopago/payments", None, &ana).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn api_keys_act_within_their_scopes_record_their_use_and_stop_when_revoked_or_expired() {
    let t = TestApp::spawn().await;
    let ana = user(&t, "Ana", "ana@example.com").await;
    let diego = user(&t, "Diego", "diego@example.com").await;
    open_store(&t, &ana, "carnes-ana").await;
    open_store(&t, &diego, "verdu-diego").await;
    let keys = "/api/stores/carnes-ana/api-keys";
    let created = expect_status(
        t.request(Method::POST, keys, Some(&json!({"name": "Planilla", "scopes": "catalog:read orders:read"})), Some(&ana)).await,
        StatusCode::CREATED,
    )
    .await;
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("fk_") && key.len() > 40, "{key}");
    // A key is never kept to be replayed, Idempotency-Key or not.
    let send = || {
        t.client
            .post(t.url(keys))
            .bearer_auth(&ana)
            .header("Idempotency-Key", "same-key")
            .json(&json!({"name": "Otra", "scopes": ["catalog:read"]}))
            .send()
    };
    let first = expect_status(send().await.unwrap(), StatusCode::CREATED).await;
    let again = expect_status(send().await.unwrap(), StatusCode::CREATED).await;
    assert_ne!(first["key"], again["key"]);
    for extra in [&first, &again] {
        let id = extra["apiKey"]["id"].as_str().unwrap();
        expect_status(t.request(Method::DELETE, &format!("{keys}/{id}"), None, Some(&ana)).await, StatusCode::OK).await;
    }
    assert_eq!(created["apiKey"]["scopes"], json!(["catalog:read", "orders:read"]));
    let listed = expect_status(t.get(keys, Some(&ana)).await, StatusCode::OK).await;
    assert!(!listed.to_string().contains(&key[3..]), "the key is shown only once");
    assert_eq!(listed["apiKeys"][0]["lastUsedAt"], Value::Null);

    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/sales", None, &key).await, StatusCode::OK);
    let category = json!({"name": "Vinos", "description": "Tintos"});
    assert_eq!(status(&t, Method::POST, "/api/stores/carnes-ana/categories", Some(&category), &key).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, "/api/stores/verdu-diego/sales", None, &key).await, StatusCode::FORBIDDEN);
    expect_error(t.get("/api/stores/carnes-ana/cart", Some(&key)).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let listed = expect_status(t.get(keys, Some(&ana)).await, StatusCode::OK).await;
    let planilla = listed["apiKeys"].as_array().unwrap().iter().find(|k| k["name"] == "Planilla").unwrap();
    assert!(planilla["lastUsedAt"].is_string(), "{listed}");

    // Keys never manage members or keys, and never exceed their creator.
    for scopes in [json!(["members:manage"]), json!(["keys:manage"]), json!(["catalog:fly"]), json!([])] {
        let body = json!({"name": "x", "scopes": scopes});
        expect_error(t.request(Method::POST, keys, Some(&body), Some(&ana)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    }
    let past = json!({"name": "x", "scopes": ["catalog:read"], "expiresAt": "2020-01-01T00:00:00Z"});
    expect_error(t.request(Method::POST, keys, Some(&past), Some(&ana)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Revoked: refused at once. Another store's owner cannot revoke it.
    let id = created["apiKey"]["id"].as_str().unwrap();
    assert_eq!(status(&t, Method::DELETE, &format!("/api/stores/verdu-diego/api-keys/{id}"), None, &diego).await, StatusCode::NOT_FOUND);
    let revoked = expect_status(t.request(Method::DELETE, &format!("{keys}/{id}"), None, Some(&ana)).await, StatusCode::OK).await;
    assert!(revoked["revokedAt"].is_string());
    expect_error(t.get("/api/stores/carnes-ana/sales", Some(&key)).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    expect_error(t.get("/api/stores/carnes-ana/sales", Some("fk_not-a-key")).await, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // Expired: refused.
    let expiring = json!({"name": "y", "scopes": ["orders:read"], "expiresAt": "2099-01-01T00:00:00Z"});
    let created = expect_status(t.request(Method::POST, keys, Some(&expiring), Some(&ana)).await, StatusCode::CREATED).await;
    let key = created["key"].as_str().unwrap();
    assert_eq!(status(&t, Method::GET, "/api/stores/carnes-ana/sales", None, key).await, StatusCode::OK);
    sqlx::query("UPDATE api_keys SET expires_at = '2020-01-01T00:00:00.000000Z' WHERE id = $1")
        .bind(created["apiKey"]["id"].as_str().unwrap())
        .execute(t.app.db.writer())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    expect_error(t.get("/api/stores/carnes-ana/sales", Some(key)).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn every_write_by_the_shop_is_audited_with_before_and_after_and_no_secrets() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ana = user(&t, "Ana", "ana@example.com").await;
    let carla = user(&t, "Carla", "carla@example.com").await;
    let diego = user(&t, "Diego", "diego@example.com").await;
    let store = open_store(&t, &ana, "carnes-ana").await;
    open_store(&t, &diego, "verdu-diego").await;
    let member = json!({"email": "carla@example.com", "role": "staff"});
    let carla_id =
        expect_status(t.request(Method::POST, "/api/stores/carnes-ana/members", Some(&member), Some(&ana)).await, StatusCode::CREATED)
            .await["userId"]
            .as_str()
            .unwrap()
            .to_string();
    let vacio = product(&t, &ana, "carnes-ana").await;
    let path = format!("/api/stores/carnes-ana/products/{}", vacio["id"].as_str().unwrap());

    let res = t.request(Method::PUT, &path, Some(&json!({"stock": 8})), Some(&carla)).await;
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    expect_status(res, StatusCode::OK).await;
    assert_eq!(status(&t, Method::PUT, &path, Some(&json!({"price": "1"})), &carla).await, StatusCode::FORBIDDEN);
    let key = json!({"name": "Planilla", "scopes": ["catalog:write"]});
    let created =
        expect_status(t.request(Method::POST, "/api/stores/carnes-ana/api-keys", Some(&key), Some(&ana)).await, StatusCode::CREATED).await;
    let secret = created["key"].as_str().unwrap().to_string();
    assert_eq!(status(&t, Method::PUT, &path, Some(&json!({"description": "Para la parrilla"})), &secret).await, StatusCode::OK);
    // A guest's order is the buyer's, not the shop's: not audited.
    let order = json!({"items": [{"productId": vacio["id"], "quantity": 1}],
        "customerData": {"name": "Eva Díaz", "email": "eva@example.com"},
        "shippingAddress": {"street": "Calle", "number": "1", "neighborhood": "Centro", "city": "Rosario"}});
    expect_status(t.request(Method::POST, "/api/stores/carnes-ana/sales", Some(&order), None).await, StatusCode::CREATED).await;

    let log = "/api/stores/carnes-ana/audit-log";
    let all = expect_status(t.get(log, Some(&ana)).await, StatusCode::OK).await;
    let actions: Vec<&str> = all["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["products.update", "api-keys.create", "products.update", "products.create", "units.create", "categories.create", "members.create"],
        "newest first; refused writes and the buyer's order are not there"
    );
    assert!(!all.to_string().contains(&secret[3..]), "the key is never in the log");
    let by_carla = expect_status(t.get(&format!("{log}?actorId={carla_id}"), Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(by_carla["pagination"]["total"], 1);
    let entry = &by_carla["entries"][0];
    assert_eq!((entry["before"]["stock"].as_i64(), entry["after"]["stock"].as_i64()), (Some(10), Some(8)));
    assert_eq!((entry["actor"]["type"].as_str(), entry["requestId"].as_str()), (Some("user"), Some(request_id.as_str())));
    assert_eq!(entry["resourceId"], vacio["id"]);
    let by_key = expect_status(t.get(&format!("{log}?action=products.update&limit=1"), Some(&ana)).await, StatusCode::OK).await;
    assert_eq!((by_key["pagination"]["total"].as_i64(), by_key["entries"][0]["actor"]["type"].as_str()), (Some(2), Some("key")));
    assert_eq!(by_key["entries"][0]["after"]["description"], "Para la parrilla");
    expect_error(t.get(&format!("{log}?from=yesterday"), Some(&ana)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Staff and other stores' owners do not read it; the platform admin reads every store's.
    assert_eq!(status(&t, Method::GET, log, None, &carla).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&t, Method::GET, log, None, &diego).await, StatusCode::FORBIDDEN);
    let platform = format!("/api/admin/audit-log?storeId={}", store["id"].as_str().unwrap());
    assert_eq!(expect_status(t.get(&platform, Some(&admin)).await, StatusCode::OK).await["pagination"]["total"], 7);
    assert_eq!(status(&t, Method::GET, "/api/admin/audit-log", None, &ana).await, StatusCode::FORBIDDEN);
}

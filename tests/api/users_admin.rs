//! User administration: 401 anonymous, 403 USER_ROLE, and what an admin can do.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, expect_error, expect_status};

#[tokio::test]
async fn admin_routes_need_a_token_and_the_admin_role() {
    let t = TestApp::spawn().await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await;
    let token = user["token"].as_str().unwrap();
    let id = user["user"]["id"].as_str().unwrap();
    let body = json!({"name": "Hacker"});
    for (method, path) in
        [(Method::GET, "/api/auth/all".to_string()), (Method::PUT, format!("/api/auth/{id}")), (Method::DELETE, format!("/api/auth/{id}"))]
    {
        let with_body = (method == Method::PUT).then_some(&body);
        let anon = t.request(method.clone(), &path, with_body, None).await;
        expect_error(anon, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let plain = t.request(method.clone(), &path, with_body, Some(token)).await;
        expect_error(plain, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let me = expect_status(t.get("/api/auth", Some(token)).await, StatusCode::OK).await;
    assert_eq!(me["user"]["name"], "Ana", "nothing changed");
}

#[tokio::test]
async fn admin_lists_updates_and_deletes_users() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let reg = t.register(&format!("Cliente {i}"), &format!("c{i}@example.com"), "secreto1").await;
        ids.push(reg["user"]["id"].as_str().unwrap().to_string());
    }
    let page = expect_status(t.get("/api/auth/all", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(page["total"], 13);
    assert_eq!(page["users"].as_array().unwrap().len(), 10, "default limit 10");
    let page2 = expect_status(t.get("/api/auth/all?page=2&limit=5", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(page2["users"].as_array().unwrap().len(), 5);
    assert_eq!(page2["users"][0]["email"], "c4@example.com", "oldest first: admin, c0..c3 on page 1");
    assert!(page2["users"][0]["createdAt"].is_string() && page2["users"][0]["updatedAt"].is_string());
    let err =
        expect_error(t.get("/api/auth/all?page=0&limit=x", Some(&admin)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    assert_eq!(err["details"].as_array().unwrap().len(), 2);
    let capped = expect_status(t.get("/api/auth/all?limit=1000", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(capped["users"].as_array().unwrap().len(), 13);

    let target = &ids[0];
    let update = json!({"name": "Cliente Cero", "email": "cero@example.com", "role": ["USER_ROLE", "ADMIN_ROLE"]});
    let res = t.request(Method::PUT, &format!("/api/auth/{target}"), Some(&update), Some(&admin)).await;
    let body = expect_status(res, StatusCode::OK).await;
    assert_eq!(body["message"], "Usuario actualizado");
    assert_eq!(body["user"]["email"], "cero@example.com");
    assert_eq!(body["user"]["role"], json!(["USER_ROLE", "ADMIN_ROLE"]));
    let promoted = t.login("cero@example.com", "secreto1").await;
    assert_eq!(t.get("/api/auth/all", promoted["token"].as_str()).await.status(), StatusCode::OK, "new role in new tokens");

    let taken = json!({"email": "c1@example.com"});
    let res = t.request(Method::PUT, &format!("/api/auth/{target}"), Some(&taken), Some(&admin)).await;
    expect_error(res, StatusCode::CONFLICT, "email_taken").await;
    let bad_role = json!({"role": ["ROOT"]});
    let res = t.request(Method::PUT, &format!("/api/auth/{target}"), Some(&bad_role), Some(&admin)).await;
    expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let missing =
        t.request(Method::PUT, "/api/auth/01900000-0000-7000-8000-000000000000", Some(&json!({"name": "X y"})), Some(&admin)).await;
    expect_error(missing, StatusCode::NOT_FOUND, "not_found").await;

    let res = t.request(Method::DELETE, &format!("/api/auth/{target}"), None, Some(&admin)).await;
    assert_eq!(expect_status(res, StatusCode::OK).await["message"], "Usuario eliminado");
    let again = t.request(Method::DELETE, &format!("/api/auth/{target}"), None, Some(&admin)).await;
    expect_error(again, StatusCode::NOT_FOUND, "not_found").await;
    let page = expect_status(t.get("/api/auth/all", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(page["total"], 12);

    let me = expect_status(t.get("/api/auth", Some(&admin)).await, StatusCode::OK).await;
    let own_id = me["user"]["id"].as_str().unwrap();
    let res = t.request(Method::DELETE, &format!("/api/auth/{own_id}"), None, Some(&admin)).await;
    expect_error(res, StatusCode::CONFLICT, "cannot_delete_self").await;
}

#[tokio::test]
async fn configured_admin_is_created_on_first_start() {
    let t = TestApp::with(|s| {
        s.insert("ADMIN_EMAIL".into(), "Dueno@Tienda.test".into());
        s.insert("ADMIN_PASSWORD".into(), "clave-segura".into());
    })
    .await;
    let login = t.login("dueno@tienda.test", "clave-segura").await;
    assert_eq!(login["user"]["role"], json!(["ADMIN_ROLE", "USER_ROLE"]));
    // A restart on the same database does not duplicate or fail.
    let again = feria::server::prepare(t.app.config.clone()).await.expect("second start");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(again.db.reader()).await.unwrap();
    assert_eq!(count, 1);
}

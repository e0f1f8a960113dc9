//! OAuth for remote MCP hosts: metadata, registration and client documents, the sign-in and
//! consent pages, codes with PKCE bound to one store's endpoint, refresh rotation, and grants
//! that live in the store's key list, capped by the member's own scopes.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{TestApp, expect_status};
use crate::mcp::rpc;
use crate::sales::app;

const REDIRECT: &str = "http://127.0.0.1:33418/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-a-very-long-verifier-0123456789";

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn challenge() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

fn field(page: &str, name: &str) -> String {
    let start = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {page}")) + name.len() + 15;
    let value = &page[start..start + page[start..].find('"').unwrap()];
    value.replace("&amp;", "&").replace("&#x3d;", "=").replace("&#x2f;", "/").replace("&quot;", "\"")
}

async fn register(t: &TestApp) -> String {
    let body =
        json!({"client_name": "Claude de prueba", "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"]});
    let registered = expect_status(t.request(Method::POST, "/register", Some(&body), None).await, StatusCode::CREATED).await;
    assert_eq!(registered["token_endpoint_auth_method"], "none");
    registered["client_id"].as_str().unwrap().to_string()
}

fn authorize_query(t: &TestApp, client_id: &str, scope: &str, resource: &str) -> String {
    let _ = t;
    form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st4te")
        .append_pair("code_challenge", &challenge())
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", resource)
        .append_pair("scope", scope)
        .finish()
}

/// Signs in as `email` on the consent page, approves, and returns the redirect's parameters.
async fn consent(t: &TestApp, query: &str, email: &str, password: &str) -> (String, Vec<(String, String)>) {
    let browser = browser();
    let login_page = browser.get(t.url(&format!("/authorize?{query}"))).send().await.unwrap().text().await.unwrap();
    assert!(login_page.contains("action=\"/authorize/login\""), "{login_page}");
    let form = [("email", email), ("password", password), ("query", &field(&login_page, "query"))];
    let signed = browser.post(t.url("/authorize/login")).form(&form).send().await.unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = browser.get(t.url(&format!("/authorize?{query}"))).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let page = page.text().await.unwrap();
    let form = [("query", field(&page, "query")), ("csrf", field(&page, "csrf")), ("decision", "approve".into())];
    let forged = browser
        .post(t.url("/authorize/consent"))
        .header("cookie", &cookie)
        .form(&[("query", form[0].1.clone()), ("csrf", "x".into()), ("decision", "approve".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let answer = browser.post(t.url("/authorize/consent")).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    let params = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes()).into_owned().collect();
    (page, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn token(t: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = t.client.post(t.url("/token")).form(form).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_host_gets_a_token_for_one_store_within_the_members_scopes_and_loses_it_with_the_key() {
    let t = app().await;
    let admin = t.admin_token().await;
    let issuer = "http://localhost:3000";
    let resource = format!("{issuer}/mcp");

    let prm = expect_status(t.get("/.well-known/oauth-protected-resource/mcp", None).await, StatusCode::OK).await;
    assert_eq!((prm["resource"].as_str(), prm["authorization_servers"][0].as_str()), (Some(resource.as_str()), Some(issuer)));
    let server = expect_status(t.get("/.well-known/oauth-authorization-server", None).await, StatusCode::OK).await;
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(server["client_id_metadata_document_supported"], true);

    // An anonymous owner tool call is challenged with the metadata's address.
    let (status, _) = rpc(&t, "/mcp", None, "tools/call", json!({"name": "get_business_stats", "arguments": {}})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bad = json!({"client_name": "x", "redirect_uris": ["http://evil.example/cb"]});
    let refused = t.request(Method::POST, "/register", Some(&bad), None).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_redirect_uri");

    let client_id = register(&t).await;
    // Problems before the redirect URI is trusted stay on feria's page; after, they go back.
    let page =
        browser().get(t.url(&format!("/authorize?client_id={client_id}&redirect_uri=https://evil.example/cb"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    let no_pkce = browser()
        .get(t.url(&format!("/authorize?response_type=code&client_id={client_id}&redirect_uri={REDIRECT}&state=s")))
        .send()
        .await
        .unwrap();
    let location = no_pkce.headers()["location"].to_str().unwrap();
    assert!(location.contains("error=invalid_request") && location.contains("state=s") && location.contains("iss="), "{location}");
    let elsewhere = authorize_query(&t, &client_id, "orders:read", "https://other.example/mcp");
    let location =
        browser().get(t.url(&format!("/authorize?{elsewhere}"))).send().await.unwrap().headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("error=invalid_target"), "{location}");

    // The owner approves; the code comes back once, with the state and the issuer.
    let query = authorize_query(&t, &client_id, "catalog:read orders:read orders:write offline_access", &resource);
    let (page, params) = consent(&t, &query, "admin@feria.test", "admin-pass").await;
    assert!(page.contains("Claude de prueba") && page.contains("orders:write") && page.contains("127.0.0.1"), "{page}");
    assert_eq!((param(&params, "state"), param(&params, "iss")), (Some("st4te"), Some(issuer)));
    let code = param(&params, "code").unwrap().to_string();
    let exchange = |verifier: &'static str| {
        [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("resource", resource.as_str()),
        ]
    };
    let (status, wrong) = token(&t, &exchange("not-the-verifier-but-long-enough-to-pass-the-length-check-0123")).await;
    assert_eq!((status, wrong["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, tokens) = token(&t, &exchange(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_i64()), (Some("Bearer"), Some(3600)));
    assert_eq!(tokens["scope"], "catalog:read orders:read orders:write");
    let access = tokens["access_token"].as_str().unwrap().to_string();

    // The token works on its store's endpoint only, and shows in the key list.
    let (status, listed) = rpc(&t, "/mcp", Some(&access), "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "update_order_status"));
    let (status, stats) = rpc(&t, "/mcp", Some(&access), "tools/call", json!({"name": "get_business_stats", "arguments": {}})).await;
    assert_eq!((status, stats["result"]["isError"].clone()), (StatusCode::OK, json!(false)));
    let (status, _) =
        rpc(&t, "/mcp", Some(&access), "tools/call", json!({"name": "refund_payment", "arguments": {"paymentId": "x", "confirm": true}}))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a scope not granted asks for more");
    let ana = t.register("Ana", "ana@example.com", "una-clave-larga").await["token"].as_str().unwrap().to_string();
    let store = json!({"name": "Tienda de Ana", "slug": "ana", "currency": "ARS", "country": "AR"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&ana)).await, StatusCode::CREATED).await;
    let (status, _) = rpc(&t, "/api/stores/ana/mcp", Some(&access), "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a token for another store's endpoint");
    let keys = expect_status(t.get("/api/api-keys", Some(&admin)).await, StatusCode::OK).await;
    let grant = keys["apiKeys"].as_array().unwrap().iter().find(|k| k["name"] == "Claude de prueba (OAuth)").unwrap().clone();

    // A code used twice revokes what it gave; refresh rotates and its replay revokes the grant.
    let (status, _) = token(&t, &exchange(VERIFIER)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = rpc(&t, "/mcp", Some(&access), "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let _ = grant;
}

#[tokio::test]
async fn refresh_rotates_a_replay_revokes_and_the_owner_revokes_from_the_key_list() {
    let t = app().await;
    let admin = t.admin_token().await;
    let resource = "http://localhost:3000/mcp".to_string();
    let client_id = register(&t).await;
    let query = authorize_query(&t, &client_id, "orders:read", &resource);
    let (_, params) = consent(&t, &query, "admin@feria.test", "admin-pass").await;
    let code = param(&params, "code").unwrap().to_string();
    let (_, tokens) =
        token(&t, &[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", VERIFIER), ("client_id", &client_id)]).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let form = |token: &str| {
        vec![("grant_type", "refresh_token".to_string()), ("refresh_token", token.to_string()), ("client_id", client_id.clone())]
    };
    let rotated: Value = t.client.post(t.url("/token")).form(&form(&refresh)).send().await.unwrap().json().await.unwrap();
    let new_access = rotated["access_token"].as_str().unwrap().to_string();
    assert_ne!(rotated["refresh_token"].as_str().unwrap(), refresh);
    assert_eq!(rpc(&t, "/mcp", Some(&new_access), "tools/list", json!({})).await.0, StatusCode::OK);
    let replay = t.client.post(t.url("/token")).form(&form(&refresh)).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(rpc(&t, "/mcp", Some(&new_access), "tools/list", json!({})).await.0, StatusCode::UNAUTHORIZED);

    // Approved again, then revoked by the owner from the key list.
    let (_, params) = consent(&t, &query, "admin@feria.test", "admin-pass").await;
    let code = param(&params, "code").unwrap().to_string();
    let (_, tokens) =
        token(&t, &[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", VERIFIER), ("client_id", &client_id)]).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(rpc(&t, "/mcp", Some(&access), "tools/list", json!({})).await.0, StatusCode::OK);
    let keys = expect_status(t.get("/api/api-keys", Some(&admin)).await, StatusCode::OK).await;
    let live = keys["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Claude de prueba (OAuth)" && k["revokedAt"].is_null())
        .unwrap()
        .clone();
    let path = format!("/api/api-keys/{}", live["id"].as_str().unwrap());
    expect_status(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(rpc(&t, "/mcp", Some(&access), "tools/list", json!({})).await.0, StatusCode::UNAUTHORIZED);
}

/// Serves `document` at `/client.json` on loopback; returns the document's URL.
async fn serve_document(document: impl Fn(&str) -> Value + Send + Sync + 'static) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/client.json", listener.local_addr().unwrap());
    let body = document(&url);
    let app = axum::Router::new().route("/client.json", axum::routing::get(move || async move { axum::Json(body) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_client_id_metadata_document_stands_for_a_client_and_a_staff_member_grants_only_their_scopes() {
    let t = app().await;
    let admin = t.admin_token().await;
    let resource = "http://localhost:3000/mcp";
    let client_id =
        serve_document(|url| json!({"client_id": url, "client_name": "Agente con documento", "redirect_uris": [REDIRECT]})).await;
    let liar =
        serve_document(|_| json!({"client_id": "https://elsewhere.example/client.json", "client_name": "x", "redirect_uris": [REDIRECT]}))
            .await;
    let page = browser().get(t.url(&format!("/authorize?{}", authorize_query(&t, &liar, "orders:read", resource)))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST, "a document naming another client_id");

    // A staff member of the default store asks for prices:write too: only what staff holds.
    expect_status(
        t.request(
            Method::POST,
            "/api/auth/register",
            Some(&json!({"name": "Sol", "email": "sol@example.com", "password": "una-clave-larga"})),
            None,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let member = json!({"email": "sol@example.com", "role": "staff"});
    expect_status(t.request(Method::POST, "/api/members", Some(&member), Some(&admin)).await, StatusCode::CREATED).await;
    let query = authorize_query(&t, &client_id, "orders:read prices:write", resource);
    let (page, params) = consent(&t, &query, "sol@example.com", "una-clave-larga").await;
    assert!(page.contains("Agente con documento") && page.contains("no se concederán: prices:write"), "{page}");
    assert!(page.contains("publicada por <strong>127.0.0.1</strong>"), "{page}");
    let code = param(&params, "code").unwrap().to_string();
    let (status, tokens) =
        token(&t, &[("grant_type", "authorization_code"), ("code", &code), ("code_verifier", VERIFIER), ("client_id", &client_id)]).await;
    assert_eq!((status, tokens["scope"].as_str()), (StatusCode::OK, Some("orders:read")), "{tokens}");

    // Demoted: the token acts no further than the member now may.
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let (_, listed) = rpc(&t, "/mcp", Some(&access), "tools/list", json!({})).await;
    assert!(listed["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "get_orders"));
    let members = expect_status(t.get("/api/members", Some(&admin)).await, StatusCode::OK).await;
    let sol = members["members"].as_array().unwrap().iter().find(|m| m["email"] == "sol@example.com").unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_string();
    expect_status(t.request(Method::DELETE, &format!("/api/members/{sol}"), None, Some(&admin)).await, StatusCode::OK).await;
    let (status, listed) = rpc(&t, "/mcp", Some(&access), "tools/list", json!({})).await;
    assert!(
        status == StatusCode::UNAUTHORIZED || !listed["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "get_orders"),
        "{listed}"
    );
}

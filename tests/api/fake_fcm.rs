//! A fake Firebase Cloud Messaging on loopback: Google's token endpoint (`POST /token`, the JWT
//! bearer grant, the assertion's RS256 signature checked with the test service account's key)
//! and `POST /v1/projects/{project}/messages:send` (the access token checked). Answers can be
//! scripted: FCM errors with their `FcmError` detail, `Retry-After`, or every token expired.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Value, json};

pub const PROJECT: &str = "my-shop-test";
pub const CLIENT_EMAIL: &str = "fcm-sender@my-shop-test.iam.gserviceaccount.com";
pub const KEY_PEM: &str = include_str!("fixtures/fcm-test-key.pem");

#[derive(Default)]
struct Shared {
    issued: Mutex<Vec<String>>,
    valid: Mutex<Vec<String>>,
    sent: Mutex<Vec<Value>>,
    /// Answers for the next sends: status, Retry-After, body.
    script: Mutex<VecDeque<(StatusCode, Option<u64>, Value)>>,
}

pub struct FakeFcm {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeFcm {
    pub async fn start() -> FakeFcm {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/token", axum::routing::post(token))
            .route("/v1/projects/{project}/messages:send", axum::routing::post(send))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake fcm");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeFcm { url, shared }
    }

    /// The service account key file, its token endpoint here.
    pub fn service_account(&self, private_key: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "fake-key-id",
            "private_key": private_key,
            "client_email": CLIENT_EMAIL,
            "token_uri": format!("{}/token", self.url),
        })
        .to_string()
    }

    /// Access tokens handed out so far.
    pub fn tokens_issued(&self) -> usize {
        self.shared.issued.lock().unwrap().len()
    }

    /// Every token handed out so far stops working.
    pub fn expire_tokens(&self) {
        self.shared.valid.lock().unwrap().clear();
    }

    /// The messages accepted so far.
    pub fn sent(&self) -> Vec<Value> {
        self.shared.sent.lock().unwrap().clone()
    }

    /// The next send is refused with `status`, FCM's `error_code` (if any) and `Retry-After`.
    pub fn refuse_next(&self, status: StatusCode, error_code: Option<&str>, retry_after: Option<u64>) {
        let details: Vec<Value> = error_code
            .map(|c| json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": c}))
            .into_iter()
            .collect();
        let body = json!({"error": {"code": status.as_u16(), "message": "refused", "status": "REFUSED", "details": details}});
        self.shared.script.lock().unwrap().push_back((status, retry_after, body));
    }
}

fn public_key() -> Vec<u8> {
    let body: String = KEY_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
    let pair = RsaKeyPair::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap();
    pair.public_key().as_ref().to_vec()
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let refuse = |why: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant", "error_description": why}))).into_response();
    if field("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return refuse("grant_type");
    }
    let assertion = field("assertion");
    let Some((signed, signature)) = assertion.rsplit_once('.') else { return refuse("not a JWT") };
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    if UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key()).verify(signed.as_bytes(), &signature).is_err() {
        return refuse("Invalid JWT Signature.");
    }
    let claims: Value = signed
        .split('.')
        .nth(1)
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
        .unwrap_or(Value::Null);
    let lasts = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    if claims["iss"] != CLIENT_EMAIL || claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" || lasts != 3600 {
        return refuse("claims");
    }
    let mut issued = shared.issued.lock().unwrap();
    let access = format!("ya29.fake-{}", issued.len() + 1);
    issued.push(access.clone());
    shared.valid.lock().unwrap().push(access.clone());
    Json(json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer"})).into_response()
}

async fn send(State(shared): State<Arc<Shared>>, Path(project): Path<String>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if !shared.valid.lock().unwrap().iter().any(|t| t == bearer) {
        let body =
            json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    if let Some((status, retry_after, body)) = shared.script.lock().unwrap().pop_front() {
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert("retry-after", seconds.into());
        }
        return response;
    }
    let data_are_strings = body.pointer("/message/data").and_then(Value::as_object).is_some_and(|d| d.values().all(Value::is_string));
    if project != PROJECT || body.pointer("/message/token").and_then(Value::as_str).is_none() || !data_are_strings {
        let body = json!({"error": {"code": 400, "message": "Invalid argument", "status": "INVALID_ARGUMENT"}});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let mut sent = shared.sent.lock().unwrap();
    sent.push(body);
    Json(json!({"name": format!("projects/{PROJECT}/messages/0:{}", sent.len())})).into_response()
}

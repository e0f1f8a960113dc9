//! A fake S3-compatible service on loopback: path-style PUT, GET and DELETE of objects in a
//! public-read bucket. Every signed request's AWS Signature Version 4 is checked against the one
//! credential it knows (a bad signature gets S3's 403 `SignatureDoesNotMatch`); only reads may be
//! anonymous. It can fail the next requests on demand.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use feria_providers::s3::SignedRequest;
use sha2::{Digest, Sha256};

pub const ACCESS_KEY_ID: &str = "AKIAFAKEFERIA0000001";
pub const SECRET_ACCESS_KEY: &str = "fake/secret/key/for/feria/tests/0000000000";
pub const REGION: &str = "sa-east-1";

/// An object as stored: content type and bytes.
#[derive(Debug, Clone)]
pub struct Object {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    /// Objects by `bucket/key`.
    objects: Mutex<HashMap<String, Object>>,
    fail_next: AtomicUsize,
    rejected_signatures: AtomicUsize,
}

pub struct FakeS3 {
    pub endpoint: String,
    shared: Arc<Shared>,
}

impl FakeS3 {
    pub async fn start() -> FakeS3 {
        let shared = Arc::new(Shared::default());
        let app = Router::new().route("/{bucket}/{*key}", axum::routing::any(object)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake s3");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeS3 { endpoint, shared }
    }

    /// Settings that point feria at this fake with bucket `bucket`.
    pub fn settings(&self, bucket: &str) -> [(String, String); 5] {
        [
            ("AWS_S3_BUCKET".into(), bucket.into()),
            ("AWS_S3_ENDPOINT".into(), self.endpoint.clone()),
            ("AWS_REGION".into(), REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET_ACCESS_KEY.into()),
        ]
    }

    /// Every stored object by `bucket/key`.
    pub fn objects(&self) -> HashMap<String, Object> {
        self.shared.objects.lock().unwrap().clone()
    }

    /// The next `n` requests get a 500 `InternalError`.
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// Requests refused for a bad signature so far.
    pub fn rejected_signatures(&self) -> usize {
        self.shared.rejected_signatures.load(Ordering::SeqCst)
    }
}

fn s3_error(status: StatusCode, code: &str) -> Response {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{code}</Message></Error>");
    (status, [("content-type", "application/xml")], body).into_response()
}

async fn object(
    State(shared): State<Arc<Shared>>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let anonymous_read = method == Method::GET && !headers.contains_key("authorization");
    if !anonymous_read && !signature_is_valid(&method, &uri, &headers, &body) {
        shared.rejected_signatures.fetch_add(1, Ordering::SeqCst);
        return s3_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    }
    if shared.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        return s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError");
    }
    let name = format!("{bucket}/{key}");
    let mut objects = shared.objects.lock().unwrap();
    match method {
        Method::PUT => {
            let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("binary/octet-stream");
            objects.insert(name, Object { content_type: content_type.into(), bytes: body.to_vec() });
            StatusCode::OK.into_response()
        }
        Method::GET => match objects.get(&name) {
            Some(o) => ([("content-type", o.content_type.clone())], o.bytes.clone()).into_response(),
            None => s3_error(StatusCode::NOT_FOUND, "NoSuchKey"),
        },
        Method::DELETE => {
            objects.remove(&name);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => s3_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
    }
}

/// Recomputes the request's signature from what arrived: the signed headers named in
/// `Authorization`, the path, and a payload hash that must match the body.
fn signature_is_valid(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let authorization = header("authorization");
    let Some(fields) = authorization.strip_prefix("AWS4-HMAC-SHA256 ") else { return false };
    let field = |name: &str| fields.split(',').find_map(|f| f.trim().strip_prefix(name)).unwrap_or_default().to_string();
    let (credential, signed_headers) = (field("Credential="), field("SignedHeaders="));
    let amz_date = header("x-amz-date");
    let payload_hash = header("x-amz-content-sha256");
    if payload_hash != hex::encode(Sha256::digest(body)) || amz_date.len() != 16 {
        return false;
    }
    if credential != format!("{ACCESS_KEY_ID}/{}/{REGION}/s3/aws4_request", &amz_date[..8]) {
        return false;
    }
    let signed: Vec<(String, String)> = signed_headers.split(';').map(|name| (name.to_string(), header(name))).collect();
    let expected = SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or_default(),
        headers: &signed,
        payload_hash: &payload_hash,
        amz_date: &amz_date,
        region: REGION,
    }
    .authorization(ACCESS_KEY_ID, SECRET_ACCESS_KEY);
    expected == authorization
}

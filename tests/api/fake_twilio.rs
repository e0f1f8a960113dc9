//! A fake Twilio Programmable Messaging on loopback: `POST
//! /2010-04-01/Accounts/{sid}/Messages.json` with HTTP Basic (the account SID and auth token)
//! and a form body, answered `201` with a Message resource, or with Twilio's error shape when
//! scripted (a STOP'd number, too many requests).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
pub const AUTH_TOKEN: &str = "fake-twilio-auth-token";
pub const FROM: &str = "+5491155550000";

#[derive(Default)]
struct Shared {
    sent: Mutex<Vec<Vec<(String, String)>>>,
    /// Answers for the next sends: status, Retry-After, Twilio's error code.
    script: Mutex<VecDeque<(StatusCode, Option<u64>, i64)>>,
}

pub struct FakeTwilio {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        let shared = Arc::new(Shared::default());
        let app = Router::new().route("/2010-04-01/Accounts/{sid}/Messages.json", axum::routing::post(create)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake twilio");
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        FakeTwilio { url, shared }
    }

    /// The settings that point feria at this fake.
    pub fn settings(&self) -> [(String, String); 4] {
        [
            ("TWILIO_ACCOUNT_SID".into(), ACCOUNT_SID.into()),
            ("TWILIO_AUTH_TOKEN".into(), AUTH_TOKEN.into()),
            ("TWILIO_PHONE_NUMBER".into(), FROM.into()),
            ("TWILIO_API_URL".into(), self.url.clone()),
        ]
    }

    /// The forms of the messages accepted so far.
    pub fn sent(&self) -> Vec<Vec<(String, String)>> {
        self.shared.sent.lock().unwrap().clone()
    }

    /// The next message is refused with `status`, Twilio's `code` and `Retry-After`.
    pub fn refuse_next(&self, status: StatusCode, code: i64, retry_after: Option<u64>) {
        self.shared.script.lock().unwrap().push_back((status, retry_after, code));
    }
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16()});
    (status, Json(body)).into_response()
}

async fn create(State(shared): State<Arc<Shared>>, Path(sid): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let expected = format!("Basic {}", STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")));
    if sid != ACCOUNT_SID || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    if let Some((status, retry_after, code)) = shared.script.lock().unwrap().pop_front() {
        let mut response = error(status, code, "refused");
        if let Some(seconds) = retry_after {
            response.headers_mut().insert("retry-after", seconds.into());
        }
        return response;
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (Some(to), Some(from), Some(text)) = (field("To"), field("From"), field("Body")) else {
        return error(StatusCode::BAD_REQUEST, 21604, "A 'To', 'From' and 'Body' are required");
    };
    if !to.starts_with('+') || to.len() < 8 {
        return error(StatusCode::BAD_REQUEST, 21211, &format!("The 'To' number {to} is not a valid phone number."));
    }
    let mut sent = shared.sent.lock().unwrap();
    sent.push(form.clone());
    let message: Value = json!({
        "sid": format!("SM{:032}", sent.len()), "account_sid": ACCOUNT_SID, "from": from, "to": to, "body": text,
        "status": "queued", "direction": "outbound-api", "num_segments": "1", "error_code": null,
    });
    (StatusCode::CREATED, Json(message)).into_response()
}

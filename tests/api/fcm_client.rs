//! The FCM client against a fake speaking FCM HTTP v1 and Google's token endpoint: the access
//! token fetched once and again when it expires, and each refusal telling what to do with the
//! device.

use std::collections::BTreeMap;
use std::time::Duration;

use feria_providers::fcm::{Fcm, Push};
use feria_providers::google_oauth::ServiceAccount;
use feria_providers::messaging::DeliveryError;
use reqwest::StatusCode;

use crate::fake_fcm::{FakeFcm, KEY_PEM};

fn client(fake: &FakeFcm, key: &str) -> Fcm {
    let account = ServiceAccount::from_json(&fake.service_account(key)).expect("a service account");
    Fcm::new(&fake.url, account, Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn pushes_go_out_with_one_token_and_refusals_say_what_to_do() {
    let fake = FakeFcm::start().await;
    let fcm = client(&fake, KEY_PEM);
    let data = BTreeMap::from([("orderId".to_string(), "ORD-000123".to_string())]);
    let push = Push { token: "device-1", title: "Pedido enviado", body: "Tu pedido ORD-000123 fue enviado", data: &data };
    assert_eq!(fcm.send(&push).await.unwrap(), "projects/my-shop-test/messages/0:1");
    assert_eq!(fcm.send(&push).await.unwrap(), "projects/my-shop-test/messages/0:2");
    assert_eq!(fake.tokens_issued(), 1, "the access token is reused");
    let sent = fake.sent();
    assert_eq!(sent[0]["message"]["token"], "device-1");
    assert_eq!(sent[0]["message"]["notification"]["title"], "Pedido enviado");
    assert_eq!(sent[0]["message"]["data"]["orderId"], "ORD-000123");

    fake.refuse_next(StatusCode::NOT_FOUND, Some("UNREGISTERED"), None);
    assert_eq!(fcm.send(&push).await, Err(DeliveryError::Gone("UNREGISTERED".into())));
    fake.refuse_next(StatusCode::FORBIDDEN, Some("SENDER_ID_MISMATCH"), None);
    assert_eq!(fcm.send(&push).await, Err(DeliveryError::Gone("SENDER_ID_MISMATCH".into())));
    fake.refuse_next(StatusCode::TOO_MANY_REQUESTS, Some("QUOTA_EXCEEDED"), Some(7));
    assert_eq!(fcm.send(&push).await, Err(DeliveryError::Retry { status: 429, after: Some(Duration::from_secs(7)) }));
    fake.refuse_next(StatusCode::SERVICE_UNAVAILABLE, Some("UNAVAILABLE"), None);
    assert_eq!(fcm.send(&push).await, Err(DeliveryError::Retry { status: 503, after: None }));
    fake.refuse_next(StatusCode::BAD_REQUEST, Some("INVALID_ARGUMENT"), None);
    assert_eq!(fcm.send(&push).await, Err(DeliveryError::Refused { status: 400, code: "INVALID_ARGUMENT".into() }));

    // An expired access token: another is fetched and the push goes out.
    fake.expire_tokens();
    assert_eq!(fcm.send(&push).await.unwrap(), "projects/my-shop-test/messages/0:3");
    assert_eq!(fake.tokens_issued(), 2);
}

#[tokio::test]
async fn a_service_account_google_does_not_accept_sends_nothing() {
    let fake = FakeFcm::start().await;
    // An account the token endpoint does not know.
    let wrong_issuer = fake.service_account(KEY_PEM).replace("fcm-sender@", "someone-else@");
    let fcm = Fcm::new(&fake.url, ServiceAccount::from_json(&wrong_issuer).unwrap(), Duration::from_secs(5)).unwrap();
    let data = BTreeMap::new();
    let push = Push { token: "device-1", title: "t", body: "b", data: &data };
    assert_eq!(fcm.send(&push).await, Err(DeliveryError::Refused { status: 400, code: "invalid_grant".into() }));
    assert!(fake.sent().is_empty());
}

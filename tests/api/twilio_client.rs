//! The Twilio SMS client against a fake speaking Twilio's Messages API: the form and Basic
//! authentication it expects, and each refusal telling what to do with the number.

use std::time::Duration;

use feria_providers::messaging::DeliveryError;
use feria_providers::twilio::Twilio;
use reqwest::StatusCode;

use crate::fake_twilio::{ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio};

#[tokio::test]
async fn texts_go_out_as_forms_and_refusals_say_what_to_do() {
    let fake = FakeTwilio::start().await;
    let twilio = Twilio::new(&fake.url, ACCOUNT_SID, AUTH_TOKEN, FROM, Duration::from_secs(5)).unwrap();
    let callback = "https://shop.example.com/api/webhooks/twilio/status?m=msg_1";
    let sid = twilio.send_sms("+5491155551234", "Tu pedido ORD-000123 fue enviado", Some(callback)).await.unwrap();
    assert_eq!(sid, "SM00000000000000000000000000000001");
    let form = &fake.sent()[0];
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(
        (field("To"), field("From"), field("Body"), field("StatusCallback")),
        (Some("+5491155551234"), Some(FROM), Some("Tu pedido ORD-000123 fue enviado"), Some(callback))
    );

    fake.refuse_next(StatusCode::BAD_REQUEST, 21610, None);
    assert_eq!(twilio.send_sms("+5491155551234", "hola", None).await, Err(DeliveryError::Gone("21610".into())));
    fake.refuse_next(StatusCode::TOO_MANY_REQUESTS, 20429, Some(3));
    assert_eq!(
        twilio.send_sms("+5491155551234", "hola", None).await,
        Err(DeliveryError::Retry { status: 429, after: Some(Duration::from_secs(3)) })
    );
    fake.refuse_next(StatusCode::INTERNAL_SERVER_ERROR, 20500, None);
    assert_eq!(twilio.send_sms("+5491155551234", "hola", None).await, Err(DeliveryError::Retry { status: 500, after: None }));
    assert_eq!(twilio.send_sms("12", "hola", None).await, Err(DeliveryError::Refused { status: 400, code: "21211".into() }));
    let wrong = Twilio::new(&fake.url, ACCOUNT_SID, "another-token", FROM, Duration::from_secs(5)).unwrap();
    assert_eq!(wrong.send_sms("+5491155551234", "hola", None).await, Err(DeliveryError::Refused { status: 401, code: "20003".into() }));
    assert_eq!(fake.sent().len(), 1);
}

//! The SendGrid client against a fake speaking v3 Mail Send: the body SendGrid expects, its
//! message id, and each refusal telling whether to try again.

use std::collections::BTreeMap;
use std::time::Duration;

use feria_providers::email::EmailMessage;
use feria_providers::messaging::DeliveryError;
use feria_providers::sendgrid::SendGrid;
use reqwest::StatusCode;

use crate::fake_sendgrid::{API_KEY, FakeSendGrid};

fn message(to: &str) -> EmailMessage {
    EmailMessage {
        to: to.into(),
        subject: "Tu pedido ORD-000123 fue enviado".into(),
        text: "Hola Ana, tu pedido ORD-000123 fue enviado.".into(),
        html: "<p>Hola Ana, tu pedido <b>ORD-000123</b> fue enviado.</p>".into(),
        unsubscribe: None,
    }
}

#[tokio::test]
async fn emails_go_out_with_text_before_html_and_refusals_say_what_to_do() {
    let fake = FakeSendGrid::start().await;
    let sendgrid = SendGrid::new(&fake.url, API_KEY, "pedidos@feria.test", "Feria", Duration::from_secs(5)).unwrap();
    let args = BTreeMap::from([("feria_message_id".to_string(), "msg_1".to_string())]);
    assert_eq!(sendgrid.send(&message("ana@example.com"), &args).await.unwrap(), "fake-sg-1");
    let sent = &fake.sent()[0];
    assert_eq!(sent["personalizations"][0]["to"][0]["email"], "ana@example.com");
    assert_eq!((sent["from"]["email"].as_str(), sent["from"]["name"].as_str()), (Some("pedidos@feria.test"), Some("Feria")));
    assert_eq!((sent["content"][0]["type"].as_str(), sent["content"][1]["type"].as_str()), (Some("text/plain"), Some("text/html")));
    assert_eq!(sent["custom_args"]["feria_message_id"], "msg_1");

    fake.refuse_next(StatusCode::TOO_MANY_REQUESTS, Some(2));
    assert_eq!(
        sendgrid.send(&message("ana@example.com"), &args).await,
        Err(DeliveryError::Retry { status: 429, after: Some(Duration::from_secs(2)) })
    );
    fake.refuse_next(StatusCode::SERVICE_UNAVAILABLE, None);
    assert_eq!(sendgrid.send(&message("ana@example.com"), &args).await, Err(DeliveryError::Retry { status: 503, after: None }));
    assert_eq!(
        sendgrid.send(&message("not-an-address"), &args).await,
        Err(DeliveryError::Refused { status: 400, code: "personalizations.0.to.0.email".into() })
    );
    let wrong = SendGrid::new(&fake.url, "SG.wrong", "pedidos@feria.test", "Feria", Duration::from_secs(5)).unwrap();
    assert_eq!(wrong.send(&message("ana@example.com"), &args).await, Err(DeliveryError::Refused { status: 401, code: String::new() }));
    assert_eq!(fake.sent().len(), 1);
}

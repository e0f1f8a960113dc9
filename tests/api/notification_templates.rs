//! A store's own wording: templates checked when saved (blocks, known variables, bounded work),
//! previewed with a real order, used for the next message, and reset to feria's.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fake_smtp::FakeSmtp;
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

const PATH: &str = "/api/notifications/templates/order_status_changed/customer/email/es";

#[tokio::test]
async fn the_owner_rewords_the_shipped_email_previews_it_with_an_order_and_the_customer_gets_it() {
    let smtp = FakeSmtp::start(0).await;
    let t = TestApp::with(|s| s.extend(smtp.settings())).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    let order = expect_status(
        t.post("/api/sales", &guest_order(json!([{"productId": ids[0], "quantity": 1}]), "carla@example.com")).await,
        StatusCode::CREATED,
    )
    .await["order"]
        .clone();
    let number = order["orderNumber"].as_str().unwrap();

    let shipped = expect_status(t.get(PATH, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((shipped["custom"].as_bool(), shipped["audience"].as_str()), (Some(false), Some("customer")));
    assert!(shipped["source"].as_str().unwrap().contains("{% block subject %}"));
    for missing in [
        "/api/notifications/templates/pigeon/customer/email/es",
        "/api/notifications/templates/order_placed/robot/email/es",
        "/api/notifications/templates/order_placed/customer/fax/es",
        "/api/notifications/templates/order_placed/customer/email/fr",
    ] {
        expect_error(t.get(missing, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    }

    let put = |source: &str| {
        let body = json!({"source": source});
        let (t, admin) = (&t, admin.clone());
        async move { t.request(Method::PUT, PATH, Some(&body), Some(&admin)).await }
    };
    let blocks = |subject: &str| {
        format!(
            "{{% block subject %}}{subject}{{% endblock %}}{{% block html %}}<p>Hola {{{{ recipient.name }}}}: {{{{ order.number }}}} está {{{{ order.status }}}}.</p>{{% endblock %}}{{% block text %}}Hola {{{{ recipient.name }}}}: {{{{ order.number }}}} está {{{{ order.status }}}}.{{% endblock %}}"
        )
    };
    for bad in [
        blocks("{{ order.secret_code }}"),
        "{% block subject %}Sin cuerpo{% endblock %}".to_string(),
        blocks("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"),
        blocks("{% if %}"),
    ] {
        let refused = expect_error(put(&bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(refused["details"][0]["field"], "source", "{bad}");
    }
    assert_eq!(expect_status(t.get(PATH, Some(&admin)).await, StatusCode::OK).await["custom"], false, "refusals changed nothing");

    let saved = expect_status(put(&blocks("¡{{ order.number }} va en camino!")).await, StatusCode::OK).await;
    assert_eq!(saved["custom"], true);
    let listed = expect_status(t.get("/api/notifications/templates", Some(&admin)).await, StatusCode::OK).await;
    let entries = listed["templates"].as_array().unwrap();
    assert!(entries.len() > 40, "every event, audience, channel and locale feria has words for");
    let own: Vec<&serde_json::Value> = entries.iter().filter(|e| e["custom"] == true).collect();
    assert_eq!(own.len(), 1);
    assert_eq!(
        (own[0]["kind"].as_str(), own[0]["channel"].as_str(), own[0]["locale"].as_str()),
        (Some("order_status_changed"), Some("email"), Some("es"))
    );
    let preview = t.request(Method::POST, &format!("{PATH}/preview"), Some(&json!({"orderId": order["id"]})), Some(&admin)).await;
    let preview = expect_status(preview, StatusCode::OK).await;
    assert_eq!(preview["subject"], format!("¡{number} va en camino!"));
    assert!(preview["text"].as_str().unwrap().starts_with("Hola Carla Gómez:"), "{preview}");
    let elsewhere = t.request(Method::POST, &format!("{PATH}/preview"), Some(&json!({"orderId": "nope"})), Some(&admin)).await;
    expect_error(elsewhere, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let before = smtp.wait_for(1).await.len();
    let path = format!("/api/sales/{}/status", order["id"].as_str().unwrap());
    expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": "CONFIRMED"})), Some(&admin)).await, StatusCode::OK).await;
    let mail = smtp.wait_for(before + 1).await;
    assert!(mail[before].decoded().contains(&format!("{number} va en camino")), "the store's words went out");

    // The owner sends the template to themselves, with the order.
    let test = t.request(Method::POST, &format!("{PATH}/test"), Some(&json!({"orderId": order["id"]})), Some(&admin)).await;
    let test = expect_status(test, StatusCode::ACCEPTED).await;
    assert_eq!((test["channel"].as_str(), test["address"].as_str()), (Some("email"), Some("admin@feria.test")));
    let mail = smtp.wait_for(before + 2).await;
    assert_eq!(mail[before + 1].to, ["admin@feria.test"]);
    assert!(mail[before + 1].decoded().contains(&format!("{number} va en camino")), "the test is the template with the order");
    crate::harness::wait_for_jobs_idle(&t).await;
    let logged = t.get(&format!("/api/notifications/deliveries/{}", test["messageId"].as_str().unwrap()), Some(&admin)).await;
    assert_eq!(expect_status(logged, StatusCode::OK).await["delivery"]["status"], "sent");
    assert_eq!(smtp.messages.lock().await.len(), before + 2, "nobody else got the test");
    let sms = "/api/notifications/templates/order_status_changed/customer/sms/es/test";
    let refused = expect_error(
        t.request(Method::POST, sms, Some(&json!({})), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["details"][0]["field"], "channel", "no SMS provider here");

    let reset = expect_status(t.request(Method::DELETE, PATH, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((reset["custom"].as_bool(), reset["source"].clone()), (Some(false), shipped["source"].clone()));
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(t.get(PATH, Some(&ana)).await, StatusCode::FORBIDDEN, "forbidden").await;
}

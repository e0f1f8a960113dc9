//! A store's workflows: steps listed, changed (channels in order, conditions, a digest window)
//! only as they fit, reset; conditions decide who hears of an order and a digest gathers the
//! staff's new orders into one; and the events feria raises by itself (low stock, an import
//! finished, a job given up) reach the people who run the shop.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status, wait_for_jobs_idle};
use crate::sales::{guest_order, products};

const WORKFLOWS: &str = "/api/notifications/workflows";

async fn put(t: &TestApp, token: &str, step: &str, body: Value) -> reqwest::Response {
    t.request(Method::PUT, &format!("{WORKFLOWS}/{step}"), Some(&body), Some(token)).await
}

async fn inbox(t: &TestApp, token: &str) -> Value {
    expect_status(t.get("/api/notifications", Some(token)).await, StatusCode::OK).await
}

/// The titles in `token`'s inbox, newest first, once the jobs are idle.
async fn titles(t: &TestApp, token: &str) -> Vec<String> {
    wait_for_jobs_idle(t).await;
    let page = inbox(t, token).await;
    page["notifications"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_string()).collect()
}

/// The newest item of `kind` in `token`'s inbox, waiting up to 10 s for one.
async fn first_of_kind(t: &TestApp, token: &str, kind: &str) -> Option<Value> {
    for _ in 0..200 {
        let page = inbox(t, token).await;
        if let Some(found) = page["notifications"].as_array().unwrap().iter().find(|n| n["kind"] == kind) {
            return Some(found.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}

/// A guest's order of `quantity` units of `product`.
async fn order(t: &TestApp, product: &Value, quantity: i64) -> Value {
    let body = guest_order(json!([{"productId": product, "quantity": quantity}]), "carla@example.com");
    expect_status(t.post("/api/sales", &body).await, StatusCode::CREATED).await["order"].clone()
}

#[tokio::test]
async fn a_stores_workflow_steps_are_listed_changed_only_as_they_fit_and_reset() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let listed = expect_status(t.get(WORKFLOWS, Some(&admin)).await, StatusCode::OK).await;
    let steps = listed["steps"].as_array().unwrap();
    let alert = steps.iter().find(|s| s["kind"] == "order_paid" && s["step"] == "staff_alert").unwrap();
    assert_eq!((alert["fallback"].as_bool(), alert["channels"].clone()), (Some(true), json!(["push", "web_push", "sms"])));
    assert!(
        steps.iter().all(|s| !["password_reset", "payment_failed", "announcement", "emergency"].contains(&s["kind"].as_str().unwrap()))
    );

    for missing in ["order_placed/pigeon", "password_reset/account", "announcement/broadcast", "nope/staff"] {
        expect_error(t.get(&format!("{WORKFLOWS}/{missing}"), Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let refusals = [
        ("order_paid/staff_alert", json!({"channels": ["telegram"]}), "channels"),
        ("order_paid/staff_alert", json!({"channels": ["sms", "sms"]}), "channels"),
        ("order_paid/staff_alert", json!({"channels": ["fax"]}), "channels"),
        ("order_paid/staff_alert", json!({"channels": []}), "channels"),
        ("order_paid/staff_alert", json!({"channels": ["sms", "sms", "sms", "sms", "sms", "sms", "sms"]}), "channels"),
        ("order_placed/buyer", json!({"digestMinutes": 10}), "digestMinutes"),
        ("order_placed/staff", json!({"digestMinutes": 5000}), "digestMinutes"),
        ("low_stock/staff", json!({"minTotal": 10}), "minTotal"),
        ("order_placed/staff", json!({"minTotal": -1}), "minTotal"),
        ("order_placed/buyer", json!({"statuses": ["SHIPPED"]}), "statuses"),
        ("order_status_changed/buyer", json!({"statuses": ["TELEPORTED"]}), "statuses"),
        ("order_status_changed/buyer", json!({"statuses": []}), "statuses"),
    ];
    for (step, body, field) in refusals {
        let refused = expect_error(put(&t, &admin, step, body.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(refused["details"][0]["field"], field, "{step} {body}");
    }
    let after = expect_status(t.get(WORKFLOWS, Some(&admin)).await, StatusCode::OK).await;
    assert!(after["steps"].as_array().unwrap().iter().all(|s| s["custom"] == false), "refusals changed nothing");

    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    expect_error(put(&t, &ana, "order_placed/staff", json!({"enabled": false})).await, StatusCode::FORBIDDEN, "forbidden").await;

    let saved = expect_status(
        put(&t, &admin, "order_paid/staff_alert", json!({"channels": ["sms", "push"], "minTotal": "1500.50"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (saved["custom"].as_bool(), saved["channels"].clone(), saved["minTotal"].clone()),
        (Some(true), json!(["sms", "push"]), json!(1500.5))
    );
    let kept = expect_status(put(&t, &admin, "order_paid/staff_alert", json!({"enabled": false})).await, StatusCode::OK).await;
    assert_eq!(
        (kept["enabled"].as_bool(), kept["channels"].clone(), kept["minTotal"].clone()),
        (Some(false), json!(["sms", "push"]), json!(1500.5))
    );
    let cleared = expect_status(put(&t, &admin, "order_paid/staff_alert", json!({"minTotal": null})).await, StatusCode::OK).await;
    assert_eq!(cleared["minTotal"], Value::Null);
    let reset = t.request(Method::DELETE, &format!("{WORKFLOWS}/order_paid/staff_alert"), None, Some(&admin)).await;
    let reset = expect_status(reset, StatusCode::OK).await;
    assert_eq!(
        (reset["custom"].as_bool(), reset["enabled"].as_bool(), reset["channels"].clone()),
        (Some(false), Some(true), alert["channels"].clone())
    );
}

#[tokio::test]
async fn conditions_and_a_digest_decide_who_hears_of_an_order() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 1000)]).await;
    let malbec = json!(ids[0]);

    // The staff hear only of orders of 500 or more.
    expect_status(put(&t, &admin, "order_placed/staff", json!({"minTotal": 500})).await, StatusCode::OK).await;
    order(&t, &malbec, 1).await;
    assert_eq!(titles(&t, &admin).await, Vec::<String>::new(), "an order of 100 is below the condition");
    let big = order(&t, &malbec, 6).await;
    assert_eq!(titles(&t, &admin).await, [format!("Nuevo pedido {}", big["orderNumber"].as_str().unwrap())]);

    // Then gathered for 10 minutes: three orders are one notification when the window closes.
    expect_status(put(&t, &admin, "order_placed/staff", json!({"minTotal": null, "digestMinutes": 10})).await, StatusCode::OK).await;
    for quantity in [1, 2, 3] {
        order(&t, &malbec, quantity).await;
    }
    assert_eq!(titles(&t, &admin).await.len(), 1, "nothing while the window is open");
    let (events, total): (i64, i64) = sqlx::query_as("SELECT events, total FROM notification_digests WHERE closed_at IS NULL")
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    assert_eq!((events, total), (3, 60000), "three orders of 100, 200 and 300 (minor units)");
    let due: String =
        sqlx::query_scalar("SELECT run_at FROM jobs WHERE kind = 'notify_digest'").fetch_one(t.app.db.reader()).await.unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(&due).unwrap();
    assert!(due > chrono::Utc::now() + chrono::TimeDelta::minutes(9), "the window closes in 10 minutes: {due}");

    // Ten minutes pass.
    let now = feria_domain::time::to_db(chrono::Utc::now());
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'notify_digest'").bind(now).execute(t.app.db.writer()).await.unwrap();
    t.app.job_wake.notify_one();
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen = titles(&t, &admin).await;
        if seen.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen[0], "3 pedidos nuevos");
    assert_eq!(inbox(&t, &admin).await["notifications"][0]["body"], "ARS 600 en total");
    order(&t, &malbec, 1).await;
    wait_for_jobs_idle(&t).await;
    let open: i64 =
        sqlx::query_scalar("SELECT events FROM notification_digests WHERE closed_at IS NULL").fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(open, 1, "the next order opens the next window");
}

#[tokio::test]
async fn a_status_condition_tells_the_buyer_only_of_the_statuses_the_store_chose() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 10)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let body = json!({
        "items": [{"productId": ids[0], "quantity": 1}],
        "shippingAddress": {"street": "Gorriti", "number": "4500", "neighborhood": "Palermo", "city": "CABA"}
    });
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&body), Some(&ana)).await, StatusCode::CREATED).await;
    let number = placed["order"]["orderNumber"].as_str().unwrap().to_string();
    expect_status(put(&t, &admin, "order_status_changed/buyer", json!({"statuses": ["SHIPPED"]})).await, StatusCode::OK).await;

    let path = format!("/api/sales/{}/status", placed["order"]["id"].as_str().unwrap());
    for status in ["CONFIRMED", "PROCESSING", "SHIPPED"] {
        expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": status})), Some(&admin)).await, StatusCode::OK).await;
    }
    let seen = titles(&t, &ana).await;
    assert_eq!(seen.len(), 2, "the order placed, and shipped: {seen:?}");
    assert!(seen[0].contains(&number) && seen[0].contains("Enviado"), "{seen:?}");
}

#[tokio::test]
async fn low_stock_an_import_and_a_job_given_up_reach_the_people_who_run_the_shop() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 8), ("Torrontés", "90", "0", 100)]).await;

    order(&t, &json!(ids[1]), 1).await;
    order(&t, &json!(ids[0]), 2).await;
    assert!(!titles(&t, &admin).await.iter().any(|t| t.starts_with("Stock bajo")), "6 left is above the threshold");
    order(&t, &json!(ids[0]), 2).await;
    let seen = titles(&t, &admin).await;
    assert_eq!(seen.iter().filter(|t| *t == "Stock bajo: Malbec").count(), 1, "{seen:?}");
    let low = first_of_kind(&t, &admin, "low_stock").await.unwrap();
    assert!(low["body"].as_str().unwrap().starts_with("Quedan 4"), "{low}");
    order(&t, &json!(ids[0]), 1).await;
    let seen = titles(&t, &admin).await;
    assert_eq!(seen.iter().filter(|t| *t == "Stock bajo: Malbec").count(), 1, "once a day per product: {seen:?}");

    let csv = "nombre,descripción,precio,categoria,sku,stock,imagen_url,peso,dimensiones\nMalbec Reserva,Tinto,1500,Vinos,MR-1,12,,,\n";
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("vinos.csv"));
    let accepted = t.client.post(t.url("/api/products/bulk-import")).bearer_auth(&admin).multipart(form).send().await.unwrap();
    expect_status(accepted, StatusCode::ACCEPTED).await;
    let done = first_of_kind(&t, &admin, "import_finished").await.expect("the importer hears");
    assert_eq!((done["title"].as_str(), done["body"].as_str()), (Some("Importación terminada"), Some("1 producto nuevo, 0 actualizados.")));

    // A job that runs out of attempts (a kind no handler runs) alerts the platform's admins.
    let mut conn = t.app.db.writer().acquire().await.unwrap();
    feria_jobs::enqueue(&mut conn, "no_such_kind", &json!({}), 1).await.unwrap();
    drop(conn);
    t.app.job_wake.notify_one();
    let alert = first_of_kind(&t, &admin, "system_alert").await.expect("the admin is alerted");
    assert_eq!(alert["title"], "Un trabajo «no_such_kind» se dio por perdido");
    assert!(alert["body"].as_str().unwrap().contains("no handler for job kind"), "{alert}");
}

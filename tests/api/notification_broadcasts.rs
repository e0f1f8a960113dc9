//! Broadcasts: an announcement to a store's customers that respects their choices, with its
//! report; an emergency to staff on every channel despite quiet hours and opt-outs, its failed
//! text message sent again; a scheduled broadcast cancelled before it goes out; who may send
//! what; attachments as links on every channel; and ten thousand recipients in chunks.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use feria::services::notifications::fanout::{self, Portion};

use crate::fake_smtp::FakeSmtp;
use crate::fake_twilio::FakeTwilio;
use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::{guest_order, products};

async fn broadcast(t: &TestApp, token: &str, body: Value) -> Value {
    expect_status(t.request(Method::POST, "/api/broadcasts", Some(&body), Some(token)).await, StatusCode::CREATED).await
}

/// Waits until the broadcast's report satisfies `done`; answers it.
async fn report_when(t: &TestApp, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        last = expect_status(t.get(&format!("/api/broadcasts/{id}"), Some(token)).await, StatusCode::OK).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the report never got there: {last}");
}

#[tokio::test]
async fn an_announcement_reaches_the_stores_customers_as_they_chose_and_reports_per_status() {
    let smtp = FakeSmtp::start(0).await;
    let t = TestApp::with(|s| s.extend(smtp.settings())).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    let item = json!([{"productId": ids[0], "quantity": 1}]);
    for email in ["carla@example.com", "dario@example.com"] {
        expect_status(t.post("/api/sales", &guest_order(item.clone(), email)).await, StatusCode::CREATED).await;
    }
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let order = json!({"items": item, "shippingAddress": {"street": "Gorriti", "number": "1", "neighborhood": "Palermo", "city": "CABA"}});
    expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&ana)).await, StatusCode::CREATED).await;
    let no_email = json!({"categories": {"announcements": {"email": false}}});
    expect_status(t.request(Method::PUT, "/api/notifications/preferences", Some(&no_email), Some(&ana)).await, StatusCode::OK).await;
    let before = smtp.wait_for(3).await.len();

    for (body, field) in [
        (json!({"kind": "flyer", "audience": "customers", "title": "Hola", "body": "Texto"}), "kind"),
        (json!({"kind": "announcement", "audience": "neighbours", "title": "Hola", "body": "Texto"}), "audience"),
        (json!({"kind": "announcement", "audience": "customers", "title": "", "body": "Texto"}), "title"),
        (json!({"kind": "announcement", "audience": "customers", "title": "Hola", "body": "Texto", "sendAt": "mañana"}), "sendAt"),
    ] {
        let refused = expect_error(
            t.request(Method::POST, "/api/broadcasts", Some(&body), Some(&admin)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(refused["details"][0]["field"], field);
    }
    let to_all = json!({"kind": "announcement", "audience": "everyone", "title": "Hola", "body": "Texto"});
    expect_error(t.request(Method::POST, "/api/broadcasts", Some(&to_all), Some(&ana)).await, StatusCode::FORBIDDEN, "forbidden").await;

    let sent = broadcast(
        &t,
        &admin,
        json!({"kind": "announcement", "audience": "customers", "title": "Cerramos el feriado", "body": "Volvemos el martes 9."}),
    )
    .await;
    let id = sent["id"].as_str().unwrap();
    // Carla and Dario by email; Ana (email off) and the admin (a customer since signing up) in
    // their inboxes, the admin by email too.
    let report = report_when(&t, &admin, id, |r| r["messages"]["sent"] == 3 && r["messages"]["delivered"] == 2).await;
    assert_eq!((report["status"].as_str(), report["recipients"].as_i64()), (Some("sent"), Some(4)), "{report}");
    let mail = smtp.wait_for(before + 3).await;
    let announced: Vec<&str> =
        mail[before..].iter().filter(|m| m.decoded().contains("Cerramos el feriado")).map(|m| m.to[0].as_str()).collect();
    assert_eq!(announced.len(), 3);
    assert!(!announced.contains(&"ana@example.com"), "she turned announcements by email off");
    let inbox = expect_status(t.get("/api/notifications", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(inbox["notifications"][0]["title"], "Cerramos el feriado", "but she still sees it in her inbox");
    let listed = expect_status(t.get("/api/broadcasts", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(listed["pagination"]["total"], 1);
}

#[tokio::test]
async fn an_emergency_reaches_staff_despite_quiet_hours_and_opt_outs_and_failed_messages_are_sent_again() {
    let smtp = FakeSmtp::start(0).await;
    let twilio = FakeTwilio::start().await;
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        s.extend(twilio.settings());
    })
    .await;
    let admin = t.admin_token().await;
    let now = chrono::Utc::now();
    let clock = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M").to_string();
    let quiet = json!({
        "phone": "+54 9 11 5555-0009", "timezone": "UTC",
        "quietHours": {"start": clock(now - chrono::TimeDelta::hours(1)), "end": clock(now + chrono::TimeDelta::hours(1))},
        "categories": {"announcements": {"sms": false, "email": false, "in_app": false}}
    });
    expect_status(t.request(Method::PUT, "/api/notifications/preferences", Some(&quiet), Some(&admin)).await, StatusCode::OK).await;
    twilio.refuse_next(StatusCode::BAD_REQUEST, 21211, None);

    let sent =
        broadcast(&t, &admin, json!({"kind": "emergency", "audience": "staff", "title": "Corte de luz", "body": "No despachamos hoy."}))
            .await;
    let id = sent["id"].as_str().unwrap();
    let report =
        report_when(&t, &admin, id, |r| r["messages"]["failed"] == 1 && r["messages"]["sent"] == 1 && r["messages"]["delivered"] == 1)
            .await;
    assert_eq!(report["kind"], "emergency");
    let mail = smtp.wait_for(1).await;
    assert!(mail[0].decoded().contains("URGENTE: Corte de luz"));

    let again =
        expect_status(t.request(Method::POST, &format!("/api/broadcasts/{id}/retry-failed"), None, Some(&admin)).await, StatusCode::OK)
            .await;
    assert_eq!(again["queued"], 1);
    report_when(&t, &admin, id, |r| r["messages"]["sent"] == 2 && r["messages"].get("failed").is_none()).await;
    assert_eq!(twilio.sent().len(), 1, "the text went out on the second try, during her quiet hours");

    // A scheduled broadcast can be cancelled until it goes out; then nothing is sent.
    let later = (now + chrono::TimeDelta::hours(2)).to_rfc3339();
    let scheduled = broadcast(
        &t,
        &admin,
        json!({"kind": "announcement", "audience": "staff", "title": "Inventario", "body": "El sábado.", "sendAt": later}),
    )
    .await;
    let sid = scheduled["id"].as_str().unwrap();
    assert_eq!(scheduled["status"], "scheduled");
    let cancelled =
        expect_status(t.request(Method::POST, &format!("/api/broadcasts/{sid}/cancel"), None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(cancelled["status"], "cancelled");
    expect_error(
        t.request(Method::POST, &format!("/api/broadcasts/{sid}/cancel"), None, Some(&admin)).await,
        StatusCode::CONFLICT,
        "already_sent",
    )
    .await;
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'notify_fanout' AND state = 'queued'")
        .bind(feria_domain::time::to_db(chrono::Utc::now()))
        .execute(t.app.db.writer())
        .await
        .unwrap();
    crate::harness::wait_for_jobs_idle(&t).await;
    let report = expect_status(t.get(&format!("/api/broadcasts/{sid}"), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((report["status"].as_str(), report["recipients"].as_i64()), (Some("cancelled"), Some(0)));
}

#[tokio::test]
async fn ten_thousand_customers_get_an_announcement_in_chunks_each_written_once() {
    const CUSTOMERS: usize = 10_000;
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let store: String = sqlx::query_scalar("SELECT id FROM stores WHERE is_default = 1").fetch_one(t.app.db.reader()).await.unwrap();
    let now = feria_domain::time::to_db(chrono::Utc::now());
    let mut tx = t.app.db.begin().await.unwrap();
    for chunk in (0..CUSTOMERS).collect::<Vec<_>>().chunks(500) {
        let users: Vec<String> = chunk
            .iter()
            .map(|n| format!("('u{n}', 'Cliente {n}', 'c{n}@example.com', 'x', '[\"USER_ROLE\"]', '{now}', '{now}')"))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO users (id, name, email, password_hash, roles, created_at, updated_at) VALUES {}",
            users.join(",")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        let customers: Vec<String> =
            chunk.iter().map(|n| format!("('c{n}', 'u{n}', 'Cliente {n}', 'c{n}@example.com', 0, '{now}', '{now}', '{store}')")).collect();
        sqlx::query(&format!(
            "INSERT INTO customers (id, user_id, name, email, is_guest, created_at, updated_at, store_id) VALUES {}",
            customers.join(",")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let customers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE store_id = $1").bind(&store).fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(customers, CUSTOMERS as i64 + 1, "and the admin, a customer since signing up");
    let started = std::time::Instant::now();
    let sent =
        broadcast(&t, &admin, json!({"kind": "announcement", "audience": "customers", "title": "Feriado", "body": "Cerramos el lunes."}))
            .await;
    let report = report_when(&t, &admin, sent["id"].as_str().unwrap(), |r| r["status"] == "sent").await;
    println!("{CUSTOMERS} recipients fanned out in {:?}", started.elapsed());
    assert_eq!((report["recipients"].as_i64(), report["messages"]["delivered"].as_i64()), (Some(customers), Some(customers)));
    let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE in_inbox = 1 AND kind = 'announcement'")
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    assert_eq!(inbox, customers, "one inbox item each");

    // A chunk of a thousand per job: ten full ones and the admin alone in the last.
    let event: String = sqlx::query_scalar("SELECT event_id FROM notification_broadcasts").fetch_one(t.app.db.reader()).await.unwrap();
    let jobs: Vec<String> = sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'notify_fanout' AND state = 'done'")
        .fetch_all(t.app.db.reader())
        .await
        .unwrap();
    let chunks: Vec<Value> =
        jobs.iter().map(|p| serde_json::from_str::<Value>(p).unwrap()).filter(|p| p["eventId"] == event.as_str()).collect();
    assert_eq!(chunks.len(), 11, "{chunks:?}");
    // A chunk run again (a worker that died before marking its job done) writes nothing.
    for chunk in chunks.iter().take(3) {
        let again = Portion { event_id: event.clone(), after: chunk["after"].as_str().map(String::from) };
        let (done, failed) = fanout::fan_out_many(&t.app, &[again]).await.unwrap();
        assert_eq!((done, failed.len()), (fanout::FannedOut::default(), 0), "{chunk}");
    }
    let notifications: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE event_id = $1")
        .bind(&event)
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    assert_eq!(notifications, customers);
}

#[tokio::test]
async fn attachments_are_stored_and_reach_every_channel_as_links() {
    let smtp = FakeSmtp::start(0).await;
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        s.insert("MAX_FILE_SIZE".into(), "4096".into());
    })
    .await;
    let admin = t.admin_token().await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let send = |form: Form| t.client.post(t.url("/api/broadcasts")).bearer_auth(&admin).multipart(form).send();
    let fields =
        || Form::new().text("kind", "announcement").text("audience", "customers").text("title", "Horarios").text("body", "Van adjuntos.");
    let pdf = b"%PDF-1.4 horarios de diciembre".to_vec();

    // Refused whole: a page posing as a PDF, too many files, a file over MAX_FILE_SIZE, an
    // unknown field; nothing is stored or sent.
    let page = fields().part("attachment", Part::bytes(b"<html><script>x</script>".to_vec()).file_name("horarios.pdf"));
    let refused = expect_error(send(page).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(refused["details"][0]["field"], "attachment");
    let many = (0..6).fold(fields(), |form, n| form.part("attachment", Part::bytes(pdf.clone()).file_name(format!("{n}.pdf"))));
    let refused = expect_error(send(many).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(refused["details"][0]["field"], "attachment");
    let big = fields().part("attachment", Part::bytes(vec![b'%'; 5000]).file_name("grande.pdf"));
    expect_error(send(big).await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let unknown = fields().text("audiencia", "todos");
    let refused = expect_error(send(unknown).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(refused["details"][0]["field"], "audiencia");
    let listed = expect_status(t.get("/api/broadcasts", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(listed["pagination"]["total"], 0);
    assert!(!t.db.dir.path().join("uploads/broadcasts").exists(), "no file was kept");

    let form = fields()
        .part("attachment", Part::bytes(pdf.clone()).file_name("C:\\fotos\\horarios.pdf"))
        .part("attachment", Part::bytes(crate::products::PNG.to_vec()).file_name("mapa.png"));
    let sent = expect_status(send(form).await.unwrap(), StatusCode::CREATED).await;
    let files = sent["attachments"].as_array().unwrap().clone();
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["horarios.pdf", "mapa.png"], "the name without its folders");
    assert_eq!((files[0]["contentType"].as_str(), files[0]["size"].as_u64()), (Some("application/pdf"), Some(pdf.len() as u64)));
    for (file, bytes, content_type) in [(&files[0], &pdf[..], "application/pdf"), (&files[1], crate::products::PNG, "image/png")] {
        let url = file["url"].as_str().unwrap();
        let path = &url[url.find("/uploads/broadcasts/").unwrap_or_else(|| panic!("an absolute link to the store: {url}"))..];
        assert!(url.starts_with("http"), "{url}");
        let served = t.get(path, None).await;
        assert_eq!(served.headers()["content-type"], content_type);
        assert_eq!(served.bytes().await.unwrap().as_ref(), bytes);
    }

    report_when(&t, &admin, sent["id"].as_str().unwrap(), |r| r["status"] == "sent" && r["messages"]["delivered"] == 2).await;
    let inbox = expect_status(t.get("/api/notifications", Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(inbox["notifications"][0]["attachments"], json!(files), "the inbox item lists the files");
    let mail = smtp.wait_for(2).await;
    let letter = mail.iter().find(|m| m.to[0] == "ana@example.com").expect("Ana's email").decoded();
    for file in &files {
        assert!(letter.contains(file["url"].as_str().unwrap()), "{letter}");
    }
}

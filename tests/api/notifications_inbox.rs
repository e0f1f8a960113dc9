//! The notification hub's model and in-app inbox: an order fans out to the buyer's and the
//! staff's inboxes through jobs, items are read, read all and archived by their owner only,
//! and emitting or fanning out the same event twice changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};
use crate::sales::products;

async fn unread(t: &TestApp, token: &str) -> i64 {
    expect_status(t.get("/api/notifications/unread-count", Some(token)).await, StatusCode::OK).await["count"].as_i64().unwrap()
}

async fn wait_for_unread(t: &TestApp, token: &str, count: i64) {
    for _ in 0..200 {
        if unread(t, token).await == count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("unread count never reached {count}");
}

async fn inbox(t: &TestApp, token: &str, query: &str) -> Value {
    expect_status(t.get(&format!("/api/notifications{query}"), Some(token)).await, StatusCode::OK).await
}

/// The admin's token, Ana's, and the order Ana placed (one bottle, delivered to a given address).
async fn ana_buys(t: &TestApp) -> (String, String, Value) {
    let admin = t.admin_token().await;
    let ids = products(t, &admin, &[("Malbec <reserva>", "100", "0", 10)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let order = json!({
        "items": [{"productId": ids[0], "quantity": 1}],
        "shippingAddress": {"street": "Gorriti", "number": "4500", "neighborhood": "Palermo", "city": "CABA"}
    });
    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order), Some(&ana)).await, StatusCode::CREATED).await;
    (admin, ana, placed)
}

#[tokio::test]
async fn an_order_reaches_the_buyers_and_the_staffs_inbox_and_only_its_owner_changes_an_item() {
    let t = TestApp::spawn().await;
    let (admin, ana, placed) = ana_buys(&t).await;
    let beto = t.register("Beto", "beto@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let number = placed["order"]["orderNumber"].as_str().unwrap().to_string();

    wait_for_unread(&t, &ana, 1).await;
    let page = inbox(&t, &ana, "").await;
    assert_eq!((page["unreadCount"].as_i64(), page["pagination"]["total"].as_i64()), (Some(1), Some(1)));
    let first = &page["notifications"][0];
    assert_eq!(first["title"], format!("Recibimos tu pedido {number}"));
    assert_eq!(
        (first["kind"].as_str(), first["category"].as_str(), first["read"].as_bool()),
        (Some("order_placed"), Some("orders"), Some(false))
    );
    assert!(first["storeId"].as_str().is_some_and(|s| !s.is_empty()));
    wait_for_unread(&t, &admin, 1).await;
    let staff = inbox(&t, &admin, "").await;
    assert_eq!(staff["notifications"][0]["title"], format!("Nuevo pedido {number}"), "the admin runs the default store");
    assert_eq!(unread(&t, &beto).await, 0, "a stranger hears nothing");

    // A status change is the buyer's news only.
    let path = format!("/api/sales/{}/status", placed["order"]["id"].as_str().unwrap());
    expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": "CONFIRMED"})), Some(&admin)).await, StatusCode::OK).await;
    wait_for_unread(&t, &ana, 2).await;
    let newest = &inbox(&t, &ana, "").await["notifications"][0];
    assert_eq!(newest["title"], format!("Tu pedido {number} está: Confirmado"));
    assert_eq!(unread(&t, &admin).await, 1);

    // Only the owner may touch an item; someone else's id is unknown.
    let id = first["id"].as_str().unwrap();
    for action in ["read", "archive"] {
        let path = format!("/api/notifications/{id}/{action}");
        expect_error(t.request(Method::POST, &path, None, Some(&beto)).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(t.request(Method::POST, &path, None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    expect_error(
        t.request(Method::POST, &format!("/api/notifications/{id}/read"), None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_eq!(unread(&t, &ana).await, 2, "refusals changed nothing");

    let read =
        expect_status(t.request(Method::POST, &format!("/api/notifications/{id}/read"), None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(read["read"], true);
    let read_at = read["readAt"].clone();
    let again =
        expect_status(t.request(Method::POST, &format!("/api/notifications/{id}/read"), None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(again["readAt"], read_at, "reading twice keeps the first time");
    assert_eq!(unread(&t, &ana).await, 1);
    assert_eq!(inbox(&t, &ana, "?unread=true").await["pagination"]["total"], 1);
    let in_app: Vec<String> = sqlx::query_scalar(
        "SELECT m.status FROM notification_messages m JOIN notifications n ON n.id = m.notification_id
         WHERE n.id = $1 AND m.channel = 'in_app'",
    )
    .bind(id)
    .fetch_all(t.app.db.reader())
    .await
    .unwrap();
    assert_eq!(in_app, ["read"], "the in-app message's delivery status follows");

    let all = expect_status(t.request(Method::POST, "/api/notifications/read-all", None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(all["updated"], 1);
    assert_eq!(unread(&t, &ana).await, 0);
    expect_status(t.request(Method::POST, &format!("/api/notifications/{id}/archive"), None, Some(&ana)).await, StatusCode::OK).await;
    assert_eq!(inbox(&t, &ana, "").await["pagination"]["total"], 1, "archived items leave the list");
    let archived = inbox(&t, &ana, "?archived=true").await;
    assert_eq!((archived["pagination"]["total"].as_i64(), archived["notifications"][0]["id"].as_str()), (Some(1), Some(id)));
    assert_eq!(inbox(&t, &ana, "?storeId=elsewhere").await["pagination"]["total"], 0);

    for bad in ["?unread=maybe", "?archived=2", "?storeId=", "?limit=0"] {
        expect_error(t.get(&format!("/api/notifications{bad}"), Some(&ana)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    }
    expect_error(t.get("/api/notifications", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn the_same_event_emitted_or_fanned_out_twice_notifies_once() {
    use feria::services::notifications::{NewEvent, emit, fanout};
    use feria_domain::notify::EventKind;

    let t = TestApp::spawn().await;
    let (_, ana, placed) = ana_buys(&t).await;
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();
    wait_for_unread(&t, &ana, 1).await;
    let counts = || async {
        sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT (SELECT COUNT(*) FROM notification_events), (SELECT COUNT(*) FROM notifications),
                    (SELECT COUNT(*) FROM notification_messages), (SELECT COUNT(*) FROM jobs WHERE kind LIKE 'notify_%')",
        )
        .fetch_one(t.app.db.reader())
        .await
        .unwrap()
    };
    let before = counts().await;
    assert_eq!((before.0, before.1, before.2), (1, 2, 2), "one event; the buyer and the admin, in-app each");

    // Emitting the same fact again (same dedupe key) does nothing.
    let store_id: String = sqlx::query_scalar("SELECT store_id FROM notification_events").fetch_one(t.app.db.reader()).await.unwrap();
    let again = NewEvent {
        store_id: Some(store_id),
        kind: EventKind::OrderPlaced,
        dedupe_key: format!("order_placed:{order_id}"),
        data: json!({"orderId": order_id}),
        secret: false,
        fan_out_at: None,
    };
    let mut tx = t.app.db.begin().await.unwrap();
    assert!(!emit(&mut tx, &t.app, again).await.unwrap());
    tx.commit().await.unwrap();

    // A second fan-out is a no-op; even forced (as if the first had crashed after its inserts),
    // recipients and channels are unique per event.
    let event_id: String = sqlx::query_scalar("SELECT id FROM notification_events").fetch_one(t.app.db.reader()).await.unwrap();
    assert_eq!(fanout::fan_out(&t.app, &event_id).await.unwrap(), fanout::FannedOut::default());
    sqlx::query("UPDATE notification_events SET fanned_out_at = NULL").execute(t.app.db.writer()).await.unwrap();
    let forced = fanout::fan_out(&t.app, &event_id).await.unwrap();
    assert_eq!((forced.queued, forced.in_app), (0, 0), "nothing new queued or put in an inbox");
    assert_eq!(counts().await, before);
    assert_eq!(unread(&t, &ana).await, 1);
}

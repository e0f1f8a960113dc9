//! Live events over WebSocket: the buyer's and the staff's new inbox items with the unread
//! count, authenticated by header or by a first frame, nothing for strangers, bad tokens closed
//! with 4401; and across two nodes sharing a database, through Redis pub/sub, when the fan-out
//! runs on the node without the socket.

use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::harness::{TestApp, TestDb, base_settings, expect_status};
use crate::sales::products;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket to `t`'s live endpoint, signed in by header when `header` is given.
async fn connect(t: &TestApp, header: Option<&str>) -> Socket {
    let mut request = format!("{}/api/notifications/live", t.base.replace("http://", "ws://")).into_client_request().unwrap();
    if let Some(token) = header {
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.expect("the socket opens").0
}

/// The next JSON frame (pings skipped), within 10 s.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.expect("a frame in time");
        match frame.expect("the socket is open").expect("a frame") {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Close(frame) => return json!({"closed": frame.map(|f| u16::from(f.code))}),
            _ => {}
        }
    }
}

fn order(product: &str) -> Value {
    json!({
        "items": [{"productId": product, "quantity": 1}],
        "shippingAddress": {"street": "Gorriti", "number": "4500", "neighborhood": "Palermo", "city": "CABA"}
    })
}

#[tokio::test]
async fn the_buyer_and_the_staff_hear_of_an_order_live_and_nobody_else_does() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Malbec", "100", "0", 50)]).await;
    let ana = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let beto = t.register("Beto", "beto@example.com", "secreto1").await["token"].as_str().unwrap().to_string();

    let mut buyer = connect(&t, Some(&ana)).await;
    assert_eq!(next(&mut buyer).await, json!({"type": "ready", "unreadCount": 0}));
    // The staff's browser cannot set headers: it signs in with its first frame.
    let mut staff = connect(&t, None).await;
    staff.send(Message::Text(json!({"type": "auth", "token": admin}).to_string().into())).await.unwrap();
    assert_eq!(next(&mut staff).await["type"], "ready");
    let mut stranger = connect(&t, Some(&beto)).await;
    assert_eq!(next(&mut stranger).await["type"], "ready");

    let placed = expect_status(t.request(Method::POST, "/api/sales", Some(&order(&ids[0])), Some(&ana)).await, StatusCode::CREATED).await;
    let number = placed["order"]["orderNumber"].as_str().unwrap();
    let heard = next(&mut buyer).await;
    assert_eq!((heard["type"].as_str(), heard["unreadCount"].as_i64()), (Some("notification"), Some(1)));
    assert_eq!(heard["notification"]["title"], format!("Recibimos tu pedido {number}"));
    let heard = next(&mut staff).await;
    assert_eq!(
        (heard["notification"]["kind"].as_str(), heard["notification"]["title"].as_str()),
        (Some("order_placed"), Some(format!("Nuevo pedido {number}").as_str()))
    );
    let path = format!("/api/sales/{}/status", placed["order"]["id"].as_str().unwrap());
    expect_status(t.request(Method::PATCH, &path, Some(&json!({"status": "CONFIRMED"})), Some(&admin)).await, StatusCode::OK).await;
    let heard = next(&mut buyer).await;
    assert_eq!((heard["notification"]["kind"].as_str(), heard["unreadCount"].as_i64()), (Some("order_status_changed"), Some(2)));
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), stranger.next()).await;
    assert!(quiet.is_err(), "a stranger hears nothing: {quiet:?}");

    // Bad credentials: refused before the upgrade by header, closed with 4401 by frame.
    let refused = tokio_tungstenite::connect_async({
        let mut request = format!("{}/api/notifications/live", t.base.replace("http://", "ws://")).into_client_request().unwrap();
        request.headers_mut().insert("authorization", "Bearer forged".parse().unwrap());
        request
    })
    .await;
    assert!(refused.is_err(), "a forged header token never upgrades");
    let mut forged = connect(&t, None).await;
    forged.send(Message::Text(json!({"type": "auth", "token": "forged"}).to_string().into())).await.unwrap();
    assert_eq!(next(&mut forged).await, json!({"closed": 4401}));
    let mut rude = connect(&t, None).await;
    rude.send(Message::Text("x".repeat(10_000).into())).await.ok();
    assert!(tokio::time::timeout(std::time::Duration::from_secs(5), rude.next()).await.is_ok(), "an oversized frame ends the socket");
}

#[tokio::test]
async fn across_two_nodes_live_events_go_through_redis() {
    let prefix = format!("feria-test-{}:", uuid::Uuid::now_v7().simple());
    let db = TestDb::new().await;
    let mut sockets_node = base_settings(&db);
    sockets_node.insert("REDIS_URL".into(), "redis://127.0.0.1:6379".into());
    sockets_node.insert("REDIS_KEY_PREFIX".into(), prefix);
    let mut jobs_node = sockets_node.clone();
    // The node with the socket runs no jobs: the fan-out happens on the other one.
    sockets_node.insert("JOBS_IN_SERVE".into(), "false".into());
    let shared = db.sharing();
    let a = TestApp::on(db, sockets_node).await;
    jobs_node.insert("DATABASE_URL".into(), shared.url.clone());
    let b = TestApp::on(shared, jobs_node).await;

    let admin = a.admin_token().await;
    let ids = products(&a, &admin, &[("Malbec", "100", "0", 50)]).await;
    let ana = a.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let mut buyer = connect(&a, Some(&ana)).await;
    assert_eq!(next(&mut buyer).await["type"], "ready");
    let placed = expect_status(a.request(Method::POST, "/api/sales", Some(&order(&ids[0])), Some(&ana)).await, StatusCode::CREATED).await;
    let heard = next(&mut buyer).await;
    assert_eq!(heard["notification"]["title"], format!("Recibimos tu pedido {}", placed["order"]["orderNumber"].as_str().unwrap()));
    // The node with the socket runs no jobs: the other one fanned the event out.
    crate::harness::wait_for_job(&b, "notify_fanout", feria_jobs::JobState::Done).await;
}

//! The assistant's sessions and guardrails over HTTP: whose session is whose, the staff's list
//! with its statistics, rate limits, input limits, and answers streamed as server-sent events
//! (with a correction when a sentence strays).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_llm::{FakeLlm, KEY, streams};
use crate::harness::{TestApp, expect_error, expect_status};

async fn app(more: &[(&str, &str)]) -> TestApp {
    let more: Vec<(String, String)> = more.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TestApp::with(move |s| {
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
        for (k, v) in more {
            s.insert(k, v);
        }
    })
    .await
}

fn query(message: &str, session: Option<&str>) -> Value {
    json!({"message": message, "sessionId": session})
}

#[tokio::test]
async fn a_session_is_read_only_by_who_holds_it_and_staff_list_them_with_statistics() {
    let t = app(&[("CHAT_RATE_LIMIT_MAX_REQUESTS", "1000")]).await;
    let admin = t.admin_token().await;
    let lucia = t.register("Lucía", "lucia@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    let pedro = t.register("Pedro", "pedro@example.com", "secreto123").await["token"].as_str().unwrap().to_string();

    let mine =
        expect_status(t.request(Method::POST, "/api/chatbot/query", Some(&query("hola", None)), Some(&lucia)).await, StatusCode::OK).await;
    let id = mine["sessionId"].as_str().unwrap();
    assert!(id.len() > 40, "unguessable: {id}");
    expect_status(t.get(&format!("/api/chatbot/session/{id}"), Some(&lucia)).await, StatusCode::OK).await;
    for other in [Some(pedro.as_str()), None] {
        expect_error(t.get(&format!("/api/chatbot/session/{id}"), other).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(
            t.request(Method::POST, "/api/chatbot/query", Some(&query("¿y?", Some(id))), other).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // A visitor's session is reached by its id; it keeps the conversation.
    let created = expect_status(
        t.request(Method::POST, "/api/chatbot/session", Some(&json!({"metadata": {"source": "widget"}})), None).await,
        StatusCode::CREATED,
    )
    .await;
    let visitor = created["session"]["id"].as_str().unwrap();
    expect_status(t.request(Method::POST, "/api/chatbot/query", Some(&query("¿hacen envíos?", Some(visitor))), None).await, StatusCode::OK)
        .await;
    let read = expect_status(t.get(&format!("/api/chatbot/session/{visitor}?limit=1"), None).await, StatusCode::OK).await;
    assert_eq!((read["session"]["messageCount"].as_i64(), read["messages"].as_array().unwrap().len()), (Some(2), 1));
    // Two questions at once in one session both keep their turn.
    let (first, second) = (query("¿y el horario?", Some(visitor)), query("¿y los pagos?", Some(visitor)));
    let (a, b) = tokio::join!(
        t.request(Method::POST, "/api/chatbot/query", Some(&first), None),
        t.request(Method::POST, "/api/chatbot/query", Some(&second), None)
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let read = expect_status(t.get(&format!("/api/chatbot/session/{visitor}"), None).await, StatusCode::OK).await;
    assert_eq!((read["session"]["messageCount"].as_i64(), read["messages"].as_array().unwrap().len()), (Some(6), 6));
    assert_eq!(read["session"]["metadata"], json!({"source": "widget"}));
    expect_error(t.get("/api/chatbot/session/chat_nope", None).await, StatusCode::NOT_FOUND, "not_found").await;

    // Only staff list sessions.
    expect_error(t.get("/api/chatbot/sessions", Some(&lucia)).await, StatusCode::FORBIDDEN, "forbidden").await;
    let list = expect_status(t.get("/api/chatbot/sessions?userType=customer&limit=1", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(list["stats"]["totalSessions"], 2);
    assert_eq!(list["stats"]["activeSessions"], 2);
    assert_eq!(list["stats"]["avgMessagesPerSession"], json!(4.0));
    assert_eq!((list["sessions"].as_array().unwrap().len(), list["pagination"]["totalPages"].as_i64()), (1, Some(2)));
    assert_eq!(list["sessions"][0]["isActive"], true);
    // A visitor's id is their only credential: staff see its start; a signed-in customer's
    // session (of no use to anyone else) shows whole.
    let all = expect_status(t.get("/api/chatbot/sessions", Some(&admin)).await, StatusCode::OK).await;
    let ids: Vec<&str> = all["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&id) && !ids.contains(&visitor), "{ids:?}");
    assert!(ids.contains(&format!("{}…", &visitor[..12]).as_str()), "{ids:?}");
    expect_error(t.get("/api/chatbot/sessions?userType=robot", Some(&admin)).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;

    // Expired sessions are gone.
    sqlx::query("UPDATE chat_sessions SET expires_at = '2000-01-01T00:00:00Z' WHERE id = $1")
        .bind(visitor)
        .execute(t.app.db.writer())
        .await
        .unwrap();
    expect_error(t.get(&format!("/api/chatbot/session/{visitor}"), None).await, StatusCode::NOT_FOUND, "not_found").await;
    // The sweep deletes conversations expired longer than the retention (90 days), messages
    // and all; one that expired an hour ago is kept.
    let an_hour_ago = feria_domain::time::to_db(chrono::Utc::now() - chrono::TimeDelta::hours(1));
    sqlx::query("UPDATE chat_sessions SET expires_at = $1 WHERE id = $2")
        .bind(an_hour_ago)
        .bind(id)
        .execute(t.app.db.writer())
        .await
        .unwrap();
    assert_eq!(feria::services::assistant::sessions::purge_expired(&t.app).await.unwrap(), 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM chat_sessions").fetch_all(t.app.db.reader()).await.unwrap();
    assert_eq!(left, [id.to_string()]);
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_messages WHERE session_id = $1")
        .bind(visitor)
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    assert_eq!(messages, 0);
}

#[tokio::test]
async fn questions_are_limited_per_caller_and_in_length() {
    let t = app(&[("CHAT_RATE_LIMIT_MAX_REQUESTS", "2"), ("CHAT_MAX_INPUT_CHARS", "50")]).await;
    for _ in 0..2 {
        expect_status(t.request(Method::POST, "/api/chatbot/query", Some(&query("hola", None)), None).await, StatusCode::OK).await;
    }
    let limited = t.request(Method::POST, "/api/chatbot/query", Some(&query("hola", None)), None).await;
    assert!(limited.headers().contains_key("retry-after"));
    expect_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another caller has their own allowance.
    let lucia = t.register("Lucía", "lucia@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    expect_status(t.request(Method::POST, "/api/chatbot/query", Some(&query("hola", None)), Some(&lucia)).await, StatusCode::OK).await;

    for bad in [
        json!({"message": "x".repeat(51)}),
        json!({"message": "   "}),
        json!({"message": "ho\u{0}la"}),
        json!({"message": "hola", "userType": "robot"}),
        json!({}),
    ] {
        expect_error(
            t.request(Method::POST, "/api/chatbot/query", Some(&bad), Some(&lucia)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
}

/// The events of a server-sent stream: (event, data).
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).unwrap_or("").trim().to_string();
            (field("event:"), serde_json::from_str(&field("data:")).unwrap_or(Value::Null))
        })
        .collect()
}

#[tokio::test]
async fn answers_stream_a_checked_sentence_at_a_time_and_a_correction_replaces_them() {
    let fake = FakeLlm::start().await;
    let url = fake.url.clone();
    let t = app(&[("CHAT_RATE_LIMIT_MAX_REQUESTS", "1000"), ("OPENAI_API_KEY", KEY), ("OPENAI_API_URL", &url)]).await;
    fake.answer(streams(&["¡Hola! ", "¿Qué vas a ", "cocinar hoy?"]));
    let res = t.request(Method::POST, "/api/chatbot/query/stream", Some(&query("hola", None)), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let got = events(&res.text().await.unwrap());
    let deltas: Vec<&str> = got.iter().filter(|(e, _)| e == "delta").map(|(_, d)| d["text"].as_str().unwrap()).collect();
    assert_eq!(deltas, ["¡Hola! ", "¿Qué vas a cocinar hoy?"]);
    let (last, done) = got.last().unwrap();
    assert_eq!(last, "done");
    assert_eq!((done["response"].as_str(), done["mode"].as_str()), (Some("¡Hola! ¿Qué vas a cocinar hoy?"), Some("model")));
    assert!(fake.requests()[0].1["stream"].as_bool().unwrap());

    // A sentence with a price no tool gave is held back; the corrected answer replaces it.
    fake.answer(streams(&["Claro. ", "El vacío sale $9.999. ", "¿Algo más?"]));
    fake.answer(streams(&["Consultá los precios en la tienda."]));
    let res = t.request(Method::POST, "/api/chatbot/query/stream", Some(&query("¿precio del vacío?", None)), None).await;
    let got = events(&res.text().await.unwrap());
    let sent: String = got.iter().filter(|(e, _)| e == "delta").map(|(_, d)| d["text"].as_str().unwrap()).collect();
    assert!(!sent.contains("9.999"), "{got:?}");
    let replaced = got.iter().find(|(e, _)| e == "replace").expect("a replace event");
    assert_eq!(replaced.1["text"], "Consultá los precios en la tienda.");
    assert_eq!(got.last().unwrap().1["grounding"]["status"], "repaired");

    // A stream is never kept for Idempotency-Key (it would be held back until it ended): the
    // header is ignored and each request is answered as it is written.
    for _ in 0..2 {
        fake.answer(streams(&["¡Hola de nuevo!"]));
        let res = t
            .client
            .post(t.url("/api/chatbot/query/stream"))
            .header("idempotency-key", "stream-1")
            .json(&query("hola", None))
            .send()
            .await
            .unwrap();
        assert!(!res.headers().contains_key("idempotent-replayed"));
        assert_eq!(events(&res.text().await.unwrap()).last().unwrap().1["response"], "¡Hola de nuevo!");
    }
    assert_eq!(fake.requests().len(), 5);

    // A refusal before anything is written is an ordinary error.
    expect_error(
        t.request(Method::POST, "/api/chatbot/query/stream", Some(&json!({"message": ""})), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

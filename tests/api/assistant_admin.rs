//! The assistant for the shop's owner, and what the owner controls of it: figures that match
//! SQL, provider fallback with every call's usage and cost, the monthly budget, the store's own
//! model and key, and product embeddings.

use chrono::{Datelike, TimeDelta};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_llm::{FakeLlm, KEY, anthropic_says, calls, embeds, fails, says};
use crate::harness::{TestApp, expect_error, expect_status, wait_for_state};
use crate::sales::{guest_order, products};

async fn app(fake: Option<&FakeLlm>, more: &[(&str, &str)]) -> TestApp {
    let url = fake.map(|f| f.url.clone());
    let more: Vec<(String, String)> = more.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TestApp::with(move |s| {
        s.insert("RATE_LIMIT_MAX_REQUESTS".into(), "1000000".into());
        s.insert("CHAT_RATE_LIMIT_MAX_REQUESTS".into(), "1000".into());
        if let Some(url) = url {
            s.insert("OPENAI_API_KEY".into(), KEY.into());
            s.insert("OPENAI_API_URL".into(), url.clone());
            s.insert("ANTHROPIC_API_URL".into(), url);
        }
        for (k, v) in more {
            s.insert(k, v);
        }
    })
    .await
}

async fn ask(t: &TestApp, body: Value, token: Option<&str>) -> Value {
    expect_status(t.request(Method::POST, "/api/chatbot/query", Some(&body), token).await, StatusCode::OK).await
}

/// Monday 00:00 UTC of this week.
fn this_monday() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    (now.date_naive() - TimeDelta::days(i64::from(now.weekday().num_days_from_monday()))).and_hms_opt(0, 0, 0).unwrap().and_utc()
}

async fn sql_sum(t: &TestApp, from: &str, until: &str) -> i64 {
    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM orders WHERE created_at >= $1 AND created_at < $2")
        .bind(from)
        .bind(until)
        .fetch_one(t.app.db.reader())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_owner_gets_figures_from_the_database_with_the_period_and_customers_do_not() {
    let fake = FakeLlm::start().await;
    let t = app(Some(&fake), &[]).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15800", "21", 100)]).await;
    let mut orders = Vec::new();
    for (email, quantity) in [("ana@example.com", 1), ("beto@example.com", 2), ("carla@example.com", 3)] {
        let order = guest_order(json!([{"productId": ids[0], "quantity": quantity}]), email);
        orders.push(
            expect_status(t.request(Method::POST, "/api/sales", Some(&order), None).await, StatusCode::CREATED).await["order"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Beto bought last week, Carla 70 days ago.
    let monday = this_monday();
    let last_week = feria_domain::time::to_db(monday - TimeDelta::days(3));
    let long_ago = feria_domain::time::to_db(chrono::Utc::now() - TimeDelta::days(70));
    for (id, at) in [(&orders[1], &last_week), (&orders[2], &long_ago)] {
        sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2").bind(at).bind(id).execute(t.app.db.writer()).await.unwrap();
    }
    let (monday_text, last_monday_text) = (feria_domain::time::to_db(monday), feria_domain::time::to_db(monday - TimeDelta::days(7)));
    let now_text = feria_domain::time::to_db(chrono::Utc::now() + TimeDelta::seconds(5));
    let this_week = feria_domain::currency::Currency::ARS.display(sql_sum(&t, &monday_text, &now_text).await);
    let before = feria_domain::currency::Currency::ARS.display(sql_sum(&t, &last_monday_text, &monday_text).await);

    // A customer may not ask in owner mode.
    let shopper = t.register("Lucía", "lucia@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    expect_error(
        t.request(Method::POST, "/api/chatbot/query", Some(&json!({"message": "¿cuánto vendí?", "userType": "owner"})), Some(&shopper))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        t.request(Method::POST, "/api/chatbot/query", Some(&json!({"message": "hola", "userType": "owner"})), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The model asks the tool for both weeks and states what it returned.
    fake.answer(calls("get_business_stats", json!({"from": monday_text, "to": now_text})));
    fake.answer(calls("get_business_stats", json!({"from": last_monday_text, "to": monday_text})));
    fake.answer(says(&format!(
        "Esta semana vendiste {this_week} y la anterior {before} (fechas en UTC, desde el {}).",
        &monday_text[..10]
    )));
    let reply =
        ask(&t, json!({"message": "¿cuánto vendí esta semana comparado con la anterior?", "userType": "owner"}), Some(&admin)).await;
    assert_eq!(reply["grounding"]["status"], "ok", "{reply}");
    assert!(reply["response"].as_str().unwrap().contains(&this_week), "{reply}");
    assert!(reply["sources"].as_array().unwrap().iter().any(|s| s["type"] == "report" && s["id"] == "get_business_stats"));
    let offered = &fake.requests()[0].1["tools"];
    let names: Vec<&str> = offered.as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"lapsed_customers") && names.contains(&"sales_summary"), "{names:?}");
    assert!(!names.contains(&"update_stock") && !names.contains(&"refund_payment"), "no writes decided by a model: {names:?}");

    // Keyless, the same figures come from the same tools, with the periods.
    let keyless = app(None, &[]).await;
    let admin2 = keyless.admin_token().await;
    let ids2 = products(&keyless, &admin2, &[("Vacío", "15800", "21", 100)]).await;
    for (email, days_ago) in [("ana@example.com", 0), ("carla@example.com", 70)] {
        let order = guest_order(json!([{"productId": ids2[0], "quantity": 1}]), email);
        let id =
            expect_status(keyless.request(Method::POST, "/api/sales", Some(&order), None).await, StatusCode::CREATED).await["order"]["id"]
                .as_str()
                .unwrap()
                .to_string();
        let at = feria_domain::time::to_db(chrono::Utc::now() - TimeDelta::days(days_ago));
        sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2").bind(at).bind(&id).execute(keyless.app.db.writer()).await.unwrap();
    }
    let week =
        ask(&keyless, json!({"message": "¿cuánto vendí esta semana comparado con la anterior?", "userType": "owner"}), Some(&admin2)).await;
    let text = week["response"].as_str().unwrap();
    let sold = feria_domain::currency::Currency::ARS.display(sql_sum(&keyless, &monday_text, &now_text).await);
    assert!(text.contains(&format!("del {} a hoy", &monday_text[..10])) && text.contains(&sold), "{text}");
    let lapsed = ask(&keyless, json!({"message": "¿qué clientes no compran hace dos meses?", "userType": "owner"}), Some(&admin2)).await;
    let text = lapsed["response"].as_str().unwrap();
    assert!(text.contains("carla@example.com") && !text.contains("ana@example.com"), "{text}");
    assert!(text.contains("(60 días)"), "{text}");
}

#[tokio::test]
async fn providers_fall_back_in_order_and_every_call_is_priced_in_the_usage_report() {
    let fake = FakeLlm::start().await;
    let t = app(Some(&fake), &[("ANTHROPIC_API_KEY", KEY), ("CHAT_PROVIDER", "openai,anthropic")]).await;
    let admin = t.admin_token().await;
    fake.answer(fails(StatusCode::SERVICE_UNAVAILABLE));
    fake.answer(fails(StatusCode::INTERNAL_SERVER_ERROR));
    fake.answer(anthropic_says("¡Hola! ¿Qué estás buscando en la tienda?"));
    let reply = ask(&t, json!({"message": "hola"}), None).await;
    assert_eq!(reply["model"], "claude-haiku-4-5", "{reply}");
    assert_eq!(reply["mode"], "model");
    let paths: Vec<String> = fake.requests().into_iter().map(|(path, _)| path).collect();
    assert_eq!(paths, ["chat/completions", "chat/completions", "messages"]);

    let usage = expect_status(t.get("/api/chatbot/usage", Some(&admin)).await, StatusCode::OK).await;
    let rows = usage["rows"].as_array().unwrap();
    let openai = rows.iter().find(|r| r["provider"] == "openai").unwrap();
    assert_eq!((openai["calls"].as_i64(), openai["failed"].as_i64()), (Some(2), Some(2)));
    let anthropic = rows.iter().find(|r| r["provider"] == "anthropic").unwrap();
    assert_eq!(
        (anthropic["inputTokens"].as_i64(), anthropic["outputTokens"].as_i64(), anthropic["mode"].as_str()),
        (Some(800), Some(40), Some("customer"))
    );
    // 800 × $1 + 40 × $5 per million tokens.
    assert_eq!(anthropic["costMicros"], 1000);
    assert_eq!(usage["cost"], json!(0.001));

    // Every provider failing: a keyless answer, never an error.
    for _ in 0..4 {
        fake.answer(fails(StatusCode::TOO_MANY_REQUESTS));
    }
    let keyless = ask(&t, json!({"message": "hola"}), None).await;
    assert_eq!((keyless["mode"].as_str(), keyless["keylessReason"].as_str()), (Some("keyless"), Some("providers_failed")));
    expect_error(t.get("/api/chatbot/usage", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn a_spent_budget_turns_the_assistant_keyless_until_the_month_ends() {
    let fake = FakeLlm::start().await;
    let t = app(Some(&fake), &[]).await;
    let admin = t.admin_token().await;
    let budget = expect_status(
        t.request(Method::PUT, "/api/chatbot/budget", Some(&json!({"monthlyBudget": "0.0005"})), Some(&admin)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(budget["budget"]["monthly"], json!(0.0005));
    fake.answer(says("¡Hola! ¿En qué te ayudo?"));
    assert_eq!(ask(&t, json!({"message": "hola"}), None).await["mode"], "model");
    // That answer cost 1,000 × $0.75 + 50 × $4.5 per million: 975 millionths, over the budget.
    let second = ask(&t, json!({"message": "hola de nuevo"}), None).await;
    assert_eq!((second["mode"].as_str(), second["keylessReason"].as_str()), (Some("keyless"), Some("budget_spent")));
    assert_eq!(fake.requests().len(), 1, "no call once the budget is spent");
    let current = expect_status(t.get("/api/chatbot/current-llm", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((current["budget"]["spentThisMonth"].clone(), current["budget"]["exhausted"].clone()), (json!(0.000975), json!(true)));
    // Lifting it brings the model back.
    expect_status(t.request(Method::PUT, "/api/chatbot/budget", Some(&json!({"monthlyBudget": null})), Some(&admin)).await, StatusCode::OK)
        .await;
    fake.answer(says("Acá estoy."));
    assert_eq!(ask(&t, json!({"message": "hola"}), None).await["mode"], "model");
    expect_error(
        t.request(Method::PUT, "/api/chatbot/budget", Some(&json!({"monthlyBudget": "-1"})), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_owner_chooses_the_model_and_a_key_of_the_store_that_is_never_shown() {
    let fake = FakeLlm::start().await;
    let t = app(Some(&fake), &[]).await;
    let admin = t.admin_token().await;
    let current = expect_status(t.get("/api/chatbot/current-llm", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(current["currentLlm"], json!({"provider": "openai", "model": "gpt-5.4-mini", "key": "platform"}));
    let change =
        json!({"provider": "anthropic", "model": "claude-sonnet-4-6", "apiKey": KEY, "config": {"temperature": 0.5, "maxTokens": 500}});
    let changed =
        expect_status(t.request(Method::POST, "/api/chatbot/change-llm", Some(&change), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(changed["previousConfig"]["provider"], "openai");
    assert_eq!(changed["newConfig"]["currentLlm"], json!({"provider": "anthropic", "model": "claude-sonnet-4-6", "key": "store"}));
    assert_eq!(changed["newConfig"]["fallback"][1]["provider"], "openai");
    assert_eq!(changed["newConfig"]["config"], json!({"temperature": 0.5, "maxTokens": 500}));
    assert!(!changed.to_string().contains(KEY), "the key is never shown");
    let sealed: String = sqlx::query_scalar("SELECT sealed_keys FROM assistant_settings").fetch_one(t.app.db.reader()).await.unwrap();
    assert!(!sealed.contains(KEY));

    fake.answer(anthropic_says("Hola, te atiende el modelo de la tienda."));
    let reply = ask(&t, json!({"message": "hola"}), None).await;
    let (path, body) = fake.requests().pop().unwrap();
    assert_eq!((path.as_str(), body["model"].as_str(), body["max_tokens"].as_i64()), ("messages", Some("claude-sonnet-4-6"), Some(500)));
    assert_eq!(reply["model"], "claude-haiku-4-5");

    for (bad, field) in [
        (json!({"provider": "gemini", "model": "x"}), "provider"),
        (json!({"provider": "minimax", "model": "MiniMax-M2.7"}), "apiKey"),
        (json!({"provider": "openai", "model": "gpt 5"}), "model"),
        (json!({"provider": "openai", "model": "gpt-5.4", "config": {"temperature": 3}}), "config.temperature"),
    ] {
        let refused = expect_error(
            t.request(Method::POST, "/api/chatbot/change-llm", Some(&bad), Some(&admin)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(refused["details"][0]["field"], field, "{refused}");
    }
    let shopper = t.register("Lucía", "lucia@example.com", "secreto123").await["token"].as_str().unwrap().to_string();
    expect_error(
        t.request(Method::POST, "/api/chatbot/change-llm", Some(&change), Some(&shopper)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn embeddings_are_made_in_a_job_checked_and_used_for_retrieval() {
    let fake = FakeLlm::start().await;
    let t = app(Some(&fake), &[("JOB_POLL_INTERVAL_MS", "50")]).await;
    let admin = t.admin_token().await;
    let ids = products(&t, &admin, &[("Vacío", "15800", "21", 12), ("Malbec reserva", "9000", "21", 8)]).await;
    let before = expect_status(t.get("/api/chatbot/validate-embeddings", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(before["validation"]["isConsistent"], false);
    fake.answer(embeds(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]));
    let started = expect_status(
        t.request(Method::POST, "/api/chatbot/generate-embeddings", Some(&json!({})), Some(&admin)).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let job = wait_for_state(&t, feria_jobs::JobState::Done).await;
    assert_eq!(started["taskId"], job.id.as_str());
    let after = expect_status(t.get("/api/chatbot/validate-embeddings", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(after["validation"]["products"]["embeddingsCount"], 2, "{after}");
    assert_eq!(after["validation"]["isConsistent"], true);

    // "vino tinto" shares no word with "Malbec reserva": the embedding finds it (the model is
    // not scripted, so the answer is keyless and shows what retrieval found).
    fake.answer(embeds(&[[0.1, 0.9, 0.0]]));
    let reply = ask(&t, json!({"message": "quiero un vino tinto"}), None).await;
    assert_eq!(reply["products"][0]["id"], ids[1].as_str(), "{reply}");
    let embedded = fake.requests().into_iter().rfind(|(path, _)| path == "embeddings").unwrap();
    assert_eq!(embedded.1["input"], json!(["quiero un vino tinto"]));
    expect_error(
        t.request(Method::POST, "/api/chatbot/generate-embeddings", Some(&json!({"entities": ["orders"]})), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn model_calls_of_a_question_cut_short_are_still_counted() {
    use feria::services::assistant::usage::{Call, Entry, Ledger};
    use feria::services::catalog::stores::{DEFAULT_SLUG, find_by_slug};
    let t = app(None, &[]).await;
    let admin = t.admin_token().await;
    let store = find_by_slug(&mut t.app.db.reader().acquire().await.unwrap(), DEFAULT_SLUG).await.unwrap().unwrap();
    let used = feria_providers::llm::Usage { input: 1000, cached_input: 0, output: 100 };
    {
        // A question that billed a call and then ended without storing its turn.
        let mut ledger = Ledger::new(&t.app.db);
        let call = Call {
            store_id: &store.id,
            actor: ("visitor", "203.0.113.9"),
            provider: "openai",
            model: "gpt-5.4-mini",
            mode: "customer",
            usage: used,
            latency: std::time::Duration::from_millis(5),
            failure: None,
        };
        ledger.push(Entry::of(&t.app.config.chat.prices, call));
    }
    for _ in 0..100 {
        let usage = expect_status(t.get("/api/chatbot/usage", Some(&admin)).await, StatusCode::OK).await;
        if let Some(row) = usage["rows"].as_array().unwrap().first() {
            assert_eq!(
                (row["calls"].as_i64(), row["inputTokens"].as_i64(), row["outputTokens"].as_i64()),
                (Some(1), Some(1000), Some(100))
            );
            assert!(row["costMicros"].as_i64().unwrap() > 0, "{usage}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the dropped question's call was never recorded");
}

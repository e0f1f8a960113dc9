//! The language-model clients against a fake server over HTTP, in both wire dialects: the
//! request each writes (the conversation, tools, the token limit), answers with text or tool
//! calls and their token usage, embeddings in input order, and refusals told apart by whether a
//! retry may work.

use std::time::Duration;

use feria_providers::llm::fallback::{Fallback, Provider};
use feria_providers::llm::openai::{OpenAiCompatible, TokenLimit};
use feria_providers::llm::{ChatMessage, ChatModel, ChatRequest, Finish, LlmError, ToolCall, ToolSpec, Usage};
use reqwest::StatusCode;
use serde_json::json;

use crate::fake_llm::{DELAY, FakeLlm, KEY};

fn client(fake: &FakeLlm, limit: TokenLimit) -> OpenAiCompatible {
    OpenAiCompatible::new(&fake.url, KEY, limit, Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn a_conversation_with_tools_is_written_and_read_as_the_protocol_says() {
    let fake = FakeLlm::start().await;
    let parameters = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    let tools = [ToolSpec { name: "search_products", description: "Busca productos", parameters: parameters.as_object().unwrap() }];
    let messages = [
        ChatMessage::User("¿tienen vacío?".into()),
        ChatMessage::Assistant {
            text: None,
            tool_calls: vec![ToolCall { id: "call_1".into(), name: "search_products".into(), arguments: json!({"q": "vacío"}) }],
        },
        ChatMessage::Tool { call_id: "call_1".into(), content: "[{\"id\":\"p1\"}]".into() },
    ];
    let request = ChatRequest {
        model: "gpt-5.4-mini",
        system: Some("Sos el asistente"),
        messages: &messages,
        tools: &tools,
        max_tokens: 300,
        temperature: Some(0.2),
    };
    fake.answer((
        StatusCode::OK,
        vec![],
        json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-5.4-mini-2026-03-17",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": "call_2", "type": "function", "function": {"name": "search_products", "arguments": "{\"q\":\"malbec\"}"}}]}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129, "prompt_tokens_details": {"cached_tokens": 100}}}),
    ));
    let answer = client(&fake, TokenLimit::Completion).complete(&request).await.unwrap();
    assert_eq!((answer.finish, answer.text), (Finish::ToolCalls, None));
    assert_eq!(answer.tool_calls, [ToolCall { id: "call_2".into(), name: "search_products".into(), arguments: json!({"q": "malbec"}) }]);
    assert_eq!((answer.usage, answer.model.as_str()), (Usage { input: 120, cached_input: 100, output: 9 }, "gpt-5.4-mini-2026-03-17"));
    let (path, sent) = fake.requests().remove(0);
    assert_eq!(path, "chat/completions");
    assert_eq!(sent["messages"][0], json!({"role": "system", "content": "Sos el asistente"}));
    assert_eq!(sent["messages"][2]["tool_calls"][0]["function"]["arguments"], "{\"q\":\"vacío\"}");
    assert_eq!(sent["messages"][3], json!({"role": "tool", "tool_call_id": "call_1", "content": "[{\"id\":\"p1\"}]"}));
    assert_eq!(
        (sent["max_completion_tokens"].clone(), sent["tools"][0]["function"]["name"].clone()),
        (json!(300), json!("search_products"))
    );

    // A server that wants `max_tokens` (Ollama) gets it; a plain answer is text.
    fake.answer((
        StatusCode::OK,
        vec![],
        json!({"model": "qwen3:8b", "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Sí, hay vacío."}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 5}}),
    ));
    let plain = ChatRequest { tools: &[], temperature: None, ..request };
    let answer = client(&fake, TokenLimit::Legacy).complete(&plain).await.unwrap();
    assert_eq!((answer.text.as_deref(), answer.finish), (Some("Sí, hay vacío."), Finish::Stop));
    let sent = fake.requests().remove(1).1;
    assert_eq!((sent["max_tokens"].clone(), sent.get("max_completion_tokens"), sent.get("tools")), (json!(300), None, None));

    // MiniMax: reasoning asked apart, a temperature of 0 raised into (0, 1], and reasoning
    // written inline before the answer left out.
    fake.answer((
        StatusCode::OK,
        vec![],
        json!({"model": "MiniMax-M2.7", "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "<think>buscan vacío</think>\n\nSí, hay vacío."}}], "usage": {"prompt_tokens": 20, "completion_tokens": 9}}),
    ));
    let cold = ChatRequest { temperature: Some(0.0), ..plain };
    let answer = client(&fake, TokenLimit::Completion).minimax().complete(&cold).await.unwrap();
    assert_eq!(answer.text.as_deref(), Some("Sí, hay vacío."));
    let sent = fake.requests().remove(2).1;
    assert_eq!((sent["reasoning_split"].clone(), sent["temperature"].as_f64().map(|t| t > 0.0 && t <= 1.0)), (json!(true), Some(true)));
}

#[tokio::test]
async fn refusals_say_whether_a_retry_may_work() {
    let fake = FakeLlm::start().await;
    let messages = [ChatMessage::User("hola".into())];
    let request = ChatRequest { model: "gpt-5.4-mini", system: None, messages: &messages, tools: &[], max_tokens: 10, temperature: None };
    let error = |code: &'static str| json!({"error": {"message": "no", "type": "requests", "code": code}});
    fake.answer((StatusCode::TOO_MANY_REQUESTS, vec![("retry-after", "2")], error("rate_limit_exceeded")));
    fake.answer((StatusCode::TOO_MANY_REQUESTS, vec![], error("insufficient_quota")));
    fake.answer((StatusCode::SERVICE_UNAVAILABLE, vec![("retry-after-ms", "1500")], error("server_error")));
    fake.answer((StatusCode::BAD_REQUEST, vec![], error("context_length_exceeded")));
    fake.answer((StatusCode::OK, vec![], json!({"choices": []})));
    let openai = client(&fake, TokenLimit::Completion);
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        let refused = openai.complete(&request).await.unwrap_err();
        let wait = match &refused {
            LlmError::Refused { retry_after, .. } => *retry_after,
            _ => None,
        };
        outcomes.push((refused.retryable(), wait));
    }
    assert_eq!(
        outcomes,
        [(true, Some(Duration::from_secs(2))), (false, None), (true, Some(Duration::from_millis(1500))), (false, None), (false, None)]
    );
    let wrong_key = OpenAiCompatible::new(&fake.url, "sk-wrong", TokenLimit::Completion, Duration::from_secs(5)).unwrap();
    let refused = wrong_key.complete(&request).await.unwrap_err();
    assert!(matches!(&refused, LlmError::Refused { status: 401, .. }) && !refused.retryable(), "{refused:?}");
    assert!(!refused.to_string().contains("sk-wrong"));
    let nobody = OpenAiCompatible::new("http://127.0.0.1:9", KEY, TokenLimit::Completion, Duration::from_secs(2)).unwrap();
    assert!(matches!(nobody.complete(&request).await, Err(LlmError::Unreachable(_))));
}

#[tokio::test]
async fn embeddings_come_back_in_the_order_of_the_inputs() {
    let fake = FakeLlm::start().await;
    fake.answer((
        StatusCode::OK,
        vec![],
        json!({"object": "list", "model": "text-embedding-3-small", "usage": {"prompt_tokens": 8, "total_tokens": 8},
            "data": [{"object": "embedding", "index": 1, "embedding": [0.5, -0.25]}, {"object": "embedding", "index": 0, "embedding": [1.0, 0.0]}]}),
    ));
    let inputs = ["vacío".to_string(), "malbec".to_string()];
    let (vectors, usage) = client(&fake, TokenLimit::Completion).embed("text-embedding-3-small", &inputs).await.unwrap();
    assert_eq!((vectors, usage.input), (vec![vec![1.0, 0.0], vec![0.5, -0.25]], 8));
    assert_eq!(fake.requests()[0].1["input"], json!(["vacío", "malbec"]));
    fake.answer((StatusCode::OK, vec![], json!({"data": [{"index": 0, "embedding": [1.0]}]})));
    let short = client(&fake, TokenLimit::Completion).embed("text-embedding-3-small", &inputs).await;
    assert!(matches!(short, Err(LlmError::BadAnswer(_))), "{short:?}");
}

#[tokio::test]
async fn the_anthropic_dialect_speaks_the_same_conversation() {
    let fake = FakeLlm::start().await;
    let parameters = json!({"type": "object"});
    let tools = [ToolSpec { name: "cart_add", description: "Agrega al carrito", parameters: parameters.as_object().unwrap() }];
    let messages = [
        ChatMessage::User("agregá el vacío".into()),
        ChatMessage::Assistant {
            text: Some("Busco.".into()),
            tool_calls: vec![
                ToolCall { id: "toolu_1".into(), name: "cart_add".into(), arguments: json!({"product": "p1"}) },
                ToolCall { id: "toolu_2".into(), name: "cart_add".into(), arguments: json!({"product": "p2"}) },
            ],
        },
        ChatMessage::Tool { call_id: "toolu_1".into(), content: "ok".into() },
        ChatMessage::Tool { call_id: "toolu_2".into(), content: "ok".into() },
    ];
    let request = ChatRequest {
        model: "claude-haiku-4-5",
        system: Some("Sos el asistente"),
        messages: &messages,
        tools: &tools,
        max_tokens: 200,
        temperature: Some(1.5),
    };
    fake.answer((
        StatusCode::OK,
        vec![],
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "Listo, "}, {"type": "text", "text": "agregados."}],
            "usage": {"input_tokens": 30, "output_tokens": 6, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 10}}),
    ));
    let anthropic = feria_providers::anthropic::Anthropic::new(&fake.url, KEY, Duration::from_secs(5)).unwrap();
    let answer = anthropic.complete(&request).await.unwrap();
    assert_eq!((answer.text.as_deref(), answer.finish), (Some("Listo, agregados."), Finish::Stop));
    assert_eq!(answer.usage, Usage { input: 140, cached_input: 100, output: 6 });
    let sent = fake.requests().remove(0).1;
    assert_eq!(
        (sent["system"].clone(), sent["temperature"].clone(), sent["max_tokens"].clone()),
        (json!("Sos el asistente"), json!(1.0), json!(200))
    );
    assert_eq!(sent["messages"].as_array().unwrap().len(), 3, "the two tool results are one user turn: {sent}");
    assert_eq!(
        sent["messages"][1]["content"][1],
        json!({"type": "tool_use", "id": "toolu_1", "name": "cart_add", "input": {"product": "p1"}})
    );
    assert_eq!(sent["messages"][2]["content"][1], json!({"type": "tool_result", "tool_use_id": "toolu_2", "content": "ok"}));
    assert_eq!(sent["tools"][0]["input_schema"], json!({"type": "object"}));

    // A tool call, then an overload (retry) and a bad request (no retry).
    fake.answer((
        StatusCode::OK,
        vec![],
        json!({"model": "claude-haiku-4-5", "stop_reason": "tool_use", "content": [{"type": "tool_use", "id": "toolu_3", "name": "cart_add", "input": {"product": "p3"}}],
            "usage": {"input_tokens": 5, "output_tokens": 2}}),
    ));
    let called = anthropic.complete(&request).await.unwrap();
    assert_eq!((called.finish, called.tool_calls[0].arguments.clone()), (Finish::ToolCalls, json!({"product": "p3"})));
    let overloaded = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    fake.answer((StatusCode::from_u16(529).unwrap(), vec![("retry-after", "3")], overloaded));
    let refused = anthropic.complete(&request).await.unwrap_err();
    assert!(
        refused.retryable()
            && matches!(&refused, LlmError::Refused { status: 529, retry_after: Some(w), .. } if *w == Duration::from_secs(3))
    );
    fake.answer((
        StatusCode::BAD_REQUEST,
        vec![],
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens"}}),
    ));
    assert!(!anthropic.complete(&request).await.unwrap_err().retryable());
}

#[tokio::test]
async fn providers_are_retried_while_it_may_work_then_the_next_one_answers() {
    let (first, second) = (FakeLlm::start().await, FakeLlm::start().await);
    let provider = |fake: &FakeLlm, name: &str, model: &str| Provider {
        name: name.into(),
        model: model.into(),
        client: Box::new(client(fake, TokenLimit::Completion)),
    };
    let fallback = Fallback {
        providers: vec![provider(&first, "openai", "gpt-5.4-mini"), provider(&second, "ollama", "qwen3:8b")],
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_millis(50),
    };
    let error = |code: &str| json!({"error": {"message": "no", "type": "server_error", "code": code}});
    let ok = json!({"model": "qwen3:8b", "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hola"}}]});
    // Asked to wait 60 s: the cap keeps it at 50 ms.
    first.answer((StatusCode::TOO_MANY_REQUESTS, vec![("retry-after", "60")], error("rate_limit_exceeded")));
    first.answer((StatusCode::SERVICE_UNAVAILABLE, vec![], error("server_error")));
    first.answer((StatusCode::SERVICE_UNAVAILABLE, vec![], error("server_error")));
    second.answer((StatusCode::OK, vec![], ok.clone()));
    let messages = [ChatMessage::User("hola".into())];
    let request = ChatRequest { model: "", system: None, messages: &messages, tools: &[], max_tokens: 10, temperature: None };
    let started = std::time::Instant::now();
    let answered = fallback.complete(&request).await.ok().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        (answered.provider.name.as_str(), answered.completion.text.as_deref(), answered.refusals.len()),
        ("ollama", Some("Hola"), 3)
    );
    assert_eq!((first.requests().len(), first.requests()[0].1["model"].clone()), (3, json!("gpt-5.4-mini")));
    assert_eq!(second.requests()[0].1["model"], "qwen3:8b");

    // A spent quota is not retried; with every provider refusing, every refusal is told.
    first.answer((StatusCode::TOO_MANY_REQUESTS, vec![], error("insufficient_quota")));
    second.answer((StatusCode::BAD_REQUEST, vec![], error("context_length_exceeded")));
    let refusals = fallback.complete(&request).await.err().unwrap();
    let by: Vec<&str> = refusals.iter().map(|(name, _)| *name).collect();
    assert_eq!(by, ["openai", "ollama"]);
    assert_eq!(first.requests().len(), 4);

    // A provider slower than its timeout is no answer: tried again, then the next one answers.
    let slow = Provider {
        name: "openai".into(),
        model: "gpt-5.4-mini".into(),
        client: Box::new(OpenAiCompatible::new(&first.url, KEY, TokenLimit::Completion, Duration::from_millis(200)).unwrap()),
    };
    let timed = Fallback {
        providers: vec![slow, provider(&second, "ollama", "qwen3:8b")],
        attempts: 2,
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_millis(50),
    };
    for _ in 0..2 {
        first.answer((StatusCode::OK, vec![(DELAY, "1000")], ok.clone()));
    }
    second.answer((StatusCode::OK, vec![], ok.clone()));
    let started = std::time::Instant::now();
    let answered = timed.complete(&request).await.ok().unwrap();
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
    assert_eq!(answered.provider.name, "ollama");
    assert!(
        answered.refusals.iter().all(|(name, e)| *name == "openai" && matches!(e, LlmError::Unreachable(_)) && e.retryable()),
        "{:?}",
        answered.refusals
    );
    assert_eq!(answered.refusals.len(), 2);
}

#[tokio::test]
async fn streamed_answers_arrive_in_pieces_and_add_up_to_the_whole() {
    let fake = FakeLlm::start().await;
    let messages = [ChatMessage::User("¿qué malbec tienen?".into())];
    let request = ChatRequest { model: "gpt-5.4-mini", system: None, messages: &messages, tools: &[], max_tokens: 50, temperature: None };
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        format!(
            "data: {}\n\n",
            json!({"object": "chat.completion.chunk", "model": "gpt-5.4-mini", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let events = [
        chunk(json!({"role": "assistant", "content": ""}), json!(null)),
        chunk(json!({"content": "Tenemos "}), json!(null)),
        chunk(json!({"content": "dos."}), json!(null)),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_9", "type": "function", "function": {"name": "search_products", "arguments": "{\"q\":"}}]}),
            json!(null),
        ),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"malbec\"}"}}]}), json!(null)),
        chunk(json!({}), json!("tool_calls")),
        format!("data: {}\n\n", json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 7}})),
        "data: [DONE]\n\n".to_string(),
    ];
    fake.answer((StatusCode::OK, vec![], json!(events.concat())));
    let (sender, mut pieces) = tokio::sync::mpsc::channel(16);
    let answer = client(&fake, TokenLimit::Completion).stream(&request, &sender).await.unwrap();
    drop(sender);
    let mut received = Vec::new();
    while let Some(piece) = pieces.recv().await {
        received.push(piece);
    }
    assert_eq!(received, ["Tenemos ", "dos."]);
    assert_eq!((answer.text.as_deref(), answer.finish, answer.usage.output), (Some("Tenemos dos."), Finish::ToolCalls, 7));
    assert_eq!(answer.tool_calls, [ToolCall { id: "call_9".into(), name: "search_products".into(), arguments: json!({"q": "malbec"}) }]);
    assert_eq!(
        (fake.requests()[0].1["stream"].clone(), fake.requests()[0].1["stream_options"]["include_usage"].clone()),
        (json!(true), json!(true))
    );
    fake.answer((StatusCode::OK, vec![], json!(chunk(json!({"content": "corta"}), json!(null)))));
    let cut = client(&fake, TokenLimit::Completion).stream(&request, &tokio::sync::mpsc::channel(1).0).await;
    assert!(matches!(cut, Err(LlmError::BadAnswer(_))), "{cut:?}");

    // Anthropic's named events, with a tool's input in pieces.
    let event = |name: &str, data: serde_json::Value| format!("event: {name}\ndata: {data}\n\n");
    let events = [
        event(
            "message_start",
            json!({"type": "message_start", "message": {"model": "claude-haiku-4-5", "usage": {"input_tokens": 20, "output_tokens": 1}}}),
        ),
        event("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
        event("ping", json!({"type": "ping"})),
        event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Busco"}})),
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_7", "name": "search_products", "input": {}}}),
        ),
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"q\": \"mal"}}),
        ),
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "bec\"}"}}),
        ),
        event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 15}})),
        event("message_stop", json!({"type": "message_stop"})),
    ];
    fake.answer((StatusCode::OK, vec![], json!(events.concat())));
    let anthropic = feria_providers::anthropic::Anthropic::new(&fake.url, KEY, Duration::from_secs(5)).unwrap();
    let (sender, mut pieces) = tokio::sync::mpsc::channel(16);
    let answer = anthropic.stream(&request, &sender).await.unwrap();
    assert_eq!(pieces.recv().await.as_deref(), Some("Busco"));
    assert_eq!(
        (answer.finish, answer.usage, answer.text.as_deref()),
        (Finish::ToolCalls, Usage { input: 20, cached_input: 0, output: 15 }, Some("Busco"))
    );
    assert_eq!(answer.tool_calls, [ToolCall { id: "toolu_7".into(), name: "search_products".into(), arguments: json!({"q": "malbec"}) }]);
    let overloaded = event("error", json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}));
    fake.answer((StatusCode::OK, vec![], json!(overloaded)));
    let refused = anthropic.stream(&request, &sender).await.unwrap_err();
    assert!(matches!(refused, LlmError::Refused { status: 529, .. }) && refused.retryable());
}

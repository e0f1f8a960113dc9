//! Answers without a language model: the retrieval's products and policies, and for the owner
//! the figures of the owner tools, written by templates in Spanish and labelled as such.

use chrono::{Datelike, TimeDelta};
use feria_domain::time;
use serde_json::{Value, json};

use super::grounding::fold;
use super::turn::Asked;
use super::{AssistantError, Grounding, KeylessReason, Mode, Source, UserType, Written, cards};
use crate::mcp::tools::{self, Ctx};

/// How every keyless answer starts.
pub const LABEL: &str = "Respuesta automática (sin asistente de IA).";

/// Runs the owner tool `name` as the caller; its JSON answer.
async fn tool(ctx: &Ctx, name: &str, arguments: Value) -> Result<Value, AssistantError> {
    let tool = tools::find(name).expect("the owner tools are in the table");
    Ok(tool.call(ctx, arguments).await?.value)
}

fn money(ctx: &Ctx, value: &Value) -> String {
    let text = value.to_string();
    let minor = feria_domain::money::parse_scaled(&text, ctx.store.currency.exponent()).unwrap_or(0);
    ctx.store.currency.display(minor)
}

fn day(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or(rfc3339).to_string()
}

/// Monday 00:00 UTC of the week before, of this week, the Sunday between, and now.
fn weeks() -> (String, String, String, String) {
    let now = time::now();
    let monday = (now.date_naive() - TimeDelta::days(i64::from(now.weekday().num_days_from_monday())))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let sunday = time::to_db(monday - TimeDelta::days(1));
    (time::to_db(monday - TimeDelta::days(7)), time::to_db(monday), sunday, time::to_db(now + TimeDelta::microseconds(1)))
}

async fn owner_answer(ctx: &Ctx, folded: &str) -> Result<Option<(String, Vec<Source>)>, AssistantError> {
    let report = |id: &str, title: &str| Source { kind: "report".into(), id: id.into(), title: title.into(), relevance_score: 1.0 };
    if folded.contains("vend") || folded.contains("venta") || folded.contains("factur") {
        let (last_monday, monday, sunday, now) = weeks();
        let this = tool(ctx, "get_business_stats", json!({"from": monday, "to": now})).await?;
        let last = tool(ctx, "get_business_stats", json!({"from": last_monday, "to": monday})).await?;
        let line = |s: &Value| {
            format!("{} ventas por {} (ticket promedio {})", s["soldOrders"], money(ctx, &s["revenue"]), money(ctx, &s["averageOrder"]))
        };
        let text = format!(
            "Esta semana (del {} a hoy, UTC): {}.\nSemana anterior (del {} al {}): {}.",
            day(&monday),
            line(&this),
            day(&last_monday),
            day(&sunday),
            line(&last)
        );
        return Ok(Some((text, vec![report("get_business_stats", "Cifras de la tienda")])));
    }
    if folded.contains("cliente") && (folded.contains("no compra") || folded.contains("inactiv") || folded.contains("dejaron")) {
        let months = super::evidence::number_tokens(folded)
            .first()
            .and_then(|(t, _)| t.parse::<i64>().ok())
            .unwrap_or(if folded.contains("tres meses") { 3 } else { 2 });
        let days = months.clamp(1, 120) * 30;
        let lapsed = tool(ctx, "lapsed_customers", json!({"days": days, "limit": 10})).await?;
        let mut text =
            format!("Clientes sin compras desde el {} ({} días): {}.", day(lapsed["since"].as_str().unwrap_or("")), days, lapsed["total"]);
        for c in lapsed["customers"].as_array().into_iter().flatten() {
            text.push_str(&format!(
                "\n- {} ({}): última compra el {}, {} pedidos",
                c["name"].as_str().unwrap_or(""),
                c["email"].as_str().unwrap_or(""),
                day(c["lastOrderAt"].as_str().unwrap_or("")),
                c["orders"]
            ));
        }
        return Ok(Some((text, vec![report("lapsed_customers", "Clientes sin compras recientes")])));
    }
    if folded.contains("stock") {
        let low = tool(ctx, "low_stock_report", json!({})).await?;
        let mut text = format!("Productos con {} unidades o menos: {}.", low["threshold"], low["total"]);
        for p in low["products"].as_array().into_iter().flatten().take(10) {
            text.push_str(&format!("\n- {}: {} en stock", p["name"].as_str().unwrap_or(""), p["stock"]));
        }
        return Ok(Some((text, vec![report("low_stock_report", "Productos con poco stock")])));
    }
    Ok(None)
}

/// The keyless answer to `asked`, written because of `reason`.
pub(super) async fn answer(ctx: &Ctx, asked: &Asked<'_>, reason: KeylessReason) -> Result<Written, AssistantError> {
    let folded = fold(asked.message);
    let grounding = Grounding { status: if reason == KeylessReason::Ungrounded { "refused" } else { "keyless" }, caught: Vec::new() };
    let written = |text: String, cards, sources| Written {
        text: format!("{LABEL}\n{text}"),
        cards,
        sources,
        model: "keyless".into(),
        mode: Mode::Keyless,
        keyless_reason: Some(reason),
        grounding: grounding.clone(),
        tool_calls: Vec::new(),
    };
    if asked.user_type == UserType::Owner {
        match owner_answer(ctx, &folded).await {
            Ok(Some((text, sources))) => return Ok(written(text, Vec::new(), sources)),
            Ok(None) => {}
            // A member whose role does not read these figures gets the catalog's answer.
            Err(AssistantError::Api(refused)) if refused.status == axum::http::StatusCode::FORBIDDEN => {}
            Err(e) => return Err(e),
        }
    }
    let mut ids: Vec<String> = asked.question.product_id.iter().cloned().collect();
    ids.extend(asked.found.products.iter().map(|(id, _)| id.clone()).filter(|id| asked.question.product_id.as_ref() != Some(id)));
    let mut found = cards::read(&ctx.app, &ctx.store, &ids).await?;
    if let Some(ceiling) = asked.found.price_ceiling {
        found.retain(|card| card.final_price <= ceiling);
    }
    found.truncate(5);
    let mut text = String::new();
    let mut sources = Vec::new();
    if !found.is_empty() {
        text.push_str("Encontré estos productos:");
        for card in &found {
            text.push_str(&format!("\n- {}", card.line()));
            let score = asked.found.products.iter().find(|(id, _)| *id == card.id).map(|(_, s)| *s).unwrap_or(1.0);
            sources.push(Source { kind: "product".into(), id: card.id.clone(), title: card.name.clone(), relevance_score: score });
        }
    }
    for policy in &asked.found.policies {
        text.push_str(&format!("\n{}: {}", policy.kind.title(), policy.body));
        sources.push(Source {
            kind: "policy".into(),
            id: policy.kind.as_str().into(),
            title: policy.kind.title().into(),
            relevance_score: 1.0,
        });
    }
    if text.is_empty() {
        text.push_str("No encontré productos ni información de la tienda sobre eso. Puedo ayudarte con productos, precios, stock, envíos, pagos y pedidos de esta tienda.");
    }
    Ok(written(text, found, sources))
}

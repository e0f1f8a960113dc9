//! Every call to a language model, what it cost at the configured prices, and the store's
//! spend: the usage report and the monthly budget are read from `llm_usage`.

use std::time::Duration;

use feria_db::{AnyConnection, Db};
use feria_domain::ids::new_id;
use feria_domain::time;
use feria_providers::llm::{LlmError, Usage};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::config::ModelPrice;

/// One call to record.
pub struct Call<'a> {
    pub store_id: &'a str,
    /// `user`, `key` or `visitor`, and who.
    pub actor: (&'a str, &'a str),
    pub provider: &'a str,
    pub model: &'a str,
    /// `customer`, `owner` or `embeddings`.
    pub mode: &'a str,
    pub usage: Usage,
    pub latency: Duration,
    /// The refusal, when the call gave no answer.
    pub failure: Option<&'a LlmError>,
}

/// The price of `model`: the entry with its name, or the longest one its name starts with
/// (`gpt-5.4-mini-2026-07-01` is priced as `gpt-5.4-mini`).
fn price_of<'a>(prices: &'a [ModelPrice], model: &str) -> Option<&'a ModelPrice> {
    prices.iter().filter(|p| model.starts_with(p.model.as_str())).max_by_key(|p| p.model.len())
}

/// Whether `model` has a price of its own: listed, or a listed model with a date after it
/// (`gpt-5.4-mini-2026-07-01`), not merely a name that starts like one (`gpt-5.4-pro`).
pub fn is_priced(prices: &[ModelPrice], model: &str) -> bool {
    prices.iter().any(|p| match model.strip_prefix(p.model.as_str()) {
        Some("") => true,
        Some(rest) => rest.strip_prefix('-').is_some_and(|date| !date.is_empty() && date.chars().all(|c| c.is_ascii_digit() || c == '-')),
        None => false,
    })
}

/// What `usage` of `model` costs, in millionths of a dollar (rounded half up); 0 when unpriced.
pub fn cost_micros(prices: &[ModelPrice], model: &str, usage: Usage) -> i64 {
    let Some(price) = price_of(prices, model) else { return 0 };
    let cached = i128::from(usage.cached_input.clamp(0, usage.input.max(0)));
    let fresh = i128::from(usage.input.max(0)) - cached;
    let micro_millions = fresh * i128::from(price.input)
        + cached * i128::from(price.cached_input)
        + i128::from(usage.output.max(0)) * i128::from(price.output);
    i64::try_from((micro_millions + 500_000) / 1_000_000).unwrap_or(i64::MAX)
}

fn outcome(failure: Option<&LlmError>) -> (&'static str, i64) {
    match failure {
        None => ("ok", 200),
        Some(LlmError::Refused { status, .. }) => ("refused", i64::from(*status)),
        Some(LlmError::Unreachable(_)) => ("unreachable", 0),
        Some(LlmError::BadAnswer(_)) => ("bad_answer", 0),
    }
}

/// A call as stored: priced, with its outcome.
#[derive(Clone)]
pub struct Entry {
    id: String,
    store_id: String,
    actor: (String, String),
    provider: String,
    model: String,
    mode: String,
    usage: Usage,
    latency_ms: i64,
    cost_micros: i64,
    outcome: &'static str,
    status: i64,
    at: String,
}

impl Entry {
    /// `call` priced with `prices`.
    pub fn of(prices: &[ModelPrice], call: Call<'_>) -> Entry {
        let (outcome, status) = outcome(call.failure);
        let cost_micros = cost_micros(prices, call.model, call.usage);
        tracing::info!(
            provider = call.provider,
            model = call.model,
            mode = call.mode,
            input = call.usage.input,
            output = call.usage.output,
            cost_micros,
            outcome,
            "language-model call"
        );
        Entry {
            id: new_id(),
            store_id: call.store_id.to_string(),
            actor: (call.actor.0.to_string(), call.actor.1.to_string()),
            provider: call.provider.to_string(),
            model: call.model.to_string(),
            mode: call.mode.to_string(),
            usage: call.usage,
            latency_ms: i64::try_from(call.latency.as_millis()).unwrap_or(i64::MAX),
            cost_micros,
            outcome,
            status,
            at: time::to_db(time::now()),
        }
    }

    /// Stores the row on `conn`.
    pub async fn insert(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO llm_usage (id, store_id, actor_type, actor_id, provider, model, mode, input_tokens, output_tokens, status,
                 created_at, cached_input_tokens, latency_ms, cost_micros, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&self.id)
        .bind(&self.store_id)
        .bind(&self.actor.0)
        .bind(&self.actor.1)
        .bind(&self.provider)
        .bind(&self.model)
        .bind(&self.mode)
        .bind(self.usage.input)
        .bind(self.usage.output)
        .bind(self.status)
        .bind(&self.at)
        .bind(self.usage.cached_input)
        .bind(self.latency_ms)
        .bind(self.cost_micros)
        .bind(self.outcome)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Records `call` at once (a failure to record is logged: the work goes on).
pub async fn record(db: &Db, prices: &[ModelPrice], call: Call<'_>) {
    store(db, vec![Entry::of(prices, call)]).await;
}

/// Stores `entries` in one write (a failure is logged: the work goes on).
pub async fn store(db: &Db, entries: Vec<Entry>) {
    if entries.is_empty() {
        return;
    }
    let written = db
        .write(Box::new(move |conn| {
            Box::pin(async move {
                for entry in &entries {
                    entry.insert(conn).await?;
                }
                Ok::<_, sqlx::Error>(())
            })
        }))
        .await;
    if let Err(e) = written {
        tracing::error!(error = %e, "language-model calls were not recorded in llm_usage");
    }
}

/// The model calls of one question, stored with its turn (one write); whatever the turn did
/// not store — it failed, or the question was dropped half-way (a stream's reader gone) — is
/// stored when the ledger is dropped, so every call a model billed is counted.
pub struct Ledger {
    db: Db,
    entries: Vec<Entry>,
}

impl Ledger {
    pub fn new(db: &Db) -> Ledger {
        Ledger { db: db.clone(), entries: Vec::new() }
    }

    pub fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// The calls not stored yet, for the turn's write.
    pub fn pending(&self) -> Vec<Entry> {
        self.entries.clone()
    }

    /// The turn's write stored them.
    pub fn stored(&mut self) {
        self.entries.clear();
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if self.entries.is_empty() {
            return;
        }
        let (db, entries) = (self.db.clone(), std::mem::take(&mut self.entries));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { store(&db, entries).await });
            }
            Err(_) => tracing::error!(calls = entries.len(), "language-model calls were not recorded: no runtime"),
        }
    }
}

/// The first instant of the current month (UTC), as stored.
pub fn month_start() -> String {
    let now = time::now();
    let first = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&now), chrono::Datelike::month(&now), 1)
        .expect("the first of a month exists");
    time::to_db(first.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

/// What the store's assistant spent this month, in millionths of a dollar.
pub async fn spent_this_month(db: &Db, store_id: &str) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS spent FROM llm_usage WHERE store_id = $1 AND created_at >= $2",
    )
    .bind(store_id)
    .bind(month_start())
    .fetch_one(db.reader())
    .await?;
    row.try_get::<i64, _>("spent")
}

/// Calls of one day, provider, model and mode.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    /// `2026-12-01` (UTC).
    pub day: String,
    pub provider: String,
    pub model: String,
    pub mode: String,
    pub calls: i64,
    /// Calls that gave no answer.
    pub failed: i64,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    /// Millionths of a US dollar, at the configured prices.
    pub cost_micros: i64,
    /// Average milliseconds per call.
    pub avg_latency_ms: i64,
}

/// The store's calls from `from` (inclusive) to `until` (exclusive), by day, provider, model and mode.
pub async fn report(db: &Db, store_id: &str, from: &str, until: &str) -> Result<Vec<UsageRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT SUBSTR(created_at, 1, 10) AS day, provider, model, mode, COUNT(*) AS calls,
                CAST(SUM(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END) AS BIGINT) AS failed,
                CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, CAST(SUM(cached_input_tokens) AS BIGINT) AS cached_input_tokens,
                CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, CAST(SUM(cost_micros) AS BIGINT) AS cost_micros,
                CAST(SUM(latency_ms) AS BIGINT) AS latency_ms
         FROM llm_usage WHERE store_id = $1 AND created_at >= $2 AND created_at < $3
         GROUP BY SUBSTR(created_at, 1, 10), provider, model, mode
         ORDER BY day, provider, model, mode",
    )
    .bind(store_id)
    .bind(from)
    .bind(until)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let calls: i64 = r.try_get("calls")?;
            Ok(UsageRow {
                day: r.try_get("day")?,
                provider: r.try_get("provider")?,
                model: r.try_get("model")?,
                mode: r.try_get("mode")?,
                calls,
                failed: r.try_get("failed")?,
                input_tokens: r.try_get("input_tokens")?,
                cached_input_tokens: r.try_get("cached_input_tokens")?,
                output_tokens: r.try_get("output_tokens")?,
                cost_micros: r.try_get("cost_micros")?,
                avg_latency_ms: r.try_get::<i64, _>("latency_ms")? / calls.max(1),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_counts_cached_input_at_its_own_price() {
        let prices = vec![ModelPrice { model: "gpt-5.4-mini".into(), input: 750_000, cached_input: 75_000, output: 4_500_000 }];
        let usage = Usage { input: 10_000, cached_input: 4_000, output: 500 };
        // 6,000 × 0.75 + 4,000 × 0.075 + 500 × 4.5 = 4,500 + 300 + 2,250 millionths.
        assert_eq!(cost_micros(&prices, "gpt-5.4-mini-2026-07-01", usage), 7_050);
        assert_eq!(cost_micros(&prices, "llama3.2", usage), 0);
        assert!(is_priced(&prices, "gpt-5.4-mini") && is_priced(&prices, "gpt-5.4-mini-2026-07-01"));
        assert!(!is_priced(&prices, "gpt-5.4-mini-pro") && !is_priced(&prices, "o3"));
    }
}

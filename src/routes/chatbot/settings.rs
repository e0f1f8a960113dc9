//! The store's model, budget and usage (owners and managers: `settings:write`).

use axum::Json;
use axum::extract::{Query, State};
use feria_domain::decimal::{DecimalOut, DecimalText};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::config::ProviderKind;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::routes::sales::date_bound;
use crate::services::assistant::settings::{self, Change, StoreSettings};
use crate::services::assistant::usage::{self, UsageRow};

/// Generation settings.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelConfig {
    /// 0 to 2.
    #[schema(value_type = Option<f64>)]
    pub temperature: Option<DecimalText>,
    /// 16 to 32,000.
    pub max_tokens: Option<i64>,
}

/// Seed 001's change of model, and optionally a key of the store's own (sealed, never shown).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeLlm {
    /// `openai`, `anthropic`, `minimax` or `openai-compatible`.
    pub provider: Option<String>,
    pub model: Option<String>,
    pub config: Option<ModelConfig>,
    pub api_key: Option<String>,
}

/// A provider and model.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LlmView {
    pub provider: String,
    pub model: String,
    /// Whose key it uses: `store` or `platform`.
    pub key: String,
}

/// The store's generation settings as used.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigView {
    #[schema(value_type = f64)]
    pub temperature: DecimalOut,
    pub max_tokens: i64,
}

/// What answers the store's questions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentLlm {
    /// The first provider asked; null when the assistant answers keyless.
    pub current_llm: Option<LlmView>,
    /// Every provider in the order they are asked.
    pub fallback: Vec<LlmView>,
    pub config: ConfigView,
    pub is_active: bool,
    pub last_changed: Option<String>,
    pub budget: BudgetView,
    /// Providers a store may choose: the platform's, and any with a key of the store's own.
    pub available_providers: Vec<String>,
}

/// The monthly budget and this month's spend, in US dollars.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetView {
    #[schema(value_type = Option<f64>)]
    pub monthly: Option<DecimalOut>,
    #[schema(value_type = f64)]
    pub spent_this_month: DecimalOut,
    /// The budget is spent: answers are keyless until next month.
    pub exhausted: bool,
}

fn usd(micros: i64) -> DecimalOut {
    DecimalOut::scaled(micros, 6)
}

async fn current(app: &AppState, store_id: &str, s: &StoreSettings) -> ApiResult<CurrentLlm> {
    let chain = app.assistant.chains.of(app, store_id, s).map_err(crate::http::error::ApiError::internal)?;
    let spent = usage::spent_this_month(&app.db, store_id).await?;
    let links: Vec<LlmView> = chain
        .as_ref()
        .map(|c| {
            c.links.iter().map(|l| LlmView { provider: l.kind.as_str().into(), model: l.model.clone(), key: l.key_owner.into() }).collect()
        })
        .unwrap_or_default();
    let (temperature, max_tokens) = match &chain {
        Some(c) => ((c.temperature * 100.0).round() as i64, i64::from(c.max_tokens)),
        None => ((app.config.chat.temperature * 100.0).round() as i64, i64::from(app.config.chat.max_tokens)),
    };
    let mut available: Vec<String> = app.config.chat.providers.iter().map(|p| p.kind.as_str().to_string()).collect();
    for kind in &s.own_keys {
        if !available.iter().any(|a| a == kind.as_str()) {
            available.push(kind.as_str().into());
        }
    }
    Ok(CurrentLlm {
        current_llm: links.first().map(|l| LlmView { provider: l.provider.clone(), model: l.model.clone(), key: l.key.clone() }),
        is_active: !links.is_empty(),
        fallback: links,
        config: ConfigView { temperature: DecimalOut::scaled(temperature, 2), max_tokens },
        last_changed: s.updated_at.clone(),
        budget: BudgetView {
            monthly: s.monthly_budget_micros.map(usd),
            spent_this_month: usd(spent),
            exhausted: s.monthly_budget_micros.is_some_and(|b| spent >= b),
        },
        available_providers: available,
    })
}

/// The store's model, fallback order, settings, budget and spend.
#[utoipa::path(get, path = "/chatbot/current-llm", tag = "chatbot", security(("bearer" = [])),
    responses((status = 200, description = "The model in use", body = CurrentLlm)))]
pub async fn current_llm(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
) -> ApiResult<Json<CurrentLlm>> {
    let s = settings::load(&app, &store.id).await?;
    Ok(Json(current(&app, &store.id, &s).await?))
}

/// Before and after a change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LlmChanged {
    pub message: String,
    pub previous_config: Option<LlmView>,
    pub new_config: CurrentLlm,
}

/// Chooses the store's provider and model (asked first; the platform's others follow), its
/// generation settings, and optionally a key of the store's own for that provider, sealed.
#[utoipa::path(post, path = "/chatbot/change-llm", tag = "chatbot", security(("bearer" = [])), request_body = ChangeLlm,
    responses(
        (status = 200, description = "The settings before and after", body = LlmChanged),
        (status = 422, description = "Unknown provider, bad model, settings or key; a provider without a key", body = ErrorBody),
    ))]
pub async fn change_llm(
    State(app): State<AppState>,
    Staff(caller, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<ChangeLlm>,
) -> ApiResult<Json<LlmChanged>> {
    let mut v = Validator::new();
    let provider_text = v.text("provider", body.provider.as_deref(), 1, 40);
    let provider = ProviderKind::parse(&provider_text);
    if provider.is_none() && !provider_text.is_empty() {
        v.add("provider", "Debe ser openai, anthropic, minimax u openai-compatible");
    }
    let model = v.text("model", body.model.as_deref(), 1, 100);
    if !model.chars().all(|c| c.is_ascii_alphanumeric() || "._:/-".contains(c)) {
        v.add("model", "Solo letras, números y . _ : / -");
    }
    let config = body.config.unwrap_or_default();
    let temperature = config.temperature.map(|t| feria_domain::money::parse_scaled(&t.0, 2).ok().filter(|t| (0..=200).contains(t)));
    if temperature == Some(None) {
        v.add("config.temperature", "Debe ser un número entre 0 y 2 con hasta dos decimales");
    }
    if config.max_tokens.is_some_and(|m| !(16..=32_000).contains(&m)) {
        v.add("config.maxTokens", "Debe ser un entero entre 16 y 32000");
    }
    let api_key = v.optional_text("apiKey", body.api_key.as_deref(), 8, 400);
    v.finish()?;
    let change = Change {
        provider: provider.expect("validated"),
        model,
        temperature: temperature.flatten(),
        max_tokens: config.max_tokens,
        api_key,
    };
    let before = settings::load(&app, &store.id).await?;
    let previous = current(&app, &store.id, &before).await?.current_llm;
    let (_, after) = settings::change(&app, &caller, &store.id, change).await?;
    Ok(Json(LlmChanged {
        message: "Configuración del modelo actualizada".into(),
        previous_config: previous,
        new_config: current(&app, &store.id, &after).await?,
    }))
}

/// A monthly budget in US dollars; null lifts it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetRequest {
    #[schema(value_type = Option<f64>)]
    pub monthly_budget: Option<DecimalText>,
}

/// Sets the store's monthly budget: once this month's calls cost it, answers are keyless
/// until the month ends.
#[utoipa::path(put, path = "/chatbot/budget", tag = "chatbot", security(("bearer" = [])), request_body = BudgetRequest,
    responses(
        (status = 200, description = "The model in use, with the budget", body = CurrentLlm),
        (status = 422, description = "Not an amount of dollars", body = ErrorBody),
    ))]
pub async fn set_budget(
    State(app): State<AppState>,
    Staff(caller, _): Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<BudgetRequest>,
) -> ApiResult<Json<CurrentLlm>> {
    let mut v = Validator::new();
    let micros = body.monthly_budget.map(|b| feria_domain::money::parse_scaled(&b.0, 6).ok().filter(|m| *m >= 0));
    if micros == Some(None) {
        v.add("monthlyBudget", "Debe ser un monto en dólares, 0 o más, con hasta seis decimales");
    }
    v.finish()?;
    let s = settings::set_budget(&app, &caller, &store.id, micros.flatten()).await?;
    Ok(Json(current(&app, &store.id, &s).await?))
}

/// The report's period.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// From this date or time (default: the first of this month).
    pub from: Option<String>,
    /// Through this date, or up to this time (default: now).
    pub to: Option<String>,
}

/// Tokens and cost of the store's assistant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    pub from: String,
    pub to: String,
    /// By day, provider, model and mode (`customer`, `owner`, `embeddings`).
    pub rows: Vec<UsageRow>,
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// US dollars at the configured prices.
    #[schema(value_type = f64)]
    pub cost: DecimalOut,
}

/// What the store's assistant used and cost, by day, provider, model and mode.
#[utoipa::path(get, path = "/chatbot/usage", tag = "chatbot", security(("bearer" = [])), params(UsageQuery),
    responses(
        (status = 200, description = "The report", body = UsageReport),
        (status = 422, description = "A bad date", body = ErrorBody),
    ))]
pub async fn usage_report(
    State(app): State<AppState>,
    _staff: Staff<scope::SettingsWrite>,
    CurrentStore(store): CurrentStore,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<UsageReport>> {
    let mut v = Validator::new();
    let from = date_bound(&mut v, "from", q.from.as_deref(), false).unwrap_or_else(usage::month_start);
    let to = date_bound(&mut v, "to", q.to.as_deref(), true)
        .unwrap_or_else(|| feria_domain::time::to_db(feria_domain::time::now() + chrono::TimeDelta::seconds(1)));
    v.finish()?;
    let rows = usage::report(&app.db, &store.id, &from, &to).await?;
    Ok(Json(UsageReport {
        calls: rows.iter().map(|r| r.calls).sum(),
        input_tokens: rows.iter().map(|r| r.input_tokens).sum(),
        output_tokens: rows.iter().map(|r| r.output_tokens).sum(),
        cost: usd(rows.iter().map(|r| r.cost_micros).sum()),
        from,
        to,
        rows,
    }))
}

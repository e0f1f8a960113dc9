//! A store's choice of language model (seed 001's `change-llm` and `current-llm`), its own
//! provider keys (sealed at rest, never shown), its monthly budget, and the chain of providers
//! a question goes to: the store's choice first, then the platform's in its order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feria_domain::time;
use feria_providers::anthropic::Anthropic;
use feria_providers::llm::fallback::{Fallback, Provider};
use feria_providers::llm::openai::{OpenAiCompatible, TokenLimit};
use feria_providers::llm::{ChatModel, LlmError};
use sqlx::Row;

use crate::app::App;
use crate::config::{ChatConfig, ProviderConfig, ProviderKind};
use crate::services::identity::caller::Caller;
use feria_domain::access::Scope;

use super::AssistantError;

/// What a store set; every field falls back to the platform's configuration.
#[derive(Debug, Clone, Default)]
pub struct StoreSettings {
    pub provider: Option<ProviderKind>,
    pub model: Option<String>,
    /// Hundredths (30 = 0.3).
    pub temperature: Option<i64>,
    pub max_tokens: Option<i64>,
    /// The providers the store gave a key for (the keys stay sealed here).
    pub own_keys: Vec<ProviderKind>,
    sealed_keys: Option<String>,
    /// Millionths of a dollar a month; `None`: no limit.
    pub monthly_budget_micros: Option<i64>,
    pub updated_at: Option<String>,
}

/// Reads the store's settings (defaults when it set none).
pub async fn load(app: &App, store_id: &str) -> Result<StoreSettings, sqlx::Error> {
    let row = sqlx::query(
        "SELECT provider, model, temperature_hundredths, max_tokens, sealed_keys, monthly_budget_micros, updated_at
         FROM assistant_settings WHERE store_id = $1",
    )
    .bind(store_id)
    .fetch_optional(app.db.reader())
    .await?;
    let Some(r) = row else { return Ok(StoreSettings::default()) };
    let sealed_keys: Option<String> = r.try_get("sealed_keys")?;
    let own_keys = open_keys(app, sealed_keys.as_deref()).into_keys().collect();
    Ok(StoreSettings {
        provider: r.try_get::<Option<String>, _>("provider")?.as_deref().and_then(ProviderKind::parse),
        model: r.try_get("model")?,
        temperature: r.try_get("temperature_hundredths")?,
        max_tokens: r.try_get("max_tokens")?,
        own_keys,
        sealed_keys,
        monthly_budget_micros: r.try_get("monthly_budget_micros")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// How long a store's settings are used before they are read again: a change made on another
/// node is seen within this; on this node at once (a change forgets them).
const SETTINGS_CHECK: Duration = Duration::from_secs(1);

/// Store settings as last read, by store.
#[derive(Default)]
pub struct Cached(Mutex<HashMap<String, (Instant, StoreSettings)>>);

impl Cached {
    fn forget(&self, store_id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(store_id);
    }
}

/// The store's settings for a question: as read within the last second, else read now.
pub async fn current(app: &App, store_id: &str) -> Result<StoreSettings, sqlx::Error> {
    let cache = &app.assistant.settings;
    if let Some((read, settings)) = cache.0.lock().unwrap_or_else(|p| p.into_inner()).get(store_id)
        && read.elapsed() < SETTINGS_CHECK
    {
        return Ok(settings.clone());
    }
    let settings = load(app, store_id).await?;
    let mut cached = cache.0.lock().unwrap_or_else(|p| p.into_inner());
    if cached.len() >= 10_000 {
        cached.clear();
    }
    cached.insert(store_id.to_string(), (Instant::now(), settings.clone()));
    Ok(settings)
}

fn open_keys(app: &App, sealed: Option<&str>) -> HashMap<ProviderKind, String> {
    let Some(plain) = sealed.and_then(|s| app.sealer.open(s)) else { return HashMap::new() };
    let keys: HashMap<String, String> = serde_json::from_slice(&plain).unwrap_or_default();
    keys.into_iter().filter_map(|(kind, key)| Some((ProviderKind::parse(&kind)?, key))).collect()
}

/// A change of model, as validated by the handler.
pub struct Change {
    pub provider: ProviderKind,
    pub model: String,
    pub temperature: Option<i64>,
    pub max_tokens: Option<i64>,
    /// A key of the store's own for this provider (sealed); `None` keeps what was there.
    pub api_key: Option<String>,
}

/// Only a store's owners and managers (settings) or the platform admin choose its model.
pub fn check_may_configure(caller: &Caller, store_id: &str) -> Result<(), AssistantError> {
    if caller.may(store_id, Scope::SettingsWrite) { Ok(()) } else { Err(AssistantError::Forbidden) }
}

/// Sets the store's model; answers the settings before and after.
pub async fn change(app: &App, caller: &Caller, store_id: &str, change: Change) -> Result<(StoreSettings, StoreSettings), AssistantError> {
    check_may_configure(caller, store_id)?;
    let before = load(app, store_id).await?;
    let platform_has = app.config.chat.providers.iter().any(|p| p.kind == change.provider);
    if change.provider == ProviderKind::Compatible && !platform_has {
        return Err(AssistantError::Invalid(
            "provider",
            "El servidor compatible con OpenAI lo configura la plataforma (OPENAI_COMPATIBLE_API_URL)".into(),
        ));
    }
    if !platform_has && change.api_key.is_none() && !before.own_keys.contains(&change.provider) {
        return Err(AssistantError::Invalid(
            "apiKey",
            format!("La plataforma no tiene clave de {}: enviá la de la tienda", change.provider.as_str()),
        ));
    }
    // On the platform's key a store runs only models the platform prices (its budget counts).
    let platform_key = change.api_key.is_none() && !before.own_keys.contains(&change.provider);
    if platform_key && change.provider != ProviderKind::Compatible && !super::usage::is_priced(&app.config.chat.prices, &change.model) {
        return Err(AssistantError::Invalid(
            "model",
            "Con la clave de la plataforma solo se usan modelos con precio configurado (CHAT_PRICES)".into(),
        ));
    }
    let mut keys = open_keys(app, before.sealed_keys.as_deref());
    if let Some(key) = change.api_key {
        keys.insert(change.provider, key);
    }
    let named: HashMap<&str, &String> = keys.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let sealed = (!named.is_empty()).then(|| app.sealer.seal(&serde_json::to_vec(&named).expect("a map of strings serialises")));
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO assistant_settings (store_id, provider, model, temperature_hundredths, max_tokens, sealed_keys, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (store_id) DO UPDATE SET provider = $2, model = $3, temperature_hundredths = $4, max_tokens = $5,
             sealed_keys = $6, updated_at = $7",
    )
    .bind(store_id)
    .bind(change.provider.as_str())
    .bind(&change.model)
    .bind(change.temperature)
    .bind(change.max_tokens)
    .bind(sealed)
    .bind(&now)
    .execute(app.db.writer())
    .await?;
    app.assistant.settings.forget(store_id);
    let after = load(app, store_id).await?;
    Ok((before, after))
}

/// Sets (or, with `None`, lifts) the store's monthly budget in millionths of a dollar.
pub async fn set_budget(app: &App, caller: &Caller, store_id: &str, micros: Option<i64>) -> Result<StoreSettings, AssistantError> {
    check_may_configure(caller, store_id)?;
    sqlx::query(
        "INSERT INTO assistant_settings (store_id, monthly_budget_micros, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (store_id) DO UPDATE SET monthly_budget_micros = $2, updated_at = $3",
    )
    .bind(store_id)
    .bind(micros)
    .bind(time::to_db(time::now()))
    .execute(app.db.writer())
    .await?;
    app.assistant.settings.forget(store_id);
    Ok(load(app, store_id).await?)
}

/// One provider as a question will use it.
pub struct Link {
    pub kind: ProviderKind,
    pub model: String,
    /// Whose key: `store` or `platform`.
    pub key_owner: &'static str,
}

/// The providers a question goes to, in order, and how they are asked.
pub struct Chain {
    pub fallback: Fallback,
    pub links: Vec<Link>,
    pub temperature: f32,
    pub max_tokens: u32,
}

impl Chain {
    /// The model asked of `provider` (a provider's name), or "" when not in the chain.
    pub fn model_of(&self, provider: &str) -> &str {
        self.links.iter().find(|l| l.kind.as_str() == provider).map(|l| l.model.as_str()).unwrap_or("")
    }
}

/// A chain and the version of the settings it was built from.
type Built = (Option<String>, Arc<Chain>);

/// Built chains by store, rebuilt when the store's settings change.
#[derive(Default)]
pub struct Chains(Mutex<HashMap<String, Built>>);

impl Chains {
    /// The store's chain; `None` when no provider can be asked (keyless).
    pub fn of(&self, app: &App, store_id: &str, settings: &StoreSettings) -> Result<Option<Arc<Chain>>, LlmError> {
        let mut built = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((version, chain)) = built.get(store_id)
            && *version == settings.updated_at
        {
            return Ok((!chain.links.is_empty()).then(|| chain.clone()));
        }
        let chain = Arc::new(build(app, settings)?);
        if built.len() >= 10_000 {
            built.clear();
        }
        built.insert(store_id.to_string(), (settings.updated_at.clone(), chain.clone()));
        Ok((!chain.links.is_empty()).then_some(chain))
    }
}

fn client(config: &ProviderConfig, key: &str, timeout: Duration) -> Result<Box<dyn ChatModel>, LlmError> {
    Ok(match config.kind {
        ProviderKind::Anthropic => {
            Box::new(Anthropic::new(&config.api_url, key, timeout).map_err(|e| LlmError::Unreachable(e.to_string()))?)
        }
        ProviderKind::OpenAi => Box::new(OpenAiCompatible::new(&config.api_url, key, TokenLimit::Completion, timeout)?),
        ProviderKind::MiniMax => Box::new(OpenAiCompatible::new(&config.api_url, key, TokenLimit::Completion, timeout)?.minimax()),
        ProviderKind::Compatible => Box::new(OpenAiCompatible::new(&config.api_url, key, TokenLimit::Legacy, timeout)?),
    })
}

fn build(app: &App, settings: &StoreSettings) -> Result<Chain, LlmError> {
    let chat: &ChatConfig = &app.config.chat;
    let keys = open_keys(app, settings.sealed_keys.as_deref());
    let mut order: Vec<ProviderConfig> = Vec::new();
    if let Some(kind) = settings.provider {
        let platform = chat.providers.iter().find(|p| p.kind == kind).cloned();
        if platform.is_some() || keys.contains_key(&kind) {
            let mut first = platform.or_else(|| chat.servers.iter().find(|s| s.kind == kind).cloned()).expect("every kind has a server");
            first.model = settings.model.clone().unwrap_or(first.model);
            order.push(first);
        }
    }
    for platform in &chat.providers {
        if !order.iter().any(|o| o.kind == platform.kind) {
            order.push(platform.clone());
        }
    }
    let mut providers = Vec::new();
    let mut links = Vec::new();
    for config in order {
        let (key, key_owner) = match keys.get(&config.kind) {
            Some(own) => (own.as_str(), "store"),
            None => (config.api_key.expose(), "platform"),
        };
        providers.push(Provider {
            name: config.kind.as_str().into(),
            model: config.model.clone(),
            client: client(&config, key, chat.timeout)?,
        });
        links.push(Link { kind: config.kind, model: config.model, key_owner });
    }
    Ok(Chain {
        fallback: Fallback { providers, attempts: 2, backoff: Duration::from_millis(250), max_wait: Duration::from_secs(4) },
        links,
        temperature: settings.temperature.map(|t| t as f32 / 100.0).unwrap_or(chat.temperature),
        max_tokens: settings.max_tokens.and_then(|t| u32::try_from(t).ok()).unwrap_or(chat.max_tokens),
    })
}

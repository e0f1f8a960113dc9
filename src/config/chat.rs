//! The shopping assistant: its language-model providers in the shop's order (seed 000's
//! `CHAT_PROVIDER`, `OPENAI_*`, `ANTHROPIC_*`, `MINIMAX_*`, `CHAT_*`), what each model costs, and
//! its guardrails. No provider configured is a valid shop: the assistant answers keyless.

use std::time::Duration;

use super::{Budget, Reader, Secret};

/// A wire dialect and the quirks of the servers behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    OpenAi,
    Anthropic,
    MiniMax,
    /// Any server speaking OpenAI's Chat Completions (Ollama, vLLM, LM Studio).
    Compatible,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [ProviderKind::OpenAi, ProviderKind::Anthropic, ProviderKind::MiniMax, ProviderKind::Compatible];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::MiniMax => "minimax",
            ProviderKind::Compatible => "openai-compatible",
        }
    }

    pub fn parse(name: &str) -> Option<ProviderKind> {
        ProviderKind::ALL.into_iter().find(|k| k.as_str() == name.trim().to_ascii_lowercase())
    }
}

/// One provider the platform configured.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// Empty for a local server that takes none.
    pub api_key: Secret,
    pub model: String,
    pub api_url: String,
}

/// A model's list price, in millionths of a US dollar per million tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    pub model: String,
    pub input: i64,
    pub cached_input: i64,
    pub output: i64,
}

/// The assistant's settings ([`Config::chat`](super::Config)).
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// The providers with credentials, in `CHAT_PROVIDER`'s order (else the order of
    /// [`ProviderKind::ALL`]); empty: keyless answers only.
    pub providers: Vec<ProviderConfig>,
    /// Every provider's server and default model, keys or not: where a store's own key goes.
    pub servers: Vec<ProviderConfig>,
    /// Most tokens an answer may use (`OPENAI_MAX_TOKENS`, for every provider).
    pub max_tokens: u32,
    /// Sampling temperature (`OPENAI_TEMPERATURE`, for every provider; MiniMax's is kept in (0, 1]).
    pub temperature: f32,
    /// Said to the model before the shop's own rules (`CHAT_SYSTEM_PROMPT`).
    pub system_prompt: Option<String>,
    /// Earlier messages of a session sent with a question (`CHAT_MAX_HISTORY`).
    pub max_history: usize,
    /// How long one call to a provider may take (`CHAT_TIMEOUT`).
    pub timeout: Duration,
    /// The embeddings model of the first OpenAI-dialect provider (`CHAT_EMBEDDING_MODEL`).
    pub embedding_model: String,
    /// Prices per model (`CHAT_PRICES`), the defaults of `llm-providers.md` §6 overridden by name.
    pub prices: Vec<ModelPrice>,
    /// Questions per caller (user or address) per window (`CHAT_RATE_LIMIT_*`, 10 a minute).
    pub rate_limit: Budget,
    /// Tool calls a model may make to answer one question (`CHAT_MAX_TOOL_CALLS`).
    pub max_tool_calls: usize,
    /// Longest question, in characters (`CHAT_MAX_INPUT_CHARS`).
    pub max_input_chars: usize,
    /// How long a session lives after its last message (`CHAT_SESSION_TTL`).
    pub session_ttl: Duration,
    /// How long an expired session's conversation is kept before it is deleted
    /// (`CHAT_SESSION_RETENTION`).
    pub session_retention: Duration,
}

pub(super) const SETTINGS: &[&str] = &[
    "CHAT_PROVIDER",
    "OPENAI_API_KEY",
    "OPENAI_MODEL",
    "OPENAI_MAX_TOKENS",
    "OPENAI_TEMPERATURE",
    "OPENAI_API_URL",
    "MINIMAX_API_KEY",
    "MINIMAX_GROUP_ID",
    "MINIMAX_MODEL",
    "MINIMAX_API_URL",
    "OPENAI_COMPATIBLE_API_URL",
    "OPENAI_COMPATIBLE_API_KEY",
    "OPENAI_COMPATIBLE_MODEL",
    "CHAT_SYSTEM_PROMPT",
    "CHAT_MAX_HISTORY",
    "CHAT_TIMEOUT",
    "CHAT_EMBEDDING_MODEL",
    "CHAT_PRICES",
    "CHAT_RATE_LIMIT_WINDOW_MS",
    "CHAT_RATE_LIMIT_MAX_REQUESTS",
    "CHAT_MAX_TOOL_CALLS",
    "CHAT_MAX_INPUT_CHARS",
    "CHAT_SESSION_TTL",
    "CHAT_SESSION_RETENTION",
];

/// `llm-providers.md` §6: USD per million tokens (input, cached input, output).
const DEFAULT_PRICES: &[(&str, &str, &str, &str)] = &[
    ("gpt-5.5", "5", "0.5", "30"),
    ("gpt-5.4", "2.5", "0.25", "15"),
    ("gpt-5.4-mini", "0.75", "0.075", "4.5"),
    ("gpt-5.4-nano", "0.2", "0.02", "1.25"),
    ("text-embedding-3-small", "0.02", "0.02", "0"),
    ("text-embedding-3-large", "0.13", "0.13", "0"),
    ("claude-haiku-4-5", "1", "0.1", "5"),
    ("claude-sonnet-4-5", "3", "0.3", "15"),
    ("claude-sonnet-4-6", "3", "0.3", "15"),
    ("claude-opus-4-5", "5", "0.5", "25"),
    ("MiniMax-M2.7", "0.3", "0.06", "1.2"),
];

fn url(r: &mut Reader<'_>, name: &str, default: &str) -> String {
    let value = r.text(name).unwrap_or_else(|| default.into());
    if !value.starts_with("http://") && !value.starts_with("https://") {
        r.problems.push(format!("{name}: not an http(s) URL"));
    }
    value.trim_end_matches('/').to_string()
}

/// USD per million tokens as millionths of a dollar (`0.075` → 75,000).
fn micro_usd(text: &str) -> Option<i64> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok().filter(|w| (0..1_000_000).contains(w))? };
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<6}").parse().ok()? };
    Some(whole * 1_000_000 + fraction)
}

fn price(model: &str, input: &str, cached: &str, output: &str) -> Option<ModelPrice> {
    Some(ModelPrice { model: model.to_string(), input: micro_usd(input)?, cached_input: micro_usd(cached)?, output: micro_usd(output)? })
}

/// `model=input/cached/output` entries separated by `;` (USD per million tokens).
fn read_prices(r: &mut Reader<'_>) -> Vec<ModelPrice> {
    let mut prices: Vec<ModelPrice> =
        DEFAULT_PRICES.iter().filter_map(|(model, input, cached, output)| price(model, input, cached, output)).collect();
    for entry in r.text("CHAT_PRICES").unwrap_or_default().split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let parsed = entry.split_once('=').and_then(|(model, figures)| {
            let figures: Vec<&str> = figures.split('/').collect();
            match figures[..] {
                [input, cached, output] => price(model.trim(), input, cached, output),
                [input, output] => price(model.trim(), input, input, output),
                _ => None,
            }
        });
        match parsed {
            Some(p) if !p.model.is_empty() => {
                prices.retain(|known| known.model != p.model);
                prices.push(p);
            }
            _ => r.problems.push(format!("CHAT_PRICES: '{entry}' is not model=input/cached/output in USD per million tokens")),
        }
    }
    prices
}

/// A provider's server and default model, with its key when one is set.
fn server(r: &mut Reader<'_>, kind: ProviderKind) -> ProviderConfig {
    let (key, model, api_url) = match kind {
        ProviderKind::OpenAi => {
            ("OPENAI_API_KEY", r.text("OPENAI_MODEL").unwrap_or("gpt-5.4-mini".into()), url(r, "OPENAI_API_URL", "https://api.openai.com"))
        }
        ProviderKind::Anthropic => (
            "ANTHROPIC_API_KEY",
            r.text("ANTHROPIC_MODEL").unwrap_or("claude-haiku-4-5".into()),
            url(r, "ANTHROPIC_API_URL", "https://api.anthropic.com"),
        ),
        ProviderKind::MiniMax => (
            "MINIMAX_API_KEY",
            r.text("MINIMAX_MODEL").unwrap_or("MiniMax-M2.7".into()),
            url(r, "MINIMAX_API_URL", "https://api.minimax.io"),
        ),
        ProviderKind::Compatible => (
            "OPENAI_COMPATIBLE_API_KEY",
            r.text("OPENAI_COMPATIBLE_MODEL").unwrap_or_default(),
            r.text("OPENAI_COMPATIBLE_API_URL").map(|_| url(r, "OPENAI_COMPATIBLE_API_URL", "")).unwrap_or_default(),
        ),
    };
    ProviderConfig { kind, api_key: Secret::new(r.text(key).unwrap_or_default()), model, api_url }
}

/// Whether the platform can call `server`: a key (a URL and a model for a local server).
fn usable(r: &mut Reader<'_>, server: &ProviderConfig) -> bool {
    if server.kind != ProviderKind::Compatible {
        return !server.api_key.expose().is_empty();
    }
    if server.api_url.is_empty() {
        return false;
    }
    if server.model.is_empty() {
        r.problems.push("OPENAI_COMPATIBLE_MODEL: required with OPENAI_COMPATIBLE_API_URL (the server's model name)".into());
        return false;
    }
    true
}

pub(super) fn read(r: &mut Reader<'_>) -> ChatConfig {
    let order: Vec<ProviderKind> = match r.text("CHAT_PROVIDER") {
        None => ProviderKind::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .filter(|name| !name.trim().is_empty())
            .filter_map(|name| {
                let kind = ProviderKind::parse(name);
                if kind.is_none() {
                    r.problems.push(format!("CHAT_PROVIDER: '{}' is not openai, anthropic, minimax or openai-compatible", name.trim()));
                }
                kind
            })
            .collect(),
    };
    let servers: Vec<ProviderConfig> = ProviderKind::ALL.into_iter().map(|kind| server(r, kind)).collect();
    let mut providers: Vec<ProviderConfig> = Vec::new();
    for kind in order {
        let server = servers.iter().find(|s| s.kind == kind).expect("every kind has a server");
        if providers.iter().any(|known| known.kind == kind) {
            continue;
        }
        if usable(r, server) {
            providers.push(server.clone());
        } else if r.text("CHAT_PROVIDER").is_some() {
            r.problems.push(format!("CHAT_PROVIDER: {} is named but has no key", kind.as_str()));
        }
    }
    let temperature = r.parse("OPENAI_TEMPERATURE", 0.3f32, "a number between 0 and 2");
    if !(0.0..=2.0).contains(&temperature) {
        r.problems.push("OPENAI_TEMPERATURE: must be between 0 and 2".into());
    }
    let max_tokens = r.parse("OPENAI_MAX_TOKENS", 800u32, "a whole number");
    if !(16..=32_000).contains(&max_tokens) {
        r.problems.push("OPENAI_MAX_TOKENS: must be between 16 and 32000".into());
    }
    let window = r.millis("CHAT_RATE_LIMIT_WINDOW_MS", 60_000);
    if window.is_zero() {
        r.problems.push("CHAT_RATE_LIMIT_WINDOW_MS: must be greater than 0".into());
    }
    let rate_limit = Budget { max: r.parse("CHAT_RATE_LIMIT_MAX_REQUESTS", 10u64, "a whole number"), window };
    let max_input_chars = r.parse("CHAT_MAX_INPUT_CHARS", 1000usize, "a whole number");
    if !(10..=20_000).contains(&max_input_chars) {
        r.problems.push("CHAT_MAX_INPUT_CHARS: must be between 10 and 20000".into());
    }
    ChatConfig {
        providers,
        servers,
        max_tokens,
        temperature,
        system_prompt: r.text("CHAT_SYSTEM_PROMPT"),
        max_history: r.parse("CHAT_MAX_HISTORY", 10usize, "a whole number").min(100),
        timeout: r.duration("CHAT_TIMEOUT", Duration::from_secs(30)),
        embedding_model: r.text("CHAT_EMBEDDING_MODEL").unwrap_or_else(|| "text-embedding-3-small".into()),
        prices: read_prices(r),
        rate_limit,
        max_tool_calls: r.parse("CHAT_MAX_TOOL_CALLS", 6usize, "a whole number").clamp(1, 20),
        max_input_chars,
        session_ttl: r.duration("CHAT_SESSION_TTL", Duration::from_secs(24 * 3600)),
        session_retention: r.duration("CHAT_SESSION_RETENTION", Duration::from_secs(90 * 24 * 3600)),
    }
}

pub(super) fn summary(c: &ChatConfig) -> Vec<(&'static str, String)> {
    let providers = if c.providers.is_empty() {
        "(none: the assistant answers keyless)".to_string()
    } else {
        c.providers.iter().map(|p| format!("{} ({})", p.kind.as_str(), p.model)).collect::<Vec<_>>().join(", ")
    };
    vec![
        ("CHAT_PROVIDER", providers),
        ("CHAT_TIMEOUT", format!("{}s", c.timeout.as_secs())),
        ("CHAT_RATE_LIMIT_MAX_REQUESTS", format!("{} per {}s", c.rate_limit.max, c.rate_limit.window.as_secs())),
    ]
}

#[cfg(test)]
mod tests {
    use super::micro_usd;

    #[test]
    fn prices_are_read_as_millionths_of_a_dollar() {
        assert_eq!(micro_usd("0.075"), Some(75_000));
        assert_eq!(micro_usd("30"), Some(30_000_000));
        assert_eq!(micro_usd(".5"), Some(500_000));
        assert_eq!(micro_usd("1.0000001"), None);
        assert_eq!(micro_usd("-1"), None);
        assert_eq!(micro_usd("."), None);
        assert_eq!(micro_usd("abc"), None);
    }
}

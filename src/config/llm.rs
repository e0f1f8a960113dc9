//! Language-model providers. For now Anthropic, which seed 001's `/api/mcp/anthropic` forwards to.

use super::{Reader, Secret};

/// Anthropic's Messages API: `ANTHROPIC_API_KEY` turns it on.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    pub api_key: Secret,
    /// Used when a request names no model (`ANTHROPIC_MODEL`).
    pub model: String,
    /// `https://api.anthropic.com` unless pointed elsewhere (`ANTHROPIC_API_URL`).
    pub api_url: String,
}

pub(super) const SETTINGS: &[&str] = &["ANTHROPIC_API_KEY", "ANTHROPIC_MODEL", "ANTHROPIC_API_URL"];

pub(super) fn read(r: &mut Reader<'_>) -> Option<AnthropicConfig> {
    let api_url = r.text("ANTHROPIC_API_URL").unwrap_or_else(|| "https://api.anthropic.com".into());
    if !api_url.starts_with("http://") && !api_url.starts_with("https://") {
        r.problems.push("ANTHROPIC_API_URL: not an http(s) URL".into());
    }
    Some(AnthropicConfig {
        api_key: Secret::new(r.text("ANTHROPIC_API_KEY")?),
        model: r.text("ANTHROPIC_MODEL").unwrap_or_else(|| "claude-haiku-4-5".into()),
        api_url,
    })
}

pub(super) fn summary(config: &Option<AnthropicConfig>) -> Vec<(&'static str, String)> {
    match config {
        None => vec![("ANTHROPIC_API_KEY", "(not set: /api/mcp/anthropic answers 409)".into())],
        Some(c) => {
            vec![("ANTHROPIC_API_KEY", "(set)".into()), ("ANTHROPIC_MODEL", c.model.clone()), ("ANTHROPIC_API_URL", c.api_url.clone())]
        }
    }
}

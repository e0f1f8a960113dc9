//! Where settings come from: `feria.toml` (or `FERIA_CONFIG`), `.env`, the process environment.

use std::collections::BTreeMap;
use std::path::Path;

use super::{agents, chat, limits, llm, payments};

/// Raw settings by name (upper case), as read from the sources.
pub type Settings = BTreeMap<String, String>;

/// Every name feria reads; anything else in `feria.toml` is reported as unknown.
pub const KNOWN_SETTINGS: &[&str] = &[
    "FERIA_ENV",
    "FERIA_API_KEY",
    "NODE_ENV",
    "HOST",
    "PORT",
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "JWT_SECRET",
    "JWT_EXPIRES_IN",
    "JWT_REFRESH_EXPIRES_IN",
    "ENCRYPTION_KEY",
    "CORS_ORIGIN",
    "RATE_LIMIT_WINDOW_MS",
    "RATE_LIMIT_MAX_REQUESTS",
    "AUTH_RATE_LIMIT_WINDOW_MS",
    "AUTH_RATE_LIMIT_MAX_REQUESTS",
    "TRUST_PROXY",
    "LOG_LEVEL",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "FRONTEND_URL",
    "EMAIL_SMTP_HOST",
    "EMAIL_SMTP_PORT",
    "EMAIL_SMTP_USER",
    "EMAIL_SMTP_PASS",
    "EMAIL_SMTP_SECURITY",
    "EMAIL_FROM",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "BODY_LIMIT_BYTES",
    "UPLOADS_DIR",
    "AWS_S3_BUCKET",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_ENDPOINT",
    "AWS_S3_PUBLIC_URL",
    "MAX_FILE_SIZE",
    "IMPORTS_DIR",
    "IMPORT_MAX_BYTES",
    "REQUEST_TIMEOUT_MS",
    "PASSWORD_RESET_TTL",
    "ARGON2_MEMORY_KIB",
    "ARGON2_ITERATIONS",
    "ARGON2_PARALLELISM",
    "JOBS_IN_SERVE",
    "JOB_MAX_ATTEMPTS",
    "JOB_POLL_INTERVAL_MS",
    "JOB_BACKOFF_BASE_MS",
    "JOB_BACKOFF_CAP_MS",
    "NOTIFICATION_CHANNELS",
    "EMAIL_TO",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_CHAT_ID",
    "TELEGRAM_API_URL",
    "SENDGRID_API_KEY",
    "SENDGRID_FROM_EMAIL",
    "SENDGRID_FROM_NAME",
    "SENDGRID_API_URL",
    "SENDGRID_WEBHOOK_PUBLIC_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_PHONE_NUMBER",
    "TWILIO_API_URL",
    "NOTIFICATION_PROVIDER_TIMEOUT_MS",
    "FIREBASE_SERVICE_ACCOUNT_KEY",
    "FCM_API_URL",
    "VAPID_PRIVATE_KEY",
    "VAPID_SUBJECT",
    "WEB_PUSH_TTL",
    "LIVE_MAX_CONNECTIONS",
];

/// Whether feria reads the setting `name` (upper case).
pub(super) fn is_known(name: &str) -> bool {
    KNOWN_SETTINGS.contains(&name)
        || payments::SETTINGS.contains(&name)
        || limits::SETTINGS.contains(&name)
        || llm::SETTINGS.contains(&name)
        || chat::SETTINGS.contains(&name)
        || agents::SETTINGS.contains(&name)
}

/// Reads `feria.toml` (or `FERIA_CONFIG`), then `.env`, then the process environment, later
/// sources overriding earlier ones. Problems reading the files are returned as messages.
pub fn read_settings(dir: &Path) -> (Settings, Vec<String>) {
    let mut settings = Settings::new();
    let mut problems = Vec::new();
    let toml_path = std::env::var("FERIA_CONFIG").map(Into::into).unwrap_or_else(|_| dir.join("feria.toml"));
    if toml_path.exists() {
        match std::fs::read_to_string(&toml_path).map_err(|e| e.to_string()).and_then(|text| parse_toml(&text)) {
            Ok(values) => settings.extend(values),
            Err(e) => problems.push(format!("{}: {e}", toml_path.display())),
        }
    }
    let env_path = dir.join(".env");
    if env_path.exists() {
        match dotenvy::from_path_iter(&env_path) {
            Ok(iter) => {
                for item in iter {
                    match item {
                        Ok((k, v)) => {
                            settings.insert(k.to_ascii_uppercase(), v);
                        }
                        Err(e) => problems.push(format!("{}: {e}", env_path.display())),
                    }
                }
            }
            Err(e) => problems.push(format!("{}: {e}", env_path.display())),
        }
    }
    for name in KNOWN_SETTINGS
        .iter()
        .chain(payments::SETTINGS)
        .chain(limits::SETTINGS)
        .chain(llm::SETTINGS)
        .chain(chat::SETTINGS)
        .chain(agents::SETTINGS)
    {
        if let Ok(value) = std::env::var(name) {
            settings.insert(name.to_string(), value);
        }
    }
    (settings, problems)
}

fn parse_toml(text: &str) -> Result<Settings, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut settings = Settings::new();
    for (key, value) in table {
        let name = key.to_ascii_uppercase();
        if !is_known(&name) {
            return Err(format!("unknown setting '{key}'"));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => return Err(format!("setting '{key}' must be a string, integer or boolean, not {}", other.type_str())),
        };
        settings.insert(name, text);
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_names_are_case_insensitive_and_checked() {
        let parsed = parse_toml("port = 8080\nlog_level = \"debug\"").unwrap();
        assert_eq!(parsed.get("PORT").map(String::as_str), Some("8080"));
        assert!(parse_toml("colour = \"blue\"").unwrap_err().contains("unknown setting 'colour'"));
    }
}

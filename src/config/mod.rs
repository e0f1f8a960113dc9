//! Configuration: defaults, then `feria.toml`, then `.env`, then the process environment.
//!
//! Every setting has one name (the environment variable; in `feria.toml` the same name, in
//! any case). [`Config::from_settings`] validates everything at once and reports every problem.

use std::fmt;
use std::time::Duration;

use feria_providers::s3::S3Settings;

mod agents;
mod chat;
mod limits;
mod llm;
mod notifications;
mod payments;
mod reader;
mod sources;
pub use agents::AgentsConfig;
pub use chat::{ChatConfig, ModelPrice, ProviderConfig, ProviderKind};
pub use limits::{Budget, LimitsConfig};
pub use llm::AnthropicConfig;
pub use notifications::{EmailConfig, NotificationsConfig, PushConfig, SendGridConfig, TelegramConfig, TwilioConfig};
use notifications::{read_email, read_notifications};
pub use payments::{MercadoPagoConfig, PaymentsConfig, SIGNATURE_TOLERANCE_SECS, StripeConfig};
use reader::Reader;
pub use reader::parse_duration;
use sources::is_known;
pub use sources::{KNOWN_SETTINGS, Settings, read_settings};

/// A value that must never be printed: its `Debug` shows `***` and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Whether feria runs for development or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Password hashing cost (argon2id).
#[derive(Debug, Clone, Copy)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// Job runner settings.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Run jobs inside `serve` (turn off when dedicated `feria worker` processes do it).
    pub run_in_serve: bool,
    pub max_attempts: i64,
    pub poll_interval: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub host: String,
    pub port: u16,
    pub database_url: String,
    pub database_max_connections: u32,
    pub jwt_secret: Secret,
    pub jwt_expires_in: Duration,
    pub jwt_refresh_expires_in: Duration,
    pub encryption_key: Secret,
    pub cors_origins: Vec<String>,
    pub rate_limit_window: Duration,
    pub rate_limit_max_requests: u64,
    pub auth_rate_limit_window: Duration,
    pub auth_rate_limit_max_requests: u64,
    /// How many proxies of the shop's own stand in front of feria (`TRUST_PROXY`): the client's
    /// address is the `X-Forwarded-For` entry that many hops from the right.
    pub trusted_proxies: usize,
    pub log_level: String,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key feria writes, so deployments can share one Redis.
    pub redis_key_prefix: String,
    pub frontend_url: String,
    pub email: Option<EmailConfig>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub body_limit_bytes: usize,
    /// Where uploaded images are kept (served under `/uploads/`) when no bucket is configured.
    pub uploads_dir: std::path::PathBuf,
    /// The S3-compatible bucket for uploaded images, when `AWS_S3_BUCKET` is set.
    pub s3: Option<S3Settings>,
    /// Largest accepted image, in bytes.
    pub max_file_size: usize,
    /// Where uploaded import files wait for their job (shared by every node that runs jobs).
    pub imports_dir: std::path::PathBuf,
    /// Largest import file, in bytes.
    pub import_max_bytes: usize,
    pub request_timeout: Duration,
    pub password_reset_ttl: Duration,
    pub argon2: Argon2Cost,
    pub jobs: JobsConfig,
    pub notifications: NotificationsConfig,
    pub payments: PaymentsConfig,
    /// Anthropic, when `ANTHROPIC_API_KEY` is set.
    pub anthropic: Option<AnthropicConfig>,
    /// The shopping assistant's providers, prices and guardrails.
    pub chat: ChatConfig,
    pub agents: AgentsConfig,
    pub limits: LimitsConfig,
}

/// What validation produced: the configuration plus warnings, or every problem found.
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

impl Config {
    /// Validates `settings` into a configuration, or returns every problem found.
    pub fn from_settings(settings: &Settings) -> Result<Loaded, Vec<String>> {
        let mut r = Reader { settings, problems: Vec::new() };
        let mut warnings = Vec::new();
        let environment = match r.text("FERIA_ENV").or_else(|| r.text("NODE_ENV")).map(|v| v.to_ascii_lowercase()) {
            None => Environment::Development,
            Some(v) if v == "production" || v == "prod" => Environment::Production,
            Some(v) if ["development", "dev", "test"].contains(&v.as_str()) => Environment::Development,
            Some(v) => {
                r.problems.push(format!("FERIA_ENV: '{v}' is not development or production"));
                Environment::Development
            }
        };
        let host = r.text("HOST").unwrap_or_else(|| "127.0.0.1".into());
        let port = r.parse("PORT", 3000u16, "a port number (0-65535)");
        let database_url = r.text("DATABASE_URL").unwrap_or_else(|| "sqlite://./data/feria.db".into());
        if feria_db::backend_of(&database_url).is_none() {
            r.problems.push(format!("DATABASE_URL: '{}' must start with sqlite:// or postgres://", feria_db::redact_url(&database_url)));
        }
        let database_max_connections = r.parse("DATABASE_MAX_CONNECTIONS", 8u32, "a whole number");
        if database_max_connections == 0 {
            r.problems.push("DATABASE_MAX_CONNECTIONS: must be at least 1".into());
        }
        let jwt_secret = r.strong_secret("JWT_SECRET", environment, &mut warnings);
        let encryption_key = r.strong_secret("ENCRYPTION_KEY", environment, &mut warnings);
        let jwt_expires_in = r.duration("JWT_EXPIRES_IN", Duration::from_secs(15 * 60));
        let jwt_refresh_expires_in = r.duration("JWT_REFRESH_EXPIRES_IN", Duration::from_secs(7 * 86_400));
        let cors_origins: Vec<String> = r
            .text("CORS_ORIGIN")
            .unwrap_or_else(|| "*".into())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        for origin in cors_origins.iter().filter(|o| *o != "*") {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                r.problems.push(format!("CORS_ORIGIN: '{origin}' must be * or an http(s) origin"));
            }
        }
        if environment == Environment::Production && cors_origins.iter().any(|o| o == "*") {
            warnings.push("CORS_ORIGIN allows every origin in production".into());
        }
        let rate_limit_window = r.millis("RATE_LIMIT_WINDOW_MS", 900_000);
        let rate_limit_max_requests = r.parse("RATE_LIMIT_MAX_REQUESTS", 5000u64, "a whole number");
        let auth_rate_limit_window = r.millis("AUTH_RATE_LIMIT_WINDOW_MS", 900_000);
        let auth_rate_limit_max_requests = r.parse("AUTH_RATE_LIMIT_MAX_REQUESTS", 5u64, "a whole number");
        for (name, window) in [("RATE_LIMIT_WINDOW_MS", rate_limit_window), ("AUTH_RATE_LIMIT_WINDOW_MS", auth_rate_limit_window)] {
            if window.is_zero() {
                r.problems.push(format!("{name}: must be greater than 0"));
            }
        }
        let trusted_proxies = match r.text("TRUST_PROXY").map(|v| v.to_ascii_lowercase()) {
            None => 0,
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => 1,
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => 0,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n <= 16 => n,
                _ => {
                    r.problems.push(format!("TRUST_PROXY: '{v}' is not true, false or a number of proxies (up to 16)"));
                    0
                }
            },
        };
        let log_level = r.text("LOG_LEVEL").unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            r.problems.push(format!("LOG_LEVEL: '{log_level}' is not a level (error, warn, info, debug, trace) or filter"));
        }
        let redis_url = r.text("REDIS_URL");
        if redis_url.as_ref().is_some_and(|url| !(url.starts_with("redis://") || url.starts_with("rediss://"))) {
            r.problems.push("REDIS_URL: must start with redis:// or rediss://".into());
        }
        let redis_key_prefix = r.text("REDIS_KEY_PREFIX").unwrap_or_else(|| "feria:".into());
        let frontend_url = r.text("FRONTEND_URL").unwrap_or_else(|| "http://localhost:5173".into()).trim_end_matches('/').to_string();
        let email = read_email(&mut r);
        let admin_email = r.text("ADMIN_EMAIL").map(|e| e.to_ascii_lowercase());
        let admin_password = r.text("ADMIN_PASSWORD").map(Secret);
        match (&admin_email, &admin_password) {
            (Some(_), None) | (None, Some(_)) => r.problems.push("ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither".into()),
            (Some(email), Some(password)) => {
                if !crate::http::validate::is_email(email) {
                    r.problems.push(format!("ADMIN_EMAIL: '{email}' is not an email address"));
                }
                if password.0.chars().count() < 6 {
                    r.problems.push("ADMIN_PASSWORD: must be at least 6 characters".into());
                }
            }
            (None, None) => {}
        }
        let body_limit_bytes = r.parse("BODY_LIMIT_BYTES", 1024 * 1024usize, "a whole number of bytes");
        let uploads_dir = r.text("UPLOADS_DIR").unwrap_or_else(|| "./data/uploads".into()).into();
        let s3 = read_s3(&mut r);
        let max_file_size = r.parse("MAX_FILE_SIZE", 5 * 1024 * 1024usize, "a whole number of bytes");
        let imports_dir = r.text("IMPORTS_DIR").unwrap_or_else(|| "./data/imports".into()).into();
        let import_max_bytes = r.parse("IMPORT_MAX_BYTES", 50 * 1024 * 1024usize, "a whole number of bytes");
        let request_timeout = r.millis("REQUEST_TIMEOUT_MS", 30_000);
        let password_reset_ttl = r.duration("PASSWORD_RESET_TTL", Duration::from_secs(3600));
        let argon2 = Argon2Cost {
            memory_kib: r.parse("ARGON2_MEMORY_KIB", 19_456u32, "a whole number of KiB"),
            iterations: r.parse("ARGON2_ITERATIONS", 2u32, "a whole number"),
            parallelism: r.parse("ARGON2_PARALLELISM", 1u32, "a whole number"),
        };
        if argon2::Params::new(argon2.memory_kib, argon2.iterations, argon2.parallelism, None).is_err() {
            r.problems.push("ARGON2_*: memory, iterations or parallelism out of argon2's range".into());
        }
        let jobs = JobsConfig {
            run_in_serve: r.bool("JOBS_IN_SERVE", true),
            max_attempts: r.parse("JOB_MAX_ATTEMPTS", 8i64, "a whole number"),
            poll_interval: r.millis("JOB_POLL_INTERVAL_MS", 1000),
            backoff_base: r.millis("JOB_BACKOFF_BASE_MS", 2000),
            backoff_cap: r.millis("JOB_BACKOFF_CAP_MS", 3_600_000),
        };
        if jobs.max_attempts < 1 {
            r.problems.push("JOB_MAX_ATTEMPTS: must be at least 1".into());
        }
        let notifications = read_notifications(&mut r);
        let payments = payments::read(&mut r, port, &frontend_url, &mut warnings);
        let limits = limits::read(&mut r);
        let anthropic = llm::read(&mut r);
        let chat = chat::read(&mut r);
        let agents = agents::read(&mut r, &encryption_key, environment == Environment::Production);
        for name in settings.keys().filter(|k| !is_known(k) && k.starts_with("FERIA_")) {
            warnings.push(format!("{name} is not a feria setting and is ignored"));
        }
        if !r.problems.is_empty() {
            return Err(r.problems);
        }
        let config = Config {
            environment,
            host,
            port,
            database_url,
            database_max_connections,
            jwt_secret,
            jwt_expires_in,
            jwt_refresh_expires_in,
            encryption_key,
            cors_origins,
            rate_limit_window,
            rate_limit_max_requests,
            auth_rate_limit_window,
            auth_rate_limit_max_requests,
            trusted_proxies,
            log_level,
            redis_url,
            redis_key_prefix,
            frontend_url,
            email,
            admin_email,
            admin_password,
            body_limit_bytes,
            uploads_dir,
            s3,
            max_file_size,
            imports_dir,
            import_max_bytes,
            request_timeout,
            password_reset_ttl,
            argon2,
            jobs,
            notifications,
            payments,
            anthropic,
            chat,
            agents,
            limits,
        };
        Ok(Loaded { config, warnings })
    }

    /// The effective configuration, one `NAME = value` line per setting (defaults included),
    /// secrets shown as `***` and URL passwords masked.
    pub fn summary(&self) -> Vec<String> {
        let secs = |d: Duration| format!("{}ms", d.as_millis());
        let set = |s: bool| if s { "***" } else { "(not set)" }.to_string();
        let mut lines = vec![
            ("FERIA_ENV", format!("{:?}", self.environment).to_lowercase()),
            ("HOST", self.host.clone()),
            ("PORT", self.port.to_string()),
            ("DATABASE_URL", feria_db::redact_url(&self.database_url)),
            ("DATABASE_MAX_CONNECTIONS", self.database_max_connections.to_string()),
            ("JWT_SECRET", set(true)),
            ("JWT_EXPIRES_IN", secs(self.jwt_expires_in)),
            ("JWT_REFRESH_EXPIRES_IN", secs(self.jwt_refresh_expires_in)),
            ("ENCRYPTION_KEY", set(true)),
            ("CORS_ORIGIN", self.cors_origins.join(",")),
            ("RATE_LIMIT_WINDOW_MS", self.rate_limit_window.as_millis().to_string()),
            ("RATE_LIMIT_MAX_REQUESTS", self.rate_limit_max_requests.to_string()),
            ("AUTH_RATE_LIMIT_WINDOW_MS", self.auth_rate_limit_window.as_millis().to_string()),
            ("AUTH_RATE_LIMIT_MAX_REQUESTS", self.auth_rate_limit_max_requests.to_string()),
            ("TRUST_PROXY", self.trusted_proxies.to_string()),
            ("LOG_LEVEL", self.log_level.clone()),
            ("REDIS_URL", self.redis_url.as_deref().map(feria_db::redact_url).unwrap_or_else(|| "(not set)".into())),
            ("REDIS_KEY_PREFIX", self.redis_key_prefix.clone()),
            ("FRONTEND_URL", self.frontend_url.clone()),
        ];
        match &self.email {
            None => lines.push(("EMAIL_SMTP_HOST", "(not set: emails are skipped)".into())),
            Some(e) => {
                lines.push(("EMAIL_SMTP_HOST", e.smtp.host.clone()));
                lines.push(("EMAIL_SMTP_PORT", e.smtp.port.to_string()));
                lines.push(("EMAIL_SMTP_SECURITY", format!("{:?}", e.smtp.security).to_lowercase()));
                lines.push(("EMAIL_SMTP_USER", e.smtp.user.clone().unwrap_or_else(|| "(not set)".into())));
                lines.push(("EMAIL_SMTP_PASS", set(e.smtp.password.is_some())));
                lines.push(("EMAIL_FROM", e.smtp.from.clone()));
            }
        }
        lines.extend([
            ("ADMIN_EMAIL", self.admin_email.clone().unwrap_or_else(|| "(not set)".into())),
            ("ADMIN_PASSWORD", set(self.admin_password.is_some())),
            ("BODY_LIMIT_BYTES", self.body_limit_bytes.to_string()),
            ("UPLOADS_DIR", self.uploads_dir.display().to_string()),
        ]);
        match &self.s3 {
            None => lines.push(("AWS_S3_BUCKET", "(not set: images are kept in UPLOADS_DIR)".into())),
            Some(s3) => lines.extend([
                ("AWS_S3_BUCKET", s3.bucket.clone()),
                ("AWS_REGION", s3.region.clone()),
                ("AWS_ACCESS_KEY_ID", s3.access_key_id.clone()),
                ("AWS_SECRET_ACCESS_KEY", set(true)),
                ("AWS_S3_ENDPOINT", s3.endpoint.clone()),
                ("AWS_S3_PUBLIC_URL", s3.public_url.clone()),
            ]),
        }
        lines.extend([
            ("MAX_FILE_SIZE", self.max_file_size.to_string()),
            ("IMPORTS_DIR", self.imports_dir.display().to_string()),
            ("IMPORT_MAX_BYTES", self.import_max_bytes.to_string()),
            ("REQUEST_TIMEOUT_MS", self.request_timeout.as_millis().to_string()),
            ("PASSWORD_RESET_TTL", secs(self.password_reset_ttl)),
            ("ARGON2_MEMORY_KIB", self.argon2.memory_kib.to_string()),
            ("ARGON2_ITERATIONS", self.argon2.iterations.to_string()),
            ("ARGON2_PARALLELISM", self.argon2.parallelism.to_string()),
            ("JOBS_IN_SERVE", self.jobs.run_in_serve.to_string()),
            ("JOB_MAX_ATTEMPTS", self.jobs.max_attempts.to_string()),
            ("JOB_POLL_INTERVAL_MS", self.jobs.poll_interval.as_millis().to_string()),
            ("JOB_BACKOFF_BASE_MS", self.jobs.backoff_base.as_millis().to_string()),
            ("JOB_BACKOFF_CAP_MS", self.jobs.backoff_cap.as_millis().to_string()),
        ]);
        let n = &self.notifications;
        let channels: Vec<&str> = [("email", n.email), ("telegram", n.telegram)].iter().filter(|(_, on)| *on).map(|(c, _)| *c).collect();
        lines.push(("NOTIFICATION_CHANNELS", channels.join(",")));
        lines.push(("EMAIL_TO", n.email_to.clone().unwrap_or_else(|| "(not set: no new-order emails to the shop)".into())));
        match &n.telegram_bot {
            None => lines.push(("TELEGRAM_BOT_TOKEN", "(not set: no Telegram messages)".into())),
            Some(t) => lines.extend([
                ("TELEGRAM_BOT_TOKEN", set(true)),
                ("TELEGRAM_CHAT_ID", t.chat_id.clone()),
                ("TELEGRAM_API_URL", t.api_url.clone()),
            ]),
        }
        match &n.sendgrid {
            None => lines.push(("SENDGRID_API_KEY", "(not set: email only by SMTP)".into())),
            Some(sg) => lines.extend([
                ("SENDGRID_API_KEY", set(true)),
                ("SENDGRID_FROM_EMAIL", sg.from_email.clone()),
                ("SENDGRID_API_URL", sg.api_url.clone()),
                ("SENDGRID_WEBHOOK_PUBLIC_KEY", set(sg.webhook_key.is_some())),
            ]),
        }
        match &n.twilio {
            None => lines.push(("TWILIO_ACCOUNT_SID", "(not set: no text messages)".into())),
            Some(tw) => lines.extend([
                ("TWILIO_ACCOUNT_SID", tw.account_sid.clone()),
                ("TWILIO_AUTH_TOKEN", set(true)),
                ("TWILIO_PHONE_NUMBER", tw.phone_number.clone()),
                ("TWILIO_API_URL", tw.api_url.clone()),
            ]),
        }
        lines.extend([
            ("FIREBASE_SERVICE_ACCOUNT_KEY", if n.push.firebase_key.is_some() { set(true) } else { "(not set: no app pushes)".into() }),
            ("FCM_API_URL", n.push.fcm_api_url.clone()),
            (
                "VAPID_PRIVATE_KEY",
                if n.push.vapid_private_key.is_some() {
                    set(true)
                } else {
                    "(not set: derived in development, no web push in production)".into()
                },
            ),
            ("VAPID_SUBJECT", n.push.vapid_subject.clone()),
            ("WEB_PUSH_TTL", n.push.web_push_ttl.to_string()),
            ("LIVE_MAX_CONNECTIONS", n.live_max_sockets.to_string()),
            ("NOTIFICATION_PROVIDER_TIMEOUT_MS", n.provider_timeout.as_millis().to_string()),
        ]);
        lines.extend(payments::summary(&self.payments));
        lines.extend(llm::summary(&self.anthropic));
        lines.extend(chat::summary(&self.chat));
        lines.extend(agents::summary(&self.agents));
        lines.extend(limits::summary(&self.limits));
        lines.into_iter().map(|(k, v)| format!("{k} = {v}")).collect()
    }
}

/// The image bucket: `AWS_S3_BUCKET` turns it on and then needs both credentials. The endpoint
/// defaults to AWS's for the region; the public URL to the bucket's path-style URL.
fn read_s3(r: &mut Reader<'_>) -> Option<S3Settings> {
    let bucket = r.text("AWS_S3_BUCKET")?;
    let region = r.text("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let endpoint = r.text("AWS_S3_ENDPOINT").unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
        r.problems.push(format!("AWS_S3_ENDPOINT: '{endpoint}' is not an http(s) URL"));
    }
    let (Some(access_key_id), Some(secret_access_key)) = (r.text("AWS_ACCESS_KEY_ID"), r.text("AWS_SECRET_ACCESS_KEY")) else {
        r.problems.push("AWS_S3_BUCKET is set: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are needed too".into());
        return None;
    };
    let public_url = r.text("AWS_S3_PUBLIC_URL").unwrap_or_else(|| format!("{}/{bucket}", endpoint.trim_end_matches('/')));
    Some(S3Settings { endpoint, region, bucket, access_key_id, secret_access_key, public_url })
}

#[cfg(test)]
mod tests;

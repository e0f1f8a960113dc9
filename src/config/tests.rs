//! Configuration: defaults, validation, secrets hidden.

use super::*;

fn settings(pairs: &[(&str, &str)]) -> Settings {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Every name the reader asks for is listed, so the process environment can set it.
#[test]
fn every_setting_read_is_known() {
    for source in [include_str!("mod.rs"), include_str!("payments.rs")] {
        let (code, _) = source.split_once("#[cfg(test)]").unwrap_or((source, ""));
        for quoted in code.split('"').skip(1).step_by(2) {
            let read = ["r.text(", "r.parse(", "r.millis(", "r.duration(", "r.bool(", "r.strong_secret("]
                .iter()
                .any(|call| code.contains(&format!("{call}\"{quoted}\"")));
            if read {
                assert!(is_known(quoted), "{quoted} is read but not a known setting");
            }
        }
    }
}

#[test]
fn durations() {
    assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
    assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
    assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(parse_duration("0"), None);
    assert_eq!(parse_duration("soon"), None);
}

#[test]
fn summary_hides_secrets_and_shows_defaults() {
    let secret = "s".repeat(40);
    let loaded = Config::from_settings(&settings(&[
        ("JWT_SECRET", &secret),
        ("DATABASE_URL", "postgres://u:pw@h/db"),
        ("EMAIL_SMTP_HOST", "smtp.example.com"),
        ("EMAIL_SMTP_USER", "mailer"),
        ("EMAIL_SMTP_PASS", "smtp-password"),
        ("EMAIL_FROM", "shop@example.com"),
    ]))
    .unwrap_or_else(|p| panic!("{p:?}"));
    let joined = loaded.config.summary().join("\n");
    for leaked in [secret.as_str(), "pw@", "smtp-password"] {
        assert!(!joined.contains(leaked), "{leaked} leaked in {joined}");
    }
    assert!(joined.contains("PORT = 3000"));
    assert!(joined.contains("EMAIL_SMTP_PORT = 587"));
    assert_eq!(format!("{:?}", Secret::new("x")), "***");
}

#[test]
fn s3_needs_credentials_and_hides_its_secret() {
    let problems = Config::from_settings(&settings(&[("AWS_S3_BUCKET", "b")])).err().expect("credentials are required");
    assert!(problems.iter().any(|p| p.contains("AWS_ACCESS_KEY_ID")), "{problems:?}");
    let loaded = Config::from_settings(&settings(&[
        ("AWS_S3_BUCKET", "b"),
        ("AWS_REGION", "sa-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKIA1"),
        ("AWS_SECRET_ACCESS_KEY", "very-secret-value"),
    ]))
    .unwrap_or_else(|p| panic!("{p:?}"));
    let joined = loaded.config.summary().join("\n");
    assert!(joined.contains("AWS_S3_ENDPOINT = https://s3.sa-east-1.amazonaws.com"), "{joined}");
    assert!(joined.contains("AWS_S3_PUBLIC_URL = https://s3.sa-east-1.amazonaws.com/b"), "{joined}");
    assert!(!joined.contains("very-secret-value") && !format!("{:?}", loaded.config).contains("very-secret-value"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let problems = Config::from_settings(&settings(&[
        ("FERIA_ENV", "production"),
        ("JWT_SECRET", "short"),
        ("PORT", "eighty"),
        ("DATABASE_URL", "mysql://x"),
        ("EMAIL_SMTP_HOST", "smtp.example.com"),
    ]))
    .err()
    .expect("invalid settings must fail");
    let joined = problems.join("\n");
    for expected in [
        "JWT_SECRET: must be at least 32 bytes",
        "ENCRYPTION_KEY: required in production",
        "PORT: 'eighty'",
        "DATABASE_URL",
        "EMAIL_FROM: required",
    ] {
        assert!(joined.contains(expected), "missing '{expected}' in:\n{joined}");
    }
}

#[test]
fn development_generates_secrets_with_a_warning() {
    let loaded = Config::from_settings(&Settings::new()).unwrap_or_else(|p| panic!("{p:?}"));
    assert_eq!(loaded.config.jwt_secret.expose().len(), 64);
    assert_ne!(loaded.config.jwt_secret, loaded.config.encryption_key);
    assert!(loaded.warnings.iter().any(|w| w.starts_with("JWT_SECRET is not set")));
}

#[test]
fn payment_providers_sandbox_secrets_and_defaults() {
    let loaded = Config::from_settings(&settings(&[
        ("MERCADOPAGO_ACCESS_TOKEN", "APP_USR-live-token"),
        ("MERCADOPAGO_TEST_ACCESS_TOKEN", "TEST-sandbox-token"),
        ("MERCADOPAGO_SANDBOX", "true"),
        ("STRIPE_SECRET_KEY", "sk_test_secret_key"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_secret"),
        ("FRONTEND_URL", "https://shop.example"),
    ]))
    .unwrap_or_else(|p| panic!("{p:?}"));
    let payments = &loaded.config.payments;
    let mp = payments.mercadopago.as_ref().expect("configured");
    assert_eq!(mp.access_token.expose(), "TEST-sandbox-token", "the sandbox uses the test credentials");
    assert_eq!((mp.api_url.as_str(), mp.success_url.as_str()), ("https://api.mercadopago.com", "https://shop.example/payment/success"));
    assert!(loaded.warnings.iter().any(|w| w.contains("MERCADOPAGO_WEBHOOK_SECRET")), "{:?}", loaded.warnings);
    assert_eq!(payments.public_url, "http://localhost:3000");
    let joined = loaded.config.summary().join("\n");
    for leaked in ["sandbox-token", "live-token", "sk_test_secret_key", "whsec_secret"] {
        assert!(!joined.contains(leaked) && !format!("{:?}", loaded.config).contains(leaked), "{leaked} leaked");
    }
    let problems =
        Config::from_settings(&settings(&[("MERCADOPAGO_ACCESS_TOKEN", "APP_USR-x"), ("MERCADOPAGO_SANDBOX", "true")])).err().unwrap();
    assert!(problems.iter().any(|p| p.contains("MERCADOPAGO_TEST_ACCESS_TOKEN")), "{problems:?}");
}

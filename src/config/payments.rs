//! Payment provider settings: Mercado Pago, Stripe, and where providers reach feria.

use std::time::Duration;

use super::{Reader, Secret};

/// Mercado Pago, on when an access token is set (`MERCADOPAGO_ACCESS_TOKEN`, or with
/// `MERCADOPAGO_SANDBOX=true` the test user's `MERCADOPAGO_TEST_ACCESS_TOKEN`).
#[derive(Debug, Clone)]
pub struct MercadoPagoConfig {
    pub access_token: Secret,
    pub sandbox: bool,
    /// Signs webhooks (`MERCADOPAGO_WEBHOOK_SECRET`); without it every signed-format webhook is
    /// refused.
    pub webhook_secret: Option<Secret>,
    /// `https://api.mercadopago.com` unless pointed elsewhere (`MERCADOPAGO_API_URL`).
    pub api_url: String,
    /// Where the buyer lands after paying, failing or leaving a payment pending (frontend).
    pub success_url: String,
    pub failure_url: String,
    pub pending_url: String,
}

/// Stripe, on when `STRIPE_SECRET_KEY` is set.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub secret_key: Secret,
    /// Signs webhooks (`STRIPE_WEBHOOK_SECRET`, `whsec_…`); without it every webhook is refused.
    pub webhook_secret: Option<Secret>,
    /// `https://api.stripe.com` unless pointed elsewhere (`STRIPE_API_URL`).
    pub api_url: String,
    /// The account's publishable key (`STRIPE_PUBLISHABLE_KEY`, `pk_…`), given to agent
    /// platforms so they turn a card into a PaymentMethod for the shop's account.
    pub publishable_key: Option<String>,
}

/// How feria takes payments.
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    pub mercadopago: Option<MercadoPagoConfig>,
    pub stripe: Option<StripeConfig>,
    /// feria's public URL, for the notification and return URLs given to providers (`API_URL`).
    pub public_url: String,
    /// How long a call to a payment provider may take (`PAYMENT_PROVIDER_TIMEOUT_MS`).
    pub provider_timeout: Duration,
}

/// Webhook signatures older (or, for Mercado Pago, newer) than this are refused.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

pub(super) const SETTINGS: &[&str] = &[
    "API_URL",
    "PAYMENT_PROVIDER_TIMEOUT_MS",
    "MERCADOPAGO_ACCESS_TOKEN",
    "MERCADOPAGO_TEST_ACCESS_TOKEN",
    "MERCADOPAGO_SANDBOX",
    "MERCADOPAGO_WEBHOOK_SECRET",
    "MERCADOPAGO_API_URL",
    "MERCADOPAGO_SUCCESS_URL",
    "MERCADOPAGO_FAILURE_URL",
    "MERCADOPAGO_PENDING_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_URL",
    "STRIPE_PUBLISHABLE_KEY",
];

pub(super) fn read(r: &mut Reader<'_>, port: u16, frontend_url: &str, warnings: &mut Vec<String>) -> PaymentsConfig {
    let public_url = r.text("API_URL").unwrap_or_else(|| format!("http://localhost:{port}")).trim_end_matches('/').to_string();
    for (name, url) in [
        ("API_URL", Some(public_url.clone())),
        ("MERCADOPAGO_API_URL", r.text("MERCADOPAGO_API_URL")),
        ("STRIPE_API_URL", r.text("STRIPE_API_URL")),
    ] {
        if url.is_some_and(|u| !u.starts_with("http://") && !u.starts_with("https://")) {
            r.problems.push(format!("{name}: not an http(s) URL"));
        }
    }
    let provider_timeout = r.millis("PAYMENT_PROVIDER_TIMEOUT_MS", 20_000);
    let sandbox = r.bool("MERCADOPAGO_SANDBOX", false);
    let token = if sandbox { r.text("MERCADOPAGO_TEST_ACCESS_TOKEN") } else { r.text("MERCADOPAGO_ACCESS_TOKEN") };
    if sandbox && token.is_none() && r.text("MERCADOPAGO_ACCESS_TOKEN").is_some() {
        r.problems.push("MERCADOPAGO_SANDBOX is true: MERCADOPAGO_TEST_ACCESS_TOKEN is needed".into());
    }
    let mercadopago = token.map(|token| {
        let webhook_secret = r.text("MERCADOPAGO_WEBHOOK_SECRET").map(Secret::new);
        if webhook_secret.is_none() {
            warnings.push("MERCADOPAGO_WEBHOOK_SECRET is not set: Mercado Pago webhooks will be refused".into());
        }
        MercadoPagoConfig {
            access_token: Secret::new(token),
            sandbox,
            webhook_secret,
            api_url: r.text("MERCADOPAGO_API_URL").unwrap_or_else(|| "https://api.mercadopago.com".into()),
            success_url: r.text("MERCADOPAGO_SUCCESS_URL").unwrap_or_else(|| format!("{frontend_url}/payment/success")),
            failure_url: r.text("MERCADOPAGO_FAILURE_URL").unwrap_or_else(|| format!("{frontend_url}/payment/failure")),
            pending_url: r.text("MERCADOPAGO_PENDING_URL").unwrap_or_else(|| format!("{frontend_url}/payment/pending")),
        }
    });
    let stripe = r.text("STRIPE_SECRET_KEY").map(|key| {
        let webhook_secret = r.text("STRIPE_WEBHOOK_SECRET").map(Secret::new);
        if webhook_secret.is_none() {
            warnings.push("STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks will be refused".into());
        }
        StripeConfig {
            secret_key: Secret::new(key),
            webhook_secret,
            api_url: r.text("STRIPE_API_URL").unwrap_or_else(|| "https://api.stripe.com".into()),
            publishable_key: r.text("STRIPE_PUBLISHABLE_KEY"),
        }
    });
    PaymentsConfig { mercadopago, stripe, public_url, provider_timeout }
}

/// The summary lines of these settings, secrets masked.
pub(super) fn summary(p: &PaymentsConfig) -> Vec<(&'static str, String)> {
    let set = |s: bool| if s { "***" } else { "(not set)" }.to_string();
    let mut lines = vec![("API_URL", p.public_url.clone()), ("PAYMENT_PROVIDER_TIMEOUT_MS", p.provider_timeout.as_millis().to_string())];
    match &p.mercadopago {
        None => lines.push(("MERCADOPAGO_ACCESS_TOKEN", "(not set: no Mercado Pago payments)".into())),
        Some(mp) => lines.extend([
            (if mp.sandbox { "MERCADOPAGO_TEST_ACCESS_TOKEN" } else { "MERCADOPAGO_ACCESS_TOKEN" }, set(true)),
            ("MERCADOPAGO_SANDBOX", mp.sandbox.to_string()),
            ("MERCADOPAGO_WEBHOOK_SECRET", set(mp.webhook_secret.is_some())),
            ("MERCADOPAGO_API_URL", mp.api_url.clone()),
            ("MERCADOPAGO_SUCCESS_URL", mp.success_url.clone()),
            ("MERCADOPAGO_FAILURE_URL", mp.failure_url.clone()),
            ("MERCADOPAGO_PENDING_URL", mp.pending_url.clone()),
        ]),
    }
    match &p.stripe {
        None => lines.push(("STRIPE_SECRET_KEY", "(not set: no Stripe payments)".into())),
        Some(s) => lines.extend([
            ("STRIPE_SECRET_KEY", set(true)),
            ("STRIPE_WEBHOOK_SECRET", set(s.webhook_secret.is_some())),
            ("STRIPE_API_URL", s.api_url.clone()),
        ]),
    }
    lines
}

//! What a Mercado Pago webhook's payment means for the shop (seed 001 "mercadopago-details"):
//! real and net amounts, fees, refunds, a stable idempotency key, the link to the sale, and a
//! risk level with a trust score from the rules below. Amounts are read from Mercado Pago's
//! numbers as exact decimal text and summed as integers.
//!
//! Trust starts at 100 and loses: 40 when the payment was rejected or cancelled, 20 while it is
//! pending or in process, 50 when charged back or in mediation; 30 when the webhook's signature
//! was not valid; 25 when the payment is not linked to an order of the store, 30 when its amount
//! differs from what feria asked for; 10 when the payer's email is not the customer's; 10 for a
//! test (not live) payment; 5 for more than 6 installments. 80 and above is LOW risk, 50 and
//! above MEDIUM, below HIGH.

use feria_domain::decimal::DecimalOut;
use feria_domain::money::parse_scaled;
use serde_json::{Value, json};

use super::webhook_log::{self, WebhookLog};
use super::{Payment, PaymentError, Provider, mercadopago};
use crate::app::App;
use crate::services::catalog::stores::Store;
use crate::services::identity::caller::Caller;
use crate::services::orders::{self, Order};

/// A logged Mercado Pago webhook, its payment as Mercado Pago has it now, and the analysis.
pub struct Details {
    pub log: WebhookLog,
    pub payment: Value,
    pub analysis: Value,
    pub traceability: Value,
}

/// Fetches from Mercado Pago the payment the store's webhook `webhook_id` was about and
/// analyses it.
/// Mercado Pago's account is the platform's: a payment not linked to one of the store's orders is
/// fetched only for the platform admin, so a store cannot read another's payments through a
/// notification it logged itself.
pub async fn details(app: &App, caller: &Caller, store: &Store, webhook_id: &str) -> Result<Details, PaymentError> {
    let mut conn = app.db.reader().acquire().await?;
    let log = webhook_log::find(&mut conn, &store.id, webhook_id).await?.ok_or(PaymentError::UnknownWebhook)?;
    let resource = log
        .resource_id
        .clone()
        .filter(|_| log.source == "mercadopago" && log.event_type.as_deref() == Some("payment"))
        .ok_or(PaymentError::NotAPaymentWebhook)?;
    let others = webhook_log::about_same(&mut conn, &store.id, &log).await?;
    let payment = super::find_by_provider_id(&mut conn, &store.id, Provider::MercadoPago, &resource).await?;
    let order = match &payment {
        Some(p) => orders::find(&mut conn, &store.id, &p.order_id).await?,
        None => None,
    };
    drop(conn);
    if payment.is_none() && !(caller.key.is_none() && caller.is_admin()) {
        return Err(PaymentError::Foreign);
    }
    let fetched = mercadopago::fetch(app, &resource).await?;
    let ctx = Context { log: &log, others: &others, payment: payment.as_ref(), order: order.as_ref(), exponent: store.currency.exponent() };
    let (analysis, traceability) = analyse(&fetched.raw, &ctx);
    Ok(Details { log, payment: fetched.raw, analysis, traceability })
}

/// What feria knows about the payment besides Mercado Pago's data.
pub struct Context<'a> {
    pub log: &'a WebhookLog,
    /// The other webhooks about the same payment.
    pub others: &'a [WebhookLog],
    pub payment: Option<&'a Payment>,
    pub order: Option<&'a Order>,
    /// Decimal places of the store's currency.
    pub exponent: u32,
}

/// A JSON number as minor units, exactly (0 when absent or not a number).
fn minor(value: &Value, exponent: u32) -> i64 {
    match value {
        Value::Number(n) => parse_scaled(&n.to_string(), exponent).unwrap_or(0),
        _ => 0,
    }
}

fn decimal(minor: i64, exponent: u32) -> Value {
    serde_json::to_value(DecimalOut::scaled(minor, exponent)).unwrap_or(Value::Null)
}

/// The trust score (0–100) and risk level of the payment.
fn risk(mp: &Value, ctx: &Context<'_>) -> (i64, &'static str) {
    let mut score = 100;
    score -= match mp["status"].as_str().unwrap_or("pending") {
        "approved" | "authorized" | "refunded" => 0,
        "rejected" | "cancelled" => 40,
        "charged_back" | "in_mediation" => 50,
        _ => 20,
    };
    if !ctx.log.signature_valid {
        score -= 30;
    }
    match ctx.payment {
        None => score -= 25,
        Some(p) if p.amount_mismatch => score -= 30,
        Some(_) => {}
    }
    let payer = mp["payer"]["email"].as_str().map(str::to_ascii_lowercase);
    if let (Some(payer), Some(order)) = (payer, ctx.order)
        && payer != order.customer_email.to_ascii_lowercase()
    {
        score -= 10;
    }
    if mp["live_mode"] == json!(false) {
        score -= 10;
    }
    if mp["installments"].as_i64().is_some_and(|n| n > 6) {
        score -= 5;
    }
    let score = score.clamp(0, 100);
    (
        score,
        if score >= 80 {
            "LOW"
        } else if score >= 50 {
            "MEDIUM"
        } else {
            "HIGH"
        },
    )
}

/// The seed's `analysis` and `traceability` for Mercado Pago's payment `mp`.
pub fn analyse(mp: &Value, ctx: &Context<'_>) -> (Value, Value) {
    let e = ctx.exponent;
    let fees: i64 = mp["fee_details"].as_array().map(|f| f.iter().map(|fee| minor(&fee["amount"], e)).sum()).unwrap_or(0);
    let id = mp["id"].to_string().trim_matches('"').to_string();
    let reference = mp["external_reference"].as_str().unwrap_or_default();
    let created = mp["date_created"].as_str().unwrap_or_default();
    let payer = &mp["payer"];
    let name = [payer["first_name"].as_str(), payer["last_name"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let (score, level) = risk(mp, ctx);
    let analysis = json!({
        "realAmount": decimal(minor(&mp["transaction_amount"], e), e),
        "netAmount": decimal(minor(&mp["transaction_details"]["net_received_amount"], e), e),
        "mpFees": decimal(fees, e),
        "refundedAmount": decimal(minor(&mp["transaction_amount_refunded"], e), e),
        "couponDiscount": decimal(minor(&mp["coupon_amount"], e), e),
        "paymentMethod": format!("{} ({})", mp["payment_method_id"].as_str().unwrap_or("?"), mp["payment_type_id"].as_str().unwrap_or("?")),
        "installments": mp["installments"],
        "approvedAt": mp["date_approved"],
        "isApproved": mp["status"] == "approved",
        "idempotencyKey": format!("mp_{id}_{reference}_{}", created.get(..10).unwrap_or(created)),
        "linkToSale": {
            "externalReference": reference,
            "description": mp["description"],
            "statementDescriptor": mp["statement_descriptor"],
            "suggestedOrderId": ctx.order.map(|o| o.id.clone()).unwrap_or_else(|| reference.trim_start_matches("sale-").to_string()),
            "orderNumber": ctx.order.map(|o| o.order_number.clone()),
            "paymentTimestamp": mp["date_created"],
            "approvalTimestamp": mp["date_approved"],
            "items": mp["additional_info"]["items"].as_array().cloned().unwrap_or_default(),
            "buyerInfo": {"email": payer["email"], "identification": payer["identification"]["number"], "name": name},
        },
        "riskLevel": level,
        "trustScore": score,
    });
    let mut ips: Vec<&str> = std::iter::once(ctx.log).chain(ctx.others).filter_map(|w| w.ip.as_deref()).collect();
    ips.sort_unstable();
    ips.dedup();
    let traceability = json!({
        "paymentId": id,
        "merchantOrderId": mp["order"]["id"],
        "webhookFormat": if ctx.log.format == "ipn" { "query_id" } else { "webhook" },
        "webhookIpAddresses": ips,
        "webhookUserAgent": ctx.log.user_agent,
        "webhookSignature": ctx.log.headers["x-signature"],
        "webhookRequestId": ctx.log.headers["x-request-id"],
        "possibleDuplicates": ctx.others.len(),
    });
    (analysis, traceability)
}

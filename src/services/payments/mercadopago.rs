//! Paying orders with Mercado Pago Checkout Pro: a preference per attempt, then the payments
//! Mercado Pago reports (by webhook, or when asked to verify) fetched from its API and applied.
//! A webhook's body is never trusted: only the payment fetched with feria's token counts.

use feria_domain::decimal::DecimalOut;
use feria_domain::ids::new_id;
use feria_domain::money::parse_scaled;
use feria_providers::mercadopago::{self as mp, BackUrls, MercadoPago, MpError, Payer, Phone, PreferenceItem, PreferenceRequest};
use serde_json::json;

use super::apply::{self, Applied, Observation};
use super::{NewPayment, Payment, PaymentError, PaymentStatus, Provider};
use crate::app::App;
use crate::config::MercadoPagoConfig;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;

use super::payable::{payable_order, payment_for, payment_of_preference};
use crate::services::orders::Order;

impl From<MpError> for PaymentError {
    fn from(e: MpError) -> PaymentError {
        PaymentError::Provider(e.to_string())
    }
}

/// The configured account.
pub fn config(app: &App) -> Result<&MercadoPagoConfig, PaymentError> {
    app.config.payments.mercadopago.as_ref().ok_or(PaymentError::NotConfigured("Mercado Pago"))
}

/// The client of the configured account.
fn client(app: &App) -> Result<&MercadoPago, PaymentError> {
    app.payment_clients.mercadopago.as_ref().ok_or(PaymentError::NotConfigured("Mercado Pago"))
}

/// feria's URL for `path` under the store (`/api/stores/{slug}/payments/…`).
fn store_url(app: &App, store: &Store, path: &str) -> String {
    format!("{}/api/stores/{}/payments/{path}", app.config.payments.public_url, store.slug)
}

/// The preference's items: one per line at what the buyer pays for it (after the discount, with
/// tax), and the shipping; so they add up to the order's total exactly. A line whose amount does
/// not divide by its quantity is one item "name × quantity".
fn items(order: &Order, store: &Store) -> Vec<PreferenceItem> {
    let exponent = store.currency.exponent();
    let mut items: Vec<PreferenceItem> = order
        .lines
        .iter()
        .map(|l| {
            let amount = l.net - l.discount + l.tax;
            let (title, quantity, unit) = if amount % l.quantity == 0 {
                (l.product_name.clone(), l.quantity, amount / l.quantity)
            } else {
                (format!("{} × {}", l.product_name, l.quantity), 1, amount)
            };
            PreferenceItem {
                id: l.product_id.clone(),
                title,
                quantity,
                unit_price: DecimalOut::scaled(unit, exponent),
                currency_id: order.currency.clone(),
            }
        })
        .collect();
    if order.shipping > 0 {
        items.push(PreferenceItem {
            id: "shipping".into(),
            title: "Envío".into(),
            quantity: 1,
            unit_price: DecimalOut::scaled(order.shipping, exponent),
            currency_id: order.currency.clone(),
        });
    }
    items
}

/// Creates a Checkout Pro preference for what the store's order `order_id` owes, if `caller` may
/// pay it, and records the pending payment
/// (only once Mercado Pago answered, so a failure leaves nothing behind). The buyer comes back
/// through feria's return URLs, which send them to `return_url` when given.
pub async fn start(
    app: &App,
    caller: Option<&Caller>,
    store: &Store,
    order_id: &str,
    return_url: Option<&str>,
) -> Result<(Payment, mp::Preference), PaymentError> {
    let (order, amount) = payable_order(app, store, caller, order_id).await?;
    let order = &order;
    let client = client(app)?;
    let payment_id = new_id();
    let back = |outcome: &str| match return_url {
        Some(url) => format!(
            "{}?{}",
            store_url(app, store, outcome),
            form_urlencoded::Serializer::new(String::new()).append_pair("returnUrl", url).finish()
        ),
        None => store_url(app, store, outcome),
    };
    let https = app.config.payments.public_url.starts_with("https://");
    let request = PreferenceRequest {
        items: items(order, store),
        payer: Payer {
            name: order.customer_name.clone(),
            email: order.customer_email.clone(),
            phone: order.address.phone.clone().map(|number| Phone { number }),
        },
        back_urls: BackUrls { success: back("success"), failure: back("failure"), pending: back("pending") },
        // Mercado Pago refuses auto_return unless the success URL is public (https).
        auto_return: https.then(|| "approved".to_string()),
        external_reference: order.id.clone(),
        notification_url: Some(format!("{}?source_news=webhooks", store_url(app, store, "webhook"))),
        statement_descriptor: store.name.chars().take(13).collect(),
        metadata: json!({"payment_id": payment_id, "order_id": order.id, "order_number": order.order_number}),
    };
    let (preference, raw) = client.create_preference(&request, &payment_id).await?;
    let mut conn = app.db.writer().acquire().await?;
    let payment = super::insert(
        &mut conn,
        &payment_id,
        NewPayment {
            store_id: &store.id,
            order_id: &order.id,
            provider: Provider::MercadoPago,
            amount,
            currency: &order.currency,
            provider_payment_id: None,
            preference_id: Some(&preference.id),
            external_reference: &order.id,
            provider_data: Some(&raw),
        },
    )
    .await?;
    Ok((payment, preference))
}

/// What Mercado Pago's payment says, in feria's terms (amounts in the store's minor units).
fn observation(p: &mp::Payment, exponent: u32, source: &'static str) -> Observation {
    let minor = |text: &Option<String>| text.as_deref().and_then(|t| parse_scaled(t, exponent).ok());
    Observation {
        status: PaymentStatus::from_mercadopago(&p.status),
        status_detail: p.status_detail.clone(),
        charged: minor(&p.transaction_amount),
        currency: p.currency_id.clone(),
        refunded_total: minor(&p.transaction_amount_refunded),
        raw: p.raw.clone(),
        source,
    }
}

/// The local payment for Mercado Pago's payment `p`: the one that already has its id, else the
/// attempt it started from when that has no Mercado Pago payment yet, else a new attempt of the
/// same order. The attempt is the one named in the metadata (`payment_id`, read whatever
/// Mercado Pago turned the key into), or, for payments that carry no such metadata (QR codes,
/// payment links, renamed keys), the order's newest unclaimed attempt; the order is always the
/// one the payment's `external_reference` names. `None` when that is not an order of this store.
async fn local_payment(app: &App, store: &Store, p: &mp::Payment) -> Result<Option<Payment>, PaymentError> {
    let mut conn = app.db.writer().acquire().await?;
    if let Some(found) = super::find_by_provider_id(&mut conn, &store.id, Provider::MercadoPago, &p.id).await? {
        return Ok(Some(found));
    }
    let Some(reference) = p.external_reference.as_deref().filter(|r| !r.is_empty() && *r != "null") else { return Ok(None) };
    let Some(order) = crate::services::orders::find(&mut conn, &store.id, reference).await? else { return Ok(None) };
    let named = match metadata_payment_id(&p.raw["metadata"]) {
        Some(id) => {
            super::find(&mut conn, &store.id, &id).await?.filter(|o| o.order_id == order.id && o.provider == Provider::MercadoPago.as_str())
        }
        None => None,
    };
    let origin = match named {
        Some(origin) => Some(origin),
        None => super::newest_unclaimed(&mut conn, &order.id, Provider::MercadoPago).await?,
    };
    if let Some(origin) = &origin {
        // Claim the attempt for this Mercado Pago payment, unless another one already has it.
        let claimed = sqlx::query("UPDATE payments SET provider_payment_id = $1 WHERE id = $2 AND provider_payment_id IS NULL")
            .bind(&p.id)
            .bind(&origin.id)
            .execute(&mut *conn)
            .await;
        match claimed {
            Ok(done) if done.rows_affected() == 1 => return Ok(super::find(&mut conn, &store.id, &origin.id).await?),
            Ok(_) => {}
            // Another request claimed it for this same payment at the same moment.
            Err(e) if feria_db::unique_violation(&e) == Some("payments_provider_payment_key") => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(found) = super::find_by_provider_id(&mut conn, &store.id, Provider::MercadoPago, &p.id).await? {
            return Ok(Some(found));
        }
    }
    let new = NewPayment {
        store_id: &store.id,
        order_id: &order.id,
        provider: Provider::MercadoPago,
        amount: origin.as_ref().map_or(order.total, |o| o.amount),
        currency: origin.as_ref().map_or(&order.currency, |o| &o.currency),
        provider_payment_id: Some(&p.id),
        preference_id: origin.as_ref().and_then(|o| o.preference_id.as_deref()),
        external_reference: &order.id,
        provider_data: None,
    };
    match super::insert(&mut conn, &new_id(), new).await {
        Ok(created) => Ok(Some(created)),
        Err(e) if feria_db::unique_violation(&e) == Some("payments_provider_payment_key") => {
            Ok(super::find_by_provider_id(&mut conn, &store.id, Provider::MercadoPago, &p.id).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// The `payment_id` feria put in a preference's metadata, under whatever spelling Mercado Pago
/// gives the key back (`payment_id`, `paymentId`, `PAYMENT_ID`…).
fn metadata_payment_id(metadata: &serde_json::Value) -> Option<String> {
    let normal = |key: &str| key.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    metadata.as_object()?.iter().find(|(key, _)| normal(key) == "paymentid").and_then(|(_, value)| value.as_str().map(str::to_string))
}

/// Fetches Mercado Pago's payment `mp_payment_id` and applies it to its local payment and order,
/// in one transaction. `Foreign` when it is not about an order of this store.
pub async fn sync(app: &App, store: &Store, mp_payment_id: &str, source: &'static str) -> Result<Done<(Payment, Applied)>, PaymentError> {
    let client = client(app)?;
    let fetched = client.payment(mp_payment_id).await?;
    let local = local_payment(app, store, &fetched).await?.ok_or(PaymentError::Foreign)?;
    let mut tx = app.db.begin().await?;
    let applied = apply::apply(&mut tx, app, store, &local, observation(&fetched, store.currency.exponent(), source)).await?;
    let updated = super::find(&mut tx, &store.id, &local.id).await?.ok_or(PaymentError::UnknownPayment)?;
    tx.commit().await?;
    let effects = Effects::wake_jobs(applied.queued);
    Ok(Done::new((updated, applied), effects))
}

/// The newest payment Mercado Pago has for the order (`external_reference`), if any.
async fn latest_for_order(app: &App, order_id: &str) -> Result<Option<String>, PaymentError> {
    let client = client(app)?;
    let query =
        [("external_reference", order_id.to_string()), ("sort", "date_created".into()), ("criteria", "desc".into()), ("limit", "1".into())];
    let found = client.search_payments(&query).await?;
    Ok(found["results"].as_array().and_then(|r| r.first()).and_then(|p| mp::id_text(&p["id"])))
}

/// Mercado Pago's preference `id`, as it answers.
pub async fn preference(app: &App, caller: Option<&Caller>, store: &Store, id: &str) -> Result<(Payment, serde_json::Value), PaymentError> {
    let payment = payment_of_preference(app, store, caller, id).await?;
    Ok((payment, client(app)?.preference(id).await?))
}

/// Brings the store's payment `payment_id` (if `caller` may pay its order) up to date with
/// Mercado Pago: by `provider_id` when the return URL gave one, else by the id it has, else by
/// the newest payment Mercado Pago has for the order. Says whether anything changed; a payment
/// of another provider is answered as it is.
pub async fn verify(
    app: &App,
    caller: Option<&Caller>,
    store: &Store,
    payment_id: &str,
    provider_id: Option<String>,
) -> Result<Done<(Payment, bool)>, PaymentError> {
    let payment = payment_for(app, store, caller, payment_id).await?;
    if payment.provider != Provider::MercadoPago.as_str() {
        return Ok(Done::new((payment, false), Effects::default()));
    }
    let provider_id = match provider_id.or_else(|| payment.provider_payment_id.clone()) {
        Some(known) => known,
        None => match latest_for_order(app, &payment.order_id).await? {
            Some(latest) => latest,
            None => return Ok(Done::new((payment, false), Effects::default())),
        },
    };
    let done = sync(app, store, &provider_id, "verify").await?;
    let (updated, applied) = done.value;
    if updated.order_id != payment.order_id {
        return Err(PaymentError::OtherOrder);
    }
    Ok(Done::new((updated, applied.changed), done.effects))
}

/// Refunds `amount` (minor units; the whole payment when it is all that is left) of a Mercado
/// Pago payment, with `key` as Mercado Pago's idempotency key; returns the refund's id and amount.
pub async fn refund(
    app: &App,
    store: &Store,
    payment: &Payment,
    amount: i64,
    whole: bool,
    key: &str,
) -> Result<(String, i64), PaymentError> {
    let provider_id = payment.provider_payment_id.as_deref().ok_or(PaymentError::UnknownPayment)?;
    let exponent = store.currency.exponent();
    let asked = (!whole).then(|| DecimalOut::scaled(amount, exponent));
    let refund = client(app)?.refund(provider_id, asked, key).await?;
    let refunded =
        parse_scaled(&refund.amount, exponent).map_err(|_| PaymentError::Provider(format!("refund amount '{}'", refund.amount)))?;
    Ok((refund.id, refunded))
}

/// Mercado Pago's payment `id`, fetched.
pub async fn fetch(app: &App, id: &str) -> Result<mp::Payment, PaymentError> {
    Ok(client(app)?.payment(id).await?)
}

/// Mercado Pago's payment search (protocol §3.2) with `query`, as it answers.
pub async fn search(app: &App, query: &[(&str, String)]) -> Result<serde_json::Value, PaymentError> {
    Ok(client(app)?.search_payments(query).await?)
}

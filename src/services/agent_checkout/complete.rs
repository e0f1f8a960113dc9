//! Completing a session: the order is placed like any guest checkout, then paid on Mercado
//! Pago's page (the session waits on `continue_url` until the payment arrives), by card through
//! Stripe, or by cash or transfer, which the shop confirms.

use super::{CheckoutError, Draft, DraftLine, Message, OrderRef, Session, Severity, Status, find, orders, pricing, save, save_on};
use crate::app::{App, AppState};
use crate::services::catalog::stores::Store;
use crate::services::checkout::{self, Checkout, Delivery, GivenAddress, Place};
use crate::services::customers;
use crate::services::orders::{OrderError, RequestedLine};
use crate::services::payments::{self, PaymentError, mercadopago, stripe};
use crate::services::shipping_rates::{self, ShippingChoice};

/// How the buyer pays: a payment handler of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentChoice {
    /// On Mercado Pago's page (the agent hands the buyer the link).
    MercadoPago,
    /// Cash on delivery or pick-up.
    Cash,
    BankTransfer,
    /// A card through Stripe: the platform sends a PaymentMethod (`pm_…`) of the shop's account.
    Stripe,
    /// The UCP conformance suite's card handler (only with `UCP_SIMULATION_SECRET`): the
    /// token `success_token` or a card is approved, anything else declined.
    Mock,
}

/// The instrument an agent pays with: a handler of the store and its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub handler_id: String,
    /// `token` or `card`.
    pub credential_type: Option<String>,
    pub token: Option<String>,
}

impl PaymentChoice {
    pub const ALL: [PaymentChoice; 5] =
        [PaymentChoice::MercadoPago, PaymentChoice::Stripe, PaymentChoice::Cash, PaymentChoice::BankTransfer, PaymentChoice::Mock];

    /// The handler id agents name it by.
    pub fn handler_id(self) -> &'static str {
        match self {
            PaymentChoice::MercadoPago => "mercadopago",
            PaymentChoice::Cash => "cash",
            PaymentChoice::BankTransfer => "bank_transfer",
            PaymentChoice::Stripe => "stripe",
            PaymentChoice::Mock => "mock_payment_handler",
        }
    }

    fn method_code(self) -> &'static str {
        match self {
            PaymentChoice::MercadoPago => "MERCADO_PAGO",
            PaymentChoice::Cash => "CASH",
            PaymentChoice::BankTransfer => "BANK_TRANSFER",
            PaymentChoice::Stripe | PaymentChoice::Mock => "CREDIT_CARD",
        }
    }

    /// Whether `instrument` carries what the handler needs: Stripe a PaymentMethod; the mock
    /// handler approves `success_token` or a card and declines anything else.
    fn check(self, instrument: &Instrument) -> Result<(), CheckoutError> {
        match self {
            PaymentChoice::Stripe if !instrument.token.as_deref().is_some_and(|t| t.starts_with("pm_")) => {
                Err(CheckoutError::MissingCredential("stripe"))
            }
            PaymentChoice::Mock
                if instrument.credential_type.as_deref() != Some("card") && instrument.token.as_deref() != Some("success_token") =>
            {
                Err(CheckoutError::PaymentDeclined)
            }
            _ => Ok(()),
        }
    }

    /// Whether the buyer pays online after the order is placed (the session waits for it).
    fn pays_online(self) -> bool {
        matches!(self, PaymentChoice::MercadoPago | PaymentChoice::Stripe)
    }

    /// The handlers `store` offers now: its active payment methods (Mercado Pago only when
    /// feria has its credentials).
    pub async fn offered(app: &App, store: &Store) -> Result<Vec<PaymentChoice>, sqlx::Error> {
        let active: Vec<String> = sqlx::query_scalar(
            "SELECT code FROM payment_methods WHERE store_id = $1 AND is_active = 1 AND code IN ('MERCADO_PAGO', 'CASH', 'BANK_TRANSFER', 'CREDIT_CARD')",
        )
        .bind(&store.id)
        .fetch_all(&mut *app.db.reader().acquire().await?)
        .await?;
        Ok(PaymentChoice::ALL
            .into_iter()
            .filter(|c| active.iter().any(|code| code == c.method_code()))
            .filter(|c| *c != PaymentChoice::MercadoPago || app.payment_clients.mercadopago.is_some())
            .filter(|c| *c != PaymentChoice::Stripe || app.payment_clients.stripe.is_some())
            .filter(|c| *c != PaymentChoice::Mock || app.config.agents.conformance_mode())
            .collect())
    }
}

/// Completes the session paying with `instrument`: places the order and starts its payment.
/// A problem found while placing it (the stock went meanwhile) leaves the session incomplete
/// with a message; a session whose order waits for its payment is paid again with `instrument`
/// (another card, or Mercado Pago's link handed again). A session is claimed
/// (`complete_in_progress`) while its order is placed and paid, so two completions never
/// place two orders nor charge twice.
pub async fn complete(app: &AppState, store: &Store, id: &str, instrument: &Instrument) -> Result<Session, CheckoutError> {
    let session = settle(app, find(app, store, id).await?).await?;
    if session.status == Status::RequiresEscalation {
        let choice = chosen(app, store, instrument).await?;
        let mut claimed = session;
        claimed.status = Status::CompleteInProgress;
        save(app, &claimed, &[Status::RequiresEscalation]).await?;
        return pay(app, store, claimed, choice, instrument).await;
    }
    if session.status.is_final() || session.status == Status::CompleteInProgress || session.order.is_some() {
        return Err(CheckoutError::Final(session.status.as_str()));
    }
    if session.status != Status::ReadyForComplete {
        return Err(CheckoutError::NotReady(Box::new(session)));
    }
    let choice = chosen(app, store, instrument).await?;
    // A price, the coupon or a rate may have changed since the session was priced: the agent
    // completes only what it was shown, and otherwise sees the new totals first.
    let mut repriced = session.clone();
    pricing::price(app, store, &mut repriced, draft_of(&session)).await?;
    if repriced.totals.total != session.totals.total || repriced.status != Status::ReadyForComplete {
        repriced.messages.push(Message::warning(
            "price_changed",
            Some("$.totals".into()),
            "Los precios cambiaron desde que se armó la compra: revisá el total y confirmá de nuevo",
        ));
        save(app, &repriced, &[Status::ReadyForComplete]).await?;
        return Ok(repriced);
    }
    // Read before the session is claimed: a slow platform never holds a claimed session.
    let webhook_url = match &session.agent_profile {
        Some(profile) => app.platforms.webhook_url(app, profile).await,
        None => None,
    };

    let mut claimed = session.clone();
    claimed.status = Status::CompleteInProgress;
    save(app, &claimed, &[Status::ReadyForComplete]).await?;
    let placed = match checkout::place_order(app, None, store, order_of(&session, choice)).await {
        Ok(done) => app.settle(done).await,
        Err(refused) => return refused_while_placing(app, store, session, refused).await,
    };
    let mut session = claimed;
    session.order = Some(OrderRef { id: placed.order.id.clone(), number: placed.order.order_number.clone() });
    session.webhook_url = webhook_url;
    if !choice.pays_online() {
        session.status = Status::Completed;
        session.messages.clear();
    }
    // The session records its order and the platform hears of it in one transaction.
    let mut tx = app.db.begin().await?;
    save_on(&mut tx, &session, &[Status::CompleteInProgress]).await?;
    let queued = orders::order_changed(&mut tx, app, store, &placed.order.id).await?;
    tx.commit().await?;
    if queued {
        app.job_wake.notify_one();
    }
    if choice.pays_online() {
        return pay(app, store, session, choice, instrument).await;
    }
    Ok(session)
}

/// The store's handler `instrument` names, if the instrument carries what it needs.
async fn chosen(app: &App, store: &Store, instrument: &Instrument) -> Result<PaymentChoice, CheckoutError> {
    let handler_id = instrument.handler_id.as_str();
    let offered = PaymentChoice::offered(app, store).await?;
    let choice =
        offered.into_iter().find(|c| c.handler_id() == handler_id).ok_or_else(|| CheckoutError::UnknownHandler(handler_id.into()))?;
    choice.check(instrument)?;
    Ok(choice)
}

/// Pays the claimed session's placed order online: Mercado Pago's page (the same link while it
/// waits), or the card through Stripe. The session is released either way: completed when paid,
/// else waiting (`requires_escalation`) with what the buyer or the agent can do next.
async fn pay(
    app: &AppState,
    store: &Store,
    session: Session,
    choice: PaymentChoice,
    instrument: &Instrument,
) -> Result<Session, CheckoutError> {
    let waiting_on = session.payment_handler.as_deref().filter(|_| session.continue_url.is_some());
    let outcome = match choice {
        PaymentChoice::MercadoPago if waiting_on == Some(choice.handler_id()) => Ok(session.clone()),
        PaymentChoice::MercadoPago => pay_on_mercadopago(app, store, session.clone()).await,
        PaymentChoice::Stripe => pay_by_card(app, store, session.clone(), instrument).await,
        _ => Err(CheckoutError::Final(Status::RequiresEscalation.as_str())),
    };
    let (mut released, outcome) = match outcome {
        Ok(paid) => (paid, None),
        Err(e) => (session, Some(e)),
    };
    if released.status == Status::CompleteInProgress {
        released.status = Status::RequiresEscalation;
    }
    save(app, &released, &[Status::CompleteInProgress]).await?;
    match outcome {
        Some(e) => Err(e),
        None => Ok(released),
    }
}

/// Whether the session's order is paid.
async fn paid(app: &App, session: &Session) -> Result<bool, CheckoutError> {
    let Some(order) = &session.order else { return Ok(false) };
    let money = payments::order_money(&mut *app.db.reader().acquire().await?, &order.id).await?;
    Ok(money.paid > 0 && money.paid >= session.totals.total)
}

/// Charges the session's order to the PaymentMethod in `instrument` through Stripe: paid, the
/// session completes; a bank's challenge is handed over in `continue_url`; a decline leaves it
/// waiting for another card.
async fn pay_by_card(app: &AppState, store: &Store, mut session: Session, instrument: &Instrument) -> Result<Session, CheckoutError> {
    let order = session.order.clone().ok_or(CheckoutError::UnknownSession)?;
    let token = instrument.token.as_deref().ok_or(CheckoutError::MissingCredential("stripe"))?;
    let (started, _) = stripe::start(app, None, store, &order.id).await?;
    let payment = match stripe::confirm(app, None, store, &started.id, Some(token)).await {
        Ok(done) => app.settle(done).await.0,
        // Stripe answers a declined card with an error: the intent says what happened.
        Err(PaymentError::Provider(_)) => {
            let intent = started.provider_payment_id.as_deref().ok_or(CheckoutError::UnknownSession)?;
            app.settle(stripe::sync(app, store, intent, "confirm").await?).await.0
        }
        Err(e) => return Err(e.into()),
    };
    if paid(app, &session).await? {
        session.status = Status::Completed;
        session.continue_url = None;
        session.payment_handler = None;
        session.messages.clear();
        return Ok(session);
    }
    let challenge = payment.provider_data.as_ref().and_then(|d| d.pointer("/next_action/redirect_to_url/url")).and_then(|u| u.as_str());
    session.continue_url = challenge.map(str::to_string);
    session.payment_handler = challenge.map(|_| PaymentChoice::Stripe.handler_id().to_string());
    let path = Some("$.payment".to_string());
    session.messages = vec![match (challenge, payment.status.as_str()) {
        (Some(_), _) => Message::error(
            "requires_3ds",
            path,
            "El banco pide que el comprador confirme el pago en continue_url",
            Severity::RequiresBuyerInput,
        ),
        (None, "rejected" | "cancelled") => Message::error(
            "payment_declined",
            path,
            format!("La tarjeta fue rechazada; el pedido {} espera otro medio de pago", order.number),
            Severity::Recoverable,
        ),
        (None, _) => Message::warning(
            "payment_pending",
            path,
            format!("El pago del pedido {} está en proceso; la sesión se completa cuando se acredite", order.number),
        ),
    }];
    Ok(session)
}

/// The session as it stands: one waiting for its order's payment is completed once it is paid.
pub(super) async fn settle(app: &App, mut session: Session) -> Result<Session, CheckoutError> {
    if session.status != Status::RequiresEscalation || !paid(app, &session).await? {
        return Ok(session);
    }
    session.status = Status::Completed;
    session.continue_url = None;
    session.payment_handler = None;
    session.messages.clear();
    save(app, &session, &[Status::RequiresEscalation]).await?;
    Ok(session)
}

/// Starts the Mercado Pago payment of the session's order; the buyer pays on `continue_url`.
async fn pay_on_mercadopago(app: &App, store: &Store, mut session: Session) -> Result<Session, CheckoutError> {
    let order = session.order.clone().ok_or(CheckoutError::UnknownSession)?;
    let (_, preference) = mercadopago::start(app, None, store, &order.id, None).await?;
    session.continue_url = preference.init_point.or(preference.sandbox_init_point);
    session.payment_handler = Some(PaymentChoice::MercadoPago.handler_id().to_string());
    session.messages = vec![Message::error(
        "payment_required",
        Some("$.payment".into()),
        format!("El pedido {} está reservado: pagalo en Mercado Pago con el enlace de continue_url", order.number),
        Severity::RequiresBuyerInput,
    )];
    Ok(session)
}

/// Placing the order was refused: the session is priced again so its messages say why.
async fn refused_while_placing(app: &App, store: &Store, session: Session, refused: OrderError) -> Result<Session, CheckoutError> {
    let business = matches!(
        refused,
        OrderError::InsufficientStock { .. }
            | OrderError::Unavailable(_)
            | OrderError::CouponRefused(_)
            | OrderError::UnknownCoupon
            | OrderError::UnknownShippingOption(_)
    );
    if !business {
        save(app, &session, &[Status::CompleteInProgress]).await?;
        return Err(refused.into());
    }
    let mut repriced = session.clone();
    pricing::price(app, store, &mut repriced, draft_of(&session)).await?;
    if repriced.status == Status::ReadyForComplete {
        // The catalog reads stale on this node: say what the order refused.
        repriced.status = Status::Incomplete;
        repriced.messages.push(Message::error("out_of_stock", Some("$.line_items".into()), refused.to_string(), Severity::Recoverable));
    }
    save(app, &repriced, &[Status::CompleteInProgress]).await?;
    Ok(repriced)
}

/// What the agent last asked for, as a draft to price again.
fn draft_of(session: &Session) -> Draft {
    Draft {
        lines: session
            .lines
            .iter()
            .map(|l| DraftLine { id: Some(l.id.clone()), item_id: l.item_id.clone(), quantity: l.quantity })
            .collect(),
        buyer: session.buyer.clone(),
        destination: session.destination.clone(),
        selected_option: session.selected_option.clone(),
        method_id: session.method_id.clone(),
        group_id: session.group_id.clone(),
        discount_codes: session.discount_codes.clone(),
        context: session.context.clone(),
        agent_profile: session.agent_profile.clone(),
    }
}

/// The guest checkout a ready session places.
fn order_of(session: &Session, choice: PaymentChoice) -> Checkout {
    let buyer = session.buyer.clone().unwrap_or_default();
    let name = [buyer.first_name.as_deref(), buyer.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = if name.trim().is_empty() { "Cliente".to_string() } else { name };
    let address = session.destination.clone().unwrap_or_default();
    let recipient = [address.first_name.as_deref(), address.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let locality = address.address_locality.clone().unwrap_or_default();
    let details = [address.extended_address.as_deref(), address.address_region.as_deref(), address.address_country.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    Checkout {
        lines: session
            .lines
            .iter()
            .map(|l| RequestedLine { product_id: l.product_id.clone(), quantity: l.quantity, client_unit_price: None })
            .collect(),
        delivery: Delivery::Given(GivenAddress {
            street: address.street_address.unwrap_or_default(),
            number: "s/n".into(),
            place: Place::Named { neighborhood: address.address_region.clone().unwrap_or_else(|| locality.clone()), city: locality },
            zip_code: address.postal_code,
            details: (!details.is_empty()).then_some(details),
            recipient: (!recipient.trim().is_empty()).then_some(recipient),
            phone: address.phone_number,
        }),
        // Only the conformance suite's checkouts go without an email (see `AgentsConfig`): a
        // reserved domain, so nothing is ever sent to it.
        guest: Some(customers::Guest {
            name,
            email: buyer.email.unwrap_or_else(|| "comprador-sin-email@agente.invalid".into()),
            phone: buyer.phone_number,
        }),
        coupon_code: session.discount.as_ref().map(|d| d.code.clone()),
        payment_method_code: Some(choice.method_code().into()),
        notes: Some(format!("Compra hecha por un agente de IA (checkout {})", session.id)),
        shipping_option: session
            .selected_option
            .clone()
            .filter(|code| code != shipping_rates::ARRANGED)
            .map(|code| ShippingChoice { code, country: session.destination.as_ref().and_then(|d| d.address_country.clone()) }),
    }
}

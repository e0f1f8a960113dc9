//! Who hears about an event and on which channels: a workflow is ordered steps, each naming an
//! audience and its channels. A step either sends on every channel the recipient can be reached
//! on, or (`fallback`) on the first one only, moving to the next when a channel fails.

use feria_domain::notify::{Channel, EventKind};

use super::templates::Voice;

/// Who a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Whoever placed the order: their account, or the email a guest gave.
    Buyer,
    /// The store's members (and, for the default store, the platform's admins); for an event
    /// of the platform, its admins.
    Staff,
    /// The shop's own inbox and chat from the settings (`EMAIL_TO`, `TELEGRAM_CHAT_ID`).
    Shop,
    /// The user the event is about (`userId`), e.g. a password reset.
    Account,
    /// A broadcast's audience (`audience` in the event: customers, staff, owners, everyone).
    Broadcast,
    /// The member who started what the event reports (`userId`), e.g. an import; the staff when
    /// an API key did.
    Actor,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Buyer => "buyer",
            Audience::Staff => "staff",
            Audience::Shop => "shop",
            Audience::Account => "account",
            Audience::Broadcast => "broadcast",
            Audience::Actor => "actor",
        }
    }

    /// The wording its templates use.
    pub fn voice(self) -> Voice {
        match self {
            Audience::Buyer | Audience::Account | Audience::Broadcast => Voice::Customer,
            Audience::Staff | Audience::Shop | Audience::Actor => Voice::Staff,
        }
    }
}

/// One step of a workflow.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Its name in a store's settings: `buyer`, `staff`, `staff_alert`, `shop`, `account`,
    /// `broadcast`, `actor`.
    pub name: &'static str,
    pub audience: Audience,
    pub channels: &'static [Channel],
    /// Only the first reachable channel, then the next ones in order if it fails.
    pub fallback: bool,
}

const fn all(name: &'static str, audience: Audience, channels: &'static [Channel]) -> Step {
    Step { name, audience, channels, fallback: false }
}

const fn first(name: &'static str, audience: Audience, channels: &'static [Channel]) -> Step {
    Step { name, audience, channels, fallback: true }
}

use Audience::{Account, Actor, Broadcast, Buyer, Shop, Staff};
use Channel::{Email, InApp, Push, Sms, Telegram, WebPush};

/// The shop's alert: the first device that takes it, else a text message.
const ALERT: &[Channel] = &[Push, WebPush, Sms];

/// The buyer hears on every channel they allow and can be reached on (text messages are
/// opt-in; pushes need a registered device).
const BUYER: &[Channel] = &[InApp, Email, Sms, Push, WebPush];

const THE_BUYER: Step = all("buyer", Buyer, BUYER);
const STAFF_INBOX: Step = all("staff", Staff, &[InApp]);
const SHOP: Step = all("shop", Shop, &[Email, Telegram]);
/// The people who run the store (or the platform): in the inbox and by email.
const STAFF_MAIL: Step = all("staff", Staff, &[InApp, Email]);

const ORDER_PLACED: &[Step] = &[THE_BUYER, STAFF_INBOX, SHOP];
const ORDER_PAID: &[Step] = &[STAFF_INBOX, first("staff_alert", Staff, ALERT), SHOP];
const TO_THE_BUYER: &[Step] = &[THE_BUYER];
const ORDER_CANCELLED: &[Step] = &[THE_BUYER, STAFF_INBOX];
const PASSWORD_RESET: &[Step] = &[all("account", Account, &[Email])];
const TO_THE_STAFF: &[Step] = &[STAFF_MAIL];
const IMPORT_FINISHED: &[Step] = &[all("actor", Actor, &[InApp, Email])];
const ANNOUNCEMENT: &[Step] = &[all("broadcast", Broadcast, &[InApp, Email, Push, WebPush])];
/// Every channel at once (the event is critical: no opt-out, no quiet hours).
const EMERGENCY: &[Step] = &[all("broadcast", Broadcast, &[InApp, Email, Sms, Push, WebPush])];

/// The steps feria ships for `kind`.
pub fn shipped(kind: EventKind) -> &'static [Step] {
    match kind {
        EventKind::OrderPlaced => ORDER_PLACED,
        EventKind::OrderPaid => ORDER_PAID,
        EventKind::OrderStatusChanged | EventKind::OrderRefunded | EventKind::PaymentFailed => TO_THE_BUYER,
        EventKind::OrderCancelled => ORDER_CANCELLED,
        EventKind::PasswordReset => PASSWORD_RESET,
        EventKind::LowStock | EventKind::ChannelNeedsReauth | EventKind::SystemAlert => TO_THE_STAFF,
        EventKind::ImportFinished => IMPORT_FINISHED,
        EventKind::Announcement => ANNOUNCEMENT,
        EventKind::Emergency => EMERGENCY,
    }
}

/// Whether a store may change `step` of `kind`: not those of critical events (nobody may
/// silence them) nor broadcasts (their sender chooses).
pub fn configurable(kind: EventKind, step: &Step) -> bool {
    !kind.critical() && step.audience != Audience::Broadcast
}

//! Who hears about an event and on which channels: a workflow is ordered steps, each naming an
//! audience and its channels. A step either sends on every channel the recipient can be reached
//! on, or (`fallback`) on the first one only, moving to the next when a channel fails.

use feria_domain::notify::{Channel, EventKind};

use super::templates::Voice;

/// Who a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Whoever placed the order: their account, or the email a guest gave.
    Buyer,
    /// The store's members (and, for the default store, the platform's admins).
    Staff,
    /// The shop's own inbox and chat from the settings (`EMAIL_TO`, `TELEGRAM_CHAT_ID`).
    Shop,
    /// The user the event is about (`userId`), e.g. a password reset.
    Account,
    /// A broadcast's audience (`audience` in the event: customers, staff, owners, everyone).
    Broadcast,
}

impl Audience {
    /// The wording its templates use.
    pub fn voice(self) -> Voice {
        match self {
            Audience::Buyer | Audience::Account | Audience::Broadcast => Voice::Customer,
            Audience::Staff | Audience::Shop => Voice::Staff,
        }
    }
}

/// One step of a workflow.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub audience: Audience,
    pub channels: &'static [Channel],
    /// Only the first reachable channel, then the next ones in order if it fails.
    pub fallback: bool,
}

const fn all(audience: Audience, channels: &'static [Channel]) -> Step {
    Step { audience, channels, fallback: false }
}

const fn first(audience: Audience, channels: &'static [Channel]) -> Step {
    Step { audience, channels, fallback: true }
}

use Audience::{Account, Broadcast, Buyer, Shop, Staff};
use Channel::{Email, InApp, Push, Sms, Telegram, WebPush};

/// The shop's alert: the first device that takes it, else a text message.
const ALERT: &[Channel] = &[Push, WebPush, Sms];

/// The buyer hears on every channel they allow and can be reached on (text messages are
/// opt-in; pushes need a registered device).
const BUYER: &[Channel] = &[InApp, Email, Sms, Push, WebPush];

const ORDER_PLACED: &[Step] = &[all(Buyer, BUYER), all(Staff, &[InApp]), all(Shop, &[Email, Telegram])];
const ORDER_PAID: &[Step] = &[all(Staff, &[InApp]), first(Staff, ALERT), all(Shop, &[Email, Telegram])];
const TO_THE_BUYER: &[Step] = &[all(Buyer, BUYER)];
const ORDER_CANCELLED: &[Step] = &[all(Buyer, BUYER), all(Staff, &[InApp])];
const PASSWORD_RESET: &[Step] = &[all(Account, &[Email])];
const ANNOUNCEMENT: &[Step] = &[all(Broadcast, &[InApp, Email, Push, WebPush])];
/// Every channel at once (the event is critical: no opt-out, no quiet hours).
const EMERGENCY: &[Step] = &[all(Broadcast, &[InApp, Email, Sms, Push, WebPush])];

/// The steps feria ships for `kind` (none: nobody is told).
pub fn shipped(kind: EventKind) -> &'static [Step] {
    match kind {
        EventKind::OrderPlaced => ORDER_PLACED,
        EventKind::OrderPaid => ORDER_PAID,
        EventKind::OrderStatusChanged | EventKind::OrderRefunded | EventKind::PaymentFailed => TO_THE_BUYER,
        EventKind::OrderCancelled => ORDER_CANCELLED,
        EventKind::PasswordReset => PASSWORD_RESET,
        EventKind::Announcement => ANNOUNCEMENT,
        EventKind::Emergency => EMERGENCY,
        EventKind::LowStock | EventKind::ImportFinished | EventKind::ChannelNeedsReauth | EventKind::SystemAlert => &[],
    }
}

//! The notification hub (seed 003): an event (an order placed, a payment approved, a password
//! reset…) is stored with the change that caused it and fanned out by a job through its
//! workflow's steps: one notification per recipient, one message per channel, one attempt per
//! try. Requests only ever write the event; recipients, templates and providers run in jobs.

pub mod broadcasts;
pub mod content;
pub mod deliver;
pub mod delivery_log;
pub mod devices;
pub mod digests;
pub mod events;
pub mod fanout;
pub mod fanout_reads;
pub mod inbox;
pub mod live;
pub mod low_stock;
pub mod messages;
pub mod preferences;
pub mod providers;
pub mod receipts;
pub mod recipients;
pub mod store_templates;
pub mod store_workflows;
pub mod system_alerts;
pub mod template_tests;
pub mod templates;
pub mod unsubscribe;
pub mod workflows;

pub use events::{NewEvent, emit};

/// Why a notification use case stopped.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No such notification for this caller.
    #[error("unknown notification")]
    UnknownNotification,
    /// No template for that event, audience, channel and language.
    #[error("unknown template")]
    UnknownTemplate,
    /// A store's template that does not compile, lacks a block or uses an unknown variable.
    #[error("bad template: {0}")]
    BadTemplate(String),
    /// No such order in this store (a preview).
    #[error("unknown order")]
    UnknownOrder,
    /// No such device of this caller.
    #[error("unknown device")]
    UnknownDevice,
    /// No such broadcast in this store.
    #[error("unknown broadcast")]
    UnknownBroadcast,
    /// The broadcast went out already.
    #[error("the broadcast was sent or cancelled")]
    AlreadySent,
    /// No such message in this store.
    #[error("unknown message")]
    UnknownMessage,
    /// Only failed, bounced or skipped messages are sent again.
    #[error("the message has not failed")]
    NotRetryable,
    /// No such step of that event's workflow that a store may change.
    #[error("unknown workflow step")]
    UnknownWorkflowStep,
    /// An input that does not fit: the field and the problem, in words.
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, String),
    /// The caller lacks the scope.
    #[error("forbidden")]
    Forbidden,
    /// Quiet hours are local times: they need a time zone.
    #[error("quiet hours need a time zone")]
    QuietHoursNeedTimezone,
    /// An unsubscribe link that feria did not make.
    #[error("bad unsubscribe token")]
    BadUnsubscribeToken,
    /// A template did not render.
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    /// An attachment could not be stored.
    #[error("storing a file: {0}")]
    Storage(#[from] crate::services::files::FileError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

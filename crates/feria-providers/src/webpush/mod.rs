//! Web push (RFC 8030) to browser subscriptions: the payload encrypted for one subscription
//! (RFC 8291, `aes128gcm`, see [`payload`]) and the VAPID token naming the sender (RFC 8292,
//! see [`vapid`]). Facts and test vectors: `shared/protocols/webpush.md`.

pub mod payload;
pub mod send;
pub mod vapid;

/// Why a payload or a token could not be made or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebPushError {
    /// A key that is not what its name says (which one).
    #[error("invalid key: {0}")]
    BadKey(&'static str),
    /// More than a push service must accept (bytes given).
    #[error("payload of {0} bytes is over the {max} bytes a push service accepts", max = payload::MAX_PLAINTEXT)]
    TooLarge(usize),
    /// A body or token that does not decrypt or verify.
    #[error("unreadable: {0}")]
    Unreadable(&'static str),
}

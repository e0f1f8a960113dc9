//! The notification hub's vocabulary: what happened (event kinds), what it is about
//! (categories, some of them critical), where it goes (channels) and how far a message got
//! (statuses, which only move forward).

/// Declares a closed set of names with `as_str`, `parse` and `ALL`.
macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a name; `None` for anything else.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

names! {
    /// What happened.
    EventKind {
        OrderPlaced = "order_placed",
        OrderPaid = "order_paid",
        OrderStatusChanged = "order_status_changed",
        OrderCancelled = "order_cancelled",
        OrderRefunded = "order_refunded",
        PaymentFailed = "payment_failed",
        PasswordReset = "password_reset",
        LowStock = "low_stock",
        ImportFinished = "import_finished",
        ChannelNeedsReauth = "channel_needs_reauth",
        SystemAlert = "system_alert",
        Announcement = "announcement",
        Emergency = "emergency",
    }
}

names! {
    /// What a notification is about: the unit of a person's preferences.
    Category {
        Orders = "orders",
        Payments = "payments",
        Marketing = "marketing",
        Account = "account",
        Announcements = "announcements",
        System = "system",
    }
}

names! {
    /// Where a message goes.
    Channel {
        InApp = "in_app",
        Email = "email",
        Sms = "sms",
        Push = "push",
        WebPush = "web_push",
        Telegram = "telegram",
    }
}

names! {
    /// How far a message got. Providers report out of order; see [`MessageStatus::rank`].
    MessageStatus {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
        Bounced = "bounced",
        Skipped = "skipped",
    }
}

impl EventKind {
    pub fn category(self) -> Category {
        match self {
            EventKind::OrderPlaced | EventKind::OrderStatusChanged | EventKind::OrderCancelled => Category::Orders,
            EventKind::OrderPaid | EventKind::OrderRefunded | EventKind::PaymentFailed => Category::Payments,
            EventKind::PasswordReset => Category::Account,
            EventKind::LowStock | EventKind::ImportFinished | EventKind::ChannelNeedsReauth | EventKind::SystemAlert => Category::System,
            EventKind::Announcement | EventKind::Emergency => Category::Announcements,
        }
    }

    /// Critical events reach people whatever their opt-outs and quiet hours say.
    pub fn critical(self) -> bool {
        matches!(self, EventKind::PasswordReset | EventKind::PaymentFailed | EventKind::Emergency)
    }
}

impl MessageStatus {
    /// A status replaces another only with a higher rank: "sent" reported after "delivered"
    /// changes nothing, and an end (failed, bounced, skipped) is final.
    pub fn rank(self) -> i64 {
        match self {
            MessageStatus::Queued => 0,
            MessageStatus::Sending => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Delivered => 3,
            MessageStatus::Read => 4,
            MessageStatus::Failed | MessageStatus::Bounced | MessageStatus::Skipped => 5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
        }
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(*channel));
        }
        assert_eq!(Category::parse("pigeons"), None);
    }

    #[test]
    fn statuses_only_move_forward() {
        assert!(MessageStatus::Delivered.rank() > MessageStatus::Sent.rank());
        assert!(MessageStatus::Bounced.rank() > MessageStatus::Delivered.rank());
        assert!(EventKind::Emergency.critical() && !EventKind::Announcement.critical());
    }
}

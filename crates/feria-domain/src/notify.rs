//! The notification hub's vocabulary: what happened (event kinds), what it is about
//! (categories, some of them critical), where it goes (channels) and how far a message got
//! (statuses, which only move forward).

pub use chrono_tz::Tz;

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

/// A daily window of local time in which non-critical messages on intrusive channels (SMS,
/// push) wait. `start` and `end` are minutes from local midnight; a window may span midnight
/// (22:00–08:00); equal ends mean no window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: u16,
    pub end: u16,
    pub zone: Tz,
}

impl QuietHours {
    /// When `now` falls inside the window, the moment the window ends; `None` otherwise.
    pub fn until(&self, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
        use chrono::{LocalResult, TimeZone, Timelike};
        let local = now.with_timezone(&self.zone);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let (start, end) = (self.start, self.end);
        let inside = match start.cmp(&end) {
            std::cmp::Ordering::Less => minute >= start && minute < end,
            std::cmp::Ordering::Greater => minute >= start || minute < end,
            std::cmp::Ordering::Equal => false,
        };
        if !inside {
            return None;
        }
        let day = if minute < end { local.date_naive() } else { local.date_naive().succ_opt()? };
        let at = day.and_hms_opt(u32::from(end / 60), u32::from(end % 60), 0)?;
        let ends = match self.zone.from_local_datetime(&at) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
            // The end falls in a daylight-saving gap: an hour later exists.
            LocalResult::None => self.zone.from_local_datetime(&(at + chrono::TimeDelta::hours(1))).earliest()?,
        };
        Some(ends.with_timezone(&chrono::Utc))
    }
}

/// `HH:MM` (24-hour) as minutes from midnight.
pub fn parse_clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// Minutes from midnight as `HH:MM`.
pub fn format_clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod quiet_hours_tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn quiet(start: &str, end: &str, zone: &str) -> QuietHours {
        QuietHours { start: parse_clock(start).unwrap(), end: parse_clock(end).unwrap(), zone: zone.parse().unwrap() }
    }

    #[test]
    fn a_night_window_spans_midnight_in_the_persons_zone() {
        let night = quiet("22:00", "08:00", "America/Argentina/Buenos_Aires");
        // 02:00 UTC is 23:00 in Buenos Aires (UTC-3): quiet until 08:00 there, 11:00 UTC.
        let late = Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap();
        assert_eq!(night.until(late), Some(Utc.with_ymd_and_hms(2026, 12, 2, 11, 0, 0).unwrap()));
        // 07:30 there: half an hour left.
        let early = Utc.with_ymd_and_hms(2026, 12, 2, 10, 30, 0).unwrap();
        assert_eq!(night.until(early), Some(Utc.with_ymd_and_hms(2026, 12, 2, 11, 0, 0).unwrap()));
        // 12:00 there: not quiet.
        assert_eq!(night.until(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap()), None);
        assert_eq!(quiet("09:00", "09:00", "UTC").until(late), None, "equal ends: no window");
        let lunch = quiet("13:00", "14:30", "America/Mexico_City");
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 19, 10, 0).unwrap(); // 13:10 in Mexico City
        assert_eq!(lunch.until(at), Some(Utc.with_ymd_and_hms(2026, 12, 2, 20, 30, 0).unwrap()));
    }

    #[test]
    fn clock_times_are_strict() {
        assert_eq!(parse_clock("07:05"), Some(425));
        for bad in ["7:05", "24:00", "12:60", "12-00", "", "aa:bb", "12:000"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        assert_eq!(format_clock(1439), "23:59");
    }
}

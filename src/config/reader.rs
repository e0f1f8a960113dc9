//! Reading typed values out of raw settings, collecting every problem.

use std::time::Duration;

use super::{Environment, Secret, Settings};

/// Collects typed values and problems while reading [`Settings`].
pub(super) struct Reader<'a> {
    pub(super) settings: &'a Settings,
    pub(super) problems: Vec<String>,
}

impl Reader<'_> {
    pub(super) fn text(&self, name: &str) -> Option<String> {
        self.settings.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    pub(super) fn parse<T: std::str::FromStr>(&mut self, name: &str, default: T, what: &str) -> T {
        match self.text(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.problems.push(format!("{name}: '{raw}' is not {what}"));
                default
            }),
        }
    }

    pub(super) fn millis(&mut self, name: &str, default_ms: u64) -> Duration {
        Duration::from_millis(self.parse(name, default_ms, "a whole number of milliseconds"))
    }

    pub(super) fn duration(&mut self, name: &str, default: Duration) -> Duration {
        match self.text(name) {
            None => default,
            Some(raw) => parse_duration(&raw).unwrap_or_else(|| {
                self.problems.push(format!("{name}: '{raw}' is not a duration (like 30s, 15m, 12h, 7d or seconds)"));
                default
            }),
        }
    }

    pub(super) fn bool(&mut self, name: &str, default: bool) -> bool {
        match self.text(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => true,
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => false,
            Some(v) => {
                self.problems.push(format!("{name}: '{v}' is not true or false"));
                default
            }
        }
    }

    /// A secret that must be at least 32 bytes in production; generated in development.
    pub(super) fn strong_secret(&mut self, name: &str, environment: Environment, warnings: &mut Vec<String>) -> Secret {
        match (self.text(name), environment) {
            (Some(v), _) if v.len() >= 32 => Secret(v),
            (Some(_), Environment::Production) => {
                self.problems.push(format!("{name}: must be at least 32 bytes in production"));
                Secret(String::new())
            }
            (None, Environment::Production) => {
                self.problems.push(format!("{name}: required in production (at least 32 bytes)"));
                Secret(String::new())
            }
            (value, Environment::Development) => {
                warnings.push(match value {
                    Some(_) => format!("{name} is shorter than 32 bytes; using a random one for this run (development only)"),
                    None => {
                        format!("{name} is not set; using a random one for this run (development only): tokens will not survive a restart")
                    }
                });
                Secret(random_secret())
            }
        }
    }
}

fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Parses `30s`, `15m`, `12h`, `7d`, `500ms` or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => n,
        "ms" => return Some(Duration::from_millis(n)),
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

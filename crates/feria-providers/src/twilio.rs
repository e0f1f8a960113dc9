//! Twilio Programmable Messaging (`shared/protocols/notifications.md` §1): an SMS sent with a
//! form POST to `{base}/2010-04-01/Accounts/{sid}/Messages.json` (HTTP Basic with the account
//! SID and auth token), and the `X-Twilio-Signature` its status callbacks carry: HMAC-SHA1 under
//! the auth token over the URL Twilio called and the form's parameters sorted by name.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::messaging::{Answer, DeliveryError};

/// Twilio's error codes that mean the number must not be texted again (21610: it replied STOP).
const GONE: &[i64] = &[21610];
/// Twilio's code for too many requests.
const TOO_MANY: i64 = 20429;

/// An account sending from one number.
pub struct Twilio {
    base_url: String,
    account_sid: String,
    auth_token: String,
    from: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Twilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twilio").field("account_sid", &self.account_sid).field("from", &self.from).finish_non_exhaustive()
    }
}

impl Twilio {
    /// The account `account_sid` at `base_url` (`https://api.twilio.com` unless a test points
    /// elsewhere), sending from `from` (E.164).
    pub fn new(base_url: &str, account_sid: &str, auth_token: &str, from: &str, timeout: Duration) -> Result<Twilio, DeliveryError> {
        let http = crate::http::client(timeout).map_err(|e| DeliveryError::Unreachable(e.without_url().to_string()))?;
        Ok(Twilio {
            base_url: base_url.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            from: from.to_string(),
            http,
        })
    }

    /// Sends `body` to `to` (E.164); Twilio reports its progress to `status_callback`. Answers
    /// the message's SID.
    pub async fn send_sms(&self, to: &str, body: &str, status_callback: Option<&str>) -> Result<String, DeliveryError> {
        let mut form = vec![("To", to), ("From", self.from.as_str()), ("Body", body)];
        if let Some(url) = status_callback {
            form.push(("StatusCallback", url));
        }
        let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", self.base_url, self.account_sid);
        let request = self.http.post(url).basic_auth(&self.account_sid, Some(&self.auth_token)).form(&form);
        let Answer { status, after, body: answer, .. } = Answer::of(request).await?;
        if (200..300).contains(&status) {
            return answer["sid"].as_str().map(str::to_string).ok_or(DeliveryError::Refused { status, code: "no sid".into() });
        }
        let code = answer["code"].as_i64();
        Err(match code {
            Some(code) if GONE.contains(&code) => DeliveryError::Gone(code.to_string()),
            _ if status == 429 || status >= 500 || code == Some(TOO_MANY) => DeliveryError::Retry { status, after },
            _ => DeliveryError::Refused { status, code: code.map(|c| c.to_string()).unwrap_or_default() },
        })
    }
}

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature of a form POST to `url` with `params` (decoded names and values).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `header` signs the form POST to `url`, compared in constant time; the URL is also
/// tried with the scheme's default port written out, as Twilio may have signed either.
pub fn signature_matches(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let Ok(given) = STANDARD.decode(header.trim()) else { return false };
    let with_port = reqwest::Url::parse(url).ok().filter(|u| u.port().is_none()).and_then(|u| {
        let host = u.host_str()?;
        let after_host = url.find(host)? + host.len();
        Some(format!("{}:{}{}", &url[..after_host], u.port_or_known_default()?, &url[after_host..]))
    });
    [Some(url.to_string()), with_port]
        .into_iter()
        .flatten()
        .any(|candidate| mac(auth_token, &candidate, params).verify_slice(&given).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn twilio_s_documented_example_signs_and_verifies() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let form = params(&[
            ("Digits", "1234"),
            ("To", "+18005551212"),
            ("From", "+12349013030"),
            ("Caller", "+12349013030"),
            ("CallSid", "CA1234567890ABCDE"),
        ]);
        assert_eq!(signature("12345", url, &form), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(signature_matches("12345", url, &form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        // Signed with the default port written out: still recognised.
        let with_port = signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &form);
        assert!(signature_matches("12345", url, &form, &with_port));
        assert!(!signature_matches("54321", url, &form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!signature_matches("12345", url, &params(&[("Digits", "9999")]), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!signature_matches("12345", url, &form, "not base64!"));
    }
}

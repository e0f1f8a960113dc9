//! Twilio (`shared/protocols/notifications.md` §1): the `X-Twilio-Signature` its status
//! callbacks carry, HMAC-SHA1 under the account's auth token over the URL Twilio called and the
//! form's parameters sorted by name (each name followed by its value).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

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

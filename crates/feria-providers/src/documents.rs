//! Fetching a small public document whose URL a stranger chose (an OAuth client's metadata
//! document, an agent platform's profile), or posting to such a URL (a platform's webhook):
//! no redirects, a byte cap, short timeouts, and no request to a private, loopback or
//! link-local address unless the caller allows loopback (a server that itself runs on
//! loopback, as in development). The address checked is the one connected to, so a DNS answer
//! that changes between the check and the request cannot steer it elsewhere.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Why a document could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not an http(s) URL with a host")]
    BadUrl,
    #[error("the host does not resolve")]
    Unresolved,
    #[error("the host resolves to a private or reserved address")]
    NotPublic,
    #[error("answered {0}")]
    Status(u16),
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// The body of `url` (HTTPS; plain HTTP only to loopback when `allow_loopback`), at most
/// `max_bytes`, within `timeout`.
pub async fn fetch(url: &str, max_bytes: usize, timeout: Duration, allow_loopback: bool) -> Result<Vec<u8>, FetchError> {
    let (client, url) = guarded(url, timeout, allow_loopback).await?;
    let mut response = client.get(url).header("accept", "application/json").send().await?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// POSTs `body` with `headers` to `url` under the same rules as [`fetch`] (a webhook whose
/// address a stranger chose); any 2xx is success, the answer's body is not read.
pub async fn post(
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Duration,
    allow_loopback: bool,
) -> Result<(), FetchError> {
    let (client, url) = guarded(url, timeout, allow_loopback).await?;
    let mut request = client.post(url);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.body(body).send().await?;
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    Ok(())
}

/// What a request to `url` is signed over, as it is sent (normalised): `@authority` (host, and
/// the port unless the scheme's default), `@path`, and `@query` when there is one (with its `?`).
pub fn signing_target(url: &str) -> Option<(String, String, Option<String>)> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let authority = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Some((authority, parsed.path().to_string(), parsed.query().map(|q| format!("?{q}"))))
}

/// A client that reaches only the checked address of `url`, without redirects.
async fn guarded(url: &str, timeout: Duration, allow_loopback: bool) -> Result<(reqwest::Client, reqwest::Url), FetchError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| FetchError::BadUrl)?;
    let host = parsed.host_str().ok_or(FetchError::BadUrl)?.to_string();
    let port = parsed.port_or_known_default().ok_or(FetchError::BadUrl)?;
    let lookup_host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let address: SocketAddr = tokio::time::timeout(timeout, tokio::net::lookup_host((lookup_host.as_str(), port)))
        .await
        .map_err(|_| FetchError::Unresolved)?
        .map_err(|_| FetchError::Unresolved)?
        .next()
        .ok_or(FetchError::Unresolved)?;
    let loopback = address.ip().is_loopback();
    match parsed.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        _ => return Err(FetchError::BadUrl),
    }
    if !(is_public(address.ip()) || (allow_loopback && loopback)) {
        return Err(FetchError::NotPublic);
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .resolve(&host, address)
        .build()?;
    Ok((client, parsed))
}

/// Whether `ip` is a globally routable address (RFC 6890's special-use blocks excluded).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2002
                || (first == 0x0064 && v6.segments()[1] == 0xff9b)
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn a_private_target_is_refused_before_any_request() {
        let refused = fetch("https://127.0.0.1:9/doc.json", 5000, Duration::from_secs(1), false).await;
        assert!(matches!(refused, Err(FetchError::NotPublic)), "{refused:?}");
        let refused = fetch("http://example.com/doc.json", 5000, Duration::from_secs(1), false).await;
        assert!(matches!(refused, Err(FetchError::BadUrl | FetchError::Unresolved)), "{refused:?}");
    }
}

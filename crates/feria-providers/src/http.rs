//! The one timeout policy of every provider client: connecting gives up after at most 5 s,
//! and a whole call (connect, send, read the answer) after the client's `timeout`. A client is
//! built once and shares its connection pool across calls.

use std::time::Duration;

/// Longest wait to connect, whatever the call's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTP client whose calls give up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().connect_timeout(timeout.min(CONNECT_TIMEOUT)).timeout(timeout).build()
}

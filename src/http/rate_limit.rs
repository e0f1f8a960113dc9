//! Fixed-window rate limits, in memory or shared through Redis.
//!
//! A limit is (scope, key, max, window): `("ip", "1.2.3.4", 5000, 15 min)` or
//! `("auth", "1.2.3.4|ana@x.io", 5, 15 min)`. With Redis every node counts in the same
//! window; if Redis fails the request is let through and the failure logged, so an outage of
//! the limiter never takes the shop down.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::error::{ApiError, codes};

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// Time until the window resets.
    pub reset_after: Duration,
}

impl Decision {
    /// The `RateLimit-*` headers (and `Retry-After` when refused).
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let reset = self.reset_after.as_secs_f64().ceil() as u64;
        let mut put = |name: &'static str, value: u64| {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        };
        put("ratelimit-limit", self.limit);
        put("ratelimit-remaining", self.remaining);
        put("ratelimit-reset", reset);
        if !self.allowed {
            put("retry-after", reset.max(1));
        }
        headers
    }

    /// The 429 answer for a refused request.
    pub fn rejection(&self) -> ApiError {
        let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, codes::RATE_LIMITED, "Demasiadas peticiones, intenta más tarde");
        err.headers = self.headers().into_iter().filter_map(|(name, value)| Some((name?, value))).collect();
        err
    }
}

/// Where the counters live.
pub enum RateLimiter {
    Memory(Mutex<HashMap<String, (Instant, u64)>>),
    /// Shared counters under keys starting with the given prefix.
    Redis(redis::aio::ConnectionManager, String),
}

/// Atomically counts a hit and returns (count, milliseconds left in the window).
static REDIS_HIT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(REDIS_HIT_LUA));

const REDIS_HIT_LUA: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
";

/// Entries kept in memory before expired windows are swept.
const MEMORY_SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn memory() -> RateLimiter {
        RateLimiter::Memory(Mutex::new(HashMap::new()))
    }

    /// Counts one request for `scope`/`key` against `budget`: 429 (with `Retry-After`) once spent.
    pub async fn spend(&self, scope: &str, key: &str, budget: crate::config::Budget) -> Result<(), ApiError> {
        let decision = self.hit(scope, key, budget.max, budget.window).await;
        if decision.allowed { Ok(()) } else { Err(decision.rejection()) }
    }

    /// Counts one request for `scope`/`key` against `max` per `window`.
    pub async fn hit(&self, scope: &str, key: &str, max: u64, window: Duration) -> Decision {
        let (count, reset_after) = match self {
            RateLimiter::Memory(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() >= MEMORY_SWEEP_AT {
                    map.retain(|_, (start, _)| now.duration_since(*start) < window);
                }
                let entry = map.entry(format!("{scope}:{key}")).or_insert((now, 0));
                if now.duration_since(entry.0) >= window {
                    *entry = (now, 0);
                }
                entry.1 += 1;
                (entry.1, window.saturating_sub(now.duration_since(entry.0)))
            }
            RateLimiter::Redis(conn, prefix) => {
                let mut conn = conn.clone();
                let result: redis::RedisResult<(u64, u64)> =
                    REDIS_HIT.key(format!("{prefix}ratelimit:{scope}:{key}")).arg(window.as_millis() as u64).invoke_async(&mut conn).await;
                match result {
                    Ok((count, ttl_ms)) => (count, Duration::from_millis(ttl_ms)),
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limiter: Redis unavailable, request let through");
                        (0, window)
                    }
                }
            }
        };
        Decision { allowed: count <= max, limit: max, remaining: max.saturating_sub(count), reset_after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_window_counts_and_resets() {
        let limiter = RateLimiter::memory();
        let window = Duration::from_millis(200);
        for expected_remaining in [1, 0] {
            let d = limiter.hit("t", "k", 2, window).await;
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
        }
        let refused = limiter.hit("t", "k", 2, window).await;
        assert!(!refused.allowed);
        assert_eq!(refused.headers()["retry-after"], "1");
        assert!(limiter.hit("t", "other", 2, window).await.allowed, "keys are independent");
        tokio::time::sleep(window).await;
        assert!(limiter.hit("t", "k", 2, window).await.allowed, "a new window starts");
    }
}

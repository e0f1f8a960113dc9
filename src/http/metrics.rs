//! Request counters and latency histograms, rendered in the Prometheus text format.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct RouteStats {
    by_status: HashMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// HTTP metrics, keyed by method and route template (never the raw path, so cardinality stays bounded).
#[derive(Default)]
pub struct HttpMetrics {
    routes: Mutex<HashMap<(String, String), RouteStats>>,
}

impl HttpMetrics {
    /// Records one finished request.
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let stats = routes.entry((method.to_string(), route.to_string())).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        stats.count += 1;
        stats.sum_seconds += seconds;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            stats.buckets[i] += 1;
        }
    }

    /// Appends the request counter and latency histogram to `out`.
    pub fn render(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<_> = routes.keys().collect();
        keys.sort();
        out.push_str("# HELP feria_http_requests_total HTTP requests by method, route template and status.\n");
        out.push_str("# TYPE feria_http_requests_total counter\n");
        for key in &keys {
            let stats = &routes[*key];
            let mut statuses: Vec<_> = stats.by_status.iter().collect();
            statuses.sort();
            for (status, n) in statuses {
                let _ = writeln!(out, "feria_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}", key.0, key.1);
            }
        }
        out.push_str("# HELP feria_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE feria_http_request_duration_seconds histogram\n");
        for key in &keys {
            let stats = &routes[*key];
            let labels = format!("method=\"{}\",route=\"{}\"", key.0, key.1);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(stats.buckets) {
                cumulative += n;
                let _ = writeln!(out, "feria_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "feria_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", stats.count);
            let _ = writeln!(out, "feria_http_request_duration_seconds_sum{{{labels}}} {}", stats.sum_seconds);
            let _ = writeln!(out, "feria_http_request_duration_seconds_count{{{labels}}} {}", stats.count);
        }
    }
}

/// Appends one metric with its help and type lines.
pub fn write_metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = HttpMetrics::default();
        m.record("GET", "/api/health", 200, Duration::from_micros(500));
        m.record("GET", "/api/health", 200, Duration::from_millis(30));
        m.record("GET", "/api/health", 503, Duration::from_secs(20));
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("feria_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} 2"));
        assert!(out.contains("le=\"0.001\"} 1\n"));
        assert!(out.contains("le=\"0.05\"} 2\n"));
        assert!(out.contains("le=\"10\"} 2\n"));
        assert!(out.contains("le=\"+Inf\"} 3\n"));
    }
}

//! `/metrics` in the Prometheus text format: requests by route, method and status; latency per
//! route as a histogram; command outcomes by code; login outcomes; the ledger's tree size.
//!
//! Labels come only from closed sets (matched route patterns, known methods, status codes,
//! stable error codes), so the number of series stays bounded whatever clients send.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

/// The upper bounds of the latency histogram's buckets, in seconds.
pub const LATENCY_BUCKETS_SECONDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The route label of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS_SECONDS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in self.buckets.iter_mut().zip(LATENCY_BUCKETS_SECONDS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum_seconds += seconds;
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: BTreeMap<(String, &'static str, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    commands: BTreeMap<&'static str, u64>,
    logins: BTreeMap<&'static str, u64>,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

/// A method as a label: the standard ones by name, anything else as `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

impl Metrics {
    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        // Counters stay meaningful after a panic elsewhere; keep counting.
        self.counters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one answered request.
    pub fn request(&self, route: &str, method: &Method, status: StatusCode, elapsed: Duration) {
        let mut counters = self.counters();
        let key = (route.to_owned(), method_label(method), status.as_u16());
        *counters.requests.entry(key).or_default() += 1;
        counters
            .latency
            .entry(route.to_owned())
            .or_default()
            .observe(elapsed);
    }

    /// Counts one command's outcome: `ok`, `replayed`, a stable error code, or `failed`.
    pub fn command(&self, outcome: &'static str) {
        *self.counters().commands.entry(outcome).or_default() += 1;
    }

    /// Counts one login's outcome: `ok` or the error code it was refused with.
    pub fn login(&self, outcome: &'static str) {
        *self.counters().logins.entry(outcome).or_default() += 1;
    }

    /// The Prometheus text exposition; `tree_size` is the ledger's, when it could be read.
    pub fn render(&self, tree_size: Option<u64>) -> String {
        let counters = self.counters();
        let mut text = String::new();
        header(
            &mut text,
            "huiyin_http_requests_total",
            "counter",
            "HTTP requests answered, by route, method and status.",
        );
        for ((route, method, status), n) in &counters.requests {
            let route = escape(route);
            let _ = writeln!(text, "huiyin_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}");
        }
        header(
            &mut text,
            "huiyin_http_request_duration_seconds",
            "histogram",
            "Time from receiving a request to answering its headers, by route.",
        );
        for (route, histogram) in &counters.latency {
            let route = escape(route);
            for (bound, n) in LATENCY_BUCKETS_SECONDS.iter().zip(histogram.buckets) {
                let _ = writeln!(text, "huiyin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let count = histogram.count;
            let _ = writeln!(text, "huiyin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}");
            let _ = writeln!(
                text,
                "huiyin_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum_seconds
            );
            let _ = writeln!(
                text,
                "huiyin_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        header(
            &mut text,
            "huiyin_commands_total",
            "counter",
            "Commands received over HTTP, by outcome: ok, replayed, the refusal's code, or failed.",
        );
        for (outcome, n) in &counters.commands {
            let _ = writeln!(text, "huiyin_commands_total{{outcome=\"{outcome}\"}} {n}");
        }
        header(
            &mut text,
            "huiyin_logins_total",
            "counter",
            "Password logins, by outcome: ok or the refusal's code.",
        );
        for (outcome, n) in &counters.logins {
            let _ = writeln!(text, "huiyin_logins_total{{outcome=\"{outcome}\"}} {n}");
        }
        if let Some(tree_size) = tree_size {
            header(
                &mut text,
                "huiyin_ledger_tree_size",
                "gauge",
                "Records in the ledger (last position + 1).",
            );
            let _ = writeln!(text, "huiyin_ledger_tree_size {tree_size}");
        }
        text
    }
}

fn header(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts every request under its matched route pattern (`/api/items/{id}`, never the raw
/// path), with its final status and latency.
pub(crate) async fn record(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE.to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .request(&route, &method, response.status(), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_counters_histograms_and_the_tree_size() {
        let metrics = Metrics::default();
        metrics.request(
            "/api/board",
            &Method::GET,
            StatusCode::OK,
            Duration::from_millis(3),
        );
        metrics.request(
            "/api/board",
            &Method::GET,
            StatusCode::OK,
            Duration::from_secs(20),
        );
        metrics.request(
            UNMATCHED_ROUTE,
            &Method::from_bytes(b"BREW").expect("method"),
            StatusCode::NOT_FOUND,
            Duration::ZERO,
        );
        metrics.command("forbidden");
        metrics.login("ok");
        let text = metrics.render(Some(7));
        assert!(text.contains("huiyin_http_requests_total{route=\"/api/board\",method=\"GET\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("huiyin_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 1\n"), "{text}");
        assert!(text.contains("huiyin_http_request_duration_seconds_bucket{route=\"/api/board\",le=\"0.005\"} 1\n"), "{text}");
        assert!(
            text.contains(
                "huiyin_http_request_duration_seconds_bucket{route=\"/api/board\",le=\"+Inf\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("huiyin_http_request_duration_seconds_count{route=\"/api/board\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("huiyin_commands_total{outcome=\"forbidden\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("huiyin_logins_total{outcome=\"ok\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE huiyin_ledger_tree_size gauge\nhuiyin_ledger_tree_size 7\n"),
            "{text}"
        );
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

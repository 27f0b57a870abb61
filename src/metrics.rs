//! The Prometheus recorder behind `GET /metrics`, and the names of the metrics the server
//! itself records (the engine's are in `rewards_engine::metrics_names`). One recorder per
//! process (the `metrics` facade has one global recorder); every application in the
//! process renders from it.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rewards_engine::metrics_names as names;
use std::sync::OnceLock;

/// Latency buckets, seconds: 50 µs to 5 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const COUNT_BUCKETS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
];

pub const HTTP_REQUESTS_TOTAL: &str = "rewards_http_requests_total";
pub const HTTP_REQUEST_SECONDS: &str = "rewards_http_request_seconds";
pub const MESSAGE_ATTEMPTS_FAILED_TOTAL: &str = "rewards_message_attempts_failed_total";

/// Registers the server's metrics' descriptions with the installed recorder.
fn describe() {
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS_TOTAL,
        "HTTP requests answered, by route, method and status"
    );
    describe_histogram!(
        HTTP_REQUEST_SECONDS,
        Unit::Seconds,
        "HTTP request latency, by route, method and status"
    );
    describe_counter!(
        MESSAGE_ATTEMPTS_FAILED_TOTAL,
        "Delivery attempts that failed and will be retried, by channel"
    );
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder on first call and returns its handle.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .expect("buckets are not empty");
            for name in names::HISTOGRAMS_NOT_IN_SECONDS {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full((*name).into()), COUNT_BUCKETS)
                    .expect("buckets are not empty");
            }
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                Err(error) => {
                    // Another recorder owns the process (an embedding program): render ours
                    // empty rather than fail.
                    tracing::warn!(%error, "metrics recorder not installed");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            };
            names::describe();
            describe();
            handle
        })
        .clone()
}

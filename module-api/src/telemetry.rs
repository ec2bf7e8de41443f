//! Logs (`tracing`, JSON by default), traces (OpenTelemetry, when configured) and the
//! Prometheus recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::LogFormat;

/// Logs, and traces when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (keep the returned exporter).
pub fn init_logging(
    format: LogFormat,
) -> anyhow::Result<Option<petory_external_api::telemetry::Tracing>> {
    petory_external_api::telemetry::init(
        "petory-api",
        format == LogFormat::Json,
        "info,tower_http=info",
    )
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &[
                        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ],
                )
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be global (embedding); then ours only renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

//! Traces over OpenTelemetry: when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, every `tracing` span is
//! exported to that OTLP/HTTP collector (JSON), W3C `traceparent` headers are read into request
//! spans, and core keeps the trace with outbox events, whose handling joins it. Unset, nothing
//! is exported and nothing here runs.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The exporter of a process that traces; flushed and stopped when dropped.
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    /// Exports every span ended so far (tests; the batch exporter sends on its own otherwise).
    pub fn flush(&self) {
        if let Err(error) = self.provider.force_flush() {
            tracing::warn!(%error, "traces not flushed");
        }
    }
}

impl Drop for Tracing {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(%error, "trace exporter not shut down cleanly");
        }
    }
}

/// The tracing layer exporting to `endpoint` (an OTLP/HTTP base URL, `…/v1/traces` is
/// appended) as `service`, and what keeps the exporter; registers core's tracer.
pub fn layer<S>(
    endpoint: &str,
    service: &'static str,
) -> anyhow::Result<(impl tracing_subscriber::Layer<S> + Send + Sync, Tracing)>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service)
                .build(),
        )
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer(service));
    petory_core::platform::trace::register(petory_core::platform::trace::Tracer {
        current: current_traceparent,
        adopt: adopt_traceparent,
    });
    Ok((layer, Tracing { provider }))
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT`, if set (and not empty).
pub fn endpoint_from_env() -> Result<Option<String>, petory_core::config::ConfigError> {
    petory_core::config::var("OTEL_EXPORTER_OTLP_ENDPOINT")
}

/// The current span's context as a W3C `traceparent`, when it belongs to a sampled trace.
fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` a child of the context a `traceparent` names (a malformed one is ignored).
fn adopt_traceparent(span: &tracing::Span, traceparent: &str) {
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(parent);
}

/// Logs (JSON, or text when `json` is false) filtered by `RUST_LOG` (else `default_filter`),
/// and traces when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: the process's one subscriber. Keep
/// the returned exporter for the life of the process. A second call (tests that build several
/// apps) keeps the first subscriber.
pub fn init(
    service: &'static str,
    json: bool,
    default_filter: &str,
) -> anyhow::Result<Option<Tracing>> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let (traces, tracing) = match endpoint_from_env()? {
        Some(endpoint) => {
            let (layer, tracing) = layer(&endpoint, service)?;
            (Some(layer), Some(tracing))
        }
        None => (None, None),
    };
    let logs = tracing_subscriber::fmt::layer().with_target(true);
    let registry = tracing_subscriber::registry().with(filter).with(traces);
    let _ = if json {
        registry
            .with(logs.json().flatten_event(true).with_current_span(true))
            .try_init()
    } else {
        registry.with(logs).try_init()
    };
    Ok(tracing)
}

//! Distributed tracing, as far as core needs it: the W3C `traceparent` of the span at hand, kept
//! with outbox events, and the span of their handling made a child of it. The binaries register
//! the tracer that does the work (OpenTelemetry, when it is configured); unregistered, both
//! functions do nothing, and core knows no tracer.

use std::sync::OnceLock;

/// What the binaries' tracer provides.
#[derive(Clone, Copy)]
pub struct Tracer {
    /// The current span's context as a W3C `traceparent` (`None`: not sampled, no trace).
    pub current: fn() -> Option<String>,
    /// Makes `span` (not yet entered) a child of the context a `traceparent` names.
    pub adopt: fn(&tracing::Span, &str),
}

static TRACER: OnceLock<Tracer> = OnceLock::new();

/// Registers the process's tracer (once; later calls change nothing).
pub fn register(tracer: Tracer) {
    let _ = TRACER.set(tracer);
}

/// The current span's `traceparent`, if a tracer is registered and a trace is being recorded.
pub fn current() -> Option<String> {
    TRACER.get().and_then(|tracer| (tracer.current)())
}

/// Makes `span` a child of `traceparent`'s context, when given and a tracer is registered.
pub fn adopt(span: &tracing::Span, traceparent: Option<&str>) {
    if let (Some(tracer), Some(parent)) = (TRACER.get(), traceparent) {
        (tracer.adopt)(span, parent);
    }
}

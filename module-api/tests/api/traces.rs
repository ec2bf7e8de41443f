//! Traces reach an OpenTelemetry collector: a request that carries a client's W3C trace context
//! joins that trace, and so does the outbox event it recorded when the relay handles it later.

use std::sync::{Arc, Mutex};

use axum::routing::post;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::util::{PASSWORD, TestApp};

/// What a collector received, as OTLP/HTTP JSON names it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportTraceRequest {
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    spans: Vec<Span>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct Span {
    trace_id: String,
    name: String,
}

/// A local OTLP/HTTP collector keeping every span it receives.
async fn collector() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let kept = spans.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| async move {
            let export: ExportTraceRequest =
                serde_json::from_slice(&body).expect("OTLP JSON export");
            let mut kept = kept.lock().expect("lock");
            for resource in export.resource_spans {
                for scope in resource.scope_spans {
                    kept.extend(scope.spans);
                }
            }
            "{}"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind collector");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("collector") });
    (endpoint, spans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_and_the_outbox_event_it_recorded_join_the_clients_trace() {
    let (endpoint, spans) = collector().await;
    let (layer, tracing) =
        petory_external_api::telemetry::layer(&endpoint, "petory-api").expect("exporter");
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(layer)
        .try_init()
        .expect("the test process's one subscriber");
    let app = TestApp::spawn().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";

    // Sign-up records the verification mail as an outbox event.
    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&serde_json::json!({"email": "traced@example.com", "password": PASSWORD, "name": "Bori"}))
        .send()
        .await
        .expect("signup");
    assert_eq!(response.status(), 202);
    assert!(app.relay_events().await.delivered >= 1);
    tokio::task::spawn_blocking(move || tracing.flush())
        .await
        .expect("flush");

    let names_in_trace = |spans: &[Span]| -> Vec<String> {
        spans
            .iter()
            .filter(|span| span.trace_id == trace_id)
            .map(|span| span.name.clone())
            .collect()
    };
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen = names_in_trace(&spans.lock().expect("lock"));
        if seen.iter().any(|name| name == "outbox_event") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen.iter().any(|name| name == "request"), "{seen:?}");
    assert!(seen.iter().any(|name| name == "outbox_event"), "{seen:?}");
}

//! Every response a test receives is checked against the operation's documented answer for its
//! status: the status is documented at all, the content type is one the document names, and a
//! JSON body is valid against the schema (JSON Schema 2020-12, `components` resolved; a problem's
//! `code` is one its operation lists). A layer of the test app, so every API test is also a
//! contract test; what it finds fails the test when its `TestApp` is dropped.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use serde_json::Value;

/// The document, the path templates to find an operation by, and the compiled schemas.
struct Contract {
    document: Value,
    paths: matchit::Router<String>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    let document = serde_json::to_value(petory_api::router::openapi()).expect("document");
    let mut paths = matchit::Router::new();
    for template in document["paths"].as_object().expect("paths").keys() {
        paths
            .insert(template.clone(), template.clone())
            .expect("a path template");
    }
    Contract {
        document,
        paths,
        validators: Mutex::default(),
    }
});

/// What the check found, kept by the test app that owns it.
#[derive(Clone, Default)]
pub struct Conformance {
    violations: Arc<Mutex<Vec<String>>>,
}

impl Conformance {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.violations.lock().expect("lock"))
    }

    fn record(&self, violation: String) {
        self.violations.lock().expect("lock").push(violation);
    }
}

/// The middleware: lets the request through, then holds the answer against the document.
pub async fn check(State(found): State<Conformance>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_ascii_lowercase();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let Some(operation) = CONTRACT
        .paths
        .at(&path)
        .ok()
        .map(|matched| &CONTRACT.document["paths"][matched.value.as_str()][&method])
        .filter(|operation| operation.is_object())
    else {
        return response; // not an operation (an unknown route, a preflight, Swagger UI)
    };
    let status = response.status();
    let at = format!(
        "{} {path} → {}",
        method.to_ascii_uppercase(),
        status.as_u16()
    );
    let documented = &operation["responses"][status.as_str()];
    let documented = resolve(if documented.is_null() {
        &operation["responses"]["default"]
    } else {
        documented
    });
    if documented.is_null() {
        found.record(format!("{at}: this status is not documented"));
        return response;
    }
    if status == axum::http::StatusCode::SWITCHING_PROTOCOLS {
        return response;
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        });
    let content = documented["content"].as_object();
    let Some(content_type) = content_type else {
        if content.is_some_and(|content| !content.is_empty()) {
            found.record(format!("{at}: no content type, the document names one"));
        }
        return response;
    };
    // Compared by essence: `text/plain; version=0.0.4` is documented as such, sent as such.
    let media = content.and_then(|content| {
        content
            .iter()
            .find(|(documented, _)| {
                documented.split(';').next().unwrap_or_default().trim() == content_type
            })
            .map(|(_, media)| media)
    });
    let Some(media) = media else {
        found.record(format!(
            "{at}: content type {content_type} is not documented (documented: {:?})",
            content.map(|content| content.keys().collect::<Vec<_>>())
        ));
        return response;
    };
    let json = content_type == "application/json" || content_type.ends_with("+json");
    if !json || media["schema"].is_null() {
        return response; // a stream, a calendar file, a redirect's empty body
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(error) => {
            found.record(format!("{at}: body unreadable: {error}"));
            return Response::from_parts(parts, Body::empty());
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(body) => {
            let key = format!("{at} {content_type}");
            let validator = validator(&key, &media["schema"]);
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .take(5)
                .map(|error| format!("{} at {}", error, error.instance_path()))
                .collect();
            if !errors.is_empty() {
                let shown: String = body.to_string().chars().take(600).collect();
                found.record(format!(
                    "{at}: body outside its schema: {errors:?}; body: {shown}"
                ));
            }
        }
        Err(error) => found.record(format!("{at}: not JSON: {error}")),
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A response given by reference (`#/components/responses/…`), resolved.
fn resolve(response: &Value) -> &Value {
    match response["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            &CONTRACT.document["components"]["responses"][name]
        }
        None => response,
    }
}

/// The schema's validator, with the document's components beside it so that its references
/// resolve; compiled once per operation, status and content type.
fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    let mut validators = CONTRACT.validators.lock().expect("lock");
    validators
        .entry(key.to_owned())
        .or_insert_with(|| {
            let mut root = schema.clone();
            root["components"] = CONTRACT.document["components"].clone();
            Arc::new(jsonschema::draft202012::new(&root).expect("a valid schema"))
        })
        .clone()
}

/// The check itself: an operation answering a status, a code or a body its document does not
/// list is caught (here a stand-in for `GET /api/v1/users/me` that misbehaves three ways).
#[tokio::test]
async fn answers_outside_the_document_are_caught() {
    use axum::http::StatusCode;
    use axum::routing::get;
    use petory_api::error::{ApiError, ProblemCode};
    let app = crate::util::TestApp::builder()
        .routes(|router| {
            router.route(
                "/api/v1/users/me",
                get(|request: Request| async move {
                    match request.uri().query() {
                        // A code the operation does not list for 401.
                        Some("code") => ApiError::unauthorized(
                            ProblemCode::OrderNotPayable,
                            "not an answer of this operation",
                        )
                        .into_response(),
                        // A status it does not document.
                        Some("status") => StatusCode::IM_A_TEAPOT.into_response(),
                        // A body outside the schema of its 200.
                        _ => axum::Json(serde_json::json!({"id": "one"})).into_response(),
                    }
                }),
            )
        })
        .spawn()
        .await;
    for query in ["code", "status", "body"] {
        app.get(&format!("/api/v1/users/me?{query}")).await;
    }
    let found = app.conformance.take();
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("ORDER_NOT_PAYABLE"), "{}", found[0]);
    assert!(
        found[1].contains("418: this status is not documented"),
        "{}",
        found[1]
    );
    assert!(found[2].contains("body outside its schema"), "{}", found[2]);
}

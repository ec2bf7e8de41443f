//! The served OpenAPI document is the committed contract (`docs/openapi.json`).
//! After an intended change: `cargo run -p petory-api -- openapi > docs/openapi.json`.

use crate::util::TestApp;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");

#[tokio::test]
async fn served_document_matches_the_committed_snapshot() {
    let app = TestApp::spawn().await;
    let response = app.get("/api-docs/openapi.json").await;
    assert_eq!(response.status(), 200);
    let served: serde_json::Value = response.json().await.unwrap();
    assert_eq!(served["openapi"], "3.1.0");

    let committed = std::fs::read_to_string(SNAPSHOT).expect("docs/openapi.json exists");
    let committed: serde_json::Value = serde_json::from_str(&committed).expect("snapshot is JSON");
    if served != committed {
        let served = serde_json::to_string_pretty(&served).unwrap();
        let path = std::env::temp_dir().join("petory-openapi.served.json");
        std::fs::write(&path, &served).unwrap();
        panic!(
            "the served OpenAPI document differs from docs/openapi.json (served copy: {}).\n\
             If the change is intended: cargo run -p petory-api -- openapi > docs/openapi.json",
            path.display()
        );
    }
}

#[test]
fn every_operation_documents_its_responses() {
    let document = serde_json::to_value(petory_api::router::openapi()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                !responses.is_empty(),
                "{method} {path} documents no response"
            );
            assert!(
                operation["tags"]
                    .as_array()
                    .is_some_and(|tags| !tags.is_empty()),
                "{method} {path} has no tag"
            );
        }
    }
}

/// A rule that lives in both the request schema and the table: the schema's pattern is the
/// one the SQL `CHECK` uses.
#[test]
fn the_phone_pattern_is_the_tables() {
    let document = serde_json::to_value(petory_api::router::openapi()).unwrap();
    let pattern =
        document["components"]["schemas"]["AddressRequest"]["properties"]["phone"]["pattern"]
            .as_str()
            .expect("a documented pattern");
    let migration =
        include_str!("../../../module-core/migrations/2026-11-23-000001_identity/up.sql");
    assert!(
        migration.contains(&format!("phone ~ '{pattern}'")),
        "users.phone CHECK differs from {pattern}"
    );
}

/// Every text a client sends has a documented bound (a length, a pattern, a format or a list of
/// values): unbounded strings are how a client learns the limits by breaking them.
#[test]
fn every_request_string_is_bounded() {
    fn walk(
        doc: &serde_json::Value,
        schema: &serde_json::Value,
        path: &str,
        out: &mut Vec<String>,
    ) {
        let schema = match schema["$ref"].as_str() {
            Some(reference) => &doc["components"]["schemas"][reference.rsplit('/').next().unwrap()],
            None => schema,
        };
        for key in ["oneOf", "anyOf", "allOf"] {
            for variant in schema[key].as_array().into_iter().flatten() {
                walk(doc, variant, path, out);
            }
        }
        let kinds: Vec<&str> = match &schema["type"] {
            serde_json::Value::String(kind) => vec![kind.as_str()],
            serde_json::Value::Array(kinds) => kinds.iter().filter_map(|k| k.as_str()).collect(),
            _ => vec![],
        };
        if kinds.contains(&"string")
            && ["maxLength", "pattern", "format", "enum"]
                .iter()
                .all(|bound| schema.get(*bound).is_none())
        {
            out.push(path.to_owned());
        }
        if kinds.contains(&"array") {
            walk(doc, &schema["items"], &format!("{path}[]"), out);
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            walk(doc, property, &format!("{path}.{name}"), out);
        }
    }
    let document = serde_json::to_value(petory_api::router::openapi()).unwrap();
    let mut unbounded = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            if !body.is_null() {
                walk(
                    &document,
                    body,
                    &format!("{method} {path} body"),
                    &mut unbounded,
                );
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "query" {
                    let name = format!("{method} {path} ?{}", parameter["name"].as_str().unwrap());
                    walk(&document, &parameter["schema"], &name, &mut unbounded);
                }
            }
        }
    }
    assert!(
        unbounded.is_empty(),
        "unbounded strings:\n{}",
        unbounded.join("\n")
    );
}

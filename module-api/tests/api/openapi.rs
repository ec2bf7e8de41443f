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

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

/// A limit that both the request schema and the table state is the same number in both (and in
/// the core constant where there is one): `(schema, property, table, column)`.
const SHARED_LIMITS: &[(&str, &str, &str, &str)] = &[
    ("SignupRequest", "name", "users", "name"),
    ("UpdateMeRequest", "name", "users", "name"),
    ("SuspensionRequest", "reason", "users", "suspension_reason"),
    ("AddressRequest", "label", "user_addresses", "label"),
    ("AddressRequest", "recipient", "user_addresses", "recipient"),
    ("AddressRequest", "address1", "user_addresses", "address1"),
    ("AddressRequest", "address2", "user_addresses", "address2"),
    (
        "UpdateAddressRequest",
        "recipient",
        "user_addresses",
        "recipient",
    ),
    ("CategoryRequest", "name", "categories", "name"),
    ("UpdateCategoryRequest", "name", "categories", "name"),
    ("ItemRequest", "name", "items", "name"),
    ("ItemRequest", "brand", "items", "brand"),
    ("ItemRequest", "description", "items", "description"),
    ("ItemRequest", "discount_rate", "items", "discount_rate"),
    ("ItemRequest", "image_keys", "items", "image_keys"),
    ("UpdateItemRequest", "name", "items", "name"),
    ("ReviewRequest", "stars", "item_reviews", "stars"),
    ("ReviewRequest", "content", "item_reviews", "content"),
    ("ReviewRequest", "image_keys", "item_reviews", "image_keys"),
    ("UpdateReviewRequest", "stars", "item_reviews", "stars"),
    ("OrderLineRequest", "quantity", "order_lines", "quantity"),
    ("AddCartItemRequest", "quantity", "cart_items", "quantity"),
    ("AnswerRequest", "content", "daily_answers", "content"),
    ("PetRequest", "name", "pets", "name"),
    ("PetRequest", "breed", "pets", "breed"),
    ("PetRequest", "weight_grams", "pets", "weight_grams"),
    ("PetRequest", "memo", "pets", "memo"),
    ("WeightRequest", "grams", "pet_weights", "grams"),
    ("DiaryEntryRequest", "text", "pet_diary_entries", "text"),
    (
        "DiaryEntryRequest",
        "image_keys",
        "pet_diary_entries",
        "image_keys",
    ),
    (
        "UpdateDiaryEntryRequest",
        "text",
        "pet_diary_entries",
        "text",
    ),
    ("PostRequest", "title", "posts", "title"),
    ("PostRequest", "content", "posts", "content"),
    ("PostRequest", "image_keys", "posts", "image_keys"),
    ("CommentRequest", "content", "post_comments", "content"),
    ("ReportRequest", "detail", "reports", "detail"),
    ("ResolveRequest", "note", "moderation_log", "note"),
    ("ListingRequest", "title", "listings", "title"),
    ("ListingRequest", "content", "listings", "content"),
    ("ListingRequest", "price", "listings", "price"),
    ("ListingRequest", "region", "listings", "region"),
    ("ListingRequest", "image_keys", "listings", "image_keys"),
    (
        "UploadRequest",
        "content_length",
        "uploads",
        "content_length",
    ),
    ("QuestionRequest", "content", "daily_questions", "content"),
    ("QuestionRequest", "month", "daily_questions", "month"),
    ("QuestionRequest", "day", "daily_questions", "day"),
    ("MessageDraft", "text", "chat_messages", "text"),
    ("PlaceRequest", "name", "places", "name"),
    ("PlaceRequest", "address", "places", "address"),
    ("PlaceRequest", "road_address", "places", "road_address"),
    ("PlaceRequest", "phone", "places", "phone"),
    ("PlaceRequest", "homepage", "places", "homepage"),
    ("PlaceRequest", "extra_fee", "places", "extra_fee"),
    ("PlaceRequest", "image_keys", "places", "image_keys"),
    ("PlaceReviewRequest", "stars", "place_reviews", "stars"),
    ("PlaceReviewRequest", "content", "place_reviews", "content"),
    (
        "PlaceReviewRequest",
        "image_keys",
        "place_reviews",
        "image_keys",
    ),
    ("MessageDraft", "image_key", "chat_messages", "image_key"),
];

/// `(min, max)` a column's own `CHECK` states, read back from PostgreSQL: `length(c)`,
/// `cardinality(c)` or `c` itself compared with numbers.
async fn check_bounds(
    conn: &mut diesel_async::AsyncPgConnection,
    table: &str,
    column: &str,
) -> (Option<i64>, Option<i64>) {
    use diesel_async::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Definition {
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    let checks: Vec<Definition> = diesel::sql_query(
        "SELECT pg_get_constraintdef(c.oid) AS definition
           FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid
          WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND a.attname = $2
            AND array_length(c.conkey, 1) = 1 AND a.attnum = c.conkey[1]",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .bind::<diesel::sql_types::Text, _>(column)
    .load(conn)
    .await
    .unwrap();
    let mut bounds = (None, None);
    for check in checks {
        for operator in [">=", "<="] {
            for part in check.definition.split(&format!(" {operator} ")).skip(1) {
                let number: String = part.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(number) = number.parse::<i64>() {
                    if operator == ">=" {
                        bounds.0 = Some(number);
                    } else {
                        bounds.1 = Some(number);
                    }
                }
            }
        }
    }
    bounds
}

#[tokio::test]
async fn documented_limits_are_the_databases_and_the_cores() {
    use diesel_async::AsyncConnection as _;
    let database = petory_core::testing::TestDatabase::new().await;
    let mut conn = diesel_async::AsyncPgConnection::establish(database.url())
        .await
        .unwrap();
    let document = serde_json::to_value(petory_api::router::openapi()).unwrap();
    let schemas = &document["components"]["schemas"];
    let mut differences = Vec::new();
    for (schema, property, table, column) in SHARED_LIMITS {
        let mut field = schemas[schema]["properties"][property].clone();
        if let Some(variant) = field["oneOf"]
            .as_array()
            .and_then(|variants| variants.iter().find(|v| v["type"] != "null"))
        {
            field = variant.clone();
        }
        let documented = (
            ["minLength", "minimum", "minItems"]
                .iter()
                .find_map(|key| field[*key].as_i64()),
            ["maxLength", "maximum", "maxItems"]
                .iter()
                .find_map(|key| field[*key].as_i64()),
        );
        let enforced = check_bounds(&mut conn, table, column).await;
        // Where the table states a bound, the schema states the same one.
        let same = enforced.0.is_none_or(|min| documented.0 == Some(min))
            && enforced.1.is_none_or(|max| documented.1 == Some(max))
            && (enforced.0.is_some() || enforced.1.is_some());
        if !same {
            differences.push(format!(
                "{schema}.{property} documents {documented:?}, {table}.{column} enforces {enforced:?}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    let quantity = &schemas["OrderLineRequest"]["properties"]["quantity"]["maximum"];
    assert_eq!(
        quantity.as_i64(),
        Some(i64::from(petory_core::shop::cart::MAX_QUANTITY)),
        "the core's quantity limit is the documented one"
    );
}

//! The contract, tried as an independent fuzzer would. Every operation in the OpenAPI document
//! is driven with generated input: hostile path and query values (NUL, huge, negative, not a
//! number, impossible dates), bodies sampled from the schema with each field in turn made NUL,
//! huge, negative, empty, of the wrong type or just beyond a documented limit, wrong content
//! types, no token, a bad token. Every answer must be below 500, be a status the operation
//! declares, and be a problem document when it is an error; a value beyond a limit the schema
//! documents must be refused, and one exactly at the limit must not be refused for that field.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::fixtures::{app_with_kakaopay, order_body, pay, shop, subscribe_to};
use crate::util::TestApp;

/// What a caller presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Guest,
    User,
    Admin,
    BadToken,
}

enum Body {
    None,
    Json(Value),
    Raw(&'static str, &'static str),
}

struct Fuzz {
    app: TestApp,
    doc: Value,
    user: String,
    admin: String,
    failures: Vec<String>,
    requests: usize,
    unique: u64,
}

/// Path values a client may send instead of an id.
const HOSTILE_PATH: [&str; 9] = [
    "1",
    "0",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "abc",
    "%00",
    "1e3",
    "%F0%9F%90%B6",
];

/// Query values a client may send for any parameter.
const HOSTILE_QUERY: [&str; 14] = [
    "",
    "%00",
    "a%00b",
    "-1",
    "0",
    "-14003",
    "99999999999999999999",
    "abc",
    "1.5",
    "2026-13-45",
    "-5000-01-01",
    "99999-12-31",
    "%27%3B--",
    "%E2%80%AE",
];

impl Fuzz {
    /// A shop with data behind id 1 of most things: users, an item, a paid order, a
    /// subscription, a review, an answer; three bystander accounts take the first user ids so
    /// that admin actions on "user 1" never touch the fuzzer's own accounts.
    async fn new() -> Self {
        let (app, sandbox) = app_with_kakaopay(Duration::from_secs(5)).await;
        std::mem::forget(sandbox); // lives as long as the test process
        for n in 1..=3 {
            app.signup(&format!("bystander{n}@example.com")).await;
        }
        let (item, user, address) = shop(&app, 1000).await;
        let order: Value = app
            .post_ok("/api/v1/orders", Some(&user), order_body(item, 1, address))
            .await;
        let order = order["id"].as_i64().unwrap();
        app.get(&pay(&app, &user, order).await).await;
        subscribe_to(&app, &user, item, address).await;
        app.post_json(
            &format!("/api/v1/items/{item}/reviews"),
            Some(&user),
            json!({"stars": 5, "content": "good"}),
        )
        .await;
        let today: Value = app
            .send_ok(Method::GET, "/api/v1/daily-questions/today", None, None)
            .await;
        app.post_json(
            &format!(
                "/api/v1/daily-questions/{}/answers",
                today["question"]["id"]
            ),
            Some(&user),
            json!({"content": "a walk"}),
        )
        .await;
        app.relay_events().await;
        let admin = app.admin_token().await;
        let doc = serde_json::to_value(petory_api::router::openapi()).unwrap();
        Self {
            app,
            doc,
            user,
            admin,
            failures: Vec::new(),
            requests: 0,
            unique: 0,
        }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                self.resolve(&self.doc["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    /// The schema without its `null` alternative.
    fn non_null<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let schema = self.resolve(schema);
        for key in ["oneOf", "anyOf"] {
            if let Some(variants) = schema[key].as_array()
                && let Some(variant) = variants.iter().find(|v| v["type"] != "null")
            {
                return self.non_null(variant);
            }
        }
        schema
    }

    fn kind(schema: &Value) -> &str {
        match &schema["type"] {
            Value::String(kind) => kind,
            Value::Array(kinds) => kinds
                .iter()
                .filter_map(Value::as_str)
                .find(|kind| *kind != "null")
                .unwrap_or("null"),
            _ if schema["properties"].is_object() => "object",
            _ => "any",
        }
    }

    /// A value the schema accepts, preferring its example; ids and counts come out as 1.
    fn sample(&mut self, schema: &Value) -> Value {
        let schema = self.non_null(schema).clone();
        if let Some(values) = schema["enum"].as_array() {
            return values[0].clone();
        }
        if let Some(parts) = schema["allOf"].as_array() {
            let mut merged = Map::new();
            for part in parts {
                if let Value::Object(fields) = self.sample(part) {
                    merged.extend(fields);
                }
            }
            return Value::Object(merged);
        }
        match Self::kind(&schema) {
            "string" => {
                self.unique += 1;
                match schema["format"].as_str() {
                    Some("email") => json!(format!("fuzz{}@example.com", self.unique)),
                    Some("date") => json!("2026-11-24"),
                    Some("date-time") => json!("2026-11-24T00:00:00Z"),
                    _ => match &schema["example"] {
                        Value::String(example) => json!(example),
                        _ => {
                            let min = schema["minLength"].as_u64().unwrap_or(1).max(1) as usize;
                            json!("x".repeat(min.max(4)))
                        }
                    },
                }
            }
            "integer" | "number" => match &schema["example"] {
                Value::Number(example) => Value::Number(example.clone()),
                _ => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
            },
            "boolean" => json!(false),
            "array" => {
                let count = schema["minItems"].as_u64().unwrap_or(1).max(1);
                let items = schema["items"].clone();
                Value::Array((0..count).map(|_| self.sample(&items)).collect())
            }
            "object" => {
                let mut fields = Map::new();
                if let Some(properties) = schema["properties"].as_object() {
                    for (name, property) in properties {
                        let value = self.sample(property);
                        fields.insert(name.clone(), value);
                    }
                }
                Value::Object(fields)
            }
            _ => json!("x"),
        }
    }

    /// Every scalar in `body` with its path (`items[0].quantity`) and schema.
    fn leaves(&self, schema: &Value, value: &Value, path: String, out: &mut Vec<(String, Value)>) {
        let schema = self.non_null(schema);
        match value {
            Value::Object(fields) => {
                for (name, field) in fields {
                    let here = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    self.leaves(&schema["properties"][name], field, here, out);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.leaves(&schema["items"], item, format!("{path}[{index}]"), out);
                }
                out.push((path, schema.clone()));
            }
            _ => out.push((path, schema.clone())),
        }
    }

    async fn send(
        &mut self,
        method: &Method,
        url_path: &str,
        caller: Caller,
        body: &Body,
        idempotency_key: Option<&str>,
    ) -> (u16, String, Value) {
        let mut request = self
            .app
            .client
            .request(method.clone(), self.app.url(url_path))
            .timeout(Duration::from_secs(20));
        match caller {
            Caller::Guest => {}
            Caller::User => request = request.bearer_auth(&self.user),
            Caller::Admin => request = request.bearer_auth(&self.admin),
            Caller::BadToken => request = request.bearer_auth("not.a.token"),
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        match body {
            Body::None => {}
            Body::Json(value) => request = request.json(value),
            Body::Raw(content_type, text) => {
                request = request.header("content-type", *content_type).body(*text)
            }
        }
        self.requests += 1;
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                self.failures
                    .push(format!("{method} {url_path}: no answer: {error}"));
                return (0, String::new(), Value::Null);
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        // A live event stream never ends: its headers are the answer.
        let body = if content_type.starts_with("text/event-stream") {
            Value::Null
        } else {
            let text = response.text().await.unwrap_or_default();
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, content_type, body)
    }

    /// Checks one answer against the operation's declared responses.
    fn judge(
        &mut self,
        operation: &Value,
        what: &str,
        (status, content_type, body): &(u16, String, Value),
    ) {
        if *status == 0 {
            return;
        }
        if *status >= 500 {
            self.failures.push(format!("{what}: {status} {body}"));
            return;
        }
        let declared = operation["responses"]
            .as_object()
            .is_some_and(|responses| responses.contains_key(&status.to_string()));
        if !declared {
            self.failures.push(format!(
                "{what}: answered {status}, which the operation does not declare ({})",
                body["code"]
            ));
        }
        if *status >= 400 && content_type != "application/problem+json" {
            self.failures.push(format!(
                "{what}: error {status} is not a problem ({content_type})"
            ));
        }
    }

    async fn drive(&mut self, method: Method, template: &str, operation: &Value) {
        let parameters: Vec<Value> = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let path_names: Vec<String> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let with_path = |value: &str| {
            let mut path = template.to_owned();
            for name in &path_names {
                path = path.replace(&format!("{{{name}}}"), value);
            }
            path
        };
        let takes_key = parameters.iter().any(|p| p["name"] == "Idempotency-Key");
        let body_schema = operation["requestBody"]["content"]["application/json"]["schema"].clone();
        let has_body = !body_schema.is_null();
        let baseline = if has_body {
            self.sample(&body_schema)
        } else {
            Value::Null
        };
        let body_of = |value: &Value| {
            if has_body {
                Body::Json(value.clone())
            } else {
                Body::None
            }
        };
        let base_path = with_path("1");
        let name = format!("{method} {template}");

        for caller in [Caller::Guest, Caller::BadToken, Caller::User, Caller::Admin] {
            let answer = self
                .send(&method, &base_path, caller, &body_of(&baseline), None)
                .await;
            self.judge(operation, &format!("{name} as {caller:?}"), &answer);
        }
        if !path_names.is_empty() {
            for value in HOSTILE_PATH {
                for caller in [Caller::User, Caller::Admin] {
                    let answer = self
                        .send(
                            &method,
                            &with_path(value),
                            caller,
                            &body_of(&baseline),
                            None,
                        )
                        .await;
                    self.judge(operation, &format!("{name} with path {value:?}"), &answer);
                }
            }
        }
        for parameter in parameters.iter().filter(|p| p["in"] == "query") {
            let param = parameter["name"].as_str().unwrap().to_owned();
            let schema = self.non_null(&parameter["schema"]).clone();
            let mut values: Vec<String> = HOSTILE_QUERY.iter().map(|v| (*v).to_owned()).collect();
            values.push("y".repeat(5000));
            if let Some(max) = schema["maximum"].as_i64() {
                values.push((max + 1).to_string());
            }
            if let Some(min) = schema["minimum"].as_i64() {
                values.push((min - 1).to_string());
            }
            for value in values {
                for caller in [Caller::User, Caller::Admin] {
                    let path = format!("{base_path}?{param}={value}");
                    let answer = self
                        .send(&method, &path, caller, &body_of(&baseline), None)
                        .await;
                    self.judge(
                        operation,
                        &format!("{name} with ?{param}={value:.40}"),
                        &answer,
                    );
                }
            }
            // Just beyond a documented bound is refused.
            for beyond in [
                schema["maximum"].as_i64().map(|max| max + 1),
                schema["minimum"].as_i64().map(|min| min - 1),
            ]
            .into_iter()
            .flatten()
            {
                let path = format!("{base_path}?{param}={beyond}");
                let answer = self
                    .send(&method, &path, Caller::Admin, &body_of(&baseline), None)
                    .await;
                if answer.0 < 400 {
                    self.failures.push(format!(
                        "{name}: ?{param}={beyond} is beyond the documented bounds but answered {}",
                        answer.0
                    ));
                }
            }
        }
        if takes_key {
            for key in ["", &"k".repeat(300), "has space", "ключ"] {
                let answer = self
                    .send(
                        &method,
                        &base_path,
                        Caller::User,
                        &body_of(&baseline),
                        Some(key),
                    )
                    .await;
                self.judge(
                    operation,
                    &format!("{name} with Idempotency-Key {key:.20?}"),
                    &answer,
                );
            }
        }
        if has_body {
            for (label, body) in [
                ("no body", Body::None),
                ("broken JSON", Body::Raw("application/json", "{\"a\":")),
                ("an array", Body::Raw("application/json", "[]")),
                ("a string", Body::Raw("application/json", "\"x\"")),
                ("text/plain", Body::Raw("text/plain", "{}")),
                (
                    "a NUL key",
                    Body::Raw("application/json", "{\"\\u0000\":1}"),
                ),
            ] {
                for caller in [Caller::User, Caller::Admin] {
                    let answer = self.send(&method, &base_path, caller, &body, None).await;
                    self.judge(operation, &format!("{name} with {label}"), &answer);
                }
            }
            // A property the schema does not name is refused, never silently ignored.
            if let Value::Object(fields) = &baseline {
                let mut with_extra = fields.clone();
                with_extra.insert("not_in_the_schema".into(), json!(1));
                let answer = self
                    .send(
                        &method,
                        &base_path,
                        Caller::Admin,
                        &Body::Json(Value::Object(with_extra)),
                        None,
                    )
                    .await;
                self.judge(
                    operation,
                    &format!("{name} with an unknown property"),
                    &answer,
                );
                if answer.0 < 400 || (answer.0 == 422 && answer.2["code"] != "UNKNOWN_FIELD") {
                    self.failures.push(format!(
                        "{name}: a property the schema does not name answered {} {}",
                        answer.0, answer.2["code"]
                    ));
                }
            }
            let mut leaves = Vec::new();
            self.leaves(&body_schema, &baseline, String::new(), &mut leaves);
            for (path, schema) in leaves {
                self.mutate_field(
                    &method, &base_path, operation, &name, &baseline, &path, &schema,
                )
                .await;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn mutate_field(
        &mut self,
        method: &Method,
        url_path: &str,
        operation: &Value,
        name: &str,
        baseline: &Value,
        path: &str,
        schema: &Value,
    ) {
        let mut mutations: Vec<(String, Value)> = vec![
            ("NUL".into(), json!("bo\u{0}ri")),
            ("10,000 characters".into(), json!("z".repeat(10_000))),
            ("empty".into(), json!("")),
            ("-1".into(), json!(-1)),
            ("i64::MAX".into(), json!(i64::MAX)),
            ("-i64::MAX".into(), json!(-i64::MAX)),
            ("1e300".into(), json!(1e300)),
            ("true".into(), json!(true)),
            ("null".into(), Value::Null),
            ("[]".into(), json!([])),
            ("{}".into(), json!({})),
            ("a form feed".into(), json!("\u{c}")),
        ];
        // Just beyond each documented limit: must be refused. At the limit: must not be
        // refused for this field.
        let mut beyond = Vec::new();
        let mut at = Vec::new();
        if let Some(max) = schema["maxLength"].as_u64() {
            beyond.push(json!("m".repeat(max as usize + 1)));
            at.push(json!("m".repeat(max as usize)));
        }
        if let Some(min) = schema["minLength"].as_u64().filter(|min| *min > 0) {
            beyond.push(json!("m".repeat(min as usize - 1)));
        }
        if schema["pattern"] == petory_api::openapi::NOT_BLANK {
            beyond.push(json!(
                " ".repeat(schema["minLength"].as_u64().unwrap_or(1).max(3) as usize)
            ));
        }
        if let Some(max) = schema["maximum"].as_i64() {
            beyond.push(json!(max + 1));
            at.push(json!(max));
        }
        if let Some(min) = schema["minimum"].as_i64() {
            beyond.push(json!(min - 1));
            at.push(json!(min));
        }
        match schema["format"].as_str() {
            Some("date") => mutations.extend([
                ("year -5000".to_owned(), json!("-5000-01-01")),
                ("year +200000".to_owned(), json!("+200000-01-01")),
                ("February 30".to_owned(), json!("2026-02-30")),
            ]),
            Some("date-time") => mutations.extend([
                ("year -5000".to_owned(), json!("-5000-01-01T00:00:00Z")),
                ("year +200000".to_owned(), json!("+200000-01-01T00:00:00Z")),
                ("no offset".to_owned(), json!("2026-11-24T00:00:00")),
            ]),
            _ => {}
        }
        if let Some(max) = schema["maxItems"].as_u64()
            && let Value::Array(items) = pointer_value(baseline, path)
            && let Some(first) = items.first()
        {
            beyond.push(Value::Array(vec![first.clone(); max as usize + 1]));
        }
        mutations.extend(
            beyond
                .iter()
                .map(|v| ("beyond a limit".to_owned(), v.clone())),
        );
        for (label, value) in &mutations {
            let body = Body::Json(replace(baseline, path, value.clone()));
            let answer = self
                .send(method, url_path, Caller::Admin, &body, None)
                .await;
            self.judge(operation, &format!("{name} with {path} = {label}"), &answer);
            if label == "beyond a limit" && (200..300).contains(&answer.0) {
                self.failures.push(format!(
                    "{name}: {path} = {value:.60} is beyond its documented limit but was accepted"
                ));
            }
        }
        for value in at {
            let body = Body::Json(replace(baseline, path, value.clone()));
            let answer = self
                .send(method, url_path, Caller::Admin, &body, None)
                .await;
            let refused_here = answer.0 == 422
                && answer.2["errors"].as_array().is_some_and(|errors| {
                    errors.iter().any(|e| {
                        e["field"] == path
                            && (matches!(
                                e["code"].as_str(),
                                Some("length" | "range" | "constraint")
                            ) || (e["code"] == "pattern" && schema["pattern"].is_null()))
                    })
                });
            if refused_here {
                self.failures.push(format!(
                    "{name}: {path} = {value:.60} is within its documented limits but was refused: {}",
                    answer.2
                ));
            }
        }
    }
}

/// The value at `items[0].quantity` in `root`.
fn pointer_value<'a>(root: &'a Value, path: &str) -> &'a Value {
    let mut here = root;
    for step in steps(path) {
        here = match step {
            Step::Key(key) => &here[key],
            Step::Index(index) => &here[index],
        };
    }
    here
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        for index in rest.split('[') {
            if let Ok(index) = index.trim_end_matches(']').parse() {
                out.push(Step::Index(index));
            }
        }
    }
    out
}

/// `root` with the value at `path` replaced.
fn replace(root: &Value, path: &str, value: Value) -> Value {
    let mut copy = root.clone();
    let mut here = &mut copy;
    for step in steps(path) {
        here = match step {
            Step::Key(key) => &mut here[key],
            Step::Index(index) => &mut here[index],
        };
    }
    *here = value;
    copy
}

/// Operations that end the caller's own session or account go last, so that the rest run
/// signed in.
fn destroys_the_caller(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("post", "/api/v1/auth/logout")
            | ("delete", "/api/v1/users/me")
            | ("put", "/api/v1/users/me/password")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_survives_hostile_input_and_answers_only_what_it_declares() {
    let mut fuzz = Fuzz::new().await;
    let mut operations: Vec<(String, String, Value)> = Vec::new();
    for (path, item) in fuzz.doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    operations.sort_by_key(|(method, path, _)| destroys_the_caller(method, path));
    for (method, path, operation) in &operations {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        fuzz.drive(method, path, operation).await;
    }
    assert!(
        fuzz.requests > 1000,
        "only {} requests were made",
        fuzz.requests
    );
    fuzz.failures.sort();
    fuzz.failures.dedup();
    assert!(
        fuzz.failures.is_empty(),
        "{} of {} requests broke the contract:\n{}",
        fuzz.failures.len(),
        fuzz.requests,
        fuzz.failures.join("\n")
    );
}

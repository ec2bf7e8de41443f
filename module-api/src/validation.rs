//! Request bodies are checked against the limits their OpenAPI schema documents (`minLength`,
//! `maxLength`, `minimum`, `maximum`, `minItems`, `maxItems`, `pattern`), so the document a
//! client generates from and the rules the server applies are one source and cannot drift.
//! Rules no schema can say (a password's mix of characters, an email address) stay `validator`
//! rules on the request type.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use regex::Regex;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::error::FieldError;

/// The rule code of a property that the schema does not name (`422 UNKNOWN_FIELD`).
pub const UNKNOWN: &str = "unknown";

/// A request type's schema with every component it refers to, and its patterns compiled.
pub struct BodySchema {
    /// A body's schema (text that must not be empty must not be only spaces either), not a
    /// query's.
    body: bool,
    root: Value,
    components: Map<String, Value>,
    patterns: HashMap<String, Regex>,
}

/// Schemas by type and by use (`true` for query parameters).
type Cache = RwLock<HashMap<(TypeId, bool), Arc<BodySchema>>>;

static SCHEMAS: LazyLock<Cache> = LazyLock::new(Default::default);

impl BodySchema {
    /// `T`'s schema, built once per type.
    pub fn of<T: ToSchema + 'static>() -> Arc<Self> {
        let id = (TypeId::of::<T>(), false);
        if let Some(found) = SCHEMAS
            .read()
            .ok()
            .and_then(|cache| cache.get(&id).cloned())
        {
            return found;
        }
        let mut referenced = Vec::new();
        T::schemas(&mut referenced);
        let components: Map<String, Value> = referenced
            .into_iter()
            .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default()))
            .collect();
        let root = serde_json::to_value(T::schema()).unwrap_or_default();
        let mut patterns = HashMap::new();
        for schema in std::iter::once(&root).chain(components.values()) {
            collect_patterns(schema, &mut patterns);
        }
        let built = Arc::new(Self {
            body: true,
            root,
            components,
            patterns,
        });
        if let Ok(mut cache) = SCHEMAS.write() {
            cache.insert(id, built.clone());
        }
        built
    }

    /// A query type's parameters as one object schema (`{param: schema}`), built once per type.
    pub fn of_query<T: IntoParams + 'static>() -> Arc<Self> {
        let id = (TypeId::of::<T>(), true);
        if let Some(found) = SCHEMAS
            .read()
            .ok()
            .and_then(|cache| cache.get(&id).cloned())
        {
            return found;
        }
        let properties: Map<String, Value> = T::into_params(|| None)
            .into_iter()
            .filter_map(|parameter| {
                let value = serde_json::to_value(&parameter).ok()?;
                Some((parameter.name, value["schema"].clone()))
            })
            .collect();
        // Parameters the type does not name are ignored (a cache buster, a newer client's).
        let root = serde_json::json!({
            "type": "object", "properties": properties, "additionalProperties": true
        });
        let mut patterns = HashMap::new();
        collect_patterns(&root, &mut patterns);
        let built = Arc::new(Self {
            body: false,
            root,
            components: Map::new(),
            patterns,
        });
        if let Ok(mut cache) = SCHEMAS.write() {
            cache.insert(id, built.clone());
        }
        built
    }

    /// Every documented limit a query string breaks. Values are text: one documented as a
    /// number is compared as the number it reads as (one that does not read as a number is
    /// left to the parser, which refuses it).
    pub fn check_query(&self, query: &str) -> Vec<FieldError> {
        let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
            return Vec::new();
        };
        let mut fields = Map::new();
        for (name, text) in pairs {
            let schema = self.non_null(&self.root["properties"][&name]);
            let value = match Self::kind(schema) {
                "integer" | "number" => match text.parse::<f64>() {
                    Ok(number) => {
                        serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
                    }
                    Err(_) => continue,
                },
                _ => Value::String(text),
            };
            fields.insert(name, value);
        }
        self.check(&Value::Object(fields))
    }

    fn non_null<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let schema = self.resolve(schema);
        for key in ["oneOf", "anyOf"] {
            if let Some(variant) = schema[key]
                .as_array()
                .and_then(|variants| variants.iter().find(|v| v["type"] != "null"))
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
            _ => "any",
        }
    }

    /// Every documented limit `value` breaks, one entry per field (`items[0].quantity`).
    pub fn check(&self, value: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.check_at(&self.root, value, "", &mut errors);
        errors
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.rsplit('/').next().unwrap_or_default();
                self.components
                    .get(name)
                    .map_or(&Value::Null, |found| self.resolve(found))
            }
            None => schema,
        }
    }

    fn check_at(&self, schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
        let schema = self.resolve(schema);
        if value.is_null() {
            return; // absent or null: serde has decided whether that is allowed
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(variants) = schema[key].as_array() {
                // Options are `oneOf: [null, T]`: check against the variants that are not null.
                for variant in variants.iter().filter(|v| v["type"] != "null") {
                    self.check_at(variant, value, path, errors);
                }
            }
        }
        if let Some(parts) = schema["allOf"].as_array() {
            for part in parts {
                self.check_at(part, value, path, errors);
            }
        }
        match value {
            Value::String(text) => self.check_string(schema, text, path, errors),
            Value::Number(number) => check_number(schema, number, path, errors),
            Value::Array(items) => {
                check_count(schema, items.len(), path, errors);
                for (index, item) in items.iter().enumerate() {
                    self.check_at(&schema["items"], item, &format!("{path}[{index}]"), errors);
                }
            }
            Value::Object(fields) => {
                // A map (`{kind: …}`): each value is checked against its schema.
                if schema["properties"].is_null() && schema["additionalProperties"].is_object() {
                    for (name, field) in fields {
                        let here = if path.is_empty() {
                            name.clone()
                        } else {
                            format!("{path}.{name}")
                        };
                        self.check_at(&schema["additionalProperties"], field, &here, errors);
                    }
                }
                if let Some(properties) = schema["properties"].as_object() {
                    // Named properties are the whole object unless the schema opens it.
                    let closed = matches!(
                        schema["additionalProperties"],
                        Value::Null | Value::Bool(false)
                    );
                    for (name, field) in fields {
                        let here = if path.is_empty() {
                            name.clone()
                        } else {
                            format!("{path}.{name}")
                        };
                        match properties.get(name) {
                            Some(property) => self.check_at(property, field, &here, errors),
                            None if closed => errors.push(field_error(
                                &here,
                                UNKNOWN,
                                "is not a property of this request".to_owned(),
                            )),
                            None => {}
                        }
                    }
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn check_string(&self, schema: &Value, text: &str, path: &str, errors: &mut Vec<FieldError>) {
        let (min, max) = (schema["minLength"].as_u64(), schema["maxLength"].as_u64());
        let length = text.chars().count() as u64;
        if min.is_some_and(|min| length < min) || max.is_some_and(|max| length > max) {
            let message = match (min, max) {
                (Some(min), Some(max)) => format!("must be {min} to {max} characters"),
                (Some(min), None) => format!("must be at least {min} characters"),
                (None, Some(max)) => format!("must be at most {max} characters"),
                (None, None) => unreachable!("a bound was broken"),
            };
            errors.push(field_error(path, "length", message));
        } else if self.body
            && min.is_some_and(|min| min > 0)
            && schema["format"].is_null()
            && text.trim().is_empty()
        {
            // Stored trimmed, so only spaces would be empty: the document says so too
            // (`openapi::NOT_BLANK`).
            errors.push(field_error(
                path,
                "pattern",
                "must not be only spaces".to_owned(),
            ));
        }
        if let Some(pattern) = schema["pattern"].as_str()
            && let Some(regex) = self.patterns.get(pattern)
            && !regex.is_match(text)
        {
            let example = schema["example"]
                .as_str()
                .map(|example| format!(", such as {example}"))
                .unwrap_or_default();
            errors.push(field_error(
                path,
                "pattern",
                format!("must match {pattern}{example}"),
            ));
        }
    }
}

fn check_number(
    schema: &Value,
    number: &serde_json::Number,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(value) = number.as_f64() else {
        return;
    };
    let (min, max) = (schema["minimum"].as_f64(), schema["maximum"].as_f64());
    if min.is_some_and(|min| value < min) || max.is_some_and(|max| value > max) {
        let message = match (&schema["minimum"], &schema["maximum"]) {
            (Value::Number(min), Value::Number(max)) => format!("must be {min} to {max}"),
            (Value::Number(min), _) => format!("must be at least {min}"),
            (_, Value::Number(max)) => format!("must be at most {max}"),
            _ => "is out of range".to_owned(),
        };
        errors.push(field_error(path, "range", message));
    }
}

fn check_count(schema: &Value, count: usize, path: &str, errors: &mut Vec<FieldError>) {
    let count = count as u64;
    let (min, max) = (schema["minItems"].as_u64(), schema["maxItems"].as_u64());
    if min.is_some_and(|min| count < min) || max.is_some_and(|max| count > max) {
        let message = match (min, max) {
            (Some(min), Some(max)) => format!("must have {min} to {max} entries"),
            (Some(min), None) => format!("must have at least {min} entries"),
            (_, Some(max)) => format!("must have at most {max} entries"),
            (None, None) => unreachable!("a bound was broken"),
        };
        errors.push(field_error(path, "length", message));
    }
}

fn field_error(path: &str, code: &str, message: String) -> FieldError {
    FieldError {
        field: if path.is_empty() {
            "body".into()
        } else {
            path.into()
        },
        code: code.into(),
        message,
    }
}

fn collect_patterns(schema: &Value, out: &mut HashMap<String, Regex>) {
    match schema {
        Value::Object(fields) => {
            if let Some(Value::String(pattern)) = fields.get("pattern")
                && !out.contains_key(pattern)
            {
                match Regex::new(pattern) {
                    Ok(regex) => {
                        out.insert(pattern.clone(), regex);
                    }
                    Err(error) => {
                        tracing::error!(%pattern, %error, "a schema pattern does not compile")
                    }
                }
            }
            for value in fields.values() {
                collect_patterns(value, out);
            }
        }
        Value::Array(values) => {
            for value in values {
                collect_patterns(value, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Deserialize, ToSchema)]
    #[allow(dead_code)]
    struct Line {
        #[schema(minimum = 1, maximum = 99)]
        quantity: i32,
    }

    #[derive(Deserialize, ToSchema)]
    #[allow(dead_code)]
    struct Request {
        #[schema(min_length = 1, max_length = 5)]
        name: String,
        #[schema(max_length = 3)]
        nickname: Option<String>,
        #[schema(pattern = r"^[0-9]{5}$", example = "06236")]
        zip_code: String,
        #[schema(max_items = 2)]
        lines: Vec<Line>,
    }

    fn errors(value: serde_json::Value) -> Vec<(String, String)> {
        let mut found: Vec<_> = BodySchema::of::<Request>()
            .check(&value)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn documented_limits_are_the_rules() {
        assert!(
            errors(json!({"name": "bori", "zip_code": "06236", "lines": [{"quantity": 99}]}))
                .is_empty()
        );
        assert_eq!(
            errors(json!({
                "name": "",
                "nickname": "long",
                "zip_code": "6236",
                "lines": [{"quantity": 0}, {"quantity": 100}, {"quantity": 1}]
            })),
            [
                ("lines".into(), "length".into()),
                ("lines[0].quantity".into(), "range".into()),
                ("lines[1].quantity".into(), "range".into()),
                ("name".into(), "length".into()),
                ("nickname".into(), "length".into()),
                ("zip_code".into(), "pattern".into()),
            ]
        );
        assert_eq!(
            errors(
                json!({"name": "bori", "zip_code": "06236", "lines": [{"quantity": 1, "qty": 2}], "nick": "x"})
            ),
            [
                ("lines[0].qty".into(), UNKNOWN.into()),
                ("nick".into(), UNKNOWN.into()),
            ]
        );
        assert_eq!(
            errors(json!({"name": "   ", "zip_code": "06236", "lines": []})),
            [("name".into(), "pattern".into())]
        );
        // Characters, not bytes: five Hangul syllables are five.
        assert!(errors(json!({"name": "보리보리보", "zip_code": "06236", "lines": []})).is_empty());
        assert!(
            errors(json!({"name": "bori", "nickname": null, "zip_code": "06236", "lines": []}))
                .is_empty()
        );
    }
}

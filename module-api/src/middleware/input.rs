//! Input PostgreSQL cannot store never reaches it: a NUL character (`%00` in a path or query,
//! `\u0000` in a JSON string) is refused at the edge with a problem naming where it was, for
//! every route at once.

use crate::error::ProblemCode;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, FieldError};

/// Refuses a request whose path or query string carries an encoded NUL.
pub async fn reject_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if contains_encoded_nul(uri.path()) {
        return nul_error(ProblemCode::InvalidPath, "path", "the path").into_response();
    }
    if let Some(query) = uri.query()
        && contains_encoded_nul(query)
    {
        let field = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(key, value)| key.contains('\0') || value.contains('\0'))
                    .map(|(key, _)| key.replace('\0', ""))
            })
            .unwrap_or_else(|| "query".to_owned());
        return nul_error(ProblemCode::InvalidQuery, &field, "the query string").into_response();
    }
    next.run(request).await
}

fn contains_encoded_nul(text: &str) -> bool {
    text.as_bytes().windows(3).any(|window| window == b"%00")
}

fn nul_error(code: ProblemCode, field: &str, place: &str) -> ApiError {
    ApiError::bad_request(code, format!("{place} holds a NUL character (%00)")).with_errors(vec![
        FieldError {
            field: field.to_owned(),
            code: "nul_character".to_owned(),
            message: "must not contain a NUL character".to_owned(),
        },
    ])
}

/// The path (`items[0].name`) of the first JSON string, or key, holding a NUL, if any. Cheap on
/// every body: the full parse happens only when the raw bytes hold an unescaped `\u0000`.
pub fn nul_in_json(body: &[u8]) -> Option<String> {
    if !has_nul_escape(body) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    find_nul(&value, String::new())
}

/// Whether `\u0000` appears as an escape (preceded by an odd number of backslashes).
fn has_nul_escape(body: &[u8]) -> bool {
    body.windows(6).enumerate().any(|(at, window)| {
        window.eq_ignore_ascii_case(b"\\u0000")
            && body[..at].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(text) if text.contains('\0') => {
            Some(if path.is_empty() { "body".into() } else { path })
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| find_nul(item, format!("{path}[{index}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let here = if path.is_empty() {
                key.replace('\0', "")
            } else {
                format!("{path}.{}", key.replace('\0', ""))
            };
            if key.contains('\0') {
                Some(here)
            } else {
                find_nul(item, here)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes_are_found_with_their_path() {
        assert_eq!(
            nul_in_json(br#"{"name":"bo\u0000ri"}"#).as_deref(),
            Some("name")
        );
        assert_eq!(
            nul_in_json(br#"{"items":[{"q":1},{"note":"\u0000"}]}"#).as_deref(),
            Some("items[1].note")
        );
        assert_eq!(nul_in_json(br#"{"a\u0000":1}"#).as_deref(), Some("a"));
        assert_eq!(nul_in_json(br#""\u0000""#).as_deref(), Some("body"));
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_text_not_nul() {
        assert_eq!(nul_in_json(br#"{"name":"C:\\u0000"}"#), None);
        assert_eq!(nul_in_json(br#"{"name":"plain"}"#), None);
        assert_eq!(
            nul_in_json(br#"{"name":"\\\u0000"}"#).as_deref(),
            Some("name")
        );
    }

    #[test]
    fn encoded_nul_in_a_uri_is_seen() {
        assert!(contains_encoded_nul("q=%00"));
        assert!(contains_encoded_nul("/api/v1/items/1%00"));
        assert!(!contains_encoded_nul("q=%2500"));
    }
}

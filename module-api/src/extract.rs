//! Extractors whose rejections are problem responses rather than axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

/// `axum::Json`, with malformed, mistyped, unsupported or oversized bodies answered as problems.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "expected a body with `Content-Type: application/json`",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_BODY",
                format!(
                    "the JSON body does not match the expected shape: {}",
                    rejection.body_text()
                ),
            ),
            _ => ApiError::bad_request(
                "MALFORMED_JSON",
                format!("the body is not valid JSON: {}", rejection.body_text()),
            ),
        }
    }
}

/// A JSON body that must also pass its `validator` rules; failures are a 422 with one entry
/// per field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        value.validate()?;
        Ok(Self(value))
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        let mut fields = Vec::new();
        flatten(&errors, "", &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "some fields are invalid",
        )
        .with_errors(fields)
    }
}

fn flatten(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(failures) => out.extend(failures.iter().map(|failure| {
                FieldError {
                    field: path.clone(),
                    code: failure.code.to_string(),
                    message: failure
                        .message
                        .as_ref()
                        .map_or_else(|| format!("{path} is invalid"), ToString::to_string),
                }
            })),
            ValidationErrorsKind::Struct(inner) => flatten(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

/// For `Option<Option<T>>` fields of PATCH bodies: a missing field is `None` (leave it alone),
/// `null` is `Some(None)` (clear it). Use with `#[serde(default, deserialize_with = …)]`.
pub fn nullable_field<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `axum::extract::Query` with a problem rejection.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(
            "INVALID_QUERY",
            format!("invalid query string: {}", rejection.body_text()),
        )
    }
}

/// `axum::extract::Path` with a problem rejection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection: PathRejection| {
                ApiError::bad_request(
                    "INVALID_PATH",
                    format!("invalid path parameter: {}", rejection.body_text()),
                )
            })?;
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Validate)]
    struct Signup {
        #[validate(email(code = "email", message = "must be an email address"))]
        email: String,
        #[validate(length(min = 8, code = "length", message = "must be at least 8 characters"))]
        password: String,
    }

    #[test]
    fn validation_failures_become_sorted_field_errors() {
        let errors = Signup {
            email: "nope".into(),
            password: "short".into(),
        }
        .validate()
        .unwrap_err();
        let error = ApiError::from(errors);
        let problem = error.to_problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, "VALIDATION_FAILED");
        assert_eq!(
            problem.errors,
            vec![
                FieldError {
                    field: "email".into(),
                    code: "email".into(),
                    message: "must be an email address".into()
                },
                FieldError {
                    field: "password".into(),
                    code: "length".into(),
                    message: "must be at least 8 characters".into()
                },
            ]
        );
    }
}

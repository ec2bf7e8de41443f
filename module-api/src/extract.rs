//! Extractors whose rejections are problem responses rather than axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError, ProblemCode};

/// `axum::Json`, with malformed, mistyped, unsupported or oversized bodies answered as problems,
/// and a NUL character in any string (PostgreSQL cannot store it) refused as a 422 naming its
/// field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ProblemCode::UnsupportedMediaType,
                "expected a body with `Content-Type: application/json`",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::from_status(rejection.status()))?;
        if let Some(field) = crate::middleware::input::nul_in_json(&body) {
            return Err(ApiError::invalid_field(
                &field,
                "nul_character",
                "must not contain a NUL character",
            ));
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&body)?;
        Ok(Self(value))
    }
}

/// `application/json`, or any `application/*+json`, with or without parameters.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| {
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
}

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
                ProblemCode::UnsupportedMediaType,
                "expected a body with `Content-Type: application/json`",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::InvalidBody,
                format!(
                    "the JSON body does not match the expected shape: {}",
                    rejection.body_text()
                ),
            ),
            _ => ApiError::bad_request(
                ProblemCode::MalformedJson,
                format!("the body is not valid JSON: {}", rejection.body_text()),
            ),
        }
    }
}

/// A JSON body that must also keep to the limits its schema documents (see
/// [`crate::validation`]) and pass its `validator` rules; failures are a 422 with one entry per
/// field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate + utoipa::ToSchema + 'static,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(raw) = Json::<serde_json::Value>::from_request(request, state).await?;
        let mut errors = crate::validation::BodySchema::of::<T>().check(&raw);
        let unknown: Vec<FieldError> = errors
            .iter()
            .filter(|error| error.code == crate::validation::UNKNOWN)
            .cloned()
            .collect();
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(|error| error.field.as_str()).collect();
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::UnknownField,
                format!(
                    "the body has properties this request does not take: {}",
                    names.join(", ")
                ),
            )
            .with_errors(unknown));
        }
        let value: T = serde_path_to_error::deserialize(raw).map_err(|error| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::InvalidBody,
                format!("the JSON body does not match the expected shape: {error}"),
            )
        })?;
        if let Err(failures) = value.validate() {
            // One complaint per field: a documented limit it breaks comes first.
            let mut rules = Vec::new();
            flatten(&failures, "", &mut rules);
            rules.retain(|rule| errors.iter().all(|error| error.field != rule.field));
            errors.extend(rules);
        }
        if errors.is_empty() {
            return Ok(Self(value));
        }
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        errors.dedup_by(|a, b| a.field == b.field && a.code == b.code);
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::ValidationFailed,
            "some fields are invalid",
        )
        .with_errors(errors))
    }
}

/// A [`ValidJson`] body that may be left out entirely (no bytes): `None` then.
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate + utoipa::ToSchema + 'static,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| ApiError::from_status(rejection.status()))?;
        if bytes.is_empty() {
            return Ok(Self(None));
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        let ValidJson(value) = ValidJson::<T>::from_request(request, state).await?;
        Ok(Self(Some(value)))
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        let mut fields = Vec::new();
        flatten(&errors, "", &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::ValidationFailed,
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

/// The years a date sent by a client may fall in: what people mean and PostgreSQL stores.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A calendar day from a client (`YYYY-MM-DD`, years 1 to 9999); anything else is refused
/// while the request is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub chrono::NaiveDate);

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use chrono::Datelike as _;
        let day = chrono::NaiveDate::deserialize(deserializer)?;
        if YEARS.contains(&day.year()) {
            Ok(Self(day))
        } else {
            Err(serde::de::Error::custom("the year must be 1 to 9999"))
        }
    }
}

impl utoipa::PartialSchema for Day {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .description(Some("A calendar day, years 1 to 9999."))
            .into()
    }
}

impl utoipa::ToSchema for Day {}

/// For `Option<Option<T>>` fields of a `PATCH`: absent is `None` (keep), `null` is
/// `Some(None)` (clear), a value is `Some(Some(value))`. Use with `#[serde(default)]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An instant from a client (RFC 3339, years 1 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(pub chrono::DateTime<chrono::Utc>);

impl<'de> serde::Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use chrono::Datelike as _;
        let at = chrono::DateTime::<chrono::Utc>::deserialize(deserializer)?;
        if YEARS.contains(&at.year()) {
            Ok(Self(at))
        } else {
            Err(serde::de::Error::custom("the year must be 1 to 9999"))
        }
    }
}

impl utoipa::PartialSchema for Instant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .description(Some("An RFC 3339 instant, years 1 to 9999."))
            .into()
    }
}

impl utoipa::ToSchema for Instant {}

/// How request schemas describe the key of an uploaded object (the field itself is a `String`).
pub struct ObjectKey;

impl utoipa::PartialSchema for ObjectKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(300))
            .description(Some("The key of an uploaded object."))
            .into()
    }
}

impl utoipa::ToSchema for ObjectKey {}

/// `axum::extract::Query` with a problem rejection, whose parameters also keep to the limits
/// their documentation gives (`maxLength`, `minimum`, …; see [`crate::validation`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned + utoipa::IntoParams + 'static,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        let errors = crate::validation::BodySchema::of_query::<T>()
            .check_query(parts.uri.query().unwrap_or_default());
        if errors.is_empty() {
            Ok(Self(value))
        } else {
            Err(ApiError::bad_request(
                ProblemCode::InvalidQuery,
                "some query parameters are out of their documented range",
            )
            .with_errors(errors))
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(
            ProblemCode::InvalidQuery,
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
                    ProblemCode::InvalidPath,
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
        assert_eq!(problem.code, ProblemCode::ValidationFailed);
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

//! The one error type of the HTTP layer, rendered as an RFC 9457 problem
//! (`application/problem+json`) with a stable machine `code`.
//!
//! Domain errors convert into it once, here. Internal causes are logged, never returned.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use petory_core::db::DbError;
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::problem_code::ProblemCode;

mod problems;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "about:blank",
    "title": "Conflict",
    "status": 409,
    "code": ProblemCode::IdempotencyKeyReused,
    "detail": "this Idempotency-Key was already used for a different request"
}))]
pub struct Problem {
    /// Always `about:blank`: `code` identifies the problem.
    #[serde(rename = "type")]
    pub problem_type: Cow<'static, str>,
    /// The HTTP status phrase.
    pub title: Cow<'static, str>,
    pub status: u16,
    /// Stable machine-readable code, e.g. `ORDER_NOT_PAYABLE`; each operation's responses list
    /// those it answers with.
    pub code: ProblemCode,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// Per-field validation failures (400/422 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Problem-specific details, such as the dependency checks of a readiness failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's JSON path, e.g. `items[0].quantity`.
    pub field: String,
    /// Stable code of the rule that failed, e.g. `length`, `range`, `email`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: ProblemCode,
    detail: String,
    errors: Vec<FieldError>,
    // Boxed: it is rare, and keeps `Result<T, ApiError>` small.
    context: Option<Box<serde_json::Value>>,
    retry_after_secs: Option<u64>,
    bearer_challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            context: None,
            retry_after_secs: None,
            bearer_challenge: false,
        }
    }

    pub fn bad_request(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// A cursor the API did not hand out.
    pub fn invalid_cursor() -> Self {
        Self::bad_request(
            ProblemCode::InvalidCursor,
            "the cursor is not one this API returned",
        )
    }

    pub fn not_found(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// A 422 that names no field: the request is understood, but not acceptable as it is.
    pub fn unprocessable(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn conflict(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unavailable(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
    }

    /// The session store (Redis) cannot answer: the cause is logged, the client may retry.
    pub fn auth_unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%cause, "authentication store unavailable");
        Self::unavailable(
            ProblemCode::AuthUnavailable,
            "authentication is temporarily unavailable",
        )
        .retry_after(5)
    }

    /// A failure that is our fault. The cause is logged; the client gets a generic answer.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %cause, source = ?cause.source(), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemCode::InternalError,
            "an unexpected error occurred",
        )
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_context(mut self, context: serde_json::Value) -> Self {
        self.context = Some(Box::new(context));
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    pub fn unauthorized(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            bearer_challenge: true,
            ..Self::new(StatusCode::UNAUTHORIZED, code, detail)
        }
    }

    /// The gateway refused the payment, or a return URL's token does not match its order.
    pub fn payment_refused() -> Self {
        Self::new(
            StatusCode::PAYMENT_REQUIRED,
            ProblemCode::PaymentRefused,
            "the payment was not approved; an unpaid order stays payable",
        )
    }

    pub fn forbidden(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    /// A 422 naming one field.
    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::ValidationFailed,
            "some fields are invalid",
        )
        .with_errors(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> ProblemCode {
        self.code
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            problem_type: Cow::Borrowed("about:blank"),
            title: Cow::Borrowed(self.status.canonical_reason().unwrap_or("Error")),
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            context: self.context.as_deref().cloned(),
        }
    }

    /// The problem that stands for a bare error status produced outside our handlers
    /// (routing, body limits, timeouts, panics).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, detail) = match status {
            StatusCode::NOT_FOUND => (ProblemCode::RouteNotFound, "no resource at this path"),
            StatusCode::METHOD_NOT_ALLOWED => (
                ProblemCode::MethodNotAllowed,
                "this method is not allowed on this resource",
            ),
            StatusCode::REQUEST_TIMEOUT => (
                ProblemCode::RequestTimeout,
                "the request took too long and was abandoned",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                ProblemCode::PayloadTooLarge,
                "the request body is larger than allowed",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                ProblemCode::UnsupportedMediaType,
                "the request body has an unsupported content type",
            ),
            StatusCode::TOO_MANY_REQUESTS => {
                (ProblemCode::RateLimited, "too many requests; retry later")
            }
            StatusCode::SERVICE_UNAVAILABLE => (
                ProblemCode::ServiceUnavailable,
                "the service is temporarily unavailable",
            ),
            status if status.is_server_error() => {
                (ProblemCode::InternalError, "an unexpected error occurred")
            }
            _ => (
                ProblemCode::BadRequest,
                "the request could not be processed",
            ),
        };
        Self::new(status, code, detail)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.bearer_challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match error {
            DbError::Unavailable(cause) => Self::database_unavailable(&cause),
            DbError::Query(Error::DatabaseError(kind, info)) => match kind {
                Kind::UnableToSendCommand | Kind::ClosedConnection => {
                    Self::database_unavailable(&info.message())
                }
                Kind::Unknown if server_going_away(info.message()) => {
                    Self::database_unavailable(&info.message())
                }
                Kind::SerializationFailure => Self::conflict(
                    ProblemCode::ConcurrentUpdate,
                    "the data changed meanwhile; try again",
                )
                .retry_after(1),
                Kind::UniqueViolation => {
                    let field = constraint_field(info.as_ref());
                    tracing::warn!(constraint = ?info.constraint_name(), "unique violation reached the database");
                    Self::conflict(ProblemCode::Conflict, format!("{field} is already taken"))
                        .with_errors(vec![FieldError {
                            field,
                            code: "unique".into(),
                            message: "is already taken".into(),
                        }])
                }
                Kind::ForeignKeyViolation | Kind::RestrictViolation
                    if info
                        .details()
                        .is_some_and(|d| d.contains("still referenced")) =>
                {
                    Self::conflict(
                        ProblemCode::StillReferenced,
                        "other records still refer to this one",
                    )
                }
                Kind::ForeignKeyViolation => Self::invalid_field(
                    &constraint_field(info.as_ref()),
                    "reference",
                    "refers to something that does not exist",
                ),
                Kind::CheckViolation | Kind::NotNullViolation | Kind::ExclusionViolation => {
                    // A rule the validators do not mirror yet: still the client's input, but
                    // worth a validator (hence the warning).
                    tracing::warn!(constraint = ?info.constraint_name(), column = ?info.column_name(), "constraint violation reached the database");
                    Self::invalid_field(
                        &constraint_field(info.as_ref()),
                        "constraint",
                        "is not an acceptable value",
                    )
                }
                _ => Self::internal(&Error::DatabaseError(kind, info)),
            },
            DbError::Query(error) => Self::internal(&error),
        }
    }
}

impl ApiError {
    /// PostgreSQL cannot be reached or is restarting: the client may retry shortly.
    pub fn database_unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%cause, "database unavailable");
        Self::unavailable(
            ProblemCode::DatabaseUnavailable,
            "the database is temporarily unavailable",
        )
        .retry_after(5)
    }
}

/// PostgreSQL's words when it ends a session for shutdown, restart or recovery (SQLSTATE class
/// 57, which diesel-async does not hand on).
fn server_going_away(message: &str) -> bool {
    [
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
    ]
    .iter()
    .any(|phrase| message.contains(phrase))
}

/// The request field a violated constraint is about: its column, or the constraint's name
/// without the table prefix and PostgreSQL's suffix (`categories_name_check` → `name`).
fn constraint_field(info: &dyn diesel::result::DatabaseErrorInformation) -> String {
    if let Some(column) = info.column_name() {
        return column.to_owned();
    }
    let Some(constraint) = info.constraint_name() else {
        return "body".to_owned();
    };
    let mut name = constraint;
    if let Some(table) = info.table_name() {
        name = name
            .strip_prefix(table)
            .and_then(|rest| rest.strip_prefix('_'))
            .unwrap_or(name);
    }
    for suffix in ["_check", "_key", "_fkey", "_not_null", "_excl"] {
        if let Some(stripped) = name.strip_suffix(suffix) {
            name = stripped;
            break;
        }
    }
    if name.is_empty() || name == "check" {
        "body".to_owned()
    } else {
        name.to_owned()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error};

    use super::*;

    /// What PostgreSQL says of a row its `categories_name_check` refused.
    struct CheckViolation;

    impl DatabaseErrorInformation for CheckViolation {
        fn message(&self) -> &str {
            "new row for relation \"categories\" violates check constraint"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            Some("categories")
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            Some("categories_name_check")
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn a_constraint_the_validators_miss_is_a_422_naming_its_field() {
        let error = ApiError::from(DbError::Query(Error::DatabaseError(
            DatabaseErrorKind::CheckViolation,
            Box::new(CheckViolation),
        )));
        let problem = error.to_problem();
        assert_eq!(
            (problem.status, problem.code),
            (422, ProblemCode::ValidationFailed)
        );
        assert_eq!(
            (
                problem.errors[0].field.as_str(),
                problem.errors[0].code.as_str()
            ),
            ("name", "constraint")
        );
    }
}

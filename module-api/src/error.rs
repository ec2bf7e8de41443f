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

impl From<petory_core::identity::IdentityError> for ApiError {
    fn from(error: petory_core::identity::IdentityError) -> Self {
        use petory_core::identity::IdentityError as E;
        match error {
            E::EmailTaken => Self::conflict(
                ProblemCode::EmailTaken,
                "an account with this email already exists",
            ),
            E::NicknameTaken => Self::conflict(ProblemCode::NicknameTaken, error.to_string()),
            E::NicknameRecentlyChanged { next } => {
                Self::conflict(ProblemCode::NicknameRecentlyChanged, error.to_string())
                    .with_context(serde_json::json!({ "nickname_changeable_at": next }))
            }
            E::InvalidCredentials => Self::unauthorized(
                ProblemCode::InvalidCredentials,
                "the email or password is wrong",
            ),
            E::Suspended { until, reason } => Self::forbidden(
                ProblemCode::AccountSuspended,
                format!("the account is suspended until {}", until.to_rfc3339()),
            )
            .with_context(serde_json::json!({ "suspended_until": until, "reason": reason })),
            E::AccountInactive => Self::unauthorized(
                ProblemCode::AccountInactive,
                "this account can no longer sign in",
            ),
            E::InvalidRefreshToken => Self::unauthorized(
                ProblemCode::InvalidRefreshToken,
                "the refresh token is invalid or expired",
            ),
            E::RefreshTokenReused => Self::unauthorized(
                ProblemCode::RefreshTokenReused,
                "this refresh token was already used; every session of that login was ended",
            ),
            E::WrongPassword => Self::invalid_field(
                "current_password",
                "wrong_password",
                "is not the current password",
            ),
            E::LoginThrottled { retry_after } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::LoginThrottled,
                "too many wrong passwords for this account from unknown devices; wait, or reset \
                 the password (a device that signed in before is not held back)",
            )
            .retry_after(retry_after)
            .with_context(serde_json::json!({ "password_reset": "/api/v1/auth/password-reset" })),
            E::InvalidResetToken => Self::bad_request(
                ProblemCode::InvalidResetToken,
                "this reset link is unknown, used or expired; ask for a new one",
            ),
            E::ReauthenticationRequired => Self::forbidden(
                ProblemCode::ReauthenticationRequired,
                "confirm with your password (or sign in again with Google) first",
            ),
            E::InvalidVerificationToken => Self::bad_request(
                ProblemCode::InvalidVerificationToken,
                "this verification link is unknown, used or expired; ask for a new one",
            ),
            E::EmailAlreadyVerified => Self::conflict(
                ProblemCode::EmailAlreadyVerified,
                "the email address is verified already",
            ),
            E::VerificationRecentlySent { retry_after } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::VerificationRecentlySent,
                "a verification link went out moments ago; check your inbox",
            )
            .retry_after(retry_after),
            E::TooManyAddresses => Self::conflict(
                ProblemCode::TooManyAddresses,
                "an account keeps at most 10 delivery addresses; delete one first",
            ),
            E::LastAdmin => Self::conflict(
                ProblemCode::LastAdmin,
                "the last administrator cannot stop being one; promote another first",
            ),
            E::Invalid {
                field,
                code,
                message,
            } => Self::invalid_field(field, code, message),
            E::InvalidOAuthState => Self::bad_request(
                ProblemCode::InvalidOauthState,
                "this sign-in is unknown, expired or already finished; start again",
            ),
            E::OAuthNonceMismatch => Self::unauthorized(
                ProblemCode::OauthNonceMismatch,
                "the identity token was not issued for this sign-in",
            ),
            E::OAuthEmailUnverified => Self::forbidden(
                ProblemCode::OauthEmailUnverified,
                "the provider has not verified this account's email address",
            ),
            E::OAuth(petory_core::identity::oauth::OAuthError::Unavailable(cause)) => {
                tracing::warn!(%cause, "identity provider unavailable");
                Self::unavailable(
                    ProblemCode::OauthProviderUnavailable,
                    "the identity provider is unavailable; try again",
                )
                .retry_after(5)
            }
            E::OAuth(petory_core::identity::oauth::OAuthError::CodeRejected(cause)) => {
                tracing::info!(%cause, "authorization code rejected");
                Self::bad_request(
                    ProblemCode::OauthCodeRejected,
                    "the provider refused the authorization code; start again",
                )
            }
            E::OAuth(petory_core::identity::oauth::OAuthError::InvalidIdToken(cause)) => {
                tracing::warn!(%cause, "invalid ID token");
                Self::unauthorized(
                    ProblemCode::OauthIdTokenInvalid,
                    "the identity token could not be verified",
                )
            }
            E::UserNotFound => Self::not_found(ProblemCode::UserNotFound, "no such user"),
            E::AddressNotFound => Self::not_found(ProblemCode::AddressNotFound, "no such address"),
            E::Sessions(cause) => Self::auth_unavailable(&cause),
            E::HashingBusy(_) => Self::unavailable(
                ProblemCode::AuthBusy,
                "too many sign-ins at once; try again in a moment",
            )
            .retry_after(1),
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::shop::ShopError> for ApiError {
    fn from(error: petory_core::shop::ShopError) -> Self {
        use petory_core::shop::ShopError as E;
        match error {
            E::Upload(error) => error.into(),
            E::EmailNotVerified(refused) => refused.into(),
            E::CategoryNotFound => {
                Self::not_found(ProblemCode::CategoryNotFound, "no such category")
            }
            E::CategoryNameTaken => Self::conflict(
                ProblemCode::CategoryNameTaken,
                "a category with this name exists",
            ),
            E::CategoryNotEmpty => Self::conflict(
                ProblemCode::CategoryNotEmpty,
                "the category still has items; move or delete them first",
            ),
            E::ItemNotFound => Self::not_found(ProblemCode::ItemNotFound, "no such item on sale"),
            E::CartItemNotFound => {
                Self::not_found(ProblemCode::CartItemNotFound, "no such line in your cart")
            }
            E::InvalidCursor => Self::invalid_cursor(),
            E::CartFull => Self::conflict(
                ProblemCode::CartFull,
                "a cart holds at most 50 lines; order or remove some first",
            ),
            E::TooManyUnpaidOrders => Self::conflict(
                ProblemCode::TooManyUnpaidOrders,
                "pay or cancel your unpaid orders first (at most 5 orders and 200 units wait for payment)",
            ),
            E::Invalid {
                field,
                code,
                message,
            } => Self::invalid_field(field, code, message),
            E::OutOfStock { item_id } => Self::conflict(
                ProblemCode::OutOfStock,
                format!("item {item_id} does not have enough stock"),
            )
            .with_context(serde_json::json!({ "item_id": item_id })),
            E::OrderNotFound => Self::not_found(ProblemCode::OrderNotFound, "no such order"),
            E::OrderNotCancelable { status } => Self::conflict(
                ProblemCode::OrderNotCancelable,
                format!("an order in {} cannot be cancelled", status.as_str()),
            ),
            E::InvalidTransition { from, to } => Self::conflict(
                ProblemCode::InvalidOrderTransition,
                format!(
                    "an order cannot go from {} to {}",
                    from.as_str(),
                    to.as_str()
                ),
            ),
            E::ProfileIncomplete => Self::conflict(
                ProblemCode::ProfileIncomplete,
                "add a phone number and a delivery address first (PUT /users/me/profile)",
            ),
            E::AddressNotFound => {
                Self::not_found(ProblemCode::AddressNotFound, "no such delivery address")
            }
            E::NotABuyer => Self::forbidden(
                ProblemCode::NotABuyer,
                "only buyers of a paid order of this item may review it",
            ),
            E::AlreadyReviewed => Self::conflict(
                ProblemCode::AlreadyReviewed,
                "you reviewed every order of this item already",
            ),
            E::ReviewNotFound => {
                Self::not_found(ProblemCode::ReviewNotFound, "no such review of yours")
            }
            E::OrderNotPayable { status } => Self::conflict(
                ProblemCode::OrderNotPayable,
                format!("an order in {} cannot be paid", status.as_str()),
            ),
            E::Gateway(petory_core::shop::payment::GatewayError::Unavailable(cause)) => {
                tracing::warn!(%cause, "payment gateway unavailable");
                Self::unavailable(
                    ProblemCode::PaymentGatewayUnavailable,
                    "the payment gateway is unavailable; the order stays payable",
                )
                .retry_after(5)
            }
            E::Gateway(
                petory_core::shop::payment::GatewayError::Refused(cause)
                | petory_core::shop::payment::GatewayError::SubscriptionInvalid(cause),
            ) => {
                tracing::info!(%cause, "payment refused");
                Self::payment_refused()
            }
            // Told apart from a refusal only in the log: the return URL answers a stranger
            // exactly what it answers a wrong token.
            E::PaymentLinkInvalid => {
                tracing::info!("payment return URL with an order and token that do not match");
                Self::payment_refused()
            }
            E::Gateway(petory_core::shop::payment::GatewayError::Rejected(cause)) => {
                tracing::error!(%cause, "payment gateway rejected our request");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    ProblemCode::PaymentGatewayError,
                    "the payment could not be processed because of an error on our side; \
                     nothing was charged",
                )
            }
            E::Gateway(petory_core::shop::payment::GatewayError::Mismatch(cause)) => {
                tracing::error!(%cause, "payment gateway answer mismatch");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    ProblemCode::PaymentGatewayMismatch,
                    "the payment gateway's answer did not match the order",
                )
            }
            E::SubscriptionNotFound => {
                Self::not_found(ProblemCode::SubscriptionNotFound, "no such subscription")
            }
            E::SubscriptionCanceled => Self::conflict(
                ProblemCode::SubscriptionCanceled,
                "the subscription is cancelled; start a new one with an order",
            ),
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::platform::outbox::EventError> for ApiError {
    fn from(error: petory_core::platform::outbox::EventError) -> Self {
        match error {
            petory_core::platform::outbox::EventError::NotFound => {
                Self::not_found(ProblemCode::EventNotFound, "no such failed event")
            }
            petory_core::platform::outbox::EventError::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::ports::ObjectStoreError> for ApiError {
    fn from(error: petory_core::ports::ObjectStoreError) -> Self {
        use petory_core::ports::ObjectStoreError as E;
        match error {
            E::Unavailable(cause) => {
                tracing::warn!(%cause, "object store unavailable");
                Self::unavailable(
                    ProblemCode::StorageUnavailable,
                    "image storage is temporarily unavailable",
                )
                .retry_after(5)
            }
            // Our credentials or bucket are wrong: nothing the client did; logged loudly.
            E::Rejected(cause) => {
                tracing::error!(%cause, "object store refused a request");
                Self::unavailable(
                    ProblemCode::StorageUnavailable,
                    "image storage is temporarily unavailable",
                )
            }
        }
    }
}

impl From<petory_core::platform::upload::UploadError> for ApiError {
    fn from(error: petory_core::platform::upload::UploadError) -> Self {
        use petory_core::platform::upload::UploadError as E;
        let unprocessable = |code: ProblemCode, key: &str, detail: String| {
            Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
                .with_context(serde_json::json!({ "key": key }))
        };
        match error {
            E::TooLarge { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::UploadTooLarge,
                error.to_string(),
            ),
            E::AdminOnly => Self::forbidden(ProblemCode::AdminOnly, error.to_string()),
            E::TooManyPending { .. } => {
                Self::conflict(ProblemCode::TooManyPendingUploads, error.to_string())
            }
            E::NotFound { ref key } => {
                unprocessable(ProblemCode::UploadNotFound, key, error.to_string())
            }
            E::NotUploaded { ref key } => {
                unprocessable(ProblemCode::UploadNotUploaded, key, error.to_string())
            }
            E::SizeMismatch { ref key, .. } => {
                unprocessable(ProblemCode::UploadSizeMismatch, key, error.to_string())
            }
            E::NotAnImage { ref key, .. } => {
                unprocessable(ProblemCode::UploadNotAnImage, key, error.to_string())
            }
            E::InUse { ref key } => Self::conflict(ProblemCode::UploadInUse, error.to_string())
                .with_context(serde_json::json!({ "key": key })),
            E::Store(error) => error.into(),
            E::Db(error) => error.into(),
        }
    }
}

impl From<petory_core::identity::EmailNotVerified> for ApiError {
    fn from(refused: petory_core::identity::EmailNotVerified) -> Self {
        Self::forbidden(ProblemCode::EmailNotVerified, refused.to_string())
    }
}

impl From<petory_core::identity::Suspended> for ApiError {
    fn from(suspended: petory_core::identity::Suspended) -> Self {
        Self::forbidden(
            ProblemCode::AccountSuspended,
            "a suspended account cannot write; it may still read",
        )
        .with_context(serde_json::json!({ "suspended_until": suspended.until }))
    }
}

impl From<petory_core::moderation::ModerationError> for ApiError {
    fn from(error: petory_core::moderation::ModerationError) -> Self {
        use petory_core::moderation::ModerationError as E;
        match error {
            E::Suspended(suspended) => suspended.into(),
            E::EmailNotVerified(refused) => refused.into(),
            E::ReportTargetNotFound => {
                Self::not_found(ProblemCode::ReportTargetNotFound, error.to_string())
            }
            E::OwnContent => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::CannotReportOwnContent,
                error.to_string(),
            ),
            E::AlreadyReported => Self::conflict(ProblemCode::AlreadyReported, error.to_string()),
            E::ReportNotFound => Self::not_found(ProblemCode::ReportNotFound, "no such report"),
            E::ContentNotFound => Self::not_found(ProblemCode::ContentNotFound, error.to_string()),
            E::ReportAlreadyResolved => {
                Self::conflict(ProblemCode::ReportAlreadyResolved, error.to_string())
            }
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::community::CommunityError> for ApiError {
    fn from(error: petory_core::community::CommunityError) -> Self {
        use petory_core::community::CommunityError as E;
        match error {
            E::Suspended(suspended) => suspended.into(),
            E::EmailNotVerified(refused) => refused.into(),
            E::PetNotFound => Self::not_found(ProblemCode::PetNotFound, "no such pet of yours"),
            E::PostNotFound => Self::not_found(ProblemCode::PostNotFound, "no such post"),
            E::ChatRateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::ChatRateLimited,
                "too many messages at once; slow down",
            )
            .retry_after(1),
            E::ListingNotFound => Self::not_found(ProblemCode::ListingNotFound, "no such listing"),
            E::NotTheSeller => Self::forbidden(
                ProblemCode::NotTheSeller,
                "only the seller changes a listing",
            ),
            E::InvalidListingTransition { .. } => {
                Self::conflict(ProblemCode::InvalidListingTransition, error.to_string())
            }
            E::CommentNotFound => Self::not_found(ProblemCode::CommentNotFound, "no such comment"),
            E::Views(cause) => {
                tracing::warn!(%cause, "view counter unavailable");
                Self::unavailable(
                    ProblemCode::ViewsUnavailable,
                    "view counts are temporarily unavailable",
                )
                .retry_after(5)
            }
            E::TooManyPets { .. } => Self::conflict(ProblemCode::TooManyPets, error.to_string()),
            E::RoomNotFound => {
                Self::not_found(ProblemCode::ChatRoomNotFound, "no such chat room of yours")
            }
            E::MessageNotFound => Self::not_found(
                ProblemCode::ChatMessageNotFound,
                "no such message in this room",
            ),
            E::UnsendTooLate => Self::conflict(ProblemCode::UnsendWindowPassed, error.to_string()),
            E::OwnListing => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::OwnListing,
                error.to_string(),
            ),
            E::ListingSold => Self::conflict(ProblemCode::ListingSold, error.to_string()),
            E::Blocked => Self::forbidden(ProblemCode::ChatBlocked, error.to_string()),
            E::CommentBlocked => Self::forbidden(ProblemCode::CommentBlocked, error.to_string()),
            E::PartyLeft => Self::conflict(ProblemCode::ChatPartyLeft, error.to_string()),
            E::ClientIdReused => Self::conflict(ProblemCode::ClientIdReused, error.to_string()),
            E::UserNotFound => Self::not_found(ProblemCode::UserNotFound, "no such user"),
            E::CannotBlockSelf => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::CannotBlockSelf,
                error.to_string(),
            ),
            E::WeightNotFound => Self::not_found(
                ProblemCode::WeightNotFound,
                "no weight of this pet on that day",
            ),
            E::Invalid {
                field,
                code,
                message,
            } => Self::invalid_field(field, code, message),
            E::Upload(error) => error.into(),
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::place::PlaceError> for ApiError {
    fn from(error: petory_core::place::PlaceError) -> Self {
        use petory_core::place::PlaceError as E;
        match error {
            E::NotFound => Self::not_found(ProblemCode::PlaceNotFound, "no such place"),
            E::ReviewNotFound => {
                Self::not_found(ProblemCode::PlaceReviewNotFound, "no such review of yours")
            }
            E::AlreadyReviewed => Self::conflict(ProblemCode::AlreadyReviewed, error.to_string()),
            E::Suspended(suspended) => suspended.into(),
            E::EmailNotVerified(refused) => refused.into(),
            E::Invalid {
                field,
                code,
                message,
            } => Self::invalid_field(field, code, message),
            E::DirectoryRefused(detail) => {
                tracing::error!(%detail, "Kakao Local refused our REST API key");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    ProblemCode::PlaceDirectoryRefused,
                    "Kakao Local refused the REST API key (KAKAO_REST_API_KEY)",
                )
            }
            E::Unavailable(detail) => {
                tracing::warn!(%detail, "places dependency unavailable");
                Self::unavailable(ProblemCode::PlacesUnavailable, "try again shortly")
                    .retry_after(5)
            }
            E::Upload(error) => error.into(),
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::notification::NotificationError> for ApiError {
    fn from(error: petory_core::notification::NotificationError) -> Self {
        use petory_core::notification::NotificationError as E;
        match error {
            E::NotFound => {
                Self::not_found(ProblemCode::NotificationNotFound, "no such notification")
            }
            E::RoomNotFound => {
                Self::invalid_field("muted_rooms", "not_your_room", error.to_string())
            }
            E::TooManyMutedRooms { .. } => {
                Self::invalid_field("muted_rooms", "length", error.to_string())
            }
            E::Unreadable { .. } => Self::internal(&error),
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::daily::album::AlbumError> for ApiError {
    fn from(error: petory_core::daily::album::AlbumError) -> Self {
        use petory_core::daily::album::AlbumError as E;
        match error {
            E::NotFound => Self::not_found(ProblemCode::AlbumPhotoNotFound, error.to_string()),
            E::UserNotFound => Self::not_found(ProblemCode::UserNotFound, error.to_string()),
            E::FutureDay { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::AlbumDayInFuture,
                error.to_string(),
            ),
            E::ImageInUse => Self::conflict(ProblemCode::AlbumImageInUse, error.to_string()),
            E::Suspended(suspended) => suspended.into(),
            E::EmailNotVerified(refused) => refused.into(),
            E::Upload(error) => error.into(),
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::calendar::CalendarError> for ApiError {
    fn from(error: petory_core::calendar::CalendarError) -> Self {
        use petory_core::calendar::CalendarError as E;
        match error {
            E::NotFound => Self::not_found(ProblemCode::EventNotFound, error.to_string()),
            E::OccurrenceNotFound => {
                Self::not_found(ProblemCode::OccurrenceNotFound, error.to_string())
            }
            E::NotRecurring => Self::conflict(ProblemCode::EventNotRecurring, error.to_string()),
            E::TooManyOverrides => {
                Self::conflict(ProblemCode::TooManyEditedOccurrences, error.to_string())
            }
            E::PetNotFound => Self::not_found(ProblemCode::PetNotFound, error.to_string()),
            E::Invalid {
                field,
                code,
                message,
            } => Self::invalid_field(field, code, message),
            E::TooMany { .. } => Self::conflict(ProblemCode::TooManyEvents, error.to_string()),
            E::RangeTooLong => Self::bad_request(ProblemCode::RangeTooLong, error.to_string()),
            E::OutOfYears => Self::bad_request(ProblemCode::OutOfYears, error.to_string()),
            E::Database(error) => error.into(),
        }
    }
}

impl From<petory_core::daily::qna::QnaError> for ApiError {
    fn from(error: petory_core::daily::qna::QnaError) -> Self {
        use petory_core::daily::qna::QnaError as E;
        match error {
            E::QuestionNotFound => {
                Self::not_found(ProblemCode::QuestionNotFound, "no such question")
            }
            E::AnswerNotFound => {
                Self::not_found(ProblemCode::AnswerNotFound, "no such answer of yours")
            }
            E::DayTaken { .. } => Self::conflict(ProblemCode::QuestionDayTaken, error.to_string()),
            E::NotACalendarDay { .. } => {
                Self::invalid_field("day", "calendar_day", error.to_string())
            }
            E::QuestionAnswered => Self::conflict(
                ProblemCode::QuestionAnswered,
                "the question has answers; edit it instead",
            ),
            E::NotTodaysQuestion => Self::conflict(
                ProblemCode::NotTodaysQuestion,
                "only today's question can be answered",
            ),
            E::AlreadyAnswered => Self::conflict(
                ProblemCode::AlreadyAnswered,
                "you have answered today's question already; edit that answer instead",
            ),
            E::Database(error) => error.into(),
        }
    }
}

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

//! The stable machine-readable codes of problems (`Problem.code`): one enum, so that a code is
//! never a string typed twice, and the document lists every value a client may branch on. Each
//! operation documents the codes it answers, per status, in its responses (`openapi.rs`).

macro_rules! problem_codes {
    ($($variant:ident = $text:tt),+ $(,)?) => {
        /// Stable machine-readable code of a problem: what a client branches on (`detail` is for
        /// people and may change).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
        pub enum ProblemCode {
            $(#[serde(rename = $text)] $variant),+
        }

        impl ProblemCode {
            /// Every code, in alphabetical order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

problem_codes! {
    AccountInactive = "ACCOUNT_INACTIVE",
    AccountSuspended = "ACCOUNT_SUSPENDED",
    AddressNotFound = "ADDRESS_NOT_FOUND",
    AdminOnly = "ADMIN_ONLY",
    AlbumDayInFuture = "ALBUM_DAY_IN_FUTURE",
    AlbumImageInUse = "ALBUM_IMAGE_IN_USE",
    AlbumPhotoNotFound = "ALBUM_PHOTO_NOT_FOUND",
    AlreadyAnswered = "ALREADY_ANSWERED",
    AlreadyReported = "ALREADY_REPORTED",
    AlreadyReviewed = "ALREADY_REVIEWED",
    AnswerNotFound = "ANSWER_NOT_FOUND",
    AuthenticationRequired = "AUTHENTICATION_REQUIRED",
    AuthBusy = "AUTH_BUSY",
    AuthUnavailable = "AUTH_UNAVAILABLE",
    BadRequest = "BAD_REQUEST",
    CannotBlockSelf = "CANNOT_BLOCK_SELF",
    CannotReportOwnContent = "CANNOT_REPORT_OWN_CONTENT",
    CartFull = "CART_FULL",
    CartItemNotFound = "CART_ITEM_NOT_FOUND",
    CategoryNameTaken = "CATEGORY_NAME_TAKEN",
    CategoryNotEmpty = "CATEGORY_NOT_EMPTY",
    CategoryNotFound = "CATEGORY_NOT_FOUND",
    ChatBlocked = "CHAT_BLOCKED",
    ChatMessageNotFound = "CHAT_MESSAGE_NOT_FOUND",
    ChatPartyLeft = "CHAT_PARTY_LEFT",
    ChatRateLimited = "CHAT_RATE_LIMITED",
    ChatRoomNotFound = "CHAT_ROOM_NOT_FOUND",
    ClientIdReused = "CLIENT_ID_REUSED",
    CommentBlocked = "COMMENT_BLOCKED",
    CommentNotFound = "COMMENT_NOT_FOUND",
    ConcurrentUpdate = "CONCURRENT_UPDATE",
    Conflict = "CONFLICT",
    ContentNotFound = "CONTENT_NOT_FOUND",
    DatabaseUnavailable = "DATABASE_UNAVAILABLE",
    DependencyUnavailable = "DEPENDENCY_UNAVAILABLE",
    DiaryEntryNotFound = "DIARY_ENTRY_NOT_FOUND",
    EmailAlreadyVerified = "EMAIL_ALREADY_VERIFIED",
    EmailNotVerified = "EMAIL_NOT_VERIFIED",
    EmailTaken = "EMAIL_TAKEN",
    EventNotFound = "EVENT_NOT_FOUND",
    EventNotRecurring = "EVENT_NOT_RECURRING",
    FeedNotFound = "FEED_NOT_FOUND",
    IcalendarTooComplex = "ICALENDAR_TOO_COMPLEX",
    IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED",
    IdempotencyRequestInProgress = "IDEMPOTENCY_REQUEST_IN_PROGRESS",
    InternalError = "INTERNAL_ERROR",
    InvalidBody = "INVALID_BODY",
    InvalidCredentials = "INVALID_CREDENTIALS",
    InvalidCursor = "INVALID_CURSOR",
    InvalidFrame = "INVALID_FRAME",
    InvalidIcalendar = "INVALID_ICALENDAR",
    InvalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY",
    InvalidListingTransition = "INVALID_LISTING_TRANSITION",
    InvalidOauthState = "INVALID_OAUTH_STATE",
    InvalidOrderTransition = "INVALID_ORDER_TRANSITION",
    InvalidPath = "INVALID_PATH",
    InvalidQuery = "INVALID_QUERY",
    InvalidRefreshToken = "INVALID_REFRESH_TOKEN",
    InvalidResetToken = "INVALID_RESET_TOKEN",
    InvalidTicket = "INVALID_TICKET",
    InvalidToken = "INVALID_TOKEN",
    InvalidVerificationToken = "INVALID_VERIFICATION_TOKEN",
    ItemNotFound = "ITEM_NOT_FOUND",
    LastAdmin = "LAST_ADMIN",
    ListingNotFound = "LISTING_NOT_FOUND",
    ListingSold = "LISTING_SOLD",
    LoginThrottled = "LOGIN_THROTTLED",
    MalformedJson = "MALFORMED_JSON",
    MethodNotAllowed = "METHOD_NOT_ALLOWED",
    NicknameRecentlyChanged = "NICKNAME_RECENTLY_CHANGED",
    NicknameTaken = "NICKNAME_TAKEN",
    NotificationNotFound = "NOTIFICATION_NOT_FOUND",
    NotABuyer = "NOT_A_BUYER",
    NotTheSeller = "NOT_THE_SELLER",
    NotTodaysQuestion = "NOT_TODAYS_QUESTION",
    OauthCodeRejected = "OAUTH_CODE_REJECTED",
    OauthDenied = "OAUTH_DENIED",
    OauthEmailUnverified = "OAUTH_EMAIL_UNVERIFIED",
    OauthIdTokenInvalid = "OAUTH_ID_TOKEN_INVALID",
    OauthNonceMismatch = "OAUTH_NONCE_MISMATCH",
    OauthProviderUnavailable = "OAUTH_PROVIDER_UNAVAILABLE",
    OccurrenceNotFound = "OCCURRENCE_NOT_FOUND",
    OrderNotCancelable = "ORDER_NOT_CANCELABLE",
    OrderNotFound = "ORDER_NOT_FOUND",
    OrderNotPayable = "ORDER_NOT_PAYABLE",
    OutOfStock = "OUT_OF_STOCK",
    OutOfYears = "OUT_OF_YEARS",
    OwnListing = "OWN_LISTING",
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    PaymentCanceledByBuyer = "PAYMENT_CANCELED_BY_BUYER",
    PaymentFailed = "PAYMENT_FAILED",
    PaymentGatewayError = "PAYMENT_GATEWAY_ERROR",
    PaymentGatewayMismatch = "PAYMENT_GATEWAY_MISMATCH",
    PaymentGatewayUnavailable = "PAYMENT_GATEWAY_UNAVAILABLE",
    PaymentRefused = "PAYMENT_REFUSED",
    PetNotFound = "PET_NOT_FOUND",
    PlacesUnavailable = "PLACES_UNAVAILABLE",
    PlaceDirectoryRefused = "PLACE_DIRECTORY_REFUSED",
    PlaceNotFound = "PLACE_NOT_FOUND",
    PlaceReviewNotFound = "PLACE_REVIEW_NOT_FOUND",
    PostNotFound = "POST_NOT_FOUND",
    ProfileIncomplete = "PROFILE_INCOMPLETE",
    PushEndpointNotAllowed = "PUSH_ENDPOINT_NOT_ALLOWED",
    PushKeysInvalid = "PUSH_KEYS_INVALID",
    PushSubscriptionNotFound = "PUSH_SUBSCRIPTION_NOT_FOUND",
    QuestionAnswered = "QUESTION_ANSWERED",
    QuestionDayTaken = "QUESTION_DAY_TAKEN",
    QuestionNotFound = "QUESTION_NOT_FOUND",
    RangeTooLong = "RANGE_TOO_LONG",
    RateLimited = "RATE_LIMITED",
    ReauthenticationRequired = "REAUTHENTICATION_REQUIRED",
    RefreshTokenReused = "REFRESH_TOKEN_REUSED",
    ReportAlreadyResolved = "REPORT_ALREADY_RESOLVED",
    ReportNotFound = "REPORT_NOT_FOUND",
    ReportTargetNotFound = "REPORT_TARGET_NOT_FOUND",
    RequestTimeout = "REQUEST_TIMEOUT",
    ReviewNotFound = "REVIEW_NOT_FOUND",
    RouteNotFound = "ROUTE_NOT_FOUND",
    ServiceUnavailable = "SERVICE_UNAVAILABLE",
    ShuttingDown = "SHUTTING_DOWN",
    StillReferenced = "STILL_REFERENCED",
    StorageUnavailable = "STORAGE_UNAVAILABLE",
    SubscriptionCanceled = "SUBSCRIPTION_CANCELED",
    SubscriptionNotFound = "SUBSCRIPTION_NOT_FOUND",
    TokenExpired = "TOKEN_EXPIRED",
    TokenRevoked = "TOKEN_REVOKED",
    TooManyAddresses = "TOO_MANY_ADDRESSES",
    TooManyEditedOccurrences = "TOO_MANY_EDITED_OCCURRENCES",
    TooManyEvents = "TOO_MANY_EVENTS",
    TooManyPendingUploads = "TOO_MANY_PENDING_UPLOADS",
    TooManyPets = "TOO_MANY_PETS",
    TooManyPushSubscriptions = "TOO_MANY_PUSH_SUBSCRIPTIONS",
    TooManySockets = "TOO_MANY_SOCKETS",
    TooManyStreams = "TOO_MANY_STREAMS",
    TooManyUnpaidOrders = "TOO_MANY_UNPAID_ORDERS",
    UnknownField = "UNKNOWN_FIELD",
    UnsendWindowPassed = "UNSEND_WINDOW_PASSED",
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
    UploadInUse = "UPLOAD_IN_USE",
    UploadNotAnImage = "UPLOAD_NOT_AN_IMAGE",
    UploadNotFound = "UPLOAD_NOT_FOUND",
    UploadNotUploaded = "UPLOAD_NOT_UPLOADED",
    UploadSizeMismatch = "UPLOAD_SIZE_MISMATCH",
    UploadTooLarge = "UPLOAD_TOO_LARGE",
    UploadTooLargeImage = "UPLOAD_TOO_LARGE_IMAGE",
    UserNotFound = "USER_NOT_FOUND",
    ValidationFailed = "VALIDATION_FAILED",
    VerificationRecentlySent = "VERIFICATION_RECENTLY_SENT",
    ViewsUnavailable = "VIEWS_UNAVAILABLE",
    WebsocketRequired = "WEBSOCKET_REQUIRED",
    WeightNotFound = "WEIGHT_NOT_FOUND",
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ProblemCode;

    #[test]
    fn codes_read_back_and_are_listed_once_in_order() {
        for code in ProblemCode::ALL {
            assert_eq!(ProblemCode::parse(code.as_str()), Some(*code));
        }
        assert!(
            ProblemCode::ALL
                .windows(2)
                .all(|pair| pair[0].as_str() < pair[1].as_str())
        );
    }

    /// A code is named through the enum: a `"CODE"` string literal anywhere else in the crate
    /// would be a second spelling the compiler cannot check.
    #[test]
    fn no_code_is_a_string_literal_outside_the_enum() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|ext| ext == "rs")
                    && !path.ends_with("problem_code.rs")
                {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut found = Vec::new();
        for file in files {
            let source = std::fs::read_to_string(&file).expect("source");
            for code in ProblemCode::ALL {
                if source.contains(&format!("\"{}\"", code.as_str())) {
                    found.push(format!("{}: {code}", file.display()));
                }
            }
        }
        assert!(found.is_empty(), "{found:#?}");
    }
}

//! How each domain's errors reach a client: one table per error type, one row per variant,
//! naming the problem's status (by its constructor), its stable code (`C::…`) and the client's
//! words, either a fixed phrase or `said`, the error's own `Display`. A row that carries more
//! (a context, a retry hint, a log line) builds it in place.

use axum::http::StatusCode;
use petory_core::identity::oauth::OAuthError;
use petory_core::shop::payment::GatewayError;
use serde_json::json;

use super::{ApiError, ProblemCode};

/// `From<DomainError> for ApiError` as a table: `path::to::Error as E, said => { rows }`.
macro_rules! problems {
    (
        $($module:ident)::+ as $alias:ident, $said:ident => {
            $($variant:pat => $problem:expr),+ $(,)?
        }
    ) => {
        impl From<$($module)::+> for ApiError {
            fn from(error: $($module)::+) -> Self {
                #[allow(unused_imports)]
                use {ProblemCode as C, StatusCode as S};
                use $($module)::+ as $alias;
                #[allow(unused_variables)]
                let $said = error.to_string();
                match error {
                    $($variant => $problem),+
                }
            }
        }
    };
}

problems!(petory_core::identity::IdentityError as E, said => {
    E::EmailTaken => Self::conflict(C::EmailTaken, "an account with this email already exists"),
    E::NicknameTaken => Self::conflict(C::NicknameTaken, said),
    E::NicknameRecentlyChanged { next } => Self::conflict(C::NicknameRecentlyChanged, said)
        .with_context(json!({ "nickname_changeable_at": next })),
    E::InvalidCredentials => Self::unauthorized(
        C::InvalidCredentials,
        "the email or password is wrong",
    ),
    E::Suspended { until, reason } => Self::forbidden(
        C::AccountSuspended,
        format!("the account is suspended until {}", until.to_rfc3339()),
    )
    .with_context(json!({ "suspended_until": until, "reason": reason })),
    E::AccountInactive => Self::unauthorized(
        C::AccountInactive,
        "this account can no longer sign in",
    ),
    E::InvalidRefreshToken => Self::unauthorized(
        C::InvalidRefreshToken,
        "the refresh token is invalid or expired",
    ),
    E::RefreshTokenReused => Self::unauthorized(
        C::RefreshTokenReused,
        "this refresh token was already used; every session of that login was ended",
    ),
    E::WrongPassword => Self::invalid_field(
        "current_password",
        "wrong_password",
        "is not the current password",
    ),
    E::LoginThrottled { retry_after } => Self::new(
        S::TOO_MANY_REQUESTS,
        C::LoginThrottled,
        "too many wrong passwords for this account from unknown devices; wait, or reset \
         the password (a device that signed in before is not held back)",
    )
    .retry_after(retry_after)
    .with_context(json!({ "password_reset": "/api/v1/auth/password-reset" })),
    E::InvalidResetToken => Self::bad_request(
        C::InvalidResetToken,
        "this reset link is unknown, used or expired; ask for a new one",
    ),
    E::ReauthenticationRequired => Self::forbidden(
        C::ReauthenticationRequired,
        "confirm with your password (or sign in again with Google) first",
    ),
    E::InvalidVerificationToken => Self::bad_request(
        C::InvalidVerificationToken,
        "this verification link is unknown, used or expired; ask for a new one",
    ),
    E::EmailAlreadyVerified => Self::conflict(
        C::EmailAlreadyVerified,
        "the email address is verified already",
    ),
    E::VerificationRecentlySent { retry_after } => Self::new(
        S::TOO_MANY_REQUESTS,
        C::VerificationRecentlySent,
        "a verification link went out moments ago; check your inbox",
    )
    .retry_after(retry_after),
    E::TooManyAddresses => Self::conflict(
        C::TooManyAddresses,
        "an account keeps at most 10 delivery addresses; delete one first",
    ),
    E::LastAdmin => Self::conflict(
        C::LastAdmin,
        "the last administrator cannot stop being one; promote another first",
    ),
    E::Invalid { field, code, message } => Self::invalid_field(field, code, message),
    E::InvalidOAuthState => Self::bad_request(
        C::InvalidOauthState,
        "this sign-in is unknown, expired or already finished; start again",
    ),
    E::OAuthNonceMismatch => Self::unauthorized(
        C::OauthNonceMismatch,
        "the identity token was not issued for this sign-in",
    ),
    E::OAuthEmailUnverified => Self::forbidden(
        C::OauthEmailUnverified,
        "the provider has not verified this account's email address",
    ),
    E::OAuth(OAuthError::Unavailable(cause)) => {
        tracing::warn!(%cause, "identity provider unavailable");
        Self::unavailable(
            C::OauthProviderUnavailable,
            "the identity provider is unavailable; try again",
        )
        .retry_after(5)
    },
    E::OAuth(OAuthError::CodeRejected(cause)) => {
        tracing::info!(%cause, "authorization code rejected");
        Self::bad_request(
            C::OauthCodeRejected,
            "the provider refused the authorization code; start again",
        )
    },
    E::OAuth(OAuthError::InvalidIdToken(cause)) => {
        tracing::warn!(%cause, "invalid ID token");
        Self::unauthorized(C::OauthIdTokenInvalid, "the identity token could not be verified")
    },
    E::UserNotFound => Self::not_found(C::UserNotFound, "no such user"),
    E::AddressNotFound => Self::not_found(C::AddressNotFound, "no such address"),
    E::Sessions(cause) => Self::auth_unavailable(&cause),
    E::Upload(error) => error.into(),
    E::HashingBusy(_) => Self::unavailable(
        C::AuthBusy,
        "too many sign-ins at once; try again in a moment",
    )
    .retry_after(1),
    E::Database(error) => error.into(),
});

problems!(petory_core::shop::ShopError as E, said => {
    E::Upload(error) => error.into(),
    E::EmailNotVerified(refused) => refused.into(),
    E::CategoryNotFound => Self::not_found(C::CategoryNotFound, "no such category"),
    E::CategoryNameTaken => Self::conflict(
        C::CategoryNameTaken,
        "a category with this name exists",
    ),
    E::CategoryNotEmpty => Self::conflict(
        C::CategoryNotEmpty,
        "the category still has items; move or delete them first",
    ),
    E::ItemNotFound => Self::not_found(C::ItemNotFound, "no such item on sale"),
    E::CartItemNotFound => Self::not_found(C::CartItemNotFound, "no such line in your cart"),
    E::InvalidCursor => Self::invalid_cursor(),
    E::CartFull => Self::conflict(
        C::CartFull,
        "a cart holds at most 50 lines; order or remove some first",
    ),
    E::TooManyUnpaidOrders => Self::conflict(
        C::TooManyUnpaidOrders,
        "pay or cancel your unpaid orders first (at most 5 orders and 200 units wait for payment)",
    ),
    E::Invalid { field, code, message } => Self::invalid_field(field, code, message),
    E::OutOfStock { item_id } => Self::conflict(
        C::OutOfStock,
        format!("item {item_id} does not have enough stock"),
    )
    .with_context(json!({ "item_id": item_id })),
    E::OrderNotFound => Self::not_found(C::OrderNotFound, "no such order"),
    E::OrderNotCancelable { status } => Self::conflict(
        C::OrderNotCancelable,
        format!("an order in {} cannot be cancelled", status.as_str()),
    ),
    E::InvalidTransition { from, to } => Self::conflict(
        C::InvalidOrderTransition,
        format!("an order cannot go from {} to {}", from.as_str(), to.as_str()),
    ),
    E::ProfileIncomplete => Self::conflict(
        C::ProfileIncomplete,
        "add a phone number and a delivery address first (PUT /users/me/profile)",
    ),
    E::AddressNotFound => Self::not_found(C::AddressNotFound, "no such delivery address"),
    E::NotABuyer => Self::forbidden(
        C::NotABuyer,
        "only buyers of a paid order of this item may review it",
    ),
    E::AlreadyReviewed => Self::conflict(
        C::AlreadyReviewed,
        "you reviewed every order of this item already",
    ),
    E::ReviewNotFound => Self::not_found(C::ReviewNotFound, "no such review of yours"),
    E::OrderNotPayable { status } => Self::conflict(
        C::OrderNotPayable,
        format!("an order in {} cannot be paid", status.as_str()),
    ),
    E::Gateway(GatewayError::Unavailable(cause)) => {
        tracing::warn!(%cause, "payment gateway unavailable");
        Self::unavailable(
            C::PaymentGatewayUnavailable,
            "the payment gateway is unavailable; the order stays payable",
        )
        .retry_after(5)
    },
    E::Gateway(GatewayError::Refused(cause) | GatewayError::SubscriptionInvalid(cause)) => {
        tracing::info!(%cause, "payment refused");
        Self::payment_refused()
    },
    // Told apart from a refusal only in the log: the return URL answers a stranger exactly
    // what it answers a wrong token.
    E::PaymentLinkInvalid => {
        tracing::info!("payment return URL with an order and token that do not match");
        Self::payment_refused()
    },
    E::Gateway(GatewayError::Rejected(cause)) => {
        tracing::error!(%cause, "payment gateway rejected our request");
        Self::new(
            S::BAD_GATEWAY,
            C::PaymentGatewayError,
            "the payment could not be processed because of an error on our side; \
             nothing was charged",
        )
    },
    E::Gateway(GatewayError::Mismatch(cause)) => {
        tracing::error!(%cause, "payment gateway answer mismatch");
        Self::new(
            S::BAD_GATEWAY,
            C::PaymentGatewayMismatch,
            "the payment gateway's answer did not match the order",
        )
    },
    E::SubscriptionNotFound => Self::not_found(C::SubscriptionNotFound, "no such subscription"),
    E::SubscriptionCanceled => Self::conflict(
        C::SubscriptionCanceled,
        "the subscription is cancelled; start a new one with an order",
    ),
    E::Database(error) => error.into(),
});

problems!(petory_core::platform::outbox::EventError as E, said => {
    E::NotFound => Self::not_found(C::EventNotFound, "no such failed event"),
    E::Database(error) => error.into(),
});

problems!(petory_core::ports::ObjectStoreError as E, said => {
    E::Unavailable(cause) => {
        tracing::warn!(%cause, "object store unavailable");
        Self::unavailable(C::StorageUnavailable, "image storage is temporarily unavailable")
            .retry_after(5)
    },
    // Our credentials or bucket are wrong: nothing the client did; logged loudly.
    E::Rejected(cause) => {
        tracing::error!(%cause, "object store refused a request");
        Self::unavailable(C::StorageUnavailable, "image storage is temporarily unavailable")
    },
});

problems!(petory_core::platform::upload::UploadError as E, said => {
    E::TooLarge { .. } => Self::unprocessable(C::UploadTooLarge, said),
    E::AdminOnly => Self::forbidden(C::AdminOnly, said),
    E::TooManyPending { .. } => Self::conflict(C::TooManyPendingUploads, said),
    E::NotFound { key } => Self::unprocessable(
        C::UploadNotFound,
        said).with_context(json!({ "key": key }),
    ),
    E::NotUploaded { key } => Self::unprocessable(
        C::UploadNotUploaded,
        said).with_context(json!({ "key": key }),
    ),
    E::SizeMismatch { key, .. } => Self::unprocessable(
        C::UploadSizeMismatch,
        said).with_context(json!({ "key": key }),
    ),
    E::NotAnImage { key, .. } => Self::unprocessable(
        C::UploadNotAnImage,
        said).with_context(json!({ "key": key }),
    ),
    E::TooLargeImage { key, image } => Self::unprocessable(
        C::UploadTooLargeImage,
        said).with_context(json!({
            "key": key,
            "width": image.width,
            "height": image.height,
            "max_pixels": petory_core::platform::image::MAX_PIXELS,
        }),
    ),
    E::InUse { key } => Self::conflict(C::UploadInUse, said).with_context(json!({ "key": key })),
    E::Store(error) => error.into(),
    E::Db(error) => error.into(),
});

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
        .with_context(json!({ "suspended_until": suspended.until }))
    }
}

problems!(petory_core::moderation::ModerationError as E, said => {
    E::Suspended(suspended) => suspended.into(),
    E::EmailNotVerified(refused) => refused.into(),
    E::ReportTargetNotFound => Self::not_found(C::ReportTargetNotFound, said),
    E::OwnContent => Self::unprocessable(C::CannotReportOwnContent, said),
    E::AlreadyReported => Self::conflict(C::AlreadyReported, said),
    E::ReportNotFound => Self::not_found(C::ReportNotFound, "no such report"),
    E::ContentNotFound => Self::not_found(C::ContentNotFound, said),
    E::ReportAlreadyResolved => Self::conflict(C::ReportAlreadyResolved, said),
    E::Identity(error) => error.into(),
    E::Database(error) => error.into(),
});

problems!(petory_core::community::CommunityError as E, said => {
    E::Suspended(suspended) => suspended.into(),
    E::EmailNotVerified(refused) => refused.into(),
    E::PetNotFound => Self::not_found(C::PetNotFound, "no such pet of yours"),
    E::PostNotFound => Self::not_found(C::PostNotFound, "no such post"),
    E::ChatRateLimited => Self::new(
        S::TOO_MANY_REQUESTS,
        C::ChatRateLimited,
        "too many messages at once; slow down",
    )
    .retry_after(1),
    E::ListingNotFound => Self::not_found(C::ListingNotFound, "no such listing"),
    E::NotTheSeller => Self::forbidden(C::NotTheSeller, "only the seller changes a listing"),
    E::InvalidListingTransition { .. } => Self::conflict(C::InvalidListingTransition, said),
    E::CommentNotFound => Self::not_found(C::CommentNotFound, "no such comment"),
    E::Views(cause) => {
        tracing::warn!(%cause, "view counter unavailable");
        Self::unavailable(
            C::ViewsUnavailable,
            "view counts are temporarily unavailable",
        )
        .retry_after(5)
    },
    E::TooManyPets { .. } => Self::conflict(C::TooManyPets, said),
    E::RoomNotFound => Self::not_found(C::ChatRoomNotFound, "no such chat room of yours"),
    E::MessageNotFound => Self::not_found(C::ChatMessageNotFound, "no such message in this room"),
    E::UnsendTooLate => Self::conflict(C::UnsendWindowPassed, said),
    E::OwnListing => Self::unprocessable(C::OwnListing, said),
    E::ListingSold => Self::conflict(C::ListingSold, said),
    E::WishForOwnListing => Self::unprocessable(C::OwnListing, said),
    E::WishForSoldListing => Self::conflict(C::ListingSold, said),
    E::Blocked => Self::forbidden(C::ChatBlocked, said),
    E::CommentBlocked => Self::forbidden(C::CommentBlocked, said),
    E::PartyLeft => Self::conflict(C::ChatPartyLeft, said),
    E::ClientIdReused => Self::conflict(C::ClientIdReused, said),
    E::UserNotFound => Self::not_found(C::UserNotFound, "no such user"),
    E::CannotBlockSelf => Self::unprocessable(C::CannotBlockSelf, said),
    E::WeightNotFound => Self::not_found(C::WeightNotFound, "no weight of this pet on that day"),
    E::DiaryEntryNotFound => Self::not_found(C::DiaryEntryNotFound, said),
    E::Invalid { field, code, message } => Self::invalid_field(field, code, message),
    E::Upload(error) => error.into(),
    E::Database(error) => error.into(),
});

problems!(petory_core::place::PlaceError as E, said => {
    E::NotFound => Self::not_found(C::PlaceNotFound, "no such place"),
    E::ReviewNotFound => Self::not_found(C::PlaceReviewNotFound, "no such review of yours"),
    E::AlreadyReviewed => Self::conflict(C::AlreadyReviewed, said),
    E::Suspended(suspended) => suspended.into(),
    E::EmailNotVerified(refused) => refused.into(),
    E::Invalid { field, code, message } => Self::invalid_field(field, code, message),
    E::DirectoryRefused(detail) => {
        tracing::error!(%detail, "Kakao Local refused our REST API key");
        Self::new(
            S::BAD_GATEWAY,
            C::PlaceDirectoryRefused,
            "Kakao Local refused the REST API key (KAKAO_REST_API_KEY)",
        )
    },
    E::Unavailable(detail) => {
        tracing::warn!(%detail, "places dependency unavailable");
        Self::unavailable(C::PlacesUnavailable, "try again shortly").retry_after(5)
    },
    E::Upload(error) => error.into(),
    E::Database(error) => error.into(),
});

problems!(petory_core::notification::NotificationError as E, said => {
    E::NotFound => Self::not_found(C::NotificationNotFound, "no such notification"),
    E::RoomNotFound => Self::invalid_field("muted_rooms", "not_your_room", said),
    E::TooManyMutedRooms { .. } => Self::invalid_field("muted_rooms", "length", said),
    unreadable @ E::Unreadable { .. } => Self::internal(&unreadable),
    E::Database(error) => error.into(),
});

problems!(petory_core::notification::push::PushError as E, said => {
    E::NotFound => Self::not_found(C::PushSubscriptionNotFound, said),
    E::EndpointNotAllowed { .. } => Self::unprocessable(C::PushEndpointNotAllowed, said),
    E::InvalidKeys { .. } => Self::unprocessable(C::PushKeysInvalid, said),
    E::TooManySubscriptions { .. } => Self::conflict(C::TooManyPushSubscriptions, said),
    E::Database(error) => error.into(),
});

problems!(petory_core::daily::album::AlbumError as E, said => {
    E::NotFound => Self::not_found(C::AlbumPhotoNotFound, said),
    E::UserNotFound => Self::not_found(C::UserNotFound, said),
    E::FutureDay { .. } => Self::unprocessable(C::AlbumDayInFuture, said),
    E::ImageInUse => Self::conflict(C::AlbumImageInUse, said),
    E::Suspended(suspended) => suspended.into(),
    E::EmailNotVerified(refused) => refused.into(),
    E::Upload(error) => error.into(),
    E::Database(error) => error.into(),
});

problems!(petory_core::calendar::CalendarError as E, said => {
    E::NotFound => Self::not_found(C::EventNotFound, said),
    E::OccurrenceNotFound => Self::not_found(C::OccurrenceNotFound, said),
    E::NotRecurring => Self::conflict(C::EventNotRecurring, said),
    E::TooManyOverrides => Self::conflict(C::TooManyEditedOccurrences, said),
    E::PetNotFound => Self::not_found(C::PetNotFound, said),
    E::Invalid { field, code, message } => Self::invalid_field(field, code, message),
    E::TooMany { .. } => Self::conflict(C::TooManyEvents, said),
    E::RangeTooLong => Self::bad_request(C::RangeTooLong, said),
    E::OutOfYears => Self::bad_request(C::OutOfYears, said),
    E::Database(error) => error.into(),
});

problems!(petory_core::daily::qna::QnaError as E, said => {
    E::QuestionNotFound => Self::not_found(C::QuestionNotFound, "no such question"),
    E::AnswerNotFound => Self::not_found(C::AnswerNotFound, "no such answer of yours"),
    E::DayTaken { .. } => Self::conflict(C::QuestionDayTaken, said),
    E::NotACalendarDay { .. } => Self::invalid_field("day", "calendar_day", said),
    E::QuestionAnswered => Self::conflict(
        C::QuestionAnswered,
        "the question has answers; edit it instead",
    ),
    E::NotTodaysQuestion => Self::conflict(
        C::NotTodaysQuestion,
        "only today's question can be answered",
    ),
    E::AlreadyAnswered => Self::conflict(
        C::AlreadyAnswered,
        "you have answered today's question already; edit that answer instead",
    ),
    E::Database(error) => error.into(),
});

#[cfg(test)]
mod tests {
    use petory_core::community::CommunityError;
    use petory_core::platform::upload::UploadError;

    use super::*;

    #[test]
    fn a_row_gives_the_status_the_code_and_the_errors_own_words() {
        let in_use = UploadError::InUse { key: "k".into() };
        let said = in_use.to_string();
        let problem = ApiError::from(in_use).to_problem();
        assert_eq!(
            (problem.status, problem.code),
            (409, ProblemCode::UploadInUse)
        );
        assert_eq!(problem.detail, said);
        assert_eq!(problem.context, Some(json!({ "key": "k" })));
    }

    #[test]
    fn a_row_with_a_fixed_phrase_and_a_retry_hint() {
        let error = ApiError::from(CommunityError::ChatRateLimited);
        let problem = error.to_problem();
        assert_eq!(
            (problem.status, problem.code),
            (429, ProblemCode::ChatRateLimited)
        );
        assert_eq!(problem.detail, "too many messages at once; slow down");
        let response = axum::response::IntoResponse::into_response(error);
        assert_eq!(response.headers()["retry-after"], "1");
    }
}

//! Identity and access: accounts, passwords, tokens, roles and account status.

pub mod account;
pub mod address;
pub mod admin;
pub mod avatar;
pub mod closing;
pub mod lifecycle;
pub mod oauth;
pub mod password;
pub mod password_reset;
pub mod rules;
pub mod session;
pub mod token;
pub mod verification;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::schema::users;

// Who acts, named at the bottom (`types.rs`) so that the platform can name it too.
pub use crate::types::{Role, UserId};

crate::id_type! {
    /// One of a user's delivery addresses (`user_addresses.id`).
    pub struct AddressId;
}

crate::text_enum! {
    /// Where an account stands (`users.status`).
    pub enum AccountStatus {
        Active = "ACTIVE",
        Dormant = "DORMANT",
        Suspended = "SUSPENDED",
        Withdrawn = "WITHDRAWN",
    }
}

/// A suspended account may read but not write, until `until` (`None`: until an admin lifts the
/// suspension). Every domain refuses writes with it, through [`ensure_can_write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the account is suspended")]
pub struct Suspended {
    pub until: Option<DateTime<Utc>>,
}

/// An account that has not proved its email address (by the mailed link, or Google's word)
/// reads, and keeps its own pets and calendar, but does not publish, react, report, chat or
/// order: what a crowd of free accounts could otherwise do. Refused through
/// [`ensure_can_publish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("prove your email address (the link we mailed) before taking part")]
pub struct EmailNotVerified;

/// Refuses a suspended account's writes: every domain's "suspended users cannot write".
pub async fn ensure_can_write<E>(conn: &mut AsyncPgConnection, user: UserId) -> Result<(), E>
where
    E: From<Suspended> + From<DbError>,
{
    let (status, until): (AccountStatus, Option<DateTime<Utc>>) = users::table
        .find(user)
        .select((users::status, users::suspended_until))
        .first(conn)
        .await
        .map_err(DbError::from)?;
    if status == AccountStatus::Suspended {
        return Err(Suspended { until }.into());
    }
    Ok(())
}

/// Refuses what others see or what costs others (posts, comments, listings, reviews, likes,
/// reports, chat rooms, orders) to a suspended account and to one whose address is unproven.
pub async fn ensure_can_publish<E>(conn: &mut AsyncPgConnection, user: UserId) -> Result<(), E>
where
    E: From<Suspended> + From<EmailNotVerified> + From<DbError>,
{
    let (status, until, verified): (AccountStatus, Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
        users::table
            .find(user)
            .select((
                users::status,
                users::suspended_until,
                users::email_verified_at,
            ))
            .first(conn)
            .await
            .map_err(DbError::from)?;
    if status == AccountStatus::Suspended {
        return Err(Suspended { until }.into());
    }
    if verified.is_none() {
        return Err(EmailNotVerified.into());
    }
    Ok(())
}

/// Everything that can go wrong in identity; the API maps each to a problem code.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("another member goes by this nickname")]
    NicknameTaken,
    #[error("the nickname changes at most once in 30 days; next from {next}")]
    NicknameRecentlyChanged { next: DateTime<Utc> },
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("the account is suspended until {until}")]
    Suspended {
        until: chrono::DateTime<chrono::Utc>,
        reason: String,
    },
    #[error("the account is not active")]
    AccountInactive,
    #[error("the refresh token is invalid or expired")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; every session of that login is revoked")]
    RefreshTokenReused,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("too many failed logins for this account; retry in {retry_after} s")]
    LoginThrottled { retry_after: u64 },
    #[error("confirm with the password (or a fresh sign-in) first")]
    ReauthenticationRequired,
    #[error("the verification link is unknown, used or expired")]
    InvalidVerificationToken,
    #[error("the reset link is unknown, used or expired")]
    InvalidResetToken,
    #[error("the email address is verified already")]
    EmailAlreadyVerified,
    #[error("a verification link went out moments ago; retry in {retry_after} s")]
    VerificationRecentlySent { retry_after: u64 },
    #[error("the account has as many delivery addresses as it may")]
    TooManyAddresses,
    #[error("the last administrator cannot stop being one")]
    LastAdmin,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error("the sign-in state is unknown, expired or already used")]
    InvalidOAuthState,
    #[error("the ID token's nonce does not match this sign-in")]
    OAuthNonceMismatch,
    #[error("the provider did not vouch for the email address")]
    OAuthEmailUnverified,
    #[error(transparent)]
    OAuth(oauth::OAuthError),
    #[error("no such user")]
    UserNotFound,
    #[error("no such address")]
    AddressNotFound,
    #[error(transparent)]
    Sessions(#[from] session::SessionStoreError),
    /// Too many password checks were waiting; try again shortly.
    #[error(transparent)]
    HashingBusy(#[from] password::Busy),
    #[error(transparent)]
    Upload(#[from] crate::platform::upload::UploadError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for IdentityError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

impl From<diesel_async::pooled_connection::bb8::RunError> for IdentityError {
    fn from(error: diesel_async::pooled_connection::bb8::RunError) -> Self {
        Self::Database(DbError::from(error))
    }
}

//! Accounts, sessions, addresses and their administration.

pub mod address;
pub mod admin;
pub mod auth;
pub mod me;
pub mod oauth;

use chrono::{DateTime, Utc};
use petory_core::identity::account::{Account, TokenPair};
use petory_core::identity::{AccountStatus, Role};
use petory_core::platform::image::ImageUrls;
use serde::Serialize;

use crate::app::AppState;
use crate::error::ApiResult;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    /// Phone and a delivery address are on file; ordering requires it.
    pub profile_complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension_reason: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// How other members see me (none once withdrawn).
    pub nickname: Option<String>,
    /// When my nickname may change next (`null`: now).
    pub nickname_changeable_at: Option<DateTime<Utc>>,
    pub bio: String,
    /// My picture: the key of the `AVATAR` upload I set (`PATCH /users/me`).
    pub avatar_key: Option<String>,
    /// Where to read it, per size (squares; the placeholder until they are made, within
    /// seconds).
    pub avatar_urls: Option<ImageUrls>,
    /// Receives the question of the day at midnight.
    pub notify_daily_question: bool,
    /// The account proved it owns its address (the mailed link, or Google's word).
    pub email_verified: bool,
}

impl UserResponse {
    /// The response with its avatar's URL.
    pub(crate) async fn of(state: &AppState, account: Account) -> ApiResult<Self> {
        let mut response = Self::from(account);
        response.avatar_urls = state.image_url(response.avatar_key.as_deref()).await?;
        Ok(response)
    }
}

impl From<Account> for UserResponse {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.0,
            email: account.email,
            name: account.name,
            phone: account.phone,
            role: account.role,
            status: account.status,
            profile_complete: account.profile_complete,
            suspended_until: account.suspended_until,
            suspension_reason: account.suspension_reason,
            nickname: account.nickname,
            nickname_changeable_at: account.nickname_changeable_at,
            bio: account.bio,
            avatar_key: account.avatar_key,
            avatar_urls: None,
            notify_daily_question: account.notify_daily_question,
            email_verified: account.email_verified,
            last_login_at: account.last_login_at,
            created_at: account.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque; exchange at `POST /auth/refresh`. Each one works once.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: pair.token_type,
            expires_in: pair.expires_in,
        }
    }
}

/// Adapts a core rule (`Result<(), &str>`) to a `validator` custom check.
pub(crate) fn rule(
    check: fn(&str) -> Result<(), &'static str>,
    code: &'static str,
) -> impl Fn(&str) -> Result<(), validator::ValidationError> {
    move |value| {
        check(value)
            .map_err(|message| validator::ValidationError::new(code).with_message(message.into()))
    }
}

pub(crate) fn valid_password(value: &str) -> Result<(), validator::ValidationError> {
    rule(
        petory_core::identity::rules::check_password,
        "weak_password",
    )(value)
}

pub(crate) fn valid_nickname(value: &str) -> Result<(), validator::ValidationError> {
    rule(petory_core::identity::rules::check_nickname, "nickname")(value.trim())
}

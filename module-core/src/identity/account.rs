//! Accounts: sign-up, login, token refresh, logout, profile, password and withdrawal.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::address::{self, NewAddress};
use super::session::{RefreshSession, Rotation, SessionStore};
use super::token::{self, AccessClaims, TokenSettings};
use super::{AccountStatus, IdentityError, Role, UserId, password, rules};
use crate::db::violates;
use crate::schema::{user_addresses, users};

/// What identity services need besides a connection.
#[derive(Clone, Copy)]
pub struct Sessions<'a> {
    pub store: &'a dyn SessionStore,
    pub tokens: &'a TokenSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: String,
    pub status: String,
    pub suspended_until: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub notify_daily_question: bool,
}

/// A user as the account owner (and admins) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    /// Phone and a delivery address are on file: the account may order.
    pub profile_complete: bool,
    pub suspended_until: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Receives the question of the day at midnight.
    pub notify_daily_question: bool,
}

/// The account view of a user row, given whether it has a delivery address.
pub(crate) fn account_from_row(row: UserRow, has_address: bool) -> Account {
    Account {
        id: UserId(row.id),
        profile_complete: row.phone.is_some() && has_address,
        email: row.email,
        name: row.name,
        phone: row.phone,
        role: Role::parse(&row.role).unwrap_or(Role::User),
        status: AccountStatus::parse(&row.status).unwrap_or(AccountStatus::Active),
        suspended_until: row.suspended_until,
        suspension_reason: row.suspension_reason,
        last_login_at: row.last_login_at,
        created_at: row.created_at,
        notify_daily_question: row.notify_daily_question,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub name: String,
    pub phone: Option<String>,
}

/// Loads the account as its owner sees it.
pub async fn find(conn: &mut AsyncPgConnection, user: UserId) -> Result<Account, IdentityError> {
    let (row, has_address) = users::table
        .find(user.0)
        .select((
            UserRow::as_select(),
            diesel::dsl::exists(
                user_addresses::table.filter(user_addresses::user_id.eq(users::id)),
            ),
        ))
        .first::<(UserRow, bool)>(conn)
        .await
        .optional()?
        .ok_or(IdentityError::UserNotFound)?;
    Ok(account_from_row(row, has_address))
}

pub async fn signup(
    conn: &mut AsyncPgConnection,
    new: NewAccount,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    let email = rules::normalize_email(&new.email);
    let hash = password::hash(new.password).await?;
    let id: i64 = diesel::insert_into(users::table)
        .values((
            users::email.eq(&email),
            users::password_hash.eq(hash),
            users::name.eq(new.name.trim()),
            users::phone.eq(new.phone),
            users::role.eq(role.as_str()),
            users::status_changed_at.eq(now),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)
        .await
        .map_err(|error| {
            if violates(
                &error,
                DatabaseErrorKind::UniqueViolation,
                "users_email_unique",
            ) {
                IdentityError::EmailTaken
            } else {
                error.into()
            }
        })?;
    find(conn, UserId(id)).await
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct Credentials {
    id: i64,
    password_hash: Option<String>,
    role: String,
    status: String,
    suspended_until: Option<DateTime<Utc>>,
    suspension_reason: Option<String>,
}

/// Password login. Unknown email and wrong password get the same answer in the same time.
pub async fn login(
    conn: &mut AsyncPgConnection,
    sessions: Sessions<'_>,
    email: &str,
    password_attempt: String,
    now: DateTime<Utc>,
) -> Result<TokenPair, IdentityError> {
    let email = rules::normalize_email(email);
    let mut found = users::table
        .filter(users::email.eq(&email))
        .filter(users::status.ne(AccountStatus::Withdrawn.as_str()))
        .select(Credentials::as_select())
        .first(conn)
        .await
        .optional()?;
    if found.is_none()
        && let Some(dormant) = super::lifecycle::dormant_by_email(conn, &email).await?
    {
        // A dormant account's email lives apart; logging in brings the account back.
        found = users::table
            .find(dormant)
            .select(Credentials::as_select())
            .first(conn)
            .await
            .optional()?;
    }
    let stored = found.as_ref().and_then(|user| user.password_hash.clone());
    if !password::verify(password_attempt, stored).await? {
        return Err(IdentityError::InvalidCredentials);
    }
    let Some(user) = found else {
        return Err(IdentityError::InvalidCredentials);
    };
    admit(conn, &user, now).await?;
    let role = Role::parse(&user.role).unwrap_or(Role::User);
    start_session(sessions, UserId(user.id), role, now).await
}

/// Lets a user in by id (after a sign-in that proved who they are), or says why not.
pub async fn admit_by_id(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let credentials = users::table
        .find(user.0)
        .select(Credentials::as_select())
        .first(conn)
        .await?;
    admit(conn, &credentials, now).await
}

/// Lets a user in, or says why not: a running suspension refuses; an ended one is lifted;
/// a dormant account is reactivated by logging in.
async fn admit(
    conn: &mut AsyncPgConnection,
    user: &Credentials,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    match AccountStatus::parse(&user.status) {
        Some(AccountStatus::Suspended) => match user.suspended_until {
            Some(until) if until > now => {
                return Err(IdentityError::Suspended {
                    until,
                    reason: user.suspension_reason.clone().unwrap_or_default(),
                });
            }
            _ => {}
        },
        Some(AccountStatus::Withdrawn) | None => return Err(IdentityError::AccountInactive),
        Some(AccountStatus::Dormant) => {
            super::lifecycle::restore(conn, UserId(user.id), now).await?;
        }
        Some(AccountStatus::Active) => {}
    }
    diesel::update(users::table.find(user.id))
        .set((
            users::status.eq(AccountStatus::Active.as_str()),
            users::suspended_until.eq(None::<DateTime<Utc>>),
            users::suspension_reason.eq(None::<String>),
            users::last_login_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    if user.status != AccountStatus::Active.as_str() {
        diesel::update(users::table.find(user.id))
            .set(users::status_changed_at.eq(now))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Issues the first token pair of a new session (refresh-token family).
pub async fn start_session(
    sessions: Sessions<'_>,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<TokenPair, IdentityError> {
    let family = uuid::Uuid::new_v4().to_string();
    let refresh = token::new_refresh_token();
    sessions
        .store
        .create_refresh(
            &token::refresh_digest(&refresh),
            &RefreshSession {
                user,
                family: family.clone(),
            },
            sessions.tokens.refresh_ttl,
        )
        .await?;
    Ok(pair(sessions.tokens, user, role, &family, refresh, now))
}

fn pair(
    tokens: &TokenSettings,
    user: UserId,
    role: Role,
    family: &str,
    refresh: String,
    now: DateTime<Utc>,
) -> TokenPair {
    let (access, _) = token::issue_access(tokens, user, role, family, now);
    TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: tokens.access_ttl.as_secs(),
    }
}

/// Exchanges a refresh token for a new pair. A token that was already exchanged revokes its
/// whole family: either the user or a thief holds a copy, and we cannot tell which.
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    sessions: Sessions<'_>,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, IdentityError> {
    let next = token::new_refresh_token();
    let rotation = sessions
        .store
        .rotate_refresh(
            &token::refresh_digest(refresh_token),
            &token::refresh_digest(&next),
            sessions.tokens.refresh_ttl,
        )
        .await?;
    let session = match rotation {
        Rotation::Rotated(session) => session,
        Rotation::Reused(session) => {
            sessions
                .store
                .revoke_family(&session, sessions.tokens.access_ttl)
                .await?;
            tracing::warn!(user = %session.user, family = %session.family, "refresh token reuse: family revoked");
            return Err(IdentityError::RefreshTokenReused);
        }
        Rotation::Invalid => return Err(IdentityError::InvalidRefreshToken),
    };
    let account = find(conn, session.user).await?;
    if account.status != AccountStatus::Active {
        sessions
            .store
            .revoke_family(&session, sessions.tokens.access_ttl)
            .await?;
        return Err(IdentityError::InvalidRefreshToken);
    }
    // Staying signed in is being active: the dormancy clock counts from the last use, which a
    // refresh is. Written at most once a day.
    diesel::update(
        users::table
            .find(session.user.0)
            .filter(users::last_login_at.lt(now - chrono::TimeDelta::days(1))),
    )
    .set(users::last_login_at.eq(now))
    .execute(conn)
    .await?;
    Ok(pair(
        sessions.tokens,
        session.user,
        account.role,
        &session.family,
        next,
        now,
    ))
}

/// Refuses the presented access token at once and ends its session.
pub async fn logout(
    sessions: Sessions<'_>,
    claims: &AccessClaims,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let user = claims.user_id().ok_or(IdentityError::UserNotFound)?;
    sessions
        .store
        .revoke_access(&claims.jti, claims.remaining(now))
        .await?;
    sessions
        .store
        .revoke_family(
            &RefreshSession {
                user,
                family: claims.sid.clone(),
            },
            sessions.tokens.access_ttl,
        )
        .await?;
    Ok(())
}

/// What `PATCH /users/me` may change: `None` leaves a field alone; `Some(None)` clears the phone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub notify_daily_question: Option<bool>,
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    user: UserId,
    change: AccountChange,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    let AccountChange {
        name,
        phone,
        notify_daily_question,
    } = change;
    if let Some(notify) = notify_daily_question {
        diesel::update(users::table.find(user.0))
            .set((
                users::notify_daily_question.eq(notify),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    if let Some(name) = name {
        diesel::update(users::table.find(user.0))
            .set((users::name.eq(name.trim()), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
    }
    if let Some(phone) = phone {
        diesel::update(users::table.find(user.0))
            .set((users::phone.eq(phone), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
    }
    find(conn, user).await
}

/// `PUT /users/me/profile`: phone plus a default delivery address, which together make the
/// profile complete (the step OAuth sign-ups go through before ordering).
pub async fn complete_profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
    phone: String,
    address: NewAddress,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    conn.transaction(async move |conn| -> Result<_, IdentityError> {
        diesel::update(users::table.find(user.0))
            .set((users::phone.eq(phone), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
        address::create(
            conn,
            user,
            NewAddress {
                is_default: true,
                ..address
            },
            now,
        )
        .await?;
        Ok(())
    })
    .await?;
    find(conn, user).await
}

/// Changes the password after checking the current one; every other session ends.
pub async fn change_password(
    conn: &mut AsyncPgConnection,
    sessions: Sessions<'_>,
    claims: &AccessClaims,
    current: String,
    new: String,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let user = claims.user_id().ok_or(IdentityError::UserNotFound)?;
    let stored: Option<String> = users::table
        .find(user.0)
        .select(users::password_hash)
        .first(conn)
        .await
        .optional()?
        .flatten();
    if !password::verify(current, stored).await? {
        return Err(IdentityError::WrongPassword);
    }
    let hash = password::hash(new).await?;
    diesel::update(users::table.find(user.0))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    sessions
        .store
        .revoke_user(user, Some(&claims.sid), sessions.tokens.access_ttl)
        .await?;
    Ok(())
}

/// Withdraws the account: it can no longer log in, every session ends and every subscription
/// is cancelled (its `sid` inactivated through the outbox), in one transaction. Personal data
/// is removed later by the account lifecycle job.
pub async fn withdraw(
    conn: &mut AsyncPgConnection,
    sessions: Sessions<'_>,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    use crate::shop::subscription::{self, CancelReason, Scope};
    conn.transaction(async move |conn| -> Result<(), IdentityError> {
        diesel::update(users::table.find(user.0))
            .set((
                users::status.eq(AccountStatus::Withdrawn.as_str()),
                users::suspended_until.eq(None::<DateTime<Utc>>),
                users::suspension_reason.eq(None::<String>),
                users::status_changed_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        subscription::end_all(conn, Scope::User(user), CancelReason::AccountClosed, now).await?;
        Ok(())
    })
    .await?;
    sessions
        .store
        .revoke_user(user, None, sessions.tokens.access_ttl)
        .await?;
    Ok(())
}

/// Creates an administrator, or promotes the existing account with that email and sets its
/// password (for `petory-api create-admin`). Returns the account and whether it was created.
pub async fn ensure_admin(
    conn: &mut AsyncPgConnection,
    email: &str,
    password_plain: String,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(Account, bool), IdentityError> {
    let email = rules::normalize_email(email);
    let existing: Option<i64> = users::table
        .filter(users::email.eq(&email))
        .filter(users::status.ne(AccountStatus::Withdrawn.as_str()))
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    match existing {
        Some(id) => {
            let hash = password::hash(password_plain).await?;
            diesel::update(users::table.find(id))
                .set((
                    users::role.eq(Role::Admin.as_str()),
                    users::password_hash.eq(hash),
                    users::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok((find(conn, UserId(id)).await?, false))
        }
        None => {
            let account = signup(
                conn,
                NewAccount {
                    email,
                    password: password_plain,
                    name: name.to_owned(),
                    phone: None,
                },
                Role::Admin,
                now,
            )
            .await?;
            Ok((account, true))
        }
    }
}

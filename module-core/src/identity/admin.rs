//! Administration of accounts: listing, suspension and roles.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::account::{self, Account, Sessions, UserRow};
use super::{AccountStatus, IdentityError, Role, UserId};
use crate::db::contains_pattern;
use crate::schema::{user_addresses, users};

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub status: Option<AccountStatus>,
    /// Part of the email or name, case-insensitive.
    pub query: Option<String>,
    /// Id of the last user of the previous page (newest first).
    pub before: Option<i64>,
}

pub async fn list_users(
    conn: &mut AsyncPgConnection,
    filter: UserFilter,
    limit: i64,
) -> Result<Vec<Account>, IdentityError> {
    let mut query = users::table
        .select((
            UserRow::as_select(),
            diesel::dsl::exists(
                user_addresses::table.filter(user_addresses::user_id.eq(users::id)),
            ),
        ))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(users::status.eq(status));
    }
    if let Some(text) = filter.query.filter(|text| !text.trim().is_empty()) {
        let pattern = contains_pattern(text.trim());
        query = query.filter(
            users::email
                .ilike(pattern.clone())
                .or(users::name.ilike(pattern)),
        );
    }
    if let Some(before) = filter.before {
        query = query.filter(users::id.lt(before));
    }
    let rows: Vec<(UserRow, bool)> = query
        .order(users::id.desc())
        .limit(limit)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(row, has_address)| account::account_from_row(row, has_address))
        .collect())
}

/// Suspends an account until `until`, ending every session at once.
pub async fn suspend(
    conn: &mut AsyncPgConnection,
    sessions: Sessions<'_>,
    user: UserId,
    until: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    if until <= now {
        return Err(IdentityError::Invalid {
            field: "until",
            code: "in_past",
            message: "must be in the future".into(),
        });
    }
    let updated = diesel::update(
        users::table
            .find(user)
            .filter(users::status.ne(AccountStatus::Withdrawn)),
    )
    .set((
        users::status.eq(AccountStatus::Suspended),
        users::suspended_until.eq(until),
        users::suspension_reason.eq(reason.trim()),
        users::status_changed_at.eq(now),
        users::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    if updated == 0 {
        return Err(IdentityError::UserNotFound);
    }
    sessions.end_all(user, None).await?;
    account::find(conn, user).await
}

/// Lifts a suspension early (the lifecycle job lifts ended ones).
pub async fn lift_suspension(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    diesel::update(
        users::table
            .find(user)
            .filter(users::status.eq(AccountStatus::Suspended)),
    )
    .set((
        users::status.eq(AccountStatus::Active),
        users::suspended_until.eq(None::<DateTime<Utc>>),
        users::suspension_reason.eq(None::<String>),
        users::status_changed_at.eq(now),
        users::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    account::find(conn, user).await
}

/// Changes a role; the user's sessions end so that no token keeps the old role. The last
/// active administrator cannot stop being one: nobody could manage the service any more.
pub async fn set_role(
    conn: &mut AsyncPgConnection,
    sessions: Sessions<'_>,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Account, IdentityError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async move |conn| -> Result<(), IdentityError> {
        // Every administrator row locked, in id order: two demotions cannot both pass.
        let admins: Vec<i64> = users::table
            .filter(users::role.eq(Role::Admin))
            .filter(users::status.eq(super::AccountStatus::Active))
            .order(users::id)
            .for_update()
            .select(users::id)
            .load(conn)
            .await?;
        if role != Role::Admin && admins == [user.0] {
            return Err(IdentityError::LastAdmin);
        }
        let updated = diesel::update(users::table.find(user))
            .set((users::role.eq(role), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
        if updated == 0 {
            return Err(IdentityError::UserNotFound);
        }
        Ok(())
    })
    .await?;
    sessions.end_all(user, None).await?;
    account::find(conn, user).await
}

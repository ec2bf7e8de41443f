//! Blocking another user: their messages and new rooms stop reaching the blocker (and the
//! blocker's theirs: a conversation needs both).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::CommunityError;
use crate::identity::UserId;
use crate::identity::rules::public_name;
use crate::schema::{user_blocks, users};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub user_id: UserId,
    pub name: String,
    pub blocked_at: DateTime<Utc>,
}

/// Blocks `other` (again is harmless).
pub async fn block(
    conn: &mut AsyncPgConnection,
    me: UserId,
    other: UserId,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    if me == other {
        return Err(CommunityError::CannotBlockSelf);
    }
    let exists: bool = diesel::select(diesel::dsl::exists(users::table.find(other)))
        .get_result(conn)
        .await?;
    if !exists {
        return Err(CommunityError::UserNotFound);
    }
    diesel::insert_into(user_blocks::table)
        .values((
            user_blocks::blocker_id.eq(me),
            user_blocks::blocked_id.eq(other),
            user_blocks::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Lifts a block (none is harmless).
pub async fn unblock(
    conn: &mut AsyncPgConnection,
    me: UserId,
    other: UserId,
) -> Result<(), CommunityError> {
    diesel::delete(user_blocks::table.find((me, other)))
        .execute(conn)
        .await?;
    Ok(())
}

/// The users I block, the latest first.
pub async fn blocked(
    conn: &mut AsyncPgConnection,
    me: UserId,
) -> Result<Vec<Blocked>, CommunityError> {
    let rows: Vec<(UserId, String, DateTime<Utc>)> = user_blocks::table
        .inner_join(users::table.on(users::id.eq(user_blocks::blocked_id)))
        .filter(user_blocks::blocker_id.eq(me))
        .select((
            users::id,
            public_name(users::nickname, users::name),
            user_blocks::created_at,
        ))
        .order(user_blocks::created_at.desc())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, name, blocked_at)| Blocked {
            user_id,
            name,
            blocked_at,
        })
        .collect())
}

/// Everyone `blocker` blocks (few: a member blocks a handful, at most a few hundred).
pub async fn blocked_by(
    conn: &mut AsyncPgConnection,
    blocker: UserId,
) -> Result<Vec<UserId>, CommunityError> {
    Ok(user_blocks::table
        .filter(user_blocks::blocker_id.eq(blocker))
        .select(user_blocks::blocked_id)
        .load(conn)
        .await?)
}

/// Whether either of two users blocks the other.
pub async fn between(
    conn: &mut AsyncPgConnection,
    a: UserId,
    b: UserId,
) -> Result<bool, CommunityError> {
    Ok(diesel::select(diesel::dsl::exists(
        user_blocks::table.filter(
            user_blocks::blocker_id
                .eq(a)
                .and(user_blocks::blocked_id.eq(b))
                .or(user_blocks::blocker_id
                    .eq(b)
                    .and(user_blocks::blocked_id.eq(a))),
        ),
    ))
    .get_result(conn)
    .await?)
}

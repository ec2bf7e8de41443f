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

/// The members `reader` blocks, as a subquery. This is the one rule by which a block hides
/// content: every list, search and detail of posts, listings and album photos leaves out those
/// whose author is in it (`NOT author IN (…)`), and comments show as placeholders.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn hidden_authors(reader: UserId) -> _ {
    user_blocks::table
        .filter(user_blocks::blocker_id.eq(reader))
        .select(user_blocks::blocked_id)
}

/// Whether `reader` blocks `author`, so that their content is hidden from the reader.
pub async fn hides(
    conn: &mut AsyncPgConnection,
    reader: Option<UserId>,
    author: UserId,
) -> Result<bool, diesel::result::Error> {
    let Some(reader) = reader else {
        return Ok(false);
    };
    diesel::select(diesel::dsl::exists(
        user_blocks::table.find((reader, author)),
    ))
    .get_result(conn)
    .await
}

/// Which of `authors` `reader` blocks (a page read once for everyone, such as the board's
/// cached first page, is checked with this).
pub async fn hidden_among(
    conn: &mut AsyncPgConnection,
    reader: UserId,
    authors: &[UserId],
) -> Result<Vec<UserId>, CommunityError> {
    Ok(user_blocks::table
        .filter(user_blocks::blocker_id.eq(reader))
        .filter(user_blocks::blocked_id.eq_any(authors))
        .select(user_blocks::blocked_id)
        .load(conn)
        .await?)
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

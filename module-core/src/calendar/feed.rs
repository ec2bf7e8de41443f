//! The calendar's feed: a secret address that calendar apps subscribe to.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::CalendarError;
use super::event::{EventDetail, details};
use crate::db::DbError;
use crate::identity::AccountStatus;
use crate::identity::token::secret_digest;
use crate::schema::calendar_feeds;
use crate::types::UserId;

/// Gives `owner` a new secret feed token (the old one stops working); only its digest is kept.
pub async fn rotate_feed(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    now: DateTime<Utc>,
) -> Result<String, CalendarError> {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(owner),
            calendar_feeds::token_digest.eq(secret_digest(&token)),
            calendar_feeds::created_at.eq(now),
        ))
        .on_conflict(calendar_feeds::user_id)
        .do_update()
        .set((
            calendar_feeds::token_digest.eq(secret_digest(&token)),
            calendar_feeds::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(token)
}

/// Stops `owner`'s feed (again is harmless).
pub async fn stop_feed(conn: &mut AsyncPgConnection, owner: UserId) -> Result<(), DbError> {
    diesel::delete(calendar_feeds::table.find(owner))
        .execute(conn)
        .await?;
    Ok(())
}

/// The feed's address is a secret that reaches the calendar without a password: it ends with
/// the password (identity's [`OtherSecrets`]).
///
/// [`OtherSecrets`]: crate::identity::closing::OtherSecrets
pub struct EndFeed;

#[async_trait::async_trait]
impl crate::identity::closing::OtherSecrets for EndFeed {
    async fn end(&self, conn: &mut AsyncPgConnection, user: UserId) -> Result<(), DbError> {
        stop_feed(conn, user).await
    }
}

/// The events behind a feed token, with the owner's name: `None` for a token that is not (or
/// no longer) one, or an account that is closed or dormant.
pub async fn feed(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> Result<Option<(String, Vec<EventDetail>)>, CalendarError> {
    use crate::schema::users;
    let owner: Option<(UserId, String)> = calendar_feeds::table
        .inner_join(users::table)
        .filter(calendar_feeds::token_digest.eq(secret_digest(token)))
        .filter(users::status.eq_any([
            AccountStatus::Active.as_str(),
            AccountStatus::Suspended.as_str(),
        ]))
        .select((users::id, users::name))
        .first(conn)
        .await
        .optional()?;
    let Some((owner, name)) = owner else {
        return Ok(None);
    };
    Ok(Some((name, details(conn, owner).await?)))
}

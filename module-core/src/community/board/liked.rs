//! Telling authors that members liked their posts: aggregated, at most once an hour per post,
//! with how many liked it since the last notice (never who).
//!
//! A like adds its post to `post_likes_untold` (once). A pass of the `post-likes` job claims
//! the posts whose author was not told within the hour (`FOR UPDATE SKIP LOCKED`, so instances
//! share them), counts the likes after the last one told (not the author's own, none from a
//! member either side blocks), records the notice in `post_like_notices`, and asks for the
//! notifications through the outbox, all in one transaction. A notification's cause names its
//! post and its last like, so no like is told twice.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::community::CommunityError;
use crate::identity::UserId;
use crate::notification::{self, NewNotification, Notice};
use crate::platform::messages;

/// An author hears of a post's likes at most this often.
pub const LIKES_NOTICE_INTERVAL: TimeDelta = TimeDelta::hours(1);

/// A post's likes to tell its author of.
#[derive(diesel::QueryableByName)]
struct Liked {
    #[diesel(sql_type = BigInt)]
    post_id: i64,
    #[diesel(sql_type = BigInt)]
    author_id: i64,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = BigInt)]
    like_count: i64,
    #[diesel(sql_type = BigInt)]
    last_like_id: i64,
}

/// One pass at `now` over at most `chunk` liked posts; returns how many authors were told.
pub async fn tell_likes(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    chunk: i64,
) -> Result<usize, CommunityError> {
    conn.transaction(async |conn| {
        let liked: Vec<Liked> = diesel::sql_query(include_str!("liked.sql"))
            .bind::<Timestamptz, _>(now - LIKES_NOTICE_INTERVAL)
            .bind::<BigInt, _>(chunk)
            .load(conn)
            .await?;
        if liked.is_empty() {
            return Ok(0);
        }
        diesel::sql_query(
            "INSERT INTO post_like_notices (post_id, last_like_id, notified_at) \
             SELECT post_id, last_like_id, $3 FROM unnest($1, $2) AS t (post_id, last_like_id) \
             ON CONFLICT (post_id) DO UPDATE \
             SET last_like_id = excluded.last_like_id, notified_at = excluded.notified_at",
        )
        .bind::<Array<BigInt>, _>(liked.iter().map(|l| l.post_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(liked.iter().map(|l| l.last_like_id).collect::<Vec<_>>())
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
        let notifications: Vec<NewNotification> = liked
            .iter()
            .map(|liked| {
                let words = messages::post_liked(&liked.title, liked.like_count);
                NewNotification {
                    user_id: UserId(liked.author_id),
                    notice: Notice::PostLiked {
                        post_id: liked.post_id,
                        like_count: liked.like_count,
                    },
                    title: words.title,
                    body: words.body,
                    once_per: Some(format!(
                        "post-liked:{}:{}",
                        liked.post_id, liked.last_like_id
                    )),
                }
            })
            .collect();
        notification::request_many(conn, &notifications, now).await?;
        Ok(notifications.len())
    })
    .await
}

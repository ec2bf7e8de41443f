//! View counts: one view per viewer (a user, or a guest's address) per subject per day,
//! counted in the [`ViewCounter`] and taken into the database in batches by the batch binary.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::CommunityError;
use super::board::PostId;
use crate::ports::ViewCounter;
use crate::schema::view_flushes;

/// How long stored batch ids are remembered (a batch is retried within minutes).
const FLUSH_MEMORY: TimeDelta = TimeDelta::days(7);

pub fn post_subject(post: PostId) -> String {
    format!("post:{post}")
}

/// Counts a view; a counter that is down costs the view, never the read.
pub async fn record(counter: &dyn ViewCounter, subject: &str, viewer: &str, day: NaiveDate) {
    if let Err(error) = counter.record(subject, viewer, day).await {
        tracing::warn!(%error, subject, "view not counted");
    }
}

/// Views stored plus those still in the counter (the counter being down shows the stored).
pub async fn total(counter: &dyn ViewCounter, subject: &str, stored: i64) -> i64 {
    match counter.pending(subject).await {
        Ok(pending) => stored + pending,
        Err(error) => {
            tracing::warn!(%error, subject, "pending views unknown");
            stored
        }
    }
}

/// Takes the counter's pending views into the database, once per batch even across crashes.
/// Returns how many views were stored.
pub async fn flush(
    conn: &mut AsyncPgConnection,
    counter: &dyn ViewCounter,
    now: DateTime<Utc>,
) -> Result<i64, CommunityError> {
    let Some(batch) = counter.take().await? else {
        return Ok(0);
    };
    let (posts, counts): (Vec<i64>, Vec<i64>) = batch
        .counts
        .iter()
        .filter_map(|(subject, count)| {
            let id = subject.strip_prefix("post:")?.parse::<i64>().ok()?;
            Some((id, *count))
        })
        .unzip();
    let stored = conn
        .transaction(async |conn| {
            let fresh = diesel::insert_into(view_flushes::table)
                .values((
                    view_flushes::batch.eq(&batch.id),
                    view_flushes::flushed_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if fresh == 0 {
                return Ok::<_, CommunityError>(0);
            }
            diesel::sql_query(
                "UPDATE posts SET view_count = posts.view_count + v.views
                   FROM unnest($1::bigint[], $2::bigint[]) AS v (id, views)
                  WHERE posts.id = v.id",
            )
            .bind::<Array<BigInt>, _>(&posts)
            .bind::<Array<BigInt>, _>(&counts)
            .execute(conn)
            .await?;
            diesel::delete(
                view_flushes::table.filter(view_flushes::flushed_at.lt(now - FLUSH_MEMORY)),
            )
            .execute(conn)
            .await?;
            Ok(counts.iter().sum())
        })
        .await?;
    counter.ack(&batch.id).await?;
    Ok(stored)
}

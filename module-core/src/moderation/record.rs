//! A member's whole record, as moderation acts on it: the account, how much they wrote (and how
//! much of it is hidden or deleted), the reports they made and those of their content, and
//! their latest content, live or not.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::ModerationError;
use super::report::Report;
use super::search::{self, AdminComment, AdminListing, AdminPost, ContentFilter};
use crate::identity::account::{self, Account};
use crate::schema::reports;
use crate::types::UserId;

/// How many of the latest reports and items of each kind a record shows.
pub const RECORD_LATEST: i64 = 10;

/// How many items of one kind a member wrote, and how many of them are hidden or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContentCounts {
    pub total: i64,
    pub hidden: i64,
    pub deleted: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub posts: ContentCounts,
    pub comments: ContentCounts,
    pub listings: ContentCounts,
    pub chat_messages: ContentCounts,
    pub reports_made: i64,
    /// Reports of their content (posts, comments, listings, chat messages, place reviews and
    /// album photos), by anyone.
    pub reports_received: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberRecord {
    pub account: Account,
    pub counts: RecordCounts,
    /// The latest [`RECORD_LATEST`], newest first.
    pub reports_made: Vec<Report>,
    /// The latest [`RECORD_LATEST`] reports of their content, newest first.
    pub reports_received: Vec<Report>,
    /// Their latest [`RECORD_LATEST`] of each kind, hidden and deleted ones too.
    pub posts: Vec<AdminPost>,
    pub comments: Vec<AdminComment>,
    pub listings: Vec<AdminListing>,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    posts_total: i64,
    #[diesel(sql_type = BigInt)]
    posts_hidden: i64,
    #[diesel(sql_type = BigInt)]
    posts_deleted: i64,
    #[diesel(sql_type = BigInt)]
    comments_total: i64,
    #[diesel(sql_type = BigInt)]
    comments_hidden: i64,
    #[diesel(sql_type = BigInt)]
    comments_deleted: i64,
    #[diesel(sql_type = BigInt)]
    listings_total: i64,
    #[diesel(sql_type = BigInt)]
    listings_hidden: i64,
    #[diesel(sql_type = BigInt)]
    listings_deleted: i64,
    #[diesel(sql_type = BigInt)]
    chat_messages_total: i64,
    #[diesel(sql_type = BigInt)]
    chat_messages_hidden: i64,
    #[diesel(sql_type = BigInt)]
    chat_messages_deleted: i64,
    #[diesel(sql_type = BigInt)]
    reports_made: i64,
}

#[derive(QueryableByName)]
struct Received {
    #[diesel(embed)]
    report: Report,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The record of member `user`, or `UserNotFound` (withdrawn members have one too).
pub async fn record(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<MemberRecord, ModerationError> {
    let account = account::find(conn, user).await?;
    let counted: Counted = diesel::sql_query(include_str!("counts.sql"))
        .bind::<BigInt, _>(user)
        .get_result(conn)
        .await?;
    let reports_made: Vec<Report> = reports::table
        .filter(reports::reporter_id.eq(user))
        .order(reports::id.desc())
        .limit(RECORD_LATEST)
        .select(Report::as_select())
        .load(conn)
        .await?;
    let received: Vec<Received> = diesel::sql_query(include_str!("received.sql"))
        .bind::<BigInt, _>(user)
        .bind::<BigInt, _>(RECORD_LATEST)
        .load(conn)
        .await?;
    let theirs = ContentFilter {
        author: Some(user),
        ..ContentFilter::default()
    };
    let posts = search::list_posts(conn, &theirs, RECORD_LATEST).await?;
    let comments = search::list_comments(conn, &theirs, RECORD_LATEST).await?;
    let listings = search::list_listings(conn, &theirs, RECORD_LATEST).await?;
    let counts = RecordCounts {
        posts: ContentCounts {
            total: counted.posts_total,
            hidden: counted.posts_hidden,
            deleted: counted.posts_deleted,
        },
        comments: ContentCounts {
            total: counted.comments_total,
            hidden: counted.comments_hidden,
            deleted: counted.comments_deleted,
        },
        listings: ContentCounts {
            total: counted.listings_total,
            hidden: counted.listings_hidden,
            deleted: counted.listings_deleted,
        },
        chat_messages: ContentCounts {
            total: counted.chat_messages_total,
            hidden: counted.chat_messages_hidden,
            deleted: counted.chat_messages_deleted,
        },
        reports_made: counted.reports_made,
        reports_received: received.as_slice().first().map_or(0, |first| first.total),
    };
    Ok(MemberRecord {
        account,
        counts,
        reports_made,
        reports_received: received.into_iter().map(|row| row.report).collect(),
        posts,
        comments,
        listings,
    })
}

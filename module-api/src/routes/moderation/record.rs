//! A member's whole record, so that moderation can act on all of it.

use axum::extract::State;
use petory_core::identity::UserId;
use petory_core::moderation::record::{self, ContentCounts, MemberRecord, RecordCounts};
use petory_core::moderation::report::Report;
use serde::Serialize;
use utoipa::ToSchema;

use super::ReportResponse;
use super::content::{AdminCommentResponse, AdminListingResponse, AdminPostResponse};
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path};
use crate::routes::identity::UserResponse;

/// How many items of one kind a member wrote, and how many of them are hidden or deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContentCountsResponse {
    pub total: i64,
    pub hidden: i64,
    pub deleted: i64,
}

impl From<ContentCounts> for ContentCountsResponse {
    fn from(counts: ContentCounts) -> Self {
        Self {
            total: counts.total,
            hidden: counts.hidden,
            deleted: counts.deleted,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordCountsResponse {
    pub posts: ContentCountsResponse,
    pub comments: ContentCountsResponse,
    pub listings: ContentCountsResponse,
    pub chat_messages: ContentCountsResponse,
    pub reports_made: i64,
    /// Reports of their content (posts, comments, listings, chat messages, place reviews,
    /// album photos), by anyone.
    pub reports_received: i64,
}

impl From<RecordCounts> for RecordCountsResponse {
    fn from(counts: RecordCounts) -> Self {
        Self {
            posts: counts.posts.into(),
            comments: counts.comments.into(),
            listings: counts.listings.into(),
            chat_messages: counts.chat_messages.into(),
            reports_made: counts.reports_made,
            reports_received: counts.reports_received,
        }
    }
}

/// A report in a member's record: who made it, and who resolved it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordReportResponse {
    #[serde(flatten)]
    pub report: ReportResponse,
    pub reporter_id: i64,
    pub resolved_by: Option<i64>,
}

impl From<Report> for RecordReportResponse {
    fn from(report: Report) -> Self {
        Self {
            reporter_id: report.reporter_id.into(),
            resolved_by: report.resolved_by.map(Into::into),
            report: report.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberRecordResponse {
    pub account: UserResponse,
    pub counts: RecordCountsResponse,
    /// Their latest 10 reports, newest first.
    pub reports_made: Vec<RecordReportResponse>,
    /// The latest 10 reports of their content, newest first.
    pub reports_received: Vec<RecordReportResponse>,
    /// Their latest 10 posts, hidden and deleted ones too (`GET /admin/posts?author_id=` for
    /// more).
    pub posts: Vec<AdminPostResponse>,
    /// Their latest 10 comments, hidden and deleted ones too.
    pub comments: Vec<AdminCommentResponse>,
    /// Their latest 10 listings, hidden and deleted ones too.
    pub listings: Vec<AdminListingResponse>,
}

impl From<MemberRecord> for MemberRecordResponse {
    fn from(record: MemberRecord) -> Self {
        Self {
            account: record.account.into(),
            counts: record.counts.into(),
            reports_made: record.reports_made.into_iter().map(Into::into).collect(),
            reports_received: record
                .reports_received
                .into_iter()
                .map(Into::into)
                .collect(),
            posts: record.posts.into_iter().map(Into::into).collect(),
            comments: record.comments.into_iter().map(Into::into).collect(),
            listings: record.listings.into_iter().map(Into::into).collect(),
        }
    }
}

/// A member's whole record: the account, how much they wrote (and how much of it is hidden or
/// deleted), the reports they made and those of their content, and their latest content, live
/// or not.
#[utoipa::path(get, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The record", body = MemberRecordResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`USER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_member_record(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<UserId>,
) -> ApiResult<Json<MemberRecordResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(record::record(&mut conn, id).await?.into()))
}

//! Reports of content by its readers, and the admins' queue, decisions and log; admins'
//! lists of content ([`content`]) and members' records ([`record`]).

pub mod content;
pub mod record;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::identity::UserId;
use petory_core::moderation::decision::{self, Decision, LogFilter, ModerationEntryView};
use petory_core::moderation::report::{self, NewReport, QueueFilter, QueuedReport, Report};
use petory_core::moderation::{
    ModerationAction, Reason, ReportId, ReportStatus, Resolution, TargetType,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::{AdminUser, AuthUser};
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ReportRequest {
    pub target_type: TargetType,
    /// The id of the post, comment or listing.
    #[schema(minimum = 1)]
    pub target_id: i64,
    pub reason: Reason,
    /// What the admins should know.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    pub id: i64,
    pub target_type: TargetType,
    pub target_id: i64,
    pub reason: Reason,
    pub detail: String,
    pub status: ReportStatus,
    /// The admin's decision, once resolved.
    pub resolution: Option<Resolution>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Report> for ReportResponse {
    fn from(report: Report) -> Self {
        Self {
            id: report.id.into(),
            target_type: report.target_type,
            target_id: report.target_id,
            reason: report.reason,
            detail: report.detail,
            status: report.status,
            resolution: report.resolution,
            resolved_at: report.resolved_at,
            created_at: report.created_at,
        }
    }
}

/// Report a post, comment or listing to the admins. Enough open reports from different
/// people hide it until an admin decides.
#[utoipa::path(post, path = "/reports", tag = "community", security(("bearer" = [])), request_body = ReportRequest,
    responses(
        (status = 201, description = "Reported", body = ReportResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`REPORT_TARGET_NOT_FOUND` (also deleted, and hidden unless yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ALREADY_REPORTED`: your earlier report of it is still open", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `CANNOT_REPORT_OWN_CONTENT`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_report(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<ReportRequest>,
) -> ApiResult<(StatusCode, Json<ReportResponse>)> {
    let new = NewReport {
        target_type: body.target_type,
        target_id: body.target_id,
        reason: body.reason,
        detail: body.detail,
    };
    let mut conn = state.db().await?;
    let created = report::report(
        &mut conn,
        user.id,
        new,
        state.config.moderation,
        state.clock.now(),
    )
    .await?;
    drop(conn);
    // Reports that reach the threshold hide the content: its images leave public reach now.
    state.apply_withholding().await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedReportResponse {
    #[serde(flatten)]
    pub report: ReportResponse,
    pub reporter_id: i64,
    pub reporter_name: String,
    /// Who wrote the content: the one to suspend (`POST /admin/users/{id}/suspension`) if
    /// need be. Absent when the content is gone with its author's account.
    pub target_author_id: Option<i64>,
    pub target_author_name: Option<String>,
    /// The start of the title (or of a comment's words).
    pub target_excerpt: Option<String>,
    pub target_hidden: bool,
    pub target_deleted: bool,
    /// Open reports of the same content.
    pub open_reports: i64,
    pub resolved_by: Option<i64>,
}

impl From<QueuedReport> for QueuedReportResponse {
    fn from(queued: QueuedReport) -> Self {
        Self {
            reporter_id: queued.report.reporter_id.into(),
            resolved_by: queued.report.resolved_by.map(Into::into),
            report: queued.report.into(),
            reporter_name: queued.reporter_name,
            target_author_id: queued.target_author_id.map(Into::into),
            target_author_name: queued.target_author_name,
            target_excerpt: queued.target_excerpt,
            target_hidden: queued.target_hidden,
            target_deleted: queued.target_deleted,
            open_reports: queued.open_reports,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQueueQuery {
    #[param(inline)]
    pub status: Option<ReportStatus>,
    #[param(inline)]
    pub target_type: Option<TargetType>,
    #[param(minimum = 1)]
    pub target_id: Option<i64>,
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// The reports queue, newest first (`status=OPEN` for what awaits a decision).
#[utoipa::path(get, path = "/admin/reports", tag = "admin", security(("bearer" = [])), params(ReportQueueQuery),
    responses(
        (status = 200, description = "A page of reports", body = inline(Page<QueuedReportResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_reports(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<ReportQueueQuery>,
) -> ApiResult<Json<Page<QueuedReportResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let filter = QueueFilter {
        status: query.status,
        target_type: query.target_type,
        target_id: query.target_id,
        before: page.before_id()?,
    };
    let mut conn = state.db().await?;
    let reports = report::queue(&mut conn, &filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(reports, page.limit(), |queued| queued.report.id).map(Into::into),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ResolveRequest {
    pub action: Resolution,
    /// Why: kept in the moderation log, and told to the content's author when it is hidden,
    /// deleted or shown again (not only spaces).
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"\S",
        example = "links to a shop"
    )]
    pub note: String,
}

/// Decide on a report: `DISMISS` leaves the content up (showing it again if reports hid it),
/// `HIDE` hides it, `DELETE` deletes it. Every open report of the same content is resolved
/// with it, and the decision is logged.
#[utoipa::path(post, path = "/admin/reports/{id}/resolve", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ResolveRequest,
    responses(
        (status = 200, description = "The report, resolved", body = QueuedReportResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`REPORT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`REPORT_ALREADY_RESOLVED`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resolve_report(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<ReportId>,
    ValidJson(body): ValidJson<ResolveRequest>,
) -> ApiResult<Json<QueuedReportResponse>> {
    let mut conn = state.db().await?;
    let resolved = decision::resolve(
        &mut conn,
        admin.id,
        id,
        body.action,
        &body.note,
        state.clock.now(),
    )
    .await?;
    drop(conn);
    state.apply_withholding().await;
    Ok(Json(resolved.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModerationEntryResponse {
    pub id: i64,
    /// Absent for the automatic hiding.
    pub admin_id: Option<i64>,
    pub admin_name: Option<String>,
    pub action: ModerationAction,
    pub target_type: TargetType,
    pub target_id: i64,
    pub report_id: Option<i64>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl From<ModerationEntryView> for ModerationEntryResponse {
    fn from(view: ModerationEntryView) -> Self {
        let entry = view.entry;
        Self {
            id: entry.id.into(),
            admin_id: entry.admin_id.map(Into::into),
            admin_name: view.admin_name,
            action: entry.action,
            target_type: entry.target_type,
            target_id: entry.target_id,
            report_id: entry.report_id.map(Into::into),
            note: entry.note,
            created_at: entry.created_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct DecisionRequest {
    pub target_type: TargetType,
    #[schema(minimum = 1)]
    pub target_id: i64,
    pub action: Resolution,
    /// Why: kept in the moderation log, and told to the content's author when it is hidden,
    /// deleted or shown again (not only spaces).
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"\S",
        example = "links to a shop"
    )]
    pub note: String,
}

/// Decide about content without a report to resolve: `DISMISS` shows it again (when reports
/// or an earlier decision hid it), `HIDE` hides it, `DELETE` deletes it. Open reports of it
/// are resolved with the decision, and the decision is logged (without a `report_id`).
#[utoipa::path(post, path = "/admin/moderation-decisions", tag = "admin", security(("bearer" = [])), request_body = DecisionRequest,
    responses(
        (status = 201, description = "The decision, as logged", body = ModerationEntryResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`CONTENT_NOT_FOUND` (also deleted)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_decision(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ValidJson(body): ValidJson<DecisionRequest>,
) -> ApiResult<(StatusCode, Json<ModerationEntryResponse>)> {
    let decision = Decision {
        admin: admin.id,
        target_type: body.target_type,
        target_id: body.target_id,
        action: body.action,
        note: &body.note,
    };
    let mut conn = state.db().await?;
    let entry = decision::decide(&mut conn, decision, state.clock.now()).await?;
    drop(conn);
    state.apply_withholding().await;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModerationLogQuery {
    #[param(inline)]
    pub target_type: Option<TargetType>,
    #[param(minimum = 1)]
    pub target_id: Option<i64>,
    #[param(minimum = 1)]
    pub admin_id: Option<i64>,
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Who decided what about which content, when and why, newest first.
#[utoipa::path(get, path = "/admin/moderation-log", tag = "admin", security(("bearer" = [])), params(ModerationLogQuery),
    responses(
        (status = 200, description = "A page of the log", body = inline(Page<ModerationEntryResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn moderation_log(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<ModerationLogQuery>,
) -> ApiResult<Json<Page<ModerationEntryResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let filter = LogFilter {
        target_type: query.target_type,
        target_id: query.target_id,
        admin_id: query.admin_id.map(UserId),
        before: page.before_id()?,
    };
    let mut conn = state.db().await?;
    let entries = decision::moderation_log(&mut conn, &filter, page.fetch_limit()).await?;
    Ok(Json(
        Page::by_id(entries, page.limit(), |view| view.entry.id).map(Into::into),
    ))
}

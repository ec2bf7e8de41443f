//! Admins' decisions about content, from a report or on their own initiative, and the
//! moderation log that records every decision.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::content::{self, Locked, Reportable};
use super::report::{QueueFilter, QueuedReport, queued};
use super::{
    ModerationAction, ModerationEntryId, ModerationError, ReportId, ReportStatus, Resolution,
    TargetType,
};
use crate::notification::{self, NewNotification, Notice};
use crate::platform::messages;
use crate::schema::{moderation_log, reports, users};
use crate::types::UserId;

/// What a log entry records: who (no one for the automatic hiding) did what to which content,
/// on which report (none for an admin's own decision), and why.
pub(super) struct LogEntry<'a> {
    pub(super) admin: Option<UserId>,
    pub(super) action: ModerationAction,
    pub(super) target_type: TargetType,
    pub(super) target_id: i64,
    pub(super) report: Option<ReportId>,
    pub(super) note: &'a str,
}

pub(super) async fn log(
    conn: &mut AsyncPgConnection,
    entry: LogEntry<'_>,
    now: DateTime<Utc>,
) -> Result<ModerationEntry, ModerationError> {
    Ok(diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::admin_id.eq(entry.admin),
            moderation_log::action.eq(entry.action),
            moderation_log::target_type.eq(entry.target_type),
            moderation_log::target_id.eq(entry.target_id),
            moderation_log::report_id.eq(entry.report),
            moderation_log::note.eq(entry.note),
            moderation_log::created_at.eq(now),
        ))
        .returning(ModerationEntry::as_returning())
        .get_result(conn)
        .await?)
}

/// An admin's decision on a report, applied to its content and to every open report of it.
/// The content is locked before any report, as reporting does, so decisions on one content
/// take turns and the second finds its report already resolved.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    admin: UserId,
    id: ReportId,
    action: Resolution,
    note: &str,
    now: DateTime<Utc>,
) -> Result<QueuedReport, ModerationError> {
    conn.transaction(async |conn| {
        let (target_type, target_id): (TargetType, i64) = reports::table
            .find(id)
            .select((reports::target_type, reports::target_id))
            .first(conn)
            .await
            .optional()?
            .ok_or(ModerationError::ReportNotFound)?;
        let content = target_type.content();
        content.lock_parent(conn, target_id).await?;
        // Content erased with its author's account leaves only the reports to resolve.
        let target = content.lock(conn, target_id).await?;
        let status: ReportStatus = reports::table
            .find(id)
            .for_update()
            .select(reports::status)
            .first(conn)
            .await?;
        if status != ReportStatus::Open {
            return Err(ModerationError::ReportAlreadyResolved);
        }
        let decision = Decision {
            admin,
            target_type,
            target_id,
            action,
            note,
        };
        decision
            .apply(conn, content, target.as_ref(), Some(id), now)
            .await?;
        Ok(())
    })
    .await?;
    queued(conn, &QueueFilter::default(), Some(id), 1)
        .await?
        .pop()
        .ok_or(ModerationError::ReportNotFound)
}

/// An admin's decision about some content, made from a report or on the admin's own
/// initiative (to show again what an earlier decision hid, or to act before anyone reports).
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    pub admin: UserId,
    pub target_type: TargetType,
    pub target_id: i64,
    pub action: Resolution,
    pub note: &'a str,
}

impl Decision<'_> {
    /// Applies the decision to the locked content (if it is still there), resolves every open
    /// report of it alike, and logs it.
    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        content: &dyn Reportable,
        target: Option<&Locked>,
        report: Option<ReportId>,
        now: DateTime<Utc>,
    ) -> Result<ModerationEntry, ModerationError> {
        if let Some(target) = target {
            match self.action {
                Resolution::Dismiss => {
                    content::set_hidden(content, conn, self.target_id, target, false, now).await?;
                }
                Resolution::Hide => {
                    content::set_hidden(content, conn, self.target_id, target, true, now).await?;
                }
                Resolution::Delete => {
                    content::delete(content, conn, self.target_id, target, now).await?;
                }
            }
        }
        let resolved: Vec<(ReportId, UserId)> = diesel::update(
            reports::table
                .filter(reports::target_type.eq(self.target_type))
                .filter(reports::target_id.eq(self.target_id))
                .filter(reports::status.eq(ReportStatus::Open)),
        )
        .set((
            reports::status.eq(ReportStatus::Resolved),
            reports::resolution.eq(self.action),
            reports::resolved_by.eq(self.admin),
            reports::resolved_at.eq(now),
        ))
        .returning((reports::id, reports::reporter_id))
        .get_results(conn)
        .await?;
        let entry = log(
            conn,
            LogEntry {
                admin: Some(self.admin),
                action: self.action.into(),
                target_type: self.target_type,
                target_id: self.target_id,
                report,
                note: self.note.trim(),
            },
            now,
        )
        .await?;
        let mut told = self.reporters_told(&resolved);
        told.extend(self.author_told(target, &entry));
        notification::request_many(conn, &told, now).await?;
        Ok(entry)
    }

    /// The content's author hears of a decision that hides or deletes it, with the reason (the
    /// note), and of one that shows hidden content again; not of a dismissal that changes
    /// nothing, nor when there is no author (a place) or the content is already gone.
    fn author_told(
        &self,
        target: Option<&Locked>,
        entry: &ModerationEntry,
    ) -> Option<NewNotification> {
        let target = target?;
        let author = target.author_id?;
        let action = match self.action {
            Resolution::Hide => "HIDE",
            Resolution::Delete => "DELETE",
            Resolution::Dismiss if target.hidden_at.is_some() => "SHOW",
            Resolution::Dismiss => return None,
        };
        let reason = self.note.trim();
        let words = messages::content_moderated(self.target_type.as_str(), action, reason);
        Some(NewNotification {
            user_id: author,
            notice: Notice::ContentModerated {
                target_type: self.target_type.as_str().to_owned(),
                target_id: self.target_id,
                action: action.to_owned(),
                reason: reason.to_owned(),
            },
            title: words.title,
            body: words.body,
            once_per: Some(format!("content-moderated:{}", entry.id)),
        })
    }

    /// Each member whose report the decision resolved hears how (never whose content it was,
    /// nor its words).
    fn reporters_told(&self, resolved: &[(ReportId, UserId)]) -> Vec<NewNotification> {
        resolved
            .iter()
            .map(|&(report, reporter)| {
                let words =
                    messages::report_resolved(self.target_type.as_str(), self.action.as_str());
                NewNotification {
                    user_id: reporter,
                    notice: Notice::ReportResolved {
                        report_id: report.into(),
                        target_type: self.target_type.as_str().to_owned(),
                        target_id: self.target_id,
                        resolution: self.action.as_str().to_owned(),
                    },
                    title: words.title,
                    body: words.body,
                    once_per: Some(format!("report-resolved:{report}")),
                }
            })
            .collect()
    }
}

/// An admin's decision about live content with or without reports: `Dismiss` shows it again
/// if it was hidden, `Hide` hides it, `Delete` deletes it. Open reports of it are resolved
/// with the decision, as from the queue.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    decision: Decision<'_>,
    now: DateTime<Utc>,
) -> Result<ModerationEntryView, ModerationError> {
    let entry = conn
        .transaction(async |conn| {
            let content = decision.target_type.content();
            content.lock_parent(conn, decision.target_id).await?;
            let target = content
                .lock(conn, decision.target_id)
                .await?
                .ok_or(ModerationError::ContentNotFound)?;
            decision
                .apply(conn, content, Some(&target), None, now)
                .await
        })
        .await?;
    let admin_name = users::table
        .find(decision.admin)
        .select(users::name)
        .first(conn)
        .await
        .optional()?;
    Ok(ModerationEntryView { entry, admin_name })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = moderation_log)]
pub struct ModerationEntry {
    pub id: ModerationEntryId,
    pub admin_id: Option<UserId>,
    pub action: ModerationAction,
    pub target_type: TargetType,
    pub target_id: i64,
    pub report_id: Option<ReportId>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModerationEntryView {
    pub entry: ModerationEntry,
    pub admin_name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub target_type: Option<TargetType>,
    pub target_id: Option<i64>,
    pub admin_id: Option<UserId>,
    pub before: Option<ModerationEntryId>,
}

/// The moderation log, newest first.
pub async fn moderation_log(
    conn: &mut AsyncPgConnection,
    filter: &LogFilter,
    limit: i64,
) -> Result<Vec<ModerationEntryView>, ModerationError> {
    let mut query = moderation_log::table.left_join(users::table).into_boxed();
    if let Some(target_type) = filter.target_type {
        query = query.filter(moderation_log::target_type.eq(target_type));
    }
    if let Some(target_id) = filter.target_id {
        query = query.filter(moderation_log::target_id.eq(target_id));
    }
    if let Some(admin) = filter.admin_id {
        query = query.filter(moderation_log::admin_id.eq(admin));
    }
    if let Some(before) = filter.before {
        query = query.filter(moderation_log::id.lt(before));
    }
    let rows: Vec<(ModerationEntry, Option<String>)> = query
        .order(moderation_log::id.desc())
        .limit(limit)
        .select((ModerationEntry::as_select(), users::name.nullable()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(entry, admin_name)| ModerationEntryView { entry, admin_name })
        .collect())
}

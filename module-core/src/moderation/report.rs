//! Reporting content, what the open reports of it weigh, and the admins' queue.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::content::{self, CountRule};
use super::decision::{LogEntry, log};
use super::{
    ModerationAction, ModerationError, Reason, ReportId, ReportStatus, Resolution, TargetType,
};
use crate::community::Viewer;
use crate::identity;
use crate::schema::reports;
use crate::types::UserId;

/// When reports hide content until an admin decides: when the open reports of it weigh
/// `hide_threshold`. A report weighs what its reporter's word is worth: nothing from an
/// account younger than `reporter_min_age` (a crowd of fresh accounts hides nothing), nothing
/// from a reporter an admin already dismissed about this very content (the same crowd cannot
/// hide it again), and otherwise the share of the reporter's decided reports that admins
/// upheld, counting one upheld for everyone (a first report weighs 1, one whose reports were
/// dismissed three times out of three weighs ¼).
#[derive(Debug, Clone, Copy)]
pub struct ModerationSettings {
    pub hide_threshold: i64,
    pub reporter_min_age: chrono::TimeDelta,
}

impl Default for ModerationSettings {
    fn default() -> Self {
        Self {
            hide_threshold: 5,
            reporter_min_age: chrono::TimeDelta::hours(72),
        }
    }
}

impl ModerationSettings {
    /// `PETORY_REPORT_HIDE_THRESHOLD` (5), `PETORY_REPORT_MIN_ACCOUNT_AGE_HOURS` (72).
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        use crate::config;
        let hide_threshold = config::parsed_or(
            "PETORY_REPORT_HIDE_THRESHOLD",
            Self::default().hide_threshold,
        )?;
        config::ensure(
            "PETORY_REPORT_HIDE_THRESHOLD",
            hide_threshold,
            (1..=1000).contains(&hide_threshold),
            "must be 1 to 1000",
        )?;
        let hours = config::parsed_or(
            "PETORY_REPORT_MIN_ACCOUNT_AGE_HOURS",
            Self::default().reporter_min_age.num_hours(),
        )?;
        config::ensure(
            "PETORY_REPORT_MIN_ACCOUNT_AGE_HOURS",
            hours,
            (0..=24 * 365).contains(&hours),
            "must be 0 to 8760",
        )?;
        Ok(Self {
            hide_threshold,
            reporter_min_age: chrono::TimeDelta::hours(hours),
        })
    }
}

#[derive(QueryableByName)]
struct Weight {
    #[diesel(sql_type = diesel::sql_types::Double)]
    weight: f64,
}

/// What the open reports of a content weigh together (see [`ModerationSettings`]).
async fn open_weight(
    conn: &mut AsyncPgConnection,
    target_type: TargetType,
    target_id: i64,
    settings: ModerationSettings,
    now: DateTime<Utc>,
) -> Result<f64, ModerationError> {
    let row: Weight = diesel::sql_query(include_str!("open_weight.sql"))
        .bind::<Text, _>(target_type)
        .bind::<BigInt, _>(target_id)
        .bind::<Timestamptz, _>(now - settings.reporter_min_age)
        .get_result(conn)
        .await?;
    Ok(row.weight)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = reports)]
pub struct Report {
    pub id: ReportId,
    pub reporter_id: UserId,
    pub target_type: TargetType,
    pub target_id: i64,
    pub reason: Reason,
    pub detail: String,
    pub status: ReportStatus,
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub target_type: TargetType,
    pub target_id: i64,
    pub reason: Reason,
    pub detail: String,
}

/// Reports content its reporter can see (not their own). When this report makes
/// `hide_threshold` open reports of it, the content is hidden until an admin decides; the
/// content's lock makes exactly one report the one that hides it.
pub async fn report(
    conn: &mut AsyncPgConnection,
    reporter: UserId,
    new: NewReport,
    settings: ModerationSettings,
    now: DateTime<Utc>,
) -> Result<Report, ModerationError> {
    identity::ensure_can_publish::<ModerationError>(conn, reporter).await?;
    let content = new.target_type.content();
    conn.transaction(async |conn| {
        if content.counted() == Some(CountRule::Seen) {
            // This report may hide the content, which moves its parent's counts.
            content.lock_parent(conn, new.target_id).await?;
        }
        let target = content
            .lock(conn, new.target_id)
            .await?
            .filter(|target| Viewer::user(reporter).may_read(target.author_id, target.hidden_at))
            .ok_or(ModerationError::ReportTargetNotFound)?;
        if !content.readable_by(conn, new.target_id, reporter).await? {
            return Err(ModerationError::ReportTargetNotFound);
        }
        if target.author_id == Some(reporter) {
            return Err(ModerationError::OwnContent);
        }
        let report: Report = diesel::insert_into(reports::table)
            .values((
                reports::reporter_id.eq(reporter),
                reports::target_type.eq(new.target_type),
                reports::target_id.eq(new.target_id),
                reports::reason.eq(new.reason),
                reports::detail.eq(new.detail.trim()),
                reports::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .returning(Report::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or(ModerationError::AlreadyReported)?;
        let weight = open_weight(conn, new.target_type, new.target_id, settings, now).await?;
        #[allow(clippy::cast_precision_loss)]
        if weight >= settings.hide_threshold as f64 {
            content::set_hidden(content, conn, new.target_id, &target, true, now).await?;
            log(
                conn,
                LogEntry {
                    admin: None,
                    action: ModerationAction::AutoHide,
                    target_type: report.target_type,
                    target_id: report.target_id,
                    report: Some(report.id),
                    note: &crate::platform::messages::auto_hide_note(weight),
                },
                now,
            )
            .await?;
        }
        Ok(report)
    })
    .await
}

/// A report as the admin queue shows it: with its reporter, the content's author (whom the
/// admin may suspend), an excerpt, the content's state and how many reports of it are open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, QueryableByName)]
pub struct QueuedReport {
    #[diesel(embed)]
    pub report: Report,
    #[diesel(sql_type = Text)]
    pub reporter_name: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub target_author_id: Option<UserId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_author_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_excerpt: Option<String>,
    #[diesel(sql_type = Bool)]
    pub target_hidden: bool,
    #[diesel(sql_type = Bool)]
    pub target_deleted: bool,
    #[diesel(sql_type = BigInt)]
    pub open_reports: i64,
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub status: Option<ReportStatus>,
    pub target_type: Option<TargetType>,
    pub target_id: Option<i64>,
    pub before: Option<ReportId>,
}

/// The admin queue, newest first.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    filter: &QueueFilter,
    limit: i64,
) -> Result<Vec<QueuedReport>, ModerationError> {
    queued(conn, filter, None, limit).await
}

pub(super) async fn queued(
    conn: &mut AsyncPgConnection,
    filter: &QueueFilter,
    id: Option<ReportId>,
    limit: i64,
) -> Result<Vec<QueuedReport>, ModerationError> {
    Ok(diesel::sql_query(include_str!("queue.sql"))
        .bind::<Nullable<Text>, _>(filter.status)
        .bind::<Nullable<Text>, _>(filter.target_type)
        .bind::<Nullable<BigInt>, _>(filter.target_id)
        .bind::<Nullable<BigInt>, _>(id)
        .bind::<Nullable<BigInt>, _>(filter.before)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?)
}

//! Reports and moderation: one model for every kind of content. Users report what they see;
//! enough distinct reporters hide it until an admin dismisses, hides or deletes it, and every
//! decision lands in the moderation log.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::{CommunityError, Viewer, ensure_can_publish};
use crate::identity::UserId;
use crate::schema::{moderation_log, reports, users};

crate::id_type! {
    /// A report of some content (`reports.id`).
    pub struct ReportId;
}

crate::id_type! {
    /// An entry of the moderation log (`moderation_log.id`).
    pub struct ModerationEntryId;
}

crate::text_enum! {
    /// What kind of content a report points at.
    pub enum TargetType {
        Post = "POST",
        Comment = "COMMENT",
        Listing = "LISTING",
        ChatMessage = "CHAT_MESSAGE",
        PlaceReview = "PLACE_REVIEW",
        Place = "PLACE",
        AlbumPhoto = "ALBUM_PHOTO",
    }
}

crate::text_enum! {
    pub enum Reason {
        Spam = "SPAM",
        Abuse = "ABUSE",
        Adult = "ADULT",
        Fraud = "FRAUD",
        Other = "OTHER",
    }
}

crate::text_enum! {
    pub enum ReportStatus {
        Open = "OPEN",
        Resolved = "RESOLVED",
    }
}

crate::text_enum! {
    /// An admin's decision: leave the content up (and show it again if it was hidden), hide
    /// it, or delete it.
    pub enum Resolution {
        Dismiss = "DISMISS",
        Hide = "HIDE",
        Delete = "DELETE",
    }
}

crate::text_enum! {
    /// What the log records: an admin's decision, or the automatic hiding (no admin).
    pub enum ModerationAction {
        AutoHide = "AUTO_HIDE",
        Dismiss = "DISMISS",
        Hide = "HIDE",
        Delete = "DELETE",
    }
}

impl From<Resolution> for ModerationAction {
    fn from(resolution: Resolution) -> Self {
        match resolution {
            Resolution::Dismiss => Self::Dismiss,
            Resolution::Hide => Self::Hide,
            Resolution::Delete => Self::Delete,
        }
    }
}

/// Where each kind of content lives. Its rows have `id`, `hidden_at` and `deleted_at`; a new
/// kind is one more arm here and in `queue.sql`.
struct ContentTable {
    table: &'static str,
    author: &'static str,
    /// Locked before the content by admins' decisions (and by reports, when hiding the content
    /// moves the parent's counts), in the order the content's writers lock.
    lock_parent: Option<&'static str>,
    /// The parent's counts of this content, which decisions keep.
    counted: Option<ParentCount>,
    /// Content that only some users read at all (a chat message: the room's members): whether
    /// `$2` is one of them for the content `$1`.
    readers: Option<&'static str>,
}

/// How a parent counts its content: which items ([`CountRule`]), and the SQL that moves its
/// counts by `$2` (1 or -1) for the content `$1`.
#[derive(Clone, Copy)]
struct ParentCount {
    rule: CountRule,
    sql: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CountRule {
    /// Every live item, hidden or not (a post's comments: the thread's shape).
    Live,
    /// The live items readers see (a place's rating): hiding and showing move the counts too,
    /// so the parent is locked before the content wherever its visibility changes, reports
    /// included.
    Seen,
}

impl TargetType {
    fn content(self) -> ContentTable {
        match self {
            Self::Post => ContentTable {
                table: "posts",
                author: "author_id",
                lock_parent: None,
                counted: None,
                readers: None,
            },
            Self::Comment => ContentTable {
                table: "post_comments",
                author: "author_id",
                lock_parent: Some(
                    "SELECT id FROM posts
                      WHERE id = (SELECT post_id FROM post_comments WHERE id = $1) FOR UPDATE",
                ),
                counted: Some(ParentCount {
                    rule: CountRule::Live,
                    sql: "UPDATE posts SET comment_count = comment_count + $2
                           WHERE id = (SELECT post_id FROM post_comments WHERE id = $1)",
                }),
                readers: None,
            },
            Self::Listing => ContentTable {
                table: "listings",
                author: "seller_id",
                lock_parent: None,
                counted: None,
                readers: None,
            },
            // Places have no author: nobody's own, hidden from all but admins.
            Self::Place => ContentTable {
                table: "places",
                author: "NULL::bigint",
                lock_parent: None,
                counted: None,
                readers: None,
            },
            Self::PlaceReview => ContentTable {
                table: "place_reviews",
                author: "author_id",
                lock_parent: Some(
                    "SELECT id FROM places
                      WHERE id = (SELECT place_id FROM place_reviews WHERE id = $1) FOR UPDATE",
                ),
                // The place's rating counts the reviews readers see: a review hidden (by
                // reports or an admin) or deleted leaves it, one shown again comes back.
                counted: Some(ParentCount {
                    rule: CountRule::Seen,
                    sql: "UPDATE places
                             SET review_count = review_count + $2,
                                 star_sum = star_sum + $2 * (SELECT stars FROM place_reviews WHERE id = $1)
                           WHERE id = (SELECT place_id FROM place_reviews WHERE id = $1)",
                }),
                readers: None,
            },
            // A private photo is its owner's alone: no one else can see it to report it.
            Self::AlbumPhoto => ContentTable {
                table: "album_photos",
                author: "user_id",
                lock_parent: None,
                counted: None,
                readers: Some(
                    "SELECT EXISTS (SELECT 1 FROM album_photos
                                     WHERE id = $1 AND (visibility = 'PUBLIC' OR user_id = $2))
                                AS readable",
                ),
            },
            Self::ChatMessage => ContentTable {
                table: "chat_messages",
                author: "sender_id",
                lock_parent: None,
                counted: None,
                readers: Some(
                    "SELECT EXISTS (SELECT 1 FROM chat_messages m
                                      JOIN chat_members cm ON cm.room_id = m.room_id
                                     WHERE m.id = $1 AND cm.user_id = $2) AS readable",
                ),
            },
        }
    }
}

#[derive(QueryableByName)]
struct LockedContent {
    #[diesel(sql_type = Nullable<BigInt>)]
    author_id: Option<UserId>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    hidden_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Readable {
    #[diesel(sql_type = Bool)]
    readable: bool,
}

impl ContentTable {
    /// Whether `reader` reads the content at all (before hiding is considered).
    async fn readable_by(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        reader: UserId,
    ) -> Result<bool, CommunityError> {
        let Some(readers) = self.readers else {
            return Ok(true);
        };
        let row: Readable = diesel::sql_query(readers)
            .bind::<BigInt, _>(id)
            .bind::<BigInt, _>(reader)
            .get_result(conn)
            .await?;
        Ok(row.readable)
    }

    /// Locks the content's parent, before the content, when a decision may change the parent
    /// (deleting a comment changes its post's count). Reports leave parents alone, so that
    /// reports of comments do not queue behind a busy post's likes.
    async fn lock_parent(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
    ) -> Result<(), CommunityError> {
        if let Some(parent) = self.lock_parent {
            diesel::sql_query(parent)
                .bind::<BigInt, _>(id)
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// The live content, locked.
    async fn lock(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
    ) -> Result<Option<LockedContent>, CommunityError> {
        Ok(diesel::sql_query(format!(
            "SELECT {author} AS author_id, hidden_at
               FROM {table} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
            author = self.author,
            table = self.table,
        ))
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()?)
    }

    /// Hides the locked content (keeping the first hiding's time) or shows it again.
    async fn set_hidden(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        locked: &LockedContent,
        hidden: bool,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError> {
        diesel::sql_query(format!(
            "UPDATE {table} SET hidden_at = CASE WHEN $2 THEN coalesce(hidden_at, $3) END
              WHERE id = $1",
            table = self.table,
        ))
        .bind::<BigInt, _>(id)
        .bind::<Bool, _>(hidden)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
        if locked.hidden_at.is_some() != hidden {
            self.count(conn, id, CountRule::Seen, if hidden { -1 } else { 1 })
                .await?;
        }
        Ok(())
    }

    /// Moves the parent's counts by `by`, if it counts its content by `rule`.
    async fn count(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        rule: CountRule,
        by: i32,
    ) -> Result<(), CommunityError> {
        if let Some(counted) = self.counted.filter(|counted| counted.rule == rule) {
            diesel::sql_query(counted.sql)
                .bind::<BigInt, _>(id)
                .bind::<Integer, _>(by)
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// Deletes the content as its author would, but keeps its words: they are the evidence
    /// should the decision be disputed, and no reader sees a deleted item's words.
    async fn delete(
        &self,
        conn: &mut AsyncPgConnection,
        id: i64,
        locked: &LockedContent,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError> {
        let deleted = diesel::sql_query(format!(
            "UPDATE {table} SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
            table = self.table,
        ))
        .bind::<BigInt, _>(id)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
        if deleted == 1 {
            self.count(conn, id, CountRule::Live, -1).await?;
            if locked.hidden_at.is_none() {
                self.count(conn, id, CountRule::Seen, -1).await?;
            }
        }
        Ok(())
    }
}

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
) -> Result<f64, CommunityError> {
    let row: Weight = diesel::sql_query(include_str!("report/open_weight.sql"))
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
) -> Result<Report, CommunityError> {
    ensure_can_publish(conn, reporter).await?;
    let content = new.target_type.content();
    conn.transaction(async |conn| {
        if content
            .counted
            .is_some_and(|counted| counted.rule == CountRule::Seen)
        {
            // This report may hide the content, which moves its parent's counts.
            content.lock_parent(conn, new.target_id).await?;
        }
        let target = content
            .lock(conn, new.target_id)
            .await?
            .filter(|target| Viewer::user(reporter).may_read(target.author_id, target.hidden_at))
            .ok_or(CommunityError::ReportTargetNotFound)?;
        if !content.readable_by(conn, new.target_id, reporter).await? {
            return Err(CommunityError::ReportTargetNotFound);
        }
        if target.author_id == Some(reporter) {
            return Err(CommunityError::OwnContent);
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
            .ok_or(CommunityError::AlreadyReported)?;
        let weight = open_weight(conn, new.target_type, new.target_id, settings, now).await?;
        #[allow(clippy::cast_precision_loss)]
        if weight >= settings.hide_threshold as f64 {
            content
                .set_hidden(conn, new.target_id, &target, true, now)
                .await?;
            log(
                conn,
                LogEntry {
                    admin: None,
                    action: ModerationAction::AutoHide,
                    target_type: report.target_type,
                    target_id: report.target_id,
                    report: Some(report.id),
                    note: &crate::messages::auto_hide_note(weight),
                },
                now,
            )
            .await?;
        }
        Ok(report)
    })
    .await
}

/// What a log entry records: who (no one for the automatic hiding) did what to which content,
/// on which report (none for an admin's own decision), and why.
struct LogEntry<'a> {
    admin: Option<UserId>,
    action: ModerationAction,
    target_type: TargetType,
    target_id: i64,
    report: Option<ReportId>,
    note: &'a str,
}

async fn log(
    conn: &mut AsyncPgConnection,
    entry: LogEntry<'_>,
    now: DateTime<Utc>,
) -> Result<ModerationEntry, CommunityError> {
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
) -> Result<Vec<QueuedReport>, CommunityError> {
    queued(conn, filter, None, limit).await
}

async fn queued(
    conn: &mut AsyncPgConnection,
    filter: &QueueFilter,
    id: Option<ReportId>,
    limit: i64,
) -> Result<Vec<QueuedReport>, CommunityError> {
    Ok(diesel::sql_query(include_str!("report/queue.sql"))
        .bind::<Nullable<Text>, _>(filter.status)
        .bind::<Nullable<Text>, _>(filter.target_type)
        .bind::<Nullable<BigInt>, _>(filter.target_id)
        .bind::<Nullable<BigInt>, _>(id)
        .bind::<Nullable<BigInt>, _>(filter.before)
        .bind::<BigInt, _>(limit)
        .load(conn)
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
) -> Result<QueuedReport, CommunityError> {
    conn.transaction(async |conn| {
        let (target_type, target_id): (TargetType, i64) = reports::table
            .find(id)
            .select((reports::target_type, reports::target_id))
            .first(conn)
            .await
            .optional()?
            .ok_or(CommunityError::ReportNotFound)?;
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
            return Err(CommunityError::ReportAlreadyResolved);
        }
        let decision = Decision {
            admin,
            target_type,
            target_id,
            action,
            note,
        };
        decision
            .apply(conn, &content, target.as_ref(), Some(id), now)
            .await?;
        Ok(())
    })
    .await?;
    queued(conn, &QueueFilter::default(), Some(id), 1)
        .await?
        .pop()
        .ok_or(CommunityError::ReportNotFound)
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
        content: &ContentTable,
        target: Option<&LockedContent>,
        report: Option<ReportId>,
        now: DateTime<Utc>,
    ) -> Result<ModerationEntry, CommunityError> {
        if let Some(target) = target {
            match self.action {
                Resolution::Dismiss => {
                    content
                        .set_hidden(conn, self.target_id, target, false, now)
                        .await?;
                }
                Resolution::Hide => {
                    content
                        .set_hidden(conn, self.target_id, target, true, now)
                        .await?;
                }
                Resolution::Delete => content.delete(conn, self.target_id, target, now).await?,
            }
        }
        diesel::update(
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
        .execute(conn)
        .await?;
        log(
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
        .await
    }
}

/// An admin's decision about live content with or without reports: `Dismiss` shows it again
/// if it was hidden, `Hide` hides it, `Delete` deletes it. Open reports of it are resolved
/// with the decision, as from the queue.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    decision: Decision<'_>,
    now: DateTime<Utc>,
) -> Result<ModerationEntryView, CommunityError> {
    let entry = conn
        .transaction(async |conn| {
            let content = decision.target_type.content();
            content.lock_parent(conn, decision.target_id).await?;
            let target = content
                .lock(conn, decision.target_id)
                .await?
                .ok_or(CommunityError::ContentNotFound)?;
            decision
                .apply(conn, &content, Some(&target), None, now)
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
) -> Result<Vec<ModerationEntryView>, CommunityError> {
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

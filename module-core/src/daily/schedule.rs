//! The pet calendar: my events, each in its own IANA time zone, optionally recurring by an
//! RFC 5545 rule (parsed, validated and expanded by the `rrule` crate, never by hand), with
//! cancelled occurrences (exception dates) and reminders. Occurrences are expanded in the
//! event's zone, so "every day at 9:00" stays at 9:00 across daylight-saving changes.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rrule::{Frequency, RRule, RRuleSet, Tz as RuleTz, Unvalidated};

use super::ical;
use crate::community::pet::PetId;
use crate::db::DbError;
use crate::identity::token::secret_digest;
use crate::identity::{AccountStatus, UserId};
use crate::schema::{calendar_event_overrides, calendar_events, calendar_feeds, pets};

crate::id_type! {
    /// An event of the calendar (`calendar_events.id`): a single one or a series.
    pub struct EventId;
}

/// Events one user keeps at most.
pub const MAX_EVENTS: i64 = 1000;
/// The longest range of occurrences asked at once.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Edited occurrences one series keeps at most.
pub const MAX_OVERRIDES: i64 = 366;
/// Reminders per event, and how far ahead (4 weeks).
pub const MAX_REMINDERS: usize = 5;
pub const MAX_REMINDER_MINUTES: i32 = 40_320;
/// The years events, their exceptions, their rules' ends and the listed ranges lie in (the
/// database checks them too): dates a pet's calendar means, and bounded work for the rules.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2200;
/// The largest `COUNT` a rule may have (13 years of a daily event).
pub const MAX_COUNT: u32 = 5000;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = calendar_events)]
pub struct Event {
    pub id: EventId,
    pub user_id: UserId,
    /// What its owner wrote.
    #[diesel(embed)]
    pub draft: EventDraft,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The UID it was imported with (the feed's UID otherwise comes from the id).
    pub ical_uid: Option<String>,
    /// What [`check`] worked out for its rule.
    #[diesel(embed)]
    pub checked: Checked,
}

/// What checking a draft works out for its rule, stored beside it: a rule ending after `COUNT`
/// occurrences expands as the same rule ending (`UNTIL`) where its last occurrence starts, so
/// that any window is found from a start near it instead of by counting from the first start.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Queryable, Selectable, Insertable, AsChangeset,
)]
#[diesel(table_name = calendar_events, treat_none_as_null = true)]
pub struct Checked {
    /// Where the last occurrence of a rule with `COUNT` starts (`None` for other events, and
    /// for events written before it was kept: their rule is walked from the first start).
    pub count_last_start: Option<DateTime<Utc>>,
}

/// One occurrence of a series edited on its own (RFC 5545 `RECURRENCE-ID`): it replaces the
/// occurrence the series puts on `occurrence_date` (local to the event).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_event_overrides)]
pub struct Override {
    pub event_id: EventId,
    pub occurrence_date: NaiveDate,
    pub title: String,
    pub memo: String,
    pub starts_local: NaiveDateTime,
    pub ends_local: NaiveDateTime,
    pub color: String,
}

/// An event with its edited occurrences.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDetail {
    pub event: Event,
    pub overrides: Vec<Override>,
}

/// Changes to one occurrence (or to it and the following ones); `None` keeps what it was.
/// A new start without an end keeps the length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OccurrenceEdit {
    pub title: Option<String>,
    pub memo: Option<String>,
    pub starts_local: Option<NaiveDateTime>,
    pub ends_local: Option<NaiveDateTime>,
    pub color: Option<String>,
}

crate::text_enum! {
    /// Which occurrences an edit changes.
    pub enum EditScope {
        /// Only the one named: an exception of the series.
        This = "THIS",
        /// It and every later one: the series is split there.
        Following = "FOLLOWING",
    }
}

/// An event as its owner writes it (start and end local to `time_zone`; for all-day events
/// midnights, the end exclusive).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = calendar_events, treat_none_as_null = true)]
pub struct EventDraft {
    pub pet_id: Option<PetId>,
    pub title: String,
    pub memo: String,
    pub all_day: bool,
    pub starts_local: NaiveDateTime,
    pub ends_local: NaiveDateTime,
    pub time_zone: String,
    pub color: String,
    pub rrule: Option<String>,
    pub exdates: Vec<NaiveDateTime>,
    pub reminders: Vec<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("no such event of yours")]
    NotFound,
    #[error("no such pet of yours")]
    PetNotFound,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error("the event has no occurrence on that date")]
    OccurrenceNotFound,
    #[error("a single event is edited or deleted as a whole, not on one date")]
    NotRecurring,
    #[error("a series keeps at most {MAX_OVERRIDES} edited occurrences")]
    TooManyOverrides,
    #[error("a calendar keeps at most {max} events")]
    TooMany { max: i64 },
    #[error("occurrences are listed for at most {MAX_RANGE_DAYS} days at once")]
    RangeTooLong,
    #[error("occurrences are listed within the years {FIRST_YEAR} to {LAST_YEAR}")]
    OutOfYears,
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for ScheduleError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> ScheduleError {
    ScheduleError::Invalid {
        field,
        code,
        message: message.into(),
    }
}

/// One occurrence of an event, in the event's zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub event_id: EventId,
    pub title: String,
    pub color: String,
    pub all_day: bool,
    pub start: DateTime<Tz>,
    pub end: DateTime<Tz>,
    /// The local date this occurrence starts on (what an exception names).
    pub date: NaiveDate,
    pub recurring: bool,
}

/// An event made ready to expand: its zone, first start, length and rule.
struct Series {
    zone: Tz,
    first: DateTime<RuleTz>,
    length: Duration,
    rule: Option<Rule>,
}

/// A series' rule, validated from its first start (which fixes in it what the rule leaves to the
/// start: the time, the weekday, the day of the month), with its exception dates.
struct Rule {
    rrule: RRule,
    exdates: Vec<DateTime<RuleTz>>,
    /// The rule ends by `UNTIL` or never: its occurrences can be found from any start a whole
    /// number of its periods after the first (a `COUNT` counts from the first start only).
    from_anywhere: bool,
}

/// A local time in `zone`: the earlier of two when clocks fall back; an error when it does
/// not exist (clocks spring forward over it).
fn local(
    zone: RuleTz,
    at: NaiveDateTime,
    field: &'static str,
) -> Result<DateTime<RuleTz>, ScheduleError> {
    zone.from_local_datetime(&at).earliest().ok_or_else(|| {
        invalid(
            field,
            "NONEXISTENT_TIME",
            format!(
                "{at} does not exist in {} (the clocks skip it)",
                zone.name()
            ),
        )
    })
}

/// Whether `at` lies in the years events may use.
pub fn in_years(at: NaiveDateTime) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&at.year())
}

/// The first instant after the years events may use.
fn end_of_years() -> DateTime<RuleTz> {
    RuleTz::UTC.from_utc_datetime(
        &NaiveDate::from_ymd_opt(LAST_YEAR + 1, 1, 1)
            .unwrap_or(NaiveDate::MAX)
            .into(),
    )
}

impl Series {
    /// The series of `draft`; `checked` as [`check`] worked it out (or `Checked::default()`).
    fn of(draft: &EventDraft, checked: Checked) -> Result<Self, ScheduleError> {
        let zone: Tz = draft.time_zone.parse().map_err(|_| {
            invalid(
                "time_zone",
                "UNKNOWN_TIME_ZONE",
                format!("{} is not an IANA time zone", draft.time_zone),
            )
        })?;
        // All-day events recur on dates: expanded on UTC midnights, free of any zone's gaps.
        let rule_zone = if draft.all_day {
            RuleTz::UTC
        } else {
            RuleTz::from(zone)
        };
        let first = local(rule_zone, draft.starts_local, "start")?;
        let end = local(rule_zone, draft.ends_local, "end")?;
        let length = end - first;
        if length <= Duration::zero() {
            return Err(invalid(
                "end",
                "END_BEFORE_START",
                "the end must come after the start",
            ));
        }
        let rule = match &draft.rrule {
            None => None,
            Some(text) => Some(Rule::of(
                text,
                rule_zone,
                first,
                &draft.exdates,
                checked.count_last_start,
            )?),
        };
        Ok(Self {
            zone,
            first,
            length,
            rule,
        })
    }

    /// The occurrences of the rule (the first start among them, as calendars show it) that
    /// start in `[after, before]`, found from a start near `after` where the rule allows.
    fn starts_between(
        &self,
        rule: &Rule,
        after: DateTime<RuleTz>,
        before: DateTime<RuleTz>,
    ) -> Vec<DateTime<RuleTz>> {
        let start = if rule.from_anywhere {
            self.rebased(rule, after)
        } else {
            self.first
        };
        let mut set = RRuleSet::new(start).rrule(rule.rrule.clone());
        if start == self.first {
            set = set.rdate(self.first);
        }
        for exdate in &rule.exdates {
            set = set.exdate(*exdate);
        }
        let mut dates = set.after(after).before(before).all(u16::MAX).dates;
        // The first start comes twice when it also matches the rule.
        dates.dedup();
        dates
    }

    /// A start for expanding the rule that lies a whole number of its periods (`INTERVAL`
    /// times a day, week, month or year) after the first, and two periods before `after`: the
    /// rule's occurrences from it on are the series' own. The first start when it is that near.
    fn rebased(&self, rule: &Rule, after: DateTime<RuleTz>) -> DateTime<RuleTz> {
        let first = self.first.naive_local();
        let target = after.with_timezone(&self.first.timezone()).naive_local();
        let interval = i64::from(rule.rrule.get_interval().max(1));
        let whole = |periods: i64| (periods / interval - 2).max(0) * interval;
        let moved = match rule.rrule.get_freq() {
            Frequency::Daily => {
                let days = whole((target.date() - first.date()).num_days());
                first.checked_add_signed(Duration::days(days))
            }
            Frequency::Weekly => {
                let weeks = whole((target.date() - first.date()).num_days() / 7);
                first.checked_add_signed(Duration::weeks(weeks))
            }
            Frequency::Monthly | Frequency::Yearly => {
                let in_months =
                    |at: NaiveDateTime| i64::from(at.year()) * 12 + i64::from(at.month0());
                let months = if rule.rrule.get_freq() == Frequency::Monthly {
                    whole(in_months(target) - in_months(first))
                } else {
                    whole(i64::from(target.year() - first.year())) * 12
                };
                // A day missing from the month is clamped: the rule itself names the days.
                u32::try_from(months)
                    .ok()
                    .and_then(|months| first.checked_add_months(chrono::Months::new(months)))
            }
            _ => None,
        };
        moved
            .filter(|moved| *moved > first)
            .and_then(|moved| {
                // Only a lower bound: a time the clocks skip is taken an hour later.
                (0..3).find_map(|hours| {
                    self.first
                        .timezone()
                        .from_local_datetime(&(moved + Duration::hours(hours)))
                        .earliest()
                })
            })
            .unwrap_or(self.first)
    }
}

impl Rule {
    /// The rule of `text` from `first`: validated by the crate, with the checks it leaves to
    /// us, and the exception dates; a `COUNT` whose last start is known reads as an `UNTIL`.
    fn of(
        text: &str,
        zone: RuleTz,
        first: DateTime<RuleTz>,
        exdates: &[NaiveDateTime],
        count_last_start: Option<DateTime<Utc>>,
    ) -> Result<Self, ScheduleError> {
        let rule_error = |message: String| invalid("rrule", "INVALID_RRULE", message);
        let mut rule: RRule<Unvalidated> = text
            .trim()
            .parse()
            .map_err(|error: rrule::RRuleError| rule_error(error.to_string()))?;
        // A floating UNTIL is read by the crate in the server's zone: it means the event's.
        if let Some(until) = rule.get_until().copied()
            && until.timezone().is_local()
        {
            let until = zone
                .from_local_datetime(&until.naive_local())
                .earliest()
                .ok_or_else(|| rule_error("UNTIL does not exist in the event's zone".into()))?;
            rule = rule.until(until.with_timezone(&RuleTz::UTC));
        }
        if matches!(
            rule.get_freq(),
            Frequency::Hourly | Frequency::Minutely | Frequency::Secondly
        ) {
            return Err(rule_error(
                "events repeat daily at most often (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)".into(),
            ));
        }
        if rule.get_interval() == 0 || rule.get_count() == Some(0) {
            return Err(rule_error("INTERVAL and COUNT must be positive".into()));
        }
        if rule.get_count().is_some_and(|count| count > MAX_COUNT) {
            return Err(rule_error(format!("COUNT is at most {MAX_COUNT}")));
        }
        if rule.get_count().is_some() && rule.get_until().is_some() {
            return Err(rule_error("COUNT and UNTIL must not both be given".into()));
        }
        if rule
            .get_until()
            .is_some_and(|until| !in_years(until.naive_utc()))
        {
            return Err(rule_error(format!(
                "UNTIL lies in the years {FIRST_YEAR} to {LAST_YEAR}"
            )));
        }
        // An occurrence is named by its date: one a day, at the start's time.
        if !rule.get_by_hour().is_empty()
            || !rule.get_by_minute().is_empty()
            || !rule.get_by_second().is_empty()
        {
            return Err(rule_error(
                "occurrences happen at the start's time: BYHOUR, BYMINUTE and BYSECOND are not taken"
                    .into(),
            ));
        }
        let counted = rule.get_count().is_some();
        if counted && let Some(last) = count_last_start {
            let open: RRule<Unvalidated> = rule_ending(text, None)
                .parse()
                .map_err(|error: rrule::RRuleError| rule_error(error.to_string()))?;
            rule = open.until(last.with_timezone(&RuleTz::UTC));
        }
        let from_anywhere = !counted || count_last_start.is_some();
        let rrule = rule
            .validate(first)
            .map_err(|error| rule_error(error.to_string()))?;
        let exdates = exdates
            .iter()
            .filter_map(|exdate| {
                // An occurrence at a time the clocks skip happens an hour later (as the crate
                // expands it): so is its exception.
                zone.from_local_datetime(exdate).earliest().or_else(|| {
                    zone.from_local_datetime(&(*exdate + Duration::hours(1)))
                        .earliest()
                })
            })
            .collect();
        Ok(Self {
            rrule,
            exdates,
            from_anywhere,
        })
    }

    /// Where the last occurrence of a rule with `COUNT` starts (within the years events use).
    fn count_last_start(&self, first: DateTime<RuleTz>) -> Option<DateTime<Utc>> {
        self.rrule.get_count()?;
        let dates = RRuleSet::new(first)
            .rrule(self.rrule.clone())
            .before(end_of_years())
            .all(u16::MAX)
            .dates;
        // A rule that yields nothing in those years ends at once.
        Some(dates.last().copied().unwrap_or(first).with_timezone(&Utc))
    }
}

/// Checks a draft as [`create`] and [`update`] do, without the database, and works out what
/// is stored beside it.
pub fn check(draft: &EventDraft) -> Result<Checked, ScheduleError> {
    if draft.title.trim().is_empty() {
        return Err(invalid("title", "BLANK", "the title must not be blank"));
    }
    if draft.reminders.len() > MAX_REMINDERS
        || draft
            .reminders
            .iter()
            .any(|minutes| !(0..=MAX_REMINDER_MINUTES).contains(minutes))
    {
        return Err(invalid(
            "reminders",
            "INVALID_REMINDERS",
            format!(
                "at most {MAX_REMINDERS} reminders, each 0 to {MAX_REMINDER_MINUTES} minutes before"
            ),
        ));
    }
    for (field, at) in [("start", draft.starts_local), ("end", draft.ends_local)] {
        if !in_years(at) {
            return Err(invalid(
                field,
                "OUT_OF_YEARS",
                format!("events lie in the years {FIRST_YEAR} to {LAST_YEAR}"),
            ));
        }
    }
    if draft.ends_local - draft.starts_local > Duration::days(MAX_RANGE_DAYS) {
        return Err(invalid(
            "end",
            "TOO_LONG",
            format!("an event lasts at most {MAX_RANGE_DAYS} days"),
        ));
    }
    if draft.exdates.len() > 366 {
        return Err(invalid(
            "exdates",
            "TOO_MANY",
            "at most 366 exception dates",
        ));
    }
    if draft.exdates.iter().any(|at| !in_years(*at)) {
        return Err(invalid(
            "exdates",
            "OUT_OF_YEARS",
            format!("exception dates lie in the years {FIRST_YEAR} to {LAST_YEAR}"),
        ));
    }
    if !draft.exdates.is_empty() && draft.rrule.is_none() {
        return Err(invalid(
            "exdates",
            "NOT_RECURRING",
            "only a recurring event has exception dates",
        ));
    }
    let series = Series::of(draft, Checked::default())?;
    let Some(rule) = &series.rule else {
        return Ok(Checked::default());
    };
    let first_occurrence = RRuleSet::new(series.first)
        .rrule(rule.rrule.clone())
        .rdate(series.first)
        .set_exdates(rule.exdates.clone())
        .before(end_of_years())
        .all(1);
    if first_occurrence.dates.is_empty() {
        return Err(invalid(
            "rrule",
            "INVALID_RRULE",
            "the rule yields no occurrence",
        ));
    }
    Ok(Checked {
        count_last_start: rule.count_last_start(series.first),
    })
}

/// `owner`'s event `id`: others' events are nobody's to them.
type Mine = diesel::dsl::Filter<
    diesel::dsl::Filter<calendar_events::table, diesel::dsl::Eq<calendar_events::id, EventId>>,
    diesel::dsl::Eq<calendar_events::user_id, UserId>,
>;

fn mine(owner: UserId, id: EventId) -> Mine {
    calendar_events::table
        .filter(calendar_events::id.eq(id))
        .filter(calendar_events::user_id.eq(owner))
}

async fn ensure_my_pet(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    pet: Option<PetId>,
) -> Result<(), ScheduleError> {
    if let Some(pet) = pet {
        let mine: i64 = pets::table
            .filter(pets::id.eq(pet))
            .filter(pets::owner_id.eq(owner))
            .count()
            .get_result(conn)
            .await?;
        if mine == 0 {
            return Err(ScheduleError::PetNotFound);
        }
    }
    Ok(())
}

/// The edited occurrences of `events`, by event.
pub(crate) async fn overrides_of(
    conn: &mut AsyncPgConnection,
    events: &[EventId],
) -> Result<HashMap<EventId, Vec<Override>>, ScheduleError> {
    let rows: Vec<Override> = calendar_event_overrides::table
        .filter(calendar_event_overrides::event_id.eq_any(events))
        .order((
            calendar_event_overrides::event_id,
            calendar_event_overrides::occurrence_date,
        ))
        .select(Override::as_select())
        .load(conn)
        .await?;
    let mut by_event: HashMap<EventId, Vec<Override>> = HashMap::new();
    for row in rows {
        by_event.entry(row.event_id).or_default().push(row);
    }
    Ok(by_event)
}

async fn detail(conn: &mut AsyncPgConnection, event: Event) -> Result<EventDetail, ScheduleError> {
    let overrides = overrides_of(conn, &[event.id])
        .await?
        .remove(&event.id)
        .unwrap_or_default();
    Ok(EventDetail { event, overrides })
}

async fn ensure_room(conn: &mut AsyncPgConnection, owner: UserId) -> Result<(), ScheduleError> {
    let held: i64 = calendar_events::table
        .filter(calendar_events::user_id.eq(owner))
        .count()
        .get_result(conn)
        .await?;
    if held >= MAX_EVENTS {
        return Err(ScheduleError::TooMany { max: MAX_EVENTS });
    }
    Ok(())
}

/// After a write of event `id` at `now`: with reminders, the reminder job looks at the event at
/// once (and works out its next one), sending what falls due from now on; without, never.
async fn queue_reminders(
    conn: &mut AsyncPgConnection,
    id: EventId,
    reminders: &[i32],
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    use crate::schema::calendar_reminder_queue as queue;
    if reminders.is_empty() {
        diesel::delete(queue::table.find(id)).execute(conn).await?;
    } else {
        diesel::insert_into(queue::table)
            .values((
                queue::event_id.eq(id),
                queue::due_at.eq(now),
                queue::from_at.eq(now),
            ))
            .on_conflict(queue::event_id)
            .do_update()
            .set((queue::due_at.eq(now), queue::from_at.eq(now)))
            .execute(conn)
            .await?;
    }
    Ok(())
}

async fn insert(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    draft: &EventDraft,
    checked: Checked,
    now: DateTime<Utc>,
) -> Result<Event, ScheduleError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        let event: Event = diesel::insert_into(calendar_events::table)
            .values((
                draft,
                checked,
                calendar_events::user_id.eq(owner),
                calendar_events::created_at.eq(now),
                calendar_events::updated_at.eq(now),
            ))
            .returning(Event::as_returning())
            .get_result(conn)
            .await?;
        queue_reminders(conn, event.id, &event.draft.reminders, now).await?;
        Ok(event)
    })
    .await
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    draft: EventDraft,
    now: DateTime<Utc>,
) -> Result<EventDetail, ScheduleError> {
    let checked = check(&draft)?;
    ensure_my_pet(conn, owner, draft.pet_id).await?;
    ensure_room(conn, owner).await?;
    let event = insert(conn, owner, &draft, checked, now).await?;
    Ok(EventDetail {
        event,
        overrides: Vec::new(),
    })
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: EventId,
) -> Result<EventDetail, ScheduleError> {
    let event = mine(owner, id)
        .select(Event::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(ScheduleError::NotFound)?;
    detail(conn, event).await
}

/// Rewrites an event: every occurrence of a series, so edited occurrences are dropped.
pub async fn update(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: EventId,
    draft: EventDraft,
    now: DateTime<Utc>,
) -> Result<EventDetail, ScheduleError> {
    use diesel_async::AsyncConnection as _;
    let checked = check(&draft)?;
    ensure_my_pet(conn, owner, draft.pet_id).await?;
    conn.transaction(async |conn| {
        let event = diesel::update(mine(owner, id))
            .set((&draft, checked, calendar_events::updated_at.eq(now)))
            .returning(Event::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or(ScheduleError::NotFound)?;
        queue_reminders(conn, id, &event.draft.reminders, now).await?;
        diesel::delete(
            calendar_event_overrides::table.filter(calendar_event_overrides::event_id.eq(id)),
        )
        .execute(conn)
        .await?;
        Ok(EventDetail {
            event,
            overrides: Vec::new(),
        })
    })
    .await
}

/// Deletes an event, every occurrence of a series.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: EventId,
) -> Result<(), ScheduleError> {
    let gone = diesel::delete(mine(owner, id)).execute(conn).await?;
    if gone == 0 {
        return Err(ScheduleError::NotFound);
    }
    Ok(())
}

/// `owner`'s recurring event `id`, locked for a change of some of its occurrences, checked to
/// put an occurrence on the local `date`.
async fn lock_series_on(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: EventId,
    date: NaiveDate,
) -> Result<Event, ScheduleError> {
    let event = lock_series(conn, owner, id).await?;
    if !occurs_on(&event, date)? {
        return Err(ScheduleError::OccurrenceNotFound);
    }
    Ok(event)
}

/// `owner`'s recurring event `id`, locked for a change of some of its occurrences.
async fn lock_series(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: EventId,
) -> Result<Event, ScheduleError> {
    let event: Event = mine(owner, id)
        .select(Event::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(ScheduleError::NotFound)?;
    if event.draft.rrule.is_none() {
        return Err(ScheduleError::NotRecurring);
    }
    Ok(event)
}

/// Whether the series itself (before edits) puts an occurrence on the local `date`.
fn occurs_on(event: &Event, date: NaiveDate) -> Result<bool, ScheduleError> {
    // Around the date, wide enough for any zone's offset.
    let noon = date
        .and_hms_opt(12, 0, 0)
        .unwrap_or(event.draft.starts_local)
        .and_utc();
    let around = expand(
        event,
        &[],
        noon - Duration::days(2),
        noon + Duration::days(2),
    )?;
    Ok(around.iter().any(|occurrence| occurrence.date == date))
}

/// Cancels the occurrence of a series that starts on the local `date`: its start becomes an
/// exception date and an edit of it is dropped (again is harmless).
pub async fn cancel_occurrence(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: EventId,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<EventDetail, ScheduleError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        let event = lock_series(conn, owner, id).await?;
        let recurrence = date.and_time(event.draft.starts_local.time());
        if event.draft.exdates.contains(&recurrence) {
            return detail(conn, event).await;
        }
        if !occurs_on(&event, date)? {
            return Err(ScheduleError::OccurrenceNotFound);
        }
        diesel::delete(calendar_event_overrides::table.find((id, date)))
            .execute(conn)
            .await?;
        let mut exdates = event.draft.exdates.clone();
        exdates.push(recurrence);
        let event = diesel::update(calendar_events::table.find(id))
            .set((
                calendar_events::exdates.eq(exdates),
                calendar_events::updated_at.eq(now),
            ))
            .returning(Event::as_returning())
            .get_result(conn)
            .await?;
        queue_reminders(conn, id, &event.draft.reminders, now).await?;
        detail(conn, event).await
    })
    .await
}

/// The start and end of an occurrence after `edit`: a new start without an end keeps the length.
fn edited_times(
    start: NaiveDateTime,
    end: NaiveDateTime,
    edit: &OccurrenceEdit,
) -> (NaiveDateTime, NaiveDateTime) {
    let new_start = edit.starts_local.unwrap_or(start);
    let new_end = edit.ends_local.unwrap_or(new_start + (end - start));
    (new_start, new_end)
}

/// Edits the occurrence of a series on the local `date`: alone (an exception, replacing an
/// earlier edit of it) or with every later one (the series ends before it and a new series,
/// with the edit, goes on from it). Returns the series that now holds the occurrence.
pub async fn edit_occurrence(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: EventId,
    date: NaiveDate,
    edit: OccurrenceEdit,
    scope: EditScope,
    now: DateTime<Utc>,
) -> Result<EventDetail, ScheduleError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        let event = lock_series_on(conn, owner, id, date).await?;
        match scope {
            EditScope::This => edit_one(conn, event, date, &edit, now).await,
            EditScope::Following => split(conn, event, date, &edit, now).await,
        }
    })
    .await
}

async fn edit_one(
    conn: &mut AsyncPgConnection,
    event: Event,
    date: NaiveDate,
    edit: &OccurrenceEdit,
    now: DateTime<Utc>,
) -> Result<EventDetail, ScheduleError> {
    let current: Option<Override> = calendar_event_overrides::table
        .find((event.id, date))
        .select(Override::as_select())
        .first(conn)
        .await
        .optional()?;
    let base = current.unwrap_or_else(|| {
        let start = date.and_time(event.draft.starts_local.time());
        Override {
            event_id: event.id,
            occurrence_date: date,
            title: event.draft.title.clone(),
            memo: event.draft.memo.clone(),
            starts_local: start,
            ends_local: start + (event.draft.ends_local - event.draft.starts_local),
            color: event.draft.color.clone(),
        }
    });
    let (starts_local, ends_local) = edited_times(base.starts_local, base.ends_local, edit);
    let edited = Override {
        title: edit.title.clone().unwrap_or(base.title),
        memo: edit.memo.clone().unwrap_or(base.memo),
        color: edit.color.clone().unwrap_or(base.color),
        starts_local,
        ends_local,
        ..base
    };
    // The occurrence's times are checked as a single event of the series' zone would be.
    check(&EventDraft {
        title: edited.title.clone(),
        memo: edited.memo.clone(),
        starts_local,
        ends_local,
        color: edited.color.clone(),
        rrule: None,
        exdates: Vec::new(),
        ..event.draft.clone()
    })?;
    let held: i64 = calendar_event_overrides::table
        .filter(calendar_event_overrides::event_id.eq(event.id))
        .filter(calendar_event_overrides::occurrence_date.ne(date))
        .count()
        .get_result(conn)
        .await?;
    if held >= MAX_OVERRIDES {
        return Err(ScheduleError::TooManyOverrides);
    }
    diesel::insert_into(calendar_event_overrides::table)
        .values(&edited)
        .on_conflict((
            calendar_event_overrides::event_id,
            calendar_event_overrides::occurrence_date,
        ))
        .do_update()
        .set((
            calendar_event_overrides::title.eq(&edited.title),
            calendar_event_overrides::memo.eq(&edited.memo),
            calendar_event_overrides::starts_local.eq(edited.starts_local),
            calendar_event_overrides::ends_local.eq(edited.ends_local),
            calendar_event_overrides::color.eq(&edited.color),
        ))
        .execute(conn)
        .await?;
    let event = diesel::update(calendar_events::table.find(event.id))
        .set(calendar_events::updated_at.eq(now))
        .returning(Event::as_returning())
        .get_result(conn)
        .await?;
    queue_reminders(conn, event.id, &event.draft.reminders, now).await?;
    detail(conn, event).await
}

/// The rule `text` with its end (`COUNT` or `UNTIL`) replaced by `end` (`None`: open-ended).
pub fn rule_ending(text: &str, end: Option<String>) -> String {
    let mut parts: Vec<String> = text
        .trim()
        .trim_start_matches("RRULE:")
        .split(';')
        .filter(|part| {
            let name = part.split('=').next().unwrap_or_default().trim();
            !name.eq_ignore_ascii_case("COUNT") && !name.eq_ignore_ascii_case("UNTIL")
        })
        .map(str::to_owned)
        .collect();
    parts.extend(end);
    parts.join(";")
}

/// "This and following": the series ends before `date` and a new one, edited, starts there.
async fn split(
    conn: &mut AsyncPgConnection,
    event: Event,
    date: NaiveDate,
    edit: &OccurrenceEdit,
    now: DateTime<Utc>,
) -> Result<EventDetail, ScheduleError> {
    let draft = event.draft.clone();
    let series = Series::of(&draft, Checked::default())?;
    let rule_text = draft.rrule.clone().unwrap_or_default();
    let split_start = date.and_time(event.draft.starts_local.time());
    let (starts_local, ends_local) = edited_times(split_start, split_start + series.length, edit);
    let following = EventDraft {
        title: edit.title.clone().unwrap_or_else(|| draft.title.clone()),
        memo: edit.memo.clone().unwrap_or_else(|| draft.memo.clone()),
        color: edit.color.clone().unwrap_or_else(|| draft.color.clone()),
        starts_local,
        ends_local,
        exdates: draft
            .exdates
            .iter()
            .filter(|exdate| exdate.date() > date)
            .map(|exdate| exdate.date().and_time(starts_local.time()))
            .collect(),
        ..draft.clone()
    };
    let first_date = series.first.date_naive();
    if date <= first_date {
        // From the first occurrence on: the whole series changes.
        return update(conn, event.user_id, event.id, following, now).await;
    }
    // The rule's own occurrences before the split (what COUNT counts, exceptions included).
    let count = rule_text
        .split(';')
        .any(|part| part.trim().to_ascii_uppercase().starts_with("COUNT="));
    let (earlier_end, following_rule) = if count {
        let rule: RRule<Unvalidated> =
            rule_text
                .trim()
                .parse()
                .map_err(|error: rrule::RRuleError| {
                    invalid("rrule", "INVALID_RRULE", error.to_string())
                })?;
        let total = rule.get_count().unwrap_or(0);
        let before = local(series.first.timezone(), split_start, "start").unwrap_or(series.first)
            - Duration::seconds(1);
        let earlier = u32::try_from(
            RRuleSet::new(series.first)
                .rrule(
                    rule.validate(series.first)
                        .map_err(|error| invalid("rrule", "INVALID_RRULE", error.to_string()))?,
                )
                .before(before)
                .all(u16::MAX)
                .dates
                .len(),
        )
        .unwrap_or(u32::MAX)
        .max(1);
        (
            format!("COUNT={earlier}"),
            rule_ending(
                &rule_text,
                Some(format!("COUNT={}", total.saturating_sub(earlier).max(1))),
            ),
        )
    } else if event.draft.all_day {
        let last = date.pred_opt().unwrap_or(date);
        (
            format!("UNTIL={}", last.format("%Y%m%d")),
            rule_text.clone(),
        )
    } else {
        let last = local(series.first.timezone(), split_start, "start")
            .unwrap_or(series.first)
            .with_timezone(&Utc)
            - Duration::seconds(1);
        (
            format!("UNTIL={}", last.format("%Y%m%dT%H%M%SZ")),
            rule_text.clone(),
        )
    };
    let earlier = EventDraft {
        rrule: Some(rule_ending(&rule_text, Some(earlier_end))),
        exdates: draft
            .exdates
            .iter()
            .filter(|exdate| exdate.date() < date)
            .copied()
            .collect(),
        ..draft
    };
    let following = EventDraft {
        rrule: Some(following_rule),
        ..following
    };
    let earlier_checked = check(&earlier)?;
    let following_checked = check(&following)?;
    ensure_room(conn, event.user_id).await?;
    diesel::update(calendar_events::table.find(event.id))
        .set((
            &earlier,
            earlier_checked,
            calendar_events::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    queue_reminders(conn, event.id, &earlier.reminders, now).await?;
    diesel::delete(
        calendar_event_overrides::table
            .filter(calendar_event_overrides::event_id.eq(event.id))
            .filter(calendar_event_overrides::occurrence_date.ge(date)),
    )
    .execute(conn)
    .await?;
    let created = insert(conn, event.user_id, &following, following_checked, now).await?;
    Ok(EventDetail {
        event: created,
        overrides: Vec::new(),
    })
}

/// A range `[from, to)` that occurrences are listed for: at most [`MAX_RANGE_DAYS`] long, in
/// the years events use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, ScheduleError> {
        if to <= from || to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(ScheduleError::RangeTooLong);
        }
        if !in_years(from.naive_utc()) || !in_years(to.naive_utc()) {
            return Err(ScheduleError::OutOfYears);
        }
        Ok(Self { from, to })
    }

    /// Every occurrence of `events` that overlaps the window, in start order, expanded on one
    /// of tokio's blocking threads (rule expansion is CPU work the async workers must not do).
    pub async fn occurrences(
        self,
        events: Vec<EventDetail>,
    ) -> Result<Vec<Occurrence>, ScheduleError> {
        tokio::task::spawn_blocking(move || self.expand(&events))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }

    fn expand(self, events: &[EventDetail]) -> Result<Vec<Occurrence>, ScheduleError> {
        let mut found = Vec::new();
        for detail in events {
            found.extend(expand(
                &detail.event,
                &detail.overrides,
                self.from,
                self.to,
            )?);
        }
        found.sort_by(|a, b| a.start.cmp(&b.start).then(a.event_id.cmp(&b.event_id)));
        Ok(found)
    }
}

/// Every event of `owner` with its edited occurrences, by id.
pub async fn details(
    conn: &mut AsyncPgConnection,
    owner: UserId,
) -> Result<Vec<EventDetail>, ScheduleError> {
    // One round trip: each event with its edits (an event without any comes once).
    let rows: Vec<(Event, Option<Override>)> = calendar_events::table
        .left_join(calendar_event_overrides::table)
        .filter(calendar_events::user_id.eq(owner))
        .order((
            calendar_events::id,
            calendar_event_overrides::occurrence_date,
        ))
        .select((Event::as_select(), Option::<Override>::as_select()))
        .load(conn)
        .await?;
    let mut details: Vec<EventDetail> = Vec::new();
    for (event, edited) in rows {
        match details.last_mut() {
            Some(last) if last.event.id == event.id => last.overrides.extend(edited),
            _ => details.push(EventDetail {
                event,
                overrides: edited.into_iter().collect(),
            }),
        }
    }
    Ok(details)
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: usize,
    pub updated: usize,
}

/// Imports events read from a file: an event whose UID was imported before is rewritten (with
/// its edited occurrences) but keeps what only its owner gave it here (its pet and colour), the
/// others are added, all in one transaction.
pub async fn import(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    events: Vec<ical::ImportedEvent>,
    now: DateTime<Utc>,
) -> Result<ImportCounts, ScheduleError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        // Imports of one user take turns, so the count below holds.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('calendar-import', $1))")
            .bind::<diesel::sql_types::BigInt, _>(i64::from(owner))
            .execute(conn)
            .await?;
        let uids: Vec<&str> = events.iter().map(|event| event.uid.as_str()).collect();
        let known: HashMap<String, (EventId, Option<PetId>, String)> = calendar_events::table
            .filter(calendar_events::user_id.eq(owner))
            .filter(calendar_events::ical_uid.eq_any(&uids))
            .select((
                calendar_events::ical_uid.assume_not_null(),
                (
                    calendar_events::id,
                    calendar_events::pet_id,
                    calendar_events::color,
                ),
            ))
            .load::<(String, (EventId, Option<PetId>, String))>(conn)
            .await?
            .into_iter()
            .collect();
        let held: i64 = calendar_events::table
            .filter(calendar_events::user_id.eq(owner))
            .count()
            .get_result(conn)
            .await?;
        let new = events
            .iter()
            .filter(|event| !known.contains_key(&event.uid))
            .count();
        if held + i64::try_from(new).unwrap_or(i64::MAX) > MAX_EVENTS {
            return Err(ScheduleError::TooMany { max: MAX_EVENTS });
        }
        let mut counts = ImportCounts::default();
        for mut event in events {
            let id = match known.get(&event.uid) {
                Some((id, pet, color)) => {
                    let id = *id;
                    event.draft.pet_id = *pet;
                    event.draft.color.clone_from(color);
                    diesel::update(calendar_events::table.find(id))
                        .set((
                            &event.draft,
                            event.checked,
                            calendar_events::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                    queue_reminders(conn, id, &event.draft.reminders, now).await?;
                    diesel::delete(
                        calendar_event_overrides::table
                            .filter(calendar_event_overrides::event_id.eq(id)),
                    )
                    .execute(conn)
                    .await?;
                    counts.updated += 1;
                    id
                }
                None => {
                    counts.created += 1;
                    let id: EventId = diesel::insert_into(calendar_events::table)
                        .values((
                            &event.draft,
                            event.checked,
                            calendar_events::user_id.eq(owner),
                            calendar_events::ical_uid.eq(&event.uid),
                            calendar_events::created_at.eq(now),
                            calendar_events::updated_at.eq(now),
                        ))
                        .returning(calendar_events::id)
                        .get_result(conn)
                        .await?;
                    queue_reminders(conn, id, &event.draft.reminders, now).await?;
                    id
                }
            };
            let edited: Vec<Override> = event
                .edited
                .into_iter()
                .map(|occurrence| Override {
                    event_id: id,
                    occurrence_date: occurrence.occurrence_date,
                    title: occurrence.title,
                    memo: occurrence.memo,
                    starts_local: occurrence.starts_local,
                    ends_local: occurrence.ends_local,
                    color: event.draft.color.clone(),
                })
                .collect();
            if !edited.is_empty() {
                diesel::insert_into(calendar_event_overrides::table)
                    .values(&edited)
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
        }
        Ok(counts)
    })
    .await
}

/// Gives `owner` a new secret feed token (the old one stops working); only its digest is kept.
pub async fn rotate_feed(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    now: DateTime<Utc>,
) -> Result<String, ScheduleError> {
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
) -> Result<Option<(String, Vec<EventDetail>)>, ScheduleError> {
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

/// A local start and end in `zone` as instants: midnights for all-day events (a zone whose
/// midnight is skipped starts the day at 01:00), the earlier of two when clocks fall back.
fn instants(
    zone: Tz,
    all_day: bool,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Option<(DateTime<Tz>, DateTime<Tz>)> {
    let resolve = |at: NaiveDateTime| {
        zone.from_local_datetime(&at).earliest().or_else(|| {
            zone.from_local_datetime(&(at + Duration::hours(1)))
                .earliest()
        })
    };
    if all_day {
        Some((resolve(start.date().into())?, resolve(end.date().into())?))
    } else {
        let length = end - start;
        let start = resolve(start)?;
        Some((start, start + length))
    }
}

/// The occurrences of one event (with its edited occurrences) that overlap `[from, to)`.
pub fn expand(
    event: &Event,
    overrides: &[Override],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Occurrence>, ScheduleError> {
    let series = Series::of(&event.draft, event.checked)?;
    let starts: Vec<DateTime<RuleTz>> = match &series.rule {
        None => vec![series.first],
        Some(rule) => {
            // All-day starts are UTC midnights standing for local dates: widen the window by
            // a day each way, then keep what overlaps in the event's zone.
            let slack = if event.draft.all_day {
                Duration::days(1)
            } else {
                Duration::zero()
            };
            let after = (from - series.length - slack).with_timezone(&RuleTz::UTC);
            let before = (to + slack).with_timezone(&RuleTz::UTC);
            series.starts_between(rule, after, before)
        }
    };
    let overlaps = |start: &DateTime<Tz>, end: &DateTime<Tz>| {
        start.with_timezone(&Utc) < to && end.with_timezone(&Utc) > from
    };
    let recurring = series.rule.is_some();
    let mut occurrences = Vec::new();
    for start in starts {
        let (start, end) = if event.draft.all_day {
            let day = start.date_naive();
            let end_day = (start + series.length).date_naive();
            let Some(times) = instants(series.zone, true, day.into(), end_day.into()) else {
                continue;
            };
            times
        } else {
            let start = start.with_timezone(&series.zone);
            (start, start + series.length)
        };
        let date = start.date_naive();
        if overrides
            .iter()
            .any(|edited| edited.occurrence_date == date)
        {
            continue;
        }
        if overlaps(&start, &end) {
            occurrences.push(Occurrence {
                event_id: event.id,
                title: event.draft.title.clone(),
                color: event.draft.color.clone(),
                all_day: event.draft.all_day,
                date,
                start,
                end,
                recurring,
            });
        }
    }
    // Edited occurrences, wherever they were moved to.
    for edited in overrides {
        let Some((start, end)) = instants(
            series.zone,
            event.draft.all_day,
            edited.starts_local,
            edited.ends_local,
        ) else {
            continue;
        };
        if overlaps(&start, &end) {
            occurrences.push(Occurrence {
                event_id: event.id,
                title: edited.title.clone(),
                color: edited.color.clone(),
                all_day: event.draft.all_day,
                date: edited.occurrence_date,
                start,
                end,
                recurring,
            });
        }
    }
    occurrences.sort_by_key(|occurrence| occurrence.start);
    Ok(occurrences)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    fn instant(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn event(zone: &str, start: &str, end: &str, rule: Option<&str>) -> Event {
        let local = |text: &str| {
            if text.contains('T') {
                at(text)
            } else {
                at(&format!("{text}T00:00:00"))
            }
        };
        Event {
            id: EventId(1),
            user_id: UserId(1),
            draft: EventDraft {
                pet_id: None,
                title: "산책".into(),
                memo: String::new(),
                all_day: !start.contains('T'),
                starts_local: local(start),
                ends_local: local(end),
                time_zone: zone.into(),
                color: "#3788D8".into(),
                rrule: rule.map(Into::into),
                exdates: Vec::new(),
                reminders: Vec::new(),
            },
            created_at: instant("2026-01-01T00:00:00Z"),
            updated_at: instant("2026-01-01T00:00:00Z"),
            ical_uid: None,
            checked: Checked::default(),
        }
    }

    fn starts(occurrences: &[Occurrence]) -> Vec<String> {
        occurrences.iter().map(|o| o.start.to_rfc3339()).collect()
    }

    #[test]
    fn a_daily_walk_stays_at_nine_across_the_daylight_saving_change() {
        let walk = event(
            "America/New_York",
            "2026-03-06T09:00:00",
            "2026-03-06T10:00:00",
            Some("FREQ=DAILY;COUNT=4"),
        );
        let found = expand(
            &walk,
            &[],
            instant("2026-03-01T00:00:00Z"),
            instant("2026-04-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            starts(&found),
            [
                "2026-03-06T09:00:00-05:00",
                "2026-03-07T09:00:00-05:00",
                "2026-03-08T09:00:00-04:00",
                "2026-03-09T09:00:00-04:00",
            ]
        );
        assert_eq!(found[2].end.to_rfc3339(), "2026-03-08T10:00:00-04:00");
    }

    #[test]
    fn weekly_monthly_and_yearly_rules_with_exceptions_and_windows() {
        let mut weekly = event(
            "Asia/Seoul",
            "2026-11-02T19:00:00",
            "2026-11-02T20:00:00",
            Some("FREQ=WEEKLY;BYDAY=MO,TH"),
        );
        weekly.draft.exdates = vec![at("2026-11-05T19:00:00")];
        let found = expand(
            &weekly,
            &[],
            instant("2026-11-01T00:00:00Z"),
            instant("2026-11-15T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            starts(&found),
            [
                "2026-11-02T19:00:00+09:00",
                "2026-11-09T19:00:00+09:00",
                "2026-11-12T19:00:00+09:00",
            ]
        );
        // Monthly on the 31st skips shorter months, as RFC 5545 says.
        let monthly = event(
            "Asia/Seoul",
            "2026-01-31T08:00:00",
            "2026-01-31T08:30:00",
            Some("FREQ=MONTHLY"),
        );
        let found = expand(
            &monthly,
            &[],
            instant("2026-01-01T00:00:00Z"),
            instant("2026-06-01T00:00:00Z"),
        )
        .unwrap();
        let dates: Vec<NaiveDate> = found.iter().map(|o| o.date).collect();
        assert_eq!(
            dates,
            ["2026-01-31", "2026-03-31", "2026-05-31"].map(|d| d.parse::<NaiveDate>().unwrap())
        );
        // A yearly all-day birthday: dates, the end exclusive.
        let birthday = event(
            "Asia/Seoul",
            "2021-04-02",
            "2021-04-03",
            Some("FREQ=YEARLY"),
        );
        let found = expand(
            &birthday,
            &[],
            instant("2026-01-01T00:00:00Z"),
            instant("2027-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(starts(&found), ["2026-04-02T00:00:00+09:00"]);
        assert_eq!(found[0].end.to_rfc3339(), "2026-04-03T00:00:00+09:00");
    }

    #[test]
    fn an_occurrence_in_the_skipped_hour_can_be_cancelled() {
        let mut night = event(
            "America/New_York",
            "2026-03-07T02:30:00",
            "2026-03-07T03:00:00",
            Some("FREQ=DAILY;COUNT=3"),
        );
        let window = (
            instant("2026-03-01T00:00:00Z"),
            instant("2026-04-01T00:00:00Z"),
        );
        let found = expand(&night, &[], window.0, window.1).unwrap();
        assert_eq!(found[1].start.to_rfc3339(), "2026-03-08T03:30:00-04:00");
        night.draft.exdates = vec![at("2026-03-08T02:30:00")];
        let found = expand(&night, &[], window.0, window.1).unwrap();
        assert_eq!(
            starts(&found),
            ["2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00"]
        );
    }

    #[test]
    fn bad_rules_zones_and_times_are_refused_with_the_reason() {
        let draft = |zone: &str, start: &str, rule: Option<&str>| {
            let mut e = event(zone, start, "2026-03-08T04:00:00", rule).draft;
            e.ends_local = e.starts_local + Duration::hours(1);
            e
        };
        let code = |draft: EventDraft| match check(&draft) {
            Err(ScheduleError::Invalid { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            code(draft("Mars/Olympus", "2026-03-08T01:00:00", None)),
            "UNKNOWN_TIME_ZONE"
        );
        assert_eq!(
            code(draft("America/New_York", "2026-03-08T02:30:00", None)),
            "NONEXISTENT_TIME"
        );
        for rule in [
            "FREQ=SOMETIMES",
            "FREQ=HOURLY",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=DAILY;COUNT=2;UNTIL=20270101T000000Z",
            "BYDAY=MO",
            "FREQ=DAILY;BYHOUR=9,17",
        ] {
            assert_eq!(
                code(draft("Asia/Seoul", "2026-03-08T01:00:00", Some(rule))),
                "INVALID_RRULE",
                "{rule}"
            );
        }
        assert!(
            check(&draft(
                "Asia/Seoul",
                "2026-03-08T01:00:00",
                Some("FREQ=DAILY;UNTIL=20260310T235959")
            ))
            .is_ok()
        );
        // An all-day series ended by a date, as "this and following" ends one.
        let mut all_day = event("Asia/Seoul", "2026-03-01", "2026-03-02", None).draft;
        all_day.rrule = Some(rule_ending(
            "FREQ=DAILY;COUNT=9",
            Some("UNTIL=20260304".into()),
        ));
        assert_eq!(all_day.rrule.as_deref(), Some("FREQ=DAILY;UNTIL=20260304"));
        let found = expand(
            &Event {
                draft: all_day,
                ..event("Asia/Seoul", "2026-03-01", "2026-03-02", None)
            },
            &[],
            instant("2026-02-01T00:00:00Z"),
            instant("2026-04-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(found.len(), 4, "1 to 4 March");
    }

    /// What the crate itself finds from the first start, walking every period before.
    fn walked(event: &Event, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
        let zone: Tz = event.draft.time_zone.parse().unwrap();
        let first = RuleTz::from(zone)
            .from_local_datetime(&event.draft.starts_local)
            .unwrap();
        let rule: RRule<Unvalidated> = event.draft.rrule.as_deref().unwrap().parse().unwrap();
        let mut found: Vec<String> = RRuleSet::new(first)
            .rrule(rule.validate(first).unwrap())
            .rdate(first)
            .after(from.with_timezone(&RuleTz::UTC) - Duration::hours(1))
            .before(to.with_timezone(&RuleTz::UTC))
            .all(u16::MAX)
            .dates
            .into_iter()
            .filter(|start| start.with_timezone(&Utc) >= from - Duration::hours(1))
            .map(|start| start.with_timezone(&zone).to_rfc3339())
            .collect();
        found.dedup();
        found
    }

    #[test]
    fn rules_expand_from_near_the_window_as_from_their_first_start() {
        let rules = [
            "FREQ=DAILY",
            "FREQ=DAILY;INTERVAL=3",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR",
            "FREQ=WEEKLY;WKST=SU;INTERVAL=3",
            "FREQ=MONTHLY",
            "FREQ=MONTHLY;INTERVAL=5;BYDAY=-1FR",
            "FREQ=MONTHLY;BYMONTHDAY=-1;BYSETPOS=1",
            "FREQ=YEARLY;INTERVAL=4",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            "FREQ=YEARLY;BYWEEKNO=10;BYDAY=TU",
            "FREQ=DAILY;UNTIL=20261115T000000Z",
        ];
        let windows = [
            ("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
            ("2026-10-20T00:00:00Z", "2026-11-20T00:00:00Z"),
            ("2028-02-01T00:00:00Z", "2028-03-15T00:00:00Z"),
        ];
        for rule in rules {
            for start in [
                "1900-01-31T09:30:00",
                "1987-05-31T23:30:00",
                "2025-12-31T09:00:00",
            ] {
                let end = (at(start) + Duration::hours(1))
                    .to_string()
                    .replace(' ', "T");
                let event = event("America/New_York", start, &end, Some(rule));
                for (from, to) in windows {
                    let (from, to) = (instant(from), instant(to));
                    assert_eq!(
                        starts(&expand(&event, &[], from, to).unwrap()),
                        walked(&event, from, to),
                        "{rule} from {start} in {from}..{to}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_counted_rule_expands_alike_from_its_kept_last_start() {
        for rule in [
            "FREQ=DAILY;COUNT=4000",
            "FREQ=WEEKLY;BYDAY=TU,SA;COUNT=700",
            "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=90",
        ] {
            let mut counted = event(
                "Europe/Berlin",
                "2020-01-31T08:00:00",
                "2020-01-31T08:30:00",
                Some(rule),
            );
            let walked_from_first = counted.clone();
            counted.checked = check(&counted.draft).unwrap();
            assert!(counted.checked.count_last_start.is_some(), "{rule}");
            for (from, to) in [
                ("2020-01-01T00:00:00Z", "2020-03-01T00:00:00Z"),
                ("2026-03-01T00:00:00Z", "2026-04-05T00:00:00Z"),
                ("2030-12-01T00:00:00Z", "2031-01-10T00:00:00Z"),
            ] {
                let (from, to) = (instant(from), instant(to));
                assert_eq!(
                    expand(&counted, &[], from, to).unwrap(),
                    expand(&walked_from_first, &[], from, to).unwrap(),
                    "{rule} in {from}..{to}"
                );
            }
        }
    }

    #[test]
    fn events_and_their_rules_stay_within_the_years() {
        let code = |start: &str, rule: Option<&str>| {
            let mut draft = event("Asia/Seoul", start, start, rule).draft;
            draft.ends_local = draft.starts_local + Duration::hours(1);
            match check(&draft) {
                Err(ScheduleError::Invalid { code, .. }) => code,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            code("0001-01-01T09:00:00", Some("FREQ=DAILY")),
            "OUT_OF_YEARS"
        );
        assert_eq!(code("2201-01-01T09:00:00", None), "OUT_OF_YEARS");
        assert_eq!(
            code(
                "2026-01-01T09:00:00",
                Some("FREQ=DAILY;UNTIL=99991231T000000Z")
            ),
            "INVALID_RRULE"
        );
        assert_eq!(
            code("2026-01-01T09:00:00", Some("FREQ=DAILY;COUNT=5001")),
            "INVALID_RRULE"
        );
        assert!(matches!(
            Window::new(
                instant("0001-01-01T00:00:00Z"),
                instant("0001-02-01T00:00:00Z")
            ),
            Err(ScheduleError::OutOfYears)
        ));
        // The oldest start allowed still lists this year's month at once.
        let oldest = event(
            "Asia/Seoul",
            "1900-01-01T09:00:00",
            "1900-01-01T10:00:00",
            Some("FREQ=DAILY"),
        );
        assert_eq!(
            expand(
                &oldest,
                &[],
                instant("2026-12-01T00:00:00Z"),
                instant("2027-01-01T00:00:00Z")
            )
            .unwrap()
            .len(),
            31
        );
    }
}

//! Changing some occurrences of a series: cancelling one, editing one on its own (an RFC 5545
//! `RECURRENCE-ID`), or editing it and every later one (the series is split there).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rrule::{RRule, RRuleSet, Unvalidated};

use super::event::{
    self, CalendarEvent, CalendarEventId, Checked, EventDetail, EventDraft, Override,
};
use super::rule::{Series, check, expand, local, rule_ending};
use super::{CalendarError, MAX_OVERRIDES, invalid, reminder};
use crate::schema::{calendar_event_overrides, calendar_events};
use crate::types::UserId;

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

/// `owner`'s recurring event `id`, locked for a change of some of its occurrences, checked to
/// put an occurrence on the local `date`.
async fn lock_series_on(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: CalendarEventId,
    date: NaiveDate,
) -> Result<CalendarEvent, CalendarError> {
    let event = lock_series(conn, owner, id).await?;
    if !occurs_on(&event, date)? {
        return Err(CalendarError::OccurrenceNotFound);
    }
    Ok(event)
}

/// `owner`'s recurring event `id`, locked for a change of some of its occurrences.
async fn lock_series(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: CalendarEventId,
) -> Result<CalendarEvent, CalendarError> {
    let event: CalendarEvent = event::mine(owner, id)
        .select(CalendarEvent::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(CalendarError::NotFound)?;
    if event.draft.rrule.is_none() {
        return Err(CalendarError::NotRecurring);
    }
    Ok(event)
}

/// Whether the series itself (before edits) puts an occurrence on the local `date`.
fn occurs_on(event: &CalendarEvent, date: NaiveDate) -> Result<bool, CalendarError> {
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
    id: CalendarEventId,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<EventDetail, CalendarError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        let event = lock_series(conn, owner, id).await?;
        let recurrence = date.and_time(event.draft.starts_local.time());
        if event.draft.exdates.contains(&recurrence) {
            return event::detail(conn, event).await;
        }
        if !occurs_on(&event, date)? {
            return Err(CalendarError::OccurrenceNotFound);
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
            .returning(CalendarEvent::as_returning())
            .get_result(conn)
            .await?;
        reminder::queue(conn, id, &event.draft.reminders, now).await?;
        event::detail(conn, event).await
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
    id: CalendarEventId,
    date: NaiveDate,
    edit: OccurrenceEdit,
    scope: EditScope,
    now: DateTime<Utc>,
) -> Result<EventDetail, CalendarError> {
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
    event: CalendarEvent,
    date: NaiveDate,
    edit: &OccurrenceEdit,
    now: DateTime<Utc>,
) -> Result<EventDetail, CalendarError> {
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
        return Err(CalendarError::TooManyOverrides);
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
        .returning(CalendarEvent::as_returning())
        .get_result(conn)
        .await?;
    reminder::queue(conn, event.id, &event.draft.reminders, now).await?;
    event::detail(conn, event).await
}

/// "This and following": the series ends before `date` and a new one, edited, starts there.
async fn split(
    conn: &mut AsyncPgConnection,
    event: CalendarEvent,
    date: NaiveDate,
    edit: &OccurrenceEdit,
    now: DateTime<Utc>,
) -> Result<EventDetail, CalendarError> {
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
        return event::update(conn, event.user_id, event.id, following, now).await;
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
    event::ensure_room(conn, event.user_id).await?;
    diesel::update(calendar_events::table.find(event.id))
        .set((
            &earlier,
            earlier_checked,
            calendar_events::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    reminder::queue(conn, event.id, &earlier.reminders, now).await?;
    diesel::delete(
        calendar_event_overrides::table
            .filter(calendar_event_overrides::event_id.eq(event.id))
            .filter(calendar_event_overrides::occurrence_date.ge(date)),
    )
    .execute(conn)
    .await?;
    let created = event::insert(conn, event.user_id, &following, following_checked, now).await?;
    Ok(EventDetail {
        event: created,
        overrides: Vec::new(),
    })
}

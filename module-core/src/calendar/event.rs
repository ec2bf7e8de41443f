//! The calendar's events: a single one or a series, as its owner writes it, and their writes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::rule::check;
use super::{CalendarError, MAX_EVENTS, reminder};
use crate::community::pet::PetId;
use crate::schema::{calendar_event_overrides, calendar_events, pets};
use crate::types::UserId;

crate::id_type! {
    /// An event of the calendar (`calendar_events.id`): a single one or a series.
    pub struct CalendarEventId;
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = calendar_events)]
pub struct CalendarEvent {
    pub id: CalendarEventId,
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
    pub event_id: CalendarEventId,
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
    pub event: CalendarEvent,
    pub overrides: Vec<Override>,
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

/// `owner`'s event `id`: others' events are nobody's to them.
pub(super) type Mine = diesel::dsl::Filter<
    diesel::dsl::Filter<
        calendar_events::table,
        diesel::dsl::Eq<calendar_events::id, CalendarEventId>,
    >,
    diesel::dsl::Eq<calendar_events::user_id, UserId>,
>;

pub(super) fn mine(owner: UserId, id: CalendarEventId) -> Mine {
    calendar_events::table
        .filter(calendar_events::id.eq(id))
        .filter(calendar_events::user_id.eq(owner))
}

async fn ensure_my_pet(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    pet: Option<PetId>,
) -> Result<(), CalendarError> {
    if let Some(pet) = pet {
        let mine: i64 = pets::table
            .filter(pets::id.eq(pet))
            .filter(pets::owner_id.eq(owner))
            .count()
            .get_result(conn)
            .await?;
        if mine == 0 {
            return Err(CalendarError::PetNotFound);
        }
    }
    Ok(())
}

/// The edited occurrences of `events`, by event.
pub(crate) async fn overrides_of(
    conn: &mut AsyncPgConnection,
    events: &[CalendarEventId],
) -> Result<HashMap<CalendarEventId, Vec<Override>>, CalendarError> {
    let rows: Vec<Override> = calendar_event_overrides::table
        .filter(calendar_event_overrides::event_id.eq_any(events))
        .order((
            calendar_event_overrides::event_id,
            calendar_event_overrides::occurrence_date,
        ))
        .select(Override::as_select())
        .load(conn)
        .await?;
    let mut by_event: HashMap<CalendarEventId, Vec<Override>> = HashMap::new();
    for row in rows {
        by_event.entry(row.event_id).or_default().push(row);
    }
    Ok(by_event)
}

pub(super) async fn detail(
    conn: &mut AsyncPgConnection,
    event: CalendarEvent,
) -> Result<EventDetail, CalendarError> {
    let overrides = overrides_of(conn, &[event.id])
        .await?
        .remove(&event.id)
        .unwrap_or_default();
    Ok(EventDetail { event, overrides })
}

pub(super) async fn ensure_room(
    conn: &mut AsyncPgConnection,
    owner: UserId,
) -> Result<(), CalendarError> {
    let held: i64 = calendar_events::table
        .filter(calendar_events::user_id.eq(owner))
        .count()
        .get_result(conn)
        .await?;
    if held >= MAX_EVENTS {
        return Err(CalendarError::TooMany { max: MAX_EVENTS });
    }
    Ok(())
}

pub(super) async fn insert(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    draft: &EventDraft,
    checked: Checked,
    now: DateTime<Utc>,
) -> Result<CalendarEvent, CalendarError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        let event: CalendarEvent = diesel::insert_into(calendar_events::table)
            .values((
                draft,
                checked,
                calendar_events::user_id.eq(owner),
                calendar_events::created_at.eq(now),
                calendar_events::updated_at.eq(now),
            ))
            .returning(CalendarEvent::as_returning())
            .get_result(conn)
            .await?;
        reminder::queue(conn, event.id, &event.draft.reminders, now).await?;
        Ok(event)
    })
    .await
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    draft: EventDraft,
    now: DateTime<Utc>,
) -> Result<EventDetail, CalendarError> {
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
    id: CalendarEventId,
) -> Result<EventDetail, CalendarError> {
    let event = mine(owner, id)
        .select(CalendarEvent::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CalendarError::NotFound)?;
    detail(conn, event).await
}

/// Rewrites an event: every occurrence of a series, so edited occurrences are dropped.
pub async fn update(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: CalendarEventId,
    draft: EventDraft,
    now: DateTime<Utc>,
) -> Result<EventDetail, CalendarError> {
    use diesel_async::AsyncConnection as _;
    let checked = check(&draft)?;
    ensure_my_pet(conn, owner, draft.pet_id).await?;
    conn.transaction(async |conn| {
        let event = diesel::update(mine(owner, id))
            .set((&draft, checked, calendar_events::updated_at.eq(now)))
            .returning(CalendarEvent::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or(CalendarError::NotFound)?;
        reminder::queue(conn, id, &event.draft.reminders, now).await?;
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
    id: CalendarEventId,
) -> Result<(), CalendarError> {
    let gone = diesel::delete(mine(owner, id)).execute(conn).await?;
    if gone == 0 {
        return Err(CalendarError::NotFound);
    }
    Ok(())
}

/// Every event of `owner` with its edited occurrences, by id.
pub async fn details(
    conn: &mut AsyncPgConnection,
    owner: UserId,
) -> Result<Vec<EventDetail>, CalendarError> {
    // One round trip: each event with its edits (an event without any comes once).
    let rows: Vec<(CalendarEvent, Option<Override>)> = calendar_events::table
        .left_join(calendar_event_overrides::table)
        .filter(calendar_events::user_id.eq(owner))
        .order((
            calendar_events::id,
            calendar_event_overrides::occurrence_date,
        ))
        .select((CalendarEvent::as_select(), Option::<Override>::as_select()))
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

//! Importing an `.ics` file read by [`ical`](super::ical) into my calendar.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::event::{CalendarEventId, Override};
use super::{CalendarError, MAX_EVENTS, ical, reminder};
use crate::community::pet::PetId;
use crate::schema::{calendar_event_overrides, calendar_events};
use crate::types::UserId;

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
) -> Result<ImportCounts, CalendarError> {
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| {
        // Imports of one user take turns, so the count below holds.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('calendar-import', $1))")
            .bind::<diesel::sql_types::BigInt, _>(i64::from(owner))
            .execute(conn)
            .await?;
        let uids: Vec<&str> = events.iter().map(|event| event.uid.as_str()).collect();
        let known: HashMap<String, (CalendarEventId, Option<PetId>, String)> =
            calendar_events::table
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
                .load::<(String, (CalendarEventId, Option<PetId>, String))>(conn)
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
            return Err(CalendarError::TooMany { max: MAX_EVENTS });
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
                    reminder::queue(conn, id, &event.draft.reminders, now).await?;
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
                    let id: CalendarEventId = diesel::insert_into(calendar_events::table)
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
                    reminder::queue(conn, id, &event.draft.reminders, now).await?;
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

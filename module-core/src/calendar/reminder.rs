//! The `calendar-reminders` job: events' reminders (`EVENT_REMINDER`) when they fall due, and
//! pets' D-days of the day (`PET_DDAY`) at 09:00 business time, as notifications that reach the
//! live streams.
//!
//! Each event with a reminder to come has a row in `calendar_reminder_queue`: when the job must
//! look at it next (`due_at`: its next reminder, or at once after a change) and from when its
//! reminders are due (`from_at`). A pass claims due rows in chunks (`FOR UPDATE SKIP LOCKED`, so
//! instances share them), expands their events in Rust (the `rrule` crate), and in the same
//! transaction inserts the notifications in one statement and moves every row in another. A
//! notification's key names its event, occurrence date and reminder, so nothing is sent twice:
//! not when a pass is repeated, not when it dies before its commit, not after an edit.

use std::collections::HashMap;

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Jsonb, Text, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt as _;

use super::CalendarError;
use super::dday::{self, DDayKind};
use super::event::{self, CalendarEvent, CalendarEventId, Override};
use super::rule::{Occurrence, expand};
use crate::community::pet::Pet;
use crate::db::{DbError, DbPool};
use crate::notification::{Notice, NotificationKind};
use crate::platform::business_days::BusinessCalendar;
use crate::ports::{Audience, NotificationSignal};
use crate::schema::{calendar_events, calendar_reminder_queue, pet_dday_runs, pets, users};
use crate::types::UserId;

/// All-day events' reminders count back from this hour of their day (as calendar apps do).
pub const ALL_DAY_REMINDER_HOUR: u32 = 9;
/// D-days are told at this hour of the business day.
pub const DDAY_HOUR: u32 = 9;
/// A reminder of an occurrence that began longer ago than this is not sent any more.
const TOO_LATE: Duration = Duration::hours(1);

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderCounts {
    /// Events looked at.
    pub events: usize,
    /// `EVENT_REMINDER` notifications stored (repeats not counted).
    pub reminded: usize,
    /// `PET_DDAY` notifications stored.
    pub d_days: usize,
}

/// When the reminder `minutes_before` of an occurrence fires: before its start, or for an
/// all-day occurrence before 09:00 of its first day.
pub fn fire_time(occurrence: &Occurrence, minutes_before: i32) -> DateTime<Utc> {
    let base = if occurrence.all_day {
        occurrence.start.with_timezone(&Utc) + Duration::hours(i64::from(ALL_DAY_REMINDER_HOUR))
    } else {
        occurrence.start.with_timezone(&Utc)
    };
    base - Duration::minutes(i64::from(minutes_before))
}

/// The reminders of an event due in `[from, now]` (of occurrences not long begun), and when the
/// next one after `now` comes (`None`: never again).
#[allow(clippy::type_complexity)]
pub fn due(
    event: &CalendarEvent,
    overrides: &[Override],
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(Vec<(Occurrence, i32)>, Option<DateTime<Utc>>), CalendarError> {
    let longest = event
        .draft
        .reminders
        .iter()
        .copied()
        .max()
        .map_or(Duration::zero(), |minutes| {
            Duration::minutes(i64::from(minutes))
        });
    let lead = Duration::hours(i64::from(ALL_DAY_REMINDER_HOUR));
    let reach = longest + lead + Duration::days(1);
    let reminders = &event.draft.reminders;
    // The first reminder after now among some occurrences.
    let earliest = |occurrences: &[Occurrence]| {
        occurrences
            .iter()
            .flat_map(|occurrence| reminders.iter().map(|&m| fire_time(occurrence, m)))
            .filter(|at| *at > now)
            .min()
    };
    // What fell due since `from`, and what comes in the next two days (most series' next).
    let near = expand(
        event,
        overrides,
        from.min(now - TOO_LATE) - lead,
        now + reach + Duration::days(2),
    )?;
    let mut fired = Vec::new();
    for occurrence in &near {
        for &minutes in reminders {
            let at = fire_time(occurrence, minutes);
            if at <= now && at >= from && occurrence.start.with_timezone(&Utc) >= now - TOO_LATE {
                fired.push((occurrence.clone(), minutes));
            }
        }
    }
    let mut next = earliest(&near);
    // Further out in wider steps, then once a year for what lies beyond.
    for days in [35, 400] {
        if next.is_some() {
            break;
        }
        next = earliest(&expand(
            event,
            overrides,
            now,
            now + reach + Duration::days(days),
        )?);
    }
    if next.is_none()
        && (event.draft.rrule.is_some()
            || event.draft.starts_local > (now + Duration::days(400)).naive_utc())
    {
        next = Some(now + Duration::days(366));
    }
    Ok((fired, next))
}

fn reminder_text(occurrence: &Occurrence) -> String {
    if occurrence.all_day {
        occurrence.start.format("%m월 %d일, 하루 종일").to_string()
    } else {
        occurrence
            .start
            .format("%m월 %d일 %H:%M에 시작해요")
            .to_string()
    }
}

/// The notifications of one chunk, as columns for `unnest`.
#[derive(Default)]
struct Batch {
    users: Vec<i64>,
    titles: Vec<String>,
    bodies: Vec<String>,
    data: Vec<serde_json::Value>,
    keys: Vec<String>,
}

impl Batch {
    fn push(&mut self, user: UserId, title: &str, body: String, notice: &Notice, key: String) {
        self.users.push(user.into());
        self.titles.push(title.to_owned());
        self.bodies.push(body);
        self.data.push(notice.data());
        self.keys.push(key);
    }

    /// Stores them, one statement; a key stored before is skipped. Returns who got one.
    async fn store(
        &self,
        conn: &mut AsyncPgConnection,
        kind: NotificationKind,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, DbError> {
        #[derive(QueryableByName)]
        struct Stored {
            #[diesel(sql_type = BigInt)]
            user_id: i64,
        }
        if self.users.is_empty() {
            return Ok(Vec::new());
        }
        let stored: Vec<Stored> = diesel::sql_query(
            "INSERT INTO notifications (user_id, kind, title, body, data, dedupe_key, created_at)
             SELECT n.user_id, $6, n.title, n.body, n.data, n.dedupe_key, $7
               FROM unnest($1, $2, $3, $4, $5) AS n(user_id, title, body, data, dedupe_key)
             ON CONFLICT (user_id, dedupe_key) DO NOTHING
             RETURNING user_id",
        )
        .bind::<Array<BigInt>, _>(&self.users)
        .bind::<Array<Text>, _>(&self.titles)
        .bind::<Array<Text>, _>(&self.bodies)
        .bind::<Array<Jsonb>, _>(&self.data)
        .bind::<Array<Text>, _>(&self.keys)
        .bind::<Text, _>(kind.as_str())
        .bind::<Timestamptz, _>(now)
        .load(conn)
        .await?;
        Ok(stored.into_iter().map(|row| row.user_id).collect())
    }
}

/// One chunk: claims up to `chunk` due events, sends their reminders and moves their marks, in
/// one transaction. Returns (events looked at, who was notified).
async fn pass(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    chunk: i64,
) -> Result<(usize, Vec<i64>), CalendarError> {
    conn.transaction(async |conn| {
        // Only the queue's rows are locked: locking the wide event rows too would write to
        // every one of their pages.
        let due_rows: Vec<(CalendarEventId, DateTime<Utc>)> = calendar_reminder_queue::table
            .filter(calendar_reminder_queue::due_at.le(now))
            .order(calendar_reminder_queue::due_at)
            .limit(chunk)
            .for_update()
            .skip_locked()
            .select((
                calendar_reminder_queue::event_id,
                calendar_reminder_queue::from_at,
            ))
            .load(conn)
            .await?;
        let from: HashMap<CalendarEventId, DateTime<Utc>> = due_rows.into_iter().collect();
        let claimed: Vec<(CalendarEvent, DateTime<Utc>)> = calendar_events::table
            .filter(calendar_events::id.eq_any(from.keys().copied().collect::<Vec<_>>()))
            .select(CalendarEvent::as_select())
            .load::<CalendarEvent>(conn)
            .await?
            .into_iter()
            .map(|event| {
                let since = from[&event.id];
                (event, since)
            })
            .collect();
        if claimed.is_empty() {
            return Ok((0, Vec::new()));
        }
        let ids: Vec<CalendarEventId> = claimed.iter().map(|(event, _)| event.id).collect();
        let mut overrides = event::overrides_of(conn, &ids).await?;
        // Expanding is CPU work: off the async threads.
        let (batch, marks) = tokio::task::spawn_blocking(move || {
            let mut batch = Batch::default();
            let mut marks: (Vec<i64>, Vec<Option<DateTime<Utc>>>) = (Vec::new(), Vec::new());
            for (event, from) in &claimed {
                let edited = overrides.remove(&event.id).unwrap_or_default();
                // An event the rules no longer accept (it cannot be expanded) is left alone.
                let (fired, next) = due(event, &edited, *from, now).unwrap_or((Vec::new(), None));
                for (occurrence, minutes) in fired {
                    batch.push(
                        event.user_id,
                        &occurrence.title,
                        reminder_text(&occurrence),
                        &Notice::EventReminder {
                            event_id: event.id.into(),
                            occurrence_date: occurrence.date,
                            minutes_before: minutes,
                        },
                        format!("ev:{}:{}:{minutes}", event.id, occurrence.date),
                    );
                }
                marks.0.push(event.id.into());
                marks.1.push(next);
            }
            (batch, marks)
        })
        .await
        .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
        let notified = batch
            .store(conn, NotificationKind::EventReminder, now)
            .await?;
        // Each event's next look, or out of the queue when no reminder is left.
        diesel::sql_query(
            "WITH marks AS (SELECT * FROM unnest($1, $2) AS m(id, next)),
                  done AS (DELETE FROM calendar_reminder_queue q USING marks
                            WHERE q.event_id = marks.id AND marks.next IS NULL)
             UPDATE calendar_reminder_queue q SET due_at = marks.next, from_at = $3
               FROM marks WHERE q.event_id = marks.id AND marks.next IS NOT NULL",
        )
        .bind::<Array<BigInt>, _>(&marks.0)
        .bind::<Array<diesel::sql_types::Nullable<Timestamptz>>, _>(&marks.1)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
        Ok((marks.0.len(), notified))
    })
    .await
}

/// Sends every reminder due at `now`: `workers` connections take chunks of `chunk` events
/// until none is due. Woken streams see them at once.
pub async fn send_reminders(
    pool: &DbPool,
    signal: &dyn NotificationSignal,
    now: DateTime<Utc>,
    chunk: i64,
    workers: usize,
) -> Result<ReminderCounts, CalendarError> {
    let results: Vec<Result<(usize, Vec<i64>), CalendarError>> =
        futures_util::stream::iter(0..workers.max(1))
            .map(|_| async move {
                let mut conn = pool.get().await.map_err(DbError::from)?;
                let (mut events, mut notified) = (0, Vec::new());
                loop {
                    let (looked, users) = pass(&mut conn, now, chunk).await?;
                    events += looked;
                    notified.extend(users);
                    if looked < usize::try_from(chunk).unwrap_or(usize::MAX) {
                        return Ok((events, notified));
                    }
                }
            })
            .buffer_unordered(workers.max(1))
            .collect()
            .await;
    let mut counts = ReminderCounts::default();
    let mut woken = Vec::new();
    for result in results {
        let (events, users) = result?;
        counts.events += events;
        counts.reminded += users.len();
        woken.extend(users);
    }
    wake(signal, woken).await;
    Ok(counts)
}

async fn wake(signal: &dyn NotificationSignal, mut users: Vec<i64>) {
    users.sort_unstable();
    users.dedup();
    // Many users at once (a busy minute): one signal for every stream.
    let audiences: Vec<Audience> = if users.len() > 100 {
        vec![Audience::Everyone]
    } else {
        users
            .into_iter()
            .map(|user| Audience::User(UserId(user)))
            .collect()
    };
    for audience in audiences {
        if let Err(error) = signal.wake(audience).await {
            tracing::warn!(%error, "reminder wake-up not sent");
        }
    }
}

fn d_day_text(dday: &dday::DDay) -> (String, &'static str) {
    match dday.kind {
        DDayKind::Birthday => (
            format!("오늘은 {}의 {}번째 생일이에요", dday.pet_name, dday.number),
            "BIRTHDAY",
        ),
        DDayKind::Adoption => (
            format!(
                "{}이(가) 가족이 된 지 {}년이에요",
                dday.pet_name, dday.number
            ),
            "ADOPTION",
        ),
        DDayKind::DaysTogether => (
            format!("{}와(과) 함께한 지 {}일이에요", dday.pet_name, dday.number),
            "DAYS_TOGETHER",
        ),
    }
}

/// Tells active owners of their pets' D-days of the business day `today`, once that day has
/// reached 09:00 and once per day (the day is recorded with the notifications, in one
/// transaction). Candidates are found in SQL (a matching month and day, or a whole number of
/// hundred days); the D-day rule itself ([`dday::upcoming`]) decides, as the D-day list does.
pub async fn send_d_days(
    pool: &DbPool,
    signal: &dyn NotificationSignal,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Result<usize, CalendarError> {
    let today = calendar.day_of(now);
    let nine = calendar.start_of(today) + Duration::hours(i64::from(DDAY_HOUR));
    if now < nine {
        return Ok(0);
    }
    let mut conn = pool.get().await.map_err(DbError::from)?;
    let notified = conn
        .transaction(async |conn| -> Result<Vec<i64>, CalendarError> {
            let inserted = diesel::insert_into(pet_dday_runs::table)
                .values((
                    pet_dday_runs::day.eq(today),
                    pet_dday_runs::sent.eq(0),
                    pet_dday_runs::ran_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 0 {
                return Ok(Vec::new());
            }
            // 29 February's anniversaries fall on the 28th in other years.
            let mut month_days = vec![today.format("%m-%d").to_string()];
            if (today.month(), today.day()) == (2, 28)
                && NaiveDate::from_ymd_opt(today.year(), 2, 29).is_none()
            {
                month_days.push("02-29".to_owned());
            }
            let candidates: Vec<Pet> = pets::table
                .inner_join(users::table)
                .filter(users::status.eq(crate::identity::AccountStatus::Active))
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "(to_char(pets.birthday, 'MM-DD') = ANY(",
                    )
                    .bind::<Array<Text>, _>(month_days.clone())
                    .sql(") OR to_char(pets.adopted_on, 'MM-DD') = ANY(")
                    .bind::<Array<Text>, _>(month_days)
                    .sql(") OR (")
                    .bind::<Date, _>(today)
                    .sql(" - coalesce(pets.adopted_on, pets.birthday)) % 100 = 0)"),
                )
                .select(Pet::as_select())
                .load(conn)
                .await?;
            let owners: HashMap<_, _> = candidates
                .iter()
                .map(|pet| (pet.id, pet.owner_id))
                .collect();
            let mut batch = Batch::default();
            for dday in dday::upcoming(&candidates, today, 0) {
                let owner = owners[&dday.pet_id];
                let (title, kind) = d_day_text(&dday);
                batch.push(
                    owner,
                    &title,
                    String::new(),
                    &Notice::PetDday {
                        pet_id: dday.pet_id.into(),
                        kind: kind.to_owned(),
                        number: dday.number,
                        date: dday.date,
                    },
                    format!("dday:{}:{kind}:{today}", dday.pet_id),
                );
            }
            let notified = batch.store(conn, NotificationKind::PetDday, now).await?;
            diesel::update(pet_dday_runs::table.find(today))
                .set(pet_dday_runs::sent.eq(i32::try_from(notified.len()).unwrap_or(i32::MAX)))
                .execute(conn)
                .await?;
            Ok(notified)
        })
        .await?;
    let count = notified.len();
    wake(signal, notified).await;
    Ok(count)
}

/// After a write of event `id` at `now`: with reminders, the reminder job looks at the event at
/// once (and works out its next one), sending what falls due from now on; without, never.
pub(super) async fn queue(
    conn: &mut AsyncPgConnection,
    id: CalendarEventId,
    reminders: &[i32],
    now: DateTime<Utc>,
) -> Result<(), CalendarError> {
    if reminders.is_empty() {
        diesel::delete(calendar_reminder_queue::table.find(id))
            .execute(conn)
            .await?;
    } else {
        diesel::insert_into(calendar_reminder_queue::table)
            .values((
                calendar_reminder_queue::event_id.eq(id),
                calendar_reminder_queue::due_at.eq(now),
                calendar_reminder_queue::from_at.eq(now),
            ))
            .on_conflict(calendar_reminder_queue::event_id)
            .do_update()
            .set((
                calendar_reminder_queue::due_at.eq(now),
                calendar_reminder_queue::from_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

//! The calendar in RFC 5545: a feed of my events (series with `RRULE` and `EXDATE`, edited
//! occurrences as `RECURRENCE-ID` components, reminders as `VALARM`s, and a `VTIMEZONE` for
//! every zone used) written with the `icalendar` crate, and `.ics` files read back into events
//! by its parser.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{
    DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset as _, TimeZone as _, Utc,
};
use chrono_tz::{OffsetComponents as _, OffsetName as _, Tz};
use icalendar::{
    Alarm, Calendar, CalendarDateTime, Component as _, DatePerhapsTime, EventLike as _, Property,
    Trigger, ValueType,
};
use rrule::{RRule, Unvalidated};

use super::event::{Checked, EventDetail, EventDraft};
use super::reminder;
use super::rule::{check, in_years, rule_ending};
use super::{MAX_EVENTS, MAX_OVERRIDES, MAX_REMINDER_MINUTES, MAX_REMINDERS};

/// The largest `.ics` file imported at once.
pub const MAX_IMPORT_BYTES: usize = 512 * 1024;
/// How deep components of an imported file may nest (`VCALENDAR` › `VEVENT` › `VALARM` is 3).
/// The parser recurses once per level, so the bound keeps its stack small whatever the file.
pub const MAX_IMPORT_DEPTH: usize = 8;
/// Content lines (after unfolding) an imported file may have: 1,000 events of 40 lines.
pub const MAX_IMPORT_LINES: usize = 40_000;
/// Events one file brings at most (a calendar keeps 1,000).
pub const MAX_IMPORT_EVENTS: usize = MAX_EVENTS as usize;
/// The colour imported events take.
const IMPORTED_COLOR: &str = "#3788D8";
/// Zone definitions cover their transitions from this year ...
const FIRST_ZONE_YEAR: i32 = 1970;
/// ... to this one: recurrences later than that follow the zone's last rule.
const LAST_ZONE_YEAR: i32 = 2050;

/// The UID an event has in feeds: the one it was imported with, or one made from its id.
pub fn uid(detail: &EventDetail) -> String {
    detail
        .event
        .ical_uid
        .clone()
        .unwrap_or_else(|| format!("event-{}@petory", detail.event.id))
}

fn local_time(all_day: bool, zone: &str, at: NaiveDateTime) -> DatePerhapsTime {
    if all_day {
        DatePerhapsTime::Date(at.date())
    } else {
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
            date_time: at,
            tzid: zone.to_owned(),
        })
    }
}

/// The stored rule as a feed writes it: a floating `UNTIL` (the event's local time) becomes
/// UTC, or a date for all-day events, as RFC 5545 asks of rules with a `TZID` or `DATE` start.
fn feed_rule(text: &str, all_day: bool, zone: Tz) -> String {
    let Ok(rule) = text.trim().parse::<RRule<Unvalidated>>() else {
        return text.to_owned();
    };
    let Some(until) = rule.get_until() else {
        return text.to_owned();
    };
    let end = if all_day {
        format!("UNTIL={}", until.naive_local().format("%Y%m%d"))
    } else if until.timezone().is_local() {
        match zone.from_local_datetime(&until.naive_local()).earliest() {
            Some(until) => format!(
                "UNTIL={}",
                until.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ")
            ),
            None => return text.to_owned(),
        }
    } else {
        format!(
            "UNTIL={}",
            until.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ")
        )
    };
    rule_ending(text, Some(end))
}

/// `events` as an iCalendar feed named `name`. Every stamp comes from the data, so the same
/// events always make the same text.
pub fn feed(events: &[EventDetail], name: &str) -> String {
    let mut calendar = Calendar::empty();
    for (key, value) in [
        ("VERSION", "2.0"),
        ("PRODID", "-//Petory//Pet calendar//KO"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
        ("X-WR-CALNAME", name),
        ("X-PUBLISHED-TTL", "PT1H"),
    ] {
        calendar.append_property(Property::new(key, value));
    }
    let mut zones: Vec<Tz> = Vec::new();
    for detail in events {
        let event = &detail.event;
        let Ok(zone) = event.draft.time_zone.parse::<Tz>() else {
            continue;
        };
        if !event.draft.all_day && !zones.contains(&zone) {
            zones.push(zone);
        }
        let uid = uid(detail);
        let at = |local| local_time(event.draft.all_day, &event.draft.time_zone, local);
        let mut series = icalendar::Event::new();
        series
            .uid(&uid)
            .timestamp(event.updated_at)
            .created(event.created_at)
            .last_modified(event.updated_at)
            .summary(&event.draft.title)
            .starts(at(event.draft.starts_local))
            .ends(at(event.draft.ends_local));
        if !event.draft.memo.is_empty() {
            series.description(&event.draft.memo);
        }
        if let Some(rule) = &event.draft.rrule {
            series.add_property("RRULE", feed_rule(rule, event.draft.all_day, zone));
        }
        for exdate in &event.draft.exdates {
            series.exdate(at(*exdate));
        }
        for minutes in &event.draft.reminders {
            // All-day events are reminded before 09:00 of their day, not before midnight.
            let offset =
                reminder_offset(event.draft.all_day) - Duration::minutes(i64::from(*minutes));
            let mut alarm = Alarm::display(&event.draft.title, Trigger::after_start(offset));
            alarm
                .add_property("UID", format!("{uid}-alarm-{minutes}"))
                .timestamp(event.updated_at);
            series.alarm(alarm);
        }
        calendar.push(series.done());
        for edited in &detail.overrides {
            let mut occurrence = icalendar::Event::new();
            occurrence
                .uid(&uid)
                .timestamp(event.updated_at)
                .recurrence_id(at(edited
                    .occurrence_date
                    .and_time(event.draft.starts_local.time())))
                .summary(&edited.title)
                .starts(at(edited.starts_local))
                .ends(at(edited.ends_local));
            if !edited.memo.is_empty() {
                occurrence.description(&edited.memo);
            }
            calendar.push(occurrence.done());
        }
    }
    let text = calendar.to_string();
    // The crate writes no VTIMEZONE (and would stamp any component with DTSTAMP and UID, which
    // a VTIMEZONE must not carry): the definitions go in before the first event.
    let definitions: String = zones
        .iter()
        .map(|zone| vtimezone(*zone))
        .collect::<Vec<_>>()
        .concat();
    match text.find("BEGIN:VEVENT\r\n") {
        Some(first) => format!("{}{definitions}{}", &text[..first], &text[first..]),
        None => text,
    }
}

/// The zone's offset, whether daylight saving, and its abbreviation at `at`.
fn observance_at(zone: Tz, at: DateTime<Utc>) -> (i32, bool, String) {
    let offset = zone.offset_from_utc_datetime(&at.naive_utc());
    (
        offset.fix().local_minus_utc(),
        !offset.dst_offset().is_zero(),
        offset.abbreviation().unwrap_or_default().to_owned(),
    )
}

fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if rest == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{rest:02}")
    }
}

/// The `VTIMEZONE` of `zone`: every transition from 1970 to 2050 found in the zone database
/// (chrono-tz), grouped into one `STANDARD` or `DAYLIGHT` observance per offset change with
/// its onsets as `RDATE`s. Made once per zone.
fn vtimezone(zone: Tz) -> Arc<str> {
    static MADE: OnceLock<Mutex<HashMap<Tz, Arc<str>>>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    if let Some(text) = made.lock().ok().and_then(|made| made.get(&zone).cloned()) {
        return text;
    }
    let text: Arc<str> = zone_definition(zone).into();
    if let Ok(mut made) = made.lock() {
        made.insert(zone, text.clone());
    }
    text
}

fn zone_definition(zone: Tz) -> String {
    type Key = (bool, i32, i32, String);
    let start = Utc
        .with_ymd_and_hms(FIRST_ZONE_YEAR, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let end = Utc
        .with_ymd_and_hms(LAST_ZONE_YEAR + 1, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let first = observance_at(zone, start);
    // (daylight, from, to, name) → local onsets, in the offset before each change.
    let mut observances: BTreeMap<Key, Vec<NaiveDateTime>> = BTreeMap::new();
    observances
        .entry((first.1, first.0, first.0, first.2.clone()))
        .or_default()
        .push(start.naive_utc() + Duration::seconds(i64::from(first.0)));
    let step = Duration::hours(12);
    let (mut before, mut state) = (start, first);
    while before < end {
        let after = before + step;
        let next = observance_at(zone, after);
        if next.0 != state.0 || next.1 != state.1 || next.2 != state.2 {
            // The change lies in (before, after]: narrow it to the second.
            let (mut low, mut high) = (before, after);
            while high - low > Duration::seconds(1) {
                let middle = low + (high - low) / 2;
                if observance_at(zone, middle) == state {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            let changed = observance_at(zone, high);
            observances
                .entry((changed.1, state.0, changed.0, changed.2.clone()))
                .or_default()
                .push(high.naive_utc() + Duration::seconds(i64::from(state.0)));
            state = changed;
        }
        before = after;
    }
    let mut lines = vec![
        "BEGIN:VTIMEZONE".to_owned(),
        format!("TZID:{}", zone.name()),
    ];
    for ((daylight, from, to, name), onsets) in observances {
        let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
        lines.push(format!("BEGIN:{kind}"));
        lines.push(format!("DTSTART:{}", onsets[0].format("%Y%m%dT%H%M%S")));
        for onset in &onsets[1..] {
            lines.push(format!("RDATE:{}", onset.format("%Y%m%dT%H%M%S")));
        }
        lines.push(format!("TZOFFSETFROM:{}", utc_offset(from)));
        lines.push(format!("TZOFFSETTO:{}", utc_offset(to)));
        if !name.is_empty() {
            lines.push(format!("TZNAME:{name}"));
        }
        lines.push(format!("END:{kind}"));
    }
    lines.push("END:VTIMEZONE".to_owned());
    lines.into_iter().map(|line| line + "\r\n").collect()
}

/// An event read from a file, ready to import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedEvent {
    pub uid: String,
    pub draft: EventDraft,
    /// What checking the draft worked out.
    pub checked: Checked,
    /// Edited occurrences: (the date the series puts it on, title, memo, start, end).
    pub edited: Vec<ImportedOccurrence>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedOccurrence {
    pub occurrence_date: NaiveDate,
    pub title: String,
    pub memo: String,
    pub starts_local: NaiveDateTime,
    pub ends_local: NaiveDateTime,
}

/// An event of the file left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub uid: Option<String>,
    pub reason: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("not an iCalendar file: {0}")]
    NotICalendar(String),
    #[error("a file imports at most {MAX_IMPORT_EVENTS} events")]
    TooManyEvents,
    #[error(
        "components nest at most {MAX_IMPORT_DEPTH} deep and a file has at most {MAX_IMPORT_LINES} lines"
    )]
    TooComplex,
}

/// Refuses, before any parsing, a file whose components nest deeper than
/// [`MAX_IMPORT_DEPTH`] or that has more than [`MAX_IMPORT_LINES`] lines. `BEGIN`/`END` are
/// counted however they are written (any case, leading blanks), so the parser never sees more.
fn check_shape(text: &str) -> Result<(), ImportError> {
    let unfolded = icalendar::parser::unfold(text);
    let mut depth = 0usize;
    for (number, line) in unfolded.lines().enumerate() {
        if number >= MAX_IMPORT_LINES {
            return Err(ImportError::TooComplex);
        }
        let line = line.trim_start().as_bytes();
        let starts = |prefix: &[u8]| {
            line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix)
        };
        if starts(b"BEGIN:") {
            depth += 1;
            if depth > MAX_IMPORT_DEPTH {
                return Err(ImportError::TooComplex);
            }
        } else if starts(b"END:") {
            depth = depth.saturating_sub(1);
        }
    }
    Ok(())
}

/// At most `max` characters of `text`, trimmed.
fn clipped(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A time of the file as a local time in `zone`: a zone's own time converted, UTC converted,
/// a floating time taken as is; `None` for a zone the database does not know.
fn in_zone(value: &DatePerhapsTime, zone: Tz) -> Result<NaiveDateTime, String> {
    Ok(match value {
        DatePerhapsTime::Date(date) => date.and_time(NaiveTime::MIN),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(at)) => *at,
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(at)) => {
            at.with_timezone(&zone).naive_local()
        }
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            iana(tzid)?
                .from_local_datetime(date_time)
                .earliest()
                .map(|at| at.with_timezone(&zone).naive_local())
                .unwrap_or(*date_time)
        }
    })
}

/// The zone a `TZID` names: an IANA name, or a Windows one as Outlook and Exchange write them
/// (`Korea Standard Time`), read through CLDR's mapping to its world-wide default zone.
fn iana(tzid: &str) -> Result<Tz, String> {
    let tzid = tzid.trim();
    tzid.parse()
        .ok()
        .or_else(|| localzone::win_zone_to_iana(tzid, Some("001"))?.parse().ok())
        .ok_or_else(|| format!("{tzid} is not a time zone we know (IANA or Windows)"))
}

/// The zone an event of the file lives in: its start's `TZID`, else the calendar's.
fn zone_of(start: &DatePerhapsTime, calendar_zone: Tz) -> Result<Tz, String> {
    match start {
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { tzid, .. }) => iana(tzid),
        _ => Ok(calendar_zone),
    }
}

/// The values of a (possibly comma-separated, possibly repeated) date property.
fn dates_of(event: &icalendar::Event, key: &str) -> Vec<DatePerhapsTime> {
    let Some(properties) = event.multi_properties().get(key) else {
        return Vec::new();
    };
    properties
        .iter()
        .flat_map(|property| {
            property.value().split(',').filter_map(|value| {
                let mut single = Property::new(key, value.trim());
                for (name, parameter) in property.params() {
                    single.add_parameter(name, parameter.value());
                }
                DatePerhapsTime::from_property(&single)
            })
        })
        .collect()
}

/// The duration a `DURATION` or `TRIGGER` value states (RFC 5545 `dur-value`, signed; the
/// icalendar crate reads only unsigned ones).
fn duration_of(value: &str) -> Option<Duration> {
    let value = value.trim();
    let (sign, unsigned) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value.strip_prefix('+').unwrap_or(value)),
    };
    let duration = Duration::from_std(iso8601::duration(unsigned).ok()?.into()).ok()?;
    Some(duration * sign)
}

/// Where an event's reminders count back from, after its start: its start, or 09:00 of an
/// all-day event's day.
fn reminder_offset(all_day: bool) -> Duration {
    if all_day {
        Duration::hours(i64::from(reminder::ALL_DAY_REMINDER_HOUR))
    } else {
        Duration::zero()
    }
}

/// The event's reminders (alarms relative to its start) as minutes before it (see
/// [`reminder_offset`]) that the calendar can keep.
fn reminders_of(event: &icalendar::Event, all_day: bool) -> Vec<i32> {
    let mut minutes: Vec<i32> = event
        .components()
        .iter()
        .filter(|child| child.component_kind() == "VALARM")
        .filter_map(|alarm| {
            let trigger = alarm.properties().get("TRIGGER")?;
            let related = trigger
                .params()
                .get("RELATED")
                .map(|related| related.value());
            if trigger
                .value_type()
                .is_some_and(|kind| kind != ValueType::Duration)
                || related.is_some_and(|related| related.eq_ignore_ascii_case("END"))
            {
                return None;
            }
            let before = reminder_offset(all_day) - duration_of(trigger.value())?;
            i32::try_from(before.num_minutes()).ok()
        })
        .filter(|minutes| (0..=MAX_REMINDER_MINUTES).contains(minutes))
        .collect();
    minutes.sort_unstable();
    minutes.dedup();
    minutes.truncate(MAX_REMINDERS);
    minutes
}

/// The end of an event of the file: `DTEND`, else start + `DURATION`, else a day for a date
/// and an hour for a time.
fn end_of(
    event: &icalendar::Event,
    zone: Tz,
    all_day: bool,
    start: NaiveDateTime,
) -> Result<NaiveDateTime, String> {
    if let Some(end) = event.get_end() {
        let end = in_zone(&end, zone)?;
        return Ok(if all_day {
            end.date().and_time(NaiveTime::MIN)
        } else {
            end
        });
    }
    if let Some(duration) = event.property_value("DURATION").and_then(duration_of) {
        return Ok(start + duration);
    }
    Ok(start
        + if all_day {
            Duration::days(1)
        } else {
            Duration::hours(1)
        })
}

fn series_of(
    event: &icalendar::Event,
    calendar_zone: Tz,
) -> Result<(EventDraft, Checked, Tz), String> {
    let start = event.get_start().ok_or("no DTSTART")?;
    let all_day = matches!(start, DatePerhapsTime::Date(_));
    let zone = zone_of(&start, calendar_zone)?;
    let starts_local = in_zone(&start, zone)?;
    let ends_local = end_of(event, zone, all_day, starts_local)?;
    let title = clipped(event.get_summary().unwrap_or_default(), 100);
    let mut draft = EventDraft {
        pet_id: None,
        title: if title.is_empty() {
            "(제목 없음)".to_owned()
        } else {
            title
        },
        memo: clipped(event.get_description().unwrap_or_default(), 2000),
        all_day,
        starts_local,
        ends_local,
        time_zone: zone.name().to_owned(),
        color: IMPORTED_COLOR.to_owned(),
        rrule: event
            .property_value("RRULE")
            .map(|rule| rule.trim().trim_start_matches("RRULE:").to_owned()),
        exdates: Vec::new(),
        reminders: reminders_of(event, all_day),
    };
    if draft.rrule.is_some() {
        for exdate in dates_of(event, "EXDATE") {
            draft.exdates.push(in_zone(&exdate, zone)?);
        }
        draft.exdates.sort_unstable();
        draft.exdates.dedup();
    }
    let checked = check(&draft).map_err(|error| error.to_string())?;
    Ok((draft, checked, zone))
}

/// Reads an `.ics` file: one [`ImportedEvent`] per UID (its series and edited occurrences;
/// cancelled occurrences become exception dates), and what was left out with the reason.
/// Floating times are in the calendar's `X-WR-TIMEZONE`, else in `default_zone`.
pub fn parse(
    text: &str,
    default_zone: Tz,
) -> Result<(Vec<ImportedEvent>, Vec<Skipped>), ImportError> {
    check_shape(text)?;
    let calendar: Calendar = text.parse().map_err(ImportError::NotICalendar)?;
    if !text.trim_start().starts_with("BEGIN:VCALENDAR") {
        return Err(ImportError::NotICalendar("no VCALENDAR".into()));
    }
    let calendar_zone = calendar
        .property_value("X-WR-TIMEZONE")
        .and_then(|zone| iana(zone).ok())
        .unwrap_or(default_zone);
    // Series and their edited occurrences, by UID, in file order.
    let mut order: Vec<String> = Vec::new();
    let mut by_uid: HashMap<String, (Vec<&icalendar::Event>, Vec<&icalendar::Event>)> =
        HashMap::new();
    let mut skipped = Vec::new();
    for event in calendar.iter().filter_map(|component| component.as_event()) {
        let Some(uid) = event.get_uid().map(|uid| uid.trim().to_owned()) else {
            skipped.push(Skipped {
                uid: None,
                reason: "no UID".into(),
            });
            continue;
        };
        if uid.is_empty() || uid.chars().count() > 255 {
            skipped.push(Skipped {
                uid: None,
                reason: "a UID of 1 to 255 characters is needed".into(),
            });
            continue;
        }
        let entry = by_uid.entry(uid.clone()).or_insert_with(|| {
            order.push(uid.clone());
            (Vec::new(), Vec::new())
        });
        if event.properties().contains_key("RECURRENCE-ID") {
            entry.1.push(event);
        } else {
            entry.0.push(event);
        }
    }
    if order.len() > MAX_IMPORT_EVENTS {
        return Err(ImportError::TooManyEvents);
    }
    let mut imported = Vec::new();
    for uid in order {
        let (series, occurrences) = &by_uid[&uid];
        let skip = |reason: String| Skipped {
            uid: Some(uid.clone()),
            reason,
        };
        let Some(master) = series.first() else {
            skipped.push(skip("edited occurrences without their series".into()));
            continue;
        };
        let (mut draft, checked, zone) = match series_of(master, calendar_zone) {
            Ok(found) => found,
            Err(reason) => {
                skipped.push(skip(reason));
                continue;
            }
        };
        let mut edited = Vec::new();
        for occurrence in occurrences.iter().take(MAX_OVERRIDES as usize) {
            let Some(recurrence) = occurrence.get_recurrence_id() else {
                continue;
            };
            let Ok(recurrence) = in_zone(&recurrence, zone) else {
                continue;
            };
            if draft.rrule.is_none() {
                continue;
            }
            let cancelled = occurrence
                .property_value("STATUS")
                .is_some_and(|status| status.eq_ignore_ascii_case("CANCELLED"));
            if !in_years(recurrence) {
                continue;
            }
            if cancelled {
                draft.exdates.push(recurrence);
                continue;
            }
            let Some(start) = occurrence.get_start() else {
                continue;
            };
            let Ok(starts_local) = in_zone(&start, zone) else {
                continue;
            };
            let Ok(ends_local) = end_of(occurrence, zone, draft.all_day, starts_local) else {
                continue;
            };
            if ends_local <= starts_local || !in_years(starts_local) || !in_years(ends_local) {
                continue;
            }
            let title = clipped(occurrence.get_summary().unwrap_or_default(), 100);
            edited.push(ImportedOccurrence {
                occurrence_date: recurrence.date(),
                title: if title.is_empty() {
                    draft.title.clone()
                } else {
                    title
                },
                memo: clipped(occurrence.get_description().unwrap_or_default(), 2000),
                starts_local,
                ends_local,
            });
        }
        draft.exdates.truncate(366);
        imported.push(ImportedEvent {
            uid,
            draft,
            checked,
            edited,
        });
    }
    Ok((imported, skipped))
}

/// [`parse`] on one of tokio's blocking threads (2 MiB of stack, far more than the bounded
/// depth needs), so that reading a large file never stalls the async workers.
pub async fn parse_blocking(
    text: String,
    default_zone: Tz,
) -> Result<(Vec<ImportedEvent>, Vec<Skipped>), ImportError> {
    tokio::task::spawn_blocking(move || parse(&text, default_zone))
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_york_has_its_2026_changes_and_seoul_one_standard_time() {
        let york = zone_definition(chrono_tz::America::New_York);
        assert!(york.contains("BEGIN:DAYLIGHT\r\n"), "{york}");
        assert!(
            york.contains("RDATE:20260308T020000\r\n"),
            "spring forward at 2:00 EST"
        );
        assert!(
            york.contains("RDATE:20261101T020000\r\n"),
            "fall back at 2:00 EDT"
        );
        assert!(york.contains("TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT"));
        let seoul = zone_definition(chrono_tz::Asia::Seoul);
        assert!(seoul.contains("TZOFFSETTO:+0900\r\nTZNAME:KST"), "{seoul}");
        assert!(
            seoul.lines().all(|line| line.len() <= 75),
            "no line needs folding"
        );
    }

    #[test]
    fn floating_until_becomes_utc_and_all_day_until_a_date() {
        let seoul = chrono_tz::Asia::Seoul;
        assert_eq!(
            feed_rule("FREQ=DAILY;UNTIL=20260310T235959", false, seoul),
            "FREQ=DAILY;UNTIL=20260310T145959Z"
        );
        assert_eq!(
            feed_rule("FREQ=DAILY;UNTIL=20260310T000000Z", true, seoul),
            "FREQ=DAILY;UNTIL=20260310"
        );
        assert_eq!(
            feed_rule("FREQ=WEEKLY;COUNT=3", false, seoul),
            "FREQ=WEEKLY;COUNT=3"
        );
    }

    #[test]
    fn files_from_other_calendars_are_read_with_their_zones_alarms_and_exceptions() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n\
BEGIN:VEVENT\r\nUID:walk@example.com\r\nDTSTAMP:20260101T000000Z\r\n\
DTSTART;TZID=America/New_York:20260306T090000\r\nDURATION:PT45M\r\n\
RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE;TZID=America/New_York:20260307T090000,20260308T090000\r\n\
SUMMARY:Walk\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Walk\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:walk@example.com\r\nDTSTAMP:20260101T000000Z\r\n\
RECURRENCE-ID;TZID=America/New_York:20260309T090000\r\n\
DTSTART;TZID=America/New_York:20260309T100000\r\nDTEND;TZID=America/New_York:20260309T110000\r\n\
SUMMARY:Late walk\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:vet@example.com\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260320T010000Z\r\n\
DTEND:20260320T013000Z\r\nSUMMARY:Vet\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:mars@example.com\r\nDTSTART;TZID=Mars/Olympus:20260320T010000\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:outlook@example.com\r\nDTSTART;TZID=Tokyo Standard Time:20260321T090000\r\n\
DTEND;TZID=Tokyo Standard Time:20260321T100000\r\nSUMMARY:Groomer\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART:20260320T010000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let (events, skipped) = parse(text, chrono_tz::Asia::Seoul).unwrap();
        assert_eq!(events.len(), 3);
        let walk = &events[0];
        assert_eq!(walk.uid, "walk@example.com");
        assert_eq!(walk.draft.time_zone, "America/New_York");
        assert_eq!(
            walk.draft.ends_local - walk.draft.starts_local,
            Duration::minutes(45)
        );
        assert_eq!(walk.draft.exdates.len(), 2);
        assert_eq!(walk.draft.reminders, [15]);
        assert_eq!(walk.edited.len(), 1);
        assert_eq!(walk.edited[0].title, "Late walk");
        assert_eq!(walk.edited[0].occurrence_date.to_string(), "2026-03-09");
        let vet = &events[1];
        assert_eq!(vet.draft.time_zone, "Asia/Seoul");
        assert_eq!(vet.draft.starts_local.to_string(), "2026-03-20 10:00:00");
        // Outlook names zones as Windows does.
        let groomer = &events[2];
        assert_eq!(groomer.draft.time_zone, "Asia/Tokyo");
        assert_eq!(
            groomer.draft.starts_local.to_string(),
            "2026-03-21 09:00:00"
        );
        assert_eq!(skipped.len(), 2);
        assert!(skipped[1].reason.contains("Mars/Olympus"), "{skipped:?}");
        assert_eq!(
            parse("hello", chrono_tz::Asia::Seoul)
                .unwrap_err()
                .to_string()
                .split(':')
                .next(),
            Some("not an iCalendar file")
        );
    }

    #[test]
    fn utc_offsets_are_written_as_rfc_5545_asks() {
        assert_eq!(utc_offset(9 * 3600), "+0900");
        assert_eq!(utc_offset(-5 * 3600), "-0500");
        assert_eq!(utc_offset(5 * 3600 + 1800), "+0530");
        assert_eq!(utc_offset(-(3600 + 61)), "-010101");
    }

    #[test]
    fn deeply_nested_or_endless_files_are_refused_before_parsing() {
        // The hostile file of the report: 30,000 nested components (480 KB).
        let mut bomb = String::from("BEGIN:VCALENDAR\r\n");
        for _ in 0..30_000 {
            bomb.push_str("BEGIN:X\r\n");
        }
        assert_eq!(
            parse(&bomb, chrono_tz::Asia::Seoul),
            Err(ImportError::TooComplex)
        );
        // Disguised: lower case, a folded line.
        let disguised = "BEGIN:VCALENDAR\r\n".to_owned() + &"begin:x\r\nBEG\r\n IN:Y\r\n".repeat(5);
        assert_eq!(
            parse(&disguised, chrono_tz::Asia::Seoul),
            Err(ImportError::TooComplex)
        );
        let endless = "BEGIN:VCALENDAR\r\n".to_owned()
            + &"X-A:b\r\n".repeat(MAX_IMPORT_LINES)
            + "END:VCALENDAR\r\n";
        assert_eq!(
            parse(&endless, chrono_tz::Asia::Seoul),
            Err(ImportError::TooComplex)
        );
        // An ordinary file nests three deep and is read.
        let ordinary = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260320T010000Z\r\n\
BEGIN:VALARM\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(parse(ordinary, chrono_tz::Asia::Seoul).unwrap().0.len(), 1);
    }
}

//! Checking an event's rule and expanding it into occurrences within a window.

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Tz as RuleTz, Unvalidated};

use super::event::{CalendarEvent, CalendarEventId, Checked, EventDetail, EventDraft, Override};
use super::{
    CalendarError, FIRST_YEAR, LAST_YEAR, MAX_COUNT, MAX_RANGE_DAYS, MAX_REMINDER_MINUTES,
    MAX_REMINDERS, invalid,
};

/// One occurrence of an event, in the event's zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub event_id: CalendarEventId,
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
pub(super) struct Series {
    pub(super) zone: Tz,
    pub(super) first: DateTime<RuleTz>,
    pub(super) length: Duration,
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
pub(super) fn local(
    zone: RuleTz,
    at: NaiveDateTime,
    field: &'static str,
) -> Result<DateTime<RuleTz>, CalendarError> {
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
    pub(super) fn of(draft: &EventDraft, checked: Checked) -> Result<Self, CalendarError> {
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
    ) -> Result<Self, CalendarError> {
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
pub fn check(draft: &EventDraft) -> Result<Checked, CalendarError> {
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

/// A range `[from, to)` that occurrences are listed for: at most [`MAX_RANGE_DAYS`] long, in
/// the years events use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, CalendarError> {
        if to <= from || to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(CalendarError::RangeTooLong);
        }
        if !in_years(from.naive_utc()) || !in_years(to.naive_utc()) {
            return Err(CalendarError::OutOfYears);
        }
        Ok(Self { from, to })
    }

    /// Every occurrence of `events` that overlaps the window, in start order, expanded on one
    /// of tokio's blocking threads (rule expansion is CPU work the async workers must not do).
    pub async fn occurrences(
        self,
        events: Vec<EventDetail>,
    ) -> Result<Vec<Occurrence>, CalendarError> {
        tokio::task::spawn_blocking(move || self.expand(&events))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }

    fn expand(self, events: &[EventDetail]) -> Result<Vec<Occurrence>, CalendarError> {
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
    event: &CalendarEvent,
    overrides: &[Override],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Occurrence>, CalendarError> {
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
    use crate::types::UserId;

    fn at(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    fn instant(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn event(zone: &str, start: &str, end: &str, rule: Option<&str>) -> CalendarEvent {
        let local = |text: &str| {
            if text.contains('T') {
                at(text)
            } else {
                at(&format!("{text}T00:00:00"))
            }
        };
        CalendarEvent {
            id: CalendarEventId(1),
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
            Err(CalendarError::Invalid { code, .. }) => code,
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
            &CalendarEvent {
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
    fn walked(event: &CalendarEvent, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
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
                Err(CalendarError::Invalid { code, .. }) => code,
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
            Err(CalendarError::OutOfYears)
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

//! "A day" in Petory is a calendar day in the business time zone (Asia/Seoul by default):
//! the daily album and question, billing dates and the midnight jobs all count days here.

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
pub use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessCalendar {
    zone: Tz,
}

impl BusinessCalendar {
    pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Seoul;

    pub fn new(zone: Tz) -> Self {
        Self { zone }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The business day that contains `instant`.
    pub fn day_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.zone).date_naive()
    }

    /// The first instant of a business day, in UTC. Days that start inside a DST gap begin at
    /// the first instant that exists.
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        let local = self.zone.from_local_datetime(&midnight);
        local
            .earliest()
            .or_else(|| {
                // A gap: midnight does not exist; the day starts when clocks jump forward.
                self.zone
                    .from_local_datetime(&(midnight + chrono::TimeDelta::hours(1)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |start| start.with_timezone(&Utc))
    }
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        Self::new(Self::DEFAULT_ZONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seoul_day_starts_at_15_utc_the_day_before() {
        let calendar = BusinessCalendar::default();
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(
            calendar.start_of(day).to_rfc3339(),
            "2026-11-22T15:00:00+00:00"
        );
    }

    #[test]
    fn instant_just_before_seoul_midnight_is_still_the_previous_day() {
        let calendar = BusinessCalendar::default();
        let late = "2026-11-22T14:59:59Z".parse::<DateTime<Utc>>().unwrap();
        let midnight = "2026-11-22T15:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            calendar.day_of(late),
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        );
        assert_eq!(
            calendar.day_of(midnight),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
    }

    #[test]
    fn other_zones_are_respected() {
        let calendar = BusinessCalendar::new(chrono_tz::America::New_York);
        let instant = "2026-07-01T03:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            calendar.day_of(instant),
            NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
        );
    }
}

//! Pets' D-days: birthdays, adoption anniversaries and days-together milestones ("D+1000"),
//! counted in business days. A pure rule over a pet's dates and today, so that the list and the
//! reminder job agree.

use chrono::{Datelike as _, Months, NaiveDate};

use crate::community::pet::{Pet, PetId};

crate::text_enum! {
    pub enum DDayKind {
        /// The pet turns `number` years old.
        Birthday = "BIRTHDAY",
        /// `number` years since the pet came home.
        Adoption = "ADOPTION",
        /// `number` days since the pet came home (every 100 days).
        DaysTogether = "DAYS_TOGETHER",
    }
}

/// Days-together milestones come every this many days.
pub const MILESTONE_DAYS: i64 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DDay {
    pub pet_id: PetId,
    pub pet_name: String,
    pub kind: DDayKind,
    pub date: NaiveDate,
    /// 0 on the day itself.
    pub days_until: i64,
    /// Years (birthday, adoption) or days (days together).
    pub number: i64,
}

/// The `years`th anniversary of `day`; 29 February falls on the 28th in other years.
fn anniversary(day: NaiveDate, years: u32) -> Option<NaiveDate> {
    day.checked_add_months(Months::new(years.checked_mul(12)?))
}

/// The first anniversary of `day` on or after `today` (never `day` itself), with its number.
fn next_anniversary(day: NaiveDate, today: NaiveDate) -> Option<(NaiveDate, i64)> {
    let years = u32::try_from(today.year() - day.year()).ok()?;
    let this_year = anniversary(day, years)?;
    // Before today, or the day itself (year 0): the next one.
    let (date, years) = if this_year >= today && years > 0 {
        (this_year, years)
    } else {
        (anniversary(day, years + 1)?, years + 1)
    };
    Some((date, i64::from(years)))
}

/// The next days-together milestone on or after `today` (day 0 is not one).
fn next_milestone(home: NaiveDate, today: NaiveDate) -> Option<(NaiveDate, i64)> {
    let together = (today - home).num_days();
    if together < 0 {
        return None;
    }
    let next = (together + MILESTONE_DAYS - 1) / MILESTONE_DAYS * MILESTONE_DAYS;
    let next = next.max(MILESTONE_DAYS);
    Some((home + chrono::Days::new(u64::try_from(next).ok()?), next))
}

/// The D-days of `pets` from `today` to `within_days` later, soonest first (then by pet).
/// Days together count from the adoption day, or the birthday when there is none.
pub fn upcoming(pets: &[Pet], today: NaiveDate, within_days: i64) -> Vec<DDay> {
    let mut found = Vec::new();
    for pet in pets {
        let mut push = |kind, found_date: Option<(NaiveDate, i64)>| {
            if let Some((date, number)) = found_date {
                let days_until = (date - today).num_days();
                if (0..=within_days).contains(&days_until) {
                    found.push(DDay {
                        pet_id: pet.id,
                        pet_name: pet.name.clone(),
                        kind,
                        date,
                        days_until,
                        number,
                    });
                }
            }
        };
        if let Some(birthday) = pet.birthday {
            push(DDayKind::Birthday, next_anniversary(birthday, today));
        }
        if let Some(adopted) = pet.adopted_on {
            push(DDayKind::Adoption, next_anniversary(adopted, today));
        }
        if let Some(home) = pet.adopted_on.or(pet.birthday) {
            push(DDayKind::DaysTogether, next_milestone(home, today));
        }
    }
    found.sort_by_key(|dday| (dday.date, dday.pet_id, dday.kind.as_str()));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn anniversaries_come_on_or_after_today_and_leap_days_fall_on_the_28th() {
        let today = date("2026-11-23");
        assert_eq!(
            next_anniversary(date("2020-11-23"), today),
            Some((today, 6))
        );
        assert_eq!(
            next_anniversary(date("2020-11-22"), today),
            Some((date("2027-11-22"), 7))
        );
        assert_eq!(
            next_anniversary(date("2024-02-29"), today),
            Some((date("2027-02-28"), 3))
        );
        assert_eq!(
            next_anniversary(date("2026-11-23"), today),
            Some((date("2027-11-23"), 1)),
            "the day itself is not an anniversary"
        );
        assert_eq!(next_anniversary(date("2027-01-01"), today), None);
    }

    #[test]
    fn days_together_come_every_hundred_days() {
        let home = date("2024-02-27");
        // 2026-11-23 is day 1,000.
        assert_eq!(
            next_milestone(home, date("2026-11-23")),
            Some((date("2026-11-23"), 1000))
        );
        assert_eq!(
            next_milestone(home, date("2026-11-24")),
            Some((date("2027-03-03"), 1100))
        );
        assert_eq!(
            next_milestone(date("2026-11-23"), date("2026-11-23")),
            Some((date("2027-03-03"), 100))
        );
        assert_eq!(next_milestone(date("2026-12-01"), date("2026-11-23")), None);
    }
}

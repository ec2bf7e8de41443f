//! Keyword search over community text that finds Korean substrings ("산책" finds "산책로"):
//! a GIN index over each text's one- and two-letter pieces (`search_grams`, see the owner
//! board's migration) narrows the rows, and each word is then checked to really occur.

use diesel::BoxableExpression;
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::sql_types::{Array, Bool, Text};

use crate::db::contains_pattern;

/// A parsed keyword query: at most [`MAX_WORDS`] words of letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    text: String,
    words: Vec<String>,
}

pub const MAX_WORDS: usize = 5;

/// Newest-first searches check this many of the newest rows word by word before asking the
/// index: common words fill a page among them at once, while the index (whose estimates of
/// Korean pieces are poor) is left the rarer words, whose few rows it fetches cheaply.
pub const PROBE_ROWS: i64 = 2000;

/// How a query narrows rows by a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// Each word is checked in each row: for a bounded window of rows.
    Words,
    /// The GIN index narrows the rows first, then each word is checked.
    Indexed,
}

impl Search {
    /// `None` when the query has no letter or digit to look for.
    pub fn parse(query: &str) -> Option<Self> {
        let words: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .take(MAX_WORDS)
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return None;
        }
        Some(Self {
            text: words.join(" "),
            words,
        })
    }

    /// The words, as `search_query` reads them.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// One `ILIKE` pattern per word.
    pub fn patterns(&self) -> impl Iterator<Item = String> + '_ {
        self.words.iter().map(|word| contains_pattern(word))
    }

    /// Whether `text` (an SQL expression of the queried table, written in code, never taken
    /// from input) holds every word; for [`Matching::Indexed`] the GIN index over
    /// `search_grams(text)` narrows the rows first, so `text` must be the index's expression.
    pub fn condition<QS: 'static>(
        &self,
        text: &str,
        matching: Matching,
    ) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
        let patterns: Vec<String> = self.patterns().collect();
        match matching {
            Matching::Words => Box::new(
                sql::<Bool>(&format!("({text}) ILIKE ALL ("))
                    .bind::<Array<Text>, _>(patterns)
                    .sql(")"),
            ),
            Matching::Indexed => Box::new(
                sql::<Bool>(&format!("search_grams({text}) @@ search_query("))
                    .bind::<Text, _>(self.text.clone())
                    .sql(&format!(") AND ({text}) ILIKE ALL ("))
                    .bind::<Array<Text>, _>(patterns)
                    .sql(")"),
            ),
        }
    }
}

/// Where a page of rows comes from, newest first: below `before`, from `from` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window<Id> {
    pub before: Option<Id>,
    pub from: Option<Id>,
}

/// A part of a newest-first page of matches: how to match, where, and how many rows at most.
pub type Part<Id> = (Matching, Window<Id>, i64);

/// How a newest-first page of rows matching a search is read: the newest [`PROBE_ROWS`] rows
/// below the cursor word by word (`floor` is the oldest of them, if there are that many),
/// then, only for what they leave unfilled, the older rows through the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe<Id> {
    pub before: Option<Id>,
    pub floor: Option<Id>,
    pub limit: i64,
}

impl<Id: Copy> Probe<Id> {
    pub fn recent(&self) -> Part<Id> {
        let window = Window {
            before: self.before,
            from: self.floor,
        };
        (Matching::Words, window, self.limit)
    }

    /// What is left to read once the recent rows gave `found`.
    pub fn older(&self, found: usize) -> Option<Part<Id>> {
        let missing = self.limit - i64::try_from(found).unwrap_or(self.limit);
        let floor = self.floor.filter(|_| missing > 0)?;
        let window = Window {
            before: Some(floor),
            from: None,
        };
        Some((Matching::Indexed, window, missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_reads_only_what_the_newest_rows_leave_unfilled() {
        let probe = Probe {
            before: Some(9000),
            floor: Some(7000),
            limit: 20,
        };
        let recent = Window {
            before: Some(9000),
            from: Some(7000),
        };
        assert_eq!(probe.recent(), (Matching::Words, recent, 20));
        let older = Window {
            before: Some(7000),
            from: None,
        };
        assert_eq!(probe.older(5), Some((Matching::Indexed, older, 15)));
        assert_eq!(probe.older(20), None);
        // Fewer rows than the probe: the recent part was all of them.
        let all = Probe {
            floor: None,
            ..probe
        };
        assert_eq!(all.older(0), None);
    }

    #[test]
    fn queries_are_words_of_letters_and_digits() {
        let search = Search::parse("  산책로, Bori!! 2026 ").unwrap();
        assert_eq!(search.text(), "산책로 bori 2026");
        assert_eq!(search.patterns().count(), 3);
        assert_eq!(Search::parse("%_ !!"), None);
        assert_eq!(
            Search::parse("a b c d e f g").unwrap().patterns().count(),
            MAX_WORDS
        );
    }
}

//! Keyword search over community text that finds Korean substrings ("산책" finds "산책로"):
//! a GIN index over each text's one- and two-letter pieces (`search_grams`, see the owner
//! board's migration) narrows the rows, and each word is then checked to really occur.

use std::future::Future;

use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Text};

use crate::db::contains_pattern;

/// A parsed keyword query: at most [`MAX_WORDS`] words of letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    text: String,
    words: Vec<String>,
}

pub const MAX_WORDS: usize = 5;

/// Newest-first searches check this many of the newest rows word by word first: common words
/// fill a page among them at once.
pub const PROBE_ROWS: i64 = 400;

/// A word found in the probe often enough to fill the page within this many more rows (at the
/// probe's rate) is of middling frequency: those rows are checked word by word before the
/// index is asked for the rest. A rarer word goes to the index at once, which fetches its few
/// rows cheaply (its estimates of Korean pieces are too poor to choose by).
pub const WIDE_PROBE_ROWS: i64 = 4000;

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
    pub fn condition(&self, text: &'static str, matching: Matching) -> SearchCondition {
        // Words without case (Korean, digits) are matched by `LIKE`, a byte comparison about
        // three times cheaper than `ILIKE`, which lowers every row's text first.
        let (cased, caseless) = self
            .words
            .iter()
            .partition(|word| word.to_uppercase() != **word);
        let patterns = |words: Vec<&String>| {
            words
                .into_iter()
                .map(|word| contains_pattern(word))
                .collect()
        };
        SearchCondition {
            text,
            matching,
            words: self.text.clone(),
            caseless: patterns(caseless),
            cased: patterns(cased),
        }
    }
}

/// The SQL condition of [`Search::condition`]. Unlike an `sql()` fragment it leaves a word by
/// word query cacheable, so that a connection prepares it once.
#[derive(Debug, Clone)]
pub struct SearchCondition {
    text: &'static str,
    matching: Matching,
    words: String,
    caseless: Vec<String>,
    cased: Vec<String>,
}

impl Expression for SearchCondition {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for SearchCondition {}

impl<QS> SelectableExpression<QS> for SearchCondition {}

impl<GroupBy> ValidGrouping<GroupBy> for SearchCondition {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for SearchCondition {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for SearchCondition {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql("(");
        if self.matching == Matching::Indexed {
            // Planned for each query's own words: whether the index or the newest-first walk
            // is cheaper depends on them, and a generic plan could walk every row.
            out.unsafe_to_cache_prepared();
            out.push_sql("search_grams(");
            out.push_sql(self.text);
            out.push_sql(") @@ search_query(");
            out.push_bind_param::<Text, _>(&self.words)?;
            out.push_sql(") AND ");
        }
        out.push_sql("(");
        out.push_sql(self.text);
        out.push_sql(") LIKE ALL (");
        out.push_bind_param::<Array<Text>, _>(&self.caseless)?;
        out.push_sql(") AND (");
        out.push_sql(self.text);
        out.push_sql(") ILIKE ALL (");
        out.push_bind_param::<Array<Text>, _>(&self.cased)?;
        out.push_sql("))");
        Ok(())
    }
}

/// A newest-first list that a search reads through [`newest_matches`].
pub(crate) trait NewestRows {
    type Id: Copy;
    type Row;
    type Error;

    /// Up to `limit` matching rows below `before`, newest first; with `within`, only among the
    /// newest `within` rows below `before` (matching or not), a bound found in the same query.
    fn read(
        &mut self,
        matching: Matching,
        before: Option<Self::Id>,
        within: Option<i64>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self::Row>, Self::Error>>;
}

/// A newest-first page of up to `limit` matches below `before`: the newest [`PROBE_ROWS`] rows
/// word by word; for a word found there often enough, the newest [`WIDE_PROBE_ROWS`] more as
/// well; otherwise, or if still short, the index. Each read gives the whole page it can, so a
/// common word costs one query and a rare one two.
pub(crate) async fn newest_matches<R: NewestRows>(
    rows: &mut R,
    before: Option<R::Id>,
    limit: i64,
) -> Result<Vec<R::Row>, R::Error> {
    let count = |page: &Vec<R::Row>| i64::try_from(page.len()).unwrap_or(limit);
    let page = rows
        .read(Matching::Words, before, Some(PROBE_ROWS), limit)
        .await?;
    let found = count(&page);
    if found >= limit {
        return Ok(page);
    }
    if found * WIDE_PROBE_ROWS >= (limit - found) * PROBE_ROWS {
        let within = PROBE_ROWS + WIDE_PROBE_ROWS;
        let page = rows
            .read(Matching::Words, before, Some(within), limit)
            .await?;
        if count(&page) >= limit {
            return Ok(page);
        }
    }
    rows.read(Matching::Indexed, before, None, limit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `1..=count`, newest first, of which `matching` match; what was read is recorded.
    struct Rows {
        count: i64,
        matching: Vec<i64>,
        reads: Vec<(Matching, Option<i64>)>,
    }

    impl Rows {
        fn new(count: i64, matches: impl Fn(i64) -> bool) -> Self {
            let matching = (1..=count).rev().filter(|id| matches(*id)).collect();
            Self {
                count,
                matching,
                reads: Vec::new(),
            }
        }

        fn page(&mut self, before: Option<i64>, limit: i64) -> Vec<i64> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let Ok(page) = rt.block_on(newest_matches(self, before, limit));
            page
        }

        fn expected(&self, before: Option<i64>, limit: usize) -> Vec<i64> {
            let below = |id: &&i64| before.is_none_or(|before| **id < before);
            self.matching
                .iter()
                .filter(below)
                .take(limit)
                .copied()
                .collect()
        }
    }

    impl NewestRows for Rows {
        type Id = i64;
        type Row = i64;
        type Error = std::convert::Infallible;

        async fn read(
            &mut self,
            matching: Matching,
            before: Option<i64>,
            within: Option<i64>,
            limit: i64,
        ) -> Result<Vec<i64>, Self::Error> {
            self.reads.push((matching, within));
            let top = before.map_or(self.count, |before| before - 1);
            let floor = within.map_or(1, |within| top - within + 1);
            let inside = |id: &&i64| **id <= top && **id >= floor;
            let limit = usize::try_from(limit).unwrap();
            Ok(self
                .matching
                .iter()
                .filter(inside)
                .take(limit)
                .copied()
                .collect())
        }
    }

    const PROBE: (Matching, Option<i64>) = (Matching::Words, Some(PROBE_ROWS));
    const WIDE: (Matching, Option<i64>) = (Matching::Words, Some(PROBE_ROWS + WIDE_PROBE_ROWS));
    const INDEX: (Matching, Option<i64>) = (Matching::Indexed, None);

    #[test]
    fn a_common_word_is_found_among_the_newest_rows_in_one_read() {
        let mut rows = Rows::new(100_000, |id| id % 5 == 0);
        assert_eq!(rows.page(None, 20), rows.expected(None, 20));
        assert_eq!(rows.reads, [PROBE]);
    }

    #[test]
    fn a_rare_word_goes_to_the_index_after_the_probe() {
        let mut rows = Rows::new(100_000, |id| id % 10_000 == 0);
        assert_eq!(rows.page(Some(90_000), 20), rows.expected(Some(90_000), 20));
        assert_eq!(rows.reads, [PROBE, INDEX]);
        // Found once among the newest rows, by chance: the page would not fill in the wide
        // window at that rate, so it is still rare.
        let mut rows = Rows::new(100_000, |id| id % 10_000 == 0);
        assert_eq!(rows.page(None, 20), rows.expected(None, 20));
        assert_eq!(rows.reads, [PROBE, INDEX]);
    }

    #[test]
    fn a_middling_word_is_read_word_by_word_a_while_longer() {
        // One row in 100: a few in the probe, the page in the wide window.
        let mut rows = Rows::new(100_000, |id| id % 100 == 0);
        assert_eq!(rows.page(None, 20), rows.expected(None, 20));
        assert_eq!(rows.reads, [PROBE, WIDE]);
        // Rarer below the probe: the wide window falls short, the index gives the page.
        let mut rows = Rows::new(100_000, |id| {
            if id > 99_600 {
                id % 200 == 0
            } else {
                id % 2_000 == 0
            }
        });
        assert_eq!(rows.page(None, 20), rows.expected(None, 20));
        assert_eq!(rows.reads, [PROBE, WIDE, INDEX]);
    }

    #[test]
    fn fewer_rows_than_a_window_give_every_match_once() {
        let mut rows = Rows::new(300, |id| id % 100 == 0);
        assert_eq!(rows.page(None, 20), [300, 200, 100]);
        let mut rows = Rows::new(2_000, |id| id % 150 == 0);
        assert_eq!(rows.page(Some(1_000), 5), rows.expected(Some(1_000), 5));
    }

    #[test]
    fn queries_are_words_of_letters_and_digits() {
        let search = Search::parse("  산책로, Bori!! 2026 ").unwrap();
        assert_eq!(search.text(), "산책로 bori 2026");
        assert_eq!(search.patterns().count(), 3);
        // Words with case are matched by ILIKE, the rest by LIKE.
        let condition = search.condition("t", Matching::Words);
        assert_eq!(condition.caseless, ["%산책로%", "%2026%"]);
        assert_eq!(condition.cased, ["%bori%"]);
        assert_eq!(Search::parse("%_ !!"), None);
        assert_eq!(
            Search::parse("a b c d e f g").unwrap().patterns().count(),
            MAX_WORDS
        );
    }
}

//! Keyword search over community text that finds Korean substrings ("산책" finds "산책로"):
//! a GIN index over each text's one- and two-letter pieces (`search_grams`, see the owner
//! board's migration) narrows the rows, and each word is then checked to really occur.

use crate::db::contains_pattern;

/// A parsed keyword query: at most [`MAX_WORDS`] words of letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    text: String,
    words: Vec<String>,
}

pub const MAX_WORDS: usize = 5;

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
}

#[cfg(test)]
mod tests {
    use super::*;

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

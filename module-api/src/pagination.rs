//! Keyset pagination: `?cursor=&limit=` in, `{items, next_cursor}` out.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// A page size, 1 to [`MAX_LIMIT`]: anything else (0, 101, -1, text) is refused while the
/// query string is read, as a 400 `INVALID_QUERY`, never silently capped. Its schema carries
/// the same bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Limit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a page size from 1 to {MAX_LIMIT}")
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Limit, E> {
                u32::try_from(value)
                    .ok()
                    .filter(|value| (1..=MAX_LIMIT).contains(value))
                    .map(Limit)
                    .ok_or_else(|| E::custom(format!("limit must be 1 to {MAX_LIMIT}")))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Limit, E> {
                self.visit_u64(u64::try_from(value).unwrap_or(0))
            }
            // Query strings give text.
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Limit, E> {
                match value.parse::<i64>() {
                    Ok(number) => self.visit_i64(number),
                    Err(_) => Err(E::custom(format!("limit must be 1 to {MAX_LIMIT}"))),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl utoipa::PartialSchema for Limit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT))
            .default(Some(DEFAULT_LIMIT.into()))
            .description(Some("Page size, 1 to 100 (default 20)."))
            .into()
    }
}

impl ToSchema for Limit {}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page; empty or absent for the first page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<Limit>,
}

impl PageQuery {
    pub fn limit(&self) -> i64 {
        i64::from(self.limit.map_or(DEFAULT_LIMIT, Limit::get))
    }

    /// How many rows to load: one more than a page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit() + 1
    }

    /// The cursor, `None` for the first page (`cursor=` counts as none).
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|cursor| !cursor.is_empty())
    }

    /// The cursor read by `parse`, or 400 `INVALID_CURSOR` when it cannot read it.
    pub fn parsed_cursor<T>(
        &self,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        self.cursor()
            .map(|cursor| parse(cursor).ok_or_else(ApiError::invalid_cursor))
            .transpose()
    }

    /// The id-based cursor, or 400 `INVALID_CURSOR`.
    pub fn before_id<Id: From<i64>>(&self) -> Result<Option<Id>, ApiError> {
        self.parsed_cursor(|cursor| {
            cursor
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(Id::from)
        })
    }
}

/// The latest instant a cursor may name (the end of year 9999), within PostgreSQL's range.
const MAX_CURSOR_MICROS: i64 = 253_402_300_799_999_999;

/// An instant written in a cursor as microseconds since the epoch, if it is one PostgreSQL
/// can compare with (1970 to 9999).
pub fn cursor_instant(micros: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let micros: i64 = micros.parse().ok()?;
    if !(0..=MAX_CURSOR_MICROS).contains(&micros) {
        return None;
    }
    chrono::DateTime::from_timestamp_micros(micros)
}

/// A cursor for rows ordered by an instant, ties by id: `<microseconds>_<id>`.
pub fn instant_id_cursor(at: chrono::DateTime<chrono::Utc>, id: impl Into<i64>) -> String {
    format!("{}_{}", at.timestamp_micros(), id.into())
}

/// The instant and id of an [`instant_id_cursor`], if it is one.
pub fn parse_instant_id_cursor<Id: From<i64>>(
    cursor: &str,
) -> Option<(chrono::DateTime<chrono::Utc>, Id)> {
    let (micros, id) = cursor.split_once('_')?;
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    Some((cursor_instant(micros)?, Id::from(id)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from rows loaded with [`PageQuery::fetch_limit`]: the extra row, if any, only
    /// says that another page follows, whose cursor `cursor` makes from the last item kept.
    pub fn new(mut items: Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more { items.last().map(cursor) } else { None };
        Self { items, next_cursor }
    }

    /// A page of rows ordered by descending id.
    pub fn by_id<Id: Into<i64>>(items: Vec<T>, limit: i64, id: impl Fn(&T) -> Id) -> Self {
        Self::new(items, limit, |item| id(item).into().to_string())
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

impl<T> Page<T> {
    /// Every item at once, for lists that are short by nature (a user's addresses, the
    /// categories): the same shape as the paged lists, with no next page.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(query: &str) -> Result<Option<Limit>, String> {
        serde_urlencoded::from_str::<PageQuery>(query)
            .map(|page| page.limit)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn limits_outside_1_to_100_are_refused_not_capped() {
        assert_eq!(limit("limit=1"), Ok(Some(Limit(1))));
        assert_eq!(limit("limit=100"), Ok(Some(Limit(100))));
        assert_eq!(limit(""), Ok(None));
        for bad in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=abc",
            "limit=99999999999999999999",
        ] {
            assert!(limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_cursor_is_the_first_page() {
        let page: PageQuery = serde_urlencoded::from_str("cursor=").unwrap();
        assert_eq!(page.before_id::<i64>().unwrap(), None);
        let page: PageQuery = serde_urlencoded::from_str("cursor=x").unwrap();
        assert!(page.before_id::<i64>().is_err());
    }
}

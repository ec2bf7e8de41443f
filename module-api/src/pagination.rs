//! Keyset pagination: `?cursor=&limit=` in, `{items, next_cursor}` out.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20; larger values are capped).
    pub limit: Option<u32>,
}

impl PageQuery {
    pub fn limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
    }

    /// How many rows to load: one more than a page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit() + 1
    }

    /// The id-based cursor, or 400 `INVALID_CURSOR`.
    pub fn before_id(&self) -> Result<Option<i64>, ApiError> {
        self.cursor
            .as_deref()
            .map(|cursor| {
                cursor
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "INVALID_CURSOR",
                            "the cursor is not one this API returned",
                        )
                    })
            })
            .transpose()
    }
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
    pub fn by_id(items: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> Self {
        Self::new(items, limit, |item| id(item).to_string())
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

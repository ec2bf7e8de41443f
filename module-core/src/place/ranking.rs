//! The "popular places" ranking: served from the [`PlaceRanking`] port (Redis), answered from
//! PostgreSQL in the same order when the port cannot (by index: the kept like counts, and the
//! week's counts the job keeps), and rebuilt from PostgreSQL by a job. The port is the
//! ranking's own, declared here.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Place, PlaceCategory, PlaceError, PlaceId};
use crate::schema::{place_likes, place_week_likes, places};

/// Which ranking: all likes, or the likes of the last seven days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RankingPeriod {
    AllTime,
    Week,
}

#[derive(Debug, thiserror::Error)]
#[error("place ranking unavailable: {0}")]
pub struct RankingError(pub String);

/// The most-liked places, kept outside the database (a Redis sorted set in production) so that
/// the ranking costs no query; the database stays the truth it is rebuilt from.
#[async_trait]
pub trait PlaceRanking: Send + Sync + 'static {
    /// A like (`+1`) or an unlike (`-1`) of a place, for the all-time ranking.
    async fn record(
        &self,
        place: PlaceId,
        category: PlaceCategory,
        delta: i64,
    ) -> Result<(), RankingError>;

    /// The top `limit` places and their scores, best first; `None` when the ranking is not
    /// there (never built, or lost with Redis's data).
    async fn top(
        &self,
        period: RankingPeriod,
        category: Option<PlaceCategory>,
        limit: usize,
    ) -> Result<Option<Vec<(PlaceId, i64)>>, RankingError>;

    /// Replaces a period's ranking with these scores, at once for readers.
    async fn replace(
        &self,
        period: RankingPeriod,
        scores: &[(PlaceId, PlaceCategory, i64)],
    ) -> Result<(), RankingError>;
}

/// The weekly ranking counts likes of this many days.
pub const WEEK_DAYS: i64 = 7;

/// A ranked place.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub rank: usize,
    pub place: Place,
    /// Its likes (in the period).
    pub likes: i64,
}

/// Where a ranking was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Store,
    Database,
}

/// The top `limit` visible places of a period, best first, from the ranking store, or from
/// the database when the store is down or has no ranking.
pub async fn top(
    conn: &mut AsyncPgConnection,
    ranking: &dyn PlaceRanking,
    period: RankingPeriod,
    category: Option<PlaceCategory>,
    limit: usize,
) -> Result<(Vec<Ranked>, Source), PlaceError> {
    // A few more than asked: places taken down since are skipped.
    let stored = match ranking.top(period, category, limit + limit / 2 + 5).await {
        Ok(stored) => stored,
        Err(error) => {
            tracing::warn!(%error, "place ranking store unavailable; ranking from the database");
            None
        }
    };
    let (scores, source) = match stored {
        Some(scores) => (scores, Source::Store),
        None => (
            scores(conn, period, category, limit).await?,
            Source::Database,
        ),
    };
    let ids: Vec<PlaceId> = scores.iter().map(|(id, _)| *id).collect();
    let found: Vec<Place> = places::table
        .filter(places::id.eq_any(&ids))
        .filter(places::deleted_at.is_null())
        .filter(places::hidden_at.is_null())
        .select(Place::as_select())
        .load(conn)
        .await?;
    let ranked = scores
        .into_iter()
        .filter_map(|(id, likes)| {
            let place = found.iter().find(|place| place.id == id)?.clone();
            Some((place, likes))
        })
        .take(limit)
        .enumerate()
        .map(|(at, (place, likes))| Ranked {
            rank: at + 1,
            place,
            likes,
        })
        .collect();
    Ok((ranked, source))
}

/// The ranking as the database has it: visible places by their likes (of the period), then the
/// newer first (as the store orders ties), `limit` of them.
async fn scores(
    conn: &mut AsyncPgConnection,
    period: RankingPeriod,
    category: Option<PlaceCategory>,
    limit: usize,
) -> Result<Vec<(PlaceId, i64)>, PlaceError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match period {
        RankingPeriod::AllTime => {
            let mut query = places::table
                .filter(places::deleted_at.is_null())
                .filter(places::hidden_at.is_null())
                .filter(places::like_count.gt(0))
                .select((places::id, places::like_count))
                .into_boxed();
            if let Some(category) = category {
                query = query.filter(places::category.eq(category));
            }
            let rows: Vec<(PlaceId, i32)> = query
                .order((places::like_count.desc(), places::id.desc()))
                .limit(limit)
                .load(conn)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(id, likes)| (id, i64::from(likes)))
                .collect())
        }
        // As of the last rebuild (see [`rebuild`]), as the weekly ranking in the store is.
        RankingPeriod::Week => {
            let mut query = place_week_likes::table
                .inner_join(places::table)
                .filter(places::deleted_at.is_null())
                .filter(places::hidden_at.is_null())
                .select((places::id, place_week_likes::likes))
                .into_boxed();
            if let Some(category) = category {
                query = query.filter(places::category.eq(category));
            }
            let rows: Vec<(PlaceId, i32)> = query
                .order((
                    place_week_likes::likes.desc(),
                    place_week_likes::place_id.desc(),
                ))
                .limit(limit)
                .load(conn)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(id, likes)| (id, i64::from(likes)))
                .collect())
        }
    }
}

/// Rebuilds the rankings when the store has lost them (or never had them): what an API instance
/// does as it starts. Whether it rebuilt.
pub async fn rebuild_if_missing(
    conn: &mut AsyncPgConnection,
    ranking: &dyn PlaceRanking,
    now: DateTime<Utc>,
) -> Result<bool, PlaceError> {
    for period in [RankingPeriod::AllTime, RankingPeriod::Week] {
        let present = ranking
            .top(period, None, 1)
            .await
            .map_err(|error| PlaceError::Unavailable(error.to_string()))?;
        if present.is_none() {
            rebuild(conn, ranking, now).await?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Rebuilds both rankings in the store from the database, and the week's like counts the
/// database answers the weekly ranking with while the store cannot (first, so that they are
/// fresh even when the store is away); returns how many places each ranking holds.
pub async fn rebuild(
    conn: &mut AsyncPgConnection,
    ranking: &dyn PlaceRanking,
    now: DateTime<Utc>,
) -> Result<(usize, usize), PlaceError> {
    diesel::sql_query(include_str!("refresh_week_likes.sql"))
        .bind::<diesel::sql_types::Timestamptz, _>(now - TimeDelta::days(WEEK_DAYS))
        .execute(conn)
        .await?;
    let mut sizes = (0, 0);
    for period in [RankingPeriod::AllTime, RankingPeriod::Week] {
        let scores = all_scores(conn, period, now).await?;
        ranking
            .replace(period, &scores)
            .await
            .map_err(|error| PlaceError::Unavailable(error.to_string()))?;
        match period {
            RankingPeriod::AllTime => sizes.0 = scores.len(),
            RankingPeriod::Week => sizes.1 = scores.len(),
        }
    }
    Ok(sizes)
}

/// Every visible place with likes (in the period), with its category: set-based, one query.
async fn all_scores(
    conn: &mut AsyncPgConnection,
    period: RankingPeriod,
    now: DateTime<Utc>,
) -> Result<Vec<(PlaceId, PlaceCategory, i64)>, PlaceError> {
    match period {
        RankingPeriod::AllTime => {
            let rows: Vec<(PlaceId, PlaceCategory, i32)> = places::table
                .filter(places::deleted_at.is_null())
                .filter(places::hidden_at.is_null())
                .filter(places::like_count.gt(0))
                .select((places::id, places::category, places::like_count))
                .load(conn)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(id, category, likes)| (id, category, i64::from(likes)))
                .collect())
        }
        RankingPeriod::Week => {
            let since = now - TimeDelta::days(WEEK_DAYS);
            Ok(place_likes::table
                .inner_join(places::table)
                .filter(place_likes::created_at.gt(since))
                .filter(places::deleted_at.is_null())
                .filter(places::hidden_at.is_null())
                .group_by((places::id, places::category))
                .select((places::id, places::category, diesel::dsl::count_star()))
                .load(conn)
                .await?)
        }
    }
}

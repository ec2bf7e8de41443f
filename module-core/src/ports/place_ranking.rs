use async_trait::async_trait;

use crate::place::{PlaceCategory, PlaceId};

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

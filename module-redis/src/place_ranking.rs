//! The place rankings as Redis sorted sets: `{prefix}place-rank:{all|week}` and one per
//! category (`…:{CATEGORY}`), members the zero-padded place ids (so that ties order by id, as the
//! database's ranking does), and a `…:built` marker: without it a ranking is missing (never
//! built, or lost with Redis's data) and readers go to the database.

use async_trait::async_trait;
use petory_core::place::ranking::{PlaceRanking, RankingError, RankingPeriod};
use petory_core::place::{PlaceCategory, PlaceId};

use crate::RedisPool;

pub struct RedisPlaceRanking {
    pool: RedisPool,
    prefix: String,
}

/// Members written per command when a ranking is rebuilt.
const CHUNK: usize = 1000;

fn member(id: PlaceId) -> String {
    format!("{:020}", id.0)
}

fn failed(error: impl std::fmt::Display) -> RankingError {
    RankingError(error.to_string())
}

impl RedisPlaceRanking {
    pub fn new(pool: RedisPool, key_prefix: &str) -> Self {
        Self {
            pool,
            prefix: format!("{key_prefix}place-rank:"),
        }
    }

    fn key(&self, period: RankingPeriod, category: Option<PlaceCategory>) -> String {
        let period = match period {
            RankingPeriod::AllTime => "all",
            RankingPeriod::Week => "week",
        };
        match category {
            Some(category) => format!("{}{period}:{}", self.prefix, category.as_str()),
            None => format!("{}{period}", self.prefix),
        }
    }

    fn built(&self, period: RankingPeriod) -> String {
        format!("{}:built", self.key(period, None))
    }
}

#[async_trait]
impl PlaceRanking for RedisPlaceRanking {
    async fn record(
        &self,
        place: PlaceId,
        category: PlaceCategory,
        delta: i64,
    ) -> Result<(), RankingError> {
        // Only into a built ranking: a partial one must not pass for the whole.
        let script = redis::Script::new(
            "if redis.call('EXISTS', KEYS[1]) == 1 then
               redis.call('ZINCRBY', KEYS[2], ARGV[1], ARGV[2])
               redis.call('ZINCRBY', KEYS[3], ARGV[1], ARGV[2])
             end
             return 1",
        );
        let mut conn = self.pool.get().await.map_err(failed)?;
        script
            .key(self.built(RankingPeriod::AllTime))
            .key(self.key(RankingPeriod::AllTime, None))
            .key(self.key(RankingPeriod::AllTime, Some(category)))
            .arg(delta)
            .arg(member(place))
            .invoke_async::<i64>(&mut *conn)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn top(
        &self,
        period: RankingPeriod,
        category: Option<PlaceCategory>,
        limit: usize,
    ) -> Result<Option<Vec<(PlaceId, i64)>>, RankingError> {
        let mut conn = self.pool.get().await.map_err(failed)?;
        let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let (built, entries): (bool, Vec<(String, f64)>) = redis::pipe()
            .exists(self.built(period))
            .zrevrange_withscores(self.key(period, category), 0, stop)
            .query_async(&mut *conn)
            .await
            .map_err(failed)?;
        if !built {
            return Ok(None);
        }
        Ok(Some(
            entries
                .into_iter()
                .filter_map(|(member, score)| {
                    #[allow(clippy::cast_possible_truncation)]
                    let likes = score.round() as i64;
                    Some((PlaceId(member.parse().ok()?), likes))
                })
                .filter(|(_, likes)| *likes > 0)
                .collect(),
        ))
    }

    async fn replace(
        &self,
        period: RankingPeriod,
        scores: &[(PlaceId, PlaceCategory, i64)],
    ) -> Result<(), RankingError> {
        let mut conn = self.pool.get().await.map_err(failed)?;
        let keys: Vec<Option<PlaceCategory>> = std::iter::once(None)
            .chain(PlaceCategory::ALL.iter().copied().map(Some))
            .collect();
        let staging = |key: &str| format!("{key}:next");
        // Build beside the live sets, then swap them in at once.
        for category in &keys {
            let key = staging(&self.key(period, *category));
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<()>(&mut *conn)
                .await
                .map_err(failed)?;
            let members: Vec<(i64, String)> = scores
                .iter()
                .filter(|(_, of, _)| category.is_none_or(|category| category == *of))
                .map(|(id, _, likes)| (*likes, member(*id)))
                .collect();
            for chunk in members.chunks(CHUNK) {
                redis::cmd("ZADD")
                    .arg(&key)
                    .arg(chunk)
                    .query_async::<()>(&mut *conn)
                    .await
                    .map_err(failed)?;
            }
        }
        let mut swap = redis::pipe();
        swap.atomic();
        for category in &keys {
            let live = self.key(period, *category);
            let next = staging(&live);
            // An empty ranking has no staged set to rename: the live one is cleared.
            swap.cmd("DEL").arg(&live).ignore();
            swap.cmd("EVAL")
                .arg("if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end return 1")
                .arg(2)
                .arg(&next)
                .arg(&live)
                .ignore();
        }
        swap.cmd("SET").arg(self.built(period)).arg(1).ignore();
        swap.query_async::<()>(&mut *conn).await.map_err(failed)?;
        Ok(())
    }
}

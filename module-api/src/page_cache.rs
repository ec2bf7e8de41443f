//! Hot reads that are the same for everyone, kept for a moment in this process.
//!
//! The owner board's first pages: the board's hottest read is the same for every reader but
//! their like flags, and PostgreSQL would otherwise plan it for each request. A new post or count
//! shows up to one `ttl` late (1 s by default); later pages, searches and each reader's likes are
//! always read fresh.
//!
//! The place rankings: read from Redis (or PostgreSQL when Redis cannot answer) at most once per
//! `ttl` (1 s by default) for each period, category and length, so a like reaches the ranking
//! up to that late, and a Redis outage costs PostgreSQL one ranking query a second, not one a
//! request.

use std::sync::Arc;
use std::time::Duration;

use petory_core::community::Viewer;
use petory_core::community::block;
use petory_core::community::board::{self, PostCategory, PostFilter, PostSort, PostSummary};
use petory_core::place::PlaceCategory;
use petory_core::place::ranking::RankingPeriod;
use petory_core::place::ranking::{self, Ranked, Source};

use crate::app::AppState;
use crate::error::ApiError;

type Key = (Option<PostCategory>, PostSort, i64);

pub struct BoardFirstPages {
    /// `None` when the cache is off (a `ttl` of zero).
    pages: Option<moka::future::Cache<Key, Arc<Vec<PostSummary>>>>,
}

/// First pages kept at most: each category and sort, at the few page sizes clients use.
const MAX_PAGES: u64 = 200;

impl BoardFirstPages {
    pub fn new(ttl: Duration) -> Self {
        Self {
            pages: (!ttl.is_zero()).then(|| {
                moka::future::Cache::builder()
                    .max_capacity(MAX_PAGES)
                    .time_to_live(ttl)
                    .build()
            }),
        }
    }

    /// The first page (`limit` rows) for `viewer`, from the cache when the filter is a plain
    /// first page; `None` when it is not one the cache keeps (a search, a later page) or when
    /// the reader blocks an author on it (their own read leaves those posts out).
    pub async fn first_page(
        &self,
        state: &AppState,
        filter: &PostFilter,
        limit: i64,
        viewer: Viewer,
    ) -> Result<Option<Vec<PostSummary>>, ApiError> {
        let Some(pages) = &self.pages else {
            return Ok(None);
        };
        if filter.after.is_some() || filter.search.is_some() || filter.author.is_some() {
            return Ok(None);
        }
        // Concurrent misses of one page wait for a single read.
        let page = pages
            .try_get_with((filter.category, filter.sort, limit), async {
                let mut conn = state.db().await?;
                let rows =
                    board::list(&mut conn, Viewer::GUEST, filter, limit, state.clock.now()).await?;
                Ok::<_, ApiError>(Arc::new(rows))
            })
            .await
            .map_err(|error| error.as_ref().clone())?;
        let mut rows = page.as_ref().clone();
        if let Some(me) = viewer.user {
            let ids: Vec<_> = rows.iter().map(|post| post.id).collect();
            let authors: Vec<_> = rows.iter().map(|post| post.author_id).collect();
            let mut conn = state.db().await?;
            if !block::hidden_among(&mut conn, me, &authors)
                .await?
                .is_empty()
            {
                return Ok(None);
            }
            let liked = board::liked_among(&mut conn, me, &ids).await?;
            for post in &mut rows {
                post.liked_by_me = liked.contains(&post.id);
            }
        }
        Ok(Some(rows))
    }
}

type RankingKey = (RankingPeriod, Option<PlaceCategory>, usize);
/// A ranking and where it was read from.
type KeptRanking = Arc<(Vec<Ranked>, Source)>;

pub struct PlaceRankings {
    /// `None` when the cache is off (a `ttl` of zero).
    rankings: Option<moka::future::Cache<RankingKey, KeptRanking>>,
}

/// Rankings kept at most: each period and category, at the few lengths clients use.
const MAX_RANKINGS: u64 = 200;

impl PlaceRankings {
    pub fn new(ttl: Duration) -> Self {
        Self {
            rankings: (!ttl.is_zero()).then(|| {
                moka::future::Cache::builder()
                    .max_capacity(MAX_RANKINGS)
                    .time_to_live(ttl)
                    .build()
            }),
        }
    }

    /// The top `limit` places of a period (and category), and where they were read from.
    pub async fn top(
        &self,
        state: &AppState,
        period: RankingPeriod,
        category: Option<PlaceCategory>,
        limit: usize,
    ) -> Result<KeptRanking, ApiError> {
        let read = async {
            let mut conn = state.db().await?;
            let ranked = ranking::top(
                &mut conn,
                state.place_ranking.as_ref(),
                period,
                category,
                limit,
            )
            .await?;
            Ok::<_, ApiError>(Arc::new(ranked))
        };
        match &self.rankings {
            None => read.await,
            // Concurrent misses of one ranking wait for a single read.
            Some(rankings) => rankings
                .try_get_with((period, category, limit), read)
                .await
                .map_err(|error| error.as_ref().clone()),
        }
    }
}

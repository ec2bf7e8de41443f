//! The state every handler shares: pools, ports and settings, built once per process.

use std::ops::Deref;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use petory_core::db::{self, DbConn, DbPool};
use petory_core::identity::account::Sessions;
use petory_core::identity::oauth::OpenIdProvider;
use petory_core::identity::session::SessionStore;
use petory_core::identity::token::TokenSettings;
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::platform::image::{self, ImageUrls};
use petory_core::ports::{Clock, NotificationSignal, ObjectStore, SystemClock};
use petory_core::shop::payment::PaymentGateway;
use petory_external_api::oauth::google::GoogleOpenId;
use petory_external_api::payment::kakaopay::KakaoPay;
use petory_external_api::storage::s3::S3ObjectStore;
use petory_redis::RedisPool;
use petory_redis::chat::ChatHub;
use petory_redis::notification::{NotificationHub, RedisNotificationSignal, StreamTickets};
use petory_redis::session::RedisSessionStore;
use tokio::sync::watch;

use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::middleware::rate_limit::RateLimits;
use crate::telemetry;

pub struct App {
    pub config: ApiConfig,
    pub db: DbPool,
    pub redis: RedisPool,
    pub object_store: Arc<dyn ObjectStore>,
    pub clock: Arc<dyn Clock>,
    pub calendar: BusinessCalendar,
    pub metrics: PrometheusHandle,
    pub sessions: Arc<dyn SessionStore>,
    pub tokens: TokenSettings,
    pub google: Arc<dyn OpenIdProvider>,
    pub payments: Arc<dyn PaymentGateway>,
    pub rate_limits: Arc<RateLimits>,
    /// Wakes live notification streams on every instance.
    pub notifications: Arc<dyn NotificationSignal>,
    /// This instance's live notification streams listen here.
    pub notification_hub: NotificationHub,
    pub stream_tickets: StreamTickets,
    /// Counts views without a write per view.
    pub views: Arc<dyn petory_core::ports::ViewCounter>,
    /// This instance's chat sockets, their fan-out across instances and their presence.
    pub chat: ChatHub,
    pub chat_tickets: StreamTickets,
    /// Chat frames per user and second, over sockets and HTTP alike, across instances.
    pub chat_rate: crate::chat_rate::ChatRate,
    /// Set once the process is stopping: live connections close ("going away").
    pub shutdown: watch::Sender<bool>,
    /// Set when the stop signal arrives, before `shutdown`: readiness answers 503 so load
    /// balancers stop sending new requests while this instance still serves them.
    pub draining: std::sync::atomic::AtomicBool,
    /// Where admins import places from (Kakao Local).
    pub place_directory: Arc<dyn petory_core::ports::PlaceDirectory>,
    /// The cache in front of the images' public base, purged of withheld images.
    pub cdn: Arc<dyn petory_core::ports::Cdn>,
    /// The most-liked places (Redis sorted sets).
    pub place_ranking: Arc<dyn petory_core::place::ranking::PlaceRanking>,
    /// The owner board's first pages, kept for a moment.
    pub board_pages: crate::page_cache::BoardFirstPages,
    /// The last readiness check, shared by the probes that come within a second of it.
    pub readiness: crate::routes::health::LastCheck,
    pub place_rankings: crate::page_cache::PlaceRankings,
    /// Where the visible places are, for nearest-first searches (unless configured off).
    pub place_index: Option<Arc<petory_core::place::nearby::NearbyIndex>>,
}

#[derive(Clone)]
pub struct AppState(Arc<App>);

/// A response that shows images: its keys, and the URLs to fill in for them.
/// A response that shows images: their upload keys, and where their URLs go.
pub trait HasImages {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>);
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self(Arc::new(app))
    }

    /// The production wiring: real pools and adapters, the system clock. Connects to nothing
    /// yet, so the process starts even while a dependency is down.
    pub fn from_config(config: ApiConfig) -> anyhow::Result<Self> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    pub fn with_clock(config: ApiConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let redis = petory_redis::pool(&config.redis)?;
        let rate_limits = RateLimits::new(
            config.rate_limit_per_minute,
            config.auth_rate_limit_per_minute,
            petory_redis::rate_limit::RateLimiter::new(redis.clone(), &config.redis.key_prefix),
        );
        Ok(Self::new(App {
            // Requests run short queries: parallel workers cost more to start than they save.
            db: db::pool(
                &config.database.url,
                &db::PoolSettings {
                    parallel_query: false,
                    ..config.database.pool.clone()
                },
            ),
            sessions: Arc::new(RedisSessionStore::new(
                redis.clone(),
                &config.redis.key_prefix,
            )),
            notifications: Arc::new(RedisNotificationSignal::new(
                redis.clone(),
                &config.redis.key_prefix,
            )),
            notification_hub: NotificationHub::new(&config.redis.url, &config.redis.key_prefix)?,
            stream_tickets: StreamTickets::new(redis.clone(), &config.redis.key_prefix),
            views: Arc::new(petory_redis::views::RedisViewCounter::new(
                redis.clone(),
                &config.redis.key_prefix,
            )),
            chat: ChatHub::new(&config.redis.url, redis.clone(), &config.redis.key_prefix)?,
            chat_tickets: StreamTickets::new(
                redis.clone(),
                &format!("{}chat-", config.redis.key_prefix),
            ),
            chat_rate: crate::chat_rate::ChatRate::new(
                config.chat.messages_per_second,
                config.chat.message_burst,
                petory_redis::rate_limit::RateLimiter::new(redis.clone(), &config.redis.key_prefix),
            ),
            shutdown: watch::channel(false).0,
            draining: std::sync::atomic::AtomicBool::new(false),
            board_pages: crate::page_cache::BoardFirstPages::new(config.board_page_cache),
            readiness: crate::routes::health::LastCheck::default(),
            place_rankings: crate::page_cache::PlaceRankings::new(config.place_ranking_cache),
            place_index: config
                .place_index
                .map(|age| Arc::new(petory_core::place::nearby::NearbyIndex::new(age))),
            cdn: match (&config.image_links.serving, config.image_purge) {
                (image::Serving::PublicBase(base), true) => {
                    Arc::new(petory_external_api::cdn::HttpPurge::new(base))
                }
                _ => Arc::new(petory_core::ports::NoCdn),
            },
            place_directory: Arc::new(petory_external_api::place::KakaoLocal::new(
                config.kakao_local.clone(),
            )),
            place_ranking: Arc::new(petory_redis::place_ranking::RedisPlaceRanking::new(
                redis.clone(),
                &config.redis.key_prefix,
            )),
            redis,
            tokens: config.tokens.clone(),
            google: Arc::new(GoogleOpenId::new(config.google.clone())),
            payments: Arc::new(KakaoPay::new(config.kakaopay.clone())),
            rate_limits,
            object_store: Arc::new(S3ObjectStore::new(&config.s3)),
            calendar: BusinessCalendar::new(config.timezone),
            metrics: telemetry::metrics_handle(),
            clock,
            config,
        }))
    }

    /// Readiness fails from now on; requests are still served.
    pub fn begin_draining(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Closes live connections (chat sockets, notification streams): the process is stopping.
    pub fn begin_shutdown(&self) {
        self.begin_draining();
        self.shutdown.send_replace(true);
    }

    /// What identity services need to issue and revoke tokens.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions {
            store: self.sessions.as_ref(),
            tokens: &self.tokens,
            streams: self.notifications.as_ref(),
        }
    }

    /// Where clients read these images, per size, in order: their served versions (under a CDN
    /// base or presigned), or the placeholder while they have none.
    pub async fn image_urls(&self, keys: &[String]) -> Result<Vec<ImageUrls>, ApiError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let statuses = {
            let mut conn = self.db().await?;
            image::statuses(&mut conn, keys)
                .await
                .map_err(db::DbError::from)?
        };
        Ok(self
            .config
            .image_links
            .urls(self.object_store.as_ref(), &statuses)
            .await?)
    }

    /// Where clients read one image, if there is one.
    pub async fn image_url(&self, key: Option<&str>) -> Result<Option<ImageUrls>, ApiError> {
        match key {
            Some(key) => Ok(self.image_urls(&[key.to_owned()]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Fills in every response's image URLs from its image keys (one look at the uploads).
    pub async fn link_images<'a, T: HasImages + 'a>(
        &self,
        responses: impl IntoIterator<Item = &'a mut T>,
    ) -> Result<(), ApiError> {
        let mut responses: Vec<&'a mut T> = responses.into_iter().collect();
        let keys: Vec<String> = responses
            .iter_mut()
            .flat_map(|response| response.images().0.to_vec())
            .collect();
        let mut urls = self.image_urls(&keys).await?.into_iter();
        for response in responses {
            let (keys, slot) = response.images();
            let count = keys.len();
            *slot = urls.by_ref().take(count).collect();
        }
        Ok(())
    }

    /// Moves the versions of images whose withholding a moderation decision just changed, and
    /// purges them from the CDN; what fails here the `image-versions` job does within seconds.
    pub async fn apply_withholding(&self) {
        let moved = async {
            let mut conn = self.db().await?;
            image::apply_withholding(
                &mut conn,
                self.object_store.as_ref(),
                self.cdn.as_ref(),
                100,
            )
            .await
            .map_err(ApiError::from)
        };
        if let Err(error) = moved.await {
            tracing::warn!(?error, "withheld images left for the image-versions job");
        }
    }

    /// The response made from `view`, its image URLs filled in.
    pub async fn linked<V, R: From<V> + HasImages>(&self, view: V) -> Result<R, ApiError> {
        let mut response = R::from(view);
        self.link_images([&mut response]).await?;
        Ok(response)
    }

    /// A pooled database connection, or 503 when none can be had.
    pub async fn db(&self) -> Result<DbConn<'_>, ApiError> {
        Ok(self.db.get().await.map_err(db::DbError::from)?)
    }
}

//! `petory-api` settings, read once from the environment at start-up.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use petory_core::config::{self, ConfigError};
use petory_core::db::DatabaseSettings;
use petory_core::identity::token::TokenSettings;
use petory_core::platform::business_days::{BusinessCalendar, Tz};
use petory_core::platform::idempotency::Lifetimes;
use petory_external_api::oauth::google::GoogleSettings;
use petory_external_api::payment::kakaopay::KakaoPaySettings;
use petory_external_api::storage::s3::S3Settings;
use petory_redis::RedisSettings;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub bind: SocketAddr,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub s3: S3Settings,
    pub timezone: Tz,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// Origins allowed by CORS; `*` allows any.
    pub cors_allowed_origins: Vec<String>,
    pub idempotency: Lifetimes,
    pub log_format: LogFormat,
    pub tokens: TokenSettings,
    pub kakaopay: KakaoPaySettings,
    /// This API's address as browsers reach it, for gateway return URLs.
    pub public_url: String,
    /// The web app: browsers coming back from the payment gateway are sent on to its order
    /// page (`PETORY_APP_URL`); unset answers them JSON like any client.
    pub app_url: Option<String>,
    /// How long a new order waits for payment before its stock is released.
    pub order_payment_window: Duration,
    pub google: GoogleSettings,
    /// Where a finished Google sign-in sends the browser, tokens in the URL fragment; unset
    /// answers the tokens as JSON.
    pub oauth_success_redirect: Option<String>,
    /// Requests a minute per user (or per IP for guests) on every route.
    pub rate_limit_per_minute: NonZeroU32,
    /// Requests a minute per IP on `/api/v1/auth/*`.
    pub auth_rate_limit_per_minute: NonZeroU32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`PETORY_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How many password hashes run at once and how long one may wait for its turn.
    pub password_hashing: petory_core::identity::password::HashingLimits,
    pub uploads: petory_core::platform::upload::UploadSettings,
    /// How responses link images: a CDN base or presigned `GET`s, and the placeholder.
    pub image_links: petory_core::platform::image::ImageLinks,
    /// `PETORY_IMAGE_PURGE=true`: the CDN at `PETORY_IMAGE_BASE_URL` is sent `PURGE` for images
    /// moderation withholds.
    pub image_purge: bool,
    /// When reports hide content (`PETORY_REPORT_HIDE_THRESHOLD`).
    pub moderation: petory_core::moderation::report::ModerationSettings,
    pub chat: ChatSettings,
    /// How long the owner board's first pages are kept in this process (zero: not at all).
    pub board_page_cache: Duration,
    /// How long a place ranking is kept in this process (zero: not at all).
    pub place_ranking_cache: Duration,
    /// Whether this process keeps the places' points in memory for nearest-first searches
    /// (`PETORY_PLACE_INDEX`), and how old its last look at the database's changes may be
    /// when a search reads it (`PETORY_PLACE_INDEX_AGE_MS`; zero: looked at every search).
    pub place_index: Option<Duration>,
    /// Where places are imported from.
    pub kakao_local: petory_external_api::place::KakaoLocalSettings,
    /// Web Push: the VAPID key browsers subscribe with, and the endpoints taken.
    pub push: PushConfig,
}

/// What the API needs of Web Push (the batch sends).
#[derive(Debug, Clone)]
pub struct PushConfig {
    pub vapid: petory_external_api::push::VapidSettings,
    pub endpoints: petory_core::notification::push::EndpointRules,
}

impl PushConfig {
    /// `PETORY_VAPID_PRIVATE_KEY`, `PETORY_VAPID_SUBJECT` and `PETORY_PUSH_ALLOWED_HOSTS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            vapid: petory_external_api::push::VapidSettings::from_env()?,
            endpoints: petory_core::notification::push::EndpointRules::from_env()?,
        })
    }
}

/// The chat sockets' limits and timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatSettings {
    /// How often the server pings each socket (and renews its presence).
    pub heartbeat: Duration,
    /// A socket that sends nothing (not even a pong) this long is closed.
    pub idle_timeout: Duration,
    /// Events waiting for one socket; a socket this far behind is disconnected to resume.
    pub queue: usize,
    /// Sockets one account may keep open on one instance.
    pub max_sockets_per_user: usize,
    /// Messages a user may send per second (over both sockets and HTTP), and in a burst.
    pub messages_per_second: NonZeroU32,
    pub message_burst: NonZeroU32,
    /// The largest frame a client may send.
    pub max_frame_bytes: usize,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            queue: 256,
            max_sockets_per_user: 10,
            messages_per_second: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            message_burst: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            max_frame_bytes: 16 * 1024,
        }
    }
}

impl ChatSettings {
    /// `PETORY_CHAT_HEARTBEAT_SECS` (25), `PETORY_CHAT_MAX_SOCKETS_PER_USER` (10),
    /// `PETORY_CHAT_MESSAGES_PER_SECOND` (10) and `PETORY_CHAT_MESSAGE_BURST` (20).
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let heartbeat = config::parsed_or("PETORY_CHAT_HEARTBEAT_SECS", 25_u64)?;
        config::ensure(
            "PETORY_CHAT_HEARTBEAT_SECS",
            heartbeat,
            (1..=300).contains(&heartbeat),
            "must be 1 to 300",
        )?;
        let max_sockets_per_user = config::parsed_or(
            "PETORY_CHAT_MAX_SOCKETS_PER_USER",
            defaults.max_sockets_per_user,
        )?;
        config::ensure(
            "PETORY_CHAT_MAX_SOCKETS_PER_USER",
            max_sockets_per_user,
            (1..=100).contains(&max_sockets_per_user),
            "must be 1 to 100",
        )?;
        Ok(Self {
            heartbeat: Duration::from_secs(heartbeat),
            idle_timeout: Duration::from_secs(heartbeat * 5 / 2),
            max_sockets_per_user,
            messages_per_second: config::parsed_or(
                "PETORY_CHAT_MESSAGES_PER_SECOND",
                defaults.messages_per_second,
            )?,
            message_burst: config::parsed_or("PETORY_CHAT_MESSAGE_BURST", defaults.message_burst)?,
            ..defaults
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl ApiConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let max_body_bytes = config::parsed_or("PETORY_MAX_BODY_BYTES", 1024 * 1024_usize)?;
        config::ensure(
            "PETORY_MAX_BODY_BYTES",
            max_body_bytes,
            max_body_bytes >= 1024,
            "must be at least 1024",
        )?;
        let timeout_secs = config::parsed_or("PETORY_REQUEST_TIMEOUT_SECS", 30_u64)?;
        config::ensure(
            "PETORY_REQUEST_TIMEOUT_SECS",
            timeout_secs,
            timeout_secs >= 1,
            "must be at least 1",
        )?;
        let uploads = petory_core::platform::upload::UploadSettings::from_env()?;
        let board_page_cache_ms = config::parsed_or("PETORY_BOARD_PAGE_CACHE_MS", 1000_u64)?;
        config::ensure(
            "PETORY_BOARD_PAGE_CACHE_MS",
            board_page_cache_ms,
            board_page_cache_ms <= 60_000,
            "must be 0 (off) to 60000",
        )?;
        let place_ranking_cache_ms = config::parsed_or("PETORY_PLACE_RANKING_CACHE_MS", 1000_u64)?;
        config::ensure(
            "PETORY_PLACE_RANKING_CACHE_MS",
            place_ranking_cache_ms,
            place_ranking_cache_ms <= 60_000,
            "must be 0 (off) to 60000",
        )?;
        let place_index_age_ms = config::parsed_or("PETORY_PLACE_INDEX_AGE_MS", 1000_u64)?;
        config::ensure(
            "PETORY_PLACE_INDEX_AGE_MS",
            place_index_age_ms,
            place_index_age_ms <= 60_000,
            "must be 0 (every search) to 60000",
        )?;
        let place_index = config::parsed_or("PETORY_PLACE_INDEX", true)?
            .then(|| Duration::from_millis(place_index_age_ms));
        let mut config = Self {
            bind: config::parsed_or("PETORY_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            database: DatabaseSettings::from_env()?,
            redis: RedisSettings::from_env()?,
            s3: S3Settings::from_env()?,
            timezone: timezone_from_env()?,
            request_timeout: Duration::from_secs(timeout_secs),
            max_body_bytes,
            cors_allowed_origins: config::var_or_dev(
                "PETORY_CORS_ALLOWED_ORIGINS",
                "*",
                "name the web app's origins (comma-separated), or `*` knowingly",
            )?
            .split(',')
            .map(|origin| origin.trim().to_owned())
            .filter(|origin| !origin.is_empty())
            .collect(),
            idempotency: Lifetimes {
                retention: Duration::from_secs(
                    3600 * config::parsed_or("PETORY_IDEMPOTENCY_TTL_HOURS", 24_u64)?,
                ),
                ..Lifetimes::default()
            },
            log_format: log_format_from_env()?,
            tokens: TokenSettings::from_env()?,
            kakaopay: KakaoPaySettings::from_env()?,
            public_url: config::var_or_dev(
                "PETORY_PUBLIC_URL",
                "http://127.0.0.1:8080",
                "mailed links and payment return addresses must reach this API from browsers",
            )?,
            app_url: config::var("PETORY_APP_URL")?,
            order_payment_window: Duration::from_secs(
                60 * config::parsed_or("PETORY_ORDER_PAYMENT_TIMEOUT_MINUTES", 30_u64)?,
            ),
            google: GoogleSettings::from_env()?,
            oauth_success_redirect: config::var("PETORY_OAUTH_SUCCESS_REDIRECT")?,
            rate_limit_per_minute: config::parsed_or(
                "PETORY_RATE_LIMIT_PER_MINUTE",
                NonZeroU32::new(300).unwrap_or(NonZeroU32::MIN),
            )?,
            auth_rate_limit_per_minute: config::parsed_or(
                "PETORY_AUTH_RATE_LIMIT_PER_MINUTE",
                NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            )?,
            trusted_proxies: trusted_proxies_from_env()?,
            password_hashing: password_hashing_from_env()?,
            uploads,
            // The placeholder's address is known once `public_url` is (below).
            image_links: petory_core::platform::image::ImageLinks::from_env(
                &uploads,
                String::new(),
            )?,
            image_purge: config::parsed_or("PETORY_IMAGE_PURGE", false)?,
            moderation: petory_core::moderation::report::ModerationSettings::from_env()?,
            chat: ChatSettings::from_env()?,
            board_page_cache: Duration::from_millis(board_page_cache_ms),
            place_ranking_cache: Duration::from_millis(place_ranking_cache_ms),
            place_index,
            kakao_local: petory_external_api::place::KakaoLocalSettings::from_env()?,
            push: PushConfig::from_env()?,
        };
        config.image_links.placeholder = placeholder_url(&config.public_url);
        Ok(config)
    }
}

/// `PETORY_PASSWORD_HASH_CONCURRENCY` (default: the cores available; `0` for unbounded, for
/// benchmarks) and `PETORY_PASSWORD_HASH_MAX_WAIT_MS` (3000).
fn password_hashing_from_env() -> Result<petory_core::identity::password::HashingLimits, ConfigError>
{
    let defaults = petory_core::identity::password::HashingLimits::default();
    let concurrency = config::parsed_or("PETORY_PASSWORD_HASH_CONCURRENCY", defaults.concurrency)?;
    config::ensure(
        "PETORY_PASSWORD_HASH_CONCURRENCY",
        concurrency,
        concurrency <= 256,
        "must be 0 (unbounded) to 256",
    )?;
    let max_wait = config::parsed_or("PETORY_PASSWORD_HASH_MAX_WAIT_MS", 3000_u64)?;
    config::ensure(
        "PETORY_PASSWORD_HASH_MAX_WAIT_MS",
        max_wait,
        (1..=60_000).contains(&max_wait),
        "must be 1 to 60000",
    )?;
    Ok(petory_core::identity::password::HashingLimits {
        concurrency,
        max_wait: Duration::from_millis(max_wait),
    })
}

/// `PETORY_TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges, e.g.
/// `10.0.0.0/8,127.0.0.1`; empty (the default) trusts no proxy.
fn trusted_proxies_from_env() -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let value = config::var_or("PETORY_TRUSTED_PROXIES", "")?;
    let parsed: Option<Vec<ipnet::IpNet>> = value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry.parse::<ipnet::IpNet>().ok().or_else(|| {
                entry
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(ipnet::IpNet::from)
            })
        })
        .collect();
    config::ensure(
        "PETORY_TRUSTED_PROXIES",
        value.as_str(),
        parsed.is_some(),
        "must be comma-separated IP addresses or CIDR ranges",
    )?;
    Ok(parsed.unwrap_or_default())
}

/// `PETORY_TIMEZONE`, an IANA zone name such as `Asia/Seoul` (the default).
pub fn timezone_from_env() -> Result<Tz, ConfigError> {
    config::parsed_or("PETORY_TIMEZONE", BusinessCalendar::DEFAULT_ZONE)
}

/// `PETORY_LOG_FORMAT`: `json` (default) or `text`.
pub fn log_format_from_env() -> Result<LogFormat, ConfigError> {
    match config::var_or("PETORY_LOG_FORMAT", "json")?.as_str() {
        "json" => Ok(LogFormat::Json),
        "text" => Ok(LogFormat::Text),
        other => config::ensure(
            "PETORY_LOG_FORMAT",
            other,
            false,
            "must be `json` or `text`",
        )
        .map(|_| LogFormat::Json),
    }
}

/// `PETORY_MIGRATE`: whether `serve` applies pending migrations first (default `true`); `false`
/// where a separate step migrates (a Kubernetes Job), as `serve --no-migrate` does.
pub fn migrate_on_start_from_env() -> Result<bool, ConfigError> {
    config::parsed_or("PETORY_MIGRATE", true)
}

/// How a stop unfolds once SIGTERM arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownSettings {
    /// Readiness fails at once, requests are still served this long
    /// (`PETORY_SHUTDOWN_DELAY_SECS`, default 0): load balancers stop sending meanwhile.
    pub delay: Duration,
    /// Then live connections are closed and new ones refused; requests still running after
    /// this long are cut (`PETORY_SHUTDOWN_TIMEOUT_SECS`, default 20).
    pub timeout: Duration,
}

impl ShutdownSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let delay = config::parsed_or("PETORY_SHUTDOWN_DELAY_SECS", 0_u64)?;
        config::ensure(
            "PETORY_SHUTDOWN_DELAY_SECS",
            delay,
            delay <= 300,
            "must be 0 to 300",
        )?;
        let timeout = config::parsed_or("PETORY_SHUTDOWN_TIMEOUT_SECS", 20_u64)?;
        config::ensure(
            "PETORY_SHUTDOWN_TIMEOUT_SECS",
            timeout,
            (1..=600).contains(&timeout),
            "must be 1 to 600",
        )?;
        Ok(Self {
            delay: Duration::from_secs(delay),
            timeout: Duration::from_secs(timeout),
        })
    }
}

/// Where the placeholder of images without served versions is read (`GET /images/placeholder`).
pub fn placeholder_url(public_url: &str) -> String {
    format!(
        "{}/api/v1/images/placeholder",
        public_url.trim_end_matches('/')
    )
}

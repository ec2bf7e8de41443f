//! What the batch tests share: a job context as `petory-batch` wires it, over a test database,
//! with a fixed clock, an unreachable payment gateway and mail written to files.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use petory_batch::job::JobContext;
use petory_core::db::{self, PoolSettings};
use petory_core::identity::lifecycle::LifecycleSettings;
use petory_core::platform::business_days::BusinessCalendar;
use petory_core::ports::FixedClock;
use petory_core::shop::billing::BillingSettings;
use petory_external_api::mail::{LettreMailer, MailSettings};
use petory_external_api::payment::kakaopay::{KakaoPay, KakaoPaySettings};
use petory_redis::RedisSettings;
use petory_redis::notification::RedisNotificationSignal;

/// A context on `database_url` as of `now`; Redis keys and channels under `redis_prefix`.
pub fn context_at(database_url: &str, redis_prefix: &str, now: DateTime<Utc>) -> JobContext {
    let redis = RedisSettings {
        url: std::env::var("REDIS_URL").unwrap_or_else(|_| RedisSettings::DEFAULT_URL.into()),
        max_size: 2,
        connection_timeout: Duration::from_secs(1),
        key_prefix: redis_prefix.to_owned(),
    };
    let pool = petory_redis::pool(&redis).unwrap();
    JobContext {
        db: db::pool(database_url, &PoolSettings::default()),
        database_url: Some(database_url.to_owned()),
        run_retention: petory_batch::jobs::platform::DEFAULT_RUN_RETENTION,
        notifications: Arc::new(RedisNotificationSignal::new(
            pool.clone(),
            &redis.key_prefix,
        )),
        sessions: Arc::new(petory_redis::session::RedisSessionStore::new(
            pool.clone(),
            &redis.key_prefix,
        )),
        access_ttl: Duration::from_secs(900),
        // No job these tests run reaches object storage.
        object_store: Arc::new(petory_external_api::storage::s3::S3ObjectStore::new(
            &petory_external_api::storage::s3::S3Settings {
                endpoint: Some("http://127.0.0.1:1".into()),
                bucket: "none".into(),
                region: "us-east-1".into(),
                access_key_id: "none".into(),
                secret_access_key: "none".into(),
                force_path_style: true,
                operation_timeout: Duration::from_secs(1),
            },
        )),
        uploads: petory_core::platform::upload::UploadSettings::default(),
        views: Arc::new(petory_redis::views::RedisViewCounter::new(
            pool.clone(),
            &redis.key_prefix,
        )),
        place_ranking: Arc::new(petory_redis::place_ranking::RedisPlaceRanking::new(
            pool,
            &redis.key_prefix,
        )),
        images: Arc::new(petory_external_api::image::WebpVersions::new(1)),
        cdn: Arc::new(petory_core::ports::NoCdn),
        push: Arc::new(
            petory_external_api::push::WebPush::new(&petory_external_api::push::PushSettings {
                vapid: petory_external_api::push::VapidSettings::new(
                    petory_external_api::push::DEV_PRIVATE_KEY,
                    petory_external_api::push::DEV_SUBJECT,
                )
                .unwrap(),
                timeout: Duration::from_secs(2),
            })
            .unwrap(),
        ),
        push_sender: Default::default(),
        clock: Arc::new(FixedClock::at(now)),
        calendar: BusinessCalendar::default(),
        billing: BillingSettings::default(),
        shop: petory_core::shop::ShopSettings::default(),
        lifecycle: LifecycleSettings::default(),
        notification_retention: petory_batch::jobs::notification::DEFAULT_RETENTION,
        mailer: Arc::new(
            LettreMailer::new(&MailSettings::directory(
                &std::env::temp_dir().join("petory-test-mail"),
            ))
            .unwrap(),
        ),
        payments: Arc::new(KakaoPay::new(KakaoPaySettings {
            base_url: "http://127.0.0.1:1".into(),
            secret_key: "none".into(),
            cid: "TC0ONETIME".into(),
            subscription_cid: "TCSUBSCRIP".into(),
            timeout: Duration::from_secs(1),
        })),
    }
}

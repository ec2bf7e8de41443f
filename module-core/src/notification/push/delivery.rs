//! The push queue: the relay queues one delivery per device of the member for each notification
//! they want by push (`push_deliveries`, unique per device and cause, so a relay that runs an
//! event again queues nothing twice), and [`send_due`] sends them with a bounded number in
//! flight. `404`/`410` removes the device; `429`/`5xx` retry with backoff until a day has
//! passed; anything else gives up at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt as _;

use super::message;
use crate::db::{DbError, DbPool};
use crate::notification::{NewNotification, NotificationId, NotificationKind, settings};
use crate::ports::{PushMessage, PushOutcome, PushService, PushTarget};
use crate::types::UserId;

/// How the sender works through the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderSettings {
    /// Deliveries claimed per statement.
    pub chunk: i64,
    /// Pushes in flight at once: with the push service's latency, the bound on throughput.
    pub concurrency: usize,
    /// How long claimed deliveries are this sender's (a sender that dies leaves them to the
    /// next after this).
    pub lease: TimeDelta,
    /// The first wait after a `429`/`5xx`; it doubles with each attempt.
    pub first_backoff: TimeDelta,
    pub max_backoff: TimeDelta,
    /// A push not accepted this long after it was queued is given up.
    pub give_up_after: TimeDelta,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            chunk: 500,
            concurrency: 64,
            lease: TimeDelta::minutes(5),
            first_backoff: TimeDelta::seconds(30),
            max_backoff: TimeDelta::hours(1),
            give_up_after: TimeDelta::days(1),
        }
    }
}

/// Queues a push of `notification` to each of its member's devices, if they want its kind by
/// push (and, for a chat message, did not mute the room); `stored` is the in-app row, if any.
/// Returns how many were queued (none again for the same `dedupe_key`).
pub async fn queue(
    conn: &mut AsyncPgConnection,
    notification: &NewNotification,
    stored: Option<NotificationId>,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Result<usize, crate::notification::NotificationError> {
    if !settings::wanted_on(conn, notification, settings::Channel::Push).await? {
        return Ok(0);
    }
    Ok(diesel::sql_query(
        "INSERT INTO push_deliveries (subscription_id, dedupe_key, notification_id, kind, title,
                                      body, data, next_attempt_at, created_at)
         SELECT s.id, $2, $3, $4, $5, $6, $7, $8, $8
           FROM push_subscriptions s
          WHERE s.user_id = $1
         ON CONFLICT (subscription_id, dedupe_key) DO NOTHING",
    )
    .bind::<BigInt, _>(notification.user_id)
    .bind::<Text, _>(dedupe_key)
    .bind::<Nullable<BigInt>, _>(stored.map(i64::from))
    .bind::<Text, _>(notification.notice.kind().as_str())
    .bind::<Text, _>(&notification.title)
    .bind::<Text, _>(&notification.body)
    .bind::<Jsonb, _>(notification.notice.data())
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await
    .map_err(DbError::from)?)
}

/// The set-based form for a bulk sender: queues, for every device of the active members with
/// ids in `[from, to)` who want `kind` by push, a push of the notification with `dedupe_key`
/// (linked to their in-app row when they have one). One statement; a re-run queues nothing
/// twice.
#[allow(clippy::too_many_arguments)]
pub async fn queue_range(
    conn: &mut AsyncPgConnection,
    kind: NotificationKind,
    title: &str,
    body: &str,
    data: &serde_json::Value,
    dedupe_key: &str,
    users: std::ops::Range<i64>,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "INSERT INTO push_deliveries (subscription_id, dedupe_key, notification_id, kind, title,
                                      body, data, next_attempt_at, created_at)
         SELECT s.id, $3, n.id, $4, $5, $6, $7, $8, $8
           FROM push_subscriptions s
           JOIN users u ON u.id = s.user_id AND u.status = 'ACTIVE'
           LEFT JOIN notifications n ON n.user_id = s.user_id AND n.dedupe_key = $3
          WHERE s.user_id >= $1 AND s.user_id < $2
            AND NOT EXISTS (SELECT 1 FROM notification_settings ns
                             WHERE ns.user_id = s.user_id AND ns.kind = $4 AND NOT ns.push)
         ON CONFLICT (subscription_id, dedupe_key) DO NOTHING",
    )
    .bind::<BigInt, _>(users.start)
    .bind::<BigInt, _>(users.end)
    .bind::<Text, _>(dedupe_key)
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(title)
    .bind::<Text, _>(body)
    .bind::<Jsonb, _>(data)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?)
}

/// A claimed delivery with its device.
#[derive(Debug, Clone, QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    subscription_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    notification_id: Option<i64>,
    #[diesel(sql_type = Text)]
    kind: NotificationKind,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Jsonb)]
    data: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    endpoint: String,
    #[diesel(sql_type = Text)]
    p256dh: String,
    #[diesel(sql_type = Text)]
    auth: String,
}

/// What came of the pushes sent in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendCounts {
    pub sent: i64,
    /// Devices removed because their push service said they are gone.
    pub gone: i64,
    pub retried: i64,
    pub gave_up: i64,
}

/// Claims up to `limit` due deliveries until `until` (the claim's token), skipping those
/// another sender is claiming.
async fn claim(
    pool: &DbPool,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, DbError> {
    let mut conn = pool.get().await?;
    let mut claimed: Vec<Claimed> = diesel::sql_query(
        "UPDATE push_deliveries d SET next_attempt_at = $2
           FROM push_subscriptions s
          WHERE d.id IN (SELECT id FROM push_deliveries
                          WHERE status = 'PENDING' AND next_attempt_at <= $1
                          ORDER BY next_attempt_at, id
                          LIMIT $3
                            FOR UPDATE SKIP LOCKED)
            AND s.id = d.subscription_id
      RETURNING d.id, d.subscription_id, d.notification_id, d.kind, d.title, d.body, d.data,
                d.attempts, d.created_at, s.endpoint, s.p256dh, s.auth",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(until)
    .bind::<BigInt, _>(limit)
    .load(&mut conn)
    .await?;
    claimed.sort_by_key(|delivery| delivery.id);
    Ok(claimed)
}

/// Sends every push due at `now`: claims them `chunk` at a time and keeps `concurrency` in
/// flight, each outcome recorded as its batch of answers comes in (a claim whose lease ran out
/// records nothing: another sender has it).
pub async fn send_due(
    pool: &DbPool,
    service: Arc<dyn PushService>,
    now: DateTime<Utc>,
    settings: SenderSettings,
) -> Result<SendCounts, DbError> {
    let until = now + settings.lease;
    // Half a lease, as the outbox relay: nothing starts on a claim about to lapse.
    let deadline =
        std::time::Instant::now() + settings.lease.to_std().unwrap_or(Duration::from_secs(60)) / 2;
    let concurrency = settings.concurrency.max(1);
    let mut waiting: std::collections::VecDeque<Claimed> = std::collections::VecDeque::new();
    let mut claimed_all = false;
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let mut answers: Vec<(Claimed, PushOutcome)> = Vec::new();
    let mut counts = SendCounts::default();
    loop {
        while in_flight.len() < concurrency {
            if waiting.is_empty() && !claimed_all {
                if std::time::Instant::now() >= deadline {
                    claimed_all = true;
                    break;
                }
                let batch = claim(pool, now, until, settings.chunk).await?;
                claimed_all = i64::try_from(batch.len()).unwrap_or(i64::MAX) < settings.chunk;
                waiting.extend(batch);
            }
            let Some(delivery) = waiting.pop_front() else {
                break;
            };
            let service = service.clone();
            // Spawned, so that sends in flight go on while a batch of answers is written.
            in_flight.push(tokio::spawn(async move {
                let outcome = send_one(service.as_ref(), &delivery).await;
                (delivery, outcome)
            }));
        }
        let Some(joined) = in_flight.next().await else {
            break;
        };
        match joined {
            Ok(answer) => answers.push(answer),
            // A panicking send leaves its claim to lapse and be retried.
            Err(error) => tracing::error!(%error, "a push send panicked"),
        }
        if answers.len() >= 256 || in_flight.is_empty() {
            record(pool, &answers, now, until, &settings, &mut counts).await?;
            answers.clear();
        }
    }
    record(pool, &answers, now, until, &settings, &mut counts).await?;
    Ok(counts)
}

async fn send_one(service: &dyn PushService, delivery: &Claimed) -> PushOutcome {
    let notice = match crate::notification::Notice::read(delivery.kind, delivery.data.clone()) {
        Ok(notice) => notice,
        Err(error) => {
            return PushOutcome::Refused {
                reason: format!("queued data does not have its kind's shape: {error}"),
            };
        }
    };
    let delivery_options = message::delivery(&notice);
    let push = PushMessage {
        payload: message::payload(
            delivery.notification_id,
            &notice,
            &delivery.title,
            &delivery.body,
        ),
        ttl: delivery_options.ttl,
        urgency: delivery_options.urgency,
        topic: delivery_options.topic,
    };
    let target = PushTarget {
        endpoint: delivery.endpoint.clone(),
        p256dh: delivery.p256dh.clone(),
        auth: delivery.auth.clone(),
    };
    service.send(&target, &push).await
}

/// Writes a batch of answers: accepted ones in one statement, gone devices in another, the
/// rare retry or refusal one by one.
async fn record(
    pool: &DbPool,
    answers: &[(Claimed, PushOutcome)],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    settings: &SenderSettings,
    counts: &mut SendCounts,
) -> Result<(), DbError> {
    if answers.is_empty() {
        return Ok(());
    }
    let mut conn = pool.get().await?;
    let accepted: Vec<i64> = answers
        .iter()
        .filter(|(_, outcome)| *outcome == PushOutcome::Accepted)
        .map(|(delivery, _)| delivery.id)
        .collect();
    if !accepted.is_empty() {
        counts.sent += i64::try_from(
            diesel::sql_query(
                "UPDATE push_deliveries
                    SET status = 'SENT', sent_at = $2, attempts = attempts + 1, last_error = NULL
                  WHERE id = ANY($1) AND status = 'PENDING' AND next_attempt_at = $3",
            )
            .bind::<Array<BigInt>, _>(&accepted)
            .bind::<Timestamptz, _>(now)
            .bind::<Timestamptz, _>(until)
            .execute(&mut conn)
            .await?,
        )
        .unwrap_or(0);
    }
    let gone: Vec<i64> = answers
        .iter()
        .filter(|(_, outcome)| *outcome == PushOutcome::Gone)
        .map(|(delivery, _)| delivery.subscription_id)
        .collect();
    if !gone.is_empty() {
        counts.gone += i64::try_from(
            diesel::sql_query("DELETE FROM push_subscriptions WHERE id = ANY($1)")
                .bind::<Array<BigInt>, _>(&gone)
                .execute(&mut conn)
                .await?,
        )
        .unwrap_or(0);
    }
    for (delivery, outcome) in answers {
        let (reason, retry_at) = match outcome {
            PushOutcome::Accepted | PushOutcome::Gone => continue,
            PushOutcome::RetryLater { reason, after } => {
                let backoff = settings
                    .first_backoff
                    .checked_mul(1 << delivery.attempts.clamp(0, 16))
                    .unwrap_or(settings.max_backoff)
                    .min(settings.max_backoff);
                let asked = after
                    .and_then(|after| TimeDelta::from_std(after).ok())
                    .unwrap_or(TimeDelta::zero());
                let at = now + backoff.max(asked);
                let in_time = at <= delivery.created_at + settings.give_up_after;
                (reason, in_time.then_some(at))
            }
            PushOutcome::Refused { reason } => (reason, None),
        };
        let updated = diesel::sql_query(
            "UPDATE push_deliveries
                SET status = CASE WHEN $3::timestamptz IS NULL THEN 'GAVE_UP' ELSE 'PENDING' END,
                    next_attempt_at = COALESCE($3, next_attempt_at),
                    attempts = attempts + 1, last_error = $2
              WHERE id = $1 AND status = 'PENDING' AND next_attempt_at = $4",
        )
        .bind::<BigInt, _>(delivery.id)
        .bind::<Text, _>(reason)
        .bind::<Nullable<Timestamptz>, _>(retry_at)
        .bind::<Timestamptz, _>(until)
        .execute(&mut conn)
        .await?;
        if updated == 1 {
            if retry_at.is_some() {
                counts.retried += 1;
            } else {
                tracing::warn!(delivery = delivery.id, %reason, "push given up");
                counts.gave_up += 1;
            }
        }
    }
    Ok(())
}

/// Removes sent and given-up pushes queued before `cutoff` (with the notifications they
/// showed).
pub async fn purge_older_than(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "DELETE FROM push_deliveries WHERE status <> 'PENDING' AND created_at < $1",
    )
    .bind::<Timestamptz, _>(cutoff)
    .execute(conn)
    .await?)
}

/// `user`'s pushes still waiting (tests and support).
pub async fn pending_for(conn: &mut AsyncPgConnection, user: UserId) -> Result<i64, DbError> {
    use crate::schema::{push_deliveries, push_subscriptions};
    Ok(push_deliveries::table
        .inner_join(push_subscriptions::table)
        .filter(push_subscriptions::user_id.eq(user))
        .filter(push_deliveries::status.eq("PENDING"))
        .count()
        .get_result(conn)
        .await?)
}

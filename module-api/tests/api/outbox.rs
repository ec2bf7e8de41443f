//! The outbox: events that keep failing are parked, listed for admins, retried on request; and
//! concurrent relays deliver each event once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;
use petory_core::platform::outbox::{self, OutboxEvent};
use petory_event::{EventHandler, Relay, RetryPolicy};
use reqwest::Method;
use serde::Deserialize;

use crate::client::{Client, Page};
use crate::util::{ClockExt as _, TestApp, assert_problem};

/// An outbox event as admins see it.
#[derive(Debug, Deserialize)]
struct Event {
    id: i64,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    payload: Payload,
}

/// The payload of a `MAIL_REQUESTED` event.
#[derive(Debug, Deserialize)]
struct Payload {
    to: String,
}

struct Counting {
    calls: Arc<AtomicUsize>,
    fail: bool,
}

#[async_trait]
impl EventHandler for Counting {
    fn kind(&self) -> &'static str {
        "MAIL_REQUESTED"
    }

    async fn handle(
        &self,
        _event: &OutboxEvent,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            anyhow::bail!("smtp said 451 try later")
        } else {
            Ok(())
        }
    }
}

fn mail(to: &str) -> petory_core::ports::Mail {
    petory_core::ports::Mail {
        to: to.to_owned(),
        subject: "Hello".into(),
        body: "A test mail".into(),
    }
}

fn relay(calls: &Arc<AtomicUsize>, fail: bool) -> Relay {
    let policy = RetryPolicy {
        max_attempts: 2,
        first_backoff: Duration::from_secs(60),
        max_backoff: Duration::from_secs(60),
    };
    Relay::new(policy).with_handler(Arc::new(Counting {
        calls: calls.clone(),
        fail,
    }))
}

#[tokio::test]
async fn a_failing_event_is_parked_listed_and_retried_from_the_admin_api() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = {
        let mut conn = app.state.db.get().await.unwrap();
        outbox::record(&mut conn, &mail("bori@example.com"), app.clock.now_utc())
            .await
            .unwrap()
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = relay(&calls, true);
    let first = failing
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!((first.retried, first.failed), (1, 0));
    let too_early = failing
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!(too_early.retried + too_early.failed, 0, "backoff holds it");
    app.clock.advance(TimeDelta::minutes(2));
    let second = failing
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!(second.failed, 1);
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    let failed: Page<Event> = admin.get("/api/v1/admin/events/failed").await;
    let parked = &failed.items[0];
    assert_eq!(
        (parked.id, parked.status.as_str(), parked.attempts),
        (id, "FAILED", 2)
    );
    assert_eq!(
        parked.last_error.as_deref(),
        Some("smtp said 451 try later")
    );
    assert_eq!(parked.payload.to, "bori@example.com");

    let path = format!("/api/v1/admin/events/failed/{id}/retry");
    let retried: Event = admin.ok(Method::POST, &path, None).await;
    assert_eq!((retried.status.as_str(), retried.attempts), ("PENDING", 0));
    assert_problem(
        admin.request(Method::POST, &path, None).await,
        404,
        "EVENT_NOT_FOUND",
    )
    .await;

    let working = relay(&calls, false);
    assert_eq!(
        working
            .relay_due(&app.state.db, app.clock.now_utc(), 10)
            .await
            .unwrap()
            .delivered,
        1
    );
    let failed: Page<Event> = admin.get("/api/v1/admin/events/failed").await;
    assert!(failed.items.is_empty());
    let user = app.member("bori@example.com").await;
    assert_problem(
        user.request(Method::GET, "/api/v1/admin/events/failed", None)
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;
}

#[tokio::test]
async fn concurrent_relays_deliver_each_event_once() {
    let app = TestApp::spawn().await;
    {
        let mut conn = app.state.db.get().await.unwrap();
        for n in 0..60 {
            outbox::record(
                &mut conn,
                &mail(&format!("n{n}@example.com")),
                app.clock.now_utc(),
            )
            .await
            .unwrap();
        }
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let (a, b) = (relay(&calls, false), relay(&calls, false));
    let now = app.clock.now_utc();
    let (first, second) = tokio::join!(
        a.relay_due(&app.state.db, now, 7),
        b.relay_due(&app.state.db, now, 7)
    );
    let delivered = first.unwrap().delivered + second.unwrap().delivered;
    assert_eq!(delivered, 60);
    assert_eq!(calls.load(Ordering::SeqCst), 60, "no event handled twice");
}

#[tokio::test]
async fn an_event_claimed_by_a_relay_that_died_is_delivered_after_its_lease_and_once() {
    let app = TestApp::spawn().await;
    let mut conn = app.state.db.get().await.unwrap();
    let now = app.clock.now_utc();
    outbox::record(&mut conn, &mail("bori@example.com"), now)
        .await
        .unwrap();
    // A relay claims it and dies before recording anything (no transaction held it).
    let lease = TimeDelta::minutes(5);
    let claimed = outbox::claim_due(&mut conn, now, 10, lease).await.unwrap();
    assert_eq!(claimed.len(), 1);
    drop(conn);
    let calls = Arc::new(AtomicUsize::new(0));
    let relay = relay(&calls, false).with_lease(Duration::from_secs(300));
    let meanwhile = relay.relay_due(&app.state.db, now, 10).await.unwrap();
    assert_eq!(meanwhile.delivered, 0, "another relay's lease holds it");
    app.clock.advance(lease + TimeDelta::seconds(1));
    let after = relay
        .relay_due(&app.state.db, app.clock.now_utc(), 10)
        .await
        .unwrap();
    assert_eq!(after.delivered, 1);
    // The dead relay's late record changes nothing: its claim is no longer the event's.
    let mut conn = app.state.db.get().await.unwrap();
    assert!(
        !outbox::mark_delivered(&mut conn, &claimed[0], now)
            .await
            .unwrap()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// A handler that takes its time.
struct Slow;

#[async_trait]
impl EventHandler for Slow {
    fn kind(&self) -> &'static str {
        "MAIL_REQUESTED"
    }

    async fn handle(
        &self,
        _event: &OutboxEvent,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(150)).await;
        Ok(())
    }
}

#[tokio::test]
async fn a_run_starts_no_handler_after_half_its_lease_and_the_rest_waits_for_the_next() {
    let app = TestApp::spawn().await;
    let now = app.clock.now_utc();
    {
        let mut conn = app.state.db.get().await.unwrap();
        for n in 0..3 {
            outbox::record(&mut conn, &mail(&format!("n{n}@example.com")), now)
                .await
                .unwrap();
        }
    }
    // Half of a 200 ms lease has passed once the first (150 ms) handler is done.
    let relay = Relay::new(RetryPolicy::default())
        .with_handler(Arc::new(Slow))
        .with_lease(Duration::from_millis(200));
    assert_eq!(
        relay
            .relay_due(&app.state.db, now, 10)
            .await
            .unwrap()
            .delivered,
        1
    );
    // The other two stay claimed until their lease lapses (at least a second), then go.
    let later = now + TimeDelta::seconds(2);
    assert_eq!(
        relay
            .relay_due(&app.state.db, later, 1)
            .await
            .unwrap()
            .delivered,
        1
    );
    assert_eq!(
        relay
            .relay_due(&app.state.db, later, 1)
            .await
            .unwrap()
            .delivered,
        1
    );
}

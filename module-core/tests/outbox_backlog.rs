//! What the relay's metrics read off the outbox: pending and failed events and the oldest
//! pending one (`petory_outbox_*` in `deploy/prometheus/rules.yml`).

use chrono::{TimeDelta, TimeZone as _, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use petory_core::platform::outbox::{self, Backlog};
use petory_core::ports::Mail;
use petory_core::testing::TestDatabase;

fn mail(n: u32) -> Mail {
    Mail {
        to: format!("member{n}@example.com"),
        subject: "Hello".into(),
        body: "…".into(),
    }
}

#[tokio::test]
async fn the_backlog_counts_pending_and_failed_events_and_ages_the_oldest() {
    let database = TestDatabase::new().await;
    let mut conn = AsyncPgConnection::establish(database.url()).await.unwrap();
    assert_eq!(
        outbox::backlog(&mut conn).await.unwrap(),
        Backlog {
            pending: 0,
            failed: 0,
            oldest_pending: None
        }
    );
    let first = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let oldest = outbox::record(&mut conn, &mail(1), first).await.unwrap();
    outbox::record(&mut conn, &mail(2), first + TimeDelta::minutes(1))
        .await
        .unwrap();
    outbox::record(&mut conn, &mail(3), first + TimeDelta::minutes(2))
        .await
        .unwrap();
    // The oldest gives up (its last attempt failed with no retry left).
    let claimed = outbox::claim_due(&mut conn, first, 1, TimeDelta::minutes(5))
        .await
        .unwrap();
    assert_eq!(claimed[0].id, oldest);
    assert!(
        outbox::record_attempt_failed(&mut conn, &claimed[0], "smtp: 550 no such user", None)
            .await
            .unwrap()
    );
    // Delivered events are neither.
    conn.batch_execute(
        "UPDATE outbox_events SET status = 'DELIVERED', delivered_at = now()
          WHERE id = (SELECT max(id) FROM outbox_events)",
    )
    .await
    .unwrap();
    assert_eq!(
        outbox::backlog(&mut conn).await.unwrap(),
        Backlog {
            pending: 1,
            failed: 1,
            oldest_pending: Some(first + TimeDelta::minutes(1)),
        }
    );
}

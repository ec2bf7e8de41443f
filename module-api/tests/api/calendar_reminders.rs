//! The `calendar-reminders` job as a user lives it: an event's reminders arrive on the live
//! stream when they fall due (all-day events' before 09:00 of their day), never before they
//! were set and never twice, not when the job runs twice nor when it dies mid-way; pets'
//! D-days arrive once at 09:00, the same ones the D-day list shows.

use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl as _;
use petory_core::calendar::reminder;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::daily::{DDays, Event, Notification, event, occurrences};
use crate::notifications::{next_events, open_stream};
use crate::util::TestApp;

const EMAIL: &str = "me@example.com";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// One pass of the job's reminder part at `now` (two workers, small chunks).
async fn remind(app: &TestApp, now: &str) -> Result<reminder::ReminderCounts, String> {
    app.clock.set(at(now));
    reminder::send_reminders(
        &app.state.db,
        app.state.notifications.as_ref(),
        at(now),
        2,
        2,
    )
    .await
    .map_err(|error| error.to_string())
}

async fn d_days(app: &TestApp, now: &str) -> usize {
    app.clock.set(at(now));
    reminder::send_d_days(
        &app.state.db,
        app.state.notifications.as_ref(),
        &app.state.calendar,
        at(now),
    )
    .await
    .unwrap()
}

/// `member` logged in again: a token valid at the clock's time (access tokens outlive no
/// clock jump).
async fn now_as(app: &TestApp, member: &Member) -> Member {
    member.clone().logged_in_again(app).await
}

/// The notifications of `member`, oldest first: (kind, title, body).
async fn notified(app: &TestApp, member: &Member) -> Vec<(String, String, String)> {
    let page: Page<Notification> = now_as(app, member)
        .await
        .get("/api/v1/notifications?limit=100")
        .await;
    let mut items: Vec<(String, String, String)> = page
        .items
        .into_iter()
        .map(|n| (n.kind, n.title, n.body))
        .collect();
    items.reverse();
    items
}

#[tokio::test]
async fn reminders_arrive_live_when_due_once_even_across_reruns_and_a_crash() {
    let app = TestApp::spawn().await;
    let me = app.member(EMAIL).await;
    // Monday 2026-11-23, 10:00 in Seoul. A daily walk at 10:30 (reminders 10 and 0 minutes
    // before), a vet visit at 10:20 whose 30-minute reminder passed before it was set, a trip
    // tomorrow (all day) to be reminded 15 hours before 09:00, i.e. today at 18:00.
    let add = |body: Value| event(&me, body);
    add(
        json!({"title": "산책", "start": "2026-11-23T10:30", "end": "2026-11-23T11:00",
               "time_zone": "Asia/Seoul", "rrule": "FREQ=DAILY",
               "reminders": [{"minutes_before": 10}, {"minutes_before": 0}]}),
    )
    .await;
    add(
        json!({"title": "병원", "start": "2026-11-23T10:20", "end": "2026-11-23T10:50",
               "time_zone": "Asia/Seoul", "reminders": [{"minutes_before": 30}]}),
    )
    .await;
    add(
        json!({"title": "여행", "all_day": true, "start": "2026-11-24", "end": "2026-11-25",
               "time_zone": "Asia/Seoul", "reminders": [{"minutes_before": 900}]}),
    )
    .await;
    // Someone else's event is theirs alone.
    let other = app.member("other@example.com").await;
    event(
        &other,
        json!({"title": "남의 일정", "start": "2026-11-23T10:25", "end": "2026-11-23T11:00",
               "time_zone": "Asia/Seoul", "reminders": [{"minutes_before": 5}]}),
    )
    .await;
    let mut stream = open_stream(&app.base_url, &me.token, None).await;

    // 10:00:30: nothing due yet, but every event is looked at once (their next reminders set).
    let first = remind(&app, "2026-11-23T01:00:30Z").await.unwrap();
    assert_eq!((first.events, first.reminded), (4, 0));
    assert_eq!(
        remind(&app, "2026-11-23T01:00:40Z").await.unwrap().events,
        0,
        "none due"
    );

    // 10:20:05: the walk's 10-minute reminder (and the other user's), live; again: nothing.
    let due = remind(&app, "2026-11-23T01:20:05Z").await.unwrap();
    assert_eq!(due.reminded, 2);
    assert_eq!(next_events(&mut stream, 1).await.len(), 1);
    assert_eq!(
        remind(&app, "2026-11-23T01:20:05Z").await.unwrap().reminded,
        0
    );
    assert_eq!(
        notified(&app, &me).await,
        [(
            "EVENT_REMINDER".to_owned(),
            "산책".to_owned(),
            "11월 23일 10:30에 시작해요".to_owned()
        )]
    );

    // 10:30:10: the job dies before its commit (its last statement fails): nothing is sent
    // and nothing is lost; the next run sends the reminder once.
    let mut conn = app.state.db.get().await.unwrap();
    for statement in [
        "CREATE FUNCTION fail_reminders() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN RAISE EXCEPTION 'the job died'; END $$",
        "CREATE TRIGGER fail_reminders BEFORE UPDATE ON calendar_reminder_queue
         FOR EACH ROW EXECUTE FUNCTION fail_reminders()",
    ] {
        diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let died = remind(&app, "2026-11-23T01:30:10Z").await.unwrap_err();
    assert!(died.contains("the job died"), "{died}");
    assert_eq!(notified(&app, &me).await.len(), 1);
    diesel::sql_query("DROP TRIGGER fail_reminders ON calendar_reminder_queue")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(
        remind(&app, "2026-11-23T01:30:10Z").await.unwrap().reminded,
        1
    );
    assert_eq!(
        remind(&app, "2026-11-23T01:31:00Z").await.unwrap().reminded,
        0
    );
    assert_eq!(next_events(&mut stream, 1).await.len(), 1);

    // Editing the walk does not send today's reminders again.
    let me = now_as(&app, &me).await;
    let walk = occurrences(&me, "2026-11-23", "2026-11-24")
        .await
        .into_iter()
        .find(|occurrence| occurrence.title == "산책")
        .unwrap()
        .series_id;
    let _: Event = me
        .patch(
            &format!("/api/v1/users/me/events/{walk}/occurrences/2026-11-23"),
            json!({"title": "비 오는 산책"}),
        )
        .await;
    assert_eq!(
        remind(&app, "2026-11-23T01:32:00Z").await.unwrap().reminded,
        0
    );

    // 18:00:20: the trip's reminder; the vet visit's never came. Tomorrow 10:20 the walk again.
    assert_eq!(
        remind(&app, "2026-11-23T09:00:20Z").await.unwrap().reminded,
        1
    );
    assert_eq!(
        remind(&app, "2026-11-24T01:20:01Z").await.unwrap().reminded,
        1
    );
    let titles: Vec<String> = notified(&app, &me)
        .await
        .into_iter()
        .map(|(_, title, body)| format!("{title} / {body}"))
        .collect();
    assert_eq!(
        titles,
        [
            "산책 / 11월 23일 10:30에 시작해요",
            "산책 / 11월 23일 10:30에 시작해요",
            "여행 / 11월 24일, 하루 종일",
            "산책 / 11월 24일 10:30에 시작해요",
        ]
    );
}

#[tokio::test]
async fn d_days_arrive_once_at_nine_the_same_as_the_d_day_list() {
    let app = TestApp::spawn().await;
    let me = app.member(EMAIL).await;
    // Today (2026-11-23): Bori turns 6 and has been home 100 days; Nabi has nothing today.
    let _: Value = me
        .post(
            "/api/v1/pets",
            json!({"name": "보리", "species": "DOG", "birthday": "2020-11-23", "adopted_on": "2026-08-15"}),
        )
        .await;
    let _: Value = me
        .post(
            "/api/v1/pets",
            json!({"name": "나비", "species": "CAT", "birthday": "2024-02-29"}),
        )
        .await;
    let mut stream = open_stream(&app.base_url, &me.token, None).await;

    assert_eq!(
        d_days(&app, "2026-11-22T23:59:00Z").await,
        0,
        "08:59 in Seoul"
    );
    assert_eq!(d_days(&app, "2026-11-23T00:00:30Z").await, 2);
    assert_eq!(d_days(&app, "2026-11-23T00:01:30Z").await, 0, "once a day");
    assert_eq!(next_events(&mut stream, 1).await.len(), 1);
    let told: Vec<String> = notified(&app, &me)
        .await
        .into_iter()
        .map(|(kind, title, _)| format!("{kind} {title}"))
        .collect();
    assert_eq!(
        told,
        [
            "PET_DDAY 오늘은 보리의 6번째 생일이에요",
            "PET_DDAY 보리와(과) 함께한 지 100일이에요",
        ]
    );
    let listed: DDays = now_as(&app, &me)
        .await
        .get("/api/v1/users/me/d-days?within_days=0")
        .await;
    // The same D-days as the list of today's, one for one (names quoted, as JSON writes them).
    let listed: Vec<String> = listed
        .items
        .iter()
        .map(|dday| format!("{:?} {:?} {}", dday.pet_name, dday.kind, dday.number))
        .collect();
    assert_eq!(
        listed,
        ["\"보리\" \"BIRTHDAY\" 6", "\"보리\" \"DAYS_TOGETHER\" 100"]
    );
}

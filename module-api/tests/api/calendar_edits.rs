//! Editing the pet calendar's series: one occurrence edited on its own (an exception named by
//! its date), "this and following" splitting a series in two, and what is refused.

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, Member};
use crate::fixtures::daily::{EditedOccurrence, Event, event, occurrences, starts};
use crate::util::{TestApp, assert_problem};

async fn edit(owner: &Member, series: i64, date: &str, body: Value) -> reqwest::Response {
    owner
        .request(
            Method::PATCH,
            &format!("/api/v1/users/me/events/{series}/occurrences/{date}"),
            Some(body),
        )
        .await
}

async fn edit_ok(owner: &Member, series: i64, date: &str, body: Value) -> Event {
    let response = edit(owner, series, date, body).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

#[tokio::test]
async fn one_occurrence_is_edited_alone_and_this_and_following_splits_the_series() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    // Yoga on Mondays at 18:00 New York time, six times (2 March to 6 April).
    let yoga = event(
        &me,
        json!({"title": "요가", "start": "2026-03-02T18:00", "end": "2026-03-02T19:00",
               "time_zone": "America/New_York", "rrule": "FREQ=WEEKLY;COUNT=6"}),
    )
    .await;
    let march = || occurrences(&me, "2026-03-01T00:00:00Z", "2026-04-10T00:00:00Z");

    // The 16th moves to Tuesday evening with its own title: an exception still named by its
    // date; a second edit of it changes the exception, not the series.
    let edited = edit_ok(
        &me,
        yoga.id,
        "2026-03-16",
        json!({"start": "2026-03-17T20:00", "title": "요가 (화)"}),
    )
    .await;
    assert_eq!(edited.id, yoga.id);
    assert_eq!(
        edited.edited_occurrences,
        [EditedOccurrence {
            occurrence_date: "2026-03-16".into(),
            title: "요가 (화)".into(),
            memo: String::new(),
            start: "2026-03-17T20:00:00".into(),
            end: "2026-03-17T21:00:00".into(),
            color: "#3788D8".into(),
        }]
    );
    let edited = edit_ok(&me, yoga.id, "2026-03-16", json!({"color": "#00aa00"})).await;
    assert_eq!(edited.edited_occurrences[0].start, "2026-03-17T20:00:00");
    assert_eq!(edited.edited_occurrences[0].color, "#00AA00");
    let found = march().await;
    assert_eq!(
        starts(&found),
        [
            "2026-03-02T18:00:00-05:00",
            "2026-03-09T18:00:00-04:00",
            "2026-03-17T20:00:00-04:00",
            "2026-03-23T18:00:00-04:00",
            "2026-03-30T18:00:00-04:00",
            "2026-04-06T18:00:00-04:00",
        ]
    );
    assert_eq!(found[2].title, "요가 (화)");
    assert_eq!(found[2].id, format!("{}:2026-03-16", yoga.id));
    assert_eq!(found[2].occurrence_date, "2026-03-16");

    // Cancelling the edited occurrence drops the edit too.
    let cancelled = me
        .request(
            Method::DELETE,
            &format!("/api/v1/users/me/events/{}/occurrences/2026-03-16", yoga.id),
            None,
        )
        .await;
    let cancelled: Event = cancelled.json().await.unwrap();
    assert!(cancelled.edited_occurrences.is_empty());
    assert_eq!(cancelled.exdates, ["2026-03-16T18:00:00"]);

    // From the 23rd on, yoga is in the morning: the series keeps its first three (COUNT counts
    // the cancelled one, as RFC 5545 does) and a new series takes the other three.
    let following = edit_ok(
        &me,
        yoga.id,
        "2026-03-23",
        json!({"apply_to": "FOLLOWING", "start": "2026-03-23T07:00"}),
    )
    .await;
    assert_ne!(following.id, yoga.id);
    assert_eq!(following.start, "2026-03-23T07:00:00");
    assert_eq!(following.end, "2026-03-23T08:00:00");
    assert_eq!(following.rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=3"));
    let earlier: Event = me
        .get(&format!("/api/v1/users/me/events/{}", yoga.id))
        .await;
    assert_eq!(earlier.rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=3"));
    let found = march().await;
    assert_eq!(
        starts(&found),
        [
            "2026-03-02T18:00:00-05:00",
            "2026-03-09T18:00:00-04:00",
            "2026-03-23T07:00:00-04:00",
            "2026-03-30T07:00:00-04:00",
            "2026-04-06T07:00:00-04:00",
        ]
    );

    // An endless daily walk renamed from the 10th: the old series ends the second before.
    let walk = event(
        &me,
        json!({"title": "산책", "start": "2026-11-01T08:00", "end": "2026-11-01T08:30",
               "time_zone": "Asia/Seoul", "rrule": "FREQ=DAILY", "exdates": ["2026-11-12T08:00"]}),
    )
    .await;
    let renamed = edit_ok(
        &me,
        walk.id,
        "2026-11-10",
        json!({"apply_to": "FOLLOWING", "title": "아침 산책"}),
    )
    .await;
    assert_eq!(renamed.rrule.as_deref(), Some("FREQ=DAILY"));
    assert_eq!(renamed.exdates, ["2026-11-12T08:00:00"]);
    let earlier: Event = me
        .get(&format!("/api/v1/users/me/events/{}", walk.id))
        .await;
    assert_eq!(
        earlier.rrule.as_deref(),
        Some("FREQ=DAILY;UNTIL=20261109T225959Z")
    );
    assert!(earlier.exdates.is_empty());
    let found = occurrences(&me, "2026-11-08", "2026-11-14").await;
    assert_eq!(
        found
            .iter()
            .map(|o| format!("{} {}", o.occurrence_date, o.title))
            .collect::<Vec<_>>(),
        [
            "2026-11-08 산책",
            "2026-11-09 산책",
            "2026-11-10 아침 산책",
            "2026-11-11 아침 산책",
            "2026-11-13 아침 산책"
        ]
    );

    // Rewriting a series drops its edited occurrences.
    edit_ok(
        &me,
        renamed.id,
        "2026-11-11",
        json!({"title": "비 오는 날"}),
    )
    .await;
    let rewritten: Event = me
        .put(
            &format!("/api/v1/users/me/events/{}", renamed.id),
            json!({"title": "아침 산책", "start": "2026-11-10T08:00", "end": "2026-11-10T08:30",
                    "time_zone": "Asia/Seoul", "rrule": "FREQ=DAILY"}),
        )
        .await;
    assert!(rewritten.edited_occurrences.is_empty());

    // What is refused, changing nothing.
    let other = app.member("other@example.com").await;
    for (member, date, body, status, code) in [
        (
            &other,
            "2026-11-02",
            json!({"title": "x"}),
            404,
            "EVENT_NOT_FOUND",
        ),
        (
            &me,
            "2026-11-10",
            json!({"title": "x"}),
            404,
            "OCCURRENCE_NOT_FOUND",
        ),
        (
            &me,
            "2026-11-02",
            json!({"start": "2026-11-02 8시"}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            &me,
            "2026-11-02",
            json!({"start": "2026-11-02T09:00", "end": "2026-11-02T08:00"}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            &me,
            "2026-11-02",
            json!({"title": "   "}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            &me,
            "2026-11-02",
            json!({"apply_to": "SOMETIMES"}),
            422,
            "INVALID_BODY",
        ),
    ] {
        assert_problem(edit(member, walk.id, date, body).await, status, code).await;
    }
    let single = event(
        &me,
        json!({"title": "접종", "start": "2026-11-20T10:00", "end": "2026-11-20T10:30",
               "time_zone": "Asia/Seoul"}),
    )
    .await;
    assert_problem(
        edit(&me, single.id, "2026-11-20", json!({"title": "x"})).await,
        409,
        "EVENT_NOT_RECURRING",
    )
    .await;
    let unchanged: Event = me
        .get(&format!("/api/v1/users/me/events/{}", walk.id))
        .await;
    assert!(unchanged.edited_occurrences.is_empty());
    assert_eq!(
        unchanged.rrule.as_deref(),
        Some("FREQ=DAILY;UNTIL=20261109T225959Z")
    );
}

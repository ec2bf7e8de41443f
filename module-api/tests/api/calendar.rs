//! The pet calendar: events in their own time zone, recurrences expanded across a daylight-saving
//! change with exceptions, FullCalendar-ready occurrences, and what is refused.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::Client;
use crate::fixtures::daily::{Event, Occurrence, event, occurrences, starts};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Pet {
    id: i64,
}

/// A `422` problem document with the reasons field by field.
#[derive(Debug, Deserialize)]
struct Invalid {
    code: String,
    errors: Vec<FieldError>,
}

#[derive(Debug, Deserialize)]
struct FieldError {
    code: String,
    message: String,
}

fn dates(found: &[Occurrence]) -> Vec<&str> {
    found.iter().map(|o| o.occurrence_date.as_str()).collect()
}

#[tokio::test]
async fn recurring_events_expand_in_their_own_zone_across_daylight_saving_with_exceptions() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    // A walk at 9:00 New York time, every day for five days over the spring-forward night,
    // the 9th cancelled.
    let walk = event(
        &me,
        json!({"title": "산책", "start": "2026-03-06T09:00", "end": "2026-03-06T10:00",
               "time_zone": "America/New_York", "color": "#ff8800",
               "rrule": "FREQ=DAILY;COUNT=5", "exdates": ["2026-03-09T09:00"],
               "reminders": [{"minutes_before": 30}]}),
    )
    .await;
    assert_eq!(walk.start, "2026-03-06T09:00:00");
    assert_eq!(walk.color, "#FF8800");
    assert_eq!(walk.exdates, ["2026-03-09T09:00:00"]);
    // A yearly all-day birthday in Seoul.
    let birthday = event(
        &me,
        json!({"title": "보리 생일", "all_day": true, "start": "2021-03-07", "end": "2021-03-08",
               "time_zone": "Asia/Seoul", "rrule": "FREQ=YEARLY"}),
    )
    .await;

    let found = occurrences(&me, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z").await;
    assert_eq!(
        starts(&found),
        [
            "2026-03-06T09:00:00-05:00",
            "2026-03-07",
            "2026-03-07T09:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-10T09:00:00-04:00",
        ]
    );
    let sunday = &found[3];
    assert_eq!(sunday.end, "2026-03-08T10:00:00-04:00");
    assert!(!sunday.all_day);
    assert_eq!(sunday.color, "#FF8800");
    assert_eq!(sunday.series_id, walk.id);
    assert_eq!(sunday.occurrence_date, "2026-03-08");
    assert_eq!(sunday.id, format!("{}:2026-03-08", walk.id));
    assert!(found[1].all_day);
    assert_eq!(found[1].end, "2026-03-08");
    assert_eq!(found[1].series_id, birthday.id);

    // Cancelling one occurrence makes it an exception (again changes nothing); dates it has no
    // occurrence on, and single events, are refused.
    let (owner, series) = (&me, walk.id);
    let cancel = move |date: &str| {
        let path = format!("/api/v1/users/me/events/{series}/occurrences/{date}");
        async move { owner.request(Method::DELETE, &path, None).await }
    };
    for _ in 0..2 {
        let cancelled = cancel("2026-03-07").await;
        assert_eq!(cancelled.status(), 200);
        let cancelled: Event = cancelled.json().await.unwrap();
        assert_eq!(
            cancelled.exdates,
            ["2026-03-09T09:00:00", "2026-03-07T09:00:00"]
        );
    }
    assert_eq!(
        cancel("2026-03-09").await.status(),
        200,
        "cancelled before: harmless"
    );
    assert_problem(cancel("2026-03-11").await, 404, "OCCURRENCE_NOT_FOUND").await;
    assert_problem(cancel("2026-04-01").await, 404, "OCCURRENCE_NOT_FOUND").await;
    let single = event(
        &me,
        json!({"title": "접종", "start": "2026-03-20T10:00", "end": "2026-03-20T10:30",
               "time_zone": "Asia/Seoul"}),
    )
    .await;
    assert_problem(
        me.request(
            Method::DELETE,
            &format!(
                "/api/v1/users/me/events/{}/occurrences/2026-03-20",
                single.id
            ),
            None,
        )
        .await,
        409,
        "EVENT_NOT_RECURRING",
    )
    .await;
    me.request(
        Method::DELETE,
        &format!("/api/v1/users/me/events/{}", single.id),
        None,
    )
    .await;
    let found = occurrences(&me, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z").await;
    assert_eq!(
        dates(&found),
        ["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-10"],
        "the walk of the 7th is gone; the birthday of the 7th stays"
    );

    // A range that cuts through: only what overlaps it; dates mean business-zone midnights.
    let day = occurrences(&me, "2026-03-08", "2026-03-09").await;
    assert_eq!(dates(&day), ["2026-03-08"]);

    // Rewriting the series moves every occurrence; deleting it removes them all.
    let path = format!("/api/v1/users/me/events/{}", walk.id);
    let moved: Event = me
        .put(
            &path,
            json!({"title": "저녁 산책", "start": "2026-03-06T18:30", "end": "2026-03-06T19:00",
                    "time_zone": "America/New_York", "rrule": "FREQ=DAILY;COUNT=2"}),
        )
        .await;
    assert_eq!(moved.title, "저녁 산책");
    let found = occurrences(&me, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z").await;
    assert_eq!(
        starts(&found),
        // In time order: the Seoul birthday starts before New York's evening of the 6th.
        [
            "2026-03-07",
            "2026-03-06T18:30:00-05:00",
            "2026-03-07T18:30:00-05:00"
        ]
    );
    let deleted = me.request(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        occurrences(&me, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
            .await
            .len(),
        1
    );
    assert_problem(
        me.request(Method::GET, &path, None).await,
        404,
        "EVENT_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn events_are_mine_alone_and_bad_ones_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    let other = app.member("other@example.com").await;
    let hospital = event(
        &me,
        json!({"title": "병원", "start": "2026-11-25T10:00", "end": "2026-11-25T11:00",
               "time_zone": "Asia/Seoul"}),
    )
    .await;
    let path = format!("/api/v1/users/me/events/{}", hospital.id);
    for method in [Method::GET, Method::DELETE] {
        assert_problem(
            other.request(method, &path, None).await,
            404,
            "EVENT_NOT_FOUND",
        )
        .await;
    }
    assert!(
        occurrences(&other, "2026-11-01", "2026-12-01")
            .await
            .is_empty()
    );
    let theirs: Pet = other
        .post("/api/v1/pets", json!({"name": "남의 개", "species": "DOG"}))
        .await;

    let base = json!({"title": "x", "start": "2026-11-25T10:00", "end": "2026-11-25T11:00",
                      "time_zone": "Asia/Seoul"});
    let with = |changes: Value| {
        let mut body = base.clone();
        for (key, value) in changes.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let refused = |body: Value| me.request(Method::POST, "/api/v1/users/me/events", Some(body));
    let reason = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 422);
        let problem: Invalid = response.json().await.unwrap();
        assert_eq!(problem.code, "VALIDATION_FAILED");
        problem.errors[0].code.clone()
    };
    assert_eq!(
        reason(refused(with(json!({"time_zone": "Mars/Olympus"}))).await).await,
        "UNKNOWN_TIME_ZONE"
    );
    assert_eq!(
        reason(refused(with(json!({"time_zone": "America/New_York", "start": "2026-03-08T02:30", "end": "2026-03-08T04:00"}))).await).await,
        "NONEXISTENT_TIME"
    );
    assert_eq!(
        reason(refused(with(json!({"end": "2026-11-25T09:00"}))).await).await,
        "END_BEFORE_START"
    );
    assert_eq!(
        reason(refused(with(json!({"start": "tomorrow 10am"}))).await).await,
        "INVALID_LOCAL_TIME"
    );
    assert_eq!(
        reason(refused(with(json!({"all_day": true}))).await).await,
        "INVALID_LOCAL_TIME"
    );
    assert_eq!(
        reason(refused(with(json!({"rrule": "FREQ=HOURLY"}))).await).await,
        "INVALID_RRULE"
    );
    assert_eq!(
        reason(refused(with(json!({"exdates": ["2026-11-26T10:00"]}))).await).await,
        "NOT_RECURRING"
    );
    assert_eq!(
        reason(refused(with(json!({"reminders": [{"minutes_before": 50000}]}))).await).await,
        "range",
        "the documented limit"
    );
    let bad_rule = refused(with(json!({"rrule": "FREQ=DAILY;BYDAY=XX"}))).await;
    let problem: Invalid = bad_rule.json().await.unwrap();
    assert!(
        problem.errors[0].message.contains("XX"),
        "the parser's reason: {problem:?}"
    );
    assert_problem(
        refused(with(json!({"pet_id": theirs.id}))).await,
        404,
        "PET_NOT_FOUND",
    )
    .await;
    assert_problem(
        refused(with(json!({"color": "red"}))).await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    // Ranges: both ends, in order, at most a year.
    for (from, to) in [("2026-01-01", "2027-01-03"), ("2026-02-01", "2026-01-01")] {
        assert_problem(
            me.request(
                Method::GET,
                &format!("/api/v1/users/me/events?from={from}&to={to}"),
                None,
            )
            .await,
            400,
            "RANGE_TOO_LONG",
        )
        .await;
    }
    // Events and ranges lie in 1900 to 2200: a daily rule from year 1 was walked day by day
    // at every listing.
    for changes in [
        json!({"start": "0001-01-01T10:00", "end": "0001-01-01T11:00", "rrule": "FREQ=DAILY"}),
        json!({"start": "2201-01-01T10:00", "end": "2201-01-01T11:00"}),
        json!({"rrule": "FREQ=DAILY", "exdates": ["1800-01-01T10:00"]}),
    ] {
        assert_eq!(reason(refused(with(changes)).await).await, "OUT_OF_YEARS");
    }
    assert_eq!(
        reason(refused(with(json!({"rrule": "FREQ=DAILY;COUNT=100000"}))).await).await,
        "INVALID_RRULE"
    );
    assert_problem(
        me.request(
            Method::GET,
            "/api/v1/users/me/events?from=0001-01-01&to=0001-02-01",
            None,
        )
        .await,
        400,
        "OUT_OF_YEARS",
    )
    .await;
    assert_problem(
        me.request(
            Method::GET,
            "/api/v1/users/me/events?from=yesterday&to=2026-12-01",
            None,
        )
        .await,
        400,
        "INVALID_QUERY",
    )
    .await;
    // Nothing refused was kept.
    assert_eq!(occurrences(&me, "2026-11-01", "2026-12-01").await.len(), 1);
}

#[tokio::test]
async fn a_daily_event_from_the_oldest_year_lists_this_month_like_a_new_one() {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    for (title, start, end, rule) in [
        ("약", "1900-01-01T08:00", "1900-01-01T08:10", "FREQ=DAILY"),
        ("산책", "2026-11-30T18:00", "2026-11-30T19:00", "FREQ=DAILY"),
        (
            "목욕",
            "1900-01-06T10:00",
            "1900-01-06T11:00",
            "FREQ=WEEKLY;INTERVAL=2",
        ),
        (
            "사료 주문",
            "1900-01-31T09:00",
            "1900-01-31T09:30",
            "FREQ=MONTHLY;COUNT=5000",
        ),
    ] {
        event(
            &me,
            json!({"title": title, "start": start, "end": end, "time_zone": "Asia/Seoul",
                   "rrule": rule}),
        )
        .await;
    }
    let found = occurrences(&me, "2026-12-01", "2027-01-01").await;
    let count = |title: &str| found.iter().filter(|o| o.title == title).count();
    let first = |title: &str| found.iter().find(|o| o.title == title).unwrap();
    assert_eq!(count("약"), 31);
    assert_eq!(count("산책"), 31);
    // Every other Saturday since 6 January 1900 (a Saturday): 2026-12-05 is one of them.
    assert_eq!(count("목욕"), 2);
    assert_eq!(first("목욕").start, "2026-12-05T10:00:00+09:00");
    // 5,000 months from January 1900 end in 2316: the 31st of each month that has one.
    assert_eq!(count("사료 주문"), 1);
    assert_eq!(first("약").start, "2026-12-01T08:00:00+09:00");
}

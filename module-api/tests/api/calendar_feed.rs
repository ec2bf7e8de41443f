//! The calendar as iCalendar: the secret feed read back by an independent parser (Python's
//! `icalendar` and `recurring-ical-events`) equal to the API's own occurrences, the feed's
//! address rotated and stopped, and `.ics` files imported idempotently by UID.

use std::io::Write as _;
use std::process::{Command, Stdio};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Member};
use crate::fixtures::daily::{Event, Occurrence, event, occurrences};
use crate::util::{TestApp, assert_problem};

/// The feed's address.
#[derive(Debug, Deserialize)]
struct Feed {
    url: String,
}

/// What an import did: every field it reports.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Imported {
    created: i64,
    updated: i64,
    skipped: Vec<Skipped>,
}

/// An event the calendar could not keep.
#[derive(Debug, PartialEq, Deserialize)]
struct Skipped {
    uid: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct Pet {
    id: i64,
}

/// What the independent reader found in the feed.
#[derive(Debug, Deserialize)]
struct ReadByPython {
    timezones: Vec<String>,
    occurrences: Vec<PythonOccurrence>,
}

#[derive(Debug, Deserialize)]
struct PythonOccurrence {
    title: String,
    start: String,
    end: String,
    alarms: Vec<i64>,
}

const FROM: &str = "2026-03-01T00:00:00+00:00";
const TO: &str = "2026-05-01T00:00:00+00:00";

/// A calendar with what a feed must carry: zones with and without daylight saving, a daily
/// series across the change with an exception and a reminder, an all-day yearly birthday, a
/// weekly series with an edited occurrence, one split "this and following", a single event.
async fn calendar(me: &Member) {
    let add = |body: Value| event(me, body);
    add(
        json!({"title": "산책", "memo": "공원 한 바퀴", "start": "2026-03-06T09:00",
               "end": "2026-03-06T10:00", "time_zone": "America/New_York",
               "rrule": "FREQ=DAILY;COUNT=5", "exdates": ["2026-03-09T09:00"],
               "reminders": [{"minutes_before": 30}, {"minutes_before": 1440}]}),
    )
    .await;
    add(
        json!({"title": "보리 생일", "all_day": true, "start": "2021-03-07", "end": "2021-03-08",
               "time_zone": "Asia/Seoul", "rrule": "FREQ=YEARLY"}),
    )
    .await;
    let yoga = add(
        json!({"title": "요가", "start": "2026-03-02T18:00", "end": "2026-03-02T19:00",
                          "time_zone": "America/New_York", "rrule": "FREQ=WEEKLY;COUNT=6"}),
    )
    .await;
    let _: Event = me
        .patch(
            &format!("/api/v1/users/me/events/{}/occurrences/2026-03-16", yoga.id),
            json!({"start": "2026-03-17T20:00", "title": "요가 (화)"}),
        )
        .await;
    let feeding = add(json!({"title": "사료", "start": "2026-04-01T08:00", "end": "2026-04-01T08:15",
                             "time_zone": "Asia/Seoul", "rrule": "FREQ=DAILY;UNTIL=20260420T235959"}))
    .await;
    let _: Event = me
        .patch(
            &format!(
                "/api/v1/users/me/events/{}/occurrences/2026-04-10",
                feeding.id
            ),
            json!({"apply_to": "FOLLOWING", "title": "새 사료", "start": "2026-04-10T07:30"}),
        )
        .await;
    add(
        json!({"title": "접종", "start": "2026-03-20T10:00", "end": "2026-03-20T10:30",
               "time_zone": "Asia/Seoul"}),
    )
    .await;
}

/// (title, start, end) of every occurrence the API lists, in one order.
async fn api_occurrences(member: &Member) -> Vec<(String, String, String)> {
    let found = occurrences(member, &FROM.replace('+', "%2B"), &TO.replace('+', "%2B")).await;
    sorted(
        found
            .into_iter()
            .map(|o: Occurrence| (o.title, o.start, o.end))
            .collect(),
    )
}

/// (title, start, end) of each occurrence the independent reader found, sorted.
fn title_start_end(items: &[PythonOccurrence]) -> Vec<(String, String, String)> {
    sorted(
        items
            .iter()
            .map(|o| (o.title.clone(), o.start.clone(), o.end.clone()))
            .collect(),
    )
}

fn sorted(mut found: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
    found.sort();
    found
}

/// The feed read by Python's `icalendar` and `recurring-ical-events` (installed by
/// `scripts/test` and pointed to by `PETORY_ICAL_PYTHON`).
fn read_by_python(feed: &str) -> ReadByPython {
    let python = std::env::var("PETORY_ICAL_PYTHON")
        .unwrap_or_else(|_| "/var/tmp/petory-tools/ical-check/bin/python".to_owned());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/ical-check/occurrences.py"
    );
    let mut child = Command::new(&python)
        .args([script, FROM, TO])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("{python}: {error} (scripts/test installs the checker; see ical_checker)")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(feed.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the independent reader refused the feed: {}\n{feed}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The API path of a feed address.
fn feed_path(url: &str) -> String {
    format!("/api/v1{}", url.split("/api/v1").nth(1).unwrap())
}

/// A member with the calendar above and a feed address: the app, their token, the address.
async fn member_with_a_feed() -> (TestApp, Member, Feed) {
    let app = TestApp::spawn().await;
    let me = app.member("me@example.com").await;
    calendar(&me).await;
    let made = me.post("/api/v1/users/me/calendar-feed", json!({})).await;
    (app, me, made)
}

/// The feed at `path`, as a calendar application fetches it: without a token.
async fn fetch(app: &TestApp, path: &str) -> reqwest::Response {
    app.guest().request(Method::GET, path, None).await
}

#[tokio::test]
async fn the_feed_read_by_an_independent_parser_equals_the_apis_occurrences() {
    let (app, me, made) = member_with_a_feed().await;
    let path = feed_path(&made.url);
    assert!(path.ends_with(".ics"));

    let response = fetch(&app, &path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let feed = response.text().await.unwrap();
    for part in [
        "BEGIN:VTIMEZONE\r\nTZID:America/New_York",
        "TZID:Asia/Seoul",
        "RRULE:FREQ=DAILY;COUNT=5",
        "EXDATE;TZID=America/New_York:20260309T090000",
        "RECURRENCE-ID;TZID=America/New_York:20260316T180000",
        "DTSTART;VALUE=DATE:20210307",
        "TRIGGER;RELATED=START:-PT1800S",
        // The floating UNTIL of the split series, in UTC as RFC 5545 asks.
        "RRULE:FREQ=DAILY;UNTIL=20260409T225959Z",
    ] {
        assert!(feed.contains(part), "{part} missing from\n{feed}");
    }

    let python = read_by_python(&feed);
    assert_eq!(python.timezones, ["America/New_York", "Asia/Seoul"]);
    let theirs = title_start_end(&python.occurrences);
    let ours = api_occurrences(&me).await;
    assert_eq!(
        ours.len(),
        4 + 1 + 6 + 20 + 1,
        "walk, birthday, yoga, feeding, vaccine"
    );
    assert_eq!(theirs, ours);
    let walk = python
        .occurrences
        .iter()
        .find(|o| o.title == "산책")
        .unwrap();
    assert_eq!(walk.alarms, [30, 1440]);

    // Unchanged: 304 for the ETag; the same text again.
    let unchanged = app
        .client
        .get(app.url(&path))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    assert_eq!(fetch(&app, &path).await.text().await.unwrap(), feed);

    // A new address stops the old one; stopping the feed stops the new one.
    let remade: Feed = me.post("/api/v1/users/me/calendar-feed", json!({})).await;
    assert_ne!(remade.url, made.url);
    assert_problem(fetch(&app, &path).await, 404, "FEED_NOT_FOUND").await;
    let path = feed_path(&remade.url);
    assert_eq!(fetch(&app, &path).await.status(), 200);
    assert_problem(
        fetch(&app, path.trim_end_matches(".ics")).await,
        404,
        "FEED_NOT_FOUND",
    )
    .await;
    let stopped = me
        .request(Method::DELETE, "/api/v1/users/me/calendar-feed", None)
        .await;
    assert_eq!(stopped.status(), 204);
    assert_problem(fetch(&app, &path).await, 404, "FEED_NOT_FOUND").await;
    assert_problem(
        fetch(&app, "/api/v1/calendar/not-a-token.ics").await,
        404,
        "FEED_NOT_FOUND",
    )
    .await;
}

/// `member` imports a file (the body is the file itself, not JSON).
async fn import(
    app: &TestApp,
    member: &Member,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/users/me/events/import"))
        .bearer_auth(&member.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_ics_file_is_imported_once_by_uid_and_bad_files_change_nothing() {
    let (app, me, made) = member_with_a_feed().await;
    let feed = fetch(&app, &feed_path(&made.url))
        .await
        .text()
        .await
        .unwrap();

    // Another user imports my feed: the same occurrences, series by series.
    let friend = app.member("friend@example.com").await;
    let first = import(&app, &friend, "text/calendar", feed.clone().into_bytes()).await;
    assert_eq!(first.status(), 200);
    let first: Imported = first.json().await.unwrap();
    assert_eq!(
        first,
        Imported {
            created: 6,
            updated: 0,
            skipped: vec![]
        }
    );
    let ours = api_occurrences(&me).await;
    assert_eq!(api_occurrences(&friend).await, ours);

    // Again: nothing new, every event rewritten in place.
    let again: Imported = import(
        &app,
        &friend,
        "text/calendar; charset=utf-8",
        feed.clone().into_bytes(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        again,
        Imported {
            created: 0,
            updated: 6,
            skipped: vec![]
        }
    );
    assert_eq!(api_occurrences(&friend).await, ours);

    // Bad files are refused and change nothing.
    assert_problem(
        import(&app, &friend, "application/json", feed.clone().into_bytes()).await,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    assert_problem(
        import(&app, &friend, "text/calendar", b"hello, calendar".to_vec()).await,
        422,
        "INVALID_ICALENDAR",
    )
    .await;
    assert_problem(
        import(
            &app,
            &friend,
            "text/calendar",
            feed.replace("산책", "산\0책").into_bytes(),
        )
        .await,
        422,
        "INVALID_ICALENDAR",
    )
    .await;
    assert_problem(
        import(&app, &friend, "text/calendar", vec![0xff, 0xfe, 0x00]).await,
        422,
        "INVALID_ICALENDAR",
    )
    .await;
    let huge = format!("{feed}{}", " ".repeat(600 * 1024));
    assert_problem(
        import(&app, &friend, "text/calendar", huge.into_bytes()).await,
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    assert_eq!(api_occurrences(&friend).await, ours);

    // Events the calendar cannot keep are reported, the others imported.
    let mixed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:ok@example.com\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260410\r\nSUMMARY:소풍\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:hourly@example.com\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260410T010000Z\r\nRRULE:FREQ=HOURLY\r\nSUMMARY:x\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
    let result: Imported = import(&app, &friend, "text/calendar", mixed.as_bytes().to_vec())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result.created, 1);
    assert_eq!(result.skipped[0].uid, "hourly@example.com");
    assert!(
        result.skipped[0].reason.contains("daily at most"),
        "{result:?}"
    );
    // What only I gave an imported event here, my pet and a colour, outlives importing it again.
    let pet: Pet = friend
        .post("/api/v1/pets", json!({"name": "보리", "species": "DOG"}))
        .await;
    let found = occurrences(&friend, "2026-04-10T00:00:00Z", "2026-04-11T00:00:00Z").await;
    let picnic = format!("/api/v1/users/me/events/{}", found[0].series_id);
    let _: Event = friend
        .put(
            &picnic,
            json!({"title": "소풍", "pet_id": pet.id, "all_day": true, "start": "2026-04-10",
                    "end": "2026-04-11", "time_zone": "Asia/Seoul", "color": "#00AA55"}),
        )
        .await;
    let renamed = mixed.replace("SUMMARY:소풍", "SUMMARY:봄 소풍");
    let result: Imported = import(&app, &friend, "text/calendar", renamed.into_bytes())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result.updated, 1);
    let kept: Event = friend.get(&picnic).await;
    assert_eq!(kept.title, "봄 소풍");
    assert_eq!(kept.pet_id, Some(pet.id));
    assert_eq!(kept.color, "#00AA55");
}

#[tokio::test]
async fn a_file_of_nested_components_is_refused_and_the_api_lives_on() {
    // Production's body limit, so that files up to the import's own 512 KiB arrive.
    let app = TestApp::builder().max_body_bytes(1024 * 1024).spawn().await;
    let me = app.member("me@example.com").await;
    // The reported attack: 30,000 nested components in 480 KB overflowed the parser's stack
    // and aborted the whole process.
    let mut bomb = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    bomb.push_str(&"BEGIN:X\r\n".repeat(30_000));
    assert!(bomb.len() < 512 * 1024);
    assert_problem(
        import(&app, &me, "text/calendar", bomb.into_bytes()).await,
        422,
        "ICALENDAR_TOO_COMPLEX",
    )
    .await;
    // Short lines up to the size cap: too many lines, refused alike.
    let endless = format!(
        "BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n",
        "X:a\r\n".repeat(100_000)
    );
    assert_problem(
        import(&app, &me, "text/calendar", endless.into_bytes()).await,
        422,
        "ICALENDAR_TOO_COMPLEX",
    )
    .await;
    // The process still answers, and nothing was imported.
    let events = occurrences(&me, "2026-01-01", "2026-12-31").await;
    assert!(events.is_empty());
}

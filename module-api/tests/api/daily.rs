//! The daily Q&A through HTTP: today's question, one answer a day, memories across years, and
//! the admin's questions.

use chrono::TimeDelta;
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::fixtures::daily::DDays;
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct Today {
    date: String,
    question: Question,
    my_answer: Option<Answer>,
}

#[derive(Debug, Deserialize)]
struct Question {
    id: i64,
    month: i64,
    day: i64,
    content: String,
    content_en: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Answer {
    id: i64,
    answered_on: String,
    content: String,
}

/// One of my answers of a year, with its question.
#[derive(Debug, Deserialize)]
struct Answered {
    question: Question,
    answer: Answer,
}

#[derive(Debug, Deserialize)]
struct Me {
    notify_daily_question: bool,
}

/// The answer's body, once it has this status.
async fn body<T: DeserializeOwned>(response: reqwest::Response, status: u16) -> T {
    assert_eq!(response.status().as_u16(), status, "{}", response.url());
    response.json().await.unwrap()
}

#[tokio::test]
async fn todays_question_is_answered_once_a_day_and_remembered_across_years() {
    let app = TestApp::spawn().await;
    // 2026-11-23 10:00 in Seoul; guests may read the question.
    let guest = app.guest();
    let today: Today = body(
        guest
            .request(Method::GET, "/api/v1/daily-questions/today", None)
            .await,
        200,
    )
    .await;
    assert_eq!(today.date, "2026-11-23");
    assert_eq!((today.question.month, today.question.day), (11, 23));
    assert!(today.question.content.ends_with('?'));
    assert!(today.question.content_en.is_some());
    assert!(today.my_answer.is_none());
    let question = today.question.id;

    let me = app.member("me@example.com").await;
    let answers = format!("/api/v1/daily-questions/{question}/answers");
    let first: Answer = body(
        me.request(
            Method::POST,
            &answers,
            Some(json!({"content": "Walks in the first snow"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(first.answered_on, "2026-11-23");
    assert_problem(
        me.request(Method::POST, &answers, Some(json!({"content": "again"})))
            .await,
        409,
        "ALREADY_ANSWERED",
    )
    .await;
    assert_problem(
        me.request(Method::POST, &answers, Some(json!({"content": ""})))
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    let mine_today: Today = body(
        me.request(Method::GET, "/api/v1/daily-questions/today", None)
            .await,
        200,
    )
    .await;
    assert_eq!(mine_today.my_answer.unwrap().id, first.id);

    // Only today's question takes answers.
    assert_problem(
        me.request(
            Method::POST,
            &format!("/api/v1/daily-questions/{}/answers", question + 1),
            Some(json!({"content": "early"})),
        )
        .await,
        409,
        "NOT_TODAYS_QUESTION",
    )
    .await;

    // Edits and deletes are the author's alone.
    let one = format!("{answers}/{}", first.id);
    let other = app.member("other@example.com").await;
    assert_problem(
        other
            .request(Method::PATCH, &one, Some(json!({"content": "mine now"})))
            .await,
        404,
        "ANSWER_NOT_FOUND",
    )
    .await;
    assert_problem(
        other.request(Method::DELETE, &one, None).await,
        404,
        "ANSWER_NOT_FOUND",
    )
    .await;
    let edited: Answer = body(
        me.request(
            Method::PATCH,
            &one,
            Some(json!({"content": "Walks in the snow, then a nap"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(edited.content, "Walks in the snow, then a nap");

    // A year later the same question comes back; memories show both years.
    app.clock.advance(TimeDelta::days(365));
    let me = me.logged_in_again(&app).await;
    let next_year: Today = body(
        guest
            .request(Method::GET, "/api/v1/daily-questions/today", None)
            .await,
        200,
    )
    .await;
    assert_eq!(
        (next_year.date.as_str(), next_year.question.id),
        ("2027-11-23", question)
    );
    let _: Answer = body(
        me.request(
            Method::POST,
            &answers,
            Some(json!({"content": "Now we have two cats"})),
        )
        .await,
        201,
    )
    .await;
    let memories: Page<Answer> = body(
        me.request(Method::GET, &format!("{answers}/mine"), None)
            .await,
        200,
    )
    .await;
    let years: Vec<&str> = memories
        .items
        .iter()
        .map(|a| a.answered_on.as_str())
        .collect();
    assert_eq!(years, ["2027-11-23", "2026-11-23"]);
    let other = other.logged_in_again(&app).await;
    assert_eq!(
        // The whole document: an empty last page.
        body::<Value>(
            other
                .request(Method::GET, &format!("{answers}/mine"), None)
                .await,
            200
        )
        .await,
        json!({"items": [], "next_cursor": null})
    );

    let of_2026: Page<Answered> = body(
        me.request(Method::GET, "/api/v1/users/me/answers?year=2026", None)
            .await,
        200,
    )
    .await;
    let of_2026 = &of_2026.items;
    assert_eq!(of_2026.len(), 1);
    assert_eq!(of_2026[0].question.id, question);
    assert_eq!(of_2026[0].answer.content, "Walks in the snow, then a nap");
    let this_year: Page<Answered> = body(
        me.request(Method::GET, "/api/v1/users/me/answers", None)
            .await,
        200,
    )
    .await;
    assert_eq!(this_year.items[0].answer.answered_on, "2027-11-23");

    assert_eq!(me.request(Method::DELETE, &one, None).await.status(), 204);
    let memories: Page<Answer> = body(
        me.request(Method::GET, &format!("{answers}/mine"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(memories.items.len(), 1);
}

#[tokio::test]
async fn admins_manage_the_366_questions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user = app.member("me@example.com").await;
    let all: Page<Question> = body(
        admin
            .request(Method::GET, "/api/v1/admin/daily-questions", None)
            .await,
        200,
    )
    .await;
    assert_eq!(all.items.len(), 366);
    let february: Page<Question> = body(
        admin
            .request(Method::GET, "/api/v1/admin/daily-questions?month=2", None)
            .await,
        200,
    )
    .await;
    assert_eq!(february.items.len(), 29);
    assert_problem(
        user.request(Method::GET, "/api/v1/admin/daily-questions", None)
            .await,
        403,
        "ADMIN_ONLY",
    )
    .await;

    let path = "/api/v1/admin/daily-questions";
    assert_problem(
        admin
            .request(
                Method::POST,
                path,
                Some(json!({"month": 2, "day": 29, "content": "Another?"})),
            )
            .await,
        409,
        "QUESTION_DAY_TAKEN",
    )
    .await;
    assert_problem(
        admin
            .request(
                Method::POST,
                path,
                Some(json!({"month": 2, "day": 30, "content": "Never?"})),
            )
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        admin
            .request(
                Method::POST,
                path,
                Some(json!({"month": 13, "day": 1, "content": "Never?"})),
            )
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;

    // Today's question, once answered, stays (its memories depend on it) but can be edited.
    let today: Today = body(
        app.guest()
            .request(Method::GET, "/api/v1/daily-questions/today", None)
            .await,
        200,
    )
    .await;
    let id = today.question.id;
    let _: Answer = body(
        user.request(
            Method::POST,
            &format!("/api/v1/daily-questions/{id}/answers"),
            Some(json!({"content": "Yes"})),
        )
        .await,
        201,
    )
    .await;
    assert_problem(
        admin
            .request(Method::DELETE, &format!("{path}/{id}"), None)
            .await,
        409,
        "QUESTION_ANSWERED",
    )
    .await;
    let edited: Question = body(
        admin
            .request(
                Method::PUT,
                &format!("{path}/{id}"),
                Some(
                    json!({"month": 11, "day": 23, "content": "오늘 우리 아이는 어땠나요?",
                            "content_en": "How was your pet today?"}),
                ),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        edited.content_en.as_deref(),
        Some("How was your pet today?")
    );

    // An unanswered day's question can be replaced by a new one.
    let new_year = all
        .items
        .iter()
        .find(|q| q.month == 1 && q.day == 1)
        .unwrap();
    assert_eq!(
        admin
            .request(Method::DELETE, &format!("{path}/{}", new_year.id), None)
            .await
            .status(),
        204
    );
    let created: Question = body(
        admin
            .request(
                Method::POST,
                path,
                Some(json!({"month": 1, "day": 1, "content": "새해 첫날 무엇을 했나요?"})),
            )
            .await,
        201,
    )
    .await;
    assert!(created.content_en.is_none());
    assert_problem(
        admin
            .request(Method::DELETE, &format!("{path}/{}", new_year.id), None)
            .await,
        404,
        "QUESTION_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn users_opt_out_of_the_daily_question_notification() {
    let app = TestApp::spawn().await;
    let member = app.member("me@example.com").await;
    let me: Me = body(
        member.request(Method::GET, "/api/v1/users/me", None).await,
        200,
    )
    .await;
    assert!(me.notify_daily_question);
    let me: Me = body(
        member
            .request(
                Method::PATCH,
                "/api/v1/users/me",
                Some(json!({"notify_daily_question": false})),
            )
            .await,
        200,
    )
    .await;
    assert!(!me.notify_daily_question);
}

/// A page of D-days as `(pet, kind, date, days until, number)`.
fn d_days(page: &DDays) -> Vec<(&str, &str, &str, i64, i64)> {
    page.items
        .iter()
        .map(|d| {
            (
                d.pet_name.as_str(),
                d.kind.as_str(),
                d.date.as_str(),
                d.days_until,
                d.number,
            )
        })
        .collect()
}

#[tokio::test]
async fn my_pets_d_days_come_soonest_first_and_only_mine() {
    let app = TestApp::spawn().await;
    let me = app.member("owner@example.com").await;
    // Today is 2026-11-23 (business time): Bori turns 6 today and came home 1,000 days ago;
    // Nabi's birthday is on 29 February (the 28th this year) and she came home on 1 December.
    let _: Value = me
        .post(
            "/api/v1/pets",
            json!({"name": "보리", "species": "DOG", "birthday": "2020-11-23", "adopted_on": "2024-02-27"}),
        )
        .await;
    let _: Value = me
        .post(
            "/api/v1/pets",
            json!({"name": "나비", "species": "CAT", "birthday": "2024-02-29", "adopted_on": "2025-12-01"}),
        )
        .await;
    let other = app.member("other@example.com").await;
    let _: Value = other
        .post(
            "/api/v1/pets",
            json!({"name": "남의 개", "species": "DOG", "birthday": "2020-11-24"}),
        )
        .await;

    let ddays: DDays = me.get("/api/v1/users/me/d-days").await;
    assert_eq!(ddays.date, "2026-11-23");
    assert_eq!(
        d_days(&ddays),
        [
            ("보리", "BIRTHDAY", "2026-11-23", 0, 6),
            ("보리", "DAYS_TOGETHER", "2026-11-23", 0, 1000),
            ("나비", "ADOPTION", "2026-12-01", 8, 1),
        ]
    );
    let year: DDays = me.get("/api/v1/users/me/d-days?within_days=366").await;
    // A year ahead: each kind's next day per pet, Nabi's leap-day birthday on the 28th.
    assert_eq!(
        d_days(&year),
        [
            ("보리", "BIRTHDAY", "2026-11-23", 0, 6),
            ("보리", "DAYS_TOGETHER", "2026-11-23", 0, 1000),
            ("나비", "ADOPTION", "2026-12-01", 8, 1),
            ("나비", "DAYS_TOGETHER", "2027-01-05", 43, 400),
            ("보리", "ADOPTION", "2027-02-27", 96, 3),
            ("나비", "BIRTHDAY", "2027-02-28", 97, 3),
        ]
    );
    for bad in ["-1", "367", "99999999999999999999", "soon"] {
        assert_problem(
            me.request(
                Method::GET,
                &format!("/api/v1/users/me/d-days?within_days={bad}"),
                None,
            )
            .await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }
}

//! The daily Q&A through HTTP: today's question, one answer a day, memories across years, and
//! the admin's questions.

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::{Value, json};

use crate::util::{PASSWORD, TestApp, assert_problem};

async fn body(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "{}", response.url());
    response.json().await.unwrap()
}

#[tokio::test]
async fn todays_question_is_answered_once_a_day_and_remembered_across_years() {
    let app = TestApp::spawn().await;
    // 2026-11-23 10:00 in Seoul; guests may read the question.
    let today = body(app.get("/api/v1/daily-questions/today").await, 200).await;
    assert_eq!(today["date"], "2026-11-23");
    assert_eq!(
        (
            today["question"]["month"].as_i64(),
            today["question"]["day"].as_i64()
        ),
        (Some(11), Some(23))
    );
    assert!(
        today["question"]["content"]
            .as_str()
            .is_some_and(|q| q.ends_with('?'))
    );
    assert!(today["question"]["content_en"].is_string());
    assert!(today["my_answer"].is_null());
    let question = today["question"]["id"].as_i64().unwrap();

    let (_, token) = app.user("me@example.com").await;
    let answers = format!("/api/v1/daily-questions/{question}/answers");
    let first = body(
        app.post_json(
            &answers,
            Some(&token),
            json!({"content": "Walks in the first snow"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(first["answered_on"], "2026-11-23");
    assert_problem(
        app.post_json(&answers, Some(&token), json!({"content": "again"}))
            .await,
        409,
        "ALREADY_ANSWERED",
    )
    .await;
    assert_problem(
        app.post_json(&answers, Some(&token), json!({"content": ""}))
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    let mine_today = body(
        app.send(
            Method::GET,
            "/api/v1/daily-questions/today",
            Some(&token),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(mine_today["my_answer"]["id"], first["id"]);

    // Only today's question takes answers.
    assert_problem(
        app.post_json(
            &format!("/api/v1/daily-questions/{}/answers", question + 1),
            Some(&token),
            json!({"content": "early"}),
        )
        .await,
        409,
        "NOT_TODAYS_QUESTION",
    )
    .await;

    // Edits and deletes are the author's alone.
    let one = format!("{answers}/{}", first["id"]);
    let (_, other) = app.user("other@example.com").await;
    assert_problem(
        app.send(
            Method::PATCH,
            &one,
            Some(&other),
            Some(json!({"content": "mine now"})),
        )
        .await,
        404,
        "ANSWER_NOT_FOUND",
    )
    .await;
    assert_problem(
        app.send(Method::DELETE, &one, Some(&other), None).await,
        404,
        "ANSWER_NOT_FOUND",
    )
    .await;
    let edited = body(
        app.send(
            Method::PATCH,
            &one,
            Some(&token),
            Some(json!({"content": "Walks in the snow, then a nap"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(edited["content"], "Walks in the snow, then a nap");

    // A year later the same question comes back; memories show both years.
    app.clock.advance(TimeDelta::days(365));
    let token = app.login("me@example.com", PASSWORD).await.0;
    let next_year = body(app.get("/api/v1/daily-questions/today").await, 200).await;
    assert_eq!(
        (
            next_year["date"].as_str(),
            next_year["question"]["id"].as_i64()
        ),
        (Some("2027-11-23"), Some(question))
    );
    body(
        app.post_json(
            &answers,
            Some(&token),
            json!({"content": "Now we have two cats"}),
        )
        .await,
        201,
    )
    .await;
    let memories = body(
        app.send(Method::GET, &format!("{answers}/mine"), Some(&token), None)
            .await,
        200,
    )
    .await;
    let years: Vec<&str> = memories["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["answered_on"].as_str().unwrap())
        .collect();
    assert_eq!(years, ["2027-11-23", "2026-11-23"]);
    let other = app.login("other@example.com", PASSWORD).await.0;
    assert_eq!(
        body(
            app.send(Method::GET, &format!("{answers}/mine"), Some(&other), None)
                .await,
            200
        )
        .await,
        json!({"items": [], "next_cursor": null})
    );

    let of_2026 = body(
        app.send(
            Method::GET,
            "/api/v1/users/me/answers?year=2026",
            Some(&token),
            None,
        )
        .await,
        200,
    )
    .await;
    let of_2026 = &of_2026["items"];
    assert_eq!(of_2026.as_array().unwrap().len(), 1);
    assert_eq!(of_2026[0]["question"]["id"], question);
    assert_eq!(
        of_2026[0]["answer"]["content"],
        "Walks in the snow, then a nap"
    );
    let this_year = body(
        app.send(Method::GET, "/api/v1/users/me/answers", Some(&token), None)
            .await,
        200,
    )
    .await;
    assert_eq!(this_year["items"][0]["answer"]["answered_on"], "2027-11-23");

    assert_eq!(
        app.send(Method::DELETE, &one, Some(&token), None)
            .await
            .status(),
        204
    );
    let memories = body(
        app.send(Method::GET, &format!("{answers}/mine"), Some(&token), None)
            .await,
        200,
    )
    .await;
    assert_eq!(memories["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn admins_manage_the_366_questions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, user) = app.user("me@example.com").await;
    let all = body(
        app.send(
            Method::GET,
            "/api/v1/admin/daily-questions",
            Some(&admin),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 366);
    let february = body(
        app.send(
            Method::GET,
            "/api/v1/admin/daily-questions?month=2",
            Some(&admin),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(february["items"].as_array().unwrap().len(), 29);
    assert_problem(
        app.send(
            Method::GET,
            "/api/v1/admin/daily-questions",
            Some(&user),
            None,
        )
        .await,
        403,
        "ADMIN_ONLY",
    )
    .await;

    let path = "/api/v1/admin/daily-questions";
    assert_problem(
        app.post_json(
            path,
            Some(&admin),
            json!({"month": 2, "day": 29, "content": "Another?"}),
        )
        .await,
        409,
        "QUESTION_DAY_TAKEN",
    )
    .await;
    assert_problem(
        app.post_json(
            path,
            Some(&admin),
            json!({"month": 2, "day": 30, "content": "Never?"}),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_problem(
        app.post_json(
            path,
            Some(&admin),
            json!({"month": 13, "day": 1, "content": "Never?"}),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;

    // Today's question, once answered, stays (its memories depend on it) but can be edited.
    let today = body(app.get("/api/v1/daily-questions/today").await, 200).await;
    let id = today["question"]["id"].as_i64().unwrap();
    body(
        app.post_json(
            &format!("/api/v1/daily-questions/{id}/answers"),
            Some(&user),
            json!({"content": "Yes"}),
        )
        .await,
        201,
    )
    .await;
    assert_problem(
        app.send(Method::DELETE, &format!("{path}/{id}"), Some(&admin), None)
            .await,
        409,
        "QUESTION_ANSWERED",
    )
    .await;
    let edited = body(
        app.send(Method::PUT, &format!("{path}/{id}"), Some(&admin), Some(json!({"month": 11, "day": 23, "content": "오늘 우리 아이는 어땠나요?", "content_en": "How was your pet today?"}))).await,
        200,
    )
    .await;
    assert_eq!(edited["content_en"], "How was your pet today?");

    // An unanswered day's question can be replaced by a new one.
    let new_year = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["month"] == 1 && q["day"] == 1)
        .unwrap();
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("{path}/{}", new_year["id"]),
            Some(&admin),
            None
        )
        .await
        .status(),
        204
    );
    let created = body(
        app.post_json(
            path,
            Some(&admin),
            json!({"month": 1, "day": 1, "content": "새해 첫날 무엇을 했나요?"}),
        )
        .await,
        201,
    )
    .await;
    assert!(created["content_en"].is_null());
    assert_problem(
        app.send(
            Method::DELETE,
            &format!("{path}/{}", new_year["id"]),
            Some(&admin),
            None,
        )
        .await,
        404,
        "QUESTION_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn users_opt_out_of_the_daily_question_notification() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("me@example.com").await;
    let me = body(
        app.send(Method::GET, "/api/v1/users/me", Some(&token), None)
            .await,
        200,
    )
    .await;
    assert_eq!(me["notify_daily_question"], true);
    let me = body(
        app.send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&token),
            Some(json!({"notify_daily_question": false})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(me["notify_daily_question"], false);
}

/// A page of D-days as `(pet, kind, date, days until, number)`.
fn d_days(page: &Value) -> Vec<(&str, &str, &str, i64, i64)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["pet_name"].as_str().unwrap(),
                d["kind"].as_str().unwrap(),
                d["date"].as_str().unwrap(),
                d["days_until"].as_i64().unwrap(),
                d["number"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn my_pets_d_days_come_soonest_first_and_only_mine() {
    let app = TestApp::spawn().await;
    let (_, me) = app.user("owner@example.com").await;
    // Today is 2026-11-23 (business time): Bori turns 6 today and came home 1,000 days ago;
    // Nabi's birthday is on 29 February (the 28th this year) and she came home on 1 December.
    app.post_ok(
        "/api/v1/pets",
        Some(&me),
        json!({"name": "보리", "species": "DOG", "birthday": "2020-11-23", "adopted_on": "2024-02-27"}),
    )
    .await;
    app.post_ok(
        "/api/v1/pets",
        Some(&me),
        json!({"name": "나비", "species": "CAT", "birthday": "2024-02-29", "adopted_on": "2025-12-01"}),
    )
    .await;
    let (_, other) = app.user("other@example.com").await;
    app.post_ok(
        "/api/v1/pets",
        Some(&other),
        json!({"name": "남의 개", "species": "DOG", "birthday": "2020-11-24"}),
    )
    .await;

    let ddays = app
        .send_ok(Method::GET, "/api/v1/users/me/d-days", Some(&me), None)
        .await;
    assert_eq!(ddays["date"], "2026-11-23");
    assert_eq!(
        d_days(&ddays),
        [
            ("보리", "BIRTHDAY", "2026-11-23", 0, 6),
            ("보리", "DAYS_TOGETHER", "2026-11-23", 0, 1000),
            ("나비", "ADOPTION", "2026-12-01", 8, 1),
        ]
    );
    let year = app
        .send_ok(
            Method::GET,
            "/api/v1/users/me/d-days?within_days=366",
            Some(&me),
            None,
        )
        .await;
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
            app.send(
                Method::GET,
                &format!("/api/v1/users/me/d-days?within_days={bad}"),
                Some(&me),
                None,
            )
            .await,
            400,
            "INVALID_QUERY",
        )
        .await;
    }
}

//! Members review places, once each, and the rating counts exactly the reviews readers see:
//! under a race, through edits and deletions, and through moderation.

use reqwest::Method;
use serde::de::IgnoredAny;
use serde_json::json;

use crate::client::{Client, Page};
use crate::fixtures::daily::{
    CITY_HALL, Place, PlaceReview, QueuedReport, add_place, new_place, report,
};
use crate::util::{TestApp, assert_problem};

/// The place as a guest reads it.
async fn place_of(app: &TestApp, place: i64) -> Place {
    app.guest().get(&format!("/api/v1/places/{place}")).await
}

#[tokio::test]
async fn reviews_are_one_per_member_and_keep_an_exact_rating_under_concurrency() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let guest = app.guest();
    let cafe = add_place(&admin, new_place("별점 카페", "CAFE", CITY_HALL)).await;
    let reviews = format!("/api/v1/places/{}/reviews", cafe.id);
    let members = app.crowd_of(20).await;
    // Twenty members review at once: stars 1, 2, 3, 4, 5, 1, 2, …
    let writes = members.iter().enumerate().map(|(n, member)| {
        member.request(
            Method::POST,
            &reviews,
            Some(json!({"stars": n % 5 + 1, "content": format!("리뷰 {n}")})),
        )
    });
    for response in futures_util::future::join_all(writes).await {
        assert_eq!(response.status(), 201);
    }
    let detail = place_of(&app, cafe.id).await;
    assert_eq!(detail.review_count, 20);
    assert_eq!(detail.average_stars, Some(3.0));

    // Once per member; my own review I edit and delete, others' I cannot touch.
    let mine = &members[0];
    assert_problem(
        mine.request(
            Method::POST,
            &reviews,
            Some(json!({"stars": 5, "content": "again"})),
        )
        .await,
        409,
        "ALREADY_REVIEWED",
    )
    .await;
    let page: Page<PlaceReview> = guest.get(&format!("{reviews}?limit=100")).await;
    let my_review = page
        .items
        .iter()
        .find(|review| review.content == "리뷰 0")
        .unwrap()
        .id;
    let edited: PlaceReview = mine
        .put(
            &format!("/api/v1/place-reviews/{my_review}"),
            json!({"stars": 5, "content": "다시 가 보니 최고"}),
        )
        .await;
    assert_eq!(edited.stars, 5);
    assert_eq!(place_of(&app, cafe.id).await.average_stars, Some(3.2));
    let other = &members[1];
    assert_problem(
        other
            .request(
                Method::DELETE,
                &format!("/api/v1/place-reviews/{my_review}"),
                None,
            )
            .await,
        404,
        "PLACE_REVIEW_NOT_FOUND",
    )
    .await;
    let response = mine
        .request(
            Method::DELETE,
            &format!("/api/v1/place-reviews/{my_review}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let detail = place_of(&app, cafe.id).await;
    assert_eq!(detail.review_count, 19);
    // 60 stars, one review moved from 1 to 5 and then deleted: 59 stars in 19 reviews.
    assert!((detail.average_stars.unwrap() - 59.0 / 19.0).abs() < 1e-9);

    // Highest first, page by page, each page in order.
    let mut stars = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Page<PlaceReview> = guest
            .get(&format!("{reviews}?sort=stars&limit=7&cursor={cursor}"))
            .await;
        stars.extend(page.items.iter().map(|review| review.stars));
        match page.next_cursor {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(stars.len(), 19);
    assert!(stars.windows(2).all(|pair| pair[0] >= pair[1]));

    // Bad reviews change nothing; a place taken down takes none.
    for body in [
        json!({"stars": 0, "content": "x"}),
        json!({"stars": 6, "content": "x"}),
        json!({"stars": 3, "content": ""}),
        json!({"stars": 3, "content": "a\u{0}b"}),
    ] {
        assert_eq!(
            mine.request(Method::POST, &reviews, Some(body))
                .await
                .status(),
            422
        );
    }
    let response = admin
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/places/{}", cafe.id),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(
        mine.request(
            Method::POST,
            &reviews,
            Some(json!({"stars": 4, "content": "closed?"})),
        )
        .await,
        404,
        "PLACE_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_reported_review_deleted_by_moderation_leaves_the_rating() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let park = add_place(&admin, new_place("한강 공원", "PARK", CITY_HALL)).await;
    let reviews = format!("/api/v1/places/{}/reviews", park.id);
    let troll = app.member("troll@example.com").await;
    let fair = app.member("fair@example.com").await;
    let reader = app.member("reader@example.com").await;
    let rude: PlaceReview = troll
        .post(&reviews, json!({"stars": 1, "content": "욕설"}))
        .await;
    let _: PlaceReview = fair
        .post(&reviews, json!({"stars": 5, "content": "넓고 좋아요"}))
        .await;
    assert_problem(
        troll
            .request(
                Method::POST,
                "/api/v1/reports",
                Some(
                    json!({"target_type": "PLACE_REVIEW", "target_id": rude.id, "reason": "ABUSE"}),
                ),
            )
            .await,
        422,
        "CANNOT_REPORT_OWN_CONTENT",
    )
    .await;
    let report = report(&reader, "PLACE_REVIEW", rude.id, "ABUSE").await;
    let queue: Page<QueuedReport> = admin.get("/api/v1/admin/reports").await;
    assert_eq!(queue.items[0].target_excerpt.as_deref(), Some("욕설"));
    let _: IgnoredAny = admin
        .post(
            &format!("/api/v1/admin/reports/{}/resolve", report.id),
            json!({"action": "DELETE", "note": "abusive"}),
        )
        .await;
    let detail = place_of(&app, park.id).await;
    assert_eq!(detail.review_count, 1);
    assert_eq!(detail.average_stars, Some(5.0));
    let left: Page<PlaceReview> = app.guest().get(&reviews).await;
    assert_eq!(left.items.len(), 1);
}

/// The place's `(review_count, average_stars)`, as readers see it.
async fn rating(app: &TestApp, place: &Place) -> (i64, Option<f64>) {
    let detail = place_of(app, place.id).await;
    (detail.review_count, detail.average_stars)
}

/// Five members report a review (the default threshold: it is hidden); their report ids.
async fn report_by_five(app: &TestApp, review: &PlaceReview) -> Vec<i64> {
    let mut reports = Vec::new();
    for member in app.crowd_of(5).await {
        reports.push(report(&member, "PLACE_REVIEW", review.id, "SPAM").await.id);
    }
    reports
}

#[tokio::test]
async fn the_rating_counts_only_the_reviews_readers_see() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let park = add_place(&admin, new_place("한강 공원", "PARK", CITY_HALL)).await;
    let reviews = format!("/api/v1/places/{}/reviews", park.id);
    let review = async |email: &str, stars: i64| {
        let member = app.member(email).await;
        let review: PlaceReview = member
            .post(&reviews, json!({"stars": stars, "content": "후기"}))
            .await;
        (review, member)
    };
    let (troll, troll_member) = review("troll@example.com", 1).await;
    let (spam, spam_member) = review("spam@example.com", 2).await;
    let (fair, _) = review("fair@example.com", 5).await;
    assert_eq!(rating(&app, &park).await, (3, Some(8.0 / 3.0)));

    // Hidden by reports, two reviews leave the rating; their authors' edits and deletions
    // while hidden do not move it.
    let troll_reports = report_by_five(&app, &troll).await;
    report_by_five(&app, &spam).await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));
    let _: PlaceReview = troll_member
        .put(
            &format!("/api/v1/place-reviews/{}", troll.id),
            json!({"stars": 3, "content": "다시 씀"}),
        )
        .await;
    let deleted = spam_member
        .request(
            Method::DELETE,
            &format!("/api/v1/place-reviews/{}", spam.id),
            None,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));

    // An admin dismisses the reports: the review is shown, and counted, again (as edited).
    let resolve = async |report: i64, action: &str| {
        let _: IgnoredAny = admin
            .post(
                &format!("/api/v1/admin/reports/{report}/resolve"),
                json!({"action": action, "note": "checked"}),
            )
            .await;
    };
    resolve(troll_reports[0], "DISMISS").await;
    assert_eq!(rating(&app, &park).await, (2, Some(4.0)));

    // Hidden again, then deleted by an admin: it leaves the rating once.
    let again = report_by_five(&app, &troll).await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));
    resolve(again[0], "DELETE").await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));

    // An admin's own decisions, without reports, move it alike.
    let decide = async |action: &str| {
        let _: IgnoredAny = admin
            .post(
                "/api/v1/admin/moderation-decisions",
                json!({"target_type": "PLACE_REVIEW", "target_id": fair.id, "action": action, "note": "checked"}),
            )
            .await;
    };
    decide("HIDE").await;
    assert_eq!(rating(&app, &park).await, (0, None));
    decide("DISMISS").await;
    assert_eq!(rating(&app, &park).await, (1, Some(5.0)));
}

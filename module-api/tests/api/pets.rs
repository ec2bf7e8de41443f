//! My pets and their growth log.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Page};
use crate::fixtures::images::{ImageStatus, ImageUrls, served};
use crate::fixtures::{image, suspend_quietly};
use crate::util::{TestApp, assert_problem};

/// A pet as its owner reads it.
#[derive(Debug, Deserialize)]
struct Pet {
    id: i64,
    name: String,
    species: String,
    birthday: Option<String>,
    adopted_on: Option<String>,
    weight_grams: Option<i64>,
    photo_key: Option<String>,
    photo_urls: Option<ImageUrls>,
    memo: String,
}

/// A weight of the growth log, whole: these two fields and no more.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Weight {
    measured_on: String,
    grams: i64,
}

impl Weight {
    fn of(measured_on: &str, grams: i64) -> Self {
        Self {
            measured_on: measured_on.to_owned(),
            grams,
        }
    }
}

fn bori() -> Value {
    json!({"name": "Bori", "species": "DOG", "breed": "Jindo", "birthday": "2021-04-02",
           "adopted_on": "2021-06-01", "sex": "FEMALE", "neutered": true, "memo": "likes walks"})
}

#[tokio::test]
async fn an_owner_keeps_pets_with_a_photo_and_others_cannot_see_them() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let photo = image(&app, &owner.token, "PET").await;
    let mut body = bori();
    body["photo_key"] = json!(photo);
    let pet: Pet = owner.post("/api/v1/pets", body).await;
    assert_eq!(pet.name, "Bori");
    assert_eq!(pet.species, "DOG");
    assert_eq!(pet.birthday.as_deref(), Some("2021-04-02"));
    assert_eq!(pet.photo_key.as_deref(), Some(photo.as_str()));
    app.assert_placeholder(&pet.photo_urls.unwrap(), ImageStatus::Processing);
    app.make_image_versions().await;
    let read: Pet = owner.get(&format!("/api/v1/pets/{}", pet.id)).await;
    let (_, picture) = served(&read.photo_urls.unwrap().display).await;
    assert_eq!((picture.width(), picture.height()), (1, 1));
    let path = format!("/api/v1/pets/{}", pet.id);

    let mine: Page<Pet> = owner.get("/api/v1/pets").await;
    assert_eq!(mine.items.len(), 1);

    // Someone else: not found, whatever they try; a guest must sign in.
    let other = app.member("other@example.com").await;
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "Mine now"}))),
        (Method::DELETE, None),
    ] {
        assert_problem(
            other.request(method, &path, body).await,
            404,
            "PET_NOT_FOUND",
        )
        .await;
    }
    let theirs: Page<Pet> = other.get("/api/v1/pets").await;
    assert!(theirs.items.is_empty());
    assert_problem(app.get(&path).await, 401, "AUTHENTICATION_REQUIRED").await;

    // The owner edits: null clears, absent keeps.
    let edited: Pet = owner
        .patch(&path, json!({"birthday": null, "memo": "likes long walks"}))
        .await;
    assert_eq!(edited.birthday, None);
    assert_eq!(edited.adopted_on.as_deref(), Some("2021-06-01"));
    assert_eq!(edited.memo, "likes long walks");
    assert_eq!(edited.photo_key.as_deref(), Some(photo.as_str()));

    let deleted = owner.request(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status(), 204);
    assert_problem(
        owner.request(Method::GET, &path, None).await,
        404,
        "PET_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn impossible_pets_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let with = |change: Value| {
        let mut body = bori();
        for (field, value) in change.as_object().unwrap() {
            body[field] = value.clone();
        }
        body
    };
    let other = app.member("other@example.com").await;
    let not_mine = image(&app, &other.token, "PET").await;
    let for_a_post = image(&app, &owner.token, "POST").await;
    for (change, status, code) in [
        (
            json!({"adopted_on": "2021-01-01"}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"birthday": "2999-01-01", "adopted_on": null}),
            422,
            "VALIDATION_FAILED",
        ),
        (json!({"species": "DRAGON"}), 422, "INVALID_BODY"),
        (json!({"name": ""}), 422, "VALIDATION_FAILED"),
        (json!({"name": "x".repeat(31)}), 422, "VALIDATION_FAILED"),
        (json!({"weight_grams": 0}), 422, "VALIDATION_FAILED"),
        (
            json!({"weight_grams": 99_999_999_999_i64}),
            422,
            "INVALID_BODY",
        ),
        (json!({"photo_key": not_mine}), 422, "UPLOAD_NOT_FOUND"),
        (json!({"photo_key": for_a_post}), 422, "UPLOAD_NOT_FOUND"),
    ] {
        assert_problem(
            owner
                .request(Method::POST, "/api/v1/pets", Some(with(change.clone())))
                .await,
            status,
            code,
        )
        .await;
    }
    let mine: Page<Pet> = owner.get("/api/v1/pets").await;
    assert!(mine.items.is_empty());
}

#[tokio::test]
async fn twenty_pets_at_most_even_when_added_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let attempts = (0..25).map(|n| {
        let mut body = bori();
        body["name"] = json!(format!("Pet {n}"));
        owner.request(Method::POST, "/api/v1/pets", Some(body))
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 5);
    let mine: Page<Pet> = owner.get("/api/v1/pets").await;
    assert_eq!(mine.items.len(), 20);
}

#[tokio::test]
async fn the_growth_log_keeps_one_weight_a_day_in_date_order() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let pet: Pet = owner.post("/api/v1/pets", bori()).await;
    let weights = format!("/api/v1/pets/{}/weights", pet.id);
    let record = |day: &str, grams: i32| {
        owner.request(
            Method::POST,
            &weights,
            Some(json!({"measured_on": day, "grams": grams})),
        )
    };
    assert_eq!(record("2026-10-01", 9000).await.status(), 201);
    assert_eq!(record("2026-08-01", 8000).await.status(), 201);
    assert_eq!(
        record("2026-10-01", 9100).await.status(),
        200,
        "same day replaces"
    );
    assert_problem(record("2999-01-01", 9000).await, 422, "VALIDATION_FAILED").await;
    assert_problem(record("2026-10-02", 0).await, 422, "VALIDATION_FAILED").await;

    let log: Page<Weight> = owner.get(&weights).await;
    assert_eq!(
        log.items,
        [
            Weight::of("2026-08-01", 8000),
            Weight::of("2026-10-01", 9100)
        ]
    );
    let since: Page<Weight> = owner.get(&format!("{weights}?from=2026-09-01")).await;
    assert_eq!(since.items.len(), 1);
    let pet_path = format!("/api/v1/pets/{}", pet.id);
    let pet_now: Pet = owner.get(&pet_path).await;
    assert_eq!(
        pet_now.weight_grams,
        Some(9100),
        "the latest weight is the pet's"
    );

    let removed = owner
        .request(Method::DELETE, &format!("{weights}/2026-10-01"), None)
        .await;
    assert_eq!(removed.status(), 204);
    let pet_now: Pet = owner.get(&pet_path).await;
    assert_eq!(pet_now.weight_grams, Some(8000));
    assert_problem(
        owner
            .request(Method::DELETE, &format!("{weights}/2026-10-01"), None)
            .await,
        404,
        "WEIGHT_NOT_FOUND",
    )
    .await;

    let other = app.member("other@example.com").await;
    assert_problem(
        other.request(Method::GET, &weights, None).await,
        404,
        "PET_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_suspended_account_reads_but_does_not_write() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let pet: Pet = owner.post("/api/v1/pets", bori()).await;
    suspend_quietly(&app, owner.id).await;
    assert_problem(
        owner
            .request(Method::POST, "/api/v1/pets", Some(bori()))
            .await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
    assert_problem(
        owner
            .request(
                Method::PATCH,
                &format!("/api/v1/pets/{}", pet.id),
                Some(json!({"name": "Changed"})),
            )
            .await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
    let mine: Page<Pet> = owner.get("/api/v1/pets").await;
    assert_eq!(mine.items[0].name, "Bori");
}

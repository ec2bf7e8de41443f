//! A pet's growth diary: its owner writes dated entries with words and up to 5 photos, private
//! by default; the public ones show on the owner's profile, to anyone.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::images::{ImageStatus, ImageUrls, served};
use crate::fixtures::{image, stored, suspend_quietly};
use crate::util::{TestApp, assert_problem};
use petory_core::platform::image::{Size, version_key};

/// A diary entry, as its owner or a profile's reader reads it.
#[derive(Debug, Deserialize)]
struct Entry {
    id: i64,
    pet_id: i64,
    pet_name: String,
    day: String,
    text: String,
    image_keys: Vec<String>,
    image_urls: Vec<ImageUrls>,
    public: bool,
}

#[derive(Debug, Deserialize)]
struct Pet {
    id: i64,
}

async fn pet_of(owner: &Member, name: &str) -> i64 {
    let pet: Pet = owner
        .post("/api/v1/pets", json!({"name": name, "species": "DOG"}))
        .await;
    pet.id
}

fn diary_of(pet: i64) -> String {
    format!("/api/v1/pets/{pet}/diary")
}

fn profile_diary(user: i64) -> String {
    format!("/api/v1/users/{user}/diary")
}

async fn write(owner: &Member, pet: i64, day: &str, text: &str, public: bool) -> Entry {
    owner
        .post(
            &diary_of(pet),
            json!({"day": day, "text": text, "public": public}),
        )
        .await
}

fn texts(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|entry| entry.text.as_str()).collect()
}

#[tokio::test]
async fn an_owner_keeps_a_private_diary_with_photos_and_pages_it_newest_day_first() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let bori = pet_of(&owner, "Bori").await;
    let first = image(&app, &owner.token, "PET").await;
    let second = image(&app, &owner.token, "PET").await;

    let walk: Entry = owner
        .post(
            &diary_of(bori),
            json!({"day": "2026-11-20", "text": "첫 산책", "image_keys": [first, second]}),
        )
        .await;
    assert_eq!(walk.pet_id, bori);
    assert_eq!(walk.pet_name, "Bori");
    assert_eq!(walk.day, "2026-11-20");
    assert!(!walk.public, "private unless said otherwise");
    assert_eq!(walk.image_keys, [first.clone(), second.clone()]);
    assert_eq!(walk.image_urls.len(), 2);
    app.assert_placeholder(&walk.image_urls[0], ImageStatus::Processing);
    assert_eq!(app.make_image_versions().await.made, 2);

    write(&owner, bori, "2026-11-22", "이빨이 났다", false).await;
    write(&owner, bori, "2026-11-21", "목욕", false).await;
    write(&owner, bori, "2026-11-22", "같은 날 두 번째", false).await;

    // Newest day first; of one day, the latest written first; page by page.
    let path = diary_of(bori);
    let page: Page<Entry> = owner.get(&format!("{path}?limit=3")).await;
    assert_eq!(
        texts(&page.items),
        ["같은 날 두 번째", "이빨이 났다", "목욕"]
    );
    let cursor = page.next_cursor.expect("a next page");
    let rest: Page<Entry> = owner.get(&format!("{path}?limit=3&cursor={cursor}")).await;
    assert_eq!(texts(&rest.items), ["첫 산책"]);
    assert_eq!(rest.items[0].image_urls.len(), 2);
    assert_eq!(rest.next_cursor, None);

    // Private: the profile shows none of it.
    let shown: Page<Entry> = app.guest().get(&profile_diary(owner.id)).await;
    assert!(shown.items.is_empty());

    // An edit keeps the photo it holds, lets go of the other (gone from storage), and the
    // fields not sent stay.
    let entry = format!("{path}/{}", walk.id);
    let edited: Entry = owner
        .patch(&entry, json!({"image_keys": [second], "text": "첫 산책!"}))
        .await;
    assert_eq!(edited.text, "첫 산책!");
    assert_eq!(edited.day, "2026-11-20");
    assert_eq!(edited.image_keys, std::slice::from_ref(&second));
    let display = |key: &str| version_key(key, Size::Display);
    assert!(
        !stored(&app, &display(&first)).await,
        "the photo let go is removed"
    );
    assert!(stored(&app, &display(&second)).await);

    // Removed with its photos.
    let () = owner.delete(&entry).await;
    assert!(!stored(&app, &display(&second)).await);
    assert_problem(
        owner.request(Method::DELETE, &entry, None).await,
        404,
        "DIARY_ENTRY_NOT_FOUND",
    )
    .await;
    let left: Page<Entry> = owner.get(&path).await;
    assert_eq!(left.items.len(), 3);
}

#[tokio::test]
async fn others_and_guests_never_reach_a_private_diary() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let bori = pet_of(&owner, "Bori").await;
    let nabi = pet_of(&owner, "Nabi").await;
    let entry = write(&owner, bori, "2026-11-20", "비밀 일기", false).await;
    let path = diary_of(bori);
    let entry_path = format!("{path}/{}", entry.id);

    let other = app.member("other@example.com").await;
    let body = json!({"day": "2026-11-20", "text": "내 거"});
    assert_problem(
        other.request(Method::GET, &path, None).await,
        404,
        "PET_NOT_FOUND",
    )
    .await;
    assert_problem(
        other.request(Method::POST, &path, Some(body.clone())).await,
        404,
        "PET_NOT_FOUND",
    )
    .await;
    for (method, body) in [
        (Method::PATCH, Some(json!({"text": "내 거"}))),
        (Method::DELETE, None),
    ] {
        assert_problem(
            other.request(method, &entry_path, body).await,
            404,
            "DIARY_ENTRY_NOT_FOUND",
        )
        .await;
    }
    // The owner's own entry under their other pet is not there either.
    let elsewhere = format!("{}/{}", diary_of(nabi), entry.id);
    assert_problem(
        owner
            .request(Method::PATCH, &elsewhere, Some(json!({"text": "옮김"})))
            .await,
        404,
        "DIARY_ENTRY_NOT_FOUND",
    )
    .await;

    let guest = app.guest();
    assert_problem(
        guest.request(Method::GET, &path, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
    assert_problem(
        guest.request(Method::POST, &path, Some(body)).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;

    // Untouched.
    let mine: Page<Entry> = owner.get(&path).await;
    assert_eq!(texts(&mine.items), ["비밀 일기"]);
}

#[tokio::test]
async fn public_entries_show_on_the_owners_profile_to_anyone() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let bori = pet_of(&owner, "Bori").await;
    let nabi = pet_of(&owner, "Nabi").await;
    let photo = image(&app, &owner.token, "PET").await;
    let shared: Entry = owner
        .post(
            &diary_of(bori),
            json!({"day": "2026-11-21", "text": "공원에서", "image_keys": [photo], "public": true}),
        )
        .await;
    assert!(shared.public);
    write(&owner, bori, "2026-11-22", "병원 (비공개)", false).await;
    write(&owner, nabi, "2026-11-19", "나비 첫 캣타워", true).await;
    let later = write(&owner, nabi, "2026-11-23", "나중에 공개", false).await;
    app.make_image_versions().await;

    let guest = app.guest();
    let shown: Page<Entry> = guest.get(&profile_diary(owner.id)).await;
    assert_eq!(texts(&shown.items), ["공원에서", "나비 첫 캣타워"]);
    assert_eq!(shown.items[0].pet_name, "Bori");
    assert_eq!(shown.items[1].pet_name, "Nabi");
    let (_, photo) = served(&shown.items[0].image_urls[0].display).await;
    assert_eq!((photo.width(), photo.height()), (1, 1));

    // Made public later, it shows in its day's place; one pet's alone on request.
    let _: Entry = owner
        .patch(
            &format!("{}/{}", diary_of(nabi), later.id),
            json!({"public": true}),
        )
        .await;
    let reader = app.member("reader@example.com").await;
    let shown: Page<Entry> = reader.get(&profile_diary(owner.id)).await;
    assert_eq!(
        texts(&shown.items),
        ["나중에 공개", "공원에서", "나비 첫 캣타워"]
    );
    let nabis: Page<Entry> = reader
        .get(&format!(
            "{}?pet_id={nabi}&limit=1",
            profile_diary(owner.id)
        ))
        .await;
    assert_eq!(texts(&nabis.items), ["나중에 공개"]);
    let cursor = nabis.next_cursor.expect("a next page");
    let nabis: Page<Entry> = reader
        .get(&format!(
            "{}?pet_id={nabi}&limit=1&cursor={cursor}",
            profile_diary(owner.id)
        ))
        .await;
    assert_eq!(texts(&nabis.items), ["나비 첫 캣타워"]);
    assert_eq!(nabis.next_cursor, None);

    // Another member's pet id shows nothing of theirs through this member.
    let other_pet = pet_of(&reader, "Choco").await;
    write(&reader, other_pet, "2026-11-20", "초코", true).await;
    let none: Page<Entry> = guest
        .get(&format!("{}?pet_id={other_pet}", profile_diary(owner.id)))
        .await;
    assert!(none.items.is_empty());

    // Back to private: gone from the profile. The profile itself is as it was.
    let _: Entry = owner
        .patch(
            &format!("{}/{}", diary_of(bori), shared.id),
            json!({"public": false}),
        )
        .await;
    let shown: Page<Entry> = guest.get(&profile_diary(owner.id)).await;
    assert_eq!(texts(&shown.items), ["나중에 공개", "나비 첫 캣타워"]);
    let profile: Value = guest
        .get(&format!("/api/v1/users/{}/profile", owner.id))
        .await;
    assert_eq!(profile["pets"].as_array().unwrap().len(), 2);

    assert_problem(
        guest
            .request(Method::GET, &profile_diary(999_999), None)
            .await,
        404,
        "USER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn impossible_entries_are_refused_with_their_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let bori = pet_of(&owner, "Bori").await;
    let path = diary_of(bori);
    let other = app.member("other@example.com").await;
    let not_mine = image(&app, &other.token, "PET").await;
    let for_a_post = image(&app, &owner.token, "POST").await;
    let mine = image(&app, &owner.token, "PET").await;
    let mut six = Vec::new();
    for _ in 0..6 {
        six.push(image(&app, &owner.token, "PET").await);
    }
    let entry = |change: Value| {
        let mut body = json!({"day": "2026-11-20", "text": "산책"});
        for (field, value) in change.as_object().unwrap() {
            body[field] = value.clone();
        }
        body
    };
    for (change, status, code, field) in [
        (
            json!({"day": "2026-11-24"}),
            422,
            "VALIDATION_FAILED",
            Some("day"),
        ),
        (json!({"text": ""}), 422, "VALIDATION_FAILED", Some("text")),
        (
            json!({"text": "  \n "}),
            422,
            "VALIDATION_FAILED",
            Some("text"),
        ),
        (
            json!({"text": "가".repeat(2001)}),
            422,
            "VALIDATION_FAILED",
            Some("text"),
        ),
        (
            json!({"text": "a\u{0}b"}),
            422,
            "VALIDATION_FAILED",
            Some("text"),
        ),
        (
            json!({"image_keys": six}),
            422,
            "VALIDATION_FAILED",
            Some("image_keys"),
        ),
        (
            json!({"image_keys": [mine, mine]}),
            422,
            "VALIDATION_FAILED",
            Some("image_keys"),
        ),
        (
            json!({"image_keys": [not_mine]}),
            422,
            "UPLOAD_NOT_FOUND",
            None,
        ),
        (
            json!({"image_keys": [for_a_post]}),
            422,
            "UPLOAD_NOT_FOUND",
            None,
        ),
        (json!({"day": "yesterday"}), 422, "INVALID_BODY", None),
        (json!({"mood": "happy"}), 422, "UNKNOWN_FIELD", None),
    ] {
        let problem = assert_problem(
            owner
                .request(Method::POST, &path, Some(entry(change.clone())))
                .await,
            status,
            code,
        )
        .await;
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{change}");
        }
    }
    let nothing: Page<Entry> = owner.get(&path).await;
    assert!(nothing.items.is_empty());

    // The edit holds to the same rules.
    let kept = write(&owner, bori, "2026-11-20", "산책", false).await;
    let problem = assert_problem(
        owner
            .request(
                Method::PATCH,
                &format!("{path}/{}", kept.id),
                Some(json!({"day": "2027-01-01"})),
            )
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "day");

    // Pages refuse what they cannot read.
    for query in [
        "cursor=nonsense",
        "cursor=2026-11-20_0",
        "limit=0",
        "limit=101",
    ] {
        let response = owner
            .request(Method::GET, &format!("{path}?{query}"), None)
            .await;
        assert_eq!(response.status(), 400, "{query}");
    }
    assert_problem(
        app.guest()
            .request(
                Method::GET,
                &format!("{}?pet_id=0", profile_diary(owner.id)),
                None,
            )
            .await,
        400,
        "INVALID_QUERY",
    )
    .await;
}

#[tokio::test]
async fn today_is_the_business_days_today() {
    let app = TestApp::spawn().await;
    // 2026-11-23 16:00 UTC is already 2026-11-24 01:00 in Seoul.
    app.clock.set("2026-11-23T16:00:00Z".parse().unwrap());
    let owner = app.member("owner@example.com").await;
    let bori = pet_of(&owner, "Bori").await;
    let entry = write(&owner, bori, "2026-11-24", "새벽 산책", false).await;
    assert_eq!(entry.day, "2026-11-24");
    assert_problem(
        owner
            .request(
                Method::POST,
                &diary_of(bori),
                Some(json!({"day": "2026-11-25", "text": "내일"})),
            )
            .await,
        422,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn a_photo_belongs_to_one_entry_even_when_two_take_it_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let bori = pet_of(&owner, "Bori").await;
    let photo = image(&app, &owner.token, "PET").await;
    let path = diary_of(bori);
    let body = json!({"day": "2026-11-20", "text": "한 장", "image_keys": [photo]});
    let (a, b) = tokio::join!(
        owner.request(Method::POST, &path, Some(body.clone())),
        owner.request(Method::POST, &path, Some(body.clone())),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    // And later, too: the photo is taken.
    assert_problem(
        owner.request(Method::POST, &path, Some(body)).await,
        409,
        "UPLOAD_IN_USE",
    )
    .await;
    let entries: Page<Entry> = owner.get(&path).await;
    assert_eq!(entries.items.len(), 1);
}

#[tokio::test]
async fn writing_in_public_needs_a_proven_address_and_a_suspended_owner_only_reads() {
    let app = TestApp::spawn().await;
    let newcomer = app.unverified_member("newcomer@example.com").await;
    let bori = pet_of(&newcomer, "Bori").await;
    let path = diary_of(bori);
    let private = write(&newcomer, bori, "2026-11-20", "나만 볼래", false).await;
    assert_problem(
        newcomer
            .request(
                Method::POST,
                &path,
                Some(json!({"day": "2026-11-20", "text": "다 봐", "public": true})),
            )
            .await,
        403,
        "EMAIL_NOT_VERIFIED",
    )
    .await;
    assert_problem(
        newcomer
            .request(
                Method::PATCH,
                &format!("{path}/{}", private.id),
                Some(json!({"public": true})),
            )
            .await,
        403,
        "EMAIL_NOT_VERIFIED",
    )
    .await;

    let owner = app.member("owner@example.com").await;
    let nabi = pet_of(&owner, "Nabi").await;
    let entry = write(&owner, nabi, "2026-11-20", "정지 전", true).await;
    suspend_quietly(&app, owner.id).await;
    let path = diary_of(nabi);
    assert_problem(
        owner
            .request(
                Method::POST,
                &path,
                Some(json!({"day": "2026-11-21", "text": "정지 중"})),
            )
            .await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
    assert_problem(
        owner
            .request(Method::DELETE, &format!("{path}/{}", entry.id), None)
            .await,
        403,
        "ACCOUNT_SUSPENDED",
    )
    .await;
    let mine: Page<Entry> = owner.get(&path).await;
    assert_eq!(texts(&mine.items), ["정지 전"]);
}

#[tokio::test]
async fn a_removed_pet_takes_its_diary_and_lets_go_of_its_photos() {
    use diesel::{ExpressionMethods as _, QueryDsl as _};
    use diesel_async::RunQueryDsl as _;
    use petory_core::schema::uploads;

    let app = TestApp::spawn().await;
    let owner = app.member("owner@example.com").await;
    let bori = pet_of(&owner, "Bori").await;
    let photo = image(&app, &owner.token, "PET").await;
    let _: Entry = owner
        .post(
            &diary_of(bori),
            json!({"day": "2026-11-20", "text": "사진", "image_keys": [photo], "public": true}),
        )
        .await;
    let () = owner.delete(&format!("/api/v1/pets/{bori}")).await;
    let shown: Page<Entry> = app.guest().get(&profile_diary(owner.id)).await;
    assert!(shown.items.is_empty());
    let discarded: bool = uploads::table
        .find(&photo)
        .select(uploads::discarded_at.is_not_null())
        .first(&mut app.state.db.get().await.unwrap())
        .await
        .unwrap();
    assert!(discarded, "the hourly prune removes it");
}

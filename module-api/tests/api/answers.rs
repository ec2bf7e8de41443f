//! Members are told when someone answers them (a comment on their post, a reply to their
//! comment), once, never of their own words nor by someone either of them blocks; and they choose
//! per kind and channel what reaches them.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Client, Member, Page};
use crate::fixtures::community::{Comment, Community as _, Notification, Trade, get_as};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
struct Channels {
    in_app: bool,
    push: bool,
    mail: bool,
}

#[derive(Debug, Deserialize)]
struct Settings {
    kinds: BTreeMap<String, Channels>,
    muted_rooms: Vec<i64>,
}

#[derive(Debug, Deserialize)]
struct Me {
    notify_daily_question: bool,
}

/// A refusal: its code, or its fields' codes.
#[derive(Debug, Deserialize)]
struct Refusal {
    #[serde(default)]
    code: String,
    #[serde(default)]
    errors: Vec<FieldError>,
}

#[derive(Debug, Deserialize)]
struct FieldError {
    code: String,
}

const SETTINGS: &str = "/api/v1/users/me/notification-settings";

/// A member's choices of what reaches them.
#[allow(async_fn_in_trait)]
trait Preferences: Client {
    async fn settings(&self) -> Settings {
        self.get(SETTINGS).await
    }

    async fn change_settings(&self, change: Value) -> Settings {
        self.patch(SETTINGS, change).await
    }
}

impl Preferences for Member {}

fn kinds(notifications: &[Notification]) -> Vec<&str> {
    notifications.iter().map(|n| n.kind.as_str()).collect()
}

#[tokio::test]
async fn comments_and_replies_reach_whom_they_answer_once_and_never_their_writer() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let other = app.member("other@example.com").await;
    let third = app.member("third@example.com").await;
    let post_id = app
        .post_by(&author, "산책 코스 추천", "어디가 좋을까요?")
        .await
        .id;

    // A comment on my post.
    let first = other.comment(post_id, "한강 공원이요", None).await.id;
    app.relay_events().await;
    let told = author.notifications().await;
    assert_eq!(kinds(&told), ["POST_COMMENTED"]);
    assert_eq!(
        told[0].data,
        json!({"post_id": post_id, "comment_id": first})
    );
    assert!(told[0].body.contains("한강 공원이요"), "{}", told[0].body);
    assert!(told[0].body.contains("산책 코스 추천"), "{}", told[0].body);
    assert!(other.notifications().await.is_empty(), "not of one's own");

    // The author replies: the commenter hears of it, the author of nothing of their own.
    let reply = author.comment(post_id, "고마워요!", Some(first)).await.id;
    app.relay_events().await;
    let told = other.notifications().await;
    assert_eq!(kinds(&told), ["COMMENT_REPLIED"]);
    assert_eq!(
        told[0].data,
        json!({"post_id": post_id, "comment_id": reply, "parent_id": first})
    );
    assert_eq!(author.notifications().await.len(), 1);

    // A third member replies to that comment: its writer and the post's author both hear.
    third.comment(post_id, "저도 가봤어요", Some(first)).await;
    app.relay_events().await;
    assert_eq!(
        kinds(&other.notifications().await),
        ["COMMENT_REPLIED", "COMMENT_REPLIED"]
    );
    assert_eq!(
        kinds(&author.notifications().await),
        ["POST_COMMENTED", "POST_COMMENTED"]
    );

    // A reply to the author's own comment on their post tells them once, as a reply.
    let own = author.comment(post_id, "정리하면", None).await.id;
    third.comment(post_id, "좋아요", Some(own)).await;
    app.relay_events().await;
    assert_eq!(
        kinds(&author.notifications().await),
        ["COMMENT_REPLIED", "POST_COMMENTED", "POST_COMMENTED"]
    );
    // A relay run again sends nothing twice.
    app.relay_events().await;
    assert_eq!(author.notifications().await.len(), 3);
}

#[tokio::test]
async fn a_block_stops_comments_and_notices_and_leaves_a_placeholder_in_the_thread() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let pest = app.member("pest@example.com").await;
    let post_id = app.post_by(&author, "우리 집 고양이", "귀엽죠").await.id;
    let comment = pest.comment(post_id, "별로네요", None).await.id;
    app.relay_events().await;
    assert_eq!(author.notifications().await.len(), 1);
    let response = author
        .request(
            Method::PUT,
            &format!("/api/v1/users/me/blocks/{}", pest.id),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);

    // The blocked member comments no more on the blocker's posts.
    let refused = pest
        .request(
            Method::POST,
            &format!("/api/v1/owner-boards/{post_id}/comments"),
            Some(json!({"content": "또 왔어요"})),
        )
        .await;
    assert_problem(refused, 403, "COMMENT_BLOCKED").await;
    // The author may still answer on their own post; the blocked member hears nothing of it.
    author.comment(post_id, "그만하세요", Some(comment)).await;
    app.relay_events().await;
    assert!(pest.notifications().await.is_empty());
    assert_eq!(author.notifications().await.len(), 1);

    // The blocker reads the blocked member's comment as a placeholder that keeps the thread;
    // others read it as it is.
    let thread = |reader: Option<&Member>| {
        let path = format!("/api/v1/owner-boards/{post_id}/comments");
        let reader = reader.cloned();
        let app = &app;
        async move {
            let response = get_as(app, reader.as_ref(), &path).await;
            let page: Page<Comment> = response.json().await.unwrap();
            page.items
        }
    };
    let seen = thread(Some(&author)).await;
    assert_eq!(seen.len(), 2);
    assert!(seen[0].author_blocked);
    assert_eq!(seen[0].content, "");
    assert_eq!(seen[0].author_name, "차단한 회원");
    assert_eq!(seen[1].parent_id, Some(comment));
    let seen = thread(None).await;
    assert!(!seen[0].author_blocked);
    assert_eq!(seen[0].content, "별로네요");
}

#[tokio::test]
async fn settings_start_on_in_the_app_and_a_kind_switched_off_reaches_nobody() {
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let other = app.member("other@example.com").await;

    let settings = author.settings().await;
    assert!(settings.muted_rooms.is_empty());
    assert!(
        settings.kinds.len() >= 9,
        "every kind: {:?}",
        settings.kinds
    );
    for (kind, channels) in &settings.kinds {
        assert_eq!(
            *channels,
            Channels {
                in_app: true,
                push: true,
                mail: false
            },
            "{kind}"
        );
    }

    // Only the channel named changes.
    let settings = author
        .change_settings(json!({"kinds": {"POST_COMMENTED": {"in_app": false}}}))
        .await;
    assert_eq!(
        settings.kinds["POST_COMMENTED"],
        Channels {
            in_app: false,
            push: true,
            mail: false
        }
    );
    assert!(settings.kinds["COMMENT_REPLIED"].in_app);
    let post_id = app.post_by(&author, "질문", "있어요").await.id;
    let first = other.comment(post_id, "답이에요", None).await.id;
    app.relay_events().await;
    assert!(author.notifications().await.is_empty(), "switched off");
    // The other kinds still come.
    other.comment(post_id, "그리고", None).await;
    author.comment(post_id, "네", Some(first)).await;
    let reply_to_author = author.comment(post_id, "추가로", None).await.id;
    other
        .comment(post_id, "좋네요", Some(reply_to_author))
        .await;
    app.relay_events().await;
    assert_eq!(kinds(&author.notifications().await), ["COMMENT_REPLIED"]);

    // The account's daily-question switch is that kind's in-app setting.
    let _: Value = author
        .patch("/api/v1/users/me", json!({"notify_daily_question": false}))
        .await;
    assert!(!author.settings().await.kinds["DAILY_QUESTION"].in_app);
    let me: Me = author.get("/api/v1/users/me").await;
    assert!(!me.notify_daily_question);
    author
        .change_settings(json!({"kinds": {"DAILY_QUESTION": {"in_app": true}}}))
        .await;
    let me: Me = author.get("/api/v1/users/me").await;
    assert!(me.notify_daily_question);
}

#[tokio::test]
async fn bad_settings_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let member = app.member("member@example.com").await;
    let path = SETTINGS;
    for (body, code) in [
        (json!({"muted_rooms": [999_999]}), "VALIDATION_FAILED"),
        (
            json!({"kinds": {"POST_COMMENTED": {"in_app": false, "sms": true}}}),
            "UNKNOWN_FIELD",
        ),
        (json!({"kinds": {"NO_SUCH_KIND": {"in_app": false}}}), ""),
        (json!({"kinds": {"POST_COMMENTED": {"in_app": "no"}}}), ""),
        (json!({"muted_rooms": vec![1; 1001]}), "VALIDATION_FAILED"),
    ] {
        let response = member
            .request(Method::PATCH, path, Some(body.clone()))
            .await;
        let status = response.status().as_u16();
        assert!(
            status == 400 || status == 422,
            "{body}: {status} {}",
            response.text().await.unwrap()
        );
        if !code.is_empty() {
            let response = member.request(Method::PATCH, path, Some(body)).await;
            let problem: Refusal = response.json().await.unwrap();
            let codes = [
                problem.code.as_str(),
                problem
                    .errors
                    .first()
                    .map_or("", |error| error.code.as_str()),
            ];
            assert!(codes.contains(&code), "{problem:?}");
        }
    }
    let settings = member.settings().await;
    assert!(settings.kinds.values().all(|channels| channels.in_app));
    assert!(settings.muted_rooms.is_empty());
    assert_problem(
        app.guest().request(Method::GET, path, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn a_muted_room_notifies_of_nothing_and_the_others_still_do() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = app.trade().await;
    let settings = seller.change_settings(json!({"muted_rooms": [room]})).await;
    assert_eq!(settings.muted_rooms, [room]);
    // Only one's own rooms are muted: the buyer cannot see or mute the seller's choice.
    assert_eq!(buyer.settings().await.muted_rooms, Vec::<i64>::new());
    let message = json!({"client_id": uuid::Uuid::new_v4(), "text": "아직 있나요?"});
    let response = buyer.send_message(room, message).await;
    assert_eq!(response.status(), 201);
    app.relay_events().await;
    assert!(seller.notifications().await.is_empty(), "muted");

    // Unmuted (the whole list is given), the next message notifies.
    let settings = seller.change_settings(json!({"muted_rooms": []})).await;
    assert!(settings.muted_rooms.is_empty());
    buyer
        .send_message(
            room,
            json!({"client_id": uuid::Uuid::new_v4(), "text": "답장 주세요"}),
        )
        .await;
    app.relay_events().await;
    assert_eq!(kinds(&seller.notifications().await), ["CHAT_MESSAGE"]);
}
